/**
 * `TimerQueue`: pending timers ordered by deadline, shared by the real and the simulated
 * `Timers` so that both fire in the same order.
 *
 * Timers come out earliest deadline first; timers with equal deadlines in the order they
 * were added (an interval's next run counts as added when its previous run is taken).
 * The queue holds no clock: callers pass deadlines and the current time in ms on their
 * monotonic clock, and run the callbacks themselves. Cancelled timers stay in the heap
 * until they reach its top or until they are the majority, when the heap is rebuilt, so
 * scheduling and cancelling in a loop does not grow it without bound.
 */
import { assert } from "../base/mod.ts";
import type { Timer } from "./env.ts";

/** What a caller may read of the earliest pending timer. */
export interface QueuedTimer {
  /** When the timer is due, in ms on the caller's monotonic clock. */
  readonly deadlineMs: number;
  /** Order of addition: the tie-breaker between equal deadlines. */
  readonly seq: number;
}

interface Entry extends QueuedTimer {
  deadlineMs: number;
  seq: number;
  readonly intervalMs: number | undefined;
  readonly callback: () => void;
  state: "pending" | "done";
}

/** Heaps smaller than this are never rebuilt: dropping cancelled entries would not pay. */
const compactionLengthMin = 64;

export interface TimerQueueOptions {
  /** Called after a pending timer is cancelled (not after cancelling a finished one). */
  readonly onCancel?: () => void;
}

/** Pending timers, earliest deadline first. */
export class TimerQueue {
  private readonly onCancel: (() => void) | undefined;
  /** A binary min-heap on (deadlineMs, seq); may hold cancelled entries. */
  private heap: Entry[] = [];
  private pending = 0;
  private seqNext = 0;

  constructor(options: TimerQueueOptions = {}) {
    this.onCancel = options.onCancel;
  }

  /** Timers neither finished (one-shot timers that ran) nor cancelled. */
  get pendingCount(): number {
    return this.pending;
  }

  /** The `seq` the next added or re-queued timer will get. */
  get nextSeq(): number {
    return this.seqNext;
  }

  /**
   * Adds a timer due at `deadlineMs`; with `intervalMs`, it repeats every `intervalMs`
   * until cancelled.
   */
  add(deadlineMs: number, intervalMs: number | undefined, callback: () => void): Timer {
    const entry: Entry = {
      deadlineMs,
      seq: this.seqNext++,
      intervalMs,
      callback,
      state: "pending",
    };
    this.push(entry);
    this.pending++;
    return {
      cancel: (): void => {
        if (entry.state === "done") return;
        entry.state = "done";
        this.pending--;
        this.compactIfMostlyCancelled();
        this.onCancel?.();
      },
    };
  }

  /** The earliest pending timer, or undefined if none is pending. */
  peek(): QueuedTimer | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.state === "pending") return top;
      this.pop();
    }
  }

  /**
   * Removes the earliest pending timer (the one `peek` returns) and returns its callback
   * for the caller to run. A one-shot timer is then finished. An interval is re-queued one
   * interval after its deadline, or one interval after `nowMs` if that has already passed
   * (a late process skips the runs it missed rather than running them in a burst).
   */
  take(nowMs: number): () => void {
    const entry = this.peek() as Entry | undefined;
    assert(entry !== undefined, "TimerQueue.take: no timer is pending");
    this.pop();
    if (entry.intervalMs === undefined) {
      entry.state = "done";
      this.pending--;
    } else {
      const nextMs = entry.deadlineMs + entry.intervalMs;
      entry.deadlineMs = nextMs > nowMs ? nextMs : nowMs + entry.intervalMs;
      entry.seq = this.seqNext++;
      this.push(entry);
    }
    return entry.callback;
  }

  private compactIfMostlyCancelled(): void {
    if (this.heap.length < compactionLengthMin || this.pending * 2 > this.heap.length) return;
    // A sorted array is a valid heap.
    this.heap = this.heap.filter((entry) => entry.state === "pending").sort(compareEntries);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareEntries(heap[parent] as Entry, entry) <= 0) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Removes the top of the heap. */
  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && compareEntries(heap[right] as Entry, heap[left] as Entry) < 0
          ? right
          : left;
      if (compareEntries(last, heap[child] as Entry) <= 0) break;
      heap[i] = heap[child] as Entry;
      i = child;
    }
    heap[i] = last;
  }
}

/** Orders entries by deadline, then by order of addition. */
function compareEntries(a: Entry, b: Entry): number {
  return a.deadlineMs - b.deadlineMs || a.seq - b.seq;
}
