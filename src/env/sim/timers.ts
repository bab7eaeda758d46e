/**
 * `SimTimers`: timers on a `SimScheduler`'s virtual time.
 *
 * A timer fires exactly at its virtual deadline, when the scheduler is advanced past it;
 * nothing fires on its own. `sleep` returns a promise that the scheduler resolves when
 * virtual time reaches the deadline, so a test calls `scheduler.advance(ms)` and then
 * awaits the sleep.
 */
import type { Timer, Timers } from "../env.ts";
import { sleepOnTimer } from "../sleep.ts";
import type { SimScheduler } from "./scheduler.ts";

/** Timers whose callbacks the `SimScheduler` runs. */
export class SimTimers implements Timers {
  private readonly scheduler: SimScheduler;

  constructor(scheduler: SimScheduler) {
    this.scheduler = scheduler;
  }

  setTimeout(delayMs: number, callback: () => void): Timer {
    return this.scheduler.schedule(delayMs, callback);
  }

  setInterval(intervalMs: number, callback: () => void): Timer {
    return this.scheduler.scheduleInterval(intervalMs, callback);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOnTimer((ms, callback) => this.scheduler.schedule(ms, callback), delayMs, signal);
  }
}
