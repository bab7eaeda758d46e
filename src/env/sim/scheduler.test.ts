/**
 * Tests of `SimScheduler`: timer order and ties, the three ways of moving virtual time,
 * cancellation bookkeeping, and the guards against re-entrant runs and endless loops.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../base/mod.ts";
import { SimScheduler } from "./scheduler.ts";

const timeout = { timeout: 5_000 };

test("SimScheduler.advance() runs due timers by deadline, ties by scheduling", timeout, () => {
  const scheduler = new SimScheduler();
  const trace: string[] = [];
  scheduler.schedule(5, () => trace.push("b@5"));
  scheduler.schedule(3, () => trace.push("a@3"));
  scheduler.schedule(5, () => trace.push("c@5"));
  scheduler.schedule(9, () => trace.push("d@9"));
  assert.equal(scheduler.advance(8), 3);
  assert.deepEqual(trace, ["a@3", "b@5", "c@5"]);
  assert.equal(scheduler.monotonicMs(), 8);
  assert.equal(scheduler.pendingCount, 1);
});

test("SimScheduler.advance() runs timers scheduled by callbacks when due", timeout, () => {
  const scheduler = new SimScheduler();
  const trace: string[] = [];
  scheduler.schedule(2, () => {
    trace.push("outer start");
    scheduler.schedule(0, () => trace.push(`inner at ${scheduler.monotonicMs()}`));
    scheduler.schedule(10, () => trace.push("late"));
    trace.push("outer end");
  });
  scheduler.advance(5);
  assert.deepEqual(trace, ["outer start", "outer end", "inner at 2"]);
  assert.equal(scheduler.nextDeadlineMs(), 12);
});

test("SimScheduler rejects moving time from inside a callback", timeout, () => {
  const scheduler = new SimScheduler();
  scheduler.schedule(1, () => scheduler.advance(1));
  assert.throws(() => scheduler.advance(1), AssertionError);
  // The failed run released the scheduler: it can run again.
  scheduler.schedule(1, () => undefined);
  assert.equal(scheduler.advance(1), 1);
});

test("SimScheduler.runNext() jumps to the next deadline and runs one callback", timeout, () => {
  const scheduler = new SimScheduler();
  const trace: number[] = [];
  scheduler.schedule(30, () => trace.push(30));
  scheduler.schedule(10, () => trace.push(10));
  assert.equal(scheduler.runNext(), true);
  assert.deepEqual(trace, [10]);
  assert.equal(scheduler.monotonicMs(), 10);
  assert.equal(scheduler.runNext(), true);
  assert.equal(scheduler.monotonicMs(), 30);
  assert.equal(scheduler.runNext(), false);
  assert.equal(scheduler.monotonicMs(), 30);
});

test("SimScheduler.runUntilIdle() runs every timer and stops at the last deadline", timeout, () => {
  const scheduler = new SimScheduler();
  let chain = 0;
  const next = (): void => {
    chain++;
    if (chain < 5) scheduler.schedule(100, next);
  };
  scheduler.schedule(100, next);
  assert.equal(scheduler.runUntilIdle(), 5);
  assert.equal(scheduler.monotonicMs(), 500);
  assert.equal(scheduler.pendingCount, 0);
});

test("SimScheduler.runUntilIdle(limitMs) leaves later timers pending", timeout, () => {
  const scheduler = new SimScheduler();
  let ticks = 0;
  scheduler.scheduleInterval(10, () => ticks++);
  assert.equal(scheduler.runUntilIdle(35), 3);
  assert.equal(ticks, 3);
  assert.equal(scheduler.monotonicMs(), 30);
  assert.equal(scheduler.pendingCount, 1);
});

test("SimScheduler.runUntilIdle() without a limit refuses to spin on an interval", timeout, () => {
  const scheduler = new SimScheduler();
  scheduler.scheduleInterval(1, () => undefined);
  assert.throws(() => scheduler.runUntilIdle(), /setInterval/);
});

test("SimScheduler reports a livelock of zero-delay timers", timeout, () => {
  const scheduler = new SimScheduler();
  const spin = (): void => {
    scheduler.schedule(0, spin);
  };
  scheduler.schedule(0, spin);
  assert.throws(() => scheduler.advance(0), /livelock/);
});

test("SimScheduler: cancelled timers leave the count and the queue", timeout, () => {
  const scheduler = new SimScheduler();
  let fired = 0;
  const timers = Array.from({ length: 200 }, (_, i) => scheduler.schedule(i + 1, () => fired++));
  for (const timer of timers.slice(0, 150)) timer.cancel();
  assert.equal(scheduler.pendingCount, 50);
  assert.equal(scheduler.nextDeadlineMs(), 151);
  scheduler.advance(1000);
  assert.equal(fired, 50);
  assert.equal(scheduler.pendingCount, 0);
});

test("SimScheduler: a throwing callback propagates, time stays at its deadline", timeout, () => {
  const scheduler = new SimScheduler();
  let laterFired = false;
  scheduler.schedule(4, () => {
    throw new Error("boom");
  });
  scheduler.schedule(6, () => (laterFired = true));
  assert.throws(() => scheduler.advance(10), /boom/);
  assert.equal(scheduler.monotonicMs(), 4);
  assert.equal(laterFired, false);
  scheduler.advance(6);
  assert.equal(laterFired, true);
});

test("SimScheduler rejects non-finite delays and non-positive intervals", timeout, () => {
  const scheduler = new SimScheduler();
  assert.throws(() => scheduler.schedule(Number.NaN, () => undefined), AssertionError);
  assert.throws(() => scheduler.scheduleInterval(0, () => undefined), AssertionError);
  assert.throws(() => scheduler.advance(-1), AssertionError);
  scheduler.schedule(-5, () => undefined);
  assert.equal(scheduler.nextDeadlineMs(), 0);
});
