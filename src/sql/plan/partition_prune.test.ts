/**
 * Tests of partition pruning and row placement on tables built from CREATE TABLE text
 * (no cluster): a table of WHERE clauses and the partitions they keep for every
 * partitioning method, and a seeded check that pruning never drops the partition a
 * matching row is placed in.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Value, utcTimeZone } from "../../expr/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { parse, parseExpression } from "../parser/parse.ts";
import { type TableInfo, tableInfoOf } from "../catalog/schema.ts";
import { partitionOf, resolvePartitionBounds } from "../table/partition_route.ts";
import { prunePartitions } from "./partition_prune.ts";

const opts = { timeout: 20_000 };

/** The table of a CREATE TABLE statement, with partition ids 100, 101, … */
function tableOf(sql: string): TableInfo {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok");
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement?.kind === "createTable");
  const table = resolvePartitionBounds(tableInfoOf(statement.table.name, statement,
    { tableId: 1, dbId: 1 }), utcTimeZone);
  const info = table.partition!;
  return { ...table, id: 50, partition: { ...info,
    definitions: info.definitions.map((d, k) => ({ ...d, id: 100 + k })) } };
}

function literal(ast: AstExpr): Value | undefined {
  switch (ast.kind) {
    case "int":
      return { kind: "int", value: BigInt(ast.text) };
    case "string":
      return { kind: "string", value: ast.value };
    case "null":
      return null;
    case "unary":
      if (ast.op === "-" && ast.operand.kind === "int") {
        return { kind: "int", value: -BigInt(ast.operand.text) };
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The names of the partitions `where` keeps. */
function kept(table: TableInfo, where: string): string {
  const parsed = parseExpression(where);
  assert.equal(parsed.kind, "ok");
  const expr = parsed.kind === "ok" ? parsed.expr : undefined!;
  const positions = prunePartitions(table, [expr], {
    column: (ast) => (ast.kind !== "column" ? undefined : table.columns.find((c) =>
      c.name.toLowerCase() === ast.column.toLowerCase())?.offset),
    constant: literal,
  });
  return positions.map((k) => table.partition!.definitions[k]!.name).join(",") || "dual";
}

const range = tableOf("CREATE TABLE r (id INT, v INT) PARTITION BY RANGE (id) (" +
  "PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (20), " +
  "PARTITION p2 VALUES LESS THAN MAXVALUE)");
const list = tableOf("CREATE TABLE l (id INT, g INT) PARTITION BY LIST (g) (" +
  "PARTITION a VALUES IN (1, 2), PARTITION b VALUES IN (3, NULL), PARTITION c VALUES IN (7))");
const hash = tableOf("CREATE TABLE h (id INT) PARTITION BY HASH (id) PARTITIONS 4");
const rangeColumns = tableOf("CREATE TABLE rc (a INT, d DATE) PARTITION BY RANGE COLUMNS " +
  "(d) (PARTITION old VALUES LESS THAN ('2020-01-01'), " +
  "PARTITION new VALUES LESS THAN (MAXVALUE))");
const years = tableOf("CREATE TABLE y (d DATETIME) PARTITION BY RANGE (TO_DAYS(d)) (" +
  "PARTITION p0 VALUES LESS THAN (TO_DAYS('2020-01-01')), " +
  "PARTITION p1 VALUES LESS THAN (TO_DAYS('2021-01-01')))");
const twoColumns = tableOf("CREATE TABLE rc2 (a INT, b INT) PARTITION BY RANGE COLUMNS (a, b) " +
  "(PARTITION p0 VALUES LESS THAN (10, 5), PARTITION p1 VALUES LESS THAN (10, MAXVALUE), " +
  "PARTITION p2 VALUES LESS THAN (20, 0), PARTITION p3 VALUES LESS THAN (MAXVALUE, MAXVALUE))");
const keyed = tableOf("CREATE TABLE k (a INT, b VARCHAR(8)) PARTITION BY KEY (a, b) " +
  "PARTITIONS 3");

test("pruning keeps the partitions each WHERE can match", opts, () => {
  const cases: [TableInfo, string, string][] = [
    [range, "id = 3", "p0"],
    [range, "3 = id", "p0"],
    [range, "id < 10", "p0"],
    [range, "id > 9", "p1,p2"],
    [range, "id >= 20", "p2"],
    [range, "id BETWEEN 5 AND 15", "p0,p1"],
    [range, "id IN (1, 22)", "p0,p2"],
    [range, "id = 1 OR id = 15", "p0,p1"],
    [range, "id IS NULL", "p0"],
    [range, "id = NULL", "dual"],
    [range, "id = -5", "p0"],
    [range, "v = 1", "p0,p1,p2"],
    [range, "id = 1 AND id > 15", "dual"],
    [range, "id = '15'", "p1"],
    [range, "id = 'x'", "p0,p1,p2"],
    [list, "g = 7", "c"],
    [list, "g IN (1, 3)", "a,b"],
    [list, "g IS NULL", "b"],
    [list, "g = 9", "dual"],
    [list, "g >= 3", "b,c"],
    [list, "g < 3", "a"],
    [hash, "id = 5", "p1"],
    [hash, "id = -5", "p1"],
    [hash, "id IN (4, 8, 12)", "p0"],
    [hash, "id BETWEEN 1 AND 2", "p1,p2"],
    [hash, "id > 1", "p0,p1,p2,p3"],
    [rangeColumns, "d < '2019-06-01'", "old"],
    [rangeColumns, "d >= '2020-01-01'", "new"],
    [rangeColumns, "d = '2020-01-01'", "new"],
    [rangeColumns, "d < '2020-1-1'", "old,new"],
    [years, "d < '2020-01-01'", "p0"],
    [years, "d >= '2020-01-01'", "p1"],
    [years, "d = '2020-06-01 10:00:00'", "p1"],
    [keyed, "a = 1", "p0,p1,p2"],
    [twoColumns, "a = 3", "p0"],
    [twoColumns, "a = 10", "p0,p1,p2"],
    [twoColumns, "a = 10 AND b = 7", "p1"],
    [twoColumns, "a IN (1, 12)", "p0,p1,p2"],
    [twoColumns, "a > 25", "p3"],
    [twoColumns, "a = 20", "p2,p3"],
    [range, "id IN (1, 5) AND id > 3", "p0"],
  ];
  for (const [table, where, expected] of cases) {
    assert.equal(kept(table, where), expected, `${table.name}: ${where}`);
  }
});

test("pruning never drops the partition a matching row is placed in (seeded)", opts, () => {
  let state = 12345;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const ops = ["=", "<", "<=", ">", ">="];
  for (const table of [range, hash, list]) {
    const column = table === list ? 1 : 0;
    for (let i = 0; i < 300; i++) {
      const value = BigInt(next(40) - 5);
      const row: Value[] = table.columns.map(() => ({ kind: "int", value: 0n }));
      row[column] = { kind: "int", value };
      const placed = partitionOf(table, row);
      if (placed === null) continue;
      const op = ops[next(ops.length)]!;
      const bound = BigInt(next(40) - 5);
      const holds = op === "=" ? value === bound : op === "<" ? value < bound
        : op === "<=" ? value <= bound : op === ">" ? value > bound : value >= bound;
      if (!holds) continue;
      const name = table.columns[column]!.name;
      const keptNames = kept(table, `${name} ${op} ${bound}`).split(",");
      assert.ok(keptNames.includes(table.partition!.definitions[placed]!.name),
        `${table.name}: ${name} = ${value} matches ${name} ${op} ${bound}`);
    }
  }
});
