/**
 * Schema diffs (`schema_diff.ts`): the edits a DDL transaction records, how a diff record
 * is read back (anything malformed or older means "load everything"), and patching a
 * cached catalog with the touched objects — put, deleted, renamed, moved to another
 * database, and landing in a database the cache does not know.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SchemaDatabase } from "./catalog.ts";
import type { TableInfo, ViewInfo } from "./schema.ts";
import { SchemaEditsRecorder, applyEdits, editsOf } from "./schema_diff.ts";

function table(id: number, dbId: number, name: string): TableInfo {
  return { id, dbId, name, columns: [], indexes: [], pkHandle: null };
}

function view(id: number, dbId: number, name: string): ViewInfo {
  return { id, dbId, name, columns: null, definition: "SELECT 1", checkOption: null };
}

function database(id: number, name: string, tables: TableInfo[], views: ViewInfo[] = []):
  [string, SchemaDatabase] {
  return [name, { info: { id, name }, tables: new Map(tables.map((t) => [t.name, t])),
    views: new Map(views.map((v) => [v.name, v])) }];
}

/** Table and view names per database, sorted, for comparison. */
function names(databases: ReadonlyMap<string, SchemaDatabase>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, db] of databases) {
    out[name] = [...[...db.tables.values()].map((t) => `t${t.id}:${t.name}`),
      ...[...db.views?.values() ?? []].map((v) => `v${v.id}:${v.name}`)].sort();
  }
  return out;
}

describe("schema diffs", () => {
  it("record each touched object once, and read back only well-formed edits",
    { timeout: 10_000 }, () => {
      const recorder = new SchemaEditsRecorder();
      recorder.table(2, 10);
      recorder.table(2, 10);
      recorder.table(3, 10);
      recorder.view(2, 11);
      const edits = recorder.edits();
      assert.deepEqual(edits, { tables: [[2, 10], [3, 10]], views: [[2, 11]],
        databases: false });
      assert.deepEqual(editsOf(JSON.parse(JSON.stringify({ tableIds: [10], compatible: false,
        edits }))), edits);
      recorder.database();
      assert.equal(recorder.edits().databases, true);
      // Diffs written without edits, or with malformed ones, ask for a full load.
      assert.equal(editsOf({ tableIds: [10], compatible: true }), null);
      assert.equal(editsOf(null), null);
      assert.equal(editsOf({ edits: { tables: [[1]], views: [], databases: false } }), null);
      assert.equal(editsOf({ edits: { tables: [], views: [["a", 1]], databases: false } }),
        null);
      assert.equal(editsOf({ edits: { tables: [], views: [] } }), null);
    });

  it("patch a cached catalog: put, delete, rename, move across databases", { timeout: 10_000 },
    () => {
      const before = new Map([
        database(1, "a", [table(10, 1, "t1"), table(11, 1, "t2"), table(12, 1, "t3")],
          [view(13, 1, "v1")]),
        database(2, "b", [table(20, 2, "u1")]),
      ]);
      const after = applyEdits(before, [
        { dbId: 1, id: 10, info: null },
        { dbId: 1, id: 11, info: table(11, 1, "t2_renamed") },
        { dbId: 1, id: 12, info: null },
        { dbId: 2, id: 12, info: table(12, 2, "t3") },
        { dbId: 2, id: 21, info: table(21, 2, "u2") },
      ], [{ dbId: 1, id: 13, info: null }, { dbId: 2, id: 22, info: view(22, 2, "w") }]);
      assert.ok(after !== null);
      assert.deepEqual(names(after), {
        a: ["t11:t2_renamed"],
        b: ["t12:t3", "t20:u1", "t21:u2", "v22:w"],
      });
      // The cached catalog itself is left as it was.
      assert.deepEqual(names(before), {
        a: ["t10:t1", "t11:t2", "t12:t3", "v13:v1"],
        b: ["t20:u1"],
      });
      // Untouched databases are shared, not copied.
      const onlyA = applyEdits(before, [{ dbId: 1, id: 10, info: null }], []);
      assert.equal(onlyA?.get("b"), before.get("b"));
    });

  it("give up when an object lands in a database the cache does not have",
    { timeout: 10_000 }, () => {
      const before = new Map([database(1, "a", [table(10, 1, "t1")])]);
      assert.equal(applyEdits(before, [{ dbId: 9, id: 30, info: table(30, 9, "x") }], []),
        null);
      assert.equal(applyEdits(before, [], [{ dbId: 9, id: 31, info: view(31, 9, "y") }]),
        null);
      // A deletion in an unknown database changes nothing and needs nothing.
      assert.deepEqual(names(applyEdits(before, [{ dbId: 9, id: 30, info: null }], []) ??
        new Map()), { a: ["t10:t1"] });
    });
});
