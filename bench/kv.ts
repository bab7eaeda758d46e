/**
 * KV benchmark: an in-process PD (embedded metadata store in a temporary directory) and a
 * real `tessera kv` child process (LMDB engine, unreplicated shard), driven through RPC by
 * `--callers` concurrent callers over `--clients` connections. Two phases of `--seconds`
 * each: prewrite + commit of one key per transaction (a full 2PC: two RPCs, two synced
 * engine writes), then point gets at a fresh read ts of the keys written. Prints
 * operations per second and the p50/p99 latency one caller sees, and exits.
 *
 * Run: `npm run bench:kv` (options: `--seconds 3 --callers 64 --clients 4`).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Timestamp, composeTimestamp } from "../src/base/mod.ts";
import { PdClient } from "../src/client/mod.ts";
import { createNodeEnv } from "../src/env/mod.ts";
import { EmbeddedMetaStore, PdServer, silentPdLogger } from "../src/pd/mod.ts";
import { type GetReply, KvMethod, type KvReply } from "../src/proto/mod.ts";
import { RpcClient, type RpcLogger } from "../src/rpc/mod.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const seconds = arg("seconds", 3);
const callers = arg("callers", 64);
const clientCount = arg("clients", 4);

const env = createNodeEnv();
const logger: RpcLogger = {
  warn: (fields, message) => console.warn("warn", message, fields),
  error: (fields, message) => console.error("error", message, fields),
};

let lastTs = 0n;
/** Timestamps from the wall clock, strictly increasing (TSO is not what is measured). */
function nextTs(): Timestamp {
  let t: bigint = composeTimestamp(Math.floor(env.clock.wallMs()), 0);
  if (t <= lastTs) t = lastTs + 1n;
  lastTs = t;
  return t as Timestamp;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function phase(
  name: string,
  op: (caller: number, i: number) => Promise<void>,
): Promise<number> {
  const latencies: number[] = [];
  let ops = 0;
  const endAt = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; performance.now() < endAt; i++) {
        const t0 = performance.now();
        await op(caller, i);
        latencies.push(performance.now() - t0);
        ops++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const rate = ops / seconds;
  console.log(
    `${name}: ${Math.round(rate)}/s (${ops} in ${seconds}s, ${callers} callers), ` +
      `p50 ${percentile(latencies, 0.5).toFixed(2)} ms, ` +
      `p99 ${percentile(latencies, 0.99).toFixed(2)} ms`,
  );
  return rate;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "tessera-bench-kv-"));
  const meta = await EmbeddedMetaStore.open(env, { dir: join(root, "pd") });
  const pd = await PdServer.start(env, {
    name: "pd-1",
    host: "127.0.0.1",
    port: 0,
    store: meta,
    logger: silentPdLogger,
  });
  const pdAddress = `${pd.address.host}:${pd.address.port}`;
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, "..", "bin", "tessera.js"),
      "kv", "--pd", pdAddress, "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
      "--data-dir", join(root, "kv"), "--log-level", "warn",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const clients: RpcClient[] = [];
  const pdClient = new PdClient(env, { endpoints: [pdAddress], logger });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      rl.on("line", (l) => {
        if (l.includes('"storeId"')) resolve(l);
      });
      child.once("exit", (code) => reject(new Error(`tessera kv exited with ${code}`)));
    });
    const serving = JSON.parse(line) as { rpc: string };
    const [host, port] = serving.rpc.split(":") as [string, string];
    for (let i = 0; i < clientCount; i++) {
      clients.push(new RpcClient(env, { host, port: Number(port), logger }));
    }
    const route = await pdClient.getShardByKey(new Uint8Array([1]));
    if (route === null) throw new Error("no shard");
    const base = {
      header: { clusterId: pd.clusterId },
      context: { shardId: route.shard.id, epoch: route.shard.epoch },
    };
    const written: Uint8Array[][] = Array.from({ length: callers }, () => []);
    const value = new Uint8Array(100).fill(7);
    const call = async (caller: number, method: string, body: object): Promise<KvReply> => {
      const client = clients[caller % clients.length] as RpcClient;
      const reply = (await client.call(method, { ...base, ...body })) as KvReply;
      if (reply.keyError !== undefined || reply.routeError !== undefined) {
        throw new Error(`${method}: ${JSON.stringify(reply, (_k, v: unknown) => String(v))}`);
      }
      return reply;
    };
    console.log(
      `tessera kv at ${serving.rpc}, LMDB, unreplicated shard, ${clientCount} connections`,
    );
    const writes = await phase("prewrite+commit (1 key, 2PC)", async (caller, i) => {
      const key = new TextEncoder().encode(`bench-${caller}-${i}`);
      const startTs = nextTs();
      await call(caller, KvMethod.prewrite, {
        mutations: [{ kind: "put", key, value }],
        primary: key,
        startTs,
        lockTtlMs: 3000,
      });
      await call(caller, KvMethod.commit, { keys: [key], startTs, commitTs: nextTs() });
      written[caller]?.push(key);
    });
    const gets = await phase("point get", async (caller, i) => {
      const keys = written[caller] ?? [];
      const key = keys[i % Math.max(1, keys.length)] ?? new Uint8Array([1]);
      const reply = (await call(caller, KvMethod.get, { key, version: nextTs() })) as GetReply;
      if (keys.length > 0 && reply.value === null) throw new Error("a written key is missing");
    });
    const summary = { prewriteCommitPerSec: Math.round(writes), pointGetPerSec: Math.round(gets) };
    console.log(JSON.stringify(summary));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await pdClient.close();
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    await pd.stop();
    await meta.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
