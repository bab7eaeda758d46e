/**
 * `SortedMapReader`: a minimal in-memory `EngineReader` with `apply(WriteOp[])`, for the MVCC
 * and transaction tests (so they do not depend on the engine component's implementations).
 *
 * Entries live in one array sorted bytewise by key; scans copy the matching slice, so
 * applying writes while a scan iterator is open cannot disturb it.
 */
import type { EngineReader, KeyValue, ScanOptions, WriteOp } from "../engine/engine.ts";
import { compareBytes } from "./bytes.ts";

/** A sorted-array key-value map that reads like an engine snapshot. */
export class SortedMapReader implements EngineReader {
  private entries: KeyValue[] = [];

  /** Index of the first entry with key >= `key`. */
  private lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const entry = this.entries[mid];
      if (entry !== undefined && compareBytes(entry.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const entry = this.entries[this.lowerBound(key)];
    return entry !== undefined && compareBytes(entry.key, key) === 0 ? entry.value : undefined;
  }

  scan(options: ScanOptions): IterableIterator<KeyValue> {
    const from = options.start === undefined ? 0 : this.lowerBound(options.start);
    const to = options.end === undefined ? this.entries.length : this.lowerBound(options.end);
    const slice = this.entries.slice(from, Math.max(from, to));
    if (options.reverse === true) slice.reverse();
    const limited = options.limit === undefined ? slice : slice.slice(0, options.limit);
    return limited[Symbol.iterator]();
  }

  /** Applies a batch of writes in order. */
  apply(ops: readonly WriteOp[]): void {
    for (const op of ops) {
      switch (op.kind) {
        case "put": {
          const i = this.lowerBound(op.key);
          const entry = this.entries[i];
          const kv = { key: op.key.slice(), value: op.value.slice() };
          if (entry !== undefined && compareBytes(entry.key, op.key) === 0) this.entries[i] = kv;
          else this.entries.splice(i, 0, kv);
          break;
        }
        case "delete": {
          const i = this.lowerBound(op.key);
          const entry = this.entries[i];
          if (entry !== undefined && compareBytes(entry.key, op.key) === 0) {
            this.entries.splice(i, 1);
          }
          break;
        }
        case "deleteRange": {
          const from = this.lowerBound(op.start);
          const to = this.lowerBound(op.end);
          if (to > from) this.entries.splice(from, to - from);
          break;
        }
        default:
          op satisfies never;
      }
    }
  }

  /** Number of stored pairs. */
  get size(): number {
    return this.entries.length;
  }

  /** Every pair in key order. */
  all(): readonly KeyValue[] {
    return this.entries;
  }
}
