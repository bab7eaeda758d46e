/**
 * Tests of the PARTITION BY clause and the ALTER TABLE partition changes: each form
 * parses, prints, and parses back to the same tree; definition options (ENGINE,
 * COMMENT) are dropped; subpartitions and malformed clauses are syntax errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "./parse.ts";
import { formatStatement } from "./format.ts";

const opts = { timeout: 10_000 };

function statementOf(sql: string): unknown {
  const result = parse(sql);
  assert.equal(result.kind, "ok", sql);
  return result.kind === "ok" ? result.statements[0]!.statement : undefined;
}

test("PARTITION BY forms and partition ALTERs print and parse back the same", opts, () => {
  const cases = [
    "CREATE TABLE t (a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), " +
      "PARTITION p1 VALUES LESS THAN MAXVALUE)",
    "CREATE TABLE t (a INT, b DATE) PARTITION BY RANGE COLUMNS (a, b) (PARTITION p0 VALUES " +
      "LESS THAN (1, '2020-01-01'), PARTITION p1 VALUES LESS THAN (MAXVALUE, MAXVALUE))",
    "CREATE TABLE t (d DATE) PARTITION BY RANGE (YEAR(d)) (PARTITION p0 VALUES LESS THAN " +
      "(2020) ENGINE = InnoDB COMMENT = 'old')",
    "CREATE TABLE t (a INT) PARTITION BY LIST (a) (PARTITION p0 VALUES IN (1, 2, NULL))",
    "CREATE TABLE t (a INT, b INT) PARTITION BY LIST COLUMNS (a, b) (PARTITION p0 VALUES IN " +
      "((1, 2), (3, 4)))",
    "CREATE TABLE t (a INT) PARTITION BY HASH (a % 7) PARTITIONS 4",
    "CREATE TABLE t (a INT) PARTITION BY LINEAR HASH (a) PARTITIONS 2",
    "CREATE TABLE t (a INT) PARTITION BY KEY (a) PARTITIONS 3",
    "CREATE TABLE t (a INT PRIMARY KEY) PARTITION BY LINEAR KEY ALGORITHM = 2 () PARTITIONS 2",
    "CREATE TABLE t (a INT) ENGINE = InnoDB PARTITION BY HASH (a) (PARTITION x, PARTITION y)",
    "ALTER TABLE t ADD PARTITION (PARTITION p2 VALUES LESS THAN (30))",
    "ALTER TABLE t DROP PARTITION p0, p1",
    "ALTER TABLE t TRUNCATE PARTITION ALL",
    "ALTER TABLE t TRUNCATE PARTITION p1",
    "ALTER TABLE t PARTITION BY HASH (a) PARTITIONS 3",
    "ALTER TABLE t REMOVE PARTITIONING",
  ];
  for (const sql of cases) {
    const tree = statementOf(sql);
    const printed = formatStatement(tree as Parameters<typeof formatStatement>[0]);
    assert.deepEqual(statementOf(printed), tree, `${sql}\n=> ${printed}`);
  }
  const linear = statementOf(cases[6]!) as { partition: { linear: boolean; count: number } };
  assert.equal(linear.partition.linear, true);
  assert.equal(linear.partition.count, 2);
});

test("malformed PARTITION BY clauses are syntax errors", opts, () => {
  for (const sql of [
    "CREATE TABLE t (a INT) PARTITION BY",
    "CREATE TABLE t (a INT) PARTITION BY LINEAR RANGE (a) (PARTITION p VALUES LESS THAN (1))",
    "CREATE TABLE t (a INT) PARTITION BY RANGE (a) (PARTITION p VALUES LESS THAN (1)",
    "CREATE TABLE t (a INT) PARTITION BY HASH (a) SUBPARTITION BY KEY (a)",
    "CREATE TABLE t (a INT) PARTITION BY RANGE (a) (PARTITION p VALUES LESS THAN (1) " +
      "(SUBPARTITION s))",
    "CREATE TABLE t (a INT) PARTITION BY RANGE (a) (PARTITION p VALUES BETWEEN (1))",
  ]) {
    const result = parse(sql);
    assert.equal(result.kind, "error", sql);
  }
});
