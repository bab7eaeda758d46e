/**
 * SELECT DISTINCT over more distinct rows than the query's memory quota holds (a spilling
 * rerun, `spill_select.ts`; TiDB runs DISTINCT as a hash aggregation, which spills the
 * same way): the result entries (a result row and its sort keys) are deduplicated in a
 * hash set of the result rows (under the result columns' collations, as the in-memory
 * DISTINCT) while it stays under `distinctSpillFraction` of the quota. When the next new
 * row would pass it, the entries held and every later one are written to
 * `partitionCount` temp files by a hash of the row (`spill_store.ts`); each file is then
 * deduplicated the same way (partitioned again, with another hash, when it does not fit
 * either). Every copy of a row lands in one partition, so each row comes out once.
 *
 * Which copy is kept: with `order` (ORDER BY: the sort keys, then the input position as
 * the last key) the least by it — the copy the in-memory plan keeps, as it sorts before it
 * deduplicates; without, the first seen (the entries held are written before any later
 * one). The rows come partition by partition: under ORDER BY they are sorted afterwards,
 * without it their order (and which rows a LIMIT keeps) differs from the in-memory run's.
 */
import type { Collation } from "../../codec/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { rowKey } from "./aggregate.ts";
import type { SortEntry } from "./external_sort.ts";
import { type MemoryTracker, keyBytes, rowBytes } from "./memory_tracker.ts";
import { type SpillFile, type SpillSet, spillHash } from "./spill_store.ts";

/** The part of the quota the set of one pass may fill before it spills. */
export const distinctSpillFraction = 0.75;
/** Partitions one overflowing input is split into. */
export const distinctPartitionCount = 8;
/** Partitioning levels at most; a partition that still does not fit may then end with 8175. */
const depthMax = 6;

/** What the spilling DISTINCT needs. */
export interface DistinctOptions {
  readonly tracker: MemoryTracker;
  readonly spills: SpillSet;
  /** The result columns' collations (the key of a row). */
  readonly collations: readonly (Collation | undefined)[];
  /** How many sort keys each entry has (constant). */
  readonly keyCount: number;
  /** Of two copies of one row, < 0 when the first is kept; absent: the first seen is. */
  readonly order?: (x: SortEntry, y: SortEntry) => number;
  /** Counts passes and entries written to partitions, for the caller's statistics. */
  readonly stats?: { passes: number; spilledRows: number };
}

/** The entries of `input` with one per distinct result row, in batches; see above. */
export async function* distinctEntries(input: AsyncIterable<readonly SortEntry[]>,
  options: DistinctOptions): AsyncGenerator<SortEntry[]> {
  yield* level(input, options, 0);
}

async function* level(input: AsyncIterable<readonly SortEntry[]>, options: DistinctOptions,
  depth: number): AsyncGenerator<SortEntry[]> {
  const { tracker, spills, collations, order } = options;
  if (options.stats !== undefined) options.stats.passes++;
  const mem = tracker.scope();
  const held = new Map<string, { entry: SortEntry; bytes: number }>();
  let files: (SpillFile | null)[] | null = null;
  const write = async (key: string, entry: SortEntry): Promise<void> => {
    const p = distinctHash(key, depth) % distinctPartitionCount;
    files![p] ??= await spills.create();
    await files![p].write([...entry.keys, ...entry.out]);
    if (options.stats !== undefined) options.stats.spilledRows++;
  };
  try {
    for await (const batch of input) {
      tracker.checkKilled();
      for (const entry of batch) {
        const key = rowKey(entry.out, collations);
        if (files !== null) {
          await write(key, entry);
          continue;
        }
        const seen = held.get(key);
        if (seen !== undefined) {
          if (order !== undefined && order(entry, seen.entry) < 0) {
            const bytes = entryBytes(key, entry);
            mem.release(seen.bytes);
            mem.consume(bytes);
            held.set(key, { entry, bytes });
          }
          continue;
        }
        const bytes = entryBytes(key, entry);
        if (depth < depthMax && held.size > 0 &&
          tracker.wouldPass(bytes, distinctSpillFraction)) {
          // Too many rows: those held and all later ones go to partitions.
          files = new Array<SpillFile | null>(distinctPartitionCount).fill(null);
          for (const [k, h] of held) await write(k, h.entry);
          held.clear();
          mem.close();
          await write(key, entry);
          continue;
        }
        mem.consume(bytes);
        held.set(key, { entry, bytes });
      }
    }
    if (files === null) {
      const out = [...held.values()].map((h) => h.entry);
      held.clear();
      // The entries go to the consumer, which counts what it keeps of them.
      mem.close();
      for (let i = 0; i < out.length; i += 1024) yield out.slice(i, i + 1024);
      return;
    }
    for (const f of files) await f?.flush();
    for (let p = 0; p < distinctPartitionCount; p++) {
      const file = files[p];
      if (file === null || file === undefined) continue;
      yield* level(readEntries(file, options.keyCount), options, depth + 1);
      files[p] = null;
      await spills.drop(file);
    }
  } finally {
    mem.close();
    for (const f of files ?? []) if (f !== null) await spills.drop(f);
  }
}

/** Bytes one held entry takes: its row, its keys and its set entry. */
function entryBytes(key: string, entry: SortEntry): number {
  return rowBytes(entry.out) + rowBytes(entry.keys) + keyBytes(key);
}

/** A partition's entries (`keyCount` keys, then the row), chunk by chunk. */
async function* readEntries(file: SpillFile, keyCount: number): AsyncGenerator<SortEntry[]> {
  const reader = file.reader();
  for (let got = await reader.next(); got !== null; got = await reader.next()) {
    yield got.map((r) => ({ keys: r.slice(0, keyCount), out: r.slice(keyCount) }));
  }
}

/** The hash partitioning DISTINCT keys at `depth` (`spillHash`, seeds of its own). */
export function distinctHash(key: string, depth: number): number {
  return spillHash(key, depth + 6);
}

/** A `Value` for an entry's input position (the last sort key under DISTINCT). */
export function positionKey(position: number): Value {
  return { kind: "int", value: BigInt(position) };
}
