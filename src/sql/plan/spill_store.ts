/**
 * Temporary storage for operators that spill (TiDB's `tidb_enable_tmp_storage_on_oom`):
 * the external sort (`external_sort.ts`) and the spilling hash aggregation
 * (`spill_aggregate.ts`) write runs of rows to files and read them back sequentially in
 * bounded chunks, so a statement can sort or group more rows than its memory quota.
 *
 * Files go through the `Env` file system (`FileSystem`: the real disk on a node, the
 * simulated one in tests), in the SQL node's temp directory (`SpillSpace`: the node's
 * `tmp-storage-path`, by default `tessera-spill` under the OS temp dir: src/cmd; a node
 * without one does not spill). A statement's files
 * are created through one `SpillSet`, whose `close()` removes them all when the statement
 * ends — also when it fails or is killed. The space counts files and bytes written and
 * still on disk (`SpillSpace.stats`).
 *
 * Rows are framed as `varint length, body`; a body is `varint count` then one tagged value
 * each, so every `Value` round-trips exactly (bigints of any size, doubles bit for bit
 * including -0 and NaN, decimals with their scale, strings with their ENUM / SET / TIME /
 * JSON tag and also ill-formed UTF-16, datetimes with their fsp and DATE / UTC flags).
 */
import type { FileHandle, FileSystem } from "../../env/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { rowBytes } from "./memory_tracker.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes a writer buffers before it appends them to its file. */
const writeBufferBytes = 64 * 1024;
/** Bytes a reader reads from its file at a time, by default. */
export const readChunkBytesDefault = 32 * 1024;

// ---- codec -------------------------------------------------------------------------------

/** A growable byte buffer. */
class Bytes {
  buffer = new Uint8Array(256);
  length = 0;
  private view = new DataView(this.buffer.buffer);

  reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + n) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  varint(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  float64(x: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, x);
    this.length += 8;
  }

  int64(x: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, x);
    this.length += 8;
  }

  text(s: string): void {
    const data = utf8.encode(s);
    this.varint(data.length);
    this.raw(data);
  }

  clear(): void {
    this.length = 0;
  }
}

const int64Min = -(1n << 63n);
const int64Max = (1n << 63n) - 1n;

function flag(b: boolean | undefined): number {
  return b === undefined ? 0 : b ? 1 : 2;
}

function encodeValue(out: Bytes, v: Value): void {
  if (v === null) {
    out.byte(0);
    return;
  }
  switch (v.kind) {
    case "int":
    case "uint":
      if (v.value >= int64Min && v.value <= int64Max) {
        out.byte(v.kind === "int" ? 1 : 2);
        out.int64(v.value);
      } else {
        out.byte(v.kind === "int" ? 3 : 4);
        out.text(v.value.toString());
      }
      return;
    case "double":
      out.byte(5);
      out.float64(v.value);
      return;
    case "decimal":
      out.byte(6);
      out.varint(v.scale);
      out.text(v.unscaled.toString());
      return;
    case "string": {
      const wellFormed = v.value.isWellFormed();
      out.byte(wellFormed ? 7 : 8);
      const tag = v.tag;
      if (tag === undefined) out.byte(0);
      else if (tag.kind === "enum") {
        out.byte(1);
        out.varint(tag.index);
      } else if (tag.kind === "set") {
        out.byte(2);
        out.text(tag.bits.toString());
      } else out.byte(tag.kind === "time" ? 3 : 4);
      if (wellFormed) {
        out.text(v.value);
      } else {
        out.varint(v.value.length);
        for (let i = 0; i < v.value.length; i++) {
          const unit = v.value.charCodeAt(i);
          out.byte(unit >> 8);
          out.byte(unit & 0xff);
        }
      }
      return;
    }
    case "datetime": {
      out.byte(9);
      const d = v.value;
      out.varint(d.year);
      out.byte(d.month);
      out.byte(d.day);
      out.byte(d.hour);
      out.byte(d.minute);
      out.byte(d.second);
      out.varint(d.microsecond);
      out.byte(v.fsp);
      out.byte(flag(v.date) | (flag(v.utc) << 2));
      return;
    }
  }
}

/** Appends one framed row to `out`. */
function encodeFramed(out: Bytes, body: Bytes, row: readonly Value[]): void {
  body.clear();
  body.varint(row.length);
  for (const v of row) encodeValue(body, v);
  out.varint(body.length);
  out.raw(body.buffer.subarray(0, body.length));
}

function corrupt(why: string): Error {
  return new Error(`corrupt spill file: ${why}`);
}

class Cursor {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  offset: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, offset: number, end: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
    this.end = end;
  }

  byte(): number {
    if (this.offset >= this.end) throw corrupt("truncated");
    return this.bytes[this.offset++]!;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return n;
      scale *= 128;
    }
    throw corrupt("varint too long");
  }

  take(n: number): Uint8Array {
    if (this.offset + n > this.end) throw corrupt("truncated");
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  text(): string {
    return fromUtf8.decode(this.take(this.varint()));
  }

  float64(): number {
    if (this.offset + 8 > this.end) throw corrupt("truncated");
    const x = this.view.getFloat64(this.offset);
    this.offset += 8;
    return x;
  }

  int64(): bigint {
    if (this.offset + 8 > this.end) throw corrupt("truncated");
    const x = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return x;
  }
}

