/**
 * `NodeClock`: the real machine's clocks.
 *
 * Monotonic time is `performance.now()` (origin at process start, fractional, never goes
 * backwards); wall time is `Date.now()`, which may jump when the system clock is set. This
 * file, with `timers.ts`, is the only place a Tessera process reads the time.
 */
import type { Clock } from "../env.ts";

/** The process's monotonic clock and the system wall clock. */
export class NodeClock implements Clock {
  monotonicMs(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now();
  }
}
