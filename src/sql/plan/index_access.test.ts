/**
 * Access paths, table-driven: each query runs twice over the same in-memory rows — once
 * with index and handle range reads (ranges served by encoding every row's index entries
 * and row key and keeping those inside the range) and once with full scans only — and
 * must give the same rows; the path it took (scan, handle ranges, which index and how
 * many ranges) is checked too. Then the same with statistics, where a range read that
 * would touch most of the table loses to a scan.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EvalContext, type Value, defaultBuildOptions, nullLiteral, toText }
  from "../../expr/mod.ts";
import { InfoSchema, type SchemaDatabase } from "../catalog/catalog.ts";
import { type TableInfo, tableInfoOf } from "../catalog/schema.ts";
import type { Query } from "../parser/ast.ts";
import { parse } from "../parser/parse.ts";
import { compareBytes } from "../../codec/mod.ts";
import { indexEntry, rowKey } from "../table/table.ts";
import { StatsBuilder, type TableStats } from "../stats/mod.ts";
import { likePrefix } from "./index_access.ts";
import { type PlanEnv, queryValues } from "./mod.ts";

function tableOf(sql: string, id: number): TableInfo {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement?.kind === "createTable");
  return tableInfoOf(statement.table.name, statement, { tableId: id, dbId: 1 });
}

function queryOf(sql: string): Query {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  return (parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined) as Query;
}

const t = tableOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, b DOUBLE, c DECIMAL(10,2), " +
  "s VARCHAR(20), d DATE, dt DATETIME, bs VARCHAR(10) COLLATE utf8mb4_bin, " +
  "KEY ka (a), KEY kb (b), KEY kc (c), KEY ks (s), KEY kd (d), KEY kdt (dt), KEY kbs (bs), " +
  "KEY kas (a, s))", 10);
const u = tableOf("CREATE TABLE u (s VARCHAR(10) PRIMARY KEY, n INT)", 11);

const words = ["abc", "ABC", "Abd", "ab ", "abz", "b", "éa", "EA", "x%y", "", "zz", null];

function date(y: number, m: number, d: number, h = 0, mi = 0): Value {
  return { kind: "datetime", fsp: 0, value: { year: y, month: m, day: d, hour: h, minute: mi,
    second: 0, microsecond: 0 }, ...(h === 0 && mi === 0 ? { date: true } : {}) };
}

const tRows: Value[][] = Array.from({ length: 120 }, (_, i): Value[] => {
  const s = words[i % words.length]!;
  return [
    { kind: "int", value: BigInt(i * 3 - 60) },
    i % 13 === 0 ? null : { kind: "int", value: BigInt(i % 10) },
    i % 11 === 0 ? null : { kind: "double", value: (i % 17) / 4 - 1 },
    i % 7 === 0 ? null : { kind: "decimal", unscaled: BigInt((i % 23) * 25 - 100), scale: 2 },
    s === null ? null : { kind: "string", value: s },
    i % 9 === 0 ? null : date(2024, 1 + (i % 3), 1 + (i % 28)),
    date(2024, 1, 1 + (i % 5), i % 24, i % 60),
    { kind: "string", value: i % 2 === 0 ? "Q" : "q" },
  ];
});
const uRows: Value[][] = ["a", "B", "c", "D", "e"].map((s, i) => [{ kind: "string", value: s },
  { kind: "int", value: BigInt(i) }]);

interface Harness {
  readonly env: PlanEnv;
  readonly reads: string[];
}

function harness(options: { readonly ranges: boolean; readonly stats?: boolean }): Harness {
  const db: SchemaDatabase = { info: { id: 1, name: "d" },
    tables: new Map([["t", t], ["u", u]]), views: new Map() };
  const schema = new InfoSchema(1n, new Map([["d", db]]));
  const data = new Map<number, { handle: bigint; values: Value[] }[]>([
    [10, tRows.map((values) => ({ handle: (values[0] as { value: bigint }).value, values }))],
    [11, uRows.map((values, i) => ({ handle: BigInt(i + 1), values }))],
  ]);
  const stats = new Map<number, TableStats>();
  if (options.stats === true) {
    for (const table of [t, u]) {
      const builder = new StatsBuilder(table);
      for (const row of data.get(table.id)!) builder.add(row.values, row.handle);
      stats.set(table.id, builder.finish("1"));
    }
  }
  const ctx: EvalContext = { warn: () => {}, statementTime: { year: 2026, month: 1, day: 1,
    hour: 0, minute: 0, second: 0, microsecond: 0 }, database: "d", user: "root@localhost",
  currentUser: "root@%", connectionId: 1, version: "8.0", lastInsertId: 0n,
  setLastInsertId: () => {}, setUserVariable: () => {} };
  const reads: string[] = [];
  const inRange = (key: Uint8Array, range: { start: Uint8Array; end: Uint8Array }): boolean =>
    compareBytes(key, range.start) >= 0 && compareBytes(key, range.end) < 0;
  const result = (rows: { handle: bigint; values: Value[] }[]) => Promise.resolve({
    handles: rows.map((r) => r.handle), rows: rows.map((r) => r.values) });
  const env: PlanEnv = {
    schema,
    database: "d",
    scope: (clause) => ({ options: defaultBuildOptions, clause, params: null, database: "d",
      userVariable: () => nullLiteral(), systemVariable: () => nullLiteral() }),
    evalContext: () => ctx,
    scanTable: (table) => {
      reads.push(`scan ${table.name}`);
      return result(data.get(table.id)!);
    },
    getRow: (table, handle) => {
      reads.push(`get ${table.name}`);
      return Promise.resolve(data.get(table.id)!.find((r) => r.handle === handle)?.values ??
        null);
    },
    lockRows: () => Promise.resolve(),
    ...(options.ranges ? {
      scanRows: (table, range) => {
        reads.push(`handle ${table.name}`);
        return result(data.get(table.id)!.filter((r) => inRange(rowKey(table, r.handle), range)));
      },
      readIndex: (table, index, range) => {
        reads.push(`index ${index.name}`);
        return result(data.get(table.id)!.filter((r) =>
          inRange(indexEntry(table, index, r).key, range)));
      },
    } : {}),
    tableStats: (table) => stats.get(table.id),
  };
  return { env, reads };
}

async function rowsOf(env: PlanEnv, sql: string): Promise<string[]> {
  const out = await queryValues(env, queryOf(sql));
  return out.rows.map((r) => r.map((v) => toText(v) ?? "NULL").join("|"));
}

/** What a run read: `scan t`, `handle t ×2`, `index ks ×3`. */
function summary(reads: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of reads) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => (n === 1 ? r : `${r} ×${n}`)).join(", ");
}

