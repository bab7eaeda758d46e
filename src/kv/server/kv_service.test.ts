/**
 * Tests of the KV RPC service over `LocalStoreShards`: a real `RpcServer` and `RpcClient`
 * on 127.0.0.1, every transaction path end to end (2PC, async commit, 1PC, conflicts, lock
 * resolution, lock waits, deadlocks), routing errors, and malformed bodies.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { ErrorCode, TesseraError, type Timestamp, composeTimestamp } from "../../base/mod.ts";
import {
  type BatchGetReply,
  type CheckSecondaryLocksReply,
  type CheckTxnStatusReply,
  type CommitReply,
  type CoprocessorReply,
  type GcReply,
  type GetReply,
  KvMethod,
  type PessimisticLockReply,
  type PrewriteReply,
  type ResolveLockReply,
  type ScanReply,
  type SplitReply,
  type TxnHeartbeatReply,
} from "../../proto/mod.ts";
import { type TestKv, b, startTestKv, str, testClusterId } from "./test_kv.ts";

const timeout = { timeout: 20_000 };

async function get(kv: TestKv, key: string, version: Timestamp): Promise<GetReply> {
  return (await kv.call(KvMethod.get, { key: b(key), version })) as GetReply;
}

async function put2pc(
  kv: TestKv,
  entries: Record<string, string>,
): Promise<{ startTs: Timestamp; commitTs: Timestamp }> {
  const startTs = kv.ts();
  const keys = Object.keys(entries);
  const primary = b(keys[0] as string);
  const pre = (await kv.call(KvMethod.prewrite, {
    mutations: keys.map((k) => ({ kind: "put", key: b(k), value: b(entries[k] as string) })),
    primary,
    startTs,
    lockTtlMs: 3000,
  })) as PrewriteReply;
  assert.equal(pre.keyError, undefined);
  const commitTs = kv.ts();
  const done = (await kv.call(KvMethod.commit, {
    keys: keys.map(b),
    startTs,
    commitTs,
  })) as CommitReply;
  assert.equal(done.keyError, undefined);
  return { startTs, commitTs };
}

async function rejects(promise: Promise<unknown>, code: string): Promise<TesseraError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TesseraError, `not a TesseraError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe("KvService over LocalStoreShards", () => {
  let kv: TestKv;
  before(async () => {
    kv = await startTestKv();
  });
  after(async () => {
    await kv.close();
  });

  test("optimistic 2PC: prewrite primary and secondaries, commit, read", timeout, async () => {
    const startTs = kv.ts();
    const pre = (await kv.call(KvMethod.prewrite, {
      mutations: [
        { kind: "put", key: b("2pc-a"), value: b("A") },
        { kind: "put", key: b("2pc-b"), value: b("B") },
      ],
      primary: b("2pc-a"),
      startTs,
      lockTtlMs: 3000,
    })) as PrewriteReply;
    assert.deepEqual(pre, { minCommitTs: 0n, onePcCommitTs: 0n });
    const before = kv.ts();
    const locked = await get(kv, "2pc-b", before);
    assert.equal(locked.keyError?.kind, "keyIsLocked");
    const commitTs = kv.ts();
    const primary = (await kv.call(KvMethod.commit, {
      keys: [b("2pc-a")],
      startTs,
      commitTs,
    })) as CommitReply;
    assert.equal(primary.commitTs, commitTs);
    await kv.call(KvMethod.commit, { keys: [b("2pc-b")], startTs, commitTs });
    const readTs = kv.ts();
    assert.equal(str((await get(kv, "2pc-a", readTs)).value), "A");
    assert.equal(str((await get(kv, "2pc-b", readTs)).value), "B");
    assert.equal((await get(kv, "2pc-a", startTs)).value, null);
    const batch = (await kv.call(KvMethod.batchGet, {
      keys: [b("2pc-a"), b("2pc-missing"), b("2pc-b")],
      version: readTs,
    })) as BatchGetReply;
    assert.deepEqual(batch.pairs.map((p) => str(p.value)), ["A", "B"]);
    assert.deepEqual(batch.locked, []);
  });

  test("scan goes forward and in reverse, with limit and keyOnly", timeout, async () => {
    await put2pc(kv, { "scan-1": "1", "scan-2": "2", "scan-3": "3", "scan-4": "4" });
    const version = kv.ts();
    const forward = (await kv.call(KvMethod.scan, {
      startKey: b("scan-"),
      endKey: b("scan-~"),
      limit: 3,
      version,
    })) as ScanReply;
    assert.deepEqual(forward.pairs.map((p) => str(p.key)), ["scan-1", "scan-2", "scan-3"]);
    const reverse = (await kv.call(KvMethod.scan, {
      startKey: b("scan-"),
      endKey: b("scan-~"),
      limit: 2,
      version,
      reverse: true,
      keyOnly: true,
    })) as ScanReply;
    assert.deepEqual(reverse.pairs.map((p) => str(p.key)), ["scan-4", "scan-3"]);
    assert.deepEqual(reverse.pairs.map((p) => p.value.length), [0, 0]);
  });

  test("async commit: min commit ts is above every earlier read; secondaries report locks",
    timeout, async () => {
      const startTs = kv.ts();
      const readTs = kv.ts();
      await get(kv, "ac-b", readTs); // raises the store's max read ts above startTs
      const pre = (await kv.call(KvMethod.prewrite, {
        mutations: [
          { kind: "put", key: b("ac-a"), value: b("A") },
          { kind: "put", key: b("ac-b"), value: b("B") },
        ],
        primary: b("ac-a"),
        startTs,
        lockTtlMs: 3000,
        asyncCommit: { secondaries: [b("ac-b")], maxCommitTs: 0n },
      })) as PrewriteReply;
      assert.equal(pre.keyError, undefined);
      assert.ok(pre.minCommitTs > readTs, `${pre.minCommitTs} > ${readTs}`);
      // The reader at readTs is not blocked: the lock commits above it.
      assert.equal((await get(kv, "ac-b", readTs)).keyError, undefined);
      const status = (await kv.call(KvMethod.checkSecondaryLocks, {
        keys: [b("ac-b")],
        startTs,
      })) as CheckSecondaryLocksReply;
      assert.equal(status.status?.kind, "locked");
      const primary = (await kv.call(KvMethod.checkTxnStatus, {
        primary: b("ac-a"),
        lockTs: startTs,
        callerStartTs: 0n,
        currentTs: kv.ts(),
        rollbackIfNotExist: false,
      })) as CheckTxnStatusReply;
      assert.equal(primary.status?.kind, "locked");
      if (primary.status?.kind === "locked") {
        assert.equal(primary.status.lock.useAsyncCommit, true);
        assert.deepEqual(primary.status.lock.secondaries.map(str), ["ac-b"]);
      }
      const commitTs = pre.minCommitTs;
      await kv.call(KvMethod.commit, { keys: [b("ac-a"), b("ac-b")], startTs, commitTs });
      assert.equal(str((await get(kv, "ac-b", kv.ts())).value), "B");
      assert.equal(kv.scheduler.stats().memoryLocks, 0);
    });

  test("1PC commits in one request and leaves no lock", timeout, async () => {
    const startTs = kv.ts();
    const pre = (await kv.call(KvMethod.prewrite, {
      mutations: [
        { kind: "put", key: b("1pc-a"), value: b("A") },
        { kind: "insert", key: b("1pc-b"), value: b("B") },
      ],
      primary: b("1pc-a"),
      startTs,
      lockTtlMs: 3000,
      tryOnePc: { maxCommitTs: 0n },
    })) as PrewriteReply;
    assert.equal(pre.keyError, undefined);
    assert.ok(pre.onePcCommitTs > startTs);
    const readTs = kv.ts();
    assert.equal(str((await get(kv, "1pc-b", readTs)).value), "B");
    const again = (await kv.call(KvMethod.prewrite, {
      mutations: [{ kind: "insert", key: b("1pc-b"), value: b("C") }],
      primary: b("1pc-b"),
      startTs: kv.ts(),
      lockTtlMs: 3000,
      tryOnePc: { maxCommitTs: 0n },
    })) as PrewriteReply;
    assert.equal(again.keyError?.kind, "alreadyExist");
  });

  test("a prewrite below a newer commit is a write conflict", timeout, async () => {
    const startTs = kv.ts();
    const { commitTs } = await put2pc(kv, { "wc-k": "first" });
    const pre = (await kv.call(KvMethod.prewrite, {
      mutations: [{ kind: "put", key: b("wc-k"), value: b("second") }],
      primary: b("wc-k"),
      startTs,
      lockTtlMs: 3000,
    })) as PrewriteReply;
    assert.equal(pre.keyError?.kind, "writeConflict");
    if (pre.keyError?.kind === "writeConflict") {
      assert.equal(pre.keyError.conflictCommitTs, commitTs);
      assert.equal(pre.keyError.reason, "optimistic");
    }
  });

  test("KeyIsLocked → checkTxnStatus rolls back the expired primary → resolveLock",
    timeout, async () => {
      const startTs = composeTimestamp(Math.floor(kv.env.clock.wallMs()) - 60_000, 1);
      const pre = (await kv.call(KvMethod.prewrite, {
        mutations: [
          { kind: "put", key: b("rl-p"), value: b("P") },
          { kind: "put", key: b("rl-s"), value: b("new") },
        ],
        primary: b("rl-p"),
        startTs,
        lockTtlMs: 1000,
      })) as PrewriteReply;
      assert.equal(pre.keyError, undefined);
      const readTs = kv.ts();
      const blocked = await get(kv, "rl-s", readTs);
      assert.equal(blocked.keyError?.kind, "keyIsLocked");
      assert.ok(blocked.keyError?.kind === "keyIsLocked");
      assert.equal(str(blocked.keyError.lock.primary), "rl-p");
      const status = (await kv.call(KvMethod.checkTxnStatus, {
        primary: blocked.keyError.lock.primary,
        lockTs: blocked.keyError.lock.startTs,
        callerStartTs: readTs,
        currentTs: kv.ts(),
        rollbackIfNotExist: true,
      })) as CheckTxnStatusReply;
      assert.deepEqual(status.status, { kind: "ttlExpireRollback" });
      const resolved = (await kv.call(KvMethod.resolveLock, {
        startTs,
        commitTs: 0n,
        keys: [],
      })) as ResolveLockReply;
      assert.equal(resolved.resolvedKeys, 1);
      assert.deepEqual(await get(kv, "rl-s", readTs), { value: null });
      // The late commit of the rolled-back transaction fails.
      const late = (await kv.call(KvMethod.commit, {
        keys: [b("rl-p")],
        startTs,
        commitTs: kv.ts(),
      })) as CommitReply;
      assert.equal(late.keyError?.kind, "txnLockNotFound");
    });

  test("txnHeartbeat extends the TTL; cleanup refuses a live lock; rollback removes it",
    timeout, async () => {
      const startTs = kv.ts();
      await kv.call(KvMethod.prewrite, {
        mutations: [{ kind: "put", key: b("hb-k"), value: b("v") }],
        primary: b("hb-k"),
        startTs,
        lockTtlMs: 3000,
      });
      const hb = (await kv.call(KvMethod.txnHeartbeat, {
        primary: b("hb-k"),
        startTs,
        adviseLockTtlMs: 9000,
      })) as TxnHeartbeatReply;
      assert.equal(hb.lockTtlMs, 9000);
      const cleanup = (await kv.call(KvMethod.cleanup, { key: b("hb-k"), startTs })) as {
        keyError?: { kind: string };
      };
      assert.equal(cleanup.keyError?.kind, "keyIsLocked");
      assert.deepEqual(await kv.call(KvMethod.rollback, { keys: [b("hb-k")], startTs }), {});
      assert.equal((await get(kv, "hb-k", kv.ts())).value, null);
      const committed = await put2pc(kv, { "hb-c": "x" });
      const refused = (await kv.call(KvMethod.rollback, {
        keys: [b("hb-c")],
        startTs: committed.startTs,
      })) as { keyError?: { kind: string; commitTs?: bigint } };
      assert.deepEqual(
        [refused.keyError?.kind, refused.keyError?.commitTs],
        ["committed", committed.commitTs],
      );
    });

  test("a pessimistic lock wait is woken when the holder commits", timeout, async () => {
    const a = kv.ts();
    const lockA = (await kv.call(KvMethod.pessimisticLock, {
      keys: [{ key: b("pl-k") }],
      primary: b("pl-k"),
      startTs: a,
      forUpdateTs: a,
      lockTtlMs: 3000,
      waitMode: "wait",
    })) as PessimisticLockReply;
    assert.equal(lockA.keyError, undefined);
    const bTs = kv.ts();
    const waiting = kv.call(KvMethod.pessimisticLock, {
      keys: [{ key: b("pl-k") }],
      primary: b("pl-k"),
      startTs: bTs,
      forUpdateTs: bTs,
      lockTtlMs: 3000,
      waitMode: "wait",
      returnValues: true,
    }) as Promise<PessimisticLockReply>;
    await waitUntil(() => kv.scheduler.stats().lockWaiters === 1);
    await kv.call(KvMethod.prewrite, {
      mutations: [{ kind: "put", key: b("pl-k"), value: b("from-a") }],
      primary: b("pl-k"),
      startTs: a,
      lockTtlMs: 3000,
      pessimistic: { forUpdateTs: a, locked: [true] },
    });
    await kv.call(KvMethod.commit, { keys: [b("pl-k")], startTs: a, commitTs: kv.ts() });
    const woken = await waiting;
    // B's for-update ts is below A's commit: it must retry with a newer one.
    assert.equal(woken.keyError?.kind, "writeConflict");
    const retryTs = kv.ts();
    const retry = (await kv.call(KvMethod.pessimisticLock, {
      keys: [{ key: b("pl-k") }],
      primary: b("pl-k"),
      startTs: bTs,
      forUpdateTs: retryTs,
      lockTtlMs: 3000,
      waitMode: "noWait",
      returnValues: true,
    })) as PessimisticLockReply;
    assert.deepEqual(retry.values.map(str), ["from-a"]);
    await kv.call(KvMethod.pessimisticRollback, {
      keys: [b("pl-k")],
      startTs: bTs,
      forUpdateTs: retryTs,
    });
    assert.equal(kv.scheduler.stats().lockWaiters, 0);
  });

  test("a lock wait times out with lockWaitTimeout", timeout, async () => {
    const a = kv.ts();
    await kv.call(KvMethod.pessimisticLock, {
      keys: [{ key: b("to-k") }],
      primary: b("to-k"),
      startTs: a,
      forUpdateTs: a,
      lockTtlMs: 3000,
      waitMode: "wait",
    });
    const bTs = kv.ts();
    const reply = (await kv.call(KvMethod.pessimisticLock, {
      keys: [{ key: b("to-k") }],
      primary: b("to-k"),
      startTs: bTs,
      forUpdateTs: bTs,
      lockTtlMs: 3000,
      waitMode: "wait",
      waitTimeoutMs: 50,
    })) as PessimisticLockReply;
    assert.equal(reply.keyError?.kind, "lockWaitTimeout");
    await kv.call(KvMethod.pessimisticRollback, { keys: [b("to-k")], startTs: a, forUpdateTs: a });
  });

  test("a deadlock between two pessimistic transactions is detected", timeout, async () => {
    const a = kv.ts();
    const bTs = kv.ts();
    const lock = (ts: Timestamp, key: string): Promise<PessimisticLockReply> =>
      kv.call(KvMethod.pessimisticLock, {
        keys: [{ key: b(key) }],
        primary: b(key),
        startTs: ts,
        forUpdateTs: ts,
        lockTtlMs: 3000,
        waitMode: "wait",
      }) as Promise<PessimisticLockReply>;
    assert.equal((await lock(a, "dl-1")).keyError, undefined);
    assert.equal((await lock(bTs, "dl-2")).keyError, undefined);
    const aWaits = lock(a, "dl-2");
    await waitUntil(() => kv.scheduler.stats().lockWaiters === 1);
    const bDeadlock = await lock(bTs, "dl-1");
    assert.equal(bDeadlock.keyError?.kind, "deadlock");
    if (bDeadlock.keyError?.kind === "deadlock") {
      assert.equal(bDeadlock.keyError.lockTs, a);
      const chain = bDeadlock.keyError.waitChain.map((e) => [e.waiterTs, e.holderTs]);
      assert.deepEqual(chain, [[bTs, a], [a, bTs]]);
    }
    // B gives up; A gets the key.
    await kv.call(KvMethod.pessimisticRollback, {
      keys: [b("dl-2")],
      startTs: bTs,
      forUpdateTs: bTs,
    });
    assert.equal((await aWaits).keyError, undefined);
    await kv.call(KvMethod.pessimisticRollback, {
      keys: [b("dl-1"), b("dl-2")],
      startTs: a,
      forUpdateTs: a,
    });
    assert.equal(kv.scheduler.stats().deadlocks, 1);
  });

  test("the coprocessor runs a registered handler over the shard's ranges", timeout, async () => {
    await put2pc(kv, { "cop-1": "x", "cop-2": "yy" });
    kv.coprocessor.register("test-count", (input) => {
      let n = 0;
      for (const range of input.ranges) {
        const result = input.scan(range, { limit: 1000 });
        if (result.kind === "locked") return result;
        n += result.pairs.length;
      }
      return { kind: "ok", data: Uint8Array.of(n) };
    });
    const reply = (await kv.call(KvMethod.coprocessor, {
      handler: "test-count",
      plan: new Uint8Array(0),
      ranges: [{ start: b("cop-"), end: b("cop-~") }],
      startTs: kv.ts(),
    })) as CoprocessorReply;
    assert.deepEqual([...reply.data], [2]);
    await rejects(
      kv.call(KvMethod.coprocessor, {
        handler: "nope",
        plan: new Uint8Array(0),
        ranges: [{ start: b("a"), end: b("b") }],
        startTs: kv.ts(),
      }),
      ErrorCode.KvRequestUnsupported,
    );
  });

  test("gc removes versions below the safe point and keeps the latest", timeout, async () => {
    await put2pc(kv, { "gc-k": "v1" });
    await put2pc(kv, { "gc-k": "v2" });
    const safePoint = kv.ts();
    const reply = (await kv.call(KvMethod.gc, { safePoint })) as GcReply;
    assert.ok(reply.deletedVersions >= 1);
    assert.equal(str((await get(kv, "gc-k", kv.ts())).value), "v2");
  });

  test("malformed bodies and other clusters are refused with typed errors", timeout, async () => {
    const e = await rejects(
      kv.call(KvMethod.get, { key: "not-bytes", version: 1n }),
      ErrorCode.KvRequestMalformed,
    );
    assert.equal(e.details["field"], "key");
    const p = await rejects(
      kv.call(KvMethod.prewrite, {
        mutations: [{ kind: "put", key: b("k") }],
        primary: b("k"),
        startTs: 5n,
        lockTtlMs: 1,
      }),
      ErrorCode.KvRequestMalformed,
    );
    assert.equal(p.details["field"], "mutations[0].value");
    await rejects(
      kv.client.call(KvMethod.get, {
        header: { clusterId: testClusterId + 1n },
        context: { shardId: 1, epoch: kv.shard().epoch },
        key: b("k"),
        version: 1n,
      }),
      ErrorCode.KvClusterIdMismatch,
    );
    const counts = kv.service.requestCounts()[KvMethod.get];
    assert.ok((counts?.error ?? 0) >= 2);
  });

  test("fuzzed request bodies get a reply or a typed error, never a crash", timeout, async () => {
    const methods = Object.values(KvMethod);
    const valid: Record<string, unknown> = {
      header: { clusterId: testClusterId },
      context: { shardId: 1, epoch: kv.shard().epoch },
      key: b("fz"),
      keys: [b("fz")],
      version: 5n,
      startTs: 5n,
      commitTs: 6n,
      primary: b("fz"),
      lockTtlMs: 10,
      mutations: [{ kind: "put", key: b("fz"), value: b("v") }],
    };
    const fieldValue = fc.oneof(
      fc.anything(),
      fc.uint8Array({ maxLength: 8 }),
      fc.bigInt({ min: -5n, max: 1n << 70n }),
      fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 3 }),
    );
    const body = fc.oneof(
      fc.anything(),
      fc.record({ field: fc.constantFrom(...Object.keys(valid)), value: fieldValue }).map(
        ({ field, value }) => ({ ...valid, [field]: value }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), body, async (method, value) => {
        try {
          const reply = await kv.client.call(method, value);
          assert.equal(typeof reply, "object");
        } catch (error) {
          assert.ok(error instanceof TesseraError, String(error));
          assert.notEqual(error.code, ErrorCode.RpcRemoteError, error.message);
        }
      }),
      { seed: 20240611, numRuns: 300 },
    );
    assert.equal(str((await get(kv, "2pc-a", kv.ts())).value), "A");
  });

  test("split: old epochs get epochNotMatch, keys outside get keyNotInShard", timeout, async () => {
    const old = kv.shard();
    const split = (await kv.call(KvMethod.split, { splitKeys: [b("m")] })) as SplitReply;
    assert.equal(split.shards.length, 2);
    const [left, right] = split.shards;
    assert.ok(left !== undefined && right !== undefined);
    const stale = (await kv.call(KvMethod.get, { key: b("a"), version: kv.ts() }, old)) as GetReply;
    assert.equal(stale.routeError?.kind, "epochNotMatch");
    if (stale.routeError?.kind === "epochNotMatch") {
      assert.deepEqual(stale.routeError.current.map((s) => s.id), [left.id, right.id]);
    }
    const outside = (await kv.call(
      KvMethod.prewrite,
      {
        mutations: [{ kind: "put", key: b("z"), value: b("v") }],
        primary: b("z"),
        startTs: kv.ts(),
        lockTtlMs: 10,
      },
      left,
    )) as PrewriteReply;
    assert.equal(outside.routeError?.kind, "keyNotInShard");
    const onRight = (await kv.call(
      KvMethod.get,
      { key: b("z"), version: kv.ts() },
      right,
    )) as GetReply;
    assert.equal(onRight.routeError, undefined);
    const missing = (await kv.call(
      KvMethod.get,
      { key: b("a"), version: kv.ts() },
      { ...left, id: 999 },
    )) as GetReply;
    assert.equal(missing.routeError?.kind, "shardNotFound");
    // A scan on the left shard stops at its end.
    const scan = (await kv.call(
      KvMethod.scan,
      { startKey: b("a"), endKey: new Uint8Array(0), limit: 1000, version: kv.ts() },
      left,
    )) as ScanReply;
    assert.ok(scan.pairs.every((p) => (str(p.key) ?? "") < "m"));
  });
});

/** Waits for `condition` (a deadline, not a timing assertion). */
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
