/**
 * A Percolator lock: the lock CF record that says "transaction `startTs` is writing this key".
 *
 * A lock is written by prewrite (kind put/delete/lock) or by acquiring a pessimistic lock
 * (kind pessimistic), and removed by commit or rollback. The primary lock of an async-commit
 * transaction lists the secondaries, so anyone can find every key of the transaction. Locks
 * are immutable values; actions replace them by writing a new record.
 */
import { ErrorCode, TesseraError, type Timestamp, zeroTimestamp } from "../../base/mod.ts";
import { ByteReader, ByteWriter } from "./bytes.ts";

/** What the locked key will become if the transaction commits. */
export type LockKind = "put" | "delete" | "lock" | "pessimistic";

/** A lock CF record. */
export interface Lock {
  readonly kind: LockKind;
  /** The transaction's primary key: its lock or commit record decides the outcome. */
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  /** Milliseconds after `startTs`'s physical time before others may resolve the lock. */
  readonly ttlMs: number;
  /** The value of a put if it is short enough to inline; longer ones are in default CF. */
  readonly shortValue: Uint8Array | undefined;
  /** For pessimistic transactions, the for-update ts the lock was taken at; else zero. */
  readonly forUpdateTs: Timestamp;
  /** Keys the transaction writes (a hint for resolving large transactions). */
  readonly txnSize: number;
  /** The transaction may not commit below this (zero: no bound). Readers push it up. */
  readonly minCommitTs: Timestamp;
  readonly useAsyncCommit: boolean;
  /** Async commit: every other key of the transaction; only on the primary lock. */
  readonly secondaries: readonly Uint8Array[];
}

const kindTags: Record<LockKind, number> = {
  put: 0x50,
  delete: 0x44,
  lock: 0x4c,
  pessimistic: 0x53,
};

function kindOfTag(tag: number): LockKind {
  for (const [kind, t] of Object.entries(kindTags)) if (t === tag) return kind as LockKind;
  throw new TesseraError(ErrorCode.CodecCorrupt, `unknown lock kind tag ${tag}`);
}

/** A lock with defaults for the optional fields. */
export function makeLock(
  fields: Pick<Lock, "kind" | "primary" | "startTs" | "ttlMs"> & Partial<Lock>,
): Lock {
  return {
    shortValue: undefined,
    forUpdateTs: zeroTimestamp,
    txnSize: 0,
    minCommitTs: zeroTimestamp,
    useAsyncCommit: false,
    secondaries: [],
    ...fields,
  };
}

const flagShortValue = 1;
const flagAsyncCommit = 2;

/** The engine bytes of a lock. */
export function encodeLock(lock: Lock): Uint8Array {
  const w = new ByteWriter();
  const flags =
    (lock.shortValue === undefined ? 0 : flagShortValue) |
    (lock.useAsyncCommit ? flagAsyncCommit : 0);
  w.u8(kindTags[lock.kind]).u8(flags).bytes(lock.primary).ts(lock.startTs).u32(lock.ttlMs);
  w.ts(lock.forUpdateTs).u32(lock.txnSize).ts(lock.minCommitTs);
  if (lock.shortValue !== undefined) w.bytes(lock.shortValue);
  w.u32(lock.secondaries.length);
  for (const s of lock.secondaries) w.bytes(s);
  return w.finish();
}

/** Parses a lock written by `encodeLock`. */
export function decodeLock(data: Uint8Array): Lock {
  const r = new ByteReader(data, "lock");
  const kind = kindOfTag(r.u8());
  const flags = r.u8();
  const primary = r.bytes();
  const startTs = r.ts();
  const ttlMs = r.u32();
  const forUpdateTs = r.ts();
  const txnSize = r.u32();
  const minCommitTs = r.ts();
  const shortValue = (flags & flagShortValue) !== 0 ? r.bytes() : undefined;
  const count = r.u32();
  const secondaries: Uint8Array[] = [];
  for (let i = 0; i < count; i++) secondaries.push(r.bytes());
  r.end();
  return {
    kind,
    primary,
    startTs,
    ttlMs,
    shortValue,
    forUpdateTs,
    txnSize,
    minCommitTs,
    useAsyncCommit: (flags & flagAsyncCommit) !== 0,
    secondaries,
  };
}
