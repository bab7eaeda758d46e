/**
 * `LmdbEngine`: the production `Engine`, on LMDB (npm `lmdb`), in one data directory.
 *
 * Files in the directory: `FORMAT` (engine name, format version, page size; written once,
 * atomically, before any data), `LOCK` (created with O_EXCL, holding the owner's PID),
 * and LMDB's `data.mdb` / `lock.mdb`. Open refuses a directory that another live process
 * holds (`KV:Engine:Locked`), that has data but no or an unreadable `FORMAT`, or whose
 * data file LMDB rejects (`KV:Engine:Corrupt`), or that has another format version or page
 * size (`KV:Engine:VersionMismatch`); it never reinitializes existing files. A `LOCK`
 * whose PID is not alive is stale: it is taken over and reported through `onNote`.
 *
 * Durability decision. lmdb-js's default `overlappingSync` resolves a write at commit,
 * before its data is synced, and its asynchronous write path is not used here. We open
 * with `overlappingSync: false` and commit every batch synchronously with
 * `transactionSync`, choosing LMDB's sync mode per batch:
 * - `sync: true`: a full durable LMDB commit (data pages fsync'd, then the meta page
 *   written and fsync'd) before `transactionSync` returns, so `write` resolves only after
 *   the batch is on disk. Nothing is acknowledged on the strength of a commit callback.
 * - `sync: false`: `MDB_NOMETASYNC`: data pages are fsync'd but the meta page is not, so a
 *   machine crash may drop the latest such batches but never corrupts the file (plain
 *   `MDB_NOSYNC` could let LMDB reuse pages the last durable meta still references).
 * `sync()` forces the meta page out with `mdb_env_sync` on lmdb-js's worker thread.
 * Commits run on the calling thread and block it for the fsync; that is the price of a
 * synchronous, atomic, easily reasoned-about batch.
 *
 * lmdb-js grows its map on demand, so "map full" surfaces as a failed file write (out of
 * disk, file size limit): the batch is aborted by LMDB (nothing of it applied), `write`
 * rejects with `KV:Engine:WriteFailed`, and the engine refuses every later write.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { open as openLmdb, type Database, type Transaction } from "lmdb";
import { ErrorCode, TesseraError, assert, limits } from "../../base/mod.ts";
import { checkKey, checkScanBounds, checkWriteOps, copyBytes } from "./bytes.ts";
import type {
  Engine,
  EngineSnapshot,
  IngestResult,
  KeyValue,
  ScanOptions,
  WriteOp,
  WriteOptions,
} from "./engine.ts";
import { readSortedFile } from "./sorted_file.ts";

/** Version of the directory layout and key/value encoding this code reads and writes. */
export const lmdbFormatVersion = 1;
const formatFileName = "FORMAT";
const lockFileName = "LOCK";
const dataFileName = "data.mdb";
const formatText =
  `tessera-engine lmdb\nformat-version ${lmdbFormatVersion}\n` +
  `page-size ${limits.enginePageBytes}\n`;

/** lmdb-js transaction flags (values from lmdb-js and lmdb.h). */
const txnSynchronousCommit = 0x2;
const mdbNoMetaSync = 0x40000;

type Bytes = Buffer | Uint8Array;
type LmdbDatabase = Database<Buffer, Bytes>;

/** Options of `LmdbEngine.open`. */
export interface LmdbEngineOptions {
  /** Receives notes an operator should see in the log (a stale lock taken over). */
  readonly onNote?: (message: string, details: Readonly<Record<string, unknown>>) => void;
}

function errnoOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    return String((error as { code: unknown }).code);
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) !== "ESRCH";
  }
}

