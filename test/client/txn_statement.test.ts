/**
 * The transaction API a SQL statement builds on, against an in-process cluster: reads at a
 * later read ts (a pessimistic statement's current read) under the transaction's own
 * writes, `lockKeys` at a fixed for-update ts failing with a write conflict on a newer
 * commit (so the statement reruns) instead of silently locking past it, statement options
 * making those the defaults, and buffer checkpoints undoing a statement's writes (and
 * naming the keys it wrote) while its locks stay held.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, type Timestamp, hasErrorCode } from "../../src/base/mod.ts";
import type { TxnClient } from "../../src/client/mod.ts";
import { type TestCluster, b, startTestCluster, str } from "./test_cluster.ts";

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

async function put(key: string, value: string): Promise<void> {
  const txn = await client.begin();
  txn.set(b(key), b(value));
  await txn.commit();
}

test("Transaction reads at a later readTs see newer commits under its own writes", opts,
  async () => {
    await put("rt1", "old");
    await put("rt2", "old");
    const txn = await client.begin({ pessimistic: true });
    await put("rt1", "new");
    await put("rt2", "new");
    txn.set(b("rt2"), b("mine"));
    const latest = await cluster.pdClient.getTimestamp();
    assert.equal(str(await txn.get(b("rt1"))), "old");
    assert.equal(str(await txn.get(b("rt1"), { readTs: latest })), "new");
    assert.deepEqual((await txn.batchGet([b("rt1"), b("rt2")], { readTs: latest })).map(str),
      ["new", "mine"]);
    const scanned = await txn.scan(b("rt"), b("ru"), { readTs: latest });
    assert.deepEqual(scanned.map((p) => str(p.value)), ["new", "mine"]);
    assert.deepEqual((await txn.scan(b("rt"), b("ru"))).map((p) => str(p.value)),
      ["old", "mine"]);
    await assert.rejects(txn.get(b("rt1"), { readTs: (txn.startTs - 1n) as Timestamp }),
      (e: unknown) => hasErrorCode(e, ErrorCode.ClientTxnSnapshotTooOld));
    await txn.rollback();
  });

test("lockKeys at a fixed forUpdateTs fails with WriteConflict on a newer commit", opts,
  async () => {
    await put("fu1", "v0");
    const txn = await client.begin({ pessimistic: true });
    const statementTs = await cluster.pdClient.getTimestamp();
    await put("fu1", "v1");
    await assert.rejects(txn.lockKeys([b("fu1")], { forUpdateTs: statementTs }),
      (e: unknown) => hasErrorCode(e, ErrorCode.KvTxnWriteConflict));
    // The rerun at a fresh ts reads the newer value and locks it.
    const rerunTs = await cluster.pdClient.getTimestamp();
    assert.equal(str(await txn.get(b("fu1"), { readTs: rerunTs })), "v1");
    await txn.lockKeys([b("fu1")], { forUpdateTs: rerunTs });
    txn.set(b("fu1"), b("v2"));
    await txn.commit();
    const reader = await client.begin();
    assert.equal(str(await reader.get(b("fu1"))), "v2");
    await reader.rollback();
  });

test("statement options make a read ts and a fixed for-update ts the defaults", opts,
  async () => {
    await put("so1", "v0");
    const txn = await client.begin({ pessimistic: true });
    const statementTs = await cluster.pdClient.getTimestamp();
    await put("so1", "v1");
    txn.setStatementOptions({ readTs: statementTs, forUpdateTs: statementTs });
    assert.equal(str(await txn.get(b("so1"))), "v0");
    await assert.rejects(txn.lockKeys([b("so1")]),
      (e: unknown) => hasErrorCode(e, ErrorCode.KvTxnWriteConflict));
    txn.setStatementOptions({});
    assert.equal(str(await txn.get(b("so1"))), "v0");
    await txn.rollback();
  });

test("rollbackTo a checkpoint drops a statement's writes; its locks stay held", opts,
  async () => {
    await put("cp1", "base");
    const txn = await client.begin({ pessimistic: true });
    txn.set(b("cp0"), b("kept"));
    const checkpoint = txn.checkpoint();
    txn.set(b("cp1"), b("undone"));
    assert.deepEqual(txn.keysChangedSince(checkpoint).map(str), ["cp1"]);
    const statementTs = await cluster.pdClient.getTimestamp();
    txn.setStatementOptions({ readTs: statementTs, forUpdateTs: statementTs });
    await txn.lockKeys(txn.keysChangedSince(checkpoint));
    txn.setStatementOptions({});
    txn.rollbackTo(checkpoint);
    txn.releaseCheckpoint(checkpoint);
    assert.equal(str(await txn.get(b("cp1"))), "base");
    // Another writer waits on the lock the rolled-back statement took, then times out.
    const other = await client.begin({ pessimistic: true });
    await assert.rejects(other.lockKeys([b("cp1")], { waitTimeoutMs: 100 }),
      (e: unknown) => hasErrorCode(e, ErrorCode.KvTxnLockWaitTimeout));
    await other.rollback();
    await txn.commit();
    const reader = await client.begin();
    assert.deepEqual((await reader.batchGet([b("cp0"), b("cp1")])).map(str), ["kept", "base"]);
    await reader.rollback();
  });
