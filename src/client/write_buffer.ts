/**
 * `WriteBuffer`: a transaction's uncommitted writes, a sorted map from key to the last
 * operation on it (put, insert, delete, or lock-only), with memory accounting.
 *
 * Keys are kept in byte order (binary search over a sorted array, with a map by key for
 * point lookups), so snapshot scans can be merged with the buffer and commit can group
 * keys by shard in order. Each entry is charged its key and value bytes plus a fixed
 * overhead; a write that would take the buffer past `bytesMax` or `keysMax` fails with
 * `CLIENT:Txn:BufferFull` and leaves the buffer unchanged. Pure: no I/O.
 *
 * Checkpoints (statement rollback, SQL savepoints): `checkpoint()` pushes a level that
 * remembers, for each key first changed after it, the entry the key had before (or its
 * absence); `rollbackTo` restores those entries from the newest level down, so the buffer
 * is exactly what it was at the checkpoint; `releaseCheckpoint` forgets a checkpoint and
 * every later one, handing what they remember to the level below. Without a checkpoint
 * nothing is remembered; with one, each key costs one remembered entry per level at most.
 */
import { ErrorCode, TesseraError, assert, limits } from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";

/** The last operation a transaction did on a key. */
export type BufferedOp =
  | { readonly kind: "put"; readonly value: Uint8Array }
  /** A put that must not find an existing value (INSERT): prewritten as `insert`. */
  | { readonly kind: "insert"; readonly value: Uint8Array }
  | { readonly kind: "delete" }
  /** Lock-only (SELECT … FOR UPDATE in optimistic mode): prewritten as `lock`. */
  | { readonly kind: "lock" };

/** One buffered key. */
export interface BufferEntry {
  readonly key: Uint8Array;
  readonly op: BufferedOp;
}

/** A point in a buffer's history that `rollbackTo` restores (see the file comment). */
export interface BufferCheckpoint {
  readonly id: number;
}

/** Bytes charged per entry beyond its key and value (map slots, array slot, objects). */
export const entryOverheadBytes = 64;

function hexOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}

function sizeOf(key: Uint8Array, op: BufferedOp): number {
  const value = op.kind === "put" || op.kind === "insert" ? op.value.length : 0;
  return key.length + value + entryOverheadBytes;
}

/** The write buffer; see the file comment. */
export class WriteBuffer {
  private readonly bytesMax: number;
  private readonly keysMax: number;
  private readonly byKey = new Map<string, BufferEntry>();
  private sorted: Uint8Array[] = [];
  private bytes = 0;
  /** Checkpoint levels, oldest first: each key's entry before its first change after it. */
  private levels: { readonly id: number; undo: Map<string, BufferEntry | null> }[] = [];
  private nextCheckpointId = 1;

  constructor(
    options: { readonly bytesMax?: number; readonly keysMax?: number } = {},
  ) {
    this.bytesMax = options.bytesMax ?? limits.txnBufferBytesMax;
    this.keysMax = options.keysMax ?? limits.txnBufferKeysMax;
  }

  /** Keys buffered. */
  get size(): number {
    return this.byKey.size;
  }

  /** Bytes charged. */
  get sizeBytes(): number {
    return this.bytes;
  }

  get(key: Uint8Array): BufferedOp | undefined {
    return this.byKey.get(hexOf(key))?.op;
  }

  /** Records `op` on `key`, replacing an earlier one; `CLIENT:Txn:BufferFull` past a bound. */
  set(key: Uint8Array, op: BufferedOp): void {
    const id = hexOf(key);
    const old = this.byKey.get(id);
    const bytes = this.bytes - (old === undefined ? 0 : sizeOf(old.key, old.op)) + sizeOf(key, op);
    const keys = this.byKey.size + (old === undefined ? 1 : 0);
    if (bytes > this.bytesMax || keys > this.keysMax) {
      throw new TesseraError(
        ErrorCode.ClientTxnBufferFull,
        `transaction too large: ${keys} keys, ${bytes} bytes ` +
          `(limits ${this.keysMax} keys, ${this.bytesMax} bytes)`,
        { details: { keys, bytes, keysMax: this.keysMax, bytesMax: this.bytesMax } },
      );
    }
    const top = this.levels[this.levels.length - 1];
    if (top !== undefined && !top.undo.has(id)) top.undo.set(id, old ?? null);
    const copy = key.slice();
    if (old === undefined) this.sorted.splice(this.lowerBound(copy), 0, copy);
    this.byKey.set(id, { key: old?.key ?? copy, op });
    this.bytes = bytes;
  }