function unflag(bits: number): boolean | undefined {
  return bits === 0 ? undefined : bits === 1;
}

function decodeValue(r: Cursor): Value {
  const tag = r.byte();
  switch (tag) {
    case 0:
      return null;
    case 1:
      return { kind: "int", value: r.int64() };
    case 2:
      return { kind: "uint", value: BigInt.asUintN(64, r.int64()) };
    case 3:
      return { kind: "int", value: BigInt(r.text()) };
    case 4:
      return { kind: "uint", value: BigInt(r.text()) };
    case 5:
      return { kind: "double", value: r.float64() };
    case 6: {
      const scale = r.varint();
      return { kind: "decimal", unscaled: BigInt(r.text()), scale };
    }
    case 7:
    case 8: {
      const t = r.byte();
      const stringTag = t === 0 ? undefined : t === 1 ? { kind: "enum" as const, index: r.varint() }
        : t === 2 ? { kind: "set" as const, bits: BigInt(r.text()) }
          : t === 3 ? { kind: "time" as const } : t === 4 ? { kind: "json" as const }
            : (() => {
              throw corrupt("string tag");
            })();
      let text: string;
      if (tag === 7) {
        text = r.text();
      } else {
        const units = r.varint();
        const codes: number[] = [];
        for (let i = 0; i < units; i++) codes.push((r.byte() << 8) | r.byte());
        text = String.fromCharCode(...codes);
      }
      return stringTag === undefined ? { kind: "string", value: text }
        : { kind: "string", value: text, tag: stringTag };
    }
    case 9: {
      const year = r.varint();
      const month = r.byte();
      const day = r.byte();
      const hour = r.byte();
      const minute = r.byte();
      const second = r.byte();
      const microsecond = r.varint();
      const fsp = r.byte();
      const flags = r.byte();
      const date = unflag(flags & 3);
      const utc = unflag((flags >> 2) & 3);
      return { kind: "datetime", value: { year, month, day, hour, minute, second, microsecond },
        fsp, ...(date === undefined ? {} : { date }), ...(utc === undefined ? {} : { utc }) };
    }
    default:
      throw corrupt(`value tag ${tag}`);
  }
}

/** Encodes rows as framed bytes (what a spill file holds). */
export function encodeSpillRows(rows: readonly (readonly Value[])[]): Uint8Array {
  const out = new Bytes();
  const body = new Bytes();
  for (const row of rows) encodeFramed(out, body, row);
  return out.buffer.slice(0, out.length);
}

/**
 * Decodes the complete frames of `bytes`: the rows and how many bytes they took (a
 * trailing partial frame is left for the next chunk).
 */
export function decodeSpillRows(bytes: Uint8Array): { rows: Value[][]; used: number } {
  const rows: Value[][] = [];
  let at = 0;
  for (;;) {
    // A frame's length varint, then its body: both must be complete.
    let length = 0;
    let scale = 1;
    let p = at;
    let complete = false;
    while (p < bytes.length && p - at < 8) {
      const b = bytes[p++]!;
      length += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        complete = true;
        break;
      }
    }
    if (!complete || p + length > bytes.length) return { rows, used: at };
    const r = new Cursor(bytes, p, p + length);
    const count = r.varint();
    const row: Value[] = [];
    for (let i = 0; i < count; i++) row.push(decodeValue(r));
    if (r.offset !== p + length) throw corrupt("frame length");
    rows.push(row);
    at = p + length;
  }
}

// ---- files -------------------------------------------------------------------------------

/** What a SQL node's temp storage holds and has held. */
export interface SpillStats {
  /** Spill files created since the node started. */
  filesCreated: number;
  /** Spill files on disk now. */
  filesLive: number;
  /** Bytes written to spill files since the node started. */
  bytesWritten: number;
  /** Bytes in spill files on disk now. */
  bytesLive: number;
}

/** A SQL node's temp storage: a directory of its own on a file system. */
export class SpillSpace {
  readonly fs: FileSystem;
  /** The directory spill files go in (created on first use). */
  readonly dir: string;
  readonly stats: SpillStats = { filesCreated: 0, filesLive: 0, bytesWritten: 0, bytesLive: 0 };
  private made: Promise<void> | null = null;
  private sequence = 0;
  /** Starts this space's file names, apart from other processes' in a shared directory. */
  private readonly prefix: string;

  constructor(fs: FileSystem, dir: string, options: { readonly prefix?: string } = {}) {
    this.fs = fs;
    this.dir = dir;
    this.prefix = options.prefix ?? "spill";
  }

  /**
   * Removes spill files a previous process left in the directory (it died mid-statement);
   * nothing else in it is touched.
   */
  async removeStale(): Promise<void> {
    if (!await this.fs.exists(this.dir)) return;
    for (const name of await this.fs.readdir(this.dir)) {
      if (/^spill-[0-9a-f-]*\.tmp$/.test(name)) await this.fs.remove(`${this.dir}/${name}`);
    }
  }

