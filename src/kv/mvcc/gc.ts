/**
 * MVCC garbage collection below a safe point.
 *
 * No reader will ever read below the safe point (PD guarantees it), so for each key only the
 * newest put at or below the safe point must survive; older versions, deletes, lock records
 * and rollback records at or below it are removed, with their default CF values. Records
 * above the safe point are never touched. GC is pure: it returns the writes to apply.
 */
import { type Timestamp, assert } from "../../base/mod.ts";
import type { EngineReader, WriteOp } from "../engine/engine.ts";
import { Cf, cfRange, dataKey, decodeEngineKey, versionsRange, writeKey } from "./keys.ts";
import { MvccReader } from "./reader.ts";

/** What GC of a range removed, and where to continue. */
export interface GcResult {
  readonly writes: WriteOp[];
  /** Commit records removed. */
  readonly deletedVersions: number;
  /** The first user key not yet visited, or undefined when the range is done. */
  readonly nextKey: Uint8Array | undefined;
}

/** Removes the versions of `key` that no read at or above `safePoint` can see. */
export function gcKey(
  snapshot: EngineReader,
  key: Uint8Array,
  safePoint: Timestamp,
): { writes: WriteOp[]; deletedVersions: number } {
  const reader = new MvccReader(snapshot);
  const writes: WriteOp[] = [];
  let keptLatest = false;
  for (const { commitTs, write } of reader.writesAtOrBelow(key, safePoint)) {
    if (!keptLatest && write.kind === "put") {
      keptLatest = true;
      continue;
    }
    // A delete at or below the safe point hides everything older: it goes too, and so
    // does everything after it.
    if (write.kind === "delete") keptLatest = true;
    writes.push({ kind: "delete", key: writeKey(key, commitTs) });
    if (write.kind === "put" && write.shortValue === undefined) {
      writes.push({ kind: "delete", key: dataKey(key, write.startTs) });
    }
  }
  return { writes, deletedVersions: writes.filter((w) => isWriteCf(w)).length };
}

function isWriteCf(op: WriteOp): boolean {
  return op.kind === "delete" && op.key[0] === Cf.write;
}

/** GC of user keys in `[start, end)`, visiting at most `keysMax` keys. */
export function gcRange(
  snapshot: EngineReader,
  options: { start?: Uint8Array; end?: Uint8Array; safePoint: Timestamp; keysMax: number },
): GcResult {
  assert(options.keysMax > 0, "gc keysMax must be positive");
  const range = cfRange(Cf.write, options.start, options.end);
  const writes: WriteOp[] = [];
  let deletedVersions = 0;
  let visited = 0;
  for (;;) {
    let key: Uint8Array | undefined;
    for (const kv of snapshot.scan({ ...range, limit: 1 })) key = decodeEngineKey(kv.key).key;
    if (key === undefined) return { writes, deletedVersions, nextKey: undefined };
    if (visited === options.keysMax) return { writes, deletedVersions, nextKey: key };
    const result = gcKey(snapshot, key, options.safePoint);
    writes.push(...result.writes);
    deletedVersions += result.deletedVersions;
    visited++;
    range.start = versionsRange(Cf.write, key).end;
  }
}
