/**
 * ORDER BY's comparison of sort keys, and TopN: ORDER BY … LIMIT n OFFSET m keeping only
 * the first n + m entries in a bounded heap instead of sorting every row (TiDB's TopN,
 * `optimizer_switch` flag `topn`). The heap's worst entry sits on top and is replaced
 * when a better one arrives; ties keep arrival order, so the result equals a stable sort
 * followed by the limit. Only the entries held are counted by the memory tracker (an
 * evicted entry is released), so memory is O(n + m), not O(rows).
 */
import type { Collation } from "../../codec/mod.ts";
import { type EvalContext, type Value, compareForSort } from "../../expr/mod.ts";
import type { MemoryAccount } from "./memory_tracker.ts";

/** An entry to sort: its sort keys. */
export interface Keyed {
  readonly keys: readonly Value[];
}

/**
 * The ORDER BY order of two key lists: NULL first ascending, `desc` per key, strings of
 * key i under `collations[i]` (aggregate.ts `keyCollations`; absent: the default).
 */
export function keyOrder(desc: readonly boolean[], ctx: EvalContext,
  collations?: readonly (Collation | undefined)[]): (x: Keyed, y: Keyed) => number {
  const warn = ctx.warn;
  return (x, y) => {
    for (let i = 0; i < desc.length; i++) {
      const a = x.keys[i]!;
      const b = y.keys[i]!;
      let order = a === null ? (b === null ? 0 : -1) : b === null ? 1
        : compareForSort(a, b, { warn, collation: collations?.[i] }) ?? 0;
      if (desc[i]) order = -order;
      if (order !== 0) return order;
    }
    return 0;
  };
}

interface Held<T> {
  readonly entry: T;
  readonly seq: number;
  readonly bytes: number;
}

/** The first `limit` entries by `order`, in a bounded max-heap; see the file comment. */
export class TopN<T extends Keyed> {
  private readonly heap: Held<T>[] = [];
  private readonly limit: number;
  private readonly order: (x: Keyed, y: Keyed) => number;
  private readonly mem: MemoryAccount;
  private seq = 0;

  constructor(limit: number, order: (x: Keyed, y: Keyed) => number, mem: MemoryAccount) {
    this.limit = limit;
    this.order = order;
    this.mem = mem;
  }

  /** `a` sorts after `b` (ties: later arrival after). */
  private after(a: Held<T>, b: Held<T>): boolean {
    const o = this.order(a.entry, b.entry);
    return o > 0 || (o === 0 && a.seq > b.seq);
  }

  /** Offers an entry of `bytes` (counted while it is held). */
  push(entry: T, bytes: number): void {
    const held: Held<T> = { entry, seq: this.seq++, bytes };
    const heap = this.heap;
    if (heap.length < this.limit) {
      this.mem.consume(bytes);
      heap.push(held);
      this.siftUp(heap.length - 1);
      return;
    }
    if (heap.length === 0 || !this.after(heap[0]!, held)) return;
    this.mem.consume(bytes);
    this.mem.release(heap[0]!.bytes);
    heap[0] = held;
    this.siftDown(0);
  }

  /** The entries held, in order (the heap is emptied; their bytes stay counted). */
  sorted(): T[] {
    const all = this.heap.splice(0);
    all.sort((a, b) => (this.after(a, b) ? 1 : this.after(b, a) ? -1 : 0));
    return all.map((h) => h.entry);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.after(heap[i]!, heap[parent]!)) return;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && this.after(heap[l]!, heap[top]!)) top = l;
      if (r < heap.length && this.after(heap[r]!, heap[top]!)) top = r;
      if (top === i) return;
      [heap[i], heap[top]] = [heap[top]!, heap[i]!];
      i = top;
    }
  }
}

/** Entries a TopN may hold at most; a larger LIMIT sorts everything. */
export const topNEntriesMax = 1_000_000;
