/**
 * The JSON functions end to end through mysql2 on the in-process cluster, over a JSON
 * column: UPDATE … SET doc = JSON_SET / JSON_REMOVE / JSON_ARRAY_APPEND, WHERE
 * JSON_CONTAINS, JSON_CONTAINS_PATH and MEMBER OF (evaluated by the SQL node or pushed to
 * the KV nodes' coprocessor: one evaluator), JSON_SEARCH and JSON_KEYS in the field list,
 * the JSON column type (245) of the results in both protocols, and the MySQL errors of
 * bad paths and documents. Expected values are MySQL 8.0's.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { MySqlType } from "../../src/sql/mod.ts";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";
import { freshDatabase, rejects } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let c: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  const node = await cluster.startNode();
  c = await freshDatabase(node, "jsonfn");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, doc JSON)");
  await c.query(`INSERT INTO t VALUES
    (1, '{"name": "ann", "tags": ["a", "b"], "n": 1}'),
    (2, '{"name": "bob", "tags": ["b", "c"], "n": 2, "extra": {"x": true}}'),
    (3, '[1, 2, 3]'),
    (4, NULL)`);
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** All rows as arrays of strings (text protocol, no casting). */
async function texts(sql: string, params?: unknown[]): Promise<(string | null)[][]> {
  const [result] = await c.query({ sql, values: params, rowsAsArray: true, typeCast: false });
  return (result as (Buffer | null)[][]).map((r) => r.map((v) => v?.toString() ?? null));
}

describe("JSON functions over a JSON column", { timeout: 60_000 }, () => {
  it("filters with JSON_CONTAINS, JSON_CONTAINS_PATH and MEMBER OF", async () => {
    assert.deepEqual(await texts("SELECT id FROM t WHERE JSON_CONTAINS(doc, '\"b\"', " +
      "'$.tags') ORDER BY id"), [["1"], ["2"]]);
    assert.deepEqual(await texts("SELECT id FROM t WHERE JSON_CONTAINS(doc, " +
      "'{\"tags\": [\"c\"]}') ORDER BY id"), [["2"]]);
    assert.deepEqual(await texts("SELECT id FROM t WHERE JSON_CONTAINS_PATH(doc, 'one', " +
      "'$.extra.x', '$[2]') ORDER BY id"), [["2"], ["3"]]);
    assert.deepEqual(await texts("SELECT id FROM t WHERE 'a' MEMBER OF(doc->'$.tags') " +
      "ORDER BY id"), [["1"]]);
    assert.deepEqual(await texts("SELECT id FROM t WHERE 3 MEMBER OF(doc) ORDER BY id"),
      [["3"]]);
    assert.deepEqual(await texts("SELECT id, JSON_OVERLAPS(doc->'$.tags', '[\"c\", \"d\"]') " +
      "FROM t ORDER BY id"), [["1", "0"], ["2", "1"], ["3", null], ["4", null]]);
  });

  it("measures and searches documents in the field list", async () => {
    assert.deepEqual(await texts("SELECT id, JSON_LENGTH(doc), JSON_DEPTH(doc), " +
      "JSON_KEYS(doc), JSON_SEARCH(doc, 'all', 'b%') FROM t ORDER BY id"), [
      ["1", "3", "3", '["n", "name", "tags"]', '"$.tags[1]"'],
      ["2", "4", "3", '["n", "name", "tags", "extra"]', '["$.name", "$.tags[0]"]'],
      ["3", "3", "2", null, null],
      ["4", null, null, null, null],
    ]);
    assert.deepEqual(await texts("SELECT id, JSON_VALUE(doc, '$.tags[last]') FROM t " +
      "WHERE JSON_VALUE(doc, '$.name') = 'ann' OR CAST(doc AS JSON) = CAST('[1, 2, 3]' AS " +
      "JSON) ORDER BY id"), [["1", "b"], ["3", null]]);
    const [, fields] = await c.query("SELECT JSON_SET(doc, '$.z', 1), JSON_KEYS(doc), " +
      "JSON_LENGTH(doc) FROM t WHERE id = 1");
    assert.deepEqual(fields.map((f) => f.columnType),
      [MySqlType.Json, MySqlType.Json, MySqlType.LongLong]);
    // The binary protocol (prepared statements) sends the same values.
    const [rows] = await c.execute("SELECT JSON_SET(doc, '$.n', ?), JSON_CONTAINS(doc, ?) " +
      "FROM t WHERE id = ?", [5, "1", 1]);
    assert.deepEqual(rows, [{ "JSON_SET(doc, '$.n', ?)":
      { name: "ann", tags: ["a", "b"], n: 5 }, "JSON_CONTAINS(doc, ?)": 0 }]);
  });

  it("updates documents with JSON_SET, JSON_REMOVE and JSON_ARRAY_APPEND", async () => {
    await c.query("UPDATE t SET doc = JSON_SET(doc, '$.n', JSON_LENGTH(doc) + 10, '$.seen', " +
      "'yes') WHERE JSON_CONTAINS_PATH(doc, 'one', '$.n')");
    await c.query("UPDATE t SET doc = JSON_ARRAY_APPEND(doc, '$.tags', 'z') WHERE id = 1");
    await c.query("UPDATE t SET doc = JSON_REMOVE(doc, '$.extra') WHERE id = 2");
    await c.query("UPDATE t SET doc = JSON_ARRAY_INSERT(doc, '$[0]', 0) WHERE id = 3");
    await c.query("UPDATE t SET doc = JSON_MERGE_PATCH(COALESCE(doc, '{}'), '{\"k\": 1}') " +
      "WHERE id = 4");
    assert.deepEqual(await texts("SELECT id, doc FROM t ORDER BY id"), [
      ["1", '{"n": 13, "name": "ann", "seen": "yes", "tags": ["a", "b", "z"]}'],
      ["2", '{"n": 14, "name": "bob", "seen": "yes", "tags": ["b", "c"]}'],
      ["3", "[0, 1, 2, 3]"],
      ["4", '{"k": 1}'],
    ]);
    assert.deepEqual(await texts("SELECT id FROM t WHERE 'z' MEMBER OF(doc->'$.tags') " +
      "OR JSON_CONTAINS(doc, '0')"), [["1"], ["3"]]);
  });

  it("reports MySQL's errors for bad paths and documents", async () => {
    await rejects(c.query("SELECT JSON_SET(doc, '$.*', 1) FROM t"), 3149);
    await rejects(c.query("SELECT JSON_REMOVE(doc, '$') FROM t"), 3153);
    await rejects(c.query("SELECT JSON_LENGTH(doc, '$.') FROM t"), 3143,
      "Invalid JSON path expression. The error is around character position 2.");
    await rejects(c.query("SELECT JSON_CONTAINS(doc, '[1') FROM t"), 3141);
    await rejects(c.query("SELECT JSON_CONTAINS_PATH(doc, 'two', '$') FROM t"), 3154);
    await rejects(c.query("SELECT JSON_ARRAY_INSERT(doc, '$.a', 1) FROM t"), 3165);
  });
});
