/**
 * UNION (distinct), INTERSECT and EXCEPT (also ALL) of two branches' rows: in memory
 * (`setOpRows`), and spilling (`spilledSetOp`) when the in-memory run ends with 8175 and
 * `tidb_enable_tmp_storage_on_oom` is ON (the planner's set operation, planner.ts). The
 * spilling run writes the left branch's rows to `partitionCount` temp files by a hash of
 * the row (under the result columns' collations), lets them go, runs the right branch if
 * it has not run yet and writes its rows the same way; then it applies the operation
 * partition by partition — every copy of a row lands in one partition, so each
 * partition's result is the operation's on those rows — holding one partition's rows and
 * key set at a time. Under ORDER BY the rows are sorted afterwards as usual; without it
 * their order (partition by partition) differs from the in-memory run's.
 *
 * The branches' own results still arrive whole (a branch that spills hands its rows over
 * uncounted, as any SELECT does); UNION ALL, which keeps no key set, does not spill.
 */
import type { Collation } from "../../codec/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { rowKey } from "./aggregate.ts";
import { type MemoryAccount, type MemoryTracker, keyBytes, rowsBytes }
  from "./memory_tracker.ts";
import { type SpillFile, type SpillSet, spillHash } from "./spill_store.ts";

export type SetOpKind = "UNION" | "INTERSECT" | "EXCEPT";

/** Each row of `rows` once (the first copy), its key counted in `mem`. */
function distinctRows(rows: readonly Value[][], mem: MemoryAccount,
  collations: readonly (Collation | undefined)[]): Value[][] {
  const seen = new Set<string>();
  const out: Value[][] = [];
  for (const row of rows) {
    const key = rowKey(row, collations);
    if (seen.has(key)) continue;
    seen.add(key);
    mem.consume(keyBytes(key));
    out.push(row);
  }
  return out;
}

/**
 * The rows of `l op r` in memory: UNION keeps each row's first copy; INTERSECT / EXCEPT
 * keep left rows by their count in `r` (ALL: copy by copy), in left order.
 */
export function setOpRows(op: SetOpKind, all: boolean, l: Value[][], r: Value[][],
  collations: readonly (Collation | undefined)[], mem: MemoryAccount): Value[][] {
  if (op === "UNION") return all ? [...l, ...r] : distinctRows([...l, ...r], mem, collations);
  const counts = new Map<string, number>();
  for (const row of r) {
    const key = rowKey(row, collations);
    const n = counts.get(key);
    if (n === undefined) mem.consume(keyBytes(key));
    counts.set(key, (n ?? 0) + 1);
  }
  const out: Value[][] = [];
  for (const row of all ? l : distinctRows(l, mem, collations)) {
    const key = rowKey(row, collations);
    const n = counts.get(key) ?? 0;
    if (op === "INTERSECT" ? n > 0 : n === 0) out.push(row);
    // ALL: each right copy matches one left copy.
    if (all && n > 0) counts.set(key, n - 1);
  }
  return out;
}

/** Partitions at least and at most; more when the left rows take many quotas. */
const partitionsMin = 8;
const partitionsMax = 256;

/** What a spilling set operation needs. */
export interface SpillSetOpEnv {
  readonly tracker: MemoryTracker;
  readonly spills: SpillSet;
}

/**
 * `l op r` spilling (see the file comment); `l` is emptied once written, `r` is the right
 * branch's rows or a function that runs it. The spill files are dropped before it returns.
 */
export async function spilledSetOp(op: SetOpKind, all: boolean, l: Value[][],
  r: Value[][] | (() => Promise<Value[][]>), collations: readonly (Collation | undefined)[],
  env: SpillSetOpEnv): Promise<Value[][]> {
  const { tracker, spills } = env;
  const wanted = tracker.quota > 0 ? Math.ceil(8 * rowsBytes(l) / tracker.quota) : 0;
  const count = Math.max(partitionsMin, Math.min(partitionsMax, wanted));
  const files: (SpillFile | null)[][] = [new Array<SpillFile | null>(count).fill(null),
    new Array<SpillFile | null>(count).fill(null)];
  const write = async (side: number, rows: Value[][]): Promise<void> => {
    for (const row of rows) {
      const p = spillHash(rowKey(row, collations), -1) % count;
      files[side]![p] ??= await spills.create();
      await files[side]![p].write(row);
    }
    rows.length = 0;
    for (const f of files[side]!) await f?.flush();
    tracker.checkKilled();
  };
  try {
    await write(0, l);
    await write(1, typeof r === "function" ? await r() : r);
    const out: Value[][] = [];
    for (let p = 0; p < count; p++) {
      const mem = tracker.scope();
      try {
        const sides: Value[][][] = [[], []];
        for (const side of [0, 1]) {
          const file = files[side]![p];
          if (file === null || file === undefined) continue;
          sides[side] = await file.readAll(mem);
          files[side]![p] = null;
          await spills.drop(file);
        }
        // The rows go to the consumer, uncounted as the in-memory result is.
        for (const row of setOpRows(op, all, sides[0]!, sides[1]!, collations, mem)) {
          out.push(row);
        }
      } finally {
        mem.close();
      }
    }
    return out;
  } finally {
    for (const side of files) for (const f of side) if (f !== null) await spills.drop(f);
  }
}

