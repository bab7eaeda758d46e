/**
 * Tests of the pure base library: assertions, typed errors, the seeded PRNG, branded ids
 * and TSO timestamps.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AssertionError,
  ErrorCode,
  Prng,
  TesseraError,
  asTimestamp,
  assert as tesseraAssert,
  composeTimestamp,
  decomposeTimestamp,
  describeError,
  formatTimestamp,
  hasErrorCode,
  limits,
  logicalMax,
  maxOfTimestamps,
  physicalMsMax,
  shardId,
  storeId,
  unreachable,
} from "./mod.ts";

const opts = { timeout: 30_000 };

test("assert() throws AssertionError with the message when the condition is false", opts, () => {
  assert.throws(() => tesseraAssert(false, "broken invariant"), {
    name: "AssertionError",
    message: "broken invariant",
  });
  tesseraAssert(1 + 1 === 2, "arithmetic");
});

test("unreachable() throws AssertionError naming the escaped value", opts, () => {
  assert.throws(() => unreachable("surprise" as never, "kind"), (e: unknown) => {
    return e instanceof AssertionError && e.message.includes("kind surprise");
  });
});

test("TesseraError carries a stable code, ambiguity and details", opts, () => {
  const cause = new Error("socket reset");
  const e = new TesseraError(ErrorCode.RpcConnectionClosed, "connection closed", {
    cause,
    ambiguous: true,
    details: { peer: "127.0.0.1:1" },
  });
  assert.equal(e.code, "RPC:Connection:Closed");
  assert.equal(e.ambiguous, true);
  assert.deepEqual(e.details, { peer: "127.0.0.1:1" });
  assert.equal(e.cause, cause);
  assert.ok(hasErrorCode(e, ErrorCode.RpcConnectionClosed));
  assert.ok(!hasErrorCode(e, ErrorCode.RpcDeadlineExceeded));
  assert.ok(!hasErrorCode(new Error("x"), ErrorCode.RpcConnectionClosed));
  assert.equal(new TesseraError(ErrorCode.ConfigParse, "m").ambiguous, false);
  assert.equal(describeError(e), "TesseraError: connection closed");
  assert.equal(describeError("plain"), "plain");
});

test("error codes are unique and shaped Component:Area[:Name]", opts, () => {
  const codes = Object.values(ErrorCode);
  assert.equal(new Set(codes).size, codes.length);
  for (const code of codes) assert.match(code, /^[A-Za-z]+(:[A-Za-z]+){1,2}$/);
});

test("limits are positive integers", opts, () => {
  for (const [name, value] of Object.entries(limits)) {
    assert.ok(Number.isSafeInteger(value) && value > 0, `${name} = ${value}`);
  }
});

test("Prng gives the same sequence for the same seed and another for another", opts, () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const seqA = Array.from({ length: 16 }, () => a.nextUint32());
  const seqB = Array.from({ length: 16 }, () => b.nextUint32());
  const seqC = Array.from({ length: 16 }, () => c.nextUint32());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
  for (const x of seqA) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
});

test("Prng sequence is pinned so that recorded seeds replay across versions", opts, () => {
  // Recorded when the generator was written; a change here breaks every saved failing seed.
  const p = new Prng(1);
  assert.deepEqual(
    Array.from({ length: 4 }, () => p.nextUint32()),
    [2442144158, 3238099751, 3819917871, 2104621829],
  );
});

test("Prng.nextInt stays in range and is roughly uniform", opts, () => {
  const p = new Prng(7);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const x = p.nextInt(10);
    assert.ok(x >= 0 && x < 10);
    counts[x] = (counts[x] ?? 0) + 1;
  }
  for (const n of counts) assert.ok(n > 9_000 && n < 11_000, `bucket count ${n}`);
  assert.throws(() => p.nextInt(0), RangeError);
  assert.throws(() => p.nextInt(1.5), RangeError);
  const big = p.nextInt(2 ** 40);
  assert.ok(big >= 0 && big < 2 ** 40);
});

test("Prng.nextFloat is in [0, 1); nextRange is inclusive", opts, () => {
  const p = new Prng(9);
  let sawMin = false;
  let sawMax = false;
  for (let i = 0; i < 10_000; i++) {
    const f = p.nextFloat();
    assert.ok(f >= 0 && f < 1);
    const r = p.nextRange(3, 5);
    assert.ok(r >= 3 && r <= 5);
    if (r === 3) sawMin = true;
    if (r === 5) sawMax = true;
  }
  assert.ok(sawMin && sawMax);
});

test("Prng.shuffle permutes, pick chooses a member, bytes has the length", opts, () => {
  const p = new Prng(11);
  const items = [1, 2, 3, 4, 5, 6, 7, 8];
  const shuffled = p.shuffle([...items]);
  assert.deepEqual([...shuffled].sort((x, y) => x - y), items);
  assert.ok(items.includes(p.pick(items)));
  assert.throws(() => p.pick([]), RangeError);
  assert.equal(p.nextBytes(7).length, 7);
  const forked = p.fork();
  assert.notEqual(forked.nextUint32(), p.nextUint32());
});

test("branded id constructors reject non-positive and non-integer ids", opts, () => {
  assert.equal(storeId(1), 1);
  assert.equal(shardId(2 ** 40), 2 ** 40);
  assert.throws(() => storeId(0), RangeError);
  assert.throws(() => shardId(-1), RangeError);
  assert.throws(() => shardId(1.5), RangeError);
});

test("Timestamp composes physicalMs << 18 | logical and decomposes back", opts, () => {
  const ts = composeTimestamp(1_700_000_000_123, 7);
  assert.equal(ts, (1_700_000_000_123n << 18n) | 7n);
  assert.deepEqual(decomposeTimestamp(ts), { physicalMs: 1_700_000_000_123, logical: 7 });
  const top = composeTimestamp(physicalMsMax, logicalMax);
  assert.equal(top, 0xffff_ffff_ffff_ffffn);
  assert.deepEqual(decomposeTimestamp(top), { physicalMs: physicalMsMax, logical: logicalMax });
});

test("Timestamp order is time order: logical ticks sort below the next millisecond", opts, () => {
  const a = composeTimestamp(1000, logicalMax);
  const b = composeTimestamp(1001, 0);
  assert.ok(a < b);
  assert.equal(maxOfTimestamps(a, b), b);
  assert.equal(maxOfTimestamps(b, a), b);
});

test("Timestamp rejects out-of-range parts and values", opts, () => {
  assert.throws(() => composeTimestamp(-1, 0), RangeError);
  assert.throws(() => composeTimestamp(physicalMsMax + 1, 0), RangeError);
  assert.throws(() => composeTimestamp(0, logicalMax + 1), RangeError);
  assert.throws(() => composeTimestamp(0, 0.5), RangeError);
  assert.throws(() => asTimestamp(-1n), RangeError);
  assert.throws(() => asTimestamp(1n << 64n), RangeError);
  assert.equal(asTimestamp(5n), 5n);
});

test("formatTimestamp prints the physical time as ISO and the logical part", opts, () => {
  const ts = composeTimestamp(Date.UTC(2026, 10, 25, 16, 28, 0, 123), 9);
  assert.equal(formatTimestamp(ts), "2026-11-25T16:28:00.123Z (logical 9)");
});
