/**
 * `SimScheduler`: virtual time and the queue of timers for deterministic simulation.
 *
 * Virtual monotonic time starts at 0 and moves only when a test (or a simulation driver)
 * calls `advance`, `runNext` or `runUntilIdle`; virtual wall time is `wallStartMs` plus
 * virtual monotonic time. Timers run in deadline order, timers with equal deadlines in the
 * order they were scheduled (an interval's next run counts as scheduled when its previous
 * run starts), exactly as `NodeTimers` orders them (both use `TimerQueue`), and each
 * callback sees the clock at its own deadline. Callbacks run only from those three
 * methods, one at a time, never from inside the call that scheduled them; calling one of
 * them from inside a callback is a bug and throws an `AssertionError`. A callback that
 * throws stops the run and the error propagates to the caller; the clock stays at that
 * callback's deadline.
 *
 * The scheduler is synchronous: promise reactions triggered by callbacks (a `sleep`
 * resolving) run after `advance` returns, when the caller awaits. Tests therefore drive
 * time with `advance(ms)` and then `await` what they are waiting for.
 *
 * The scheduler owns all virtual time: a `SimClock` and `SimTimers` only read and feed it.
 */
import { AssertionError, assert } from "../../base/mod.ts";
import type { Timer } from "../env.ts";
import { TimerQueue } from "../timer_queue.ts";

/**
 * Callbacks run at one virtual instant before the scheduler declares a livelock (timers
 * that keep re-scheduling themselves with no delay). Without a bound such a loop would
 * hang the test process, where no test timeout can interrupt it.
 */
const sameInstantCallbacksMax = 100_000;

/**
 * Callbacks `runUntilIdle` runs without a `limitMs` before it gives up: a pending
 * `setInterval` means the queue is never idle, and the run must be bounded by time.
 */
const unlimitedRunCallbacksMax = 1_000_000;

/** Virtual wall time at virtual time 0 unless told otherwise: 2025-01-01T00:00:00Z. */
const wallStartMsDefault = Date.UTC(2025, 0, 1);

export interface SimSchedulerOptions {
  /** Virtual wall time at virtual monotonic time 0, in ms since the Unix epoch. */
  readonly wallStartMs?: number;
}

/** Virtual time and its timer queue. See the file comment for the rules. */
export class SimScheduler {
  /** Virtual wall time at virtual monotonic time 0, in ms since the Unix epoch. */
  readonly wallStartMs: number;
  private nowMs = 0;
  private readonly queue = new TimerQueue();
  private running = false;

  constructor(options: SimSchedulerOptions = {}) {
    this.wallStartMs = options.wallStartMs ?? wallStartMsDefault;
  }

  /** Virtual monotonic time in ms; starts at 0. */
  monotonicMs(): number {
    return this.nowMs;
  }

  /** Virtual wall time in ms since the Unix epoch. */
  wallMs(): number {
    return this.wallStartMs + this.nowMs;
  }

  /** Timers scheduled and neither fired (one-shot) nor cancelled. */
  get pendingCount(): number {
    return this.queue.pendingCount;
  }

  /** The virtual time at which the next timer is due, or undefined if none is pending. */
  nextDeadlineMs(): number | undefined {
    return this.queue.peek()?.deadlineMs;
  }

  /** Calls `callback` once at virtual time now + `delayMs` (a negative delay counts as 0). */
  schedule(delayMs: number, callback: () => void): Timer {
    assert(Number.isFinite(delayMs), `SimScheduler.schedule: delayMs is not finite: ${delayMs}`);
    return this.queue.add(this.nowMs + Math.max(delayMs, 0), undefined, callback);
  }

  /** Calls `callback` every `intervalMs` of virtual time, first at now + `intervalMs`. */
  scheduleInterval(intervalMs: number, callback: () => void): Timer {
    assert(
      Number.isFinite(intervalMs) && intervalMs > 0,
      `SimScheduler.scheduleInterval: intervalMs must be finite and positive, got ${intervalMs}`,
    );
    return this.queue.add(this.nowMs + intervalMs, intervalMs, callback);
  }

  /**
   * Moves virtual time forward by `ms`, running every timer due by then (including ones
   * scheduled by callbacks during the run) in order. Returns the number of callbacks run.
   */
  advance(ms: number): number {
    assert(Number.isFinite(ms) && ms >= 0, `SimScheduler.advance: bad duration ${ms}`);
    const targetMs = this.nowMs + ms;
    const ran = this.run(targetMs, Number.POSITIVE_INFINITY);
    this.nowMs = targetMs;
    return ran;
  }

  /**
   * Moves virtual time to the next pending timer's deadline and runs that one callback.
   * Returns false, leaving time alone, if no timer is pending.
   */
  runNext(): boolean {
    return this.run(Number.POSITIVE_INFINITY, 1) === 1;
  }

  /**
   * Runs timers in order until none is pending, or until the next one is due more than
   * `limitMs` after the current virtual time. Time stops at the last callback's deadline;
   * it is not moved to the limit. Returns the number of callbacks run. Without `limitMs`,
   * a pending `setInterval` keeps the queue busy forever, so the run then gives up with an
   * `AssertionError` after a million callbacks.
   */
  runUntilIdle(limitMs?: number): number {
    if (limitMs === undefined) {
      const ran = this.run(Number.POSITIVE_INFINITY, unlimitedRunCallbacksMax);
      if (ran === unlimitedRunCallbacksMax && this.queue.peek() !== undefined) {
        throw new AssertionError(
          `SimScheduler.runUntilIdle: not idle after ${ran} callbacks; ` +
            "a setInterval is probably pending: pass limitMs",
        );
      }
      return ran;
    }
    assert(
      Number.isFinite(limitMs) && limitMs >= 0,
      `SimScheduler.runUntilIdle: bad limit ${limitMs}`,
    );
    return this.run(this.nowMs + limitMs, Number.POSITIVE_INFINITY);
  }

  /** Runs due timers up to `untilMs` in order, at most `callbacksMax` of them. */
  private run(untilMs: number, callbacksMax: number): number {
    assert(!this.running, "SimScheduler: time cannot be moved from inside a timer callback");
    this.running = true;
    let ran = 0;
    let sameInstant = 0;
    try {
      for (;;) {
        const next = this.queue.peek();
        if (next === undefined || next.deadlineMs > untilMs || ran === callbacksMax) return ran;
        sameInstant = next.deadlineMs === this.nowMs ? sameInstant + 1 : 1;
        assert(
          sameInstant <= sameInstantCallbacksMax,
          `SimScheduler: livelock, over ${sameInstantCallbacksMax} callbacks at ${this.nowMs} ms`,
        );
        this.nowMs = next.deadlineMs;
        const callback = this.queue.take(this.nowMs);
        ran++;
        callback();
      }
    } finally {
      this.running = false;
    }
  }
}
