/**
 * Window functions over more rows than the query's memory quota holds (a spilling rerun,
 * `spill_select.ts`; TiDB spills the sort below its window operator): when every window
 * of the SELECT has the same non-empty PARTITION BY (`windowSpillKeys`), the records are
 * sorted by it with the external sort (`external_sort.ts`, stable, NULL first as the
 * window evaluation sorts partitions), then read back one partition at a time, and each
 * partition's windows are computed in memory by `computeWindows`. Only one partition and
 * its windows need to fit in the quota; a partition that does not still ends with 8175,
 * as does a window without PARTITION BY (its partition is the whole input).
 *
 * The records come out as the in-memory run leaves them: partitions in ascending order of
 * their keys, each in its last window's order; records of one partition keep their input
 * order among equal keys (the sort is stable).
 */
import type { EvalContext, Expr, Value } from "../../expr/mod.ts";
import type { MySqlError } from "../mysql_errors.ts";
import { keyCollations } from "./aggregate.ts";
import { type Compiled, evalCompiled } from "./compile.ts";
import { ExternalSorter } from "./external_sort.ts";
import { type MemoryTracker, entryOverheadBytes, rowBytes } from "./memory_tracker.ts";
import type { SpillSet } from "./spill_store.ts";
import { keyOrder } from "./topn.ts";
import { type PlannedWindow, computeWindows } from "./window.ts";

/** The part of the quota the sort below the windows fills before it writes a run. */
const windowSortFraction = 0.4;

/** An expression's structure as text (bigints spelled out); null when it has none. */
function exprText(e: Expr): string | null {
  try {
    return JSON.stringify(e, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n`
      : typeof v === "function" ? undefined : v));
  } catch {
    return null;
  }
}

/**
 * The PARTITION BY all of `windows` share (non-empty, no subqueries), by which a spilling
 * run sorts and splits the records; null when there is none (then no spilling run).
 */
export function windowSpillKeys(windows: readonly PlannedWindow[]): readonly Compiled[] | null {
  const first = windows[0]?.partition;
  if (first === undefined || first.length === 0 || first.some((c) => c.subs.length > 0)) {
    return null;
  }
  const texts = first.map((c) => exprText(c.expr));
  if (texts.some((t) => t === null)) return null;
  for (const w of windows) {
    if (w.partition.length !== texts.length ||
      w.partition.some((c, i) => exprText(c.expr) !== texts[i])) return null;
  }
  return first;
}

/** What the spilling windows need. */
export interface SpillWindowOptions {
  readonly ctx: EvalContext;
  readonly warn?: ((w: MySqlError) => void) | undefined;
  readonly tracker: MemoryTracker;
  readonly spills: SpillSet;
}

/**
 * The records of `records` with their window values appended (as `computeWindows`
 * appends them), partition by partition; `keys` from `windowSpillKeys`.
 */
export async function* windowedRecords(records: AsyncIterable<Value[][]>,
  windows: readonly PlannedWindow[], keys: readonly Compiled[], options: SpillWindowOptions):
  AsyncGenerator<Value[][]> {
  const { ctx, tracker, spills } = options;
  const collations = keyCollations(keys.map((k) => k.expr.type));
  const desc = keys.map(() => false);
  const same = keyOrder(desc, ctx, collations);
  const sortMem = tracker.scope();
  const width = keys.length;
  try {
    const sorter = new ExternalSorter({ desc, ctx, tracker, mem: sortMem, spills, collations,
      fraction: windowSortFraction });
    for await (const batch of records) {
      for (const record of batch) {
        const k: Value[] = [];
        for (const key of keys) k.push(await evalCompiled(key, record, ctx));
        // The keys travel with the record: partitions are cut where they change.
        const out = [...k, ...record];
        await sorter.add({ out, keys: k }, 2 * rowBytes(k) + rowBytes(record) +
          entryOverheadBytes);
      }
    }
    let part: Value[][] = [];
    let partKeys: Value[] | null = null;
    let mem = tracker.scope();
    const finish = async (): Promise<Value[][]> => {
      try {
        return await computeWindows(part, windows, ctx, options.warn, mem);
      } finally {
        // The records go to the consumer, which counts what it keeps of them.
        part = [];
        mem.close();
        mem = tracker.scope();
      }
    };
    try {
      for await (const batch of sorter.sorted()) {
        for (const row of batch) {
          const k = row.slice(0, width);
          if (partKeys !== null && same({ keys: partKeys }, { keys: k }) !== 0) {
            const done = await finish();
            for (let i = 0; i < done.length; i += 1024) yield done.slice(i, i + 1024);
          }
          partKeys = k;
          const record = row.slice(width);
          mem.consume(rowBytes(record));
          part.push(record);
        }
      }
      if (part.length > 0) {
        const done = await finish();
        for (let i = 0; i < done.length; i += 1024) yield done.slice(i, i + 1024);
      }
    } finally {
      mem.close();
    }
  } finally {
    sortMem.close();
  }
}
