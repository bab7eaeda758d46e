/**
 * Table tests of MySQL 8's JSON functions through the SQL front end (parse, to_expr.ts,
 * evaluate): JSON_LENGTH, JSON_DEPTH, JSON_KEYS, JSON_CONTAINS, JSON_CONTAINS_PATH,
 * JSON_SEARCH, JSON_OVERLAPS, MEMBER OF, JSON_VALUE, JSON_SET / INSERT / REPLACE / REMOVE,
 * JSON_ARRAY_APPEND / ARRAY_INSERT, JSON_MERGE_PRESERVE / MERGE / MERGE_PATCH, JSON_PRETTY,
 * JSON_STORAGE_SIZE / STORAGE_FREE, CAST(… AS JSON), predicates as JSON booleans, and the
 * paths they take (`$[last]`, `$[1 to 3]`, `**`): the values as MySQL prints them, the
 * result types and the MySQL errors of bad calls.
 *
 * Expected values are MySQL 8.0's (most from the examples of its manual, "JSON Function
 * Reference"); the cases were also run on MariaDB 10.11, which agrees except where MySQL
 * and MariaDB differ, and the cases follow MySQL: MariaDB keeps object keys in insertion
 * order (MySQL sorts them by length, then bytewise: JSON_KEYS, JSON_MERGE_*), has no
 * `[last - n]`, MEMBER OF, CAST(… AS JSON) or JSON_STORAGE_SIZE, prints a JSON_SEARCH path
 * to a key that needs quotes unquoted (`$.a b`; MySQL `$."a b"`), matches JSON_SEARCH
 * patterns case-insensitively (MySQL compares JSON strings bytewise), returns NULL for an
 * object or array in JSON_VALUE and 1 for true (MySQL: their JSON text), and warns and
 * returns NULL where MySQL fails with 3141/3143/3149. JSON_CONTAINS follows MySQL's
 * `contains_wr` (item_json_func.cc).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type EvalContext,
  type Expr,
  ExprError,
  NodeFunctions,
  SessionFunctionState,
  TypeCode,
  defaultBuildOptions,
  evaluate,
  nullLiteral,
  toText,
} from "../../src/expr/mod.ts";
import { parseExpression } from "../../src/sql/parser/parse.ts";
import { type TranslateScope, translate } from "../../src/sql/session/to_expr.ts";
import { exprErrorOf } from "../../src/sql/session/expr_errors.ts";
import { MySqlError } from "../../src/sql/mysql_errors.ts";

const opts = { timeout: 20_000 };

const scope: TranslateScope = {
  options: defaultBuildOptions,
  clause: "field list",
  params: null,
  database: "test",
  userVariable: () => nullLiteral(),
  systemVariable: () => nullLiteral(),
};

const node = new NodeFunctions({ startMs: Date.UTC(2024, 1, 29), seed: 7, serverId: 1 });

function context(): EvalContext {
  return {
    warn: () => undefined,
    statementTime: { year: 2024, month: 2, day: 29, hour: 13, minute: 14, second: 15,
      microsecond: 0 },
    statementEpochMs: Date.UTC(2024, 1, 29, 13, 14, 15),
    database: "test",
    user: "root@127.0.0.1",
    currentUser: "root@%",
    connectionId: 1,
    version: "8.0.11-Tessera",
    lastInsertId: 0n,
    setLastInsertId: () => undefined,
    setUserVariable: () => undefined,
    functions: new SessionFunctionState({ node, seed: 1 }).forStatement({}),
    maxAllowedPacket: 1 << 26,
  };
}

function build(sql: string): Expr {
  const parsed = parseExpression(sql);
  if (parsed.kind !== "ok") assert.fail(`${sql}: ${parsed.error.message}`);
  return translate(parsed.expr, scope);
}

/** [expression, value as MySQL's text protocol shows it (null for NULL)]. */
type Case = readonly [string, string | null];

function check(cases: readonly Case[]): void {
  for (const [sql, expected] of cases) {
    assert.equal(toText(evaluate(build(sql), context())), expected, sql);
  }
}

/** The MySQL error (number and message) of building or evaluating `sql`. */
function errorOf(sql: string): string {
  try {
    evaluate(build(sql), context());
    return "no error";
  } catch (error: unknown) {
    if (error instanceof ExprError) {
      const e = exprErrorOf(error);
      return `${e.errno} ${e.message}`;
    }
    if (error instanceof MySqlError) return `${error.errno} ${error.message}`;
    throw error;
  }
}

const doc = `'{"a": 1, "b": [2, 3, {"c": "x"}], "d": {"e": null}}'`;

