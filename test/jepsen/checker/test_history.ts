/**
 * Helpers for the checker tests: writing histories compactly by hand, and turning a
 * serial execution into a history (each operation invoked and completed before the next).
 */
import type { EventType, HistoryEvent } from "./history.ts";

/** `[process, type, f, value]`, the way Jepsen prints a history. */
export type EventTuple<F extends string, V> = readonly [number, EventType, F, V];

/** A history from tuples; `timeMs` is the event's position. */
export function history<F extends string, V>(
  ...events: readonly EventTuple<F, V>[]
): HistoryEvent<F, V>[] {
  return events.map(([process, type, f, value], i) => ({ process, type, f, value, timeMs: i }));
}

/** An operation run alone: its invocation (with `args`) then its `ok` (with `result`). */
export function serial<F extends string, V>(
  process: number,
  f: F,
  args: V,
  result: V,
): EventTuple<F, V>[] {
  return [[process, "invoke", f, args], [process, "ok", f, result]];
}
