/**
 * `SimClock`: the clocks of a simulated process, read from a `SimScheduler`, each process
 * with its own skew.
 *
 * Without skew, monotonic time is the scheduler's virtual time (0 at the start) and wall
 * time is the scheduler's `wallStartMs` plus that. `setSkew` gives the process a wall-clock
 * offset (a clock set wrong; it may jump when changed, as NTP or an operator makes a real
 * wall clock jump) and a drift rate (its oscillator runs `driftRate` faster, or slower if
 * negative: 1e-3 is a millisecond per second). Drift scales both clocks and the process's
 * timers (`localToVirtualMs`), so a timer of 100 local ms fires after 100 ms on the
 * process's own monotonic clock. Monotonic time never goes backwards, whatever is set.
 * Neither clock moves unless the scheduler does.
 */
import { assert } from "../../base/mod.ts";
import type { Clock } from "../env.ts";
import type { SimScheduler } from "./scheduler.ts";

/** A process's clock error: wall offset in ms, and drift (local ms per virtual ms − 1). */
export interface ClockSkew {
  readonly offsetMs: number;
  readonly driftRate: number;
}

/** Virtual clocks driven by a `SimScheduler`, with an optional per-process skew. */
export class SimClock implements Clock {
  private readonly scheduler: SimScheduler;
  private offsetMs = 0;
  private rate = 1;
  /** Local monotonic time and virtual time when the rate last changed. */
  private baseLocalMs = 0;
  private baseVirtualMs = 0;

  constructor(scheduler: SimScheduler) {
    this.scheduler = scheduler;
  }

  monotonicMs(): number {
    return this.baseLocalMs + (this.scheduler.monotonicMs() - this.baseVirtualMs) * this.rate;
  }

  wallMs(): number {
    return this.scheduler.wallStartMs + this.offsetMs + this.monotonicMs();
  }

  /** The current skew. */
  get skew(): ClockSkew {
    return { offsetMs: this.offsetMs, driftRate: this.rate - 1 };
  }

  /** Sets the wall offset and the drift rate (from now on); see the file comment. */
  setSkew(skew: ClockSkew): void {
    assert(Number.isFinite(skew.offsetMs), "SimClock.setSkew: offset is not finite");
    assert(skew.driftRate > -0.5 && skew.driftRate < 0.5, "SimClock.setSkew: drift too large");
    this.baseLocalMs = this.monotonicMs();
    this.baseVirtualMs = this.scheduler.monotonicMs();
    this.offsetMs = skew.offsetMs;
    this.rate = 1 + skew.driftRate;
  }

  /** Virtual ms that pass while this process's clock advances `localMs`. */
  localToVirtualMs(localMs: number): number {
    return localMs / this.rate;
  }
}
