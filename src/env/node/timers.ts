/**
 * `NodeTimers`: timers on Node's event loop, held to the `Timers` contract.
 *
 * Node's own timers fall short of it in three ways: they measure delays on the event
 * loop's millisecond-truncated time, so they can fire up to a millisecond early by
 * `performance.now()`; they keep one list per distinct delay, so when the loop runs late
 * a 20 ms timer can run before a 0 ms timer that was due earlier; and they fire after
 * 1 ms when asked for more than 2^31 - 1 ms. So `NodeTimers` keeps its own `TimerQueue`
 * (the one the simulator uses) with deadlines on `performance.now()` (the clock of
 * `NodeClock.monotonicMs`), and one Node timer armed for the earliest deadline. When it
 * fires, every timer due by then runs, earliest first, ties in scheduling order; timers
 * scheduled by those callbacks wait for the next turn of the event loop. A timer thus
 * runs no earlier than its deadline, and never from inside the call that scheduled it.
 *
 * Timers due together run back to back: promise reactions they trigger run after the
 * last of them, as in the simulator. A callback that throws is an uncaught exception, as
 * with Node's own timers; the timers still due run on the next turn. While any timer is
 * pending, the armed Node timer keeps the process alive.
 */
import { assert } from "../../base/mod.ts";
import type { Timer, Timers } from "../env.ts";
import { sleepOnTimer } from "../sleep.ts";
import { TimerQueue } from "../timer_queue.ts";

/** The longest delay Node's `setTimeout` honours (a signed 32-bit millisecond count). */
const nodeDelayMsMax = 2 ** 31 - 1;

/** Timers on the real event loop, on `performance.now()` time. */
export class NodeTimers implements Timers {
  private readonly queue = new TimerQueue({ onCancel: () => this.disarmIfIdle() });
  /** The Node timer armed for the earliest deadline, if any. */
  private handle: NodeJS.Timeout | undefined;
  /** The deadline `handle` was armed for. */
  private armedDeadlineMs = Number.POSITIVE_INFINITY;

  setTimeout(delayMs: number, callback: () => void): Timer {
    assert(Number.isFinite(delayMs), `Timers.setTimeout: delayMs is not finite: ${delayMs}`);
    const timer = this.queue.add(performance.now() + Math.max(delayMs, 0), undefined, callback);
    this.arm();
    return timer;
  }

  setInterval(intervalMs: number, callback: () => void): Timer {
    assert(
      Number.isFinite(intervalMs) && intervalMs > 0,
      `Timers.setInterval: intervalMs must be finite and positive, got ${intervalMs}`,
    );
    const timer = this.queue.add(performance.now() + intervalMs, intervalMs, callback);
    this.arm();
    return timer;
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOnTimer((ms, callback) => this.setTimeout(ms, callback), delayMs, signal);
  }

  /** Makes sure a Node timer fires no later than the earliest pending deadline. */
  private arm(): void {
    const next = this.queue.peek();
    if (next === undefined) return;
    if (this.handle !== undefined) {
      if (this.armedDeadlineMs <= next.deadlineMs) return;
      globalThis.clearTimeout(this.handle);
    }
    const delayMs = Math.ceil(next.deadlineMs - performance.now());
    this.armedDeadlineMs = next.deadlineMs;
    this.handle = globalThis.setTimeout(this.fire, Math.min(Math.max(delayMs, 0), nodeDelayMsMax));
  }

  /** Lets the process exit once nothing is pending. */
  private disarmIfIdle(): void {
    if (this.queue.pendingCount > 0 || this.handle === undefined) return;
    globalThis.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedDeadlineMs = Number.POSITIVE_INFINITY;
  }

  /** Runs the timers due now, in order, then re-arms for the next. */
  private readonly fire = (): void => {
    this.handle = undefined;
    this.armedDeadlineMs = Number.POSITIVE_INFINITY;
    const nowMs = performance.now();
    const seqEnd = this.queue.nextSeq;
    try {
      for (;;) {
        const next = this.queue.peek();
        if (next === undefined || next.deadlineMs > nowMs || next.seq >= seqEnd) break;
        this.queue.take(nowMs)();
      }
    } finally {
      this.arm();
    }
  };
}
