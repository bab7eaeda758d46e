/**
 * The lock wait queue of one store: pessimistic lock requests parked until the lock in their
 * way is released or their wait times out.
 *
 * A pure state machine. Inputs: `wait` (a request found `mustWait`), `release` (a lock on
 * a key went away: commit, rollback, pessimistic rollback), `tick` (time passed), `cancel`
 * (the request was answered another way, e.g. deadlock). Outputs: events the shell turns
 * into retries (`wokenUp`) or `KV:Txn:LockWaitTimeout` replies (`timedOut`).
 *
 * On release, the waiter with the smallest start ts (the oldest transaction; ties by arrival)
 * is woken at once; the others are woken `wakeUpDelayMs` later, giving the first one time to
 * take the lock so the rest do not all retry into it. A woken waiter that finds the key
 * locked again simply waits again. The queue holds at most `waitersMax` waiters.
 */
import { type Timestamp, limits } from "../../base/mod.ts";

/** A parked request. */
export interface Waiter {
  /** Unique per request; chosen by the shell. */
  readonly waiterId: number;
  /** The waiting transaction. */
  readonly startTs: Timestamp;
  readonly key: Uint8Array;
  /** The transaction whose lock is in the way. */
  readonly holderTs: Timestamp;
  /** When to give up waiting (ms on the shell's monotonic clock). */
  readonly deadlineMs: number;
}

/** What the shell must do for a waiter leaving the queue. */
export type LockWaitEvent =
  | { readonly kind: "wokenUp"; readonly waiter: Waiter }
  | { readonly kind: "timedOut"; readonly waiter: Waiter };

interface Entry {
  readonly waiter: Waiter;
  readonly seq: number;
  /** Set when a release scheduled a delayed wake-up. */
  wakeAtMs: number | undefined;
}

function keyString(key: Uint8Array): string {
  return Buffer.from(key).toString("latin1");
}

/** Parked pessimistic lock requests, by key. */
export class LockWaitQueue {
  private readonly byKey = new Map<string, Entry[]>();
  private readonly byId = new Map<number, string>();
  private seq = 0;
  private readonly waitersMax: number;
  private readonly wakeUpDelayMs: number;

  constructor(options: { waitersMax?: number; wakeUpDelayMs?: number } = {}) {
    this.waitersMax = options.waitersMax ?? limits.lockWaitQueueWaitersMax;
    this.wakeUpDelayMs = options.wakeUpDelayMs ?? limits.lockWaitWakeUpDelayMs;
  }

  /** Parks `waiter`; `full` when the queue is at capacity (answer the request at once). */
  wait(waiter: Waiter): { readonly kind: "queued" } | { readonly kind: "full" } {
    if (this.byId.size >= this.waitersMax) return { kind: "full" };
    const k = keyString(waiter.key);
    const list = this.byKey.get(k) ?? [];
    list.push({ waiter, seq: this.seq++, wakeAtMs: undefined });
    this.byKey.set(k, list);
    this.byId.set(waiter.waiterId, k);
    return { kind: "queued" };
  }

  /** The lock on `key` went away at `nowMs`: wakes the oldest waiter, delays the rest. */
  release(key: Uint8Array, nowMs: number): LockWaitEvent[] {
    const k = keyString(key);
    const list = this.byKey.get(k);
    if (list === undefined || list.length === 0) return [];
    let first = list[0];
    for (const entry of list) {
      if (first === undefined) break;
      const older =
        entry.waiter.startTs < first.waiter.startTs ||
        (entry.waiter.startTs === first.waiter.startTs && entry.seq < first.seq);
      if (older) first = entry;
    }
    if (first === undefined) return [];
    this.remove(first.waiter.waiterId);
    for (const entry of list) {
      const at = nowMs + this.wakeUpDelayMs;
      if (entry.wakeAtMs === undefined || entry.wakeAtMs > at) entry.wakeAtMs = at;
    }
    return [{ kind: "wokenUp", waiter: first.waiter }];
  }

  /** Time is `nowMs`: delivers due delayed wake-ups and timeouts, oldest event first. */
  tick(nowMs: number): LockWaitEvent[] {
    const due: { atMs: number; seq: number; event: LockWaitEvent }[] = [];
    for (const list of this.byKey.values()) {
      for (const entry of list) {
        if (entry.wakeAtMs !== undefined && entry.wakeAtMs <= nowMs) {
          due.push({
            atMs: entry.wakeAtMs,
            seq: entry.seq,
            event: { kind: "wokenUp", waiter: entry.waiter },
          });
        } else if (entry.waiter.deadlineMs <= nowMs) {
          due.push({
            atMs: entry.waiter.deadlineMs,
            seq: entry.seq,
            event: { kind: "timedOut", waiter: entry.waiter },
          });
        }
      }
    }
    due.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
    for (const d of due) this.remove(d.event.waiter.waiterId);
    return due.map((d) => d.event);
  }

  /** The earliest time `tick` has something to deliver, for the shell's timer. */
  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const list of this.byKey.values()) {
      for (const entry of list) {
        const at = Math.min(entry.wakeAtMs ?? Infinity, entry.waiter.deadlineMs);
        if (next === undefined || at < next) next = at;
      }
    }
    return next;
  }

  /** Removes a waiter answered elsewhere (e.g. deadlock). True if it was queued. */
  cancel(waiterId: number): boolean {
    return this.remove(waiterId);
  }

  private remove(waiterId: number): boolean {
    const k = this.byId.get(waiterId);
    if (k === undefined) return false;
    this.byId.delete(waiterId);
    const list = this.byKey.get(k) ?? [];
    const rest = list.filter((e) => e.waiter.waiterId !== waiterId);
    if (rest.length === 0) this.byKey.delete(k);
    else this.byKey.set(k, rest);
    return true;
  }

  /** Waiters parked. */
  get size(): number {
    return this.byId.size;
  }
}
