/**
 * ORDER BY over more rows than the query's memory quota (TiDB's sort spill): entries are
 * buffered and counted by the memory tracker; when the next one would pass the spill
 * threshold (`MemoryTracker.wouldPass`), the buffer is sorted, written to a temp file as
 * a run (`spill_store.ts`) and its memory given back. At the end the runs and the buffer
 * left are merged k ways, read back in bounded chunks; more runs than `fanInMax` are first
 * merged in groups into longer runs. Ties keep input order (runs are cut in input order
 * and a tie goes to the earlier run), so the result equals the stable in-memory sort.
 *
 * Without a quota or a spill set (`spills` null) nothing is written: the sorter is the
 * in-memory sort.
 */
import type { Collation } from "../../codec/mod.ts";
import type { EvalContext, Value } from "../../expr/mod.ts";
import { type MemoryScope, type MemoryTracker, rowBytes } from "./memory_tracker.ts";
import type { SpillFile, SpillReader, SpillSet } from "./spill_store.ts";
import { keyOrder } from "./topn.ts";

/** A row to sort: the result row and its sort keys. */
export interface SortEntry {
  readonly out: Value[];
  readonly keys: Value[];
}

/** Runs merged at once at most (each holds one read chunk while merging). */
export const fanInMax = 16;
/** Bounds of a merge reader's chunk in bytes. */
const chunkBytesMin = 128;
const chunkBytesMax = 32 * 1024;

/** What the sorter needs. */
export interface ExternalSortOptions {
  /** Directions of the sort keys, and their collations (`keyOrder`; absent: default). */
  readonly desc: readonly boolean[];
  readonly collations?: readonly (Collation | undefined)[];
  readonly ctx: EvalContext;
  /** The query's tracker (when to spill) and the scope the buffer is counted in. */
  readonly tracker: MemoryTracker;
  readonly mem: MemoryScope;
  /** Where runs are written; null: never spill (the in-memory sort). */
  readonly spills: SpillSet | null;
  /** Merge fan-in (tests use small ones); `fanInMax` by default. */
  readonly fanIn?: number;
  /**
   * The part of the quota the query may hold before the buffer is written
   * (`spillFraction` by default; less leaves room to the operator feeding the sort).
   */
  readonly fraction?: number;
}

/** A run being merged: its reader and the rows of the chunk read last. */
interface Cursor {
  readonly run: number;
  readonly reader: SpillReader;
  rows: Value[][];
  at: number;
  /** Bytes of `rows` counted in the scope. */
  bytes: number;
}

/** The external sort; see the file comment. */
export class ExternalSorter {
  private readonly options: ExternalSortOptions;
  private readonly order: (x: { keys: readonly Value[] }, y: { keys: readonly Value[] }) =>
    number;
  private buffer: SortEntry[] = [];
  private bufferBytes = 0;
  private readonly runs: SpillFile[] = [];
  private keyCount = -1;
  private written = 0;
  /** Entries added and their bytes in memory, the largest; rows and bytes written to runs. */
  private added = 0;
  private addedBytes = 0;
  private largest = 0;
  private spilledRows = 0;
  private spilledBytes = 0;

  constructor(options: ExternalSortOptions) {
    this.options = options;
    this.order = keyOrder(options.desc, options.ctx, options.collations);
  }

  /** Sorted runs written so far (not counting merges of runs). */
  get runCount(): number {
    return this.written;
  }

  /** Adds an entry holding `bytes`; spills the buffer first if they would not fit. */
  async add(entry: SortEntry, bytes: number): Promise<void> {
    const { tracker, mem, spills } = this.options;
    if (spills !== null && this.buffer.length > 0 &&
      tracker.wouldPass(bytes, this.options.fraction)) {
      await this.spill();
    }
    mem.consume(bytes);
    this.bufferBytes += bytes;
    this.buffer.push(entry);
    this.added++;
    this.addedBytes += bytes;
    if (bytes > this.largest) this.largest = bytes;
    this.keyCount = entry.keys.length;
  }

  /** Sorts the buffer and writes it as a run, giving its memory back. */
  private async spill(): Promise<void> {
    const spills = this.options.spills!;
    this.buffer.sort(this.order);
    const file = await spills.create();
    for (const e of this.buffer) {
      this.options.tracker.checkKilled();
      await file.write([...e.keys, ...e.out]);
    }
    await file.flush();
    this.spilledRows += file.rows;
    this.spilledBytes += file.size;
    this.runs.push(file);
    this.written++;
    this.buffer = [];
    this.options.mem.release(this.bufferBytes);
    this.bufferBytes = 0;
  }

