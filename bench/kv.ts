/**
 * KV benchmark on a loopback cluster: an in-process PD (embedded metadata store in a
 * temporary directory) and `--nodes` real `tessera kv` child processes (default 3: every
 * write is a Raft proposal replicated to three LMDB stores), driven through RPC by
 * `--callers` concurrent callers over `--clients` connections per store; each request goes
 * to the leader of the key's shard as PD reports it. The cluster is ready once shard 1 has
 * `--nodes` voters. Two phases of `--seconds` each: prewrite + commit of one key per
 * transaction (a full 2PC: two RPCs, two replicated, synced writes), then point gets at a
 * fresh read ts of the keys written (served from the leader's lease). Prints operations
 * per second and the p50/p99 latency one caller sees, and exits.
 *
 * Run: `npm run bench:kv` (options: `--nodes 3 --seconds 3 --callers 64 --clients 4`).
 */
import { type Timestamp, composeTimestamp } from "../src/base/mod.ts";
import { createNodeEnv } from "../src/env/mod.ts";
import { KvRouter, LoopbackCluster, waitFor } from "../test/kv/cluster_harness.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const nodeCount = arg("nodes", 3);
const seconds = arg("seconds", 3);
const callers = arg("callers", 64);
const clientCount = arg("clients", 4);

const env = createNodeEnv();
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
  const cluster = await LoopbackCluster.start({
    schedulerConfig: { maxReplicas: nodeCount },
    kvFlags: [
      "--store-heartbeat-interval", "200ms", "--shard-heartbeat-interval", "200ms",
      "--raft-tick-interval", "100ms", "--raft-election-ticks", "10",
    ],
  });
  const router = new KvRouter(cluster, { connections: clientCount });
  try {
    const nodes = Array.from({ length: nodeCount }, () => cluster.startNode());
    for (const node of nodes) await node.serving;
    await waitFor(`shard 1 with ${nodeCount} voters`, () => {
      const r = cluster.route(new Uint8Array(0));
      const voters = r?.shard.peers.filter((p) => p.role === "voter").length ?? 0;
      return r?.leader != null && voters === nodeCount && r.shard.peers.length === nodeCount
        ? true
        : undefined;
    });
    const written: Uint8Array[][] = Array.from({ length: callers }, () => []);
    const value = new Uint8Array(100).fill(7);
    const tso = (): Promise<Timestamp> => Promise.resolve(nextTs());
    console.log(
      `${nodeCount} tessera kv nodes on loopback, LMDB, ${nodeCount} replicas per shard, ` +
        `${clientCount} connections per store`,
    );
    const writes = await phase("prewrite+commit (1 key, 2PC)", async (caller, i) => {
      const key = new TextEncoder().encode(`bench-${caller}-${i}`);
      await router.put(key, value, tso);
      written[caller]?.push(key);
    });
    const gets = await phase("point get", async (caller, i) => {
      const keys = written[caller] ?? [];
      const key = keys[i % Math.max(1, keys.length)] ?? new Uint8Array([1]);
      const got = await router.get(key, nextTs());
      if (keys.length > 0 && got === null) throw new Error("a written key is missing");
    });
    const summary = {
      nodes: nodeCount,
      prewriteCommitPerSec: Math.round(writes),
      pointGetPerSec: Math.round(gets),
      routingRetries: router.retries,
    };
    console.log(JSON.stringify(summary));
  } finally {
    await router.close();
    await cluster.close();
  }
}

await main();
