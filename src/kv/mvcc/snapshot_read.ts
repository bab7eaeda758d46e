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
import type { EngineReader, KeyValue } from "../engine/engine.ts";
import { Cf, cfRange, dataKey, decodeEngineKey, decodeUserKey, writeKey } from "./keys.ts";
import { type Lock, decodeLock } from "./lock.ts";
import { compareBytes } from "./bytes.ts";
import { MvccReader } from "./reader.ts";
import { type Write, decodeWrite, writeKindOf } from "./write.ts";

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

/**
 * An engine scan over one column family that can jump: `seek` reopens it at a new bound
 * (forward: a new start; reverse: a new end). Entries are read lazily, one at a time.
 */
class Cursor {
  private readonly snapshot: EngineReader;
  private readonly range: { start: Uint8Array; end: Uint8Array };
  private readonly reverse: boolean;
  private iterator: IterableIterator<KeyValue>;
  /** The current entry; undefined once the range is exhausted. */
  current: KeyValue | undefined;

  constructor(snapshot: EngineReader, range: { start: Uint8Array; end: Uint8Array },
    reverse: boolean) {
    this.snapshot = snapshot;
    this.range = range;
    this.reverse = reverse;
    this.iterator = this.open();
    this.current = this.pull();
  }

  private open(): IterableIterator<KeyValue> {
    if (compareBytes(this.range.start, this.range.end) >= 0) return [][Symbol.iterator]();
    return this.snapshot.scan({ ...this.range, reverse: this.reverse });
  }

  private pull(): KeyValue | undefined {
    const next = this.iterator.next();
    return next.done === true ? undefined : next.value;
  }

  next(): void {
    this.current = this.pull();
  }

  /** Continues from `bound`: forward, the first key >= it; reverse, the last key < it. */
  seek(bound: Uint8Array): void {
    this.close();
    if (this.reverse) this.range.end = bound;
    else this.range.start = bound;
    this.iterator = this.open();
    this.current = this.pull();
  }

  close(): void {
    this.iterator.return?.();
  }
}

/** Versions of one key read one by one before a scan seeks past the rest instead. */
const versionsStepMax = 8;