test("JSON_LENGTH, JSON_DEPTH and JSON_KEYS measure documents and paths", opts, () => {
  check([
    [`JSON_LENGTH('[1, 2, {"a": 3}]')`, "3"],
    [`JSON_LENGTH('{"a": 1, "b": {"c": 30}}')`, "2"],
    [`JSON_LENGTH('{"a": 1, "b": {"c": 30}}', '$.b')`, "1"],
    [`JSON_LENGTH('"abc"')`, "1"],
    [`JSON_LENGTH('[]')`, "0"],
    [`JSON_LENGTH(${doc}, '$.zz')`, null],
    [`JSON_LENGTH(${doc}, '$.b[last]')`, "1"],
    [`JSON_LENGTH(NULL)`, null],
    [`JSON_LENGTH(${doc}, NULL)`, null],
    [`JSON_DEPTH('{}')`, "1"],
    [`JSON_DEPTH('[]')`, "1"],
    [`JSON_DEPTH('true')`, "1"],
    [`JSON_DEPTH('[10, 20]')`, "2"],
    [`JSON_DEPTH('[[], {}]')`, "2"],
    [`JSON_DEPTH('[10, {"a": 20}]')`, "3"],
    [`JSON_DEPTH(NULL)`, null],
    [`JSON_KEYS('{"a": 1, "b": {"c": 30}}')`, `["a", "b"]`],
    [`JSON_KEYS('{"a": 1, "b": {"c": 30}}', '$.b')`, `["c"]`],
    [`JSON_KEYS('{"bb": 1, "a": 2, "c": 3}')`, `["a", "c", "bb"]`],
    [`JSON_KEYS('[1, 2]')`, null],
    [`JSON_KEYS('{}')`, "[]"],
    [`JSON_KEYS(${doc}, '$.nope')`, null],
    [`JSON_KEYS(NULL)`, null],
  ]);
});

test("paths: [last], [last - n], [m to n], ** and quoted keys", opts, () => {
  check([
    [`JSON_EXTRACT('[1, 2, 3, 4, 5]', '$[last]')`, "5"],
    [`JSON_EXTRACT('[1, 2, 3, 4, 5]', '$[last - 1]')`, "4"],
    [`JSON_EXTRACT('[1, 2, 3, 4, 5]', '$[1 to 3]')`, "[2, 3, 4]"],
    [`JSON_EXTRACT('[1, 2, 3, 4, 5]', '$[last-2 to last]')`, "[3, 4, 5]"],
    [`JSON_EXTRACT('[1, 2, 3]', '$[1 to 10]')`, "[2, 3]"],
    [`JSON_EXTRACT('[1, 2, 3]', '$[5 to 10]')`, null],
    [`JSON_EXTRACT('{"a": {"b": 1}, "c": {"b": 2}}', '$**.b')`, "[1, 2]"],
    [`JSON_EXTRACT('{"a": [{"b": 1}, {"b": {"b": 3}}]}', '$**.b')`, `[1, {"b": 3}, 3]`],
    [`JSON_EXTRACT('{"a b": 7}', '$."a b"')`, "7"],
    [`JSON_EXTRACT('7', '$[0]')`, "7"],
    [`JSON_EXTRACT('7', '$[last]')`, "7"],
    [`JSON_EXTRACT('{"a": 1}', '$[0].a')`, "1"],
    [`JSON_VALUE('{"fname": "Joe", "lname": "Palmer"}', '$.fname')`, "Joe"],
    [`JSON_VALUE('{"item": "shoes", "price": "49.95"}', '$.price')`, "49.95"],
    [`JSON_VALUE('{"a": [1, 2]}', '$.a')`, "[1, 2]"],
    [`JSON_VALUE('{"a": 1.5e0, "b": true}', '$.b')`, "true"],
    [`JSON_VALUE('{"a": null}', '$.a')`, null],
    [`JSON_VALUE('{"a": 1}', '$.b')`, null],
    [`JSON_VALUE('[1, 2]', '$[*]')`, null],
    [`JSON_VALUE('[1, 2]', NULL)`, null],
  ]);
  assert.equal(errorOf(`JSON_EXTRACT('{}', '$.')`),
    "3143 Invalid JSON path expression. The error is around character position 2.");
  assert.equal(errorOf(`JSON_EXTRACT('{}', 'a')`),
    "3143 Invalid JSON path expression. The error is around character position 0.");
  assert.equal(errorOf(`JSON_EXTRACT('[1]', '$[3 to 1]')`).slice(0, 4), "3143");
  assert.equal(errorOf(`JSON_EXTRACT('[1]', '$**')`).slice(0, 4), "3143");
  assert.equal(errorOf(`JSON_EXTRACT('[1]', '$[x]')`).slice(0, 4), "3143");
});

