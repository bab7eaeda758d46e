/**
 * Table-driven tests of the concurrency state machines — latches, concurrency manager,
 * lock wait queue and deadlock detector. Each case feeds a list of events and expects the
 * trace of outputs, one line per event.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Timestamp, hasErrorCode } from "../../base/mod.ts";
import { describeKey } from "../mvcc/describe.ts";
import { makeLock } from "../mvcc/lock.ts";
import { SortedMapReader } from "../mvcc/test_reader.ts";
import { ConcurrencyManager } from "./concurrency_manager.ts";
import { DeadlockDetector } from "./deadlock_detector.ts";
import { type TxnFailure, failureToError } from "./failure.ts";
import { keyHash } from "./key_hash.ts";
import { Latches } from "./latches.ts";
import { type LockWaitEvent, LockWaitQueue } from "./lock_wait_queue.ts";
import { prewrite } from "./prewrite.ts";
import { readKey, readRange } from "./read.ts";

const opts = { timeout: 5_000 };
const enc = new TextEncoder();
const ts = (n: number): Timestamp => BigInt(n) as Timestamp;

test("Latches serialize commands on shared slots and wake the next in line", opts, () => {
  const latches = new Latches(8);
  const trace: string[] = [];
  const acquire = (id: number, hashes: number[]): void => {
    trace.push(`acquire ${id} [${hashes.join(",")}] -> ${latches.acquire(id, hashes)}`);
  };
  const release = (id: number): void => {
    trace.push(`release ${id} -> wake [${latches.release(id).join(",")}]`);
  };
  acquire(1, [1, 2]);
  acquire(2, [2, 3]); // waits on slot 2
  acquire(3, [9, 4]); // slot 9 & 7 = 1: waits on slot 1
  acquire(4, [5]); // independent
  release(1);
  acquire(2, [2, 3]);
  acquire(3, [9, 4]);
  release(2);
  release(3);
  release(4);
  release(4);
  assert.deepEqual(trace, [
    "acquire 1 [1,2] -> acquired",
    "acquire 2 [2,3] -> waiting",
    "acquire 3 [9,4] -> waiting",
    "acquire 4 [5] -> acquired",
    "release 1 -> wake [3,2]",
    "acquire 2 [2,3] -> acquired",
    "acquire 3 [9,4] -> acquired",
    "release 2 -> wake []",
    "release 3 -> wake []",
    "release 4 -> wake []",
    "release 4 -> wake []",
  ]);
  assert.equal(latches.commandCount, 0);
});

test("Latches let a waiting command leave its queue on release", opts, () => {
  const latches = new Latches(4);
  assert.equal(latches.acquire(1, [0]), "acquired");
  assert.equal(latches.acquire(2, [0]), "waiting");
  assert.equal(latches.acquire(3, [0]), "waiting");
  assert.deepEqual(latches.release(2), []);
  assert.deepEqual(latches.release(1), [3]);
  assert.equal(latches.acquire(3, [0]), "acquired");
  assert.throws(() => new Latches(6), /power of two/);
});

test("ConcurrencyManager tracks max read ts and memory locks block readers", opts, () => {
  const cm = new ConcurrencyManager(ts(5), 2);
  const engine = new SortedMapReader();
  const key = enc.encode("a");
  const trace: string[] = [];
  const read = (readTs: number): void => {
    const r = readKey(cm, engine, { key, readTs: ts(readTs) });
    trace.push(`read@${readTs} -> ${r.kind} maxReadTs=${cm.maxReadTs}`);
  };
  read(3);
  read(20);
  // An async-commit prewrite computes min commit ts from the max read ts, installs its
  // memory lock, and only later are the writes applied.
  const result = prewrite(engine, {
    mutations: [{ kind: "put", key, value: enc.encode("v") }],
    primary: key,
    startTs: ts(10),
    lockTtlMs: 100,
    commitMode: { kind: "asyncCommit", secondaries: [], maxCommitTs: ts(0) },
    maxReadTs: cm.maxReadTs,
  });
  assert.equal(result.outcome.kind, "prewritten");
  if (result.outcome.kind !== "prewritten") return;
  trace.push(`prewrite minCommitTs=${result.outcome.minCommitTs}`);
  const added = cm.addMemoryLocks(result.outcome.memoryLocks);
  assert.equal(added.kind, "ok");
  read(20);
  read(21);
  const range = readRange(cm, engine, { readTs: ts(30), limit: 10 });
  trace.push(`scan@30 -> ${range.kind}`);
  const other = makeLock({ kind: "put", primary: key, startTs: ts(1), ttlMs: 1 });
  const two = [
    { key: enc.encode("b"), lock: other },
    { key: enc.encode("c"), lock: other },
  ];
  trace.push(`full -> ${cm.addMemoryLocks(two).kind}`);
  if (added.kind === "ok") cm.removeMemoryLocks(added.handle);
  read(21);
  assert.deepEqual(trace, [
    "read@3 -> ok maxReadTs=5",
    "read@20 -> ok maxReadTs=20",
    "prewrite minCommitTs=21",
    "read@20 -> ok maxReadTs=20",
    "read@21 -> locked maxReadTs=21",
    "scan@30 -> locked",
    "full -> full",
    "read@21 -> ok maxReadTs=30",
  ]);
  assert.equal(cm.memoryLockCount, 0);
});

function describeEvents(events: readonly LockWaitEvent[]): string {
  return events.map((e) => `${e.kind}(${e.waiter.waiterId})`).join(" ");
}

test("LockWaitQueue wakes the oldest waiter first, the rest later, and times out", opts, () => {
  const queue = new LockWaitQueue({ waitersMax: 4, wakeUpDelayMs: 10 });
  const k = enc.encode("k");
  const other = enc.encode("o");
  const wait = (waiterId: number, startTs: number, key: Uint8Array, deadlineMs: number): string =>
    `wait ${waiterId} on ${describeKey(key)} -> ${
      queue.wait({ waiterId, startTs: ts(startTs), key, holderTs: ts(1), deadlineMs }).kind
    }`;
  const trace: string[] = [
    wait(1, 30, k, 1000),
    wait(2, 20, k, 1000),
    wait(3, 40, k, 1000),
    wait(4, 50, other, 100),
    wait(5, 60, other, 100),
    `release k @0 -> ${describeEvents(queue.release(k, 0))}`,
    `next due ${queue.nextDueMs()}`,
    `tick @5 -> ${describeEvents(queue.tick(5))}`,
    `tick @10 -> ${describeEvents(queue.tick(10))}`,
    `tick @100 -> ${describeEvents(queue.tick(100))}`,
    `release k @200 -> ${describeEvents(queue.release(k, 200))}`,
    `cancel 9 -> ${queue.cancel(9)}`,
    `size ${queue.size}`,
  ];
  assert.deepEqual(trace, [
    "wait 1 on k -> queued",
    "wait 2 on k -> queued",
    "wait 3 on k -> queued",
    "wait 4 on o -> queued",
    "wait 5 on o -> full",
    "release k @0 -> wokenUp(2)",
    "next due 10",
    "tick @5 -> ",
    "tick @10 -> wokenUp(1) wokenUp(3)",
    "tick @100 -> timedOut(4)",
    "release k @200 -> ",
    "cancel 9 -> false",
    "size 0",
  ]);
});

test("DeadlockDetector finds a cycle across keys, cleans up and expires edges", opts, () => {
  const detector = new DeadlockDetector({ edgesMax: 3, edgeTtlMs: 100 });
  const trace: string[] = [];
  const detect = (waiter: number, holder: number, hash: number, nowMs: number): void => {
    const r = detector.detect({ waiterTs: ts(waiter), holderTs: ts(holder), keyHash: hash }, nowMs);
    const chain =
      r.kind === "deadlock"
        ? ` ${r.waitChain.map((e) => `${e.waiterTs}->${e.holderTs}#${e.keyHash}`).join(" ")}`
        : "";
    trace.push(`detect ${waiter}->${holder}#${hash} @${nowMs} -> ${r.kind}${chain}`);
  };
  detect(1, 2, 10, 0);
  detect(2, 3, 11, 0);
  detect(3, 1, 12, 0); // 3 -> 1 -> 2 -> 3
  detect(4, 1, 13, 0);
  detect(5, 4, 14, 0); // graph full
  detector.cleanUpWaitFor({ waiterTs: ts(2), holderTs: ts(3), keyHash: 11 });
  detect(3, 1, 12, 1); // no cycle now
  detector.cleanUp(ts(1));
  detect(2, 4, 15, 50);
  detect(4, 2, 16, 140); // the edge 2->4 is still live (added at 50)
  detect(3, 2, 17, 300); // everything older has expired
  detector.expire(300);
  trace.push(`size ${detector.size}`);
  assert.deepEqual(trace, [
    "detect 1->2#10 @0 -> ok",
    "detect 2->3#11 @0 -> ok",
    "detect 3->1#12 @0 -> deadlock 3->1#12 1->2#10 2->3#11",
    "detect 4->1#13 @0 -> ok",
    "detect 5->4#14 @0 -> full",
    "detect 3->1#12 @1 -> ok",
    "detect 2->4#15 @50 -> ok",
    "detect 4->2#16 @140 -> deadlock 4->2#16 2->4#15",
    "detect 3->2#17 @300 -> ok",
    "size 1",
  ]);
});

test("keyHash is FNV-1a and stable", opts, () => {
  assert.equal(keyHash(new Uint8Array()), 0x811c9dc5);
  assert.equal(keyHash(enc.encode("a")), 0xe40c292c);
});

test("every failure maps to its typed error code", opts, () => {
  const key = enc.encode("k");
  const lock = makeLock({ kind: "put", primary: key, startTs: ts(1), ttlMs: 1 });
  const cases: [TxnFailure, string][] = [
    [{ kind: "keyIsLocked", key, lock }, "KV:Txn:KeyIsLocked"],
    [
      {
        kind: "writeConflict",
        key,
        startTs: ts(1),
        conflictStartTs: ts(2),
        conflictCommitTs: ts(3),
        reason: "optimistic",
      },
      "KV:Txn:WriteConflict",
    ],
    [{ kind: "alreadyExist", key }, "KV:Txn:AlreadyExist"],
    [{ kind: "txnLockNotFound", key, startTs: ts(1) }, "KV:Txn:TxnLockNotFound"],
    [{ kind: "pessimisticLockNotFound", key, startTs: ts(1) }, "KV:Txn:PessimisticLockNotFound"],
    [
      { kind: "commitTsExpired", key, startTs: ts(1), commitTs: ts(2), minCommitTs: ts(3) },
      "KV:Txn:CommitTsExpired",
    ],
    [{ kind: "txnNotFound", key, startTs: ts(1) }, "KV:Txn:TxnNotFound"],
    [
      { kind: "cannotRollbackCommitted", key, startTs: ts(1), commitTs: ts(2) },
      "KV:Txn:Committed",
    ],
  ];
  for (const [failure, code] of cases) {
    const error = failureToError(failure);
    assert.equal(error.code, code);
    assert.ok(hasErrorCode(error, error.code));
  }
});
