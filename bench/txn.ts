/**
 * Transactions per second of the transactional client: single-key transactions (1PC) and
 * 10-key transactions spanning two shards split at "m" (async commit), each with
 * `concurrency` transactions in flight. By default against an in-process cluster (one PD,
 * two KV stores over memory engines on 127.0.0.1); with `--cluster`, against PD and three
 * `tessera kv` child processes on Raft (every write replicated to three stores on disk).
 * Run: `npm run bench:txn` (options: --seconds N --concurrency N --cluster).
 */
import { performance } from "node:perf_hooks";
import { TxnClient } from "../src/client/mod.ts";
import { env } from "../test/kv/cluster_harness.ts";
import { formShards, startRaftCluster } from "../test/client/raft_cluster.ts";
import { b, quietLogger, startTestCluster } from "../test/client/test_cluster.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = option("seconds", 3);
const concurrency = option("concurrency", 32);
const raft = args.includes("--cluster");

/** The client under test and how to stop everything it talks to. */
async function connect(): Promise<{ client: TxnClient; close: () => Promise<void> }> {
  if (!raft) {
    const cluster = await startTestCluster();
    return { client: cluster.client({ safePointCacheMs: 1_000 }), close: () => cluster.close() };
  }
  const cluster = await startRaftCluster();
  const close = async (): Promise<void> => {
    await client.close();
    await cluster.close();
  };
  const client = new TxnClient(env, {
    pd: cluster.pdClient,
    logger: quietLogger,
    safePointCacheMs: 1_000,
  });
  try {
    await formShards(cluster, { splitKeys: [b("m")] });
  } catch (error) {
    await close();
    throw error;
  }
  return { client, close };
}

const { client, close } = await connect();
console.log(raft ? "cluster: PD + 3 tessera kv processes (Raft)" : "cluster: in-process");

async function run(name: string, keysPerTxn: number): Promise<void> {
  let done = 0;
  const paths = new Map<string, number>();
  const deadline = performance.now() + seconds * 1_000;
  let n = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const txn = await client.begin();
      const i = n++;
      for (let k = 0; k < keysPerTxn; k++) {
        // Half the keys below "m" (shard 1), half above (shard 2).
        const prefix = k % 2 === 0 ? "a" : "z";
        txn.set(b(`${prefix}${name}-${w}-${i}-${k}`), b(`value-${i}`));
      }
      await txn.commit();
      paths.set(txn.commitPath ?? "none", (paths.get(txn.commitPath ?? "none") ?? 0) + 1);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  await client.drain();
  const elapsed = (performance.now() - start) / 1_000;
  const tps = Math.round(done / elapsed);
  console.log(
    `${name}: ${done} txns in ${elapsed.toFixed(2)} s = ${tps} txn/s ` +
      `(concurrency ${concurrency}, paths ${JSON.stringify(Object.fromEntries(paths))})`,
  );
}

try {
  await run("single-key", 1);
  await run("ten-key", 10);
} finally {
  await close();
}