test("JSON_CONTAINS, JSON_CONTAINS_PATH, JSON_OVERLAPS and MEMBER OF", opts, () => {
  const j = `'{"a": 1, "b": 2, "c": {"d": 4}}'`;
  check([
    [`JSON_CONTAINS(${j}, '1', '$.a')`, "1"],
    [`JSON_CONTAINS(${j}, '1', '$.b')`, "0"],
    [`JSON_CONTAINS(${j}, '{"d": 4}', '$.a')`, "0"],
    [`JSON_CONTAINS(${j}, '{"d": 4}', '$.c')`, "1"],
    [`JSON_CONTAINS(${j}, '{"a": 1}')`, "1"],
    [`JSON_CONTAINS(${j}, '{"a": 1, "c": {}}')`, "1"],
    [`JSON_CONTAINS(${j}, '1', '$.nope')`, null],
    [`JSON_CONTAINS('[1, 2, [3, 4]]', '[1, 3]')`, "1"],
    [`JSON_CONTAINS('[1, 2, [3, 4]]', '[1, 5]')`, "0"],
    [`JSON_CONTAINS('[[1]]', '1')`, "1"],
    [`JSON_CONTAINS('[[[1]]]', '[[1]]')`, "1"],
    [`JSON_CONTAINS('[[{"a": 1}]]', '{"a": 1}')`, "1"],
    [`JSON_CONTAINS('[{"a": [1]}]', '1')`, "0"],
    [`JSON_CONTAINS('[[1, 2]]', '[1, 2]')`, "1"],
    [`JSON_CONTAINS('[1, 2, [3, 4]]', '[[3]]')`, "1"],
    [`JSON_CONTAINS('[1, 2, [3, 4]]', '[1, [4]]')`, "1"],
    [`JSON_CONTAINS('[1, 2, 3]', '2')`, "1"],
    [`JSON_CONTAINS('[1, 2, 3]', '[]')`, "1"],
    [`JSON_CONTAINS('[1, 2]', '1.0')`, "1"],
    [`JSON_CONTAINS('["1"]', '1')`, "0"],
    [`JSON_CONTAINS('{"a": [1, 2]}', '{"a": 2}')`, "1"],
    [`JSON_CONTAINS('1', '[1]')`, "0"],
    [`JSON_CONTAINS(NULL, '1')`, null],
    [`JSON_CONTAINS('1', NULL)`, null],
    [`JSON_CONTAINS_PATH(${j}, 'one', '$.a', '$.e')`, "1"],
    [`JSON_CONTAINS_PATH(${j}, 'all', '$.a', '$.e')`, "0"],
    [`JSON_CONTAINS_PATH(${j}, 'one', '$.c.d')`, "1"],
    [`JSON_CONTAINS_PATH(${j}, 'one', '$.a.d')`, "0"],
    [`JSON_CONTAINS_PATH(${j}, 'ALL', '$.*', '$**.d')`, "1"],
    [`JSON_CONTAINS_PATH('[1, 2]', 'one', '$[2]')`, "0"],
    [`JSON_CONTAINS_PATH(${j}, 'one', NULL)`, null],
    [`JSON_CONTAINS_PATH(NULL, 'one', '$')`, null],
    [`JSON_OVERLAPS('[1, 3, 5, 7]', '[2, 5, 7]')`, "1"],
    [`JSON_OVERLAPS('[1, 3, 5, 7]', '[2, 6, 8]')`, "0"],
    [`JSON_OVERLAPS('[[1, 2], [3, 4], 5]', '[1, [2, 3], [4, 5]]')`, "0"],
    [`JSON_OVERLAPS('{"a": 1, "b": 10, "d": 10}', '{"c": 1, "e": 10, "f": 1, "d": 10}')`,
      "1"],
    [`JSON_OVERLAPS('{"a": 1, "b": 10, "d": 10}', '{"a": 5, "e": 10, "f": 1, "d": 20}')`,
      "0"],
    [`JSON_OVERLAPS('5', '5')`, "1"],
    [`JSON_OVERLAPS('5', '6')`, "0"],
    [`JSON_OVERLAPS('[4, 5, "6", 7]', '6')`, "0"],
    [`JSON_OVERLAPS('[4, 5, 6, 7]', '6')`, "1"],
    [`JSON_OVERLAPS('[4, 5, 6, 7]', '"6"')`, "0"],
    [`JSON_OVERLAPS('[1]', NULL)`, null],
    [`17 MEMBER OF('[23, "abc", 17, "ab", 10]')`, "1"],
    [`'ab' MEMBER OF('[23, "abc", 17, "ab", 10]')`, "1"],
    [`7 MEMBER OF('[23, "abc", 17, "ab", 10]')`, "0"],
    [`'17' MEMBER OF('[23, "abc", 17, "ab", 10]')`, "0"],
    [`17.0 MEMBER OF('[17]')`, "1"],
    [`CAST('[4, 5]' AS JSON) MEMBER OF('[[3, 4], [4, 5]]')`, "1"],
    [`'[4, 5]' MEMBER OF('[[3, 4], [4, 5]]')`, "0"],
    [`JSON_ARRAY(4, 5) MEMBER OF(JSON_ARRAY(JSON_ARRAY(4, 5)))`, "1"],
    [`5 MEMBER OF('5')`, "1"],
    [`NULL MEMBER OF('[1]')`, null],
    [`1 MEMBER OF(NULL)`, null],
  ]);
  assert.equal(errorOf(`JSON_CONTAINS('[1]', '1', '$[*]')`), "3149 In this situation, path " +
    "expressions may not contain the * and ** tokens or an array range.");
  assert.equal(errorOf(`JSON_CONTAINS_PATH('{}', 'any', '$')`), "3154 The oneOrAll " +
    "argument to json_contains_path may take these values: 'one' or 'all'.");
  assert.equal(errorOf(`JSON_CONTAINS('[1', '1')`), "3141 Invalid JSON text in argument 1 " +
    "to function json_contains: \"Missing a comma or ']' after an array element.\" at " +
    "position 2.");
  assert.equal(errorOf(`JSON_CONTAINS('[1]', 'x')`).slice(0, 4), "3141");
  assert.equal(errorOf(`1 MEMBER OF('[1')`).slice(0, 4), "3141");
});

