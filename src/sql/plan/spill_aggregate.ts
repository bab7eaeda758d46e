/**
 * Hash aggregation over more than the query's memory quota holds (TiDB's hash-agg spill):
 * the input is grouped in memory as `groupRows` does while the groups and their states
 * (GROUP_CONCAT pieces, DISTINCT sets …) stay under the spill threshold
 * (`MemoryTracker.wouldPass`). When they would pass it, the groups are dropped and the
 * input is read again and written to `partitionCount` temp files by a hash of the group
 * key (`spill_store.ts`), each of which is then grouped the same way (partitioned again,
 * with another hash, if it does not fit either). A group's rows all land in one partition,
 * in input order, so every group's record (its first row, then the aggregates' results)
 * equals `groupRows`' and every aggregate kind works; only the order of the groups
 * differs (partition by partition), as a hash aggregation's order does in TiDB. A single
 * group whose state alone passes the quota (one huge GROUP_CONCAT) still ends with 8175.
 */
import type { EvalContext, Value } from "../../expr/mod.ts";
import type { MySqlError } from "../mysql_errors.ts";
import { Accumulator, type GroupPlan, bufferingNames, keyCollations, rowKey }
  from "./aggregate.ts";
import { evalCompiled } from "./compile.ts";
import { type MemoryTracker, entryOverheadBytes, keyBytes, rowBytes }
  from "./memory_tracker.ts";
import { type SpillFile, type SpillSet, spillHash } from "./spill_store.ts";

/** The part of the quota the groups of one pass may fill (the rest: sort, pages). */
export const groupSpillFraction = 0.5;

/** What the spilling aggregation needs. */
export interface SpillGroupOptions {
  readonly ctx: EvalContext;
  readonly warn?: ((w: MySqlError) => void) | undefined;
  readonly tracker: MemoryTracker;
  readonly spills: SpillSet;
  /** Counts grouping passes and rows written to partitions, for the caller's statistics. */
  readonly stats?: { passes: number; spilledRows: number };
}

/** Partitions one overflowing input is split into. */
export const partitionCount = 8;
/** Partitioning levels at most; a partition that still does not fit then ends with 8175. */
const depthMax = 6;

/** Thrown inside `groupInMemory` when the groups would pass the threshold. */
class Overflow extends Error {}

/**
 * Groups the rows of `input()` (batches of FROM rows; called again when it must be read
 * again) by `plan`; yields the records in batches. See the file comment.
 */
export async function* spillingGroupRows(input: () => AsyncIterable<Value[][]>,
  plan: GroupPlan, options: SpillGroupOptions): AsyncGenerator<Value[][]> {
  yield* groupLevel(input, plan, options, 0, plan.implicit);
}

async function* groupLevel(input: () => AsyncIterable<Value[][]>, plan: GroupPlan,
  options: SpillGroupOptions, depth: number, implicit: boolean): AsyncGenerator<Value[][]> {
  const { spills } = options;
  if (options.stats !== undefined) options.stats.passes++;
  let records: Value[][] | null;
  try {
    records = await groupInMemory(input(), plan, options, implicit, depth < depthMax);
  } catch (error: unknown) {
    if (!(error instanceof Overflow)) throw error;
    records = null;
  }
  if (records !== null) {
    for (let i = 0; i < records.length; i += 1024) yield records.slice(i, i + 1024);
    return;
  }
  // Too big: the input again, into partitions by the group key's hash.
  const files: (SpillFile | null)[] = new Array<SpillFile | null>(partitionCount).fill(null);
  try {
    for await (const rows of input()) {
      for (const row of rows) {
        const key = await groupKey(row, plan, options.ctx);
        const p = spillHash(key, depth) % partitionCount;
        files[p] ??= await spills.create();
        await files[p].write(row);
        if (options.stats !== undefined) options.stats.spilledRows++;
      }
      options.tracker.checkKilled();
    }
    for (const f of files) await f?.flush();
    for (let p = 0; p < partitionCount; p++) {
      const file = files[p];
      if (file === null || file === undefined) continue;
      yield* groupLevel(() => file.batches(), plan, options, depth + 1, false);
      files[p] = null;
      await spills.drop(file);
    }
  } finally {
    for (const f of files) if (f !== null && f !== undefined) await spills.drop(f);
  }
}

/** The key of `row`'s group, under the GROUP BY items' collations (as `groupRows`). */
async function groupKey(row: Value[], plan: GroupPlan, ctx: EvalContext): Promise<string> {
  const keyValues: Value[] = [];
  for (const g of plan.groupBy) keyValues.push(await evalCompiled(g, row, ctx));
  let collations = collationsOf.get(plan);
  if (collations === undefined) {
    collations = keyCollations(plan.groupBy.map((g) => g.expr.type));
    collationsOf.set(plan, collations);
  }
  return rowKey(keyValues, collations);
}

const collationsOf = new WeakMap<GroupPlan, ReturnType<typeof keyCollations>>();

/**
 * `groupRows` over batches: the records, or `Overflow` thrown when the groups would pass
 * the threshold (with `mayOverflow`; without, they may fill the quota and then 8175).
 */
async function groupInMemory(input: AsyncIterable<Value[][]>, plan: GroupPlan,
  options: SpillGroupOptions, implicit: boolean, mayOverflow: boolean): Promise<Value[][]> {
  const { ctx, tracker } = options;
  const aggs = plan.aggregates;
  const buffering = aggs.map((a) => a.spec.distinct || bufferingNames.has(a.spec.name));
  const mem = tracker.scope();
  const groups = new Map<string, { first: Value[]; accs: Accumulator[] }>();
  // One group cannot be split: it fills the quota (then 8175).
  const consume = (bytes: number): void => {
    if (mayOverflow && groups.size > 1 && tracker.wouldPass(bytes, groupSpillFraction)) {
      throw new Overflow();
    }
    mem.consume(bytes);
  };
  try {
    for await (const rows of input) {
      tracker.checkKilled();
      for (const row of rows) {
        const key = await groupKey(row, plan, ctx);
        let group = groups.get(key);
        if (group === undefined) {
          consume(keyBytes(key) + aggs.length * 96 + rowBytes(row));
          group = { first: row, accs: aggs.map((a) => new Accumulator(a.spec)) };
          groups.set(key, group);
        }
        for (let k = 0; k < aggs.length; k++) {
          const agg = aggs[k]!;
          const args: Value[] = [];
          for (const a of agg.args) args.push(await evalCompiled(a, row, ctx));
          const keys: Value[] = [];
          for (const o of agg.order) keys.push(await evalCompiled(o, row, ctx));
          if (buffering[k]) consume(rowBytes(args) + rowBytes(keys) + entryOverheadBytes);
          group.accs[k]!.add(args, ctx, keys);
        }
      }
    }
    if (groups.size === 0 && implicit) {
      groups.set("", { first: new Array<Value>(plan.width).fill(null),
        accs: aggs.map((a) => new Accumulator(a.spec)) });
    }
    const records: Value[][] = [];
    for (const g of groups.values()) {
      records.push([...g.first, ...g.accs.map((a) => a.result(ctx, options.warn))]);
    }
    return records;
  } finally {
    // The records go to the consumer, which counts what it keeps of them.
    mem.close();
  }
}

