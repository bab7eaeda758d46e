/**
 * The sorted file that `Engine.ingest` reads: key/value pairs in strictly increasing key
 * order, written by bulk import after sorting on local disk.
 *
 * Layout (integers big-endian):
 *   header  "TSSF" (4 bytes), format version (1 byte, = 1), 3 zero bytes
 *   record  key length (u32), value length (u32), key, value      — repeated
 *   footer  "TSSE" (4 bytes), record count (u32), CRC-32 of every byte before the CRC (u32)
 * The reader checks everything — magic, version, lengths, count, checksum, engine limits
 * and order — before returning, so a truncated, corrupted or unsorted file is refused
 * before any pair reaches an engine.
 */
import { open, readFile, stat } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { ErrorCode, TesseraError, limits } from "../../base/mod.ts";
import { checkKey, checkValue, compareBytes } from "./bytes.ts";
import type { KeyValue } from "./engine.ts";

const headerMagic = [0x54, 0x53, 0x53, 0x46]; // "TSSF"
const footerMagic = [0x54, 0x53, 0x53, 0x45]; // "TSSE"
/** Format version written and the only one read. */
export const sortedFileVersion = 1;
const headerBytes = 8;
const footerBytes = 12;

function malformed(path: string, why: string): TesseraError {
  return new TesseraError(ErrorCode.KvEngineIngestMalformed, `sorted file ${path}: ${why}`, {
    details: { path },
  });
}

/**
 * Encodes pairs as given, without checking their order (the reader does), so tests can
 * build bad files. Use `writeSortedFile` to produce files for ingest.
 */
export function encodeSortedFile(pairs: readonly KeyValue[]): Uint8Array {
  let size = headerBytes + footerBytes;
  for (const p of pairs) size += 8 + p.key.length + p.value.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(headerMagic, 0);
  out[4] = sortedFileVersion;
  let at = headerBytes;
  for (const p of pairs) {
    view.setUint32(at, p.key.length);
    view.setUint32(at + 4, p.value.length);
    out.set(p.key, at + 8);
    out.set(p.value, at + 8 + p.key.length);
    at += 8 + p.key.length + p.value.length;
  }
  out.set(footerMagic, at);
  view.setUint32(at + 4, pairs.length);
  view.setUint32(at + 8, crc32(out.subarray(0, at + 8)));
  return out;
}

/** Checks that keys strictly increase; throws `KV:Engine:IngestUnsorted` otherwise. */
function checkOrder(pairs: readonly KeyValue[], path: string): void {
  for (let i = 1; i < pairs.length; i++) {
    const order = compareBytes((pairs[i - 1] as KeyValue).key, (pairs[i] as KeyValue).key);
    if (order >= 0) {
      throw new TesseraError(
        ErrorCode.KvEngineIngestUnsorted,
        `sorted file ${path}: pair ${i} ${order === 0 ? "repeats" : "is below"} the key ` +
          `before it`,
        { details: { path, pair: i } },
      );
    }
  }
}

/** Writes pairs (strictly increasing keys, within engine limits) to `path` and fsyncs it. */
export async function writeSortedFile(path: string, pairs: readonly KeyValue[]): Promise<void> {
  for (const p of pairs) {
    checkKey(p.key);
    checkValue(p.value);
  }
  checkOrder(pairs, path);
  const handle = await open(path, "w");
  try {
    await handle.writeFile(encodeSortedFile(pairs));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Decodes and fully validates a sorted file's bytes. */
export function decodeSortedFile(bytes: Uint8Array, path: string): KeyValue[] {
  if (bytes.length < headerBytes + footerBytes) throw malformed(path, "too short");
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== headerMagic[i]) throw malformed(path, "not a sorted file (bad magic)");
  }
  if (bytes[4] !== sortedFileVersion) {
    throw malformed(path, `format version ${bytes[4]}, expected ${sortedFileVersion}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerAt = bytes.length - footerBytes;
  const pairs: KeyValue[] = [];
  let at = headerBytes;
  while (at < footerAt) {
    if (at + 8 > footerAt) throw malformed(path, `record header cut at byte ${at}`);
    const keyLength = view.getUint32(at);
    const valueLength = view.getUint32(at + 4);
    const end = at + 8 + keyLength + valueLength;
    if (end > footerAt) throw malformed(path, `record at byte ${at} runs past the end`);
    const key = bytes.slice(at + 8, at + 8 + keyLength);
    const value = bytes.slice(at + 8 + keyLength, end);
    pairs.push({ key, value });
    at = end;
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[footerAt + i] !== footerMagic[i]) throw malformed(path, "bad footer magic");
  }
  if (view.getUint32(footerAt + 4) !== pairs.length) {
    throw malformed(path, "record count does not match the footer");
  }
  if (view.getUint32(footerAt + 8) !== crc32(bytes.subarray(0, footerAt + 8))) {
    throw malformed(path, "checksum mismatch");
  }
  for (const p of pairs) {
    checkKey(p.key);
    checkValue(p.value);
  }
  checkOrder(pairs, path);
  return pairs;
}

/** Reads and validates the sorted file at `path`. */
export async function readSortedFile(path: string): Promise<KeyValue[]> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw malformed(path, `unreadable (${String(error)})`);
  }
  if (size > limits.engineIngestFileBytesMax) {
    throw malformed(path, `${size} bytes exceeds ${limits.engineIngestFileBytesMax}`);
  }
  return decodeSortedFile(await readFile(path), path);
}
