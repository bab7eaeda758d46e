/**
 * `addWrittenTables`: the table ids a transaction's written keys name (row and index keys
 * of any table id, meta keys ignored) — what the commit check compares schema changes with.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { indexId, tableId } from "../../base/mod.ts";
import { encodeIndexKey, encodeMetaKey, encodeRowKey } from "../../codec/mod.ts";
import { addWrittenTables } from "./syncer.ts";

describe("addWrittenTables", () => {
  it("collects the table ids of row and index keys and skips meta keys", { timeout: 10_000 },
    () => {
      const into = new Set<number>([3]);
      addWrittenTables([
        encodeRowKey(tableId(7), 1n),
        encodeRowKey(tableId(7), -5n),
        encodeIndexKey({ tableId: tableId(123_456), indexId: indexId(2),
          values: [{ kind: "int", value: 9n }], handle: 4n }),
        encodeMetaKey({ key: new TextEncoder().encode("SchemaVersion") }),
      ], into);
      assert.deepEqual([...into].sort((a, b) => a - b), [3, 7, 123_456]);
    });
});
