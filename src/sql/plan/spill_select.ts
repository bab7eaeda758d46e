/**
 * A SELECT over one base table, or an inner equi-join of two, run spilling to disk
 * (TiDB's `tidb_enable_tmp_storage_on_oom`): the planner runs a SELECT that sorts (ORDER
 * BY), hash-aggregates (GROUP BY) or joins as usual, and when that ends with 8175 (past
 * `tidb_mem_quota_query`) and the variable is ON, it runs it again here (and runs it here
 * at once when it runs again in the statement): the tables' rows arrive in pages, filtered
 * by the WHERE (`Source.pages`), each page counted by the memory tracker only while it is
 * processed; two tables join partition by partition (`spill_join.ts`), grouping spills
 * rows to partitions of temp files (`spill_aggregate.ts`), the sort writes sorted runs and
 * merges them (`external_sort.ts`) or, under ORDER BY … LIMIT n, keeps a TopN heap; so
 * neither the input nor the join, the sort buffer or the groups need to fit in the quota.
 * HAVING, the select list and LIMIT / OFFSET are applied as the rows stream by; the result
 * rows themselves are handed to the session uncounted (as TiDB streams them to the
 * client). Temp files are removed when the run ends, however it ends.
 *
 * Also run here: LEFT / RIGHT outer equi-joins of two sources (`graceOuterJoinPages`),
 * SELECT DISTINCT (deduplicated by hash partitions, `spill_distinct.ts`; DISTINCT …
 * LIMIT n without ORDER BY streams with a set of n keys), and window functions that all
 * share one non-empty PARTITION BY (an external sort by it, then one partition at a
 * time, `spill_window.ts`). A rerun drops the warnings its failed run raised
 * (`PlanEnv.warningMark`): the rerun raises them again.
 *
 * (UNION / INTERSECT / EXCEPT spill their rows by partitions on their own,
 * `spill_setop.ts`.)
 *
 * What is not run here keeps ending with 8175: joins of three tables or more (inner), an
 * outer join without an equality, subquery steps in WHERE, windows without PARTITION BY
 * or with different ones, WITH ROLLUP, locking reads; also UNION ALL and the ORDER BY of
 * a set operation (without LIMIT), which hold all their rows.
 */
import { type EvalContext, type Value, evaluate } from "../../expr/mod.ts";
import type { MySqlError } from "../mysql_errors.ts";
import { type GroupPlan, keyCollations, rowKey } from "./aggregate.ts";
import { type Compiled, evalCompiled, holds, withRow } from "./compile.ts";
import { ExternalSorter, type SortEntry } from "./external_sort.ts";
import { type MemoryTracker, entryOverheadBytes, isMemQuotaError, keyBytes, rowBytes }
  from "./memory_tracker.ts";
import { spillingGroupRows } from "./spill_aggregate.ts";
import { distinctEntries, positionKey } from "./spill_distinct.ts";
import { windowSpillKeys, windowedRecords } from "./spill_window.ts";
import type { PlannedWindow } from "./window.ts";
import type { TableRows } from "./planner.ts";
import type { SpillContext } from "./spill_join.ts";
import type { SpillSpace } from "./spill_store.ts";
import { TopN, keyOrder } from "./topn.ts";

/**
 * Rows per page of a spilling run's table read: pages of at most 1/16 of the quota by the
 * bytes per row seen so far (`rowBytes`, 0 before the first page), 16 to 4096 rows.
 */
export function spillPageRows(quota: number, rowBytes: number): number {
  if (rowBytes <= 0) return quota > 0 ? 64 : 4096;
  const fit = quota > 0 ? Math.floor(quota / 16 / rowBytes) : 4096;
  return Math.max(16, Math.min(4096, fit));
}

/**
 * After `error`: the temp storage a spilling rerun writes to, or null when it may not
 * rerun: not 8175, no temp storage, or `tidb_enable_tmp_storage_on_oom` (`variable()`) OFF.
 */
