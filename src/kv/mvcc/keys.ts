/**
 * The MVCC key layout: three column families as one-byte prefixes in one engine keyspace.
 *
 * - lock CF:    `l` + enc(userKey)                     → a `Lock` (at most one per key)
 * - write CF:   `w` + enc(userKey) + desc(commitTs)    → a `Write` commit record
 * - default CF: `d` + enc(userKey) + desc(startTs)     → a value too long to inline
 *
 * `enc` is the memcomparable group encoding TiKV uses (8-byte groups, each followed by a
 * marker `255 - padding`), so it preserves order and is prefix-free: appending a timestamp
 * never makes one user key's versions interleave with another key's (the codec's
 * `encodeGroupBytes`). `desc(ts)` is the 8-byte big-endian form of `2^64 - 1 - ts`, so
 * newer versions sort first. The layout is on-disk format: changing it needs a migration.
 */
import { ErrorCode, TesseraError, type Timestamp, maxTimestamp } from "../../base/mod.ts";
import { decodeGroupBytes, encodeGroupBytes } from "../../codec/mod.ts";

/** Column family prefixes. */
export const Cf = {
  default: 0x64,
  lock: 0x6c,
  write: 0x77,
} as const;
export type Cf = (typeof Cf)[keyof typeof Cf];

/** The memcomparable encoding of `key` (the codec's group encoding). */
export function encodeUserKey(key: Uint8Array): Uint8Array {
  return encodeGroupBytes(key);
}

/** Decodes a memcomparable key at `offset`; returns the key and the offset after it. */
export function decodeUserKey(
  data: Uint8Array,
  offset: number,
): { key: Uint8Array; next: number } {
  const { value, next } = decodeGroupBytes(data, offset);
  return { key: value, next };
}

function descTs(ts: Timestamp): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, maxTimestamp - ts);
  return out;
}

function withPrefix(cf: Cf, key: Uint8Array, ts: Timestamp | undefined): Uint8Array {
  const enc = encodeUserKey(key);
  const out = new Uint8Array(1 + enc.length + (ts === undefined ? 0 : 8));
  out[0] = cf;
  out.set(enc, 1);
  if (ts !== undefined) out.set(descTs(ts), 1 + enc.length);
  return out;
}

/** The lock CF key of `key`. */
export function lockKey(key: Uint8Array): Uint8Array {
  return withPrefix(Cf.lock, key, undefined);
}

/** The write CF key of the commit record of `key` at `commitTs`. */
export function writeKey(key: Uint8Array, commitTs: Timestamp): Uint8Array {
  return withPrefix(Cf.write, key, commitTs);
}

/** The default CF key of the value `key` was prewritten with at `startTs`. */
export function dataKey(key: Uint8Array, startTs: Timestamp): Uint8Array {
  return withPrefix(Cf.default, key, startTs);
}

/** The engine key range `[start, end)` holding every version of `key` in `cf`. */
export function versionsRange(cf: Cf, key: Uint8Array): { start: Uint8Array; end: Uint8Array } {
  const start = withPrefix(cf, key, undefined);
  // Versions are `start` + 8 bytes; `start` + 0xff×9 is above all of them and below the
  // next user key, because the encoding is prefix-free.
  const end = new Uint8Array(start.length + 9).fill(0xff);
  end.set(start);
  return { start, end };
}

/**
 * The engine key range of `cf` covering user keys in `[start, end)`; an absent bound is
 * the start or end of the column family.
 */
export function cfRange(
  cf: Cf,
  start: Uint8Array | undefined,
  end: Uint8Array | undefined,
): { start: Uint8Array; end: Uint8Array } {
  return {
    start: start === undefined ? Uint8Array.of(cf) : withPrefix(cf, start, undefined),
    end: end === undefined ? Uint8Array.of(cf + 1) : withPrefix(cf, end, undefined),
  };
}

/** Splits an engine key into its column family, user key and (if versioned) timestamp. */
export function decodeEngineKey(engineKey: Uint8Array): {
  cf: Cf;
  key: Uint8Array;
  ts: Timestamp | undefined;
} {
  const cf = engineKey[0];
  if (cf !== Cf.default && cf !== Cf.lock && cf !== Cf.write) {
    throw new TesseraError(ErrorCode.CodecCorrupt, `unknown column family byte ${cf}`);
  }
  const { key, next } = decodeUserKey(engineKey, 1);
  if (cf === Cf.lock) {
    if (next !== engineKey.length) throw new TesseraError(ErrorCode.CodecCorrupt, "lock key");
    return { cf, key, ts: undefined };
  }
  if (next + 8 !== engineKey.length) {
    throw new TesseraError(ErrorCode.CodecCorrupt, "versioned key without timestamp");
  }
  const view = new DataView(engineKey.buffer, engineKey.byteOffset, engineKey.byteLength);
  const ts = (maxTimestamp - view.getBigUint64(next)) as Timestamp;
  return { cf, key, ts };
}
