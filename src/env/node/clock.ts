/**
 * `NodeClock`: the real machine's clocks.
 *
 * Monotonic time is `performance.now()` (origin at process start, fractional, never goes
 * backwards); wall time is `Date.now()`, which may jump when the system clock is set. This
 * file, with `timers.ts`, is the only place a Tessera process reads the time.
 *
 * A clock may be given a wall offset (`--clock-offset-ms`): its wall time is then the
 * system's plus the offset, as on a machine whose clock is set wrong. Fault runs use it to
 * skew one process's clock; everything that reads wall time (TSO physical time on PD,
 * lock TTL expiry on KV, statement time on SQL) sees the skewed time. Monotonic time is
 * not shifted: its origin is arbitrary anyway, and leases and deadlines keep measuring
 * real durations.
 */
import { assert } from "../../base/mod.ts";
import type { Clock } from "../env.ts";

/** The longest wall offset accepted: a day either way. */
export const clockOffsetMsMax = 86_400_000;

/** The process's monotonic clock and the system wall clock (plus an optional offset). */
export class NodeClock implements Clock {
  /** Added to every wall reading; 0 unless the process was started with a skewed clock. */
  readonly wallOffsetMs: number;

  constructor(options: { readonly wallOffsetMs?: number } = {}) {
    const offset = options.wallOffsetMs ?? 0;
    assert(Number.isSafeInteger(offset) && Math.abs(offset) <= clockOffsetMsMax,
      `clock offset must be whole ms within ±${clockOffsetMsMax}: ${offset}`);
    this.wallOffsetMs = offset;
  }

  monotonicMs(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now() + this.wallOffsetMs;
  }
}
