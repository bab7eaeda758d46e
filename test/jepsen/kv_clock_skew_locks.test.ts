/**
 * Lock TTLs on a KV node whose clock is skewed (`tessera kv --clock-offset-ms`), against
 * an in-process PD with a correct clock and the transactional client. A lock's TTL counts
 * from its start ts, a TSO time; the client's lock resolver judges expiry by a fresh TSO
 * timestamp (the `currentTs` it sends with `checkTxnStatus`), and the KV node must judge
 * it by the same time, not by its own wall clock (TiKV does the same):
 * - clock 6 s ahead: a writer that meets the pessimistic lock of a live transaction must
 *   not roll that transaction back (it did: the node saw the 3 s TTL long run out), so the
 *   lock owner's commit succeeds;
 * - clock 4 s behind: a writer that meets an abandoned lock whose TTL ran out by the TSO
 *   must get it resolved at once (the node saw it alive for 4 s more, and the resolver,
 *   told "alive" about a lock it knew expired, retried every millisecond meanwhile).
 * And a client whose clock is 4 s behind (`createNodeEnv({ clockOffsetMs })`) must keep
 * a long transaction's lock alive with its heartbeats: the TTL it advises is the time
 * since the transaction began plus the lock TTL (it was its wall clock minus the start
 * ts's physical time, 4 s short, so a writer rolled back the live transaction).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { TxnClient } from "../../src/client/mod.ts";
import { createNodeEnv } from "../../src/env/mod.ts";
import { KvMethod, type PrewriteReply } from "../../src/proto/mod.ts";
import { fastRaftKvFlags } from "../client/raft_cluster.ts";
import { quietLogger } from "../client/test_cluster.ts";
import { KvRouter, LoopbackCluster, env, waitFor } from "../kv/cluster_harness.ts";

const opts = { timeout: 60_000 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const closers: (() => Promise<void>)[] = [];

after(async () => {
  for (const close of closers.reverse()) await close();
}, { timeout: 30_000 });

/** PD and one KV node whose clock is `clockOffsetMs` off, with a client. */
async function skewedCluster(clockOffsetMs: number): Promise<{ cluster: LoopbackCluster;
  client: TxnClient }> {
  const cluster = await LoopbackCluster.start({
    kvFlags: [`--clock-offset-ms=${clockOffsetMs}`, ...fastRaftKvFlags], logLevel: "error",
  });
  closers.push(() => cluster.close());
  await cluster.startNode().serving;
  await waitFor("a shard leader", () =>
    (cluster.route(encoder.encode("k"))?.leader ?? undefined) === undefined ? undefined : true);
  const client = new TxnClient(env, { pd: cluster.pdClient, logger: quietLogger });
  closers.push(() => client.close());
  return { cluster, client };
}

test("a KV clock 6 s ahead does not roll back a live transaction's lock", opts, async () => {
  const { client } = await skewedCluster(6_000);
  const key = encoder.encode("ahead/k");
  const owner = await client.begin({ pessimistic: true });
  await owner.lockKeys([key]);
  const before = client.resolver.stats.checkTxnStatus;
  const writer = await client.begin();
  writer.set(key, encoder.encode("writer"));
  const writing = writer.commit().then(() => "committed", (e: unknown) => String(e));
  await waitFor("the writer to check the owner's status", () =>
    client.resolver.stats.checkTxnStatus > before ? true : undefined);
  owner.set(key, encoder.encode("owner"));
  await owner.commit();
  // The writer started before the owner committed: it must not commit over it.
  assert.notEqual(await writing, "committed");
  const reader = await client.begin();
  assert.equal(decoder.decode((await reader.get(key)) ?? new Uint8Array()), "owner");
  await reader.rollback();
});

test("a KV clock 4 s behind lets a writer resolve a lock expired by the TSO at once", opts,
  async () => {
    const { cluster, client } = await skewedCluster(-4_000);
    const key = encoder.encode("behind/k");
    // An abandoned lock: prewritten with a 100 ms TTL, never committed nor rolled back.
    const router = new KvRouter(cluster);
    closers.push(() => router.close());
    const startTs = await cluster.pdClient.getTimestamp();
    const prewrite = await router.call<PrewriteReply>(KvMethod.prewrite, key, {
      mutations: [{ kind: "put", key, value: encoder.encode("abandoned") }],
      primary: key, startTs, lockTtlMs: 100,
    });
    assert.equal(prewrite.keyError, undefined);
    await waitFor("the lock's TTL to run out by the TSO", async () =>
      (await cluster.pdClient.getTimestamp()) > startTs + (200n << 18n) ? true : undefined);
    const before = client.resolver.stats.checkTxnStatus;
    const writer = await client.begin();
    writer.set(key, encoder.encode("writer"));
    await writer.commit();
    const checks = client.resolver.stats.checkTxnStatus - before;
    assert.ok(checks <= 3, `${checks} checkTxnStatus calls to resolve one expired lock`);
  });

test("a client clock 4 s behind keeps a long transaction's lock alive by heartbeats", opts,
  async () => {
    const { cluster, client } = await skewedCluster(0);
    const behind = new TxnClient(createNodeEnv({ clockOffsetMs: -4_000 }),
      { pd: cluster.pdClient, logger: quietLogger });
    closers.push(() => behind.close());
    const key = encoder.encode("client-behind/k");
    const owner = await behind.begin({ pessimistic: true });
    await owner.lockKeys([key]);
    // Past the 3 s lock TTL, and past what heartbeats 4 s short would have kept alive.
    await waitFor("the lock to be 5.5 s old by the TSO", async () =>
      (await cluster.pdClient.getTimestamp()) > owner.startTs + (5_500n << 18n)
        ? true : undefined);
    const before = client.resolver.stats.checkTxnStatus;
    const writer = await client.begin();
    writer.set(key, encoder.encode("writer"));
    const writing = writer.commit().then(() => "committed", (e: unknown) => String(e));
    await waitFor("the writer to check the owner's status", () =>
      client.resolver.stats.checkTxnStatus > before ? true : undefined);
    owner.set(key, encoder.encode("owner"));
    await owner.commit();
    assert.notEqual(await writing, "committed");
  });
