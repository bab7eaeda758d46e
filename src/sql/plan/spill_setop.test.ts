/**
 * The spilling set operations (`spill_setop.ts`) against the in-memory ones, on the
 * simulated file system: seeded random branches with many duplicate rows give, for
 * UNION, INTERSECT and EXCEPT (distinct and ALL), the same multiset of rows partition by
 * partition as `setOpRows` over the whole branches — the right branch given or run late —
 * and leave nothing on disk or on the tracker.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../../base/mod.ts";
import { SimFileSystem } from "../../env/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { MemoryTracker, noMemoryAccount } from "./memory_tracker.ts";
import { type SetOpKind, setOpRows, spilledSetOp } from "./spill_setop.ts";
import { SpillSpace } from "./spill_store.ts";

const opts = { timeout: 30_000 };

function randomRows(rng: Prng, n: number): Value[][] {
  const rows: Value[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push([rng.nextInt(8) === 0 ? null : { kind: "int", value: BigInt(rng.nextInt(40)) },
      { kind: "string", value: `${"ab".repeat(rng.nextInt(3))}${"-".repeat(30)}` }]);
  }
  return rows;
}

const canonical = (rows: readonly Value[][]): string[] =>
  rows.map((r) => JSON.stringify(r, (_k, v: unknown) =>
    (typeof v === "bigint" ? v.toString() : v))).sort();

test("spilled UNION / INTERSECT / EXCEPT give the in-memory rows", opts, async () => {
  for (const seed of [1, 2]) {
    for (const op of ["UNION", "INTERSECT", "EXCEPT"] as SetOpKind[]) {
      for (const all of [false, true]) {
        for (const late of [false, true]) {
          const rng = new Prng(seed);
          const l = randomRows(rng, 1500);
          const r = randomRows(rng, 1000);
          const want = setOpRows(op, all, l.map((x) => [...x]), r.map((x) => [...x]),
            [undefined, undefined], noMemoryAccount);
          const fs = new SimFileSystem({ seed });
          const space = new SpillSpace(fs, "/spill");
          const spills = space.open();
          const tracker = new MemoryTracker({ quota: 40_000, connectionId: 1 });
          const got = await spilledSetOp(op, all, l, late ? () => Promise.resolve(r) : r,
            [undefined, undefined], { tracker, spills });
          const name = `seed ${seed} ${op}${all ? " ALL" : ""}${late ? " late" : ""}`;
          assert.deepEqual(canonical(got), canonical(want), name);
          assert.equal(l.length, 0, "the left rows are let go");
          assert.ok(space.stats.filesCreated >= 16, name);
          assert.equal(tracker.consumed, 0);
          assert.equal(space.stats.filesLive, 0);
          await spills.close();
          assert.deepEqual(await fs.readdir("/spill"), []);
        }
      }
    }
  }
});

test("EXCEPT ALL and INTERSECT ALL match copy by copy", opts, () => {
  const int = (n: number): Value[] => [{ kind: "int", value: BigInt(n) }];
  const l = [int(1), int(2), int(2), int(3), int(2)];
  const r = [int(2), int(3), int(3), int(4)];
  const values = (rows: Value[][]): string[] => rows.map((row) => canonical([row])[0]!);
  assert.deepEqual(values(setOpRows("EXCEPT", true, l, r, [undefined], noMemoryAccount)),
    values([int(1), int(2), int(2)]));
  assert.deepEqual(values(setOpRows("INTERSECT", true, l, r, [undefined], noMemoryAccount)),
    values([int(2), int(3)]));
  assert.deepEqual(values(setOpRows("EXCEPT", false, l, r, [undefined], noMemoryAccount)),
    values([int(1)]));
});
