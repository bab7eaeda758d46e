/**
 * `sleep` built on a one-shot timer, shared by every `Timers` implementation so that
 * cancellation behaves the same on the real machine and in simulation.
 *
 * The returned promise settles exactly once: it resolves when the timer fires, or rejects
 * with a `TesseraError` coded `Env:Cancelled` when `signal` aborts first (at once if it is
 * already aborted). Aborting cancels the timer and the fired timer removes the abort
 * listener, so neither outlives the sleep.
 */
import { ErrorCode, TesseraError } from "../base/mod.ts";
import type { Timer } from "./env.ts";

/** Schedules `callback` once after `delayMs`: a `Timers.setTimeout`. */
export type ScheduleOnce = (delayMs: number, callback: () => void) => Timer;

/** A promise resolved after `delayMs` on `schedule`'s time, cancelled by `signal`. */
export function sleepOnTimer(
  schedule: ScheduleOnce,
  delayMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal === undefined) {
    return new Promise((resolve) => {
      schedule(delayMs, () => resolve());
    });
  }
  if (signal.aborted) return Promise.reject(cancelledError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(cancelledError(signal));
    };
    const timer = schedule(delayMs, () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The error a cancelled wait rejects with; the abort reason is kept as its cause. */
function cancelledError(signal: AbortSignal): TesseraError {
  return new TesseraError(ErrorCode.EnvCancelled, "sleep cancelled", {
    cause: signal.reason,
  });
}
