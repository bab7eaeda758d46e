/**
 * The Jepsen-style history format shared by every workload and checker.
 *
 * A history is the log of what clients saw, in the order they saw it: each operation is an
 * `invoke` by a process, later completed by the same process with `ok` (it happened, and
 * `value` is what it returned), `fail` (it certainly did not happen) or `info` (unknown:
 * a timeout or `CommitResultUnknown` — it may or may not have happened, and may take
 * effect at any later time). A process runs one operation at a time. `timeMs` is the
 * client's clock when the event was recorded (virtual time in simulation); checkers use
 * the event order, not the timestamps. The same format is recorded against simulated and
 * real clusters, so one checker serves both.
 */

/** The kind of a history event. */
export type EventType = "invoke" | "ok" | "fail" | "info";

/** One event of a history. */
export interface HistoryEvent<F extends string = string, V = unknown> {
  readonly process: number;
  readonly type: EventType;
  /** The operation's function: `read`, `transfer`, `txn`, `write`, `cas` … */
  readonly f: F;
  /** On `invoke`, the arguments; on `ok`, the result; on `fail`/`info`, the arguments. */
  readonly value: V;
  readonly timeMs: number;
}

export type History<F extends string = string, V = unknown> = readonly HistoryEvent<F, V>[];

/** An invocation and its completion (undefined if the history ended first: like `info`). */
export interface Operation<F extends string = string, V = unknown> {
  readonly process: number;
  readonly f: F;
  readonly invoke: HistoryEvent<F, V>;
  readonly completion: HistoryEvent<F, V> | undefined;
  /** `ok`, `fail`, or `info` (also for operations never completed). */
  readonly outcome: "ok" | "fail" | "info";
  /** Positions of the invocation and completion in the history (completion: Infinity). */
  readonly invokeIndex: number;
  readonly completeIndex: number;
}

/**
 * Pairs each invocation with its process's next completion. Throws on a malformed history
 * (a completion without an invocation, two invocations in flight on one process).
 */
export function pairOperations<F extends string, V>(history: History<F, V>): Operation<F, V>[] {
  const open = new Map<number, { event: HistoryEvent<F, V>; index: number; slot: number }>();
  const result: (Operation<F, V> | undefined)[] = [];
  history.forEach((event, index) => {
    const pending = open.get(event.process);
    if (event.type === "invoke") {
      if (pending !== undefined) {
        throw new Error(`history[${index}]: process ${event.process} invoked twice`);
      }
      open.set(event.process, { event, index, slot: result.length });
      result.push(undefined);
      return;
    }
    if (pending === undefined) {
      throw new Error(`history[${index}]: process ${event.process} completed without invoking`);
    }
    if (pending.event.f !== event.f) {
      throw new Error(`history[${index}]: completion ${event.f} of ${pending.event.f}`);
    }
    open.delete(event.process);
    result[pending.slot] = {
      process: event.process,
      f: event.f,
      invoke: pending.event,
      completion: event,
      outcome: event.type,
      invokeIndex: pending.index,
      completeIndex: index,
    };
  });
  for (const pending of open.values()) {
    result[pending.slot] = {
      process: pending.event.process,
      f: pending.event.f,
      invoke: pending.event,
      completion: undefined,
      outcome: "info",
      invokeIndex: pending.index,
      completeIndex: Number.POSITIVE_INFINITY,
    };
  }
  return result as Operation<F, V>[];
}

/** Records a history as a workload runs: `invoke` returns the completer of that operation. */
export class HistoryRecorder<F extends string = string, V = unknown> {
  readonly events: HistoryEvent<F, V>[] = [];
  private readonly nowMs: () => number;

  constructor(nowMs: () => number) {
    this.nowMs = nowMs;
  }

  invoke(process: number, f: F, value: V): {
    ok(result: V): void;
    fail(): void;
    info(): void;
  } {
    this.push(process, "invoke", f, value);
    return {
      ok: (result) => this.push(process, "ok", f, result),
      fail: () => this.push(process, "fail", f, value),
      info: () => this.push(process, "info", f, value),
    };
  }

  private push(process: number, type: EventType, f: F, value: V): void {
    this.events.push({ process, type, f, value, timeMs: this.nowMs() });
  }
}