/** [WHERE clause of `SELECT * FROM t`, the reads expected without statistics]. */
const cases: [string, string][] = [
  ["id = 3", "get t"],
  ["id > 100 AND id <= 120", "handle t"],
  ["id IN (3, 9, 300, -60, 3)", "handle t ×4"],
  ["id BETWEEN -10 AND 10 OR a = 1", "scan t"],
  ["a = 3", "index ka"],
  ["a > 2.5 AND a < 5", "index ka"],
  ["a IN (1, 3, 3, 7)", "index ka ×3"],
  ["a IS NULL", "index ka"],
  ["a = '3'", "scan t"],
  ["a = 3 AND s = 'abc'", "index kas"],
  ["a IN (1, 2) AND s > 'b'", "index kas ×2"],
  ["b = 1.25", "index kb"],
  ["b > 0.5 AND b <= 2", "index kb"],
  ["b < 0", "index kb"],
  ["b IN (0, 1e0, -0.75)", "index kb ×3"],
  ["c = 1.25", "index kc"],
  ["c BETWEEN -0.5 AND 1", "index kc"],
  ["c >= 2", "index kc"],
  ["c = 0.5e0", "scan t"],
  ["s = 'abc'", "index ks"],
  ["s = 'ABC '", "index ks"],
  ["s > 'abc' AND s < 'b'", "index ks"],
  ["s <= 'ab'", "index ks"],
  ["s = 'ea'", "index ks"],
  ["s IN ('b', 'ZZ', 'Abc')", "index ks ×3"],
  ["s LIKE 'ab%'", "index ks"],
  ["s LIKE 'AB_'", "index ks"],
  ["s LIKE 'x\\%%'", "index ks"],
  ["s LIKE '%b'", "scan t"],
  ["s = 1", "scan t"],
  ["s IS NULL", "index ks"],
  // A `_bin` column compares under utf8mb4_bin, its key's collation: the index serves it.
  ["bs = 'q'", "index kbs"],
  ["bs = 'q' COLLATE utf8mb4_general_ci", "scan t"],
  ["bs IS NULL", "index kbs"],
  ["d = '2024-02-05'", "index kd"],
  ["d >= '2024-03-01' AND d < '2024-03-10'", "index kd"],
  ["d > '2024-02-28x'", "index kd"],
  ["d = DATE '2024-01-04'", "index kd"],
  ["dt BETWEEN '2024-01-02' AND '2024-01-03 12:00:00'", "index kdt"],
  ["dt > '2024-01-04 10:00:00'", "index kdt"],
  ["dt < TIMESTAMP '2024-01-02 05:00:00'", "index kdt"],
  ["a = 3 AND a = 4", ""],
  ["s = NULL", ""],
  ["a = 1 AND b > 0 AND c IS NOT NULL", "index ka"],
];