/** Takes `dir/LOCK` or throws `KV:Engine:Locked`. */
function acquireLock(dir: string, options: LmdbEngineOptions): void {
  const path = join(dir, lockFileName);
  for (let attempt = 0; attempt < limits.engineLockAttemptsMax; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (error) {
      if (errnoOf(error) !== "EEXIST") throw error;
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (readError) {
        if (errnoOf(readError) === "ENOENT") continue;
        throw readError;
      }
      const pid = /^\d+\n$/.test(text) ? Number(text.trim()) : undefined;
      if (pid === undefined || isAlive(pid)) {
        throw new TesseraError(
          ErrorCode.KvEngineLocked,
          pid === undefined
            ? `engine directory ${dir} has a lock file without a PID; if no process ` +
                `uses the directory, remove ${path}`
            : `engine directory ${dir} is in use by process ${pid}` +
                (pid === process.pid ? " (this process)" : ""),
          { details: { dir, pid } },
        );
      }
      options.onNote?.("taking over stale engine lock of a dead process", { dir, pid });
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if (errnoOf(unlinkError) !== "ENOENT") throw unlinkError;
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return;
  }
  throw new TesseraError(
    ErrorCode.KvEngineLocked,
    `could not take the lock of ${dir} after ${limits.engineLockAttemptsMax} attempts`,
    { details: { dir } },
  );
}

function releaseLock(dir: string): void {
  const path = join(dir, lockFileName);
  try {
    if (readFileSync(path, "utf8") === `${process.pid}\n`) unlinkSync(path);
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
  }
}

function writeFileDurably(dir: string, name: string, text: string): void {
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Creates `FORMAT` in an empty directory, or checks the one present. */
function checkFormat(dir: string): void {
  const path = join(dir, formatFileName);
  const others = readdirSync(dir).filter(
    (n) => n !== lockFileName && n !== `${formatFileName}.tmp`,
  );
  if (!existsSync(path)) {
    if (others.length > 0) {
      throw new TesseraError(
        ErrorCode.KvEngineCorrupt,
        `engine directory ${dir} holds files (${others.join(", ")}) but no ${formatFileName} ` +
          `file: not a Tessera engine directory, or damaged; refusing to initialize it`,
        { details: { dir } },
      );
    }
    writeFileDurably(dir, formatFileName, formatText);
    return;
  }
  const text = readFileSync(path, "utf8");
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const at = line.indexOf(" ");
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  const version = fields.get("format-version");
  if (fields.get("tessera-engine") !== "lmdb" || version === undefined) {
    throw new TesseraError(
      ErrorCode.KvEngineCorrupt,
      `${path} is unreadable or not an lmdb engine's format file`,
      { details: { dir } },
    );
  }
  if (version !== String(lmdbFormatVersion)) {
    throw new TesseraError(
      ErrorCode.KvEngineVersionMismatch,
      `engine directory ${dir} has format version ${version}; this build reads ` +
        `version ${lmdbFormatVersion}`,
      { details: { dir, version } },
    );
  }
  if (fields.get("page-size") !== String(limits.enginePageBytes)) {
    throw new TesseraError(
      ErrorCode.KvEngineVersionMismatch,
      `engine directory ${dir} uses page size ${fields.get("page-size")}; this build ` +
        `uses ${limits.enginePageBytes}`,
      { details: { dir } },
    );
  }
  if (!others.includes(dataFileName)) {
    throw new TesseraError(
      ErrorCode.KvEngineCorrupt,
      `engine directory ${dir} has a ${formatFileName} file but no ${dataFileName}: ` +
        `data is missing; refusing to start empty`,
      { details: { dir } },
    );
  }
}

/** LMDB's meta-page constants (lmdb.h / mdb.c as built by lmdb-js), read by `checkMetaPages`. */
const lmdbMagic = 0xbeefc0de;
const lmdbDataVersion = 2;
const lmdbPageFlagMeta = 0x08;

/**
 * Checks LMDB's two meta pages before LMDB sees the file. LMDB trusts them: a damaged meta
 * page crashes the process (SIGSEGV) inside `mdb_env_open` instead of returning an error.
 * This catches an overwritten or foreign file header; damage deeper in the B-tree is not
 * detected at open (LMDB pages carry no checksums).
 */
function checkMetaPages(dir: string): void {
  const path = join(dir, dataFileName);
  const pageBytes = limits.enginePageBytes;
  const header = new Uint8Array(2 * pageBytes);
  const fd = openSync(path, "r");
  let read: number;
  try {
    read = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  const corrupt = (why: string): TesseraError =>
    new TesseraError(ErrorCode.KvEngineCorrupt, `LMDB data file ${path} is damaged: ${why}`, {
      details: { dir },
    });
  if (read < header.length) throw corrupt(`shorter than two ${pageBytes}-byte pages`);
  const view = new DataView(header.buffer);
  for (const page of [0, 1]) {
    const at = page * pageBytes;
    if (
      view.getBigUint64(at, true) !== BigInt(page) ||
      (view.getUint16(at + 0x12, true) & lmdbPageFlagMeta) === 0 ||
      view.getUint32(at + 0x18, true) !== lmdbMagic
    ) {
      throw corrupt(`meta page ${page} is not an LMDB meta page`);
    }
    if (view.getUint32(at + 0x1c, true) !== lmdbDataVersion) {
      throw new TesseraError(
        ErrorCode.KvEngineVersionMismatch,
        `LMDB data file ${path} has data version ${view.getUint32(at + 0x1c, true)}`,
        { details: { dir } },
      );
    }
    if (view.getUint32(at + 0x30, true) !== pageBytes) {
      throw new TesseraError(
        ErrorCode.KvEngineVersionMismatch,
        `LMDB data file ${path} has page size ${view.getUint32(at + 0x30, true)}, ` +
          `expected ${pageBytes}`,
        { details: { dir } },
      );
    }
  }
}

function openDatabase(dir: string): LmdbDatabase {
  if (existsSync(join(dir, dataFileName))) checkMetaPages(dir);
  try {
    const db = openLmdb<Buffer, Bytes>({
      path: dir,
      pageSize: limits.enginePageBytes,
      keyEncoding: "binary",
      encoding: "binary",
      compression: false,
      cache: false,
      overlappingSync: false,
    });
    const stats = db.getStats() as { pageSize?: number };
    if (stats.pageSize !== limits.enginePageBytes) {
      void db.close();
      throw new TesseraError(
        ErrorCode.KvEngineVersionMismatch,
        `LMDB file in ${dir} has page size ${stats.pageSize}, expected ` +
          `${limits.enginePageBytes}`,
        { details: { dir } },
      );
    }
    return db;
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw new TesseraError(
      ErrorCode.KvEngineCorrupt,
      `LMDB refused the data file in ${dir}: ${String(error)}`,
      { cause: error, details: { dir } },
    );
  }
}

/** lmdb-js's `sync(callback)` is on the root database but missing from its types. */
interface Syncable {
  sync(callback: (error: unknown) => void): void;
}

/**
 * A value lmdb-js returned as a plain `Uint8Array`: its own copy when it has a buffer of
 * its own (lmdb-js slices values out of its read buffer), a new copy otherwise.
 */
function ownedValue(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? new Uint8Array(bytes.buffer, 0, bytes.byteLength) : copyBytes(bytes);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function* scanDb(
  db: LmdbDatabase,
  options: ScanOptions,
  transaction: Transaction | undefined,
): IterableIterator<KeyValue> {
  const start = options.start !== undefined && options.start.length > 0 ? options.start : undefined;
  const end = options.end;
  if (end !== undefined && end.length === 0) return;
  if (options.limit === 0) return;
  const range =
    options.reverse === true
      ? {
          reverse: true,
          ...(end === undefined ? {} : { start: asBuffer(end), exclusiveStart: true }),
          ...(start === undefined ? {} : { end: asBuffer(start), inclusiveEnd: true }),
        }
      : {
          ...(start === undefined ? {} : { start: asBuffer(start) }),
          ...(end === undefined ? {} : { end: asBuffer(end) }),
        };
  const iterable = db.getRange({
    ...range,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(transaction === undefined ? {} : { transaction }),
  });
  for (const { key, value } of iterable) {
    yield { key: copyBytes(key), value: ownedValue(value) };
  }
}

class LmdbSnapshot implements EngineSnapshot {
  readonly #db: LmdbDatabase;
  #txn: Transaction | undefined;

  constructor(db: LmdbDatabase, txn: Transaction) {
    this.#db = db;
    this.#txn = txn;
  }

  #live(): Transaction {
    assert(this.#txn !== undefined, "read from a released engine snapshot");
    return this.#txn;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    checkKey(key);
    const value = this.#db.get(asBuffer(key), { transaction: this.#live() });
    return value === undefined ? undefined : copyBytes(value);
  }

  scan(options: ScanOptions): IterableIterator<KeyValue> {
    checkScanBounds(options.start, options.end, options.limit);
    return scanDb(this.#db, options, this.#live());
  }

  release(): void {
    this.#txn?.done();
    this.#txn = undefined;
  }
}

/** An `Engine` on LMDB in one data directory, held exclusively by this process. */
export class LmdbEngine implements Engine {
  readonly dir: string;
  readonly #db: LmdbDatabase;
  #closed = false;
  /** The first write failure; once set, the engine refuses writes. */
  #failure: TesseraError | undefined;
  #syncInFlight: Promise<void> | undefined;

  private constructor(dir: string, db: LmdbDatabase) {
    this.dir = dir;
    this.#db = db;
  }

  /** Opens (or creates, if `dir` is empty or absent) the engine in `dir`. */
  static open(dir: string, options: LmdbEngineOptions = {}): Promise<LmdbEngine> {
    try {
      mkdirSync(dir, { recursive: true });
      acquireLock(dir, options);
      try {
        checkFormat(dir);
        return Promise.resolve(new LmdbEngine(dir, openDatabase(dir)));
      } catch (error) {
        releaseLock(dir);
        throw error;
      }
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new TesseraError(ErrorCode.KvEngineClosed, "engine is closed");
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.#checkOpen();
    checkKey(key);
    const value = this.#db.get(asBuffer(key));
    return value === undefined ? undefined : copyBytes(value);
  }

  scan(options: ScanOptions): IterableIterator<KeyValue> {
    this.#checkOpen();
    checkScanBounds(options.start, options.end, options.limit);
    // A live scan pins one read transaction for its whole run, so it is consistent too.
    return scanDb(this.#db, options, undefined);
  }

  snapshot(): EngineSnapshot {
    this.#checkOpen();
    return new LmdbSnapshot(this.#db, this.#db.useReadTransaction());
  }

  write(ops: readonly WriteOp[], options: WriteOptions): Promise<void> {
    try {
      this.#checkOpen();
      checkWriteOps(ops);
      this.#commit(ops, options.sync);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Applies `ops` in one LMDB write transaction, durably when `sync`. */
  #commit(ops: readonly WriteOp[], sync: boolean): void {
    if (this.#failure !== undefined) {
      throw new TesseraError(
        ErrorCode.KvEngineWriteFailed,
        `engine stopped after an earlier write failure: ${this.#failure.message}`,
        { cause: this.#failure },
      );
    }
    if (ops.length === 0) return;
    const db = this.#db;
    const flags = sync ? txnSynchronousCommit : txnSynchronousCommit | mdbNoMetaSync;
    try {
      // Inside `transactionSync` put and remove apply synchronously to the write
      // transaction; the promise-like each returns is already settled, so it is dropped.
      db.transactionSync(() => {
        for (const op of ops) {
          switch (op.kind) {
            case "put":
              void db.put(asBuffer(op.key), asBuffer(op.value));
              break;
            case "delete":
              void db.remove(asBuffer(op.key));
              break;
            case "deleteRange": {
              if (op.end.length === 0) break;
              const keys = [
                ...db.getKeys({
                  ...(op.start.length === 0 ? {} : { start: asBuffer(op.start) }),
                  end: asBuffer(op.end),
                }),
              ];
              for (const key of keys) void db.remove(key);
              break;
            }
          }
        }
      }, flags);
    } catch (error) {
      this.#failure = new TesseraError(
        ErrorCode.KvEngineWriteFailed,
        `engine write failed, nothing of the batch applied; engine stopped: ${String(error)}`,
        { cause: error, details: { dir: this.dir } },
      );
      throw this.#failure;
    }
  }

  sync(): Promise<void> {
    try {
      this.#checkOpen();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Syncs issued while one runs share the next one: it starts after their commits.
    const previous = this.#syncInFlight ?? Promise.resolve();
    const next = previous.then(
      () =>
        new Promise<void>((resolve, reject) => {
          (this.#db as unknown as Syncable).sync((error) => {
            if (error) {
              reject(
                new TesseraError(ErrorCode.KvEngineWriteFailed, `engine sync failed`, {
                  cause: error,
                  details: { dir: this.dir },
                }),
              );
            } else {
              resolve();
            }
          });
        }),
    );
    const tracked = next.finally(() => {
      if (this.#syncInFlight === tracked) this.#syncInFlight = undefined;
    });
    this.#syncInFlight = tracked;
    return next;
  }

  approximateSize(start: Uint8Array, end: Uint8Array): number {
    this.#checkOpen();
    checkScanBounds(start, end);
    let bytes = 0;
    for (const { key, value } of scanDb(this.#db, { start, end }, undefined)) {
      bytes += key.length + value.length;
    }
    return bytes;
  }

  async ingest(path: string): Promise<IngestResult> {
    this.#checkOpen();
    const pairs = await readSortedFile(path);
    this.#checkOpen();
    this.#commit(
      pairs.map((p) => ({ kind: "put", key: p.key, value: p.value })),
      true,
    );
    let bytes = 0;
    for (const p of pairs) bytes += p.key.length + p.value.length;
    return { keys: pairs.length, bytes };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#syncInFlight?.catch(() => undefined);
      await this.#db.close();
    } finally {
      releaseLock(this.dir);
    }
  }
}
