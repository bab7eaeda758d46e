/**
 * The concurrency manager of one store: the max read ts, and the in-memory lock table that
 * makes async commit and 1PC safe.
 *
 * Async commit picks a transaction's commit ts at prewrite as `max read ts + 1`, so every
 * reader must raise `maxReadTs` to its read ts *before* reading. Between the prewrite
 * computing its min commit ts and its locks landing in the engine (a Raft round trip), a
 * reader could miss the lock; so the prewrite installs its locks here first, and readers
 * check this table after raising the max ts and before reading the engine. The store's
 * single thread runs "install memory locks, compute min commit ts" without interleaving,
 * so no key guard is needed beyond that ordering.
 */
import { type Timestamp, limits, maxOfTimestamps, maxTimestamp, zeroTimestamp }
  from "../../base/mod.ts";
import { compareBytes } from "../mvcc/bytes.ts";
import type { Lock } from "../mvcc/lock.ts";
import { type LockedKey, type ReadOptions, lockBlocksRead } from "../mvcc/snapshot_read.ts";
import type { MemoryLock } from "./prewrite.ts";

/** The result of checking memory locks before a read. */
export type MemoryLockCheck = { readonly kind: "ok" } | ({ readonly kind: "locked" } & LockedKey);

function keyString(key: Uint8Array): string {
  return Buffer.from(key).toString("latin1");
}

/** Max read ts and memory locks of one store. */
export class ConcurrencyManager {
  private maxTs: Timestamp;
  private readonly locks = new Map<string, { key: Uint8Array; lock: Lock; handle: number }>();
  private nextHandle = 1;
  private readonly locksMax: number;

  /** `initialMaxTs` should be a fresh TSO ts when the store becomes leader of a shard. */
  constructor(
    initialMaxTs: Timestamp = zeroTimestamp,
    locksMax: number = limits.memoryLocksMax,
  ) {
    this.maxTs = initialMaxTs;
    this.locksMax = locksMax;
  }

  /** The largest read ts seen; async commit and 1PC commit above it. */
  get maxReadTs(): Timestamp {
    return this.maxTs;
  }

  /** Raises the max read ts; readers call this before reading. */
  updateMaxTs(ts: Timestamp): void {
    // A read at the maximum ts reads the latest committed version (an autocommit point
    // get): it has no snapshot for later commits to stay above, and would pin max ts.
    if (ts === maxTimestamp) return;
    this.maxTs = maxOfTimestamps(this.maxTs, ts);
  }

  /** Installs the memory locks of one prewrite; `full` when the table has no room. */
  addMemoryLocks(
    locks: readonly MemoryLock[],
  ): { readonly kind: "ok"; readonly handle: number } | { readonly kind: "full" } {
    if (this.locks.size + locks.length > this.locksMax) return { kind: "full" };
    const handle = this.nextHandle++;
    for (const { key, lock } of locks) this.locks.set(keyString(key), { key, lock, handle });
    return { kind: "ok", handle };
  }

  /** Removes the memory locks installed under `handle` (once the writes are applied). */
  removeMemoryLocks(handle: number): void {
    for (const [k, entry] of this.locks) if (entry.handle === handle) this.locks.delete(k);
  }

  /** Checks `key` against memory locks for a read at `readTs`. */
  readKeyCheck(key: Uint8Array, readTs: Timestamp, options: ReadOptions = {}): MemoryLockCheck {
    const entry = this.locks.get(keyString(key));
    if (entry !== undefined && lockBlocksRead(entry.lock, readTs, options)) {
      return { kind: "locked", key: entry.key, lock: entry.lock };
    }
    return { kind: "ok" };
  }

  /** Checks user keys `[start, end)` against memory locks for a read at `readTs`. */
  readRangeCheck(
    range: { readonly start?: Uint8Array; readonly end?: Uint8Array },
    readTs: Timestamp,
    options: ReadOptions = {},
  ): MemoryLockCheck {
    let first: LockedKey | undefined;
    for (const { key, lock } of this.locks.values()) {
      if (range.start !== undefined && compareBytes(key, range.start) < 0) continue;
      if (range.end !== undefined && compareBytes(key, range.end) >= 0) continue;
      if (!lockBlocksRead(lock, readTs, options)) continue;
      if (first === undefined || compareBytes(key, first.key) < 0) first = { key, lock };
    }
    return first === undefined ? { kind: "ok" } : { kind: "locked", ...first };
  }

  /** Memory locks currently installed. */
  get memoryLockCount(): number {
    return this.locks.size;
  }
}
