/**
 * Snapshot reads: point get and range scans of user keys at a read timestamp.
 *
 * A read at `readTs` sees, for each key, the newest put/delete committed at or below
 * `readTs`. A lock is in the way when its transaction started at or below `readTs` and may
 * still commit at or below it: then the read returns `locked` and the caller must resolve
 * the lock (check the primary's status) and retry. Locks that cannot be in the way: locks
 * of kind `lock` and `pessimistic` (they never change the value), locks whose
 * `minCommitTs` is above `readTs` (async-commit locks and locks pushed by
 * `checkTxnStatus`), and locks of transactions the reader was told to bypass (resolved as
 * committed after readTs). Readers that bump the concurrency manager's max ts must do so
 * before calling these.
 */
import { type Timestamp, assert } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import { Cf, cfRange, decodeEngineKey, lockKey, versionsRange } from "./keys.ts";
import { type Lock, decodeLock } from "./lock.ts";
import { compareBytes } from "./bytes.ts";
import { MvccReader } from "./reader.ts";

/** A lock that stopped a read. */
export interface LockedKey {
  readonly key: Uint8Array;
  readonly lock: Lock;
}

/** Read options shared by get and scan. */
export interface ReadOptions {
  /** Start timestamps of transactions whose locks the reader may ignore. */
  readonly bypassLocks?: readonly Timestamp[];
}

/** The result of a point get. */
export type GetResult =
  | { readonly kind: "ok"; readonly value: Uint8Array | undefined }
  | ({ readonly kind: "locked" } & LockedKey);

/** One key and its visible value. */
export interface MvccPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** The result of a scan: every visible pair in order, or the first lock in the way. */
export type ScanResult =
  | { readonly kind: "ok"; readonly pairs: readonly MvccPair[] }
  | ({ readonly kind: "locked" } & LockedKey);

/** Options of a scan over user keys `[start, end)`. */
export interface ScanOptions extends ReadOptions {
  readonly start?: Uint8Array;
  readonly end?: Uint8Array;
  /** Most pairs to return; must be positive. */
  readonly limit: number;
  /** From the largest key below `end` down to `start`. */
  readonly reverse?: boolean;
}

/** True when `lock` must stop a read of its key at `readTs`. */
export function lockBlocksRead(
  lock: Lock,
  readTs: Timestamp,
  options: ReadOptions = {},
): boolean {
  if (lock.startTs > readTs) return false;
  if (lock.kind === "lock" || lock.kind === "pessimistic") return false;
  if (lock.minCommitTs > readTs) return false;
  if (options.bypassLocks?.includes(lock.startTs) === true) return false;
  return true;
}

/** Reads `key` at `readTs`. */
export function mvccGet(
  snapshot: EngineReader,
  key: Uint8Array,
  readTs: Timestamp,
  options: ReadOptions = {},
): GetResult {
  const reader = new MvccReader(snapshot);
  const lock = reader.loadLock(key);
  if (lock !== undefined && lockBlocksRead(lock, readTs, options)) {
    return { kind: "locked", key, lock };
  }
  return { kind: "ok", value: reader.getValueIgnoringLocks(key, readTs) };
}

/** The first engine key of `cf` in `[start, end)` (or the last, in reverse). */
function firstIn(
  snapshot: EngineReader,
  range: { start: Uint8Array; end: Uint8Array },
  reverse: boolean,
): Uint8Array | undefined {
  if (compareBytes(range.start, range.end) >= 0) return undefined;
  for (const kv of snapshot.scan({ ...range, reverse, limit: 1 })) return kv.key;
  return undefined;
}

/** Scans user keys at `readTs`, merging the lock and write column families. */
export function mvccScan(
  snapshot: EngineReader,
  readTs: Timestamp,
  options: ScanOptions,
): ScanResult {
  assert(options.limit > 0, "scan limit must be positive");
  const reverse = options.reverse ?? false;
  const lockRange = cfRange(Cf.lock, options.start, options.end);
  const writeRange = cfRange(Cf.write, options.start, options.end);
  const pairs: MvccPair[] = [];
  while (pairs.length < options.limit) {
    const lockHit = firstIn(snapshot, lockRange, reverse);
    const writeHit = firstIn(snapshot, writeRange, reverse);
    const candidates = [lockHit, writeHit]
      .filter((k): k is Uint8Array => k !== undefined)
      .map((k) => decodeEngineKey(k).key)
      .sort(compareBytes);
    const key = reverse ? candidates[candidates.length - 1] : candidates[0];
    if (key === undefined) break;
    const result = mvccGet(snapshot, key, readTs, options);
    if (result.kind === "locked") return result;
    if (result.value !== undefined) pairs.push({ key, value: result.value });
    // Move both cursors past `key`. The encoding is prefix-free, so `lockKey(key) + 0x00`
    // is above this key's lock and below the next key's.
    if (reverse) {
      lockRange.end = lockKey(key);
      writeRange.end = versionsRange(Cf.write, key).start;
    } else {
      const after = new Uint8Array(lockKey(key).length + 1);
      after.set(lockKey(key));
      lockRange.start = after;
      writeRange.start = versionsRange(Cf.write, key).end;
    }
  }
  return { kind: "ok", pairs };
}

/** Every lock in user keys `[start, end)` with `startTs <= maxTs`, up to `limit`. */
export function scanLocks(
  snapshot: EngineReader,
  options: { start?: Uint8Array; end?: Uint8Array; maxTs: Timestamp; limit: number },
): LockedKey[] {
  const out: LockedKey[] = [];
  for (const kv of snapshot.scan(cfRange(Cf.lock, options.start, options.end))) {
    if (out.length >= options.limit) break;
    const lock = decodeLock(kv.value);
    if (lock.startTs <= options.maxTs) out.push({ key: decodeEngineKey(kv.key).key, lock });
  }
  return out;
}