export function spillSpaceAfter(error: unknown, space: (() => SpillSpace) | undefined,
  variable: () => Value): SpillSpace | null {
  if (!isMemQuotaError(error) || space === undefined) return null;
  let on = true;
  try {
    const v = variable();
    on = !(v !== null && (v.kind === "int" || v.kind === "uint") && v.value === 0n);
  } catch {
    // An environment without the variable (unit tests): TiDB's default, ON.
  }
  return on ? space() : null;
}

/**
 * Functions a rerun would repeat or give other values: variable assignment, locks,
 * sleeping, randomness, sequences and `LAST_INSERT_ID(expr)`. A SELECT using one is not
 * rerun spilling (it ends with 8175): its first run's effects have already happened.
 */
const effectfulFunctions: ReadonlySet<string> = new Set([
  "get_lock", "release_lock", "release_all_locks", "sleep", "benchmark", "rand", "uuid",
  "uuid_short", "random_bytes", "nextval", "setval", "last_insert_id",
]);

/** Whether a SELECT's syntax (`node`, any AST) may be run twice with the same effect. */
export function rerunnable(node: unknown): boolean {
  if (node === null || typeof node !== "object") return true;
  if (Array.isArray(node)) return node.every(rerunnable);
  const e = node as { readonly kind?: unknown; readonly name?: unknown };
  if (e.kind === "assign") return false;
  if (e.kind === "func" && typeof e.name === "string" &&
    effectfulFunctions.has(e.name.toLowerCase())) return false;
  return Object.values(node).every(rerunnable);
}

/** The parts of a planned SELECT a spilled run needs. */
export interface SpillSelectPlan {
  /** The FROM rows (one table or a join of two, WHERE applied) in pages. */
  readonly pages: (spill: SpillContext) => AsyncIterable<Value[][]>;
  /** The grouping, or null when the SELECT does not group. */
  readonly group: GroupPlan | null;
  readonly having: Compiled | null;
  readonly fields: readonly Compiled[];
  readonly orderKeys: readonly { readonly field?: number; readonly compiled?: Compiled;
    readonly desc: boolean }[];
  readonly bounds: { readonly count: bigint; readonly offset: bigint } | null;
  /** ORDER BY … LIMIT may keep only the first rows (`optimizer_switch` flag `topn`). */
  readonly topN: boolean;
  /** SELECT DISTINCT: each result row once (`spill_distinct.ts`). */
  readonly distinct?: boolean;
  /** Window functions sharing one PARTITION BY (`windowSpillKeys`; spill_window.ts). */
  readonly windows?: readonly PlannedWindow[];
}

/**
 * The part of the quota a spilled run's sort buffer fills before it writes a run: the rest
 * is for what feeds it (a page, a grouping's output, a pair of join partitions).
 */
const sortFraction = 0.5;

/** LIMIT + OFFSET up to which a spilled run keeps a TopN heap instead of sorting all. */
const topNRowsMax = 10_000n;

/** What a spilled run reports (for EXPLAIN ANALYZE and tests). */
export interface SpillRunStats {
  /** Temp files written, and the most bytes they held at once. */
  files: number;
  peakBytes: number;
  /** Sort runs written; grouping passes and rows spilled by them. */
  sortRuns: number;
  passes: number;
  spilledRows: number;
  /** FROM rows read (WHERE applied) and groups made (0 without grouping). */
  inputRows: number;
  groups: number;
}

/** Empty statistics for `runSpilled` to fill. */
export function spillRunStats(): SpillRunStats {
  return { files: 0, peakBytes: 0, sortRuns: 0, passes: 0, spilledRows: 0, inputRows: 0,
    groups: 0 };
}