/** Whether two write CF engine keys are versions of one user key (all but the ts agree). */
function sameVersionGroup(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 9; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether the commit ts of a write CF engine key is at or below the ts whose descending
 * form is `descTs` (`writeKey(…, ts)`'s last 8 bytes): its last 8 bytes are >= those.
 */
function committedAtOrBelow(engineKey: Uint8Array, descTs: Uint8Array): boolean {
  const at = engineKey.length - 8;
  for (let i = 0; i < 8; i++) {
    const a = engineKey[at + i]!;
    const b = descTs[i]!;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Scans user keys at `readTs`, merging the lock and write column families: one cursor on
 * each, walked in key order (as TiKV's forward and backward scanners), instead of a
 * point lookup per key. Versions of a key sort newest first; a key with more than
 * `versionsStepMax` versions to pass is left by a seek. A lock in the way stops the scan
 * at the first such key, unless `limit` pairs come before it.
 */
export function mvccScan(
  snapshot: EngineReader,
  readTs: Timestamp,
  options: ScanOptions,
): ScanResult {
  assert(options.limit > 0, "scan limit must be positive");
  const reverse = options.reverse ?? false;
  const locks = new Cursor(snapshot, cfRange(Cf.lock, options.start, options.end), reverse);
  const writes = new Cursor(snapshot, cfRange(Cf.write, options.start, options.end), reverse);
  const descTs = writeKey(new Uint8Array(0), readTs).subarray(-8);
  try {
    return reverse ? scanBackward(snapshot, readTs, descTs, options, locks, writes)
      : scanForward(snapshot, readTs, descTs, options, locks, writes);
  } finally {
    locks.close();
    writes.close();
  }
}

/**
 * The first lock in the way among the locks up to encoded user key `enc` (forward: keys
 * <= it, reverse: keys >= it; undefined: all the rest), moving the lock cursor past them.
 */
function lockInWay(locks: Cursor, enc: Uint8Array | undefined, reverse: boolean,
  readTs: Timestamp, options: ReadOptions): LockedKey | undefined {
  for (; locks.current !== undefined; locks.next()) {
    const engineKey = locks.current.key;
    if (enc !== undefined) {
      const order = compareBytes(engineKey.subarray(1), enc);
      if (reverse ? order < 0 : order > 0) return undefined;
    }
    const lock = decodeLock(locks.current.value);
    if (lockBlocksRead(lock, readTs, options)) {
      return { key: decodeEngineKey(engineKey).key, lock };
    }
  }
  return undefined;
}

/** The user key of a write CF engine key. */
function userKeyOf(engineKey: Uint8Array): Uint8Array {
  return decodeUserKey(engineKey, 1).key;
}

function valueOf(snapshot: EngineReader, key: Uint8Array, write: Write): Uint8Array {
  if (write.shortValue !== undefined) return write.shortValue;
  const value = snapshot.get(dataKey(key, write.startTs));
  assert(value !== undefined, "commit record without its value in default CF");
  return value;
}

function scanForward(snapshot: EngineReader, readTs: Timestamp, descTs: Uint8Array,
  options: ScanOptions, locks: Cursor, writes: Cursor): ScanResult {
  const pairs: MvccPair[] = [];
  while (writes.current !== undefined) {
    const first = writes.current.key;
    const locked = lockInWay(locks, first.subarray(1, first.length - 8), false, readTs,
      options);
    if (locked !== undefined) return { kind: "locked", ...locked };
    let found: Uint8Array | undefined;
    let steps = 0;
    let seeked = false;
    while (writes.current !== undefined) {
      const engineKey = writes.current.key;
      if (engineKey !== first && !sameVersionGroup(engineKey, first)) break;
      if (found === undefined) {
        if (committedAtOrBelow(engineKey, descTs)) {
          const kind = writeKindOf(writes.current.value);
          if (kind === "put" || kind === "delete") found = writes.current.value;
        } else if (++steps > versionsStepMax && !seeked) {
          // Many versions above readTs: jump to the newest at or below it.
          seeked = true;
          writes.seek(writeKey(userKeyOf(first), readTs));
          continue;
        }
      } else if (++steps > versionsStepMax) {
        // Older versions of a decided key: jump past them.
        writes.seek(afterVersions(first.subarray(0, first.length - 8)));
        break;
      }
      writes.next();
    }
    if (found !== undefined && writeKindOf(found) === "put") {
      const key = userKeyOf(first);
      pairs.push({ key, value: valueOf(snapshot, key, decodeWrite(found)) });
      if (pairs.length >= options.limit) return { kind: "ok", pairs };
    }
  }
  const locked = lockInWay(locks, undefined, false, readTs, options);
  return locked !== undefined ? { kind: "locked", ...locked } : { kind: "ok", pairs };
}

function scanBackward(snapshot: EngineReader, readTs: Timestamp, descTs: Uint8Array,
  options: ScanOptions, locks: Cursor, writes: Cursor): ScanResult {
  const pairs: MvccPair[] = [];
  while (writes.current !== undefined) {
    const first = writes.current.key;
    const group = first.subarray(0, first.length - 8);
    const locked = lockInWay(locks, group.subarray(1), true, readTs, options);
    if (locked !== undefined) return { kind: "locked", ...locked };
    const key = userKeyOf(first);
    // Versions come oldest first: the last put or delete at or below readTs wins.
    let found: Write | undefined;
    let steps = 0;
    while (writes.current !== undefined) {
      const engineKey = writes.current.key;
      if (engineKey !== first && !sameVersionGroup(engineKey, first)) break;
      if (++steps > versionsStepMax) {
        // Many versions: look the visible one up, and jump below this key.
        found = new MvccReader(snapshot).getWrite(key, readTs)?.write;
        writes.seek(group);
        break;
      }
      if (committedAtOrBelow(engineKey, descTs)) {
        const kind = writeKindOf(writes.current.value);
        if (kind === "put" || kind === "delete") found = decodeWrite(writes.current.value);
      }
      writes.next();
    }
    if (found?.kind === "put") {
      pairs.push({ key, value: valueOf(snapshot, key, found) });
      if (pairs.length >= options.limit) return { kind: "ok", pairs };
    }
  }
  const locked = lockInWay(locks, undefined, true, readTs, options);
  return locked !== undefined ? { kind: "locked", ...locked } : { kind: "ok", pairs };
}

/** The engine key just above every version in write CF group `group` (`w` + enc(key)). */
function afterVersions(group: Uint8Array): Uint8Array {
  const out = new Uint8Array(group.length + 9).fill(0xff);
  out.set(group);
  return out;
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