test("index and handle ranges read exactly the rows a scan finds", async () => {
  for (const [where, expected] of cases) {
    const sql = `SELECT * FROM t WHERE ${where}`;
    const plain = harness({ ranges: false });
    const ranged = harness({ ranges: true });
    const want = await rowsOf(plain.env, sql);
    const got = await rowsOf(ranged.env, sql);
    assert.deepEqual(got, want, sql);
    assert.equal(summary(ranged.reads), expected, sql);
  }
});

test("a string primary key is a unique index: ranges of it", async () => {
  const ranged = harness({ ranges: true });
  assert.deepEqual(await rowsOf(ranged.env, "SELECT n FROM u WHERE s = 'b'"), ["1"]);
  assert.deepEqual(await rowsOf(ranged.env, "SELECT n FROM u WHERE s >= 'C' ORDER BY n"),
    ["2", "3", "4"]);
  assert.equal(summary(ranged.reads), "index PRIMARY ×2");
});

test("with statistics, the cheapest path wins", async () => {
  const statsCases: [string, string][] = [
    // Selective: a few rows through the index.
    ["a = 3", "index ka"],
    ["s = 'b'", "index ks"],
    ["id BETWEEN 0 AND 10", "handle t"],
    // Most of the table: a scan reads each row once, an index lookup twice.
    ["a >= 0", "scan t"],
    ["b > -5", "scan t"],
    ["s > ''", "scan t"],
    // Two candidates: the smaller range.
    ["a = 3 AND b = 1.25", "index kb"],
    ["c = 1.25 AND s LIKE 'a%'", "index kc"],
  ];
  for (const [where, expected] of statsCases) {
    const sql = `SELECT * FROM t WHERE ${where}`;
    const plain = harness({ ranges: false });
    const costed = harness({ ranges: true, stats: true });
    assert.deepEqual(await rowsOf(costed.env, sql), await rowsOf(plain.env, sql), sql);
    assert.equal(summary(costed.reads), expected, sql);
  }
});

test("LIKE prefixes are sort keys of the literal part", () => {
  assert.equal(likePrefix("%a", "\\"), undefined);
  assert.equal(likePrefix("   %", "\\"), undefined);
  assert.deepEqual(likePrefix("ab%", "\\"), likePrefix("AB_", "\\"));
  assert.deepEqual(likePrefix("a\\%b%", "\\")?.length, 6);
  assert.deepEqual(likePrefix("a|_%", "|")?.length, 4);
});

test("random conjunctions: ranges and scans agree (seeded)", async () => {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(list: readonly T[]): T => list[next(list.length)]!;
  const ops = ["=", "<", "<=", ">", ">=", "<>"];
  const constants: Record<string, () => string> = {
    id: () => String(next(400) - 80),
    a: () => pick([String(next(12) - 1), `${next(12)}.5`, "NULL", `'${next(9)}'`]),
    b: () => pick([String(next(20) / 4 - 1), `${next(5)}`, `${next(8) - 2}.25e0`]),
    c: () => pick([`${(next(30) * 25 - 100) / 100}`, String(next(4)), `${next(4)}.5e0`]),
    s: () => `'${pick(["abc", "AB", "ab", "b", "EA", "é", "zz", "", "x", "Abd "])}'`,
    d: () => pick([`'2024-0${1 + next(3)}-${10 + next(18)}'`, `DATE '2024-02-0${1 + next(9)}'`,
      "'2024-02'"]),
    dt: () => `'2024-01-0${1 + next(6)} ${10 + next(13)}:00:00'`,
  };
  const predicate = (): string => {
    const column = pick(Object.keys(constants));
    const k = constants[column]!;
    switch (next(5)) {
      case 0:
        return `${column} BETWEEN ${k()} AND ${k()}`;
      case 1:
        return `${column} IN (${k()}, ${k()}, ${k()})`;
      case 2:
        return column === "s" ? `s LIKE '${pick(["a", "AB", "é", "x\\\\%", "z"])}%'`
          : `${column} IS NULL`;
      default:
        return `${k()} ${pick(ops)} ${column}`;
    }
  };
  for (let i = 0; i < 300; i++) {
    const where = Array.from({ length: 1 + next(3) }, predicate).join(" AND ");
    const sql = `SELECT id FROM t WHERE ${where}`;
    const want = await rowsOf(harness({ ranges: false }).env, sql);
    assert.deepEqual(await rowsOf(harness({ ranges: true }).env, sql), want, sql);
    assert.deepEqual(await rowsOf(harness({ ranges: true, stats: true }).env, sql), want, sql);
  }
});
