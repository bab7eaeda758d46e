/**
 * `SimDiskEngine`: a KV storage `Engine` for the simulator that persists through the
 * simulated disk, so that a simulated crash loses exactly what was not synced.
 *
 * The data lives in a `MemoryEngine` (reads, scans, snapshots are its own); every write
 * batch is also appended to a log file on the process's `FileSystem` — one record per
 * batch, `[length u32][crc32 u32][payload]` — in submission order, and a `sync: true`
 * batch resolves only once the log is synced. Opening replays the log and stops at the
 * first short or corrupt record (a torn tail), which it cuts off: what survives a crash is
 * a prefix of the batches, every synced one included, none half-applied, which is the
 * `Engine` contract. When the log passes `compactBytes`, the whole contents are written
 * as a checkpoint (`writeFileAtomic`: old or new after a crash) and the log restarts.
 * A failed append or sync (the disk died under a crashed process) stops the engine: every
 * later write is refused with `KV:Engine:WriteFailed`. `ingest` reads real files and is not
 * supported here.
 */
import { ErrorCode, TesseraError } from "../../../src/base/mod.ts";
import type { Crypto, FileHandle, FileSystem } from "../../../src/env/mod.ts";
import {
  type Engine,
  type EngineSnapshot,
  type IngestResult,
  type KeyValue,
  MemoryEngine,
  type ScanOptions,
  type WriteOp,
  type WriteOptions,
} from "../../../src/kv/mod.ts";

/** Log size past which the contents are checkpointed and the log restarted. */
const compactBytesDefault = 8 * 1024 * 1024;

const opPut = 1;
const opDelete = 2;
const opDeleteRange = 3;

