/**
 * Conformance of the vectorized DAG executor (batch_exec.ts) with the reference row
 * executor (dag_exec.ts `runDag`): over seeded random tables of every DagColumnType and
 * seeded random requests (selections of random expressions, limits, TopN, aggregates
 * with group-bys, both scan directions, tiny page sizes, locks in the way, a small page
 * byte target and group bound), every page — rows, handles, partials, resume keys,
 * warnings, warning counts, errors, scanned keys — and every lock must be identical.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { indexId, limits, tableId } from "../../base/mod.ts";
import { indexPrefix, prefixNext, recordPrefix } from "../../codec/mod.ts";
import type { DagRequest } from "../dag.ts";
import { type DagPair, type DagRange, runDag } from "../dag_exec.ts";
import { batchExecStats, runDagBatch } from "./batch_exec.ts";
import { Rng, allPages, lockingScanner, randomIndexPairs, randomPairs, randomRequest,
  testIndex, testTable } from "./test_random_dag.ts";

const opts = { timeout: 120_000 };

function indexRange(): DagRange[] {
  const prefix = indexPrefix(tableId(testTable), indexId(testIndex));
  return [{ start: prefix, end: prefixNext(prefix) }];
}

function wholeTable(): DagRange[] {
  const prefix = recordPrefix(tableId(testTable));
  return [{ start: prefix, end: prefixNext(prefix) }];
}

/** Two or three disjoint ranges cut at random keys of `pairs`. */
function someRanges(rng: Rng, pairs: readonly DagPair[]): DagRange[] {
  if (pairs.length < 10 || rng.chance(0.5)) return wholeTable();
  const a = rng.int(0, pairs.length - 5);
  const b = rng.int(a + 1, pairs.length - 3);
  const c = rng.int(b + 1, pairs.length - 1);
  return [{ start: pairs[0]!.key, end: pairs[a]!.key }, { start: pairs[b]!.key,
    end: pairs[c]!.key }];
}

function describe(request: DagRequest): string {
  return JSON.stringify(request, (_k, v: unknown) => typeof v === "bigint" ? `${v}n`
    : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v).slice(0, 1500);
}

function checkSeed(seed: number, requests: number, index = false): void {
  const rng = new Rng(seed);
  const n = rng.pick([0, 5, 300, 1500, 2600]);
  const pairs = index ? randomIndexPairs(rng, n) : randomPairs(rng, n);
  for (let q = 0; q < requests; q++) {
    const request = randomRequest(rng, index);
    const ranges = index && rng.chance(0.5) ? indexRange() : someRanges(rng, pairs);
    const lockKey = pairs.length > 0 && rng.chance(0.1)
      ? pairs[rng.int(0, pairs.length - 1)]!.key : null;
    const scan = lockingScanner(pairs, lockKey);
    const want = allPages(runDag, request, ranges, scan);
    const got = allPages(runDagBatch, request, ranges, scan);
    assert.deepStrictEqual(got, want, `seed ${seed} request ${q}: ${describe(request)}`);
  }
}

test("the batch executor returns the row executor's pages (seeded random requests)", opts,
  () => {
    const before = { ...batchExecStats };
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) checkSeed(seed, 40);
    // Most batches run vectorized; some rerun row at a time (warnings, errors).
    const vectorized = batchExecStats.vectorized - before.vectorized;
    const rowBatches = batchExecStats.rowBatches - before.rowBatches;
    assert.ok(vectorized > rowBatches, `${vectorized} vectorized, ${rowBatches} row batches`);
    assert.ok(rowBatches > 0, "some batches warned and ran row at a time");
  });

test("index scans agree (seeded random requests)", opts, () => {
  for (const seed of [201, 202, 203, 204, 205, 206]) checkSeed(seed, 30, true);
});

test("pages that end on the byte target or the group bound agree", opts, () => {
  const mutable = limits as unknown as Record<string, number>;
  const saved = { ...mutable };
  mutable["coprocessorPageBytesTarget"] = 6_000;
  mutable["coprocessorAggGroupsMax"] = 7;
  try {
    for (const seed of [101, 102, 103, 104, 105, 106]) checkSeed(seed, 30);
  } finally {
    mutable["coprocessorPageBytesTarget"] = saved["coprocessorPageBytesTarget"]!;
    mutable["coprocessorAggGroupsMax"] = saved["coprocessorAggGroupsMax"]!;
  }
});