/** Runs `plan` spilling to `space`; the result rows. See the file comment. */
export async function runSpilled(plan: SpillSelectPlan, env: {
  readonly ctx: EvalContext;
  readonly warn?: ((w: MySqlError) => void) | undefined;
  readonly tracker: MemoryTracker;
  readonly space: SpillSpace;
  readonly stats?: SpillRunStats;
}): Promise<Value[][]> {
  const { ctx, tracker } = env;
  const spills = env.space.open();
  const mem = tracker.scope();
  const groupStats = { passes: 0, spilledRows: 0 };
  const distinctStats = { passes: 0, spilledRows: 0 };
  let sorter: ExternalSorter | null = null;
  let inputRows = 0;
  let groups = 0;
  // The FROM rows, counted (a grouping reads them again when it partitions: counted once).
  const pages = async function* (): AsyncGenerator<Value[][]> {
    let rows = 0;
    for await (const page of plan.pages({ spills, tracker })) {
      rows += page.length;
      yield page;
    }
    inputRows = Math.max(inputRows, rows);
  };
  try {
    const grouped = plan.group === null ? pages()
      : counted(spillingGroupRows(pages, plan.group, { ctx, warn: env.warn, tracker, spills,
        stats: groupStats }), (n) => {
        groups += n;
      });
    // Windows: HAVING first, then the records sorted by their partitions (spill_window.ts).
    const windowKeys = plan.windows === undefined ? null : windowSpillKeys(plan.windows);
    const records = windowKeys === null ? grouped : windowedRecords(
      havingHeld(grouped, plan.having, ctx), plan.windows!, windowKeys,
      { ctx, warn: env.warn, tracker, spills });
    const having = windowKeys === null ? plan.having : null;
    const distinct = plan.distinct === true;
    // Under DISTINCT the input position is the last sort key: the copy of a row kept and
    // the order of ties are the in-memory run's (it sorts stably, then deduplicates).
    const positioned = distinct && plan.orderKeys.length > 0;
    const desc = [...plan.orderKeys.map((k) => k.desc), ...(positioned ? [false] : [])];
    const collations = [...keyCollations(plan.orderKeys.map((k) => (k.field !== undefined
      ? plan.fields[k.field]! : k.compiled!).expr.type)), ...(positioned ? [undefined] : [])];
    const bounds = plan.bounds;
    // ORDER BY … LIMIT n: a heap of the first n rows (topn.ts), nothing written, when n
    // rows of up to 1 KiB each fit.
    const kept = bounds === null ? null : bounds.count + bounds.offset;
    const fits = kept !== null && kept <= topNRowsMax &&
      Number(kept) * 1024 <= tracker.headroom();
    const topN = plan.orderKeys.length > 0 && plan.topN && fits
      ? new TopN<SortEntry>(Number(kept), keyOrder(desc, ctx, collations), mem) : null;
    sorter = plan.orderKeys.length === 0 || topN !== null ? null
      : new ExternalSorter({ desc, ctx, tracker, mem, spills, collations,
        fraction: sortFraction });
    const sorting = sorter !== null || topN !== null;
    let skip = bounds?.offset ?? 0n;
    const out: Value[][] = [];
    const enough = (): boolean => bounds !== null && BigInt(out.length) >= bounds.count;
    // Without ORDER BY the rows go out as they come: OFFSET skipped, LIMIT stops the read.
    const emit = (row: Value[]): void => {
      if (skip > 0n) skip--;
      else if (!enough()) out.push(row);
    };
    // The result rows with their sort keys, a batch per batch of records; row by row when
    // they go out as they come (no row past LIMIT is computed, as in memory).
    let position = 0;
    const entries = async function* (): AsyncGenerator<SortEntry[]> {
      for await (const batch of records) {
        let made: SortEntry[] = [];
        for (const record of batch) {
          if (having !== null && !await holds(having, record, ctx)) continue;
          const row: Value[] = [];
          const recordCtx = withRow(ctx, record);
          for (const f of plan.fields) {
            row.push(f.subs.length === 0 ? evaluate(f.expr, recordCtx)
              : await evalCompiled(f, record, ctx));
          }
          const keys: Value[] = [];
          if (sorting) {
            for (const k of plan.orderKeys) {
              keys.push(k.field !== undefined ? row[k.field]! : await evalCompiled(k.compiled!,
                record, ctx));
            }
            if (positioned) keys.push(positionKey(position++));
          }
          made.push({ out: row, keys });
          if (!sorting) {
            yield made;
            made = [];
          }
        }
        if (made.length > 0) yield made;
      }
    };
    // DISTINCT … LIMIT n without ORDER BY: the first n distinct rows as they come (a set of
    // n keys); else the rows deduplicated by partitions (spill_distinct.ts).
    const streamDistinct = distinct && !sorting && fits;
    const seen = new Set<string>();
    const rowCollations = distinct ? keyCollations(plan.fields.map((f) => f.expr.type)) : [];
    const input = !distinct || streamDistinct ? entries()
      : distinctEntries(entries(), { tracker, spills, collations: rowCollations,
        keyCount: desc.length, ...(sorting ? { order: keyOrder(desc, ctx, collations) } : {}),
        stats: distinctStats });
    reading: for await (const batch of input) {
      for (const entry of batch) {
        if (!sorting) {
          if (streamDistinct) {
            const key = rowKey(entry.out, rowCollations);
            if (seen.has(key)) continue;
            seen.add(key);
            mem.consume(keyBytes(key));
          }
          emit(entry.out);
          if (enough()) break reading;
          continue;
        }
        const bytes = rowBytes(entry.out) + rowBytes(entry.keys) + entryOverheadBytes;
        if (topN !== null) topN.push(entry, bytes);
        else await sorter!.add(entry, bytes);
      }
    }
    if (topN !== null) for (const e of topN.sorted()) emit(e.out);
    if (sorter !== null) {
      merging: for await (const batch of sorter.sorted()) {
        for (const row of batch) {
          emit(row);
          if (enough()) break merging;
        }
      }
    }
    return out;
  } finally {
    mem.close();
    if (env.stats !== undefined) {
      env.stats.files = spills.created;
      env.stats.peakBytes = spills.peakBytes;
      env.stats.sortRuns = sorter?.runCount ?? 0;
      env.stats.passes = groupStats.passes + distinctStats.passes;
      env.stats.spilledRows = groupStats.spilledRows + distinctStats.spilledRows;
      env.stats.inputRows = inputRows;
      env.stats.groups = groups;
    }
    await spills.close();
  }
}

