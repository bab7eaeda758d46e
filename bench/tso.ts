/**
 * TSO benchmark: a real `tessera pd` child process (embedded metadata store in a temporary
 * directory) and 64 `TsoClient`s — 64 client processes' worth of batching TSO streams,
 * spread over `--workers` worker threads so the clients' own promise work does not bound
 * the result — each with `--callers` concurrent callers asking for timestamps back to back
 * (an SQL node's sessions). Every timestamp a client hands out must be new (checked), then
 * the bench prints timestamps per second, requests per second, the mean batch size and the
 * latency percentiles one caller sees (p50, p99), and exits.
 *
 * Run: `npm run bench:tso` (options: `--seconds 5 --clients 64 --callers 256 --workers 2`).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { TsoClient } from "../src/client/mod.ts";
import { createNodeEnv } from "../src/env/mod.ts";
import type { RpcLogger } from "../src/rpc/mod.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const seconds = arg("seconds", 5);
const clientCount = arg("clients", 64);
const callers = arg("callers", 256);
const workers = arg("workers", 2);

const env = createNodeEnv();
const logger: RpcLogger = {
  warn: (fields, message) => console.warn("warn", message, fields),
  error: (fields, message) => console.error("error", message, fields),
};

interface WorkerResult {
  readonly timestamps: number;
  readonly requests: number;
  readonly ms: number;
  readonly latenciesUs: number[];
}

/** One worker: its share of the clients, a warm-up, then the measured run. */
async function runWorker(rpc: string, count: number): Promise<WorkerResult> {
  const clients = Array.from(
    { length: count },
    () => new TsoClient(env, { endpoints: [rpc], logger }),
  );
  const run = async (durationMs: number, sample: boolean) => {
    const startMs = env.clock.monotonicMs();
    const endMs = startMs + durationMs;
    let timestamps = 0;
    const latenciesUs: number[] = [];
    const loop = async (client: TsoClient, seen: Set<bigint>): Promise<void> => {
      while (env.clock.monotonicMs() < endMs) {
        const t0 = env.clock.monotonicMs();
        const ts = await client.getTimestamp();
        const t1 = env.clock.monotonicMs();
        if (sample && (timestamps & 1023) === 0) {
          // Spot check: a timestamp handed out twice would be a TSO bug.
          if (seen.has(ts)) throw new Error(`timestamp ${ts} handed out twice`);
          seen.add(ts);
        }
        timestamps++;
        if (sample && (timestamps & 15) === 0) latenciesUs.push((t1 - t0) * 1000);
      }
    };
    await Promise.all(
      clients.flatMap((client) => {
        const seen = new Set<bigint>();
        return Array.from({ length: callers }, () => loop(client, seen));
      }),
    );
    return { timestamps, ms: env.clock.monotonicMs() - startMs, latenciesUs };
  };
  await run(1000, false);
  const before = clients.reduce((sum, c) => sum + c.stats.requests, 0);
  const result = await run(seconds * 1000, true);
  const requests = clients.reduce((sum, c) => sum + c.stats.requests, 0) - before;
  await Promise.all(clients.map((c) => c.close()));
  return { ...result, requests };
}

if (!isMainThread) {
  const { rpc, count } = workerData as { rpc: string; count: number };
  parentPort!.postMessage(await runWorker(rpc, count));
} else {
  const dir = mkdtempSync(join(tmpdir(), "tessera-bench-tso-"));
  const main = join(import.meta.dirname, "..", "src", "cmd", "main.ts");
  const pd = spawn(
    process.execPath,
    [
      main,
      "pd",
      "--addr",
      "127.0.0.1:0",
      "--status-addr",
      "127.0.0.1:0",
      "--data-dir",
      dir,
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "inherit"], detached: true },
  );
  const stopPd = (): void => {
    try {
      if (pd.pid !== undefined) process.kill(-pd.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stopPd);
  const ready = await new Promise<{ rpc: string }>((resolve, reject) => {
    pd.once("exit", (code) => reject(new Error(`tessera pd exited with ${code}`)));
    createInterface({ input: pd.stdout! }).once("line", (line) => resolve(JSON.parse(line)));
  });
  const shares = Array.from(
    { length: workers },
    (_, i) => Math.floor(clientCount / workers) + (i < clientCount % workers ? 1 : 0),
  ).filter((n) => n > 0);
  const results = await Promise.all(
    shares.map(
      (count) =>
        new Promise<WorkerResult>((resolve, reject) => {
          const worker = new Worker(import.meta.filename, {
            workerData: { rpc: ready.rpc, count },
            argv: process.argv.slice(2),
          });
          worker.once("message", resolve);
          worker.once("error", reject);
        }),
    ),
  );
  const ms = Math.max(...results.map((r) => r.ms));
  const timestamps = results.reduce((sum, r) => sum + r.timestamps, 0);
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const latencies = results.flatMap((r) => r.latenciesUs).sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  const perSecond = (n: number): string => Math.round((n * 1000) / ms).toLocaleString("en-US");
  console.log(
    `TSO benchmark: ${clientCount} clients × ${callers} callers on ${shares.length} threads, ` +
      `${seconds} s, one PD process`,
  );
  console.log(`  timestamps/s  ${perSecond(timestamps)}`);
  console.log(
    `  requests/s    ${perSecond(requests)} (mean batch ${(timestamps / requests).toFixed(1)})`,
  );
  console.log(`  latency p50   ${(pct(0.5) / 1000).toFixed(2)} ms`);
  console.log(`  latency p99   ${(pct(0.99) / 1000).toFixed(2)} ms`);
  stopPd();
  process.exit(0);
}
