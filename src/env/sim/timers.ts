/**
 * `SimTimers`: timers on a `SimScheduler`'s virtual time.
 *
 * A timer fires exactly at its virtual deadline, when the scheduler is advanced past it;
 * nothing fires on its own. `sleep` returns a promise that the scheduler resolves when
 * virtual time reaches the deadline, so a test calls `scheduler.advance(ms)` and then
 * awaits the sleep. Given the process's `SimClock`, delays are in the process's own
 * (possibly drifting) time: a drifting clock's timers fire early or late in virtual time.
 */
import type { Timer, Timers } from "../env.ts";
import { sleepOnTimer } from "../sleep.ts";
import type { SimClock } from "./clock.ts";
import type { SimScheduler } from "./scheduler.ts";

/** Timers whose callbacks the `SimScheduler` runs. */
export class SimTimers implements Timers {
  private readonly scheduler: SimScheduler;
  private readonly clock: SimClock | undefined;

  constructor(scheduler: SimScheduler, clock?: SimClock) {
    this.scheduler = scheduler;
    this.clock = clock;
  }

  private virtualMs(ms: number): number {
    return this.clock === undefined ? ms : this.clock.localToVirtualMs(ms);
  }

  setTimeout(delayMs: number, callback: () => void): Timer {
    return this.scheduler.schedule(this.virtualMs(delayMs), callback);
  }

  setInterval(intervalMs: number, callback: () => void): Timer {
    return this.scheduler.scheduleInterval(this.virtualMs(intervalMs), callback);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOnTimer(
      (ms, callback) => this.scheduler.schedule(this.virtualMs(ms), callback),
      delayMs,
      signal,
    );
  }
}
