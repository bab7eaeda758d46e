/**
 * `MemoryEngine`: the in-memory `Engine` for tests and the simulator.
 *
 * State is two parallel sorted arrays (keys, values) owned by the engine. Snapshots and
 * live scans share the current arrays and mark them `shared`; the next write then copies
 * them before changing anything (copy on write), so a view never sees a later batch.
 * Writes are applied synchronously inside `write`, which is why a batch is atomic to
 * every reader. Nothing is durable: `sync` resolves at once. Limits and errors are the
 * LMDB engine's, checked by the same functions in `bytes.ts`.
 */
import { ErrorCode, TesseraError, assert } from "../../base/mod.ts";
import {
  checkKey,
  checkScanBounds,
  checkWriteOps,
  compareBytes,
  copyBytes,
} from "./bytes.ts";
import type {
  Engine,
  EngineReader,
  EngineSnapshot,
  IngestResult,
  KeyValue,
  ScanOptions,
  WriteOp,
  WriteOptions,
} from "./engine.ts";
import { readSortedFile } from "./sorted_file.ts";

/** One immutable-while-shared generation of the engine's contents. */
interface Table {
  keys: Uint8Array[];
  values: Uint8Array[];
  /** Set when a snapshot or scan holds these arrays: they must not change in place. */
  shared: boolean;
}

/** Index of the first key >= `key` (the insertion point). */
function lowerBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid] as Uint8Array, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function getIn(table: Table, key: Uint8Array): Uint8Array | undefined {
  checkKey(key);
  const i = lowerBound(table.keys, key);
  const found = table.keys[i];
  if (found === undefined || compareBytes(found, key) !== 0) return undefined;
  return copyBytes(table.values[i] as Uint8Array);
}

function* scanIn(table: Table, options: ScanOptions): IterableIterator<KeyValue> {
  const { keys, values } = table;
  const from = options.start === undefined ? 0 : lowerBound(keys, options.start);
  const to = options.end === undefined ? keys.length : lowerBound(keys, options.end);
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  if (options.reverse === true) {
    for (let i = to - 1; i >= from && remaining > 0; i--, remaining--) {
      yield { key: copyBytes(keys[i] as Uint8Array), value: copyBytes(values[i] as Uint8Array) };
    }
  } else {
    for (let i = from; i < to && remaining > 0; i++, remaining--) {
      yield { key: copyBytes(keys[i] as Uint8Array), value: copyBytes(values[i] as Uint8Array) };
    }
  }
}

class MemorySnapshot implements EngineSnapshot {
  #table: Table | undefined;

  constructor(table: Table) {
    this.#table = table;
  }

  #live(): Table {
    assert(this.#table !== undefined, "read from a released engine snapshot");
    return this.#table;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return getIn(this.#live(), key);
  }

  scan(options: ScanOptions): IterableIterator<KeyValue> {
    checkScanBounds(options.start, options.end, options.limit);
    return scanIn(this.#live(), options);
  }

  release(): void {
    this.#table = undefined;
  }
}

/** An `Engine` held in memory; contents are lost when the object is dropped. */
export class MemoryEngine implements Engine, EngineReader {
  #table: Table = { keys: [], values: [], shared: false };
  #closed = false;

  #open(): Table {
    if (this.#closed) throw new TesseraError(ErrorCode.KvEngineClosed, "engine is closed");
    return this.#table;
  }

  /** The current table, copied first if a view shares it. */
  #writable(): Table {
    const table = this.#open();
    if (!table.shared) return table;
    this.#table = { keys: table.keys.slice(), values: table.values.slice(), shared: false };
    return this.#table;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return getIn(this.#open(), key);
  }

  scan(options: ScanOptions): IterableIterator<KeyValue> {
    checkScanBounds(options.start, options.end, options.limit);
    const table = this.#open();
    table.shared = true;
    return scanIn(table, options);
  }

  snapshot(): EngineSnapshot {
    const table = this.#open();
    table.shared = true;
    return new MemorySnapshot(table);
  }

  write(ops: readonly WriteOp[], _options: WriteOptions): Promise<void> {
    try {
      this.#open();
      checkWriteOps(ops);
      this.#apply(ops);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #apply(ops: readonly WriteOp[]): void {
    if (ops.length === 0) return;
    const { keys, values } = this.#writable();
    for (const op of ops) {
      switch (op.kind) {
        case "put": {
          const i = lowerBound(keys, op.key);
          const found = keys[i];
          if (found !== undefined && compareBytes(found, op.key) === 0) {
            values[i] = copyBytes(op.value);
          } else {
            keys.splice(i, 0, copyBytes(op.key));
            values.splice(i, 0, copyBytes(op.value));
          }
          break;
        }
        case "delete": {
          const i = lowerBound(keys, op.key);
          const found = keys[i];
          if (found !== undefined && compareBytes(found, op.key) === 0) {
            keys.splice(i, 1);
            values.splice(i, 1);
          }
          break;
        }
        case "deleteRange": {
          const from = lowerBound(keys, op.start);
          const to = op.end.length === 0 ? from : lowerBound(keys, op.end);
          if (to > from) {
            keys.splice(from, to - from);
            values.splice(from, to - from);
          }
          break;
        }
      }
    }
  }

  sync(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new TesseraError(ErrorCode.KvEngineClosed, "engine is closed"));
    }
    return Promise.resolve();
  }

  approximateSize(start: Uint8Array, end: Uint8Array): number {
    checkScanBounds(start, end);
    const { keys, values } = this.#open();
    const from = lowerBound(keys, start);
    const to = lowerBound(keys, end);
    let bytes = 0;
    for (let i = from; i < to; i++) {
      bytes += (keys[i] as Uint8Array).length + (values[i] as Uint8Array).length;
    }
    return bytes;
  }

  async ingest(path: string): Promise<IngestResult> {
    this.#open();
    const pairs = await readSortedFile(path);
    const ops: WriteOp[] = pairs.map((p) => ({ kind: "put", key: p.key, value: p.value }));
    this.#apply(ops);
    let bytes = 0;
    for (const p of pairs) bytes += p.key.length + p.value.length;
    return { keys: pairs.length, bytes };
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
