/**
 * The SQL node's vectorized filters and select list (src/sql/plan/vec_filter.ts) end to
 * end: seeded random queries run over mysql2 on two sessions of one in-process node, with
 * `tidb_enable_vectorized_expression` ON and OFF, both with `tessera_enable_coprocessor`
 * 0 so the SQL node filters the rows itself; each query's rows (in order), its error
 * (code and message) and its warnings (SHOW WARNINGS, in order) must be equal. Queries:
 * WHERE with comparisons, <=>, AND / OR / XOR / NOT, IS NULL, BETWEEN, IN and + - * over
 * INT, BIGINT (values near 2^63, so 1690 overflows), INT UNSIGNED (1690 below zero),
 * DECIMAL, DOUBLE, strings under utf8mb4_bin and utf8mb4_general_ci (compared with numbers:
 * 1292 truncation warnings), DATE, DATETIME, ENUM and NULLs; inner joins (hash, merge
 * and nested loop) with ON conjuncts on one table and across both; GROUP BY (items and
 * aggregate arguments with arithmetic) with HAVING; HAVING without grouping; select-list
 * arithmetic and functions; LIMIT. The tables span several 1,024-row batches. Both the
 * vectorized path and the fallback to row at a time must have run, and OFF must not
 * have batched.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { vecFilterStats } from "../../src/sql/plan/vec_filter.ts";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";

const opts = { timeout: 120_000 };
const seeds = [11, 22, 33, 44, 55, 66];
const queriesPerSeed = 30;
const tRows = 2300;
const rRows = 150;

let cluster: SqlCluster;
let on: mysql.Connection;
let off: mysql.Connection;

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = ["apple", "Apple", "banana", "x1", "12", " 7", "", "cherry", "3.5e1", "Zed"];

function sqlText(v: string | number | null): string {
  return v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v}'`;
}

async function load(c: mysql.Connection): Promise<void> {
  const next = random(7);
  const pick = (k: number): number => Math.floor(next() * k);
  const maybe = <T>(v: T): T | null => (pick(10) === 0 ? null : v);
  await c.query("CREATE DATABASE v");
  await c.query("USE v");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, b BIGINT, u INT UNSIGNED, " +
    "c DECIMAL(10,2), f DOUBLE, s VARCHAR(20) COLLATE utf8mb4_bin, " +
    "ci VARCHAR(20) COLLATE utf8mb4_general_ci, d DATE, dt DATETIME, e ENUM('x','y','z'))");
  await c.query("CREATE TABLE r (id INT PRIMARY KEY, a INT, s VARCHAR(20) COLLATE " +
    "utf8mb4_general_ci, c DECIMAL(8,3))");
  const tValues: string[] = [];
  for (let id = 1; id <= tRows; id++) {
    const big = pick(400) === 0;
    const values = [id, maybe(pick(200) - 100),
      maybe(big ? 4_000_000_000_000_000_000 + pick(1000) : pick(20_000) - 10_000),
      maybe(pick(120)), maybe(`${pick(20_000) - 10_000}.${pick(100)}`),
      maybe((pick(4000) - 2000) / 16), maybe(words[pick(words.length)]!),
      maybe(words[pick(words.length)]!),
      maybe(`20${10 + pick(15)}-0${1 + pick(9)}-1${pick(10)}`),
      maybe(`2020-0${1 + pick(9)}-0${1 + pick(9)} 1${pick(10)}:${10 + pick(50)}:00`),
      maybe(["x", "y", "z"][pick(3)]!)];
    tValues.push(`(${values.map((v) => sqlText(v)).join(", ")})`);
  }
  for (let k = 0; k < tValues.length; k += 500) {
    await c.query(`INSERT INTO t VALUES ${tValues.slice(k, k + 500).join(", ")}`);
  }
  const rValues: string[] = [];
  for (let id = 1; id <= rRows; id++) {
    rValues.push(`(${[id, maybe(pick(200) - 100), maybe(words[pick(words.length)]!),
      maybe(`${pick(2000) - 1000}.${pick(1000)}`)].map((v) => sqlText(v)).join(", ")})`);
  }
  await c.query(`INSERT INTO r VALUES ${rValues.join(", ")}`);
}

/** Random SQL over the tables' columns (`q` qualifies a column name). */
class Gen {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = random(seed);
  }

  pick(k: number): number {
    return Math.floor(this.next() * k);
  }

  one<T>(items: readonly T[]): T {
    return items[this.pick(items.length)]!;
  }

  numLit(): string {
    return this.one(["0", "1", "-5", "17", "50", "2.5", "-0.75", "1e2", "100.25", "NULL",
      "'12'", "9223372036854775807"]);
  }

  numCol(q: (c: string) => string, cols: readonly string[]): string {
    return q(this.one(cols));
  }

  numExpr(q: (c: string) => string, cols: readonly string[]): string {
    switch (this.pick(4)) {
      case 0:
        return this.numCol(q, cols);
      case 1:
        return `${this.numCol(q, cols)} ${this.one(["+", "-", "*"])} ${this.numCol(q, cols)}`;
      case 2:
        return `${this.numCol(q, cols)} ${this.one(["+", "-", "*"])} ${this.numLit()}`;
      default:
        return `(${this.numCol(q, cols)} * 3 - ${this.numLit()})`;
    }
  }

  atom(q: (c: string) => string, table: "t" | "r"): string {
    const nums = table === "t" ? ["a", "b", "u", "c", "f"] : ["a", "c"];
    const strs = table === "t" ? ["s", "ci"] : ["s"];
    const op = this.one(["=", "<>", "<", "<=", ">", ">=", "<=>"]);
    const word = `'${this.one(words)}'`;
    switch (this.pick(table === "t" ? 12 : 8)) {
      case 0:
        return `${this.numExpr(q, nums)} ${op} ${this.numLit()}`;
      case 1:
        return `${this.numCol(q, nums)} ${op} ${this.numCol(q, nums)}`;
      case 2:
        return `${q(this.one(strs))} ${op} ${this.one([word, word, this.numLit()])}`;
      case 3:
        return `${q(this.one([...nums, ...strs]))} IS ${this.one(["", "NOT "])}NULL`;
      case 4:
        return `${this.numExpr(q, nums)} ${this.one(["", "NOT "])}BETWEEN ${this.numLit()} ` +
          `AND ${this.numLit()}`;
      case 5:
        return `${this.numCol(q, nums)} ${this.one(["", "NOT "])}IN (${this.numLit()}, ` +
          `${this.numLit()}, ${this.numLit()})`;
      case 6:
        return `${q(this.one(strs))} ${this.one(["", "NOT "])}IN (${word}, '${this.one(words)}'` +
          `${this.one(["", ", NULL", ", 12"])})`;
      case 7:
        return `${this.numExpr(q, nums)} ${op} ${this.numExpr(q, nums)}`;
      case 8:
        return `${q("d")} ${op} ${this.one(["'2015-03-10'", "'2020-01-01'", "20180505",
          "'bad-date'"])}`;
      case 9:
        return `${q("dt")} BETWEEN '2020-03-01' AND ${this.one(["'2020-07-01 12:00:00'",
          "'2020-09-09'"])}`;
      case 10:
        return `${q("e")} ${op} ${this.one(["'y'", "2", "'x'"])}`;
      default:
        return `${q("s")} ${op} ${q("ci")}`;
    }
  }

  pred(q: (c: string) => string, table: "t" | "r", depth = 0): string {
    if (depth >= 2 || this.pick(3) === 0) return this.atom(q, table);
    switch (this.pick(4)) {
      case 0:
        return `NOT (${this.pred(q, table, depth + 1)})`;
      default:
        return `(${this.pred(q, table, depth + 1)} ${this.one(["AND", "OR", "XOR"])} ` +
          `${this.pred(q, table, depth + 1)})`;
    }
  }

  field(q: (c: string) => string): string {
    return this.one([`${q("a")} + ${q("b")}`, `${q("u")} - 3`, `${q("c")} * ${q("f")}`,
      `${q("a")} * 2 + ${q("u")}`, `${q("b")} * 4`, `${q("s")} + 1`,
      `CONCAT(${q("ci")}, ${q("s")})`, `UPPER(${q("ci")})`, `${q("c")} + ${q("a")}`,
      `${q("f")} * ${q("f")}`, `IF(${q("a")} > 0, ${q("a")}, ${q("u")})`,
      `${q("a")} BETWEEN 1 AND 50`, `${q("s")} = ${q("ci")}`, `${q("d")} + 0`,
      `${q("c")} - 0.5`, `${q("a")} IN (1, 2, NULL)`, q("s")]);
  }

  query(): string {
    const t = (c: string): string => c;
    const qt = (c: string): string => `t.${c}`;
    const qr = (c: string): string => `r.${c}`;
    const where = (q: (c: string) => string): string => (this.pick(4) === 0
      ? this.pred(q, "t") : `${this.pred(q, "t")} AND ${this.pred(q, "t")}`);
    const limit = this.pick(4) === 0 ? ` LIMIT ${this.one([3, 40, 1100])}` : "";
    switch (this.pick(5)) {
      case 0:
      case 1:
        return `SELECT id, ${this.field(t)}, ${this.field(t)} FROM t WHERE ${where(t)}${limit}`;
      case 2: {
        // Conditions across the two tables filter the join's pairs: a hash join on a,
        // a merge join on the handles, a nested loop.
        const across = this.one(["t.b - r.a < 50", "t.u * r.a > 100", "t.f > r.a",
          "t.a + r.a BETWEEN -20 AND 20", "t.s > r.s", "NOT (t.a = r.id OR t.u IS NULL)"]);
        const on = this.one(["t.a = r.a", "t.id = r.id", "t.a < r.a AND r.id < 8"]);
        return `SELECT t.id, r.id, ${this.field(qt)}, t.a + r.c FROM t JOIN r ON ${on} ` +
          `AND ${across} AND ${this.pred(qr, "r")} WHERE ${where(qt)}`;
      }
      case 3: {
        // Mostly without errors (u - 60 and a * u go below zero unsigned: 1690).
        const group = this.one(["a % 7", "u + 1", "a * 2 > u", "f > 0", "u - 60"]);
        const sum = this.one(["c", "a * 2", "f * 2 + a", "b * 3", "a * u", "a + u"]);
        return `SELECT ${group} AS g, COUNT(*) AS n, SUM(${sum}) AS sc, MAX(s) AS ms, ` +
          `MIN(a - 3) FROM t WHERE ${this.pred(t, "t")} GROUP BY g HAVING ${this.one([
            "n > 5", "sc > 1000", "ms > 5", "ms < 'b'", "g IS NULL OR n * 2 > 300",
            "sc * 1000000000 > 5", "n - 2 > g"])}`;
      }
      default:
        return `SELECT id, a, s, u FROM t HAVING ${this.pred(t, "t")}${limit}`;
    }
  }
}