/** The records of `batches` for which `having` (null: all) holds. */
async function* havingHeld(batches: AsyncIterable<Value[][]>, having: Compiled | null,
  ctx: EvalContext): AsyncGenerator<Value[][]> {
  for await (const batch of batches) {
    if (having === null) {
      yield batch;
      continue;
    }
    const kept: Value[][] = [];
    for (const record of batch) if (await holds(having, record, ctx)) kept.push(record);
    if (kept.length > 0) yield kept;
  }
}

/** `batches` passed through, `add` told each batch's length. */
async function* counted(batches: AsyncIterable<Value[][]>, add: (n: number) => void):
  AsyncGenerator<Value[][]> {
  for await (const batch of batches) {
    add(batch.length);
    yield batch;
  }
}

/**
 * Paged reads that are each in handle order (a partitioned table's partitions) merged
 * into one paged read in handle order, as the table's full scan returns its rows.
 */
export async function* mergeByHandle(reads: readonly AsyncIterable<TableRows>[]):
  AsyncGenerator<TableRows> {
  const cursors = reads.map((r) => ({ it: r[Symbol.asyncIterator](), page: null as
    TableRows | null, at: 0 }));
  const fill = async (c: (typeof cursors)[number]): Promise<boolean> => {
    while (c.page === null || c.at >= c.page.rows.length) {
      const next = await c.it.next();
      if (next.done === true) {
        c.page = null;
        return false;
      }
      c.page = next.value;
      c.at = 0;
    }
    return true;
  };
  let live: (typeof cursors)[number][] = [];
  for (const c of cursors) if (await fill(c)) live.push(c);
  let handles: bigint[] = [];
  let rows: (readonly Value[])[] = [];
  while (live.length > 0) {
    let best = live[0]!;
    for (const c of live) if (c.page!.handles[c.at]! < best.page!.handles[best.at]!) best = c;
    handles.push(best.page!.handles[best.at]!);
    rows.push(best.page!.rows[best.at]!);
    best.at++;
    if (!await fill(best)) live = live.filter((c) => c !== best);
    if (rows.length >= mergedPageRows) {
      yield { handles, rows };
      handles = [];
      rows = [];
    }
  }
  if (rows.length > 0) yield { handles, rows };
}

/** Rows per page of `mergeByHandle`'s output. */
const mergedPageRows = 256;