  /** A new set of files for one statement. */
  open(): SpillSet {
    return new SpillSet(this);
  }

  /** The path of a new file (the directory made first). */
  async newPath(): Promise<string> {
    this.made ??= this.fs.mkdir(this.dir).catch((error: unknown) => {
      this.made = null;
      throw error;
    });
    await this.made;
    this.sequence++;
    return `${this.dir}/${this.prefix}-${this.sequence}.tmp`;
  }
}

/** The spill files of one statement; `close()` removes them all. */
export class SpillSet {
  readonly space: SpillSpace;
  private readonly files = new Set<SpillFile>();
  /** Bytes this set's files hold now, and the most they held at once. */
  bytes = 0;
  peakBytes = 0;
  /** Files this set created. */
  created = 0;

  constructor(space: SpillSpace) {
    this.space = space;
  }

  /** A new empty file to write rows to. */
  async create(): Promise<SpillFile> {
    const path = await this.space.newPath();
    const handle = await this.space.fs.open(path, { create: true });
    const file = new SpillFile(this, path, handle);
    this.files.add(file);
    this.created++;
    this.space.stats.filesCreated++;
    this.space.stats.filesLive++;
    return file;
  }

  /** Records `n` bytes written to one of this set's files. */
  wrote(n: number): void {
    this.bytes += n;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    this.space.stats.bytesWritten += n;
    this.space.stats.bytesLive += n;
  }

  /** Closes and removes `file`. */
  async drop(file: SpillFile): Promise<void> {
    if (!this.files.delete(file)) return;
    this.bytes -= file.size;
    this.space.stats.filesLive--;
    this.space.stats.bytesLive -= file.size;
    try {
      await file.handle.close();
    } finally {
      await this.space.fs.remove(file.path);
    }
  }

  /** Removes every file still held (the statement ended, however it ended). */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const file of [...this.files]) {
      try {
        await this.drop(file);
      } catch (error: unknown) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** One spill file: rows appended, then read back from the start in chunks. */
export class SpillFile {
  readonly path: string;
  readonly handle: FileHandle;
  private readonly set: SpillSet;
  private readonly pending = new Bytes();
  private readonly body = new Bytes();
  /** Bytes appended to the file so far. */
  size = 0;
  /** Rows written. */
  rows = 0;

  constructor(set: SpillSet, path: string, handle: FileHandle) {
    this.set = set;
    this.path = path;
    this.handle = handle;
  }

  /** Appends `row` (buffered: `flush()` before reading). */
  async write(row: readonly Value[]): Promise<void> {
    encodeFramed(this.pending, this.body, row);
    this.rows++;
    if (this.pending.length >= writeBufferBytes) await this.flush();
  }

  /** Writes what is buffered to the file. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = this.pending.buffer.slice(0, this.pending.length);
    this.pending.clear();
    await this.handle.append(data);
    this.size += data.length;
    this.set.wrote(data.length);
  }

  /** A reader from the start of the file (after `flush()`), `chunkBytes` at a time. */
  reader(chunkBytes = readChunkBytesDefault): SpillReader {
    return new SpillReader(this, chunkBytes);
  }

  /** The file's rows (after `flush()`), chunk by chunk. */
  async *batches(): AsyncGenerator<Value[][]> {
    const reader = this.reader();
    for (let got = await reader.next(); got !== null; got = await reader.next()) yield got;
  }

  /** All the file's rows (after `flush()`), each counted in `mem` as it is read. */
  async readAll(mem: { consume(bytes: number): void }): Promise<Value[][]> {
    const rows: Value[][] = [];
    for await (const got of this.batches()) {
      for (const row of got) {
        mem.consume(rowBytes(row));
        rows.push(row);
      }
    }
    return rows;
  }
}

/**
 * FNV-1a of `key` (a row's hash key) seeded by `seed`, which spilling operators vary by
 * partitioning level so rows split again differently; `-1` is plain FNV-1a.
 */
export function spillHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Reads a spill file's rows in order, one chunk of bytes at a time. */
export class SpillReader {
  private readonly file: SpillFile;
  private readonly chunkBytes: number;
  private position = 0;
  private carry: Uint8Array = new Uint8Array(0);

  constructor(file: SpillFile, chunkBytes: number) {
    this.file = file;
    this.chunkBytes = chunkBytes;
  }

  /** The next rows (at least one), or null at the end of the file. */
  async next(): Promise<Value[][] | null> {
    for (;;) {
      if (this.position >= this.file.size) {
        if (this.carry.length > 0) throw corrupt("truncated at end");
        return null;
      }
      const want = Math.max(this.chunkBytes, this.carry.length + 16);
      const got = await this.file.handle.read(this.position, Math.min(want,
        this.file.size - this.position));
      if (got.length === 0) throw corrupt("short read");
      this.position += got.length;
      const bytes = this.carry.length === 0 ? got : concat(this.carry, got);
      const { rows, used } = decodeSpillRows(bytes);
      this.carry = bytes.slice(used);
      if (rows.length > 0) return rows;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
