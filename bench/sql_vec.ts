/**
 * SQL node vectorized evaluation benchmark (`npm run bench:sqlvec`): the planner's own
 * filters, select list, join-pair filters and GROUP BY inputs (src/sql/plan/vec_filter.ts)
 * with `tidb_enable_vectorized_expression` ON and OFF, over a table of 200,000 rows held in
 * memory behind a `PlanEnv` (no KV node, no RPC: only this node's work is timed). Each
 * query is first checked to return the same rows both ways, then timed (best of several
 * runs within the budget) and printed with rows/s and the OFF/ON ratio. Numbers vary with
 * the machine; run on an idle one. `--rows N` and `--budget MS` change the size and the
 * time spent per measurement.
 */
import { isDeepStrictEqual } from "node:util";
import { type EvalContext, type Value, defaultBuildOptions, integerLiteral, nullLiteral }
  from "../src/expr/mod.ts";
import { InfoSchema, type SchemaDatabase } from "../src/sql/catalog/catalog.ts";
import { tableInfoOf } from "../src/sql/catalog/schema.ts";
import type { Query } from "../src/sql/parser/ast.ts";
import { parse } from "../src/sql/parser/parse.ts";
import { type PlanEnv, queryValues } from "../src/sql/plan/mod.ts";

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const rowCount = argValue("--rows", 200_000);
const budgetMs = argValue("--budget", 3_000);

function statementOf(sql: string): ReturnType<typeof parse> & { kind: "ok" } {
  const parsed = parse(sql);
  if (parsed.kind !== "ok") throw new Error(`cannot parse ${sql}`);
  return parsed;
}

const create = statementOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, " +
  "c DECIMAL(10,2), f DOUBLE, s VARCHAR(20))").statements[0]!.statement;
if (create.kind !== "createTable") throw new Error("not a CREATE TABLE");
const table = tableInfoOf("t", create, { tableId: 10, dbId: 1 });

/** Rows: id, a 0…999, b 0…99 (NULL every 17th), c DECIMAL, f DOUBLE, s short text. */
const rows: Value[][] = Array.from({ length: rowCount }, (_, i) => [
  { kind: "int", value: BigInt(i + 1) },
  { kind: "int", value: BigInt((i * 7919) % 1000) },
  i % 17 === 0 ? null : { kind: "int", value: BigInt((i * 31) % 100) },
  { kind: "decimal", unscaled: BigInt((i * 13) % 100_000), scale: 2 },
  { kind: "double", value: ((i * 37) % 2000) / 8 - 125 },
  { kind: "string", value: `s${i % 97}` },
]);

function envOf(vectorized: boolean): PlanEnv {
  const db: SchemaDatabase = { info: { id: 1, name: "d" }, tables: new Map([["t", table]]),
    views: new Map() };
  const schema = new InfoSchema(1n, new Map([["d", db]]));
  const ctx: EvalContext = { warn: () => {}, statementTime: { year: 2026, month: 1, day: 1,
    hour: 0, minute: 0, second: 0, microsecond: 0 }, database: "d", user: "root@localhost",
  currentUser: "root@%", connectionId: 1, version: "8.0", lastInsertId: 0n,
  setLastInsertId: () => {}, setUserVariable: () => {} };
  return {
    schema,
    database: "d",
    scope: (clause) => ({ options: defaultBuildOptions, clause, params: null, database: "d",
      userVariable: () => nullLiteral(),
      systemVariable: (name) => (name === "tidb_enable_vectorized_expression"
        ? integerLiteral(vectorized ? "1" : "0") : nullLiteral()) }),
    // A fresh context per statement, as a session gives.
    evalContext: () => Object.create(ctx) as EvalContext,
    scanTable: () => Promise.resolve({ handles: rows.map((_, i) => BigInt(i + 1)), rows }),
    getRow: (_t, handle) => Promise.resolve(rows[Number(handle) - 1] ?? null),
    lockRows: () => Promise.resolve(),
  };
}

const queries: readonly { readonly name: string; readonly sql: string }[] = [
  { name: "filter (3 conjuncts)", sql: "SELECT id FROM t WHERE a > 100 AND b < 50 AND " +
    "f BETWEEN -60 AND 60" },
  { name: "filter OR / IN / IS NULL", sql: "SELECT id FROM t WHERE (a IN (1, 5, 9, 300) OR " +
    "b IS NULL) OR (a * 2 - b > 1500)" },
  { name: "projection (arith)", sql: "SELECT a + b, a * 3 - 7, f * 2, f + a FROM t" },
  { name: "filter + projection", sql: "SELECT id, a + b, f * 2 FROM t WHERE a > 100 AND " +
    "b < 50" },
  { name: "filter on DECIMAL/string", sql: "SELECT id FROM t WHERE c > 500 AND s <> 's5'" },
  { name: "GROUP BY arith, SUM(arith)", sql: "SELECT a * 2 > b, SUM(a * b), COUNT(*) " +
    "FROM t GROUP BY a * 2 > b" },
  { name: "join pairs filter", sql: "SELECT t.id FROM t JOIN t AS u ON t.id = u.id AND " +
    "t.a + u.b > 500 AND t.f < u.a" },
];

function queryOf(sql: string): Query {
  return statementOf(sql).statements[0]!.statement as Query;
}

async function measure(env: PlanEnv, query: Query): Promise<number> {
  let best = Infinity;
  const start = performance.now();
  do {
    const at = performance.now();
    await queryValues(env, query);
    best = Math.min(best, performance.now() - at);
  } while (performance.now() - start < budgetMs);
  return best;
}

const on = envOf(true);
const off = envOf(false);
console.log(`${rowCount} rows in memory; best of runs within ${budgetMs} ms per measurement`);
for (const q of queries) {
  const query = queryOf(q.sql);
  const a = await queryValues(on, query);
  const b = await queryValues(off, query);
  if (!isDeepStrictEqual(a.rows, b.rows)) throw new Error(`ON and OFF differ: ${q.sql}`);
  const offMs = await measure(off, query);
  const onMs = await measure(on, query);
  const rate = (ms: number): string => `${Math.round(rowCount / ms * 1000).toLocaleString()}/s`;
  console.log(`${q.name.padEnd(26)} OFF ${offMs.toFixed(1).padStart(7)} ms ` +
    `(${rate(offMs)})  ON ${onMs.toFixed(1).padStart(7)} ms (${rate(onMs)})  ` +
    `x${(offMs / onMs).toFixed(2)}  [${a.rows.length} rows]`);
}