test("JSON_SEARCH finds strings by LIKE and answers their paths", opts, () => {
  const j = `'["abc", [{"k": "10"}, "def"], {"x":"abc"}, {"y":"bcd"}]'`;
  check([
    [`JSON_SEARCH(${j}, 'one', 'abc')`, `"$[0]"`],
    [`JSON_SEARCH(${j}, 'all', 'abc')`, `["$[0]", "$[2].x"]`],
    [`JSON_SEARCH(${j}, 'all', 'ghi')`, null],
    [`JSON_SEARCH(${j}, 'all', '10')`, `"$[1][0].k"`],
    [`JSON_SEARCH(${j}, 'all', '10', NULL, '$')`, `"$[1][0].k"`],
    [`JSON_SEARCH(${j}, 'all', '10', NULL, '$[*]')`, `"$[1][0].k"`],
    [`JSON_SEARCH(${j}, 'all', '10', NULL, '$**.k')`, `"$[1][0].k"`],
    [`JSON_SEARCH(${j}, 'all', '10', NULL, '$[*][0].k')`, `"$[1][0].k"`],
    [`JSON_SEARCH(${j}, 'all', '10', NULL, '$[1]')`, `"$[1][0].k"`],
    [`JSON_SEARCH(${j}, 'all', '10', NULL, '$[1][0]')`, `"$[1][0].k"`],
    [`JSON_SEARCH(${j}, 'all', 'abc', NULL, '$[2]')`, `"$[2].x"`],
    [`JSON_SEARCH(${j}, 'all', '%a%')`, `["$[0]", "$[2].x"]`],
    [`JSON_SEARCH(${j}, 'all', '%b%')`, `["$[0]", "$[2].x", "$[3].y"]`],
    [`JSON_SEARCH(${j}, 'all', '%b%', NULL, '$[0]')`, `"$[0]"`],
    [`JSON_SEARCH(${j}, 'all', '%b%', NULL, '$[2]')`, `"$[2].x"`],
    [`JSON_SEARCH(${j}, 'all', '%b%', NULL, '$[1]')`, null],
    [`JSON_SEARCH(${j}, 'all', '%b%', '', '$[1]')`, null],
    [`JSON_SEARCH(${j}, 'all', '%b%', '', '$[3]')`, `"$[3].y"`],
    [`JSON_SEARCH('["a_c", "abc"]', 'all', 'a|_c', '|')`, `"$[0]"`],
    [`JSON_SEARCH('["a_c", "abc"]', 'all', 'a_c')`, `["$[0]", "$[1]"]`],
    [`JSON_SEARCH('{"a b": "x", "c": ["x"]}', 'all', 'x')`, `["$.c[0]", "$.\\"a b\\""]`],
    [`JSON_SEARCH('["ABC"]', 'one', 'abc')`, null],
    // A path without wildcards is answered as written, one with them by location.
    [`JSON_SEARCH('["a", "b"]', 'all', 'b', NULL, '$[last]')`, `"$[last]"`],
    [`JSON_SEARCH('["a", ["b"]]', 'all', 'b', NULL, '$[last]')`, `"$[last][0]"`],
    [`JSON_SEARCH('["a", "b"]', 'all', 'b', NULL, '$[last to last]')`, `"$[1]"`],
    [`JSON_SEARCH('{"a": "x"}', 'all', 'x', NULL, '$[0]')`, `"$[0].a"`],
    [`JSON_SEARCH(NULL, 'one', 'abc')`, null],
    [`JSON_SEARCH('["a"]', 'one', NULL)`, null],
    [`JSON_SEARCH('["a"]', 'one', 'a', NULL, NULL)`, null],
  ]);
  assert.equal(errorOf(`JSON_SEARCH('["a"]', 'some', 'a')`), "3154 The oneOrAll argument " +
    "to json_search may take these values: 'one' or 'all'.");
  assert.equal(errorOf(`JSON_SEARCH('["a"]', 'one', 'a', 'xy')`),
    "1210 Incorrect arguments to ESCAPE");
});

