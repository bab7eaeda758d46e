/**
 * An inner join of two base tables run spilling (TiDB's hash-join spill, as a grace hash
 * join): for a spilling rerun of a SELECT (`spill_select.ts`), each table is read a page
 * at a time, filtered by the conjuncts that read it alone, and its rows are written to
 * one of `joinPartitionCount` temp files by the hash of their equi-join key (a row whose
 * key is NULL matches nothing and is dropped). Then each pair of partitions is read back
 * and joined in memory by the join step of the in-memory plan (`joinStep`: a hash join on
 * the equalities, the conjuncts over both tables as filters), and its rows go on before
 * the next pair is read; a pair whose rows would take more than `pairFraction` of the
 * quota is partitioned again first (with another hash, up to `depthMax` levels). So the
 * join's input need not fit in the quota, only one pair and its output; a pair that does
 * not fit after all (one key of very many rows) still ends with 8175. The rows come pair
 * by pair: without ORDER BY their order differs from the in-memory join's (as a hash
 * join's order does in TiDB). A LEFT / RIGHT outer equi-join of two paged sources runs
 * the same way, an outer row without a match coming out with NULLs
 * (`graceOuterJoinPages`).
 */
import type { EvalContext, Value } from "../../expr/mod.ts";
import { type Conjunct, type Leaf, allHold, compositeKey, eqSides, joinStep, mergeRows, widen }
  from "./join_step.ts";
import { type MemoryTracker, keyBytes, rowBytes } from "./memory_tracker.ts";
import { type SpillFile, type SpillSet, spillHash } from "./spill_store.ts";

/** Partitions each table is split into. */
export const joinPartitionCount = 16;

/** What a spilling run hands its FROM: where to spill and the query's tracker. */
export interface SpillContext {
  readonly spills: SpillSet;
  readonly tracker: MemoryTracker;
}

/**
 * The paged rows of an inner join of `leaves` (two base tables with paged reads) under
 * `conjuncts`, joined partition by partition; undefined when no equality joins them.
 */
export function graceJoinPages(leaves: readonly Leaf[], conjuncts: readonly Conjunct[],
  width: number, ctx: () => EvalContext,
  read: (leaf: Leaf) => AsyncIterable<Value[][]>):
  ((spill: SpillContext) => AsyncIterable<Value[][]>) | undefined {
  if (leaves.length !== 2) return undefined;
  const eqs = conjuncts.flatMap((c) => {
    const sides = eqSides(c, 1n, 2n);
    return sides === null ? [] : [sides];
  });
  if (eqs.length === 0) return undefined;
  const local = [conjuncts.filter((c) => c.mask === 1n || c.mask === 0n),
    conjuncts.filter((c) => c.mask === 2n)];
  const both = conjuncts.filter((c) => c.mask === 3n);
  const keys = [eqs.map((q) => ({ e: q.cur, domain: q.domain })),
    eqs.map((q) => ({ e: q.next, domain: q.domain }))];
  return async function* (spill: SpillContext): AsyncGenerator<Value[][]> {
    const { spills, tracker } = spill;
    const evalCtx = ctx();
    // A pair of partitions is joined in memory when its rows take at most this.
    const budget = tracker.quota > 0 ? tracker.quota * pairFraction : Infinity;
    const held = new Set<SpillFile>();
    // Writes `rows` (widened, filtered) to partitions by their key's hash under `seed`.
    const partition = async (side: 0 | 1, rows: AsyncIterable<Value[][]>, seed: number,
      fresh: boolean): Promise<Part[]> => {
      const parts: Part[] = [];
      for (let p = 0; p < joinPartitionCount; p++) parts.push({ file: null, bytes: 0 });
      const leaf = leaves[side]!;
      for await (const batch of rows) {
        tracker.checkKilled();
        for (const row of batch) {
          const wide = fresh ? widen(row, leaf.offset, width) : row;
          if (fresh && !await allHold(local[side]!, wide, evalCtx)) continue;
          const key = compositeKey(keys[side]!, wide, evalCtx);
          if (key === null) continue;
          const part = parts[spillHash(key, seed) % joinPartitionCount]!;
          if (part.file === null) {
            part.file = await spills.create();
            held.add(part.file);
          }
          await part.file.write(wide);
          part.bytes += rowBytes(wide);
        }
      }
      for (const part of parts) await part.file?.flush();
      return parts;
    };
    const drop = async (file: SpillFile | null): Promise<void> => {
      if (file === null) return;
      held.delete(file);
      await spills.drop(file);
    };
    // Joins partition pair by pair; a pair too big for the budget is partitioned again.
    const joinPairs = async function* (left: Part[], right: Part[], depth: number):
      AsyncGenerator<Value[][]> {
      for (let p = 0; p < joinPartitionCount; p++) {
        const l = left[p]!;
        const r = right[p]!;
        if (l.file === null || r.file === null) {
          await drop(l.file);
          await drop(r.file);
          continue;
        }
        if (l.bytes + r.bytes > budget && depth < depthMax) {
          const subLeft = await partition(0, l.file.batches(), depth + 1, false);
          await drop(l.file);
          const subRight = await partition(1, r.file.batches(), depth + 1, false);
          await drop(r.file);
          yield* joinPairs(subLeft, subRight, depth + 1);
          continue;
        }
        const mem = tracker.scope();
        let out: Value[][];
        try {
          const lRows = await l.file.readAll(mem);
          const rRows = await r.file.readAll(mem);
          await drop(l.file);
          await drop(r.file);
          out = await joinStep(lRows, rRows, 2n, leaves, eqs, both, evalCtx, mem);
        } finally {
          // The joined rows go to the consumer, which counts what it keeps of them.
          mem.close();
        }
        for (let i = 0; i < out.length; i += 1024) yield out.slice(i, i + 1024);
      }
    };
    try {
      const left = await partition(0, read(leaves[0]!), 0, true);
      const right = await partition(1, read(leaves[1]!), 0, true);
      yield* joinPairs(left, right, 0);
    } finally {
      for (const file of [...held]) await drop(file);
    }
  };
}

