/**
 * The "local" keyspace of a store: Raft logs, hard states, apply states and peer states of
 * every shard, under the prefix 0x01 (TiKV's local keys). User data lives under the MVCC
 * column-family prefixes (`d`, `l`, `w`, all above 0x01), so the two never mix and one
 * engine batch can change both atomically (applying an entry writes its data and the
 * applied index together).
 *
 * Layout (numbers are 8-byte big-endian, so keys sort by shard, then by log position):
 * - `01 01 shard 01 index` → one Raft log entry
 * - `01 01 shard 02`       → the Raft hard state
 * - `01 02 shard 01`       → the apply state (applied and truncated positions, conf state)
 * - `01 02 shard 02`       → the peer state (shard meta, peer id, normal or tombstone)
 * The layout is on-disk format: changing it needs a migration.
 */
import { cfRange, Cf } from "../mvcc/keys.ts";
import { compareBytes } from "../engine/bytes.ts";

const localPrefix = 0x01;
const raftPrefix = 0x01;
const metaPrefix = 0x02;

function put64(out: Uint8Array, offset: number, value: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000));
  view.setUint32(offset + 4, value >>> 0);
}

function get64(data: Uint8Array, offset: number): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4);
}

function shardKey(kind: number, shardId: number, suffix: number[], index?: number): Uint8Array {
  const out = new Uint8Array(10 + suffix.length + (index === undefined ? 0 : 8));
  out[0] = localPrefix;
  out[1] = kind;
  put64(out, 2, shardId);
  out.set(suffix, 10);
  if (index !== undefined) put64(out, 10 + suffix.length, index);
  return out;
}

/** The key of the Raft log entry of `shardId` at `index`. */
export function raftLogKey(shardId: number, index: number): Uint8Array {
  return shardKey(raftPrefix, shardId, [0x01], index);
}

/** The log position a Raft log key holds. */
export function raftLogIndex(key: Uint8Array): number {
  return get64(key, 11);
}

/** The key range of every Raft log entry of `shardId`. */
export function raftLogRange(shardId: number): { start: Uint8Array; end: Uint8Array } {
  return {
    start: shardKey(raftPrefix, shardId, [0x01]),
    end: shardKey(raftPrefix, shardId, [0x02]),
  };
}

/** The key of the Raft hard state of `shardId`. */
export function hardStateKey(shardId: number): Uint8Array {
  return shardKey(raftPrefix, shardId, [0x02]);
}

/** The key of the apply state of `shardId`. */
export function applyStateKey(shardId: number): Uint8Array {
  return shardKey(metaPrefix, shardId, [0x01]);
}

/** The key of the peer state of `shardId`. */
export function peerStateKey(shardId: number): Uint8Array {
  return shardKey(metaPrefix, shardId, [0x02]);
}

/** The range holding every shard's apply and peer states (scanned on recovery). */
export const shardMetaRange = {
  start: Uint8Array.of(localPrefix, metaPrefix),
  end: Uint8Array.of(localPrefix, metaPrefix + 1),
};

/** True if `key` is a peer state key (and not an apply state key). */
export function isPeerStateKey(key: Uint8Array): boolean {
  return key.length === 11 && key[0] === localPrefix && key[1] === metaPrefix && key[10] === 0x02;
}

/** The shard id of a local key. */
export function localKeyShardId(key: Uint8Array): number {
  return get64(key, 2);
}

const allCfs: readonly Cf[] = [Cf.default, Cf.lock, Cf.write];

/**
 * The engine key ranges holding the data of the user key range `[startKey, endKey)` (an
 * empty key is the start or end of the key space): one range per column family.
 */
export function dataRanges(
  startKey: Uint8Array,
  endKey: Uint8Array,
): { start: Uint8Array; end: Uint8Array }[] {
  return allCfs.map((cf) =>
    cfRange(
      cf,
      startKey.length === 0 ? undefined : startKey,
      endKey.length === 0 ? undefined : endKey,
    ),
  );
}

/** True if the engine (MVCC-layout) key lies in the data of `[startKey, endKey)`. */
export function engineKeyInRange(
  key: Uint8Array,
  startKey: Uint8Array,
  endKey: Uint8Array,
): boolean {
  for (const r of dataRanges(startKey, endKey)) {
    if (compareBytes(key, r.start) >= 0 && compareBytes(key, r.end) < 0) return true;
  }
  return false;
}

/**
 * True if the engine range `[start, end)` lies inside the data of one column family of
 * `[startKey, endKey)` (a delete range must not reach another shard's data).
 */
export function engineRangeInRange(
  start: Uint8Array,
  end: Uint8Array,
  startKey: Uint8Array,
  endKey: Uint8Array,
): boolean {
  for (const r of dataRanges(startKey, endKey)) {
    if (compareBytes(start, r.start) >= 0 && compareBytes(end, r.end) <= 0) return true;
  }
  return false;
}

/** True if the user key lies in `[startKey, endKey)` (empty bounds are open). */
export function userKeyInRange(key: Uint8Array, startKey: Uint8Array, endKey: Uint8Array): boolean {
  return (
    compareBytes(key, startKey) >= 0 && (endKey.length === 0 || compareBytes(key, endKey) < 0)
  );
}

/** True if the user key ranges `[aStart, aEnd)` and `[bStart, bEnd)` overlap. */
export function rangesOverlap(
  a: { startKey: Uint8Array; endKey: Uint8Array },
  b: { startKey: Uint8Array; endKey: Uint8Array },
): boolean {
  const aBeforeB = a.endKey.length > 0 && compareBytes(a.endKey, b.startKey) <= 0;
  const bBeforeA = b.endKey.length > 0 && compareBytes(b.endKey, a.startKey) <= 0;
  return !aBeforeB && !bBeforeA;
}
