/**
 * `StatementWrites`: the writes of one DML statement, held apart from its transaction
 * until the statement has passed every check, so a failing statement leaves the
 * transaction exactly as it found it (MySQL's statement atomicity).
 *
 * Reads see the statement's own writes over the transaction's view (which is its own
 * buffer over its snapshot): a later row of the statement meets the keys an earlier row
 * wrote, as MySQL checks row by row. Transaction reads are cached per key — the
 * transaction does not change until `flush` — and `prefetch` fills the cache for many
 * keys in one batch read. `mark`/`undo` roll the statement's writes back to a point (an
 * INSERT IGNORE row that fails half way). Keys to lock (a parent row a child row needs)
 * are collected and locked at `flush`, before the writes are handed to the transaction.
 * In pessimistic mode the transaction's statement options (src/sql/session/txn_control.ts)
 * make these reads and locks use the statement's for-update ts.
 *
 * The statement's writes are bounded by the transaction buffer's key limit: a statement
 * that would not fit fails before anything reaches the transaction.
 */
import type { Transaction } from "../../client/mod.ts";
import { ErrorCode, TesseraError, limits } from "../../base/mod.ts";
import { compareBytes } from "../../codec/mod.ts";

function hexOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}

/** A key and its value. */
export interface KvPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Pairs read from the transaction per scan request. */
const scanPageRows = 1000;

interface Written {
  readonly key: Uint8Array;
  /** Null: deleted. */
  readonly value: Uint8Array | null;
}

/** A point `undo` returns to. */
export interface WritesMark {
  readonly undoLength: number;
  readonly lockCount: number;
}

export class StatementWrites {
  readonly txn: Transaction;
  private readonly written = new Map<string, Written>();
  /** The keys of `written` as hex, sorted (hex order is byte order), for range scans. */
  private readonly sortedHex: string[] = [];
  private readonly cache = new Map<string, Uint8Array | null>();
  /** For each write, what the key held in `written` before it (undefined: nothing). */
  private readonly undoLog: { readonly hex: string; readonly previous: Written | undefined }[] =
    [];
  private locks: Uint8Array[] = [];

  constructor(txn: Transaction) {
    this.txn = txn;
  }

  /** Number of keys the statement writes. */
  get size(): number {
    return this.written.size;
  }

  /** Reads `keys` from the transaction in one batch (those not known yet). */
  async prefetch(keys: readonly Uint8Array[]): Promise<void> {
    const missing = new Map<string, Uint8Array>();
    for (const key of keys) {
      const hex = hexOf(key);
      if (!this.written.has(hex) && !this.cache.has(hex)) missing.set(hex, key);
    }
    if (missing.size === 0) return;
    const list = [...missing.values()];
    const values = await this.txn.batchGet(list);
    list.forEach((key, i) => this.cache.set(hexOf(key), values[i] ?? null));
  }

  /** The value of `key` as the statement sees it. */
  async get(key: Uint8Array): Promise<Uint8Array | null> {
    const hex = hexOf(key);
    const mine = this.written.get(hex);
    if (mine !== undefined) return mine.value;
    const cached = this.cache.get(hex);
    if (cached !== undefined) return cached;
    const value = await this.txn.get(key);
    this.cache.set(hex, value);
    return value;
  }

  /**
   * Up to `limit` live pairs in `[start, end)` in key order, the statement's writes
   * merged over the transaction's.
   */
  async scan(start: Uint8Array, end: Uint8Array, limit: number): Promise<KvPair[]> {
    const endHex = hexOf(end);
    const mine: Written[] = [];
    for (let i = this.lowerBound(hexOf(start)); i < this.sortedHex.length; i++) {
      const hex = this.sortedHex[i]!;
      if (end.length > 0 && hex >= endHex) break;
      mine.push(this.written.get(hex)!);
    }
    const shadowed = new Set(mine.map((w) => hexOf(w.key)));
    const out: KvPair[] = mine.filter((w) => w.value !== null)
      .map((w) => ({ key: w.key, value: w.value! }));
    let cursor = start;
    for (;;) {
      const page = await this.txn.scan(cursor, end, { limit: scanPageRows });
      for (const pair of page) if (!shadowed.has(hexOf(pair.key))) out.push(pair);
      out.sort((a, b) => compareBytes(a.key, b.key));
      const last = page[page.length - 1];
      // Enough pairs before the first key the transaction has not been asked about yet.
      const settled = last === undefined ? out.length
        : out.filter((p) => compareBytes(p.key, last.key) <= 0).length;
      if (page.length < scanPageRows || settled >= limit) return out.slice(0, limit);
      cursor = Uint8Array.of(...last!.key, 0);
    }
  }

  /** Whether the statement wrote (or deleted) `key`. */
  wrote(key: Uint8Array): boolean {
    return this.written.has(hexOf(key));
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.record(key, value);
  }

  delete(key: Uint8Array): void {
    this.record(key, null);
  }

  /** Asks for `key` (a row the statement's checks relied on) to be locked at flush. */
  lock(key: Uint8Array): void {
    this.locks.push(key);
  }

  mark(): WritesMark {
    return { undoLength: this.undoLog.length, lockCount: this.locks.length };
  }

  /** Forgets every write and lock request made after `mark`. */
  undo(mark: WritesMark): void {
    while (this.undoLog.length > mark.undoLength) {
      const entry = this.undoLog.pop()!;
      if (entry.previous === undefined) {
        this.written.delete(entry.hex);
        this.sortedHex.splice(this.lowerBound(entry.hex), 1);
      } else {
        this.written.set(entry.hex, entry.previous);
      }
    }
    this.locks = this.locks.slice(0, mark.lockCount);
  }

  /**
   * Locks the requested keys, then hands every write to the transaction. The writes are
   * checked against the buffer's key limit first, so they go in whole or not at all.
   */
  async flush(): Promise<void> {
    const buffered = this.txn.bufferSize.keys;
    if (buffered + this.written.size + this.locks.length > limits.txnBufferKeysMax) {
      throw new TesseraError(ErrorCode.ClientTxnBufferFull,
        `transaction buffer would hold ${buffered + this.written.size} keys, at most ` +
        `${limits.txnBufferKeysMax}`);
    }
    // Pessimistic statements read at their for-update ts and lock at it (a newer commit
    // reruns the statement, see txn_control.ts); optimistic ones get lock-only keys that
    // conflict at commit. Either way the rows read stay as read.
    if (this.locks.length > 0) await this.txn.lockKeys(this.locks);
    for (const w of this.written.values()) {
      if (w.value === null) this.txn.delete(w.key);
      else this.txn.set(w.key, w.value);
    }
    this.written.clear();
    this.sortedHex.length = 0;
    this.undoLog.length = 0;
    this.locks = [];
  }

  /** The first position in `sortedHex` not below `hex`. */
  private lowerBound(hex: string): number {
    let lo = 0;
    let hi = this.sortedHex.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortedHex[mid]! < hex) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private record(key: Uint8Array, value: Uint8Array | null): void {
    const hex = hexOf(key);
    const previous = this.written.get(hex);
    this.undoLog.push({ hex, previous });
    if (previous === undefined) this.sortedHex.splice(this.lowerBound(hex), 0, hex);
    // Re-inserting moves the key to the end, so flush applies writes in their last order.
    this.written.delete(hex);
    this.written.set(hex, { key, value });
  }
}
