/**
 * The spilling DISTINCT (`spill_distinct.ts`) against the in-memory one, on the simulated
 * file system: seeded random entries with many duplicate rows, deduplicated under quotas
 * small enough to partition (and partition again), keep exactly one entry per distinct
 * row — without an order the first seen, with one the least by it (as the in-memory plan,
 * which sorts stably and then keeps the first) — and leave nothing on disk or on the
 * tracker, also when the consumer stops early.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../../base/mod.ts";
import { SimFileSystem } from "../../env/mod.ts";
import type { EvalContext, Value } from "../../expr/mod.ts";
import { rowKey } from "./aggregate.ts";
import type { SortEntry } from "./external_sort.ts";
import { MemoryTracker } from "./memory_tracker.ts";
import { distinctEntries, positionKey } from "./spill_distinct.ts";
import { SpillSpace } from "./spill_store.ts";
import { keyOrder } from "./topn.ts";

const opts = { timeout: 30_000 };
const ctx = { connectionId: 1 } as unknown as EvalContext;

/** Entries of rows (a, b) from few values, keys (c, position): many duplicate rows. */
function randomEntries(seed: number, n: number): SortEntry[] {
  const rng = new Prng(seed);
  const out: SortEntry[] = [];
  for (let i = 0; i < n; i++) {
    const a: Value = rng.nextInt(9) === 0 ? null : { kind: "int", value: BigInt(rng.nextInt(60)) };
    const b: Value = { kind: "string", value: "x".repeat(rng.nextInt(4)) + "-".repeat(20) };
    const c: Value = rng.nextInt(7) === 0 ? null : { kind: "int", value: BigInt(rng.nextInt(9)) };
    out.push({ out: [a, b], keys: [c, positionKey(i)] });
  }
  return out;
}

async function* batches(entries: readonly SortEntry[]): AsyncGenerator<SortEntry[]> {
  for (let i = 0; i < entries.length; i += 37) yield entries.slice(i, i + 37);
}

/** The in-memory DISTINCT: sort stably (if ordered), keep each row's first entry. */
function reference(entries: readonly SortEntry[], ordered: boolean): SortEntry[] {
  const sorted = ordered ? [...entries].sort(keyOrder([false, false], ctx)) : [...entries];
  const seen = new Set<string>();
  return sorted.filter((e) => {
    const key = rowKey(e.out);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const canonical = (entries: readonly SortEntry[]): string[] =>
  entries.map((e) => JSON.stringify([e.out, e.keys], (_k, v: unknown) =>
    (typeof v === "bigint" ? v.toString() : v))).sort();

test("the spilling DISTINCT keeps one entry per row, the one the in-memory plan keeps", opts,
  async () => {
    for (const seed of [1, 2, 3]) {
      for (const ordered of [false, true]) {
        const entries = randomEntries(seed, 3000);
        const fs = new SimFileSystem({ seed });
        const space = new SpillSpace(fs, "/spill");
        const spills = space.open();
        // About 240 distinct rows of ~400 bytes held: 11 fit in 3/4 of this quota.
        const tracker = new MemoryTracker({ quota: 6000, connectionId: 1 });
        const stats = { passes: 0, spilledRows: 0 };
        const got: SortEntry[] = [];
        for await (const batch of distinctEntries(batches(entries), { tracker, spills,
          collations: [undefined, undefined], keyCount: 2, stats,
          ...(ordered ? { order: keyOrder([false, false], ctx) } : {}) })) got.push(...batch);
        assert.deepEqual(canonical(got), canonical(reference(entries, ordered)),
          `seed ${seed} ordered ${ordered}`);
        assert.ok(stats.passes > 1 + 8, `partitioned again: ${stats.passes} passes`);
        assert.ok(space.stats.filesCreated > 8);
        assert.equal(tracker.consumed, 0);
        await spills.close();
        assert.equal(space.stats.filesLive, 0);
        assert.deepEqual(await fs.readdir("/spill"), []);
      }
    }
  });

test("a consumer stopping early leaves nothing held", opts, async () => {
  const fs = new SimFileSystem({ seed: 9 });
  const space = new SpillSpace(fs, "/spill");
  const spills = space.open();
  const tracker = new MemoryTracker({ quota: 20_000, connectionId: 1 });
  let seen = 0;
  for await (const batch of distinctEntries(batches(randomEntries(4, 2000)), { tracker, spills,
    collations: [undefined, undefined], keyCount: 2 })) {
    seen += batch.length;
    break;
  }
  assert.ok(seen > 0);
  assert.equal(tracker.consumed, 0);
  assert.equal(space.stats.filesLive, 0);
  await spills.close();
});