/** Serializes a batch: per op a kind byte, then length-prefixed byte strings. */
function encodeOps(ops: readonly WriteOp[]): Uint8Array {
  let size = 0;
  for (const op of ops) {
    size += 1 + 8 + (op.kind === "deleteRange" ? op.start.length + op.end.length
      : op.kind === "put" ? op.key.length + op.value.length : op.key.length);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const bytes = (b: Uint8Array): void => {
    view.setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  };
  for (const op of ops) {
    if (op.kind === "put") {
      out[at++] = opPut;
      bytes(op.key);
      bytes(op.value);
    } else if (op.kind === "delete") {
      out[at++] = opDelete;
      bytes(op.key);
      bytes(new Uint8Array(0));
    } else {
      out[at++] = opDeleteRange;
      bytes(op.start);
      bytes(op.end);
    }
  }
  return out;
}

function decodeOps(payload: Uint8Array): WriteOp[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const ops: WriteOp[] = [];
  let at = 0;
  const bytes = (): Uint8Array => {
    const length = view.getUint32(at);
    const b = payload.slice(at + 4, at + 4 + length);
    at += 4 + length;
    return b;
  };
  while (at < payload.length) {
    const kind = payload[at++];
    const a = bytes();
    const b = bytes();
    if (kind === opPut) ops.push({ kind: "put", key: a, value: b });
    else if (kind === opDelete) ops.push({ kind: "delete", key: a });
    else ops.push({ kind: "deleteRange", start: a, end: b });
  }
  return ops;
}

/** The valid records of a log: the batches and the byte length they span. */
function parseLog(data: Uint8Array, crypto: Crypto): { batches: WriteOp[][]; validBytes: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const batches: WriteOp[][] = [];
  let at = 0;
  while (at + 8 <= data.length) {
    const length = view.getUint32(at);
    const crc = view.getUint32(at + 4);
    if (at + 8 + length > data.length) break;
    const payload = data.subarray(at + 8, at + 8 + length);
    if (crypto.crc32(payload) !== crc) break;
    batches.push(decodeOps(payload));
    at += 8 + length;
  }
  return { batches, validBytes: at };
}

export interface SimDiskEngineOptions {
  readonly fs: FileSystem;
  readonly crypto: Crypto;
  /** Directory of the engine's files (created). */
  readonly dir: string;
  readonly compactBytes?: number;
}

/** See the file comment. */
export class SimDiskEngine implements Engine {
  private readonly memory: MemoryEngine;
  private readonly options: SimDiskEngineOptions;
  private log: FileHandle;
  private logBytes: number;
  /** Resolves when every append so far is done; chains them in order. */
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private compacting = false;

  private constructor(options: SimDiskEngineOptions, memory: MemoryEngine, log: FileHandle,
    logBytes: number) {
    this.options = options;
    this.memory = memory;
    this.log = log;
    this.logBytes = logBytes;
  }

  /** Opens (recovering from the checkpoint and the log) or creates the engine in `dir`. */
  static async open(options: SimDiskEngineOptions): Promise<SimDiskEngine> {
    const { fs, dir } = options;
    await fs.mkdir(dir);
    const memory = new MemoryEngine();
    if (await fs.exists(`${dir}/checkpoint`)) {
      const { batches } = parseLog(await fs.readFile(`${dir}/checkpoint`), options.crypto);
      for (const batch of batches) await memory.write(batch, { sync: false });
    }
    const log = await fs.open(`${dir}/log`, { create: true });
    const size = await log.size();
    const data = await log.read(0, size);
    const { batches, validBytes } = parseLog(data, options.crypto);
    for (const batch of batches) await memory.write(batch, { sync: false });
    if (validBytes < size) {
      await log.truncate(validBytes);
      await log.sync();
    }
    await fs.syncDir(dir);
    return new SimDiskEngine(options, memory, log, validBytes);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.memory.get(key);
  }

  scan(options: ScanOptions): IterableIterator<KeyValue> {
    return this.memory.scan(options);
  }

  snapshot(): EngineSnapshot {
    return this.memory.snapshot();
  }

  approximateSize(start: Uint8Array, end: Uint8Array): number {
    return this.memory.approximateSize(start, end);
  }

  write(ops: readonly WriteOp[], options: WriteOptions): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failed());
    if (ops.length === 0) return options.sync ? this.sync() : Promise.resolve();
    // Applied (and checked) in memory first: a refused batch never reaches the log.
    const applied = this.memory.write(ops, options);
    const payload = encodeOps(ops);
    const record = new Uint8Array(8 + payload.length);
    const view = new DataView(record.buffer);
    view.setUint32(0, payload.length);
    view.setUint32(4, this.options.crypto.crc32(payload));
    record.set(payload, 8);
    this.logBytes += record.length;
    const log = this.log;
    // A batch the memory engine refused (too large a key) is not logged and stops nothing.
    const appended = this.tail.then(() => applied.then(() => log.append(record), () => undefined));
    this.tail = appended.catch((error: unknown) => {
      this.failure ??= error;
    });
    if (this.logBytes > (this.options.compactBytes ?? compactBytesDefault)) this.compact();
    return applied.then(() =>
      appended.then(() => (options.sync ? log.sync() : undefined)).catch((error: unknown) => {
        this.failure ??= error;
        throw this.failed();
      }));
  }

  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failed());
    const log = this.log;
    return this.tail.then(() => {
      if (this.failure !== undefined) throw this.failed();
      return log.sync();
    }).catch((error: unknown) => {
      this.failure ??= error;
      throw this.failed();
    });
  }

  /** Checkpoints the contents durably and starts an empty log, after pending appends. */
  private compact(): void {
    if (this.compacting) return;
    this.compacting = true;
    const { fs, dir } = this.options;
    const snapshot = this.memory.snapshot();
    const pairs: WriteOp[] = [];
    for (const { key, value } of snapshot.scan({})) pairs.push({ kind: "put", key, value });
    snapshot.release();
    const payload = encodeOps(pairs);
    const record = new Uint8Array(8 + payload.length);
    const view = new DataView(record.buffer);
    view.setUint32(0, payload.length);
    view.setUint32(4, this.options.crypto.crc32(payload));
    record.set(payload, 8);
    // Appends stay queued behind the switch, so none lands in the old log after it.
    const old = this.log;
    const switched = this.tail.then(async () => {
      await fs.writeFileAtomic(`${dir}/checkpoint`, record);
      await old.truncate(0);
      await old.sync();
      this.logBytes = 0;
    });
    this.tail = switched.catch((error: unknown) => {
      this.failure ??= error;
    }).finally(() => {
      this.compacting = false;
    });
  }

  private failed(): TesseraError {
    return new TesseraError(ErrorCode.KvEngineWriteFailed, "simulated disk write failed",
      { cause: this.failure });
  }

  ingest(_path: string): Promise<IngestResult> {
    return Promise.reject(new Error("SimDiskEngine: ingest is not supported in simulation"));
  }

  async close(): Promise<void> {
    await this.tail;
    await this.memory.close();
    await this.log.close().catch(() => undefined);
  }
}
