/**
 * Tests of the row key helpers of table.ts: `handleOfRowKey` reads back the handle of
 * `rowKey` for every int64 (both sides of ±2^53, where it switches to 64-bit arithmetic).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { TableInfo } from "../catalog/schema.ts";
import { handleOfRowKey, rowKey } from "./table.ts";

test("handleOfRowKey reads the handle of every row key", { timeout: 30_000 }, () => {
  const table = { id: 1234, name: "t", dbId: 1, columns: [], indexes: [], pkHandle: null } as
    TableInfo;
  const edges = [0n, 1n, -1n, 2n ** 53n, 2n ** 53n - 1n, -(2n ** 53n), -(2n ** 53n) - 1n,
    2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n, -(2n ** 32n), 2n ** 31n, -(2n ** 31n) - 1n];
  for (const h of edges) assert.equal(handleOfRowKey(rowKey(table, h)), h, String(h));
  fc.assert(fc.property(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n })), (h) => {
    assert.equal(handleOfRowKey(rowKey(table, h)), h);
  }), { seed: 515, numRuns: 2000 });
});
