/**
 * `MvccReader`: the low-level queries every MVCC and Percolator action is built from, over
 * one engine snapshot.
 *
 * It only reads; it never caches across snapshots, so one reader must not outlive the
 * snapshot it was made for. Versions of a key are ordered newest first (see `keys.ts`), so
 * "the newest record at or below ts" is one bounded scan with limit 1.
 */
import { type Timestamp, assert, maxTimestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import { Cf, dataKey, decodeEngineKey, lockKey, versionsRange, writeKey } from "./keys.ts";
import { type Lock, decodeLock } from "./lock.ts";
import { type Write, decodeWrite } from "./write.ts";

/** A commit record with its commit ts. */
export interface VersionedWrite {
  readonly commitTs: Timestamp;
  readonly write: Write;
}

/** What the write CF says about one transaction on one key. */
export type TxnCommitRecord =
  | { readonly kind: "committed"; readonly commitTs: Timestamp; readonly write: Write }
  | { readonly kind: "rolledBack" }
  /**
   * No record of the transaction. `overlapped` is another transaction's commit record at
   * `commitTs == startTs`, which a rollback must flag instead of overwriting.
   */
  | { readonly kind: "none"; readonly overlapped: VersionedWrite | undefined };

/** Read queries over one engine snapshot. */
export class MvccReader {
  readonly snapshot: EngineReader;

  constructor(snapshot: EngineReader) {
    this.snapshot = snapshot;
  }

  /** The lock on `key`, if any. */
  loadLock(key: Uint8Array): Lock | undefined {
    const raw = this.snapshot.get(lockKey(key));
    return raw === undefined ? undefined : decodeLock(raw);
  }

  /** The newest commit record of `key` (of any kind) with `commitTs <= ts`. */
  seekWrite(key: Uint8Array, ts: Timestamp): VersionedWrite | undefined {
    const { end } = versionsRange(Cf.write, key);
    for (const kv of this.snapshot.scan({ start: writeKey(key, ts), end, limit: 1 })) {
      const decoded = decodeEngineKey(kv.key);
      assert(decoded.ts !== undefined, "write CF key without ts");
      return { commitTs: decoded.ts, write: decodeWrite(kv.value) };
    }
    return undefined;
  }

  /** Every commit record of `key` with `commitTs <= ts`, newest first. */
  *writesAtOrBelow(key: Uint8Array, ts: Timestamp): Generator<VersionedWrite> {
    const { end } = versionsRange(Cf.write, key);
    for (const kv of this.snapshot.scan({ start: writeKey(key, ts), end })) {
      const decoded = decodeEngineKey(kv.key);
      assert(decoded.ts !== undefined, "write CF key without ts");
      yield { commitTs: decoded.ts, write: decodeWrite(kv.value) };
    }
  }

  /**
   * The newest put or delete of `key` visible at `ts` (lock and rollback records are
   * skipped, as they do not change the value).
   */
  getWrite(key: Uint8Array, ts: Timestamp): VersionedWrite | undefined {
    for (const v of this.writesAtOrBelow(key, ts)) {
      if (v.write.kind === "put" || v.write.kind === "delete") return v;
    }
    return undefined;
  }

  /** The value a put record stands for: inlined, or in the default CF. */
  loadValue(key: Uint8Array, write: Write): Uint8Array {
    assert(write.kind === "put", "loadValue of a non-put record");
    if (write.shortValue !== undefined) return write.shortValue;
    const value = this.snapshot.get(dataKey(key, write.startTs));
    assert(value !== undefined, "commit record without its value in default CF");
    return value;
  }

  /** The value of `key` at `ts`, ignoring locks; undefined if absent or deleted. */
  getValueIgnoringLocks(key: Uint8Array, ts: Timestamp): Uint8Array | undefined {
    const v = this.getWrite(key, ts);
    if (v === undefined || v.write.kind === "delete") return undefined;
    return this.loadValue(key, v.write);
  }

  /**
   * Finds the commit or rollback record of transaction `startTs` on `key`. Commit records
   * of that transaction have `commitTs >= startTs`, so only those are scanned.
   */
  getTxnCommitRecord(key: Uint8Array, startTs: Timestamp): TxnCommitRecord {
    let overlapped: VersionedWrite | undefined;
    for (const v of this.writesAtOrBelow(key, maxTimestamp)) {
      if (v.commitTs < startTs) break;
      if (v.write.startTs === startTs) {
        return v.write.kind === "rollback"
          ? { kind: "rolledBack" }
          : { kind: "committed", commitTs: v.commitTs, write: v.write };
      }
      if (v.commitTs === startTs) {
        if (v.write.hasOverlappedRollback) return { kind: "rolledBack" };
        overlapped = v;
      }
    }
    return { kind: "none", overlapped };
  }
}