/**
 * The paged rows of a LEFT (or, `rightJoin`, RIGHT) outer join of `sides` (two sources
 * with paged reads, `Source.pages`) under its ON `conjuncts`, joined partition by
 * partition as `graceJoinPages` does; undefined when no equality joins them. As the
 * in-memory outer join (from.ts `outerJoin`): the conjuncts reading only the inner side
 * filter it first, an outer row is joined with each inner row of its key for which the
 * other conjuncts hold, and an outer row that meets none comes out once with NULLs for
 * the inner side — partition by partition: an outer row whose key is NULL, or whose
 * partition has no inner rows, matches nothing.
 */
export function graceOuterJoinPages(sides: readonly Leaf[], conjuncts: readonly Conjunct[],
  rightJoin: boolean, ctx: () => EvalContext):
  ((spill: SpillContext) => AsyncIterable<Value[][]>) | undefined {
  const reads = sides.map((s) => s.source.pages);
  if (sides.length !== 2 || reads.some((r) => r === undefined)) return undefined;
  const innerBit = rightJoin ? 1n : 2n;
  const outerBit = rightJoin ? 2n : 1n;
  const outer = rightJoin ? 1 : 0;
  const innerOnly = conjuncts.filter((c) => c.mask === innerBit);
  const rest = conjuncts.filter((c) => c.mask !== innerBit);
  const eqs = rest.flatMap((c) => {
    const e = eqSides(c, outerBit, innerBit);
    return e === null ? [] : [e];
  });
  if (eqs.length === 0) return undefined;
  const width = sides[0]!.width + sides[1]!.width;
  // Key expressions by side (0: left, 1: right).
  const outerKeys = eqs.map((q) => ({ e: q.cur, domain: q.domain }));
  const innerKeys = eqs.map((q) => ({ e: q.next, domain: q.domain }));
  const keys = rightJoin ? [innerKeys, outerKeys] : [outerKeys, innerKeys];
  return async function* (spill: SpillContext): AsyncGenerator<Value[][]> {
    const { spills, tracker } = spill;
    const evalCtx = ctx();
    const budget = tracker.quota > 0 ? tracker.quota * pairFraction : Infinity;
    const held = new Set<SpillFile>();
    const create = async (): Promise<SpillFile> => {
      const file = await spills.create();
      held.add(file);
      return file;
    };
    const drop = async (file: SpillFile | null): Promise<void> => {
      if (file === null) return;
      held.delete(file);
      await spills.drop(file);
    };
    // Outer rows whose key is NULL: they match nothing.
    const keyless: { file: SpillFile | null } = { file: null };
    const partition = async (side: number, rows: AsyncIterable<Value[][]>, seed: number,
      fresh: boolean): Promise<Part[]> => {
      const parts: Part[] = [];
      for (let p = 0; p < joinPartitionCount; p++) parts.push({ file: null, bytes: 0 });
      const leaf = sides[side]!;
      for await (const batch of rows) {
        tracker.checkKilled();
        for (const row of batch) {
          const wide = fresh ? widen(row, leaf.offset, width) : row;
          if (fresh && side !== outer && !await allHold(innerOnly, wide, evalCtx)) continue;
          const key = compositeKey(keys[side]!, wide, evalCtx);
          if (key === null) {
            if (side === outer) {
              keyless.file ??= await create();
              await keyless.file.write(wide);
            }
            continue;
          }
          const part = parts[spillHash(key, seed) % joinPartitionCount]!;
          part.file ??= await create();
          await part.file.write(wide);
          part.bytes += rowBytes(wide);
        }
      }
      for (const part of parts) await part.file?.flush();
      return parts;
    };
    // Joins one pair in memory: each outer row with its matches, or alone.
    const joinPair = async (outerRows: Value[][], innerRows: Value[][],
      mem: { consume(bytes: number): void }): Promise<Value[][]> => {
      const buckets = new Map<string, Value[][]>();
      for (const row of innerRows) {
        const key = compositeKey(innerKeys, row, evalCtx)!;
        const bucket = buckets.get(key);
        mem.consume(bucket === undefined ? keyBytes(key) : 8);
        if (bucket === undefined) buckets.set(key, [row]);
        else bucket.push(row);
      }
      const out: Value[][] = [];
      for (const row of outerRows) {
        let matched = false;
        for (const candidate of buckets.get(compositeKey(outerKeys, row, evalCtx)!) ?? []) {
          const merged = mergeRows(row, candidate, sides, innerBit);
          if (!await allHold(rest, merged, evalCtx)) continue;
          matched = true;
          mem.consume(rowBytes(merged));
          out.push(merged);
        }
        if (!matched) out.push(row);
      }
      return out;
    };
    const joinPairs = async function* (parts: Part[][], depth: number):
      AsyncGenerator<Value[][]> {
      for (let p = 0; p < joinPartitionCount; p++) {
        const o = parts[outer]![p]!;
        const i = parts[1 - outer]![p]!;
        if (o.file === null) {
          await drop(i.file);
          continue;
        }
        if (i.file === null) {
          // No inner rows: every outer row of the partition comes out alone.
          yield* o.file.batches();
          await drop(o.file);
          continue;
        }
        if (o.bytes + i.bytes > budget && depth < depthMax) {
          const sub: Part[][] = [[], []];
          for (const side of [0, 1]) {
            const part = parts[side]![p]!;
            sub[side] = await partition(side, part.file!.batches(), depth + 1, false);
            await drop(part.file);
          }
          yield* joinPairs(sub, depth + 1);
          continue;
        }
        const mem = tracker.scope();
        let out: Value[][];
        try {
          const outerRows = await o.file.readAll(mem);
          const innerRows = await i.file.readAll(mem);
          await drop(o.file);
          await drop(i.file);
          out = await joinPair(outerRows, innerRows, mem);
        } finally {
          // The joined rows go to the consumer, which counts what it keeps of them.
          mem.close();
        }
        for (let k = 0; k < out.length; k += 1024) yield out.slice(k, k + 1024);
      }
    };
    try {
      const parts: Part[][] = [];
      for (const side of [0, 1]) parts.push(await partition(side, reads[side]!(spill), 0, true));
      yield* joinPairs(parts, 0);
      if (keyless.file !== null) {
        await keyless.file.flush();
        yield* keyless.file.batches();
      }
    } finally {
      for (const file of [...held]) await drop(file);
    }
  };
}

/** A partition being written: its file (none while empty) and its rows' bytes in memory. */
interface Part {
  file: SpillFile | null;
  bytes: number;
}

/** The part of the quota one pair of partitions may take; partitioning levels at most. */
const pairFraction = 0.1;
const depthMax = 4;