  /** Marks the buffer's current contents; see the file comment. */
  checkpoint(): BufferCheckpoint {
    const id = this.nextCheckpointId++;
    this.levels.push({ id, undo: new Map() });
    return { id };
  }

  /**
   * Restores the contents at `checkpoint`, which stays usable; later checkpoints are gone.
   * Asserts that `checkpoint` is still live (not released or rolled back past).
   */
  rollbackTo(checkpoint: BufferCheckpoint): void {
    const at = this.levelOf(checkpoint);
    for (let i = this.levels.length - 1; i >= at; i--) {
      for (const [id, entry] of (this.levels[i] as (typeof this.levels)[number]).undo) {
        this.restore(id, entry);
      }
    }
    this.levels.length = at + 1;
    (this.levels[at] as (typeof this.levels)[number]).undo = new Map();
  }

  /** Forgets `checkpoint` and every later one, keeping the contents as they are. */
  releaseCheckpoint(checkpoint: BufferCheckpoint): void {
    const at = this.levelOf(checkpoint);
    const below = this.levels[at - 1];
    if (below !== undefined) {
      for (let i = at; i < this.levels.length; i++) {
        for (const [id, entry] of (this.levels[i] as (typeof this.levels)[number]).undo) {
          if (!below.undo.has(id)) below.undo.set(id, entry);
        }
      }
    }
    this.levels.length = at;
  }

  /**
   * Keys written since `checkpoint` that are still buffered (what a pessimistic statement
   * must lock before it returns), in no particular order.
   */
  changedSince(checkpoint: BufferCheckpoint): Uint8Array[] {
    const out = new Map<string, Uint8Array>();
    for (let i = this.levelOf(checkpoint); i < this.levels.length; i++) {
      for (const id of (this.levels[i] as (typeof this.levels)[number]).undo.keys()) {
        const entry = this.byKey.get(id);
        if (entry !== undefined) out.set(id, entry.key);
      }
    }
    return [...out.values()];
  }

  /** Live checkpoints, for tests and leak checks. */
  get checkpointCount(): number {
    return this.levels.length;
  }

  private levelOf(checkpoint: BufferCheckpoint): number {
    const at = this.levels.findIndex((level) => level.id === checkpoint.id);
    assert(at >= 0, `buffer checkpoint ${checkpoint.id} is no longer live`);
    return at;
  }

  /** Puts back `entry` (null: absent) for the key with hex `id`, fixing the accounting. */
  private restore(id: string, entry: BufferEntry | null): void {
    const current = this.byKey.get(id);
    if (current !== undefined) this.bytes -= sizeOf(current.key, current.op);
    if (entry === null) {
      if (current === undefined) return;
      this.byKey.delete(id);
      this.sorted.splice(this.lowerBound(current.key), 1);
      return;
    }
    if (current === undefined) this.sorted.splice(this.lowerBound(entry.key), 0, entry.key);
    this.byKey.set(id, entry);
    this.bytes += sizeOf(entry.key, entry.op);
  }

  /** Every entry in key order. */
  entries(): BufferEntry[] {
    return this.sorted.map((k) => this.byKey.get(hexOf(k)) as BufferEntry);
  }

  /** Entries with keys in `[start, end)` (empty end: open), in key order or reversed. */
  range(start: Uint8Array, end: Uint8Array, options: { readonly reverse?: boolean } = {}) {
    const lo = this.lowerBound(start);
    const hi = end.length === 0 ? this.sorted.length : this.lowerBound(end);
    const keys = this.sorted.slice(lo, Math.max(lo, hi));
    if (options.reverse === true) keys.reverse();
    return keys.map((k) => this.byKey.get(hexOf(k)) as BufferEntry);
  }

  /** The first index whose key is not below `key`. */
  private lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.sorted[mid] as Uint8Array, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
