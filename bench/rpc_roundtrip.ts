/**
 * RPC round-trip benchmark: one `RpcServer` and one `RpcClient` in this process, over TCP
 * on 127.0.0.1, calling an echo method with a small body (a short key and a bigint
 * timestamp, like a point get). It measures calls per second with one call in flight
 * (pure latency) and with 64 in flight (multiplexing and write batching), a few seconds
 * each after a warm-up, prints a table and exits. Both ends share one thread, so the
 * figures are for client and server work together.
 *
 * Run: `npm run bench:rpc` (optionally `-- --seconds 5`).
 */
import { createNodeEnv } from "../src/env/mod.ts";
import { RpcClient, type RpcLogger, RpcServer } from "../src/rpc/mod.ts";

const secondsArg = process.argv.indexOf("--seconds");
const seconds = secondsArg === -1 ? 3 : Number(process.argv[secondsArg + 1]);

const env = createNodeEnv();
const logger: RpcLogger = {
  warn: (fields, message) => console.warn("warn", message, fields),
  error: (fields, message) => console.error("error", message, fields),
};

const server = new RpcServer(env, { logger });
server.handleUnary("Echo", async (body) => body);
const address = await server.listen({ host: "127.0.0.1", port: 0 });
const client = new RpcClient(env, { host: address.host, port: address.port, logger });
const body = { key: "t42_r000000001234", ts: (1_750_000_000_000n << 18n) | 7n };

/** Runs `inFlight` loops of back-to-back calls for `durationMs`; returns calls and time. */
async function run(inFlight: number, durationMs: number): Promise<{ calls: number; ms: number }> {
  const startMs = env.clock.monotonicMs();
  const endMs = startMs + durationMs;
  let calls = 0;
  const loop = async (): Promise<void> => {
    while (env.clock.monotonicMs() < endMs) {
      await client.call("Echo", body);
      calls += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  return { calls, ms: env.clock.monotonicMs() - startMs };
}

const rows: { mode: string; calls: number; seconds: string; callsPerSecond: number }[] = [];
for (const inFlight of [1, 64]) {
  await run(inFlight, 500);
  const { calls, ms } = await run(inFlight, seconds * 1000);
  rows.push({
    mode: inFlight === 1 ? "sequential (1 in flight)" : `${inFlight} in flight`,
    calls,
    seconds: (ms / 1000).toFixed(2),
    callsPerSecond: Math.round((calls * 1000) / ms),
  });
}

console.log(`RPC echo round trips, client and server in one process (node ${process.version})`);
console.log("mode                      calls      seconds  calls/s");
for (const row of rows) {
  console.log(
    `${row.mode.padEnd(26)}${String(row.calls).padStart(9)}  ${row.seconds.padStart(7)}  ` +
      `${String(row.callsPerSecond).padStart(7)}`,
  );
}

await client.close();
await server.close();
