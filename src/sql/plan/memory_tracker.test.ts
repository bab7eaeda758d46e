/**
 * The per-query memory tracker: consume / release / peak, the quota failing with TiDB's
 * 8175 (and no limit at 0 or below), scopes releasing what one operator run held, and
 * the size estimates of values and rows.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Value } from "../../expr/mod.ts";
import { MySqlError } from "../mysql_errors.ts";
import {
  MemoryScope,
  MemoryTracker,
  isMemQuotaError,
  keyBytes,
  memQuotaExceeded,
  rowBytes,
  rowsBytes,
  valueBytes,
} from "./memory_tracker.ts";

const opts = { timeout: 10_000 };

test("consume and release move the bytes held; the peak keeps the highest", opts, () => {
  const t = new MemoryTracker({ quota: 1000, connectionId: 7 });
  t.consume(300);
  t.consume(200);
  assert.equal(t.consumed, 500);
  t.release(400);
  assert.equal(t.consumed, 100);
  t.consume(100);
  assert.equal(t.consumed, 200);
  assert.equal(t.peak, 500);
  t.release(10_000);
  assert.equal(t.consumed, 0, "never below zero");
  t.consume(0);
  t.consume(-5);
  assert.equal(t.consumed, 0);
});

test("passing the quota fails with 8175 naming the connection, keeping nothing", opts, () => {
  const t = new MemoryTracker({ quota: 1000, connectionId: 42 });
  t.consume(1000);
  assert.throws(() => t.consume(1), (error: unknown) => {
    assert.ok(error instanceof MySqlError);
    assert.equal(error.errno, 8175);
    assert.equal(error.sqlState, "HY000");
    assert.equal(error.message, "Your query has been cancelled due to exceeding the allowed " +
      "memory limit for a single SQL query. Please try narrowing your query scope or " +
      "increase the tidb_mem_quota_query limit and try again.[conn=42]");
    return true;
  });
  assert.equal(t.consumed, 1000);
  assert.equal(t.peak, 1000);
  t.releaseAll();
  assert.equal(t.consumed, 0);
  t.consume(900);
  assert.equal(memQuotaExceeded(3).message.endsWith("[conn=3]"), true);
});

test("a quota of 0 or less is no limit", opts, () => {
  for (const quota of [0, -1]) {
    const t = new MemoryTracker({ quota, connectionId: 1 });
    t.consume(2 ** 40);
    assert.equal(t.peak, 2 ** 40);
  }
});

test("a scope releases everything it consumed on close, and hands over", opts, () => {
  const t = new MemoryTracker({ quota: 1000, connectionId: 1 });
  t.consume(100);
  const s = t.scope();
  s.consume(300);
  s.consume(200);
  s.release(100);
  assert.equal(s.held, 400);
  assert.equal(t.consumed, 500);
  s.release(10_000);
  assert.equal(t.consumed, 100, "a scope releases no more than it holds");
  s.consume(250);
  const inner = new MemoryScope(s);
  inner.consume(50);
  assert.equal(s.held, 300);
  inner.close();
  assert.equal(s.held, 250);
  const handed = s.handOver();
  assert.equal(handed, 250);
  assert.equal(s.held, 0);
  s.close();
  assert.equal(t.consumed, 350, "handed-over bytes stay held");
  const taker = t.scope();
  taker.adopt(handed);
  taker.close();
  assert.equal(t.consumed, 100);
  const failing = t.scope();
  assert.throws(() => failing.consume(901), { errno: 8175 });
  assert.equal(failing.held, 0);
  assert.equal(t.peak, 600);
});

test("size estimates grow with the payload", opts, () => {
  const short: Value = { kind: "string", value: "ab" };
  const long: Value = { kind: "string", value: "x".repeat(1000) };
  assert.ok(valueBytes(long) - valueBytes(short) >= 998);
  assert.ok(valueBytes(null) > 0);
  const values: Value[] = [null, { kind: "int", value: 1n }, { kind: "uint", value: 2n },
    { kind: "decimal", unscaled: 1n, scale: 1 }, { kind: "double", value: 1.5 }, short];
  for (const v of values) assert.ok(valueBytes(v) > 0);
  const row = values;
  assert.equal(rowBytes(row), rowBytes([]) + 8 * row.length +
    row.reduce((n, v) => n + valueBytes(v), 0));
  assert.equal(rowsBytes([row, row]), rowsBytes([]) + 16 + 2 * rowBytes(row));
  assert.ok(keyBytes("abcd") > keyBytes("a"));
});

test("spilling operators ask whether bytes would pass the spill threshold", opts, () => {
  const t = new MemoryTracker({ quota: 1000, connectionId: 7 });
  t.consume(700);
  assert.equal(t.wouldPass(100), false);
  assert.equal(t.wouldPass(101), true);
  assert.equal(t.wouldPass(100, 0.5), true);
  assert.equal(t.headroom(), 100);
  t.consume(200);
  assert.equal(t.headroom(), 0);
  const unlimited = new MemoryTracker({ quota: 0, connectionId: 7 });
  unlimited.consume(1e12);
  assert.equal(unlimited.wouldPass(1e12), false);
  assert.equal(unlimited.headroom(), Infinity);
  assert.ok(isMemQuotaError(memQuotaExceeded(7)));
  assert.equal(isMemQuotaError(new Error("other")), false);
  const killed = new AbortController();
  const k = new MemoryTracker({ quota: 0, connectionId: 7, signal: killed.signal });
  k.checkKilled();
  killed.abort(new Error("1317"));
  assert.throws(() => k.checkKilled(), /1317/);
});
