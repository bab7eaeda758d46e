/**
 * The transactional client against an in-process cluster (one PD, two KV stores, two
 * shards split at "m"): commit paths (1PC, async commit, 2PC), write conflicts, pessimistic
 * lock waits and deadlocks, resolving an abandoned transaction's locks, a bounded bank
 * workload with concurrent readers, GC advancing the safe point, and an ambiguous primary
 * commit surfacing as `CommitResultUnknown`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, TesseraError, hasErrorCode } from "../../src/base/mod.ts";
import {
  GcWorker,
  RpcStoreTransport,
  type StoreTransport,
  type TxnClient,
} from "../../src/client/mod.ts";
import { KvMethod } from "../../src/proto/mod.ts";
import { type TestCluster, b, quietLogger, startTestCluster, str } from "./test_cluster.ts";

const opts = { timeout: 30_000 };
let cluster: TestCluster;
let client: TxnClient;

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client();
});

after(async () => {
  await cluster.close();
});

test("a single-key transaction commits in one phase and is read back", opts, async () => {
  const txn = await client.begin();
  txn.set(b("a1"), b("v1"));
  await txn.commit();
  assert.equal(txn.commitPath, "onePc");
  const reader = await client.begin();
  assert.equal(str(await reader.get(b("a1"))), "v1");
  await reader.commit();
});

test("a transaction over two shards takes async commit, or 2PC when disabled", opts, async () => {
  const txn = await client.begin();
  txn.set(b("b1"), b("x"));
  txn.set(b("zb1"), b("y"));
  await txn.commit();
  assert.equal(txn.commitPath, "asyncCommit");
  const twoPc = await client.begin({ enableAsyncCommit: false });
  twoPc.set(b("b2"), b("x2"));
  twoPc.set(b("zb2"), b("y2"));
  await twoPc.commit();
  assert.equal(twoPc.commitPath, "twoPc");
  const reader = await client.begin();
  const values = await reader.batchGet([b("b1"), b("zb1"), b("b2"), b("zb2"), b("none")]);
  assert.deepEqual(values.map(str), ["x", "y", "x2", "y2", null]);
  const scanned = await reader.scan(b("b"), b("zc"));
  assert.deepEqual(scanned.map((p) => str(p.key)), ["b1", "b2", "zb1", "zb2"]);
  const reversed = await reader.scan(b("b"), b("zc"), { reverse: true, limit: 3 });
  assert.deepEqual(reversed.map((p) => str(p.key)), ["zb2", "zb1", "b2"]);
  await reader.commit();
});

test("reads see the transaction's own writes over its snapshot", opts, async () => {
  const setup = await client.begin();
  setup.set(b("c1"), b("old"));
  setup.set(b("c2"), b("old"));
  await setup.commit();
  const txn = await client.begin();
  txn.delete(b("c1"));
  txn.set(b("c3"), b("new"));
  assert.equal(await txn.get(b("c1")), null);
  const pairs = await txn.scan(b("c"), b("d"));
  assert.deepEqual(pairs.map((p) => str(p.key)), ["c2", "c3"]);
  await txn.rollback();
});

test("of two optimistic writers of one key, the later committer aborts", opts, async () => {
  const t1 = await client.begin();
  const t2 = await client.begin();
  t1.set(b("d1"), b("t1"));
  t2.set(b("d1"), b("t2"));
  t2.set(b("zd1"), b("t2"));
  await t1.commit();
  await assert.rejects(t2.commit(), (e: unknown) => hasErrorCode(e, ErrorCode.KvTxnWriteConflict));
  const reader = await client.begin();
  assert.equal(str(await reader.get(b("d1"))), "t1");
  assert.equal(await reader.get(b("zd1")), null);
  await reader.commit();
});

test("a pessimistic txn waits on a lock and proceeds after the holder commits", opts, async () => {
  const holder = await client.begin({ pessimistic: true });
  await holder.lockKeys([b("e1")]);
  holder.set(b("e1"), b("holder"));
  const waiter = await client.begin({ pessimistic: true });
  let acquired = false;
  const waiting = waiter.lockKeys([b("e1")], { waitTimeoutMs: 10_000 }).then(() => {
    acquired = true;
  });
  // The waiter is parked at the store until the holder commits.
  for (let i = 0; i < 200 && cluster.schedulers[0]?.stats().lockWaiters === 0; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    await cluster.env.timers.sleep(1);
  }
  assert.equal(acquired, false);
  await holder.commit();
  await waiting;
  // A current read at the for-update ts sees the holder's commit.
  assert.deepEqual((await waiter.lockKeys([b("e1")], { returnValues: true })).map(str), [
    "holder",
  ]);
  waiter.set(b("e1"), b("waiter"));
  await waiter.commit();
  const reader = await client.begin();
  assert.equal(str(await reader.get(b("e1"))), "waiter");
  await reader.commit();
});

test("a deadlock between two pessimistic transactions fails one with Deadlock", opts, async () => {
  const t1 = await client.begin({ pessimistic: true });
  const t2 = await client.begin({ pessimistic: true });
  await t1.lockKeys([b("f1")]);
  await t2.lockKeys([b("f2")]);
  const w1 = t1.lockKeys([b("f2")], { waitTimeoutMs: 10_000 }).then(
    () => "ok",
    (e: unknown) => e,
  );
  for (let i = 0; i < 200 && cluster.schedulers[0]?.stats().lockWaiters === 0; i++) {
    await cluster.env.timers.sleep(1);
  }
  const w2 = await t2.lockKeys([b("f1")], { waitTimeoutMs: 10_000 }).then(
    () => "ok",
    (e: unknown) => e,
  );
  assert.ok(hasErrorCode(w2, ErrorCode.KvTxnDeadlock), `t2 got ${String(w2)}`);
  await t2.rollback();
  assert.equal(await w1, "ok");
  await t1.rollback();
});

test("a lost primary commit is CommitResultUnknown; readers resolve it later", opts, async () => {
  const other = cluster.client();
  // Prewrite only: a transport that loses every commit plays the crash.
  const dropping = cluster.client({
    kv: {
      transport: dropCommits(new RpcStoreTransport(cluster.env, { logger: quietLogger })),
      attemptsMax: 2,
    },
  });
  const abandoned = await dropping.begin({ lockTtlMs: 100, enableAsyncCommit: false });
  abandoned.set(b("g2"), b("never"));
  abandoned.set(b("zg2"), b("never"));
  await assert.rejects(abandoned.commit(), (e: unknown) =>
    hasErrorCode(e, ErrorCode.ClientTxnCommitResultUnknown) && e.ambiguous,
  );
  const reader = await other.begin();
  assert.equal(await reader.get(b("g2")), null);
  assert.equal(await reader.get(b("zg2")), null);
  assert.ok(other.resolver.stats.checkTxnStatus >= 1);
  await reader.commit();
});

test("a bank workload keeps the total constant and every reader sees it", opts, async () => {
  const accounts = ["acct-a", "acct-b", "acct-c", "zacct-d", "zacct-e", "zacct-f"].map(b);
  const setup = await client.begin();
  for (const a of accounts) setup.set(a, b("100"));
  await setup.commit();
  const total = 100 * accounts.length;
  let committed = 0;
  let aborted = 0;
  const transfer = async (i: number): Promise<void> => {
    const from = accounts[i % accounts.length] as Uint8Array;
    const to = accounts[(i * 7 + 1) % accounts.length] as Uint8Array;
    if (from === to) return;
    for (let attempt = 0; attempt < 20; attempt++) {
      const txn = await client.begin({ pessimistic: i % 2 === 0 });
      try {
        const [x, y] = await txn.lockKeys([from, to], { returnValues: true });
        txn.set(from, b(String(Number(str(x ?? null)) - 1)));
        txn.set(to, b(String(Number(str(y ?? null)) + 1)));
        await txn.commit();
        committed++;
        return;
      } catch (error) {
        aborted++;
        if (!hasErrorCode(error, ErrorCode.KvTxnWriteConflict) &&
          !hasErrorCode(error, ErrorCode.KvTxnDeadlock)) throw error;
      }
    }
  };
  const reads: number[] = [];
  const read = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      const txn = await client.begin();
      const values = await txn.batchGet(accounts);
      reads.push(values.reduce((n, v) => n + Number(str(v)), 0));
      await txn.commit();
    }
  };
  await Promise.all([
    ...Array.from({ length: 40 }, (_, i) => transfer(i)),
    read(),
    read(),
  ]);
  await client.drain();
  assert.ok(committed > 0, `committed ${committed}, aborted ${aborted}`);
  assert.deepEqual(reads.filter((n) => n !== total), [], "every reader saw the total");
  const check = await client.begin();
  const final = [...(await check.scan(b("acct-"), b("acct."))),
    ...(await check.scan(b("zacct-"), b("zacct.")))];
  assert.equal(final.length, accounts.length);
  assert.equal(final.reduce((n, p) => n + Number(str(p.value)), 0), total);
  await check.commit();
});

test("the GC worker advances the safe point and a read below it fails", opts, async () => {
  const txn = await client.begin();
  txn.set(b("h1"), b("v"));
  await txn.commit();
  const old = await client.begin();
  const worker = new GcWorker(cluster.env, {
    pd: cluster.newPdClient(),
    kv: client.kv,
    resolver: client.resolver,
    logger: quietLogger,
    candidate: "gc-test",
    collectDelayMs: 5,
    gcLifeTimeMs: 0,
  });
  const blocked = new GcWorker(cluster.env, {
    pd: cluster.newPdClient(),
    kv: client.kv,
    resolver: client.resolver,
    logger: quietLogger,
    candidate: "gc-test-2",
    collectDelayMs: 5,
  });
  const result = await worker.runOnce();
  assert.equal(result.kind, "collected");
  assert.equal((await blocked.runOnce()).kind, "notOwner");
  const safePoint = await cluster.pdClient.getGcSafePoint();
  assert.ok(safePoint > old.startTs);
  await assert.rejects(old.get(b("h1")), (e: unknown) =>
    hasErrorCode(e, ErrorCode.ClientTxnSnapshotTooOld),
  );
  await assert.rejects(client.beginAt(old.startTs), (e: unknown) =>
    hasErrorCode(e, ErrorCode.ClientTxnSnapshotTooOld),
  );
  await old.rollback();
  const fresh = await client.begin();
  assert.equal(str(await fresh.get(b("h1"))), "v");
  await fresh.commit();
});

test("GC does not pass the oldest running transaction of its registry", opts, async () => {
  const running = await client.begin();
  const worker = new GcWorker(cluster.env, {
    pd: cluster.newPdClient(),
    kv: client.kv,
    resolver: client.resolver,
    logger: quietLogger,
    candidate: "gc-test",
    collectDelayMs: 5,
    gcLifeTimeMs: 0,
    sources: [() => Promise.resolve(client.registry.minStartTs())],
  });
  await worker.runOnce();
  assert.ok((await cluster.pdClient.getGcSafePoint()) <= running.startTs);
  assert.equal(await running.get(b("nothing")), null);
  await running.commit();
});

/** A transport that sends everything but never returns a commit's reply (a lost reply). */
function dropCommits(inner: StoreTransport): StoreTransport {
  return {
    call: async (address, method, body, options) => {
      if (method === KvMethod.commit) {
        await Promise.resolve();
        throw new TesseraError(ErrorCode.RpcConnectionClosed, "reply lost");
      }
      return inner.call(address, method, body, options);
    },
    close: () => inner.close(),
  };
}