test("JSON_SET, JSON_INSERT, JSON_REPLACE and JSON_REMOVE", opts, () => {
  const j = `'{ "a": 1, "b": [2, 3]}'`;
  check([
    [`JSON_SET(${j}, '$.a', 10, '$.c', '[true, false]')`,
      `{"a": 10, "b": [2, 3], "c": "[true, false]"}`],
    [`JSON_INSERT(${j}, '$.a', 10, '$.c', '[true, false]')`,
      `{"a": 1, "b": [2, 3], "c": "[true, false]"}`],
    [`JSON_INSERT(${j}, '$.a', 10, '$.c', CAST('[true, false]' AS JSON))`,
      `{"a": 1, "b": [2, 3], "c": [true, false]}`],
    [`JSON_REPLACE(${j}, '$.a', 10, '$.c', '[true, false]')`, `{"a": 10, "b": [2, 3]}`],
    [`JSON_SET(${j}, '$.b[5]', 4)`, `{"a": 1, "b": [2, 3, 4]}`],
    [`JSON_SET(${j}, '$.b[last]', 4)`, `{"a": 1, "b": [2, 4]}`],
    [`JSON_INSERT(${j}, '$.b[0]', 4)`, `{"a": 1, "b": [2, 3]}`],
    [`JSON_REPLACE(${j}, '$.b[9]', 4)`, `{"a": 1, "b": [2, 3]}`],
    [`JSON_SET(${j}, '$.a[1]', 4)`, `{"a": [1, 4], "b": [2, 3]}`],
    [`JSON_SET(${j}, '$.a[0]', 4)`, `{"a": 4, "b": [2, 3]}`],
    [`JSON_SET(${j}, '$.x.y', 4)`, `{"a": 1, "b": [2, 3]}`],
    [`JSON_SET(${j}, '$.c', 1, '$.c', 2)`, `{"a": 1, "b": [2, 3], "c": 2}`],
    [`JSON_SET(${j}, '$.c', JSON_OBJECT(), '$.c.d', 1)`, `{"a": 1, "b": [2, 3], "c": {"d": 1}}`],
    [`JSON_SET(${j}, '$', 5)`, "5"],
    [`JSON_INSERT(${j}, '$', 5)`, `{"a": 1, "b": [2, 3]}`],
    [`JSON_SET(${j}, '$.n', NULL, '$.f', 1.5, '$.s', 'x', '$.g', 2.5e0)`,
      `{"a": 1, "b": [2, 3], "f": 1.5, "g": 2.5, "n": null, "s": "x"}`],
    [`JSON_SET('1', '$[1]', 2)`, "[1, 2]"],
    // A predicate is a JSON boolean, as MySQL's boolean functions are.
    [`JSON_SET('{}', '$.t', 1 < 2, '$.f', 'a' LIKE 'b', '$.i', 2 IN (1, 2))`,
      `{"f": false, "i": true, "t": true}`],
    [`JSON_ARRAY(1 = 1, NULL IS NULL, NOT 1, 3 MEMBER OF('[3]'), 1 + 1)`,
      "[true, true, false, true, 2]"],
    [`JSON_OBJECT('ok', 2 > 1)`, `{"ok": true}`],
    [`(1 = 1) MEMBER OF('[true]')`, "1"],
    [`JSON_SET(NULL, '$.a', 1)`, null],
    [`JSON_SET(${j}, NULL, 1)`, null],
    [`JSON_REMOVE('["a", ["b", "c"], "d"]', '$[1]')`, `["a", "d"]`],
    [`JSON_REMOVE('["a", ["b", "c"], "d"]', '$[1]', '$[1]')`, `["a"]`],
    [`JSON_REMOVE('["a", ["b", "c"], "d"]', '$[1][last]')`, `["a", ["b"], "d"]`],
    [`JSON_REMOVE(${j}, '$.a', '$.zz')`, `{"b": [2, 3]}`],
    [`JSON_REMOVE(${j}, '$.b[7]')`, `{"a": 1, "b": [2, 3]}`],
    [`JSON_REMOVE(${j}, NULL)`, null],
    [`JSON_REMOVE('{"a": 1}', '$[0].a')`, `{"a": 1}`],
    [`JSON_REMOVE('[1, 2]', '$', NULL)`, null],
    [`JSON_REMOVE(NULL, '$.a')`, null],
    // A NULL document is NULL before its paths are read, as in MySQL.
    [`JSON_SET(NULL, '$.*', 1)`, null],
    [`JSON_REMOVE(NULL, '$')`, null],
    [`JSON_LENGTH(NULL, '$[*]')`, null],
    [`JSON_CONTAINS_PATH(NULL, 'any', '$')`, null],
  ]);
  assert.equal(errorOf(`JSON_SET('{}', '$.*', 1)`).slice(0, 4), "3149");
  assert.equal(errorOf(`JSON_INSERT('[]', '$[0 to 1]', 1)`).slice(0, 4), "3149");
  assert.equal(errorOf(`JSON_REPLACE('{}', '$**.a', 1)`).slice(0, 4), "3149");
  assert.equal(errorOf(`JSON_REMOVE('[1]', '$')`),
    "3153 The path expression '$' is not allowed in this context.");
  assert.equal(errorOf(`JSON_REMOVE('[1]', '$[*]')`).slice(0, 4), "3149");
  assert.equal(errorOf(`JSON_SET('{}', '$.a')`),
    "1582 Incorrect parameter count in the call to native function 'json_set'");
  assert.equal(errorOf(`JSON_SET('{', '$.a', 1)`).slice(0, 4), "3141");
  assert.equal(errorOf(`JSON_SET(5, '$.a', 1)`), "3146 Invalid data type for JSON data in " +
    "argument 1 to function json_set; a JSON string or JSON type is required.");
});