  /** The sorted result rows, in batches (the runs' files are dropped as they are read). */
  async *sorted(): AsyncGenerator<Value[][]> {
    this.buffer.sort(this.order);
    if (this.runs.length === 0) {
      const out = this.buffer.map((e) => e.out);
      this.buffer = [];
      yield out;
      return;
    }
    // The buffer left becomes a run too: merging then holds one chunk per run only.
    if (this.buffer.length > 0) await this.spill();
    // As many runs at once as leave each room for two of the largest entries.
    const room = this.options.tracker.headroom();
    const fanIn = Math.max(2, Math.min(this.options.fanIn ?? fanInMax,
      Math.floor(room / (4 * Math.max(1, this.largest)))));
    const spills = this.options.spills!;
    // Too many runs: merge the first ones into one (still before the rest: stable).
    while (this.runs.length + 1 > fanIn) {
      const group = this.runs.splice(0, fanIn);
      const merged = await spills.create();
      for await (const batch of this.merge(group)) {
        for (const row of batch) await merged.write(row);
      }
      await merged.flush();
      this.runs.unshift(merged);
    }
    const width = this.keyCount;
    for await (const batch of this.merge(this.runs.splice(0))) {
      yield batch.map((row) => row.slice(width));
    }
  }

  /** Merges `files` (in run order): the rows as written (keys, then result row), batched. */
  private async *merge(files: SpillFile[]): AsyncGenerator<Value[][]> {
    const { tracker, mem, spills } = this.options;
    const width = this.keyCount;
    // A chunk's rows take `ratio` times its bytes in memory: half the room goes to chunks.
    const ratio = this.spilledBytes === 0 ? 8 : Math.max(1, (this.addedBytes / this.added) /
      (this.spilledBytes / this.spilledRows));
    const chunk = Math.max(chunkBytesMin, Math.min(chunkBytesMax,
      Math.floor(tracker.headroom() / Math.max(1, files.length) / ratio / 2)));
    const cursors: Cursor[] = files.map((f, run) => ({ run, reader: f.reader(chunk), rows: [],
      at: 0, bytes: 0 }));
    const keysOf = (c: Cursor): { keys: readonly Value[] } =>
      ({ keys: c.rows[c.at]!.slice(0, width) });
    // Loads a cursor's next chunk; false at its end.
    const fill = async (c: Cursor): Promise<boolean> => {
      if (c.at < c.rows.length) return true;
      mem.release(c.bytes);
      c.bytes = 0;
      c.rows = [];
      c.at = 0;
      const rows = await c.reader.next();
      if (rows === null) return false;
      let bytes = 0;
      for (const r of rows) bytes += rowBytes(r);
      mem.consume(bytes);
      c.rows = rows;
      c.bytes = bytes;
      return true;
    };
    const heap: { cursor: Cursor; keys: readonly Value[] }[] = [];
    const before = (a: { cursor: Cursor; keys: readonly Value[] },
      b: { cursor: Cursor; keys: readonly Value[] }): boolean => {
      const o = this.order(a, b);
      return o < 0 || (o === 0 && a.cursor.run < b.cursor.run);
    };
    const up = (i: number): void => {
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!before(heap[i]!, heap[p]!)) return;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!];
        i = p;
      }
    };
    const down = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let top = i;
        if (l < heap.length && before(heap[l]!, heap[top]!)) top = l;
        if (r < heap.length && before(heap[r]!, heap[top]!)) top = r;
        if (top === i) return;
        [heap[i], heap[top]] = [heap[top]!, heap[i]!];
        i = top;
      }
    };
    try {
      for (const c of cursors) {
        if (await fill(c)) {
          heap.push({ cursor: c, keys: keysOf(c).keys });
          up(heap.length - 1);
        }
      }
      let batch: Value[][] = [];
      while (heap.length > 0) {
        const top = heap[0]!;
        const c = top.cursor;
        batch.push(c.rows[c.at]!);
        c.rows[c.at] = [];
        c.at++;
        if (await fill(c)) {
          heap[0] = { cursor: c, keys: keysOf(c).keys };
          down(0);
        } else {
          const last = heap.pop()!;
          if (heap.length > 0) {
            heap[0] = last;
            down(0);
          }
          await spills!.drop(files[c.run]!);
        }
        if (batch.length >= 1024) {
          tracker.checkKilled();
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      for (const c of cursors) {
        mem.release(c.bytes);
        c.bytes = 0;
      }
    }
  }
}
