/**
 * Size estimates of a shard's data, for PD's heartbeats and for splits without explicit
 * keys: the shard's bytes (the engine's approximate size of its three column-family
 * ranges), its user keys, and its middle key.
 *
 * The data of one user key is spread over the lock, write and default column families
 * (`mvcc/keys.ts`), each of which sorts by the memcomparable encoding of the user key, so
 * a merge of the three scans visits user keys in order with every version of a key
 * together. A split key found that way is always a user-key boundary: all versions and
 * the lock of a key stay in one shard. Everything here is a read of the engine (or an
 * engine snapshot) and changes nothing.
 */
import { compareBytes } from "../engine/bytes.ts";
import type { Engine, EngineReader, KeyValue } from "../engine/engine.ts";
import { decodeEngineKey } from "../mvcc/keys.ts";
import { dataRanges } from "./local_keys.ts";

type KeyRange = { readonly startKey: Uint8Array; readonly endKey: Uint8Array };

/** Bytes (keys plus values) of the shard's data, over all column families. */
export function shardDataBytes(engine: Pick<Engine, "approximateSize">, shard: KeyRange): number {
  let total = 0;
  for (const r of dataRanges(shard.startKey, shard.endKey)) {
    total += engine.approximateSize(r.start, r.end);
  }
  return total;
}

/** One user key of a shard and the bytes of all its data (lock, versions, values). */
interface UserKeySize {
  readonly key: Uint8Array;
  readonly bytes: number;
}

/** The shard's user keys in order, each once, with its bytes over the column families. */
export function* userKeySizes(reader: EngineReader, shard: KeyRange): Generator<UserKeySize> {
  const cursors = dataRanges(shard.startKey, shard.endKey).map((r) => {
    const it = reader.scan({ start: r.start, end: r.end });
    return { it, head: next(it) };
  });
  for (;;) {
    let min: Uint8Array | undefined;
    for (const c of cursors) {
      if (c.head !== undefined && (min === undefined || compareBytes(c.head.key, min) < 0)) {
        min = c.head.key;
      }
    }
    if (min === undefined) return;
    let bytes = 0;
    for (const c of cursors) {
      while (c.head !== undefined && compareBytes(c.head.key, min) === 0) {
        bytes += c.head.raw.key.length + c.head.raw.value.length;
        c.head = next(c.it);
      }
    }
    yield { key: min, bytes };
  }
}

function next(
  it: Iterator<KeyValue>,
): { readonly key: Uint8Array; readonly raw: KeyValue } | undefined {
  const r = it.next();
  if (r.done === true) return undefined;
  return { key: decodeEngineKey(r.value.key).key, raw: r.value };
}

/**
 * The first user key at which half of the shard's bytes lie before it: the split key
 * of a split at the approximate middle. `undefined` when no key strictly after the
 * shard's start qualifies (an empty shard, or one holding a single user key).
 */
export function middleUserKey(
  reader: EngineReader,
  shard: KeyRange,
  options: { readonly totalBytes: number },
): Uint8Array | undefined {
  const half = options.totalBytes / 2;
  let before = 0;
  let fallback: Uint8Array | undefined;
  for (const { key, bytes } of userKeySizes(reader, shard)) {
    if (compareBytes(key, shard.startKey) > 0) {
      if (before >= half) return key;
      // The data may have grown since the total was taken: the last key is the best cut.
      fallback = key;
    }
    before += bytes;
  }
  return fallback;
}

/**
 * The number of user keys in the shard. Counting stops after `scanKeysMax` keys; the
 * rest is extrapolated from the bytes the counted keys took (an approximate count, as
 * PD needs it).
 */
export function approximateUserKeys(
  reader: EngineReader,
  shard: KeyRange,
  options: { readonly totalBytes: number; readonly scanKeysMax: number },
): number {
  let keys = 0;
  let bytes = 0;
  for (const entry of userKeySizes(reader, shard)) {
    if (keys >= options.scanKeysMax) {
      return bytes === 0 ? keys : Math.round((keys * options.totalBytes) / bytes);
    }
    keys++;
    bytes += entry.bytes;
  }
  return keys;
}