test("JSON_ARRAY_APPEND and JSON_ARRAY_INSERT", opts, () => {
  const j = `'["a", ["b", "c"], "d"]'`;
  const o = `'{"a": 1, "b": [2, 3], "c": 4}'`;
  check([
    [`JSON_ARRAY_APPEND(${j}, '$[1]', 1)`, `["a", ["b", "c", 1], "d"]`],
    [`JSON_ARRAY_APPEND(${j}, '$[0]', 2)`, `[["a", 2], ["b", "c"], "d"]`],
    [`JSON_ARRAY_APPEND(${j}, '$[1][0]', 3)`, `["a", [["b", 3], "c"], "d"]`],
    [`JSON_ARRAY_APPEND(${o}, '$.b', 'x')`, `{"a": 1, "b": [2, 3, "x"], "c": 4}`],
    [`JSON_ARRAY_APPEND(${o}, '$.c', 'y')`, `{"a": 1, "b": [2, 3], "c": [4, "y"]}`],
    [`JSON_ARRAY_APPEND('{"a": 1}', '$', 'z')`, `[{"a": 1}, "z"]`],
    [`JSON_ARRAY_APPEND(${j}, '$', 1, '$', 2)`, `["a", ["b", "c"], "d", 1, 2]`],
    [`JSON_ARRAY_APPEND(${j}, '$.x', 1)`, `["a", ["b", "c"], "d"]`],
    [`JSON_ARRAY_APPEND(${j}, NULL, 1)`, null],
    [`JSON_ARRAY_INSERT('["a", {"b": [1, 2]}, [3, 4]]', '$[1]', 'x')`,
      `["a", "x", {"b": [1, 2]}, [3, 4]]`],
    [`JSON_ARRAY_INSERT('["a", {"b": [1, 2]}, [3, 4]]', '$[100]', 'x')`,
      `["a", {"b": [1, 2]}, [3, 4], "x"]`],
    [`JSON_ARRAY_INSERT('["a", {"b": [1, 2]}, [3, 4]]', '$[1].b[0]', 'x')`,
      `["a", {"b": ["x", 1, 2]}, [3, 4]]`],
    [`JSON_ARRAY_INSERT('["a", {"b": [1, 2]}, [3, 4]]', '$[2][1]', 'y')`,
      `["a", {"b": [1, 2]}, [3, "y", 4]]`],
    [`JSON_ARRAY_INSERT('["a", {"b": [1, 2]}, [3, 4]]', '$[0]', 'x', '$[2][1]', 'y')`,
      `["x", "a", {"b": [1, 2]}, [3, 4]]`],
    [`JSON_ARRAY_INSERT('{"a": 1}', '$.a[0]', 2)`, `{"a": 1}`],
    [`JSON_ARRAY_INSERT(NULL, '$[0]', 2)`, null],
  ]);
  assert.equal(errorOf(`JSON_ARRAY_INSERT('[1]', '$.a', 2)`),
    "3165 A path expression is not a path to a cell in an array.");
  assert.equal(errorOf(`JSON_ARRAY_INSERT('[1]', '$', 2)`).slice(0, 4), "3165");
  assert.equal(errorOf(`JSON_ARRAY_INSERT('[1]', '$[*]', 2)`).slice(0, 4), "3149");
  assert.equal(errorOf(`JSON_ARRAY_APPEND('[1]', '$[*]', 2)`).slice(0, 4), "3149");
});

