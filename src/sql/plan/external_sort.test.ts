/**
 * The external sort and the spilling hash aggregation against their in-memory forms, on
 * the simulated file system: seeded random rows (NULLs, ties, mixed directions) sorted
 * under quotas small enough for many runs and merge levels give exactly the stable
 * in-memory sort; grouping under a small quota partitions (and partitions again) and
 * gives `groupRows`' records, GROUP_CONCAT and COUNT(DISTINCT) included; nothing is left
 * on disk after either, also when the consumer stops early.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../../base/mod.ts";
import { SimFileSystem } from "../../env/mod.ts";
import { type EvalContext, type Expr, type Value, columnRef, intType, stringType }
  from "../../expr/mod.ts";
import { type GroupPlan, groupRows, planAggregate } from "./aggregate.ts";
import type { Compiled } from "./compile.ts";
import { ExternalSorter, type SortEntry } from "./external_sort.ts";
import { MemoryTracker, entryOverheadBytes, rowBytes } from "./memory_tracker.ts";
import { spillingGroupRows } from "./spill_aggregate.ts";
import { SpillSpace } from "./spill_store.ts";
import { keyOrder } from "./topn.ts";

const opts = { timeout: 30_000 };
const ctx = { connectionId: 1 } as unknown as EvalContext;

function randomRows(seed: number, n: number): Value[][] {
  const rng = new Prng(seed);
  const rows: Value[][] = [];
  for (let i = 0; i < n; i++) {
    const a: Value = rng.nextInt(10) === 0 ? null : { kind: "int", value: BigInt(rng.nextInt(20)) };
    const b: Value = rng.nextInt(8) === 0 ? null
      : { kind: "string",
        value: String.fromCharCode(97 + rng.nextInt(5)).repeat(1 + rng.nextInt(3)) };
    rows.push([a, b, { kind: "int", value: BigInt(i) }]);
  }
  return rows;
}

async function sortAll(rows: Value[][], desc: boolean[], quota: number, fanIn: number):
  Promise<{ out: Value[][]; runs: number; files: string[] }> {
  const fs = new SimFileSystem({ seed: 3 });
  const space = new SpillSpace(fs, "/spill");
  const spills = space.open();
  const tracker = new MemoryTracker({ quota, connectionId: 1 });
  const mem = tracker.scope();
  const sorter = new ExternalSorter({ desc, ctx, tracker, mem, spills, fanIn });
  for (const row of rows) {
    const keys = [row[0]!, row[1]!];
    await sorter.add({ out: row, keys }, rowBytes(row) + rowBytes(keys) + entryOverheadBytes);
  }
  const out: Value[][] = [];
  for await (const batch of sorter.sorted()) out.push(...batch);
  mem.close();
  await spills.close();
  assert.equal(tracker.consumed, 0);
  return { out, runs: sorter.runCount, files: await fs.readdir("/spill").catch(() => []) };
}

test("the external sort equals the stable in-memory sort", opts, async () => {
  for (const seed of [1, 2, 3]) {
    const rows = randomRows(seed, 2000);
    for (const desc of [[false, false], [true, false], [false, true]]) {
      const order = keyOrder(desc, ctx);
      const expected = rows.map((r): SortEntry => ({ out: r, keys: [r[0]!, r[1]!] }))
        .sort(order).map((e) => e.out);
      for (const [quota, fanIn] of [[20_000, 4], [60_000, 16], [0, 16]] as const) {
        const got = await sortAll(rows, desc, quota, fanIn);
        assert.deepEqual(got.out, expected, `seed ${seed} desc ${desc} quota ${quota}`);
        assert.deepEqual(got.files, []);
        if (quota === 20_000) assert.ok(got.runs > 8, `runs ${got.runs}`);
        if (quota === 0) assert.equal(got.runs, 0);
      }
    }
  }
});

function compiled(expr: Expr): Compiled {
  return { expr, subs: [] } as unknown as Compiled;
}

test("the spilling hash aggregation gives groupRows' records", opts, async () => {
  const a = compiled(columnRef(0, "a", intType({ length: 11 })));
  const b = compiled(columnRef(1, "b", stringType(10)));
  const id = compiled(columnRef(2, "id", intType({ length: 11 })));
  const agg = (ast: object): ReturnType<typeof planAggregate> => planAggregate(
    ast as Parameters<typeof planAggregate>[0], (e) => ((e as { kind: string; column: string })
      .column === "a" ? a : (e as { column: string }).column === "b" ? b : id),
    { maxBytes: 1 << 20, text: "agg" });
  const col = (column: string): object => ({ kind: "column", db: null, table: null, column });
  const aggregates = [
    agg({ kind: "func", name: "count", args: [{ kind: "star", table: null }], distinct: false,
      over: null }),
    agg({ kind: "func", name: "sum", args: [col("id")], distinct: false, over: null }),
    agg({ kind: "func", name: "max", args: [col("b")], distinct: false, over: null }),
    agg({ kind: "func", name: "count", args: [col("b")], distinct: true, over: null }),
    agg({ kind: "groupConcat", args: [col("id")], distinct: false, separator: "-",
      orderBy: [{ expr: col("id"), desc: true }] }),
  ];
  for (const [groupBy, label] of [[[a, b], "a, b"], [[id], "id"], [[], "implicit"]] as const) {
    const plan: GroupPlan = { groupBy, aggregates, implicit: groupBy.length === 0, width: 3 };
    const rows = randomRows(7, 1500);
    const expected = await groupRows(rows, plan, ctx);
    const fs = new SimFileSystem({ seed: 4 });
    const spills = new SpillSpace(fs, "/spill").open();
    const tracker = new MemoryTracker({ quota: 150_000, connectionId: 1 });
    const stats = { passes: 0, spilledRows: 0 };
    const pages = async function* (): AsyncGenerator<Value[][]> {
      for (let i = 0; i < rows.length; i += 100) yield rows.slice(i, i + 100);
    };
    const got: Value[][] = [];
    const run = async (): Promise<void> => {
      for await (const batch of spillingGroupRows(pages, plan, { ctx, tracker, spills,
        stats })) got.push(...batch);
    };
    if (label === "implicit") {
      // One group's GROUP_CONCAT and DISTINCT set alone pass the quota: 8175, files gone.
      await assert.rejects(run(), (error: { errno?: number }) => error.errno === 8175);
      assert.equal(tracker.consumed, 0);
      assert.deepEqual(await fs.readdir("/spill").catch(() => []), [], label);
      continue;
    }
    await run();
    const key = (r: Value[]): string => JSON.stringify(r, (_, v: unknown) =>
      (typeof v === "bigint" ? v.toString() : v));
    // Groups come partition by partition: compare as sets of records.
    assert.deepEqual(got.map(key).sort(), expected.map(key).sort(), label);
    assert.equal(tracker.consumed, 0, label);
    if (label === "id") assert.ok(stats.passes > partitionsAtLeast, `passes ${stats.passes}`);
    assert.deepEqual(await fs.readdir("/spill").catch(() => []), [], label);
    await spills.close();
  }
});

/** GROUP BY id over 1,500 rows under the quota: partitioned more than once. */
const partitionsAtLeast = 8;

test("stopping early (LIMIT) leaves no files", opts, async () => {
  const fs = new SimFileSystem({ seed: 5 });
  const spills = new SpillSpace(fs, "/spill").open();
  const tracker = new MemoryTracker({ quota: 20_000, connectionId: 1 });
  const mem = tracker.scope();
  const sorter = new ExternalSorter({ desc: [false], ctx, tracker, mem, spills, fanIn: 3 });
  for (const row of randomRows(9, 1000)) {
    await sorter.add({ out: row, keys: [row[2]!] }, rowBytes(row) * 2 + entryOverheadBytes);
  }
  assert.ok(sorter.runCount > 3);
  for await (const batch of sorter.sorted()) {
    assert.deepEqual(batch[0], randomRows(9, 1)[0]);
    break;
  }
  mem.close();
  await spills.close();
  assert.deepEqual(await fs.readdir("/spill"), []);
  assert.equal(tracker.consumed, 0);
});
