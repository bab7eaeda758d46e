/**
 * `SimClock`: the clocks of a simulated process, read from a `SimScheduler`.
 *
 * Monotonic time is the scheduler's virtual time (0 at the start); wall time is the
 * scheduler's `wallStartMs` plus that. Neither moves unless the scheduler does.
 */
import type { Clock } from "../env.ts";
import type { SimScheduler } from "./scheduler.ts";

/** Virtual clocks driven by a `SimScheduler`. */
export class SimClock implements Clock {
  private readonly scheduler: SimScheduler;

  constructor(scheduler: SimScheduler) {
    this.scheduler = scheduler;
  }

  monotonicMs(): number {
    return this.scheduler.monotonicMs();
  }

  wallMs(): number {
    return this.scheduler.wallMs();
  }
}