test("JSON_MERGE_PRESERVE, JSON_MERGE and JSON_MERGE_PATCH", opts, () => {
  check([
    [`JSON_MERGE_PRESERVE('[1, 2]', '[true, false]')`, "[1, 2, true, false]"],
    [`JSON_MERGE_PRESERVE('{"name": "x"}', '{"id": 47}')`, `{"id": 47, "name": "x"}`],
    [`JSON_MERGE_PRESERVE('1', 'true')`, "[1, true]"],
    [`JSON_MERGE_PRESERVE('[1, 2]', '{"id": 47}')`, `[1, 2, {"id": 47}]`],
    [`JSON_MERGE_PRESERVE('{"a": 1, "b": 2}', '{"a": 3, "c": 4}')`,
      `{"a": [1, 3], "b": 2, "c": 4}`],
    [`JSON_MERGE_PRESERVE('{"a": 1, "b": 2}', '{"a": 3, "c": 4}', '{"a": 5, "d": 6}')`,
      `{"a": [1, 3, 5], "b": 2, "c": 4, "d": 6}`],
    [`JSON_MERGE_PRESERVE('{"a": {"x": 1}}', '{"a": {"y": 2}}')`, `{"a": {"x": 1, "y": 2}}`],
    [`JSON_MERGE_PRESERVE('[1]', NULL)`, null],
    [`JSON_MERGE('[1, 2]', '[true, false]')`, "[1, 2, true, false]"],
    [`JSON_MERGE_PATCH('[1, 2]', '[true, false]')`, "[true, false]"],
    [`JSON_MERGE_PATCH('{"name": "x"}', '{"id": 47}')`, `{"id": 47, "name": "x"}`],
    [`JSON_MERGE_PATCH('1', 'true')`, "true"],
    [`JSON_MERGE_PATCH('[1, 2]', '{"id": 47}')`, `{"id": 47}`],
    [`JSON_MERGE_PATCH('{"a": 1, "b": 2}', '{"a": 3, "c": 4}')`, `{"a": 3, "b": 2, "c": 4}`],
    [`JSON_MERGE_PATCH('{"a": 1, "b": 2}', '{"a": 3, "c": 4}', '{"a": 5, "d": 6}')`,
      `{"a": 5, "b": 2, "c": 4, "d": 6}`],
    [`JSON_MERGE_PATCH('{"a": 1, "b": 2}', '{"b": null}')`, `{"a": 1}`],
    [`JSON_MERGE_PATCH('{"a": {"x": 1}}', '{"a": {"y": 2}}')`, `{"a": {"x": 1, "y": 2}}`],
    [`JSON_MERGE_PATCH('{"a": 1}', '{"b": {"c": null}}')`, `{"a": 1, "b": {}}`],
    // MySQL: a NULL argument makes the result unknown until a later non-object.
    [`JSON_MERGE_PATCH(NULL, '{"a": 1}')`, null],
    [`JSON_MERGE_PATCH('{"a": 1}', NULL, '{"b": 2}')`, null],
    [`JSON_MERGE_PATCH('{"a": 1}', NULL, '[2]')`, "[2]"],
    [`JSON_MERGE_PATCH(NULL, '[2]', '{"b": 2}')`, `{"b": 2}`],
  ]);
  assert.equal(errorOf(`JSON_MERGE_PATCH('{}', '[')`).slice(0, 4), "3141");
  assert.equal(errorOf(`JSON_MERGE_PRESERVE('{}')`),
    "1582 Incorrect parameter count in the call to native function 'json_merge_preserve'");
});

