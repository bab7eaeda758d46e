/**
 * Test helpers for driving a simulation: let virtual time pass one scheduler callback at a
 * time, letting the promise reactions each callback triggered run before the next one, so
 * code that awaits (the RPC layer, a connect) sees the same interleaving on every run.
 */
import type { SimScheduler } from "./scheduler.ts";

/** Lets every promise reaction queued so far run (including chains of them). */
export function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Moves virtual time forward by `ms`: runs each due callback in order, settling promise
 * reactions after each, then moves the clock to the end of the span.
 */
export async function runFor(scheduler: SimScheduler, ms: number): Promise<void> {
  const untilMs = scheduler.monotonicMs() + ms;
  await settleMicrotasks();
  for (;;) {
    const next = scheduler.nextDeadlineMs();
    if (next === undefined || next > untilMs) break;
    scheduler.runNext();
    await settleMicrotasks();
  }
  scheduler.advance(untilMs - scheduler.monotonicMs());
  await settleMicrotasks();
}

/**
 * Runs the simulation until `promise` settles or `budgetMs` of virtual time pass; returns
 * its outcome, or throws naming `what`.
 */
export async function runUntilSettled<T>(
  scheduler: SimScheduler,
  promise: Promise<T>,
  options: { readonly what: string; readonly budgetMs?: number },
): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => (done = true));
  tracked.catch(() => undefined);
  const untilMs = scheduler.monotonicMs() + (options.budgetMs ?? 60_000);
  await settleMicrotasks();
  while (!done) {
    const next = scheduler.nextDeadlineMs();
    if (next === undefined || next > untilMs) {
      throw new Error(`simulation idle or out of budget waiting for ${options.what}`);
    }
    scheduler.runNext();
    await settleMicrotasks();
  }
  return tracked;
}
