/**
 * A prewrite whose reply is lost is sent again by the KV client (a leader killed after
 * applying the write but before answering, as the bank cluster test does). For 1PC and
 * async commit the prewrite is the commit point, so the retry can meet the transaction's
 * own commit record; the store then writes nothing and reports that record's commit ts
 * (`prewrite.ts`). The client must not report the retry as a failure, and must learn the
 * commit ts the data really has, not a fresh one (a pessimistic 1PC retry once got a new,
 * later ts for data committed earlier).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ErrorCode, TesseraError, type Timestamp, hasErrorCode } from "../../src/base/mod.ts";
import { RpcStoreTransport, type StoreTransport } from "../../src/client/mod.ts";
import { KvMethod, type PrewriteReply } from "../../src/proto/mod.ts";
import { type TestCluster, b, quietLogger, startTestCluster, str } from "./test_cluster.ts";

const opts = { timeout: 30_000 };
let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster.close();
});

/** Sends every request; the reply of the first prewrite is lost after the store ran it. */
function loseFirstPrewriteReply(inner: StoreTransport): StoreTransport {
  let lost = false;
  return {
    call: async (address, method, body, options) => {
      const reply = await inner.call(address, method, body, options);
      if (method === KvMethod.prewrite && !lost) {
        lost = true;
        throw new TesseraError(ErrorCode.RpcConnectionClosed, "reply lost");
      }
      return reply;
    },
    close: () => inner.close(),
  };
}

function lossyClient(): ReturnType<TestCluster["client"]> {
  const transport = new RpcStoreTransport(cluster.env, { logger: quietLogger });
  return cluster.client({ kv: { transport: loseFirstPrewriteReply(transport) } });
}

test("a 1PC commit whose prewrite reply was lost and retried reports success", opts,
  async () => {
    const client = lossyClient();
    const txn = await client.begin();
    txn.set(b("ap-1"), b("once"));
    await txn.commit();
    assert.equal(txn.commitPath, "onePc");
    const reader = await cluster.client().begin();
    assert.equal(str(await reader.get(b("ap-1"))), "once");
    await reader.commit();
  });

test("an async commit whose prewrite reply was lost is never reported as failed", opts,
  async () => {
    const client = lossyClient();
    const txn = await client.begin();
    txn.set(b("ap-2"), b("x"));
    txn.set(b("zap-2"), b("y"));
    const outcome = await txn.commit().then(
      () => "committed",
      (e: unknown) => (hasErrorCode(e, ErrorCode.ClientTxnCommitResultUnknown) ? "unknown" : e),
    );
    assert.ok(outcome === "committed" || outcome === "unknown", `got ${String(outcome)}`);
    await client.drain();
    const reader = await cluster.client().begin();
    // The store ran the lost prewrite, so the transaction did commit.
    assert.deepEqual((await reader.batchGet([b("ap-2"), b("zap-2")])).map(str), ["x", "y"]);
    await reader.commit();
  });

test("a pessimistic 1PC commit whose prewrite reply was lost reports its real commit ts", opts,
  async () => {
    // The lost reply's commit ts, and a read above it on the same store before the retry,
    // so a retry that committed afresh would pick a later ts.
    let lostCommitTs: bigint | undefined;
    const inner = new RpcStoreTransport(cluster.env, { logger: quietLogger });
    const transport: StoreTransport = {
      call: async (address, method, body, options) => {
        const reply = await inner.call(address, method, body, options);
        if (method === KvMethod.prewrite && lostCommitTs === undefined) {
          lostCommitTs = (reply as PrewriteReply).onePcCommitTs;
          const reader = await cluster.client().begin();
          assert.equal(str(await reader.get(b("ap-3"))), "once", "the lost attempt committed");
          await reader.commit();
          throw new TesseraError(ErrorCode.RpcConnectionClosed, "reply lost");
        }
        return reply;
      },
      close: () => inner.close(),
    };
    const client = cluster.client({ kv: { transport } });
    const txn = await client.begin({ pessimistic: true });
    await txn.lockKeys([b("ap-3")]);
    txn.set(b("ap-3"), b("once"));
    await txn.commit();
    assert.equal(txn.commitPath, "onePc");
    assert.ok(lostCommitTs !== undefined && lostCommitTs > 0n);
    assert.equal(txn.commitTs, lostCommitTs);
    const before = await cluster.client().beginAt((lostCommitTs - 1n) as Timestamp);
    assert.equal(await before.get(b("ap-3")), null);
    await before.commit();
  });