test("JSON_PRETTY, JSON_STORAGE_SIZE and JSON_STORAGE_FREE", opts, () => {
  check([
    [`JSON_PRETTY('123')`, "123"],
    [`JSON_PRETTY('"abc"')`, `"abc"`],
    [`JSON_PRETTY('[1,3,5]')`, "[\n  1,\n  3,\n  5\n]"],
    [`JSON_PRETTY('{"a":"10","b":"15","x":"25"}')`,
      `{\n  "a": "10",\n  "b": "15",\n  "x": "25"\n}`],
    [`JSON_PRETTY('["a",1,{"key1": "value1"},"5", "77" ,{"key2":["value3","valueX",` +
      `"valueY"]},"j", "2"   ]')`,
    `[\n  "a",\n  1,\n  {\n    "key1": "value1"\n  },\n  "5",\n  "77",\n  {\n    "key2": [\n` +
      `      "value3",\n      "valueX",\n      "valueY"\n    ]\n  },\n  "j",\n  "2"\n]`],
    [`JSON_PRETTY('{"a": [], "b": {}}')`, `{\n  "a": [],\n  "b": {}\n}`],
    [`JSON_PRETTY(NULL)`, null],
    // MySQL's binary JSON sizes (its manual's examples for the first three).
    [`JSON_STORAGE_SIZE('[100, "sakila", [1, 3, 5], 425.05]')`, "45"],
    [`JSON_STORAGE_SIZE('{"a": 1000, "b": "wxyz", "c": "[1, 3, 5, 7]"}')`, "47"],
    [`JSON_STORAGE_SIZE('[100, "json", [[10, 20, 30], 3, 5], 425.05]')`, "56"],
    [`JSON_STORAGE_SIZE('{"a": 1000, "b": "a", "c": "[1, 3, 5, 7]"}')`, "44"],
    [`JSON_STORAGE_SIZE('[1, 100000]')`, "15"],
    [`JSON_STORAGE_SIZE('true')`, "2"],
    [`JSON_STORAGE_SIZE('"abc"')`, "5"],
    [`JSON_STORAGE_SIZE(NULL)`, null],
    [`JSON_STORAGE_FREE('{"a": 1}')`, "0"],
    [`JSON_STORAGE_FREE(NULL)`, null],
  ]);
  assert.equal(errorOf(`JSON_STORAGE_SIZE('{')`).slice(0, 4), "3141");
});

test("result types: JSON for documents, integers for measures and predicates", opts, () => {
  const cases: readonly (readonly [string, number])[] = [
    [`JSON_SET('{}', '$.a', 1)`, TypeCode.Json],
    [`JSON_KEYS('{}')`, TypeCode.Json],
    [`JSON_SEARCH('[]', 'one', 'a')`, TypeCode.Json],
    [`JSON_MERGE_PATCH('{}', '{}')`, TypeCode.Json],
    [`JSON_ARRAY_INSERT('[]', '$[0]', 1)`, TypeCode.Json],
    [`CAST('1' AS JSON)`, TypeCode.Json],
    [`JSON_LENGTH('[]')`, TypeCode.LongLong],
    [`JSON_DEPTH('[]')`, TypeCode.LongLong],
    [`JSON_CONTAINS('[]', '1')`, TypeCode.LongLong],
    [`1 MEMBER OF('[1]')`, TypeCode.LongLong],
    [`JSON_STORAGE_SIZE('[]')`, TypeCode.LongLong],
  ];
  for (const [sql, code] of cases) assert.equal(build(sql).type.code, code, sql);
  assert.equal(errorOf(`CAST('x' AS JSON)`), "3141 Invalid JSON text in argument 1 to " +
    "function cast_as_json: \"Invalid value.\" at position 0.");
  // A JSON result compares as JSON: 1 = 1.0 and the key order does not matter.
  check([
    [`CAST('{"b": 1, "a": [1,2]}' AS JSON)`, `{"a": [1, 2], "b": 1}`],
    [`CAST(12 AS JSON)`, "12"],
    [`CAST(NULL AS JSON)`, null],
    [`JSON_TYPE(CAST('"x"' AS JSON))`, "STRING"],
    [`JSON_SET('{}', '$.a', 1) = CAST('{"a": 1.0}' AS JSON)`, "1"],
    [`JSON_EXTRACT(JSON_SET('{"b": 2}', '$.a', 1), '$.b') = 2`, "1"],
  ]);
});
