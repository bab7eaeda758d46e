/**
 * Tests of `TimerQueue`: the ordering both `Timers` implementations rely on, and how an
 * interval is re-queued when its process ran late.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../base/mod.ts";
import { TimerQueue } from "./timer_queue.ts";

const timeout = { timeout: 5_000 };

test("TimerQueue orders by deadline, then by order of addition", timeout, () => {
  const queue = new TimerQueue();
  const ran: string[] = [];
  queue.add(5, undefined, () => ran.push("b"));
  queue.add(1, undefined, () => ran.push("a"));
  queue.add(5, undefined, () => ran.push("c"));
  while (queue.peek() !== undefined) queue.take(10)();
  assert.deepEqual(ran, ["a", "b", "c"]);
  assert.equal(queue.pendingCount, 0);
});

test("TimerQueue.take() re-queues an interval one interval after its deadline", timeout, () => {
  const queue = new TimerQueue();
  queue.add(10, 10, () => undefined);
  queue.take(10);
  assert.equal(queue.peek()?.deadlineMs, 20);
  assert.equal(queue.pendingCount, 1);
});

test("TimerQueue.take() skips the runs a late interval missed", timeout, () => {
  const queue = new TimerQueue();
  queue.add(10, 10, () => undefined);
  queue.take(55);
  assert.equal(queue.peek()?.deadlineMs, 65);
});

test("TimerQueue calls onCancel only when a pending timer is cancelled", timeout, () => {
  let cancels = 0;
  const queue = new TimerQueue({ onCancel: () => cancels++ });
  const timer = queue.add(1, undefined, () => undefined);
  queue.take(1);
  timer.cancel();
  assert.equal(cancels, 0);
  queue.add(1, undefined, () => undefined).cancel();
  assert.equal(cancels, 1);
  assert.equal(queue.peek(), undefined);
});

test("TimerQueue.take() on an empty queue is a bug", timeout, () => {
  assert.throws(() => new TimerQueue().take(0), AssertionError);
});