interface Outcome {
  readonly rows?: unknown;
  readonly error?: string;
  readonly warnings: unknown;
}

async function run(c: mysql.Connection, sql: string): Promise<Outcome> {
  let result: { rows?: unknown; error?: string };
  try {
    const [rows] = await c.query({ sql, rowsAsArray: true });
    result = { rows };
  } catch (error: unknown) {
    const e = error as { errno?: number; message?: string };
    result = { error: `${e.errno} ${e.message}` };
  }
  const [warnings] = await c.query({ sql: "SHOW WARNINGS", rowsAsArray: true });
  return { ...result, warnings };
}

before(async () => {
  cluster = await startSqlCluster();
  const node = await cluster.startNode();
  on = await node.connect();
  await load(on);
  off = await node.connect("v");
  for (const c of [on, off]) await c.query("SET tessera_enable_coprocessor = 0");
  await off.query("SET tidb_enable_vectorized_expression = OFF");
});

after(async () => {
  await cluster?.close();
});

describe("tidb_enable_vectorized_expression", () => {
  it("is a session variable, ON by default; OFF evaluates row at a time", opts, async () => {
    const [rows] = await on.query({ sql: "SELECT @@tidb_enable_vectorized_expression, " +
      "@@global.tidb_enable_vectorized_expression", rowsAsArray: true });
    assert.deepEqual(rows, [[1, 1]]);
    const [offRows] = await off.query({ sql: "SELECT @@tidb_enable_vectorized_expression",
      rowsAsArray: true });
    assert.deepEqual(offRows, [[0]]);
    // OFF runs every row through the row evaluator; ON batches.
    const sql = "SELECT a + b, u * 2 FROM t WHERE a > 0 AND f < 50";
    const before = { ...vecFilterStats };
    await off.query(sql);
    assert.deepEqual(vecFilterStats, before);
    await on.query(sql);
    assert.ok(vecFilterStats.vectorized > before.vectorized);
  });

  it("random queries: same rows, errors and warnings ON and OFF", opts, async () => {
    const before = { ...vecFilterStats };
    let failed = 0;
    let warned = 0;
    let rowsSeen = 0;
    for (const seed of seeds) {
      const gen = new Gen(seed);
      for (let k = 0; k < queriesPerSeed; k++) {
        const sql = gen.query();
        const want = await run(off, sql);
        const got = await run(on, sql);
        assert.deepEqual(got, want, `seed ${seed} query ${k}: ${sql}`);
        if (want.error !== undefined) failed++;
        if (Array.isArray(want.warnings) && want.warnings.length > 0) warned++;
        if (Array.isArray(want.rows)) rowsSeen += want.rows.length;
      }
    }
    // The generator reaches errors, warnings and rows; both paths ran.
    assert.ok(failed > 0 && warned > 0 && rowsSeen > 0, `${failed} ${warned} ${rowsSeen}`);
    assert.ok(vecFilterStats.vectorized > before.vectorized);
    assert.ok(vecFilterStats.rowBatches > before.rowBatches);
  });
});
