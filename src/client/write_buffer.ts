/**
 * `WriteBuffer`: a transaction's uncommitted writes, a sorted map from key to the last
 * operation on it (put, insert, delete, or lock-only), with memory accounting.
 *
 * Keys are kept in byte order (binary search over a sorted array, with a map by key for
 * point lookups), so snapshot scans can be merged with the buffer and commit can group
 * keys by shard in order. Each entry is charged its key and value bytes plus a fixed
 * overhead; a write that would take the buffer past `bytesMax` or `keysMax` fails with
 * `CLIENT:Txn:BufferFull` and leaves the buffer unchanged. Pure: no I/O.
 */
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
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
    const copy = key.slice();
    if (old === undefined) this.sorted.splice(this.lowerBound(copy), 0, copy);
    this.byKey.set(id, { key: old?.key ?? copy, op });
    this.bytes = bytes;
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
