/**
 * A commit record in the write CF: "the transaction that started at `startTs` committed this
 * key at the record's `commitTs` (part of its engine key) as a put, delete, lock, or was
 * rolled back".
 *
 * Short values are inlined, so most reads touch only the write CF. A rollback record sits
 * at `commitTs = startTs` of the rolled-back transaction; if a commit record of another
 * transaction already occupies that slot, the rollback is recorded as the
 * `hasOverlappedRollback` flag on it instead. A rollback is `protected` when it must
 * survive collapsing (primary keys and rollbacks that stop a late prewrite); GC below the
 * safe point removes both kinds.
 */
import { ErrorCode, TesseraError, type Timestamp } from "../../base/mod.ts";
import { ByteReader, ByteWriter } from "./bytes.ts";

export type WriteKind = "put" | "delete" | "lock" | "rollback";

/** A write CF record. */
export interface Write {
  readonly kind: WriteKind;
  readonly startTs: Timestamp;
  readonly shortValue: Uint8Array | undefined;
  /** A rollback of the transaction whose startTs equals this record's commitTs. */
  readonly hasOverlappedRollback: boolean;
  /** For rollbacks: must not be collapsed by a later rollback. */
  readonly isProtected: boolean;
}

const kindTags: Record<WriteKind, number> = {
  put: 0x50,
  delete: 0x44,
  lock: 0x4c,
  rollback: 0x52,
};

function kindOfTag(tag: number | undefined): WriteKind {
  switch (tag) {
    case kindTags.put:
      return "put";
    case kindTags.delete:
      return "delete";
    case kindTags.lock:
      return "lock";
    case kindTags.rollback:
      return "rollback";
    default:
      throw new TesseraError(ErrorCode.CodecCorrupt, `unknown write kind tag ${tag}`);
  }
}

/** The kind of an encoded write record, without decoding the rest (scans skip most). */
export function writeKindOf(data: Uint8Array): WriteKind {
  return kindOfTag(data[0]);
}

/** A write record with defaults for the optional fields. */
export function makeWrite(fields: Pick<Write, "kind" | "startTs"> & Partial<Write>): Write {
  return {
    shortValue: undefined,
    hasOverlappedRollback: false,
    isProtected: false,
    ...fields,
  };
}

const flagShortValue = 1;
const flagOverlappedRollback = 2;
const flagProtected = 4;

/** The engine bytes of a write record. */
export function encodeWrite(write: Write): Uint8Array {
  const w = new ByteWriter();
  const flags =
    (write.shortValue === undefined ? 0 : flagShortValue) |
    (write.hasOverlappedRollback ? flagOverlappedRollback : 0) |
    (write.isProtected ? flagProtected : 0);
  w.u8(kindTags[write.kind]).u8(flags).ts(write.startTs);
  if (write.shortValue !== undefined) w.bytes(write.shortValue);
  return w.finish();
}

/**
 * Parses a record written by `encodeWrite`. The short value is a view into `data` (records
 * come from the engine, whose arrays are the reader's own and never changed).
 */
export function decodeWrite(data: Uint8Array): Write {
  const r = new ByteReader(data, "write");
  const kind = kindOfTag(r.u8());
  const flags = r.u8();
  const startTs = r.ts();
  const shortValue = (flags & flagShortValue) !== 0 ? r.bytesView() : undefined;
  r.end();
  return {
    kind,
    startTs,
    shortValue,
    hasOverlappedRollback: (flags & flagOverlappedRollback) !== 0,
    isProtected: (flags & flagProtected) !== 0,
  };
}
