/**
 * The differential fuzzer's driver: generates cases from seeds, checks them with the
 * oracles, minimizes mismatches and saves each as a `.slt` regression file.
 *
 * A seed determines a database (schema and rows) and a sequence of query shapes; case
 * `(seed, n)` is the n-th shape, checked by every selected oracle. Single-server oracles
 * run on `servers.main`; the differential oracles compare `servers.reference` (MariaDB)
 * with `servers.main`. Each seed gets a fresh database per server, dropped afterwards;
 * minimization re-creates the database for every candidate, so a candidate that no
 * longer fails (or becomes invalid) is simply rejected. Minimization is greedy and
 * bounded by `minimizeChecksMax` checks.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Prng } from "../../../src/base/mod.ts";
import { parseScript } from "../parser.ts";
import { formatRows, resultLines, sortValues } from "../result_format.ts";
import { defaultRunOptions, runScript } from "../runner.ts";
import type { SqlServer, SqlSession } from "../session.ts";
import { generateDatabase, generateQuery, type QueryShape } from "./generator.ts";
import { checkOne, checkTwo, runSide, sidesOf, type OracleName, type Verdict } from "./oracles.ts";
import {
  renderDatabase,
  simplifications,
  typeLetter,
  type Database,
  type Expr,
  type Select,
} from "./sql_ast.ts";

/** Servers to fuzz: `main` always; `reference` for the differential oracles. */
export interface FuzzServers {
  readonly main: SqlServer;
  readonly reference: SqlServer | null;
}

/** One case: a database, a query shape and an oracle. */
export interface FuzzCase {
  readonly seed: number;
  readonly queryIndex: number;
  readonly oracle: OracleName;
  readonly db: Database;
  readonly shape: QueryShape;
}

/** A mismatch found (and, when asked, minimized and saved). */
export interface Finding {
  readonly seed: number;
  readonly queryIndex: number;
  readonly oracle: OracleName;
  readonly reason: string;
  /** The minimized case's SQL: statements, then the two sides. */
  readonly sql: readonly string[];
  readonly file: string | null;
  /** Whether the saved file fails when run by the slt runner (null: not saved). */
  readonly reproduces: boolean | null;
}

/** Counts per oracle. */
export interface OracleCounts {
  ok: number;
  invalid: number;
  mismatch: number;
}

/** The outcome of a fuzz run. */
export interface FuzzReport {
  readonly seeds: number;
  readonly counts: Record<string, OracleCounts>;
  readonly findings: readonly Finding[];
  /** A few invalid-case reasons, to tune the generator. */
  readonly invalidSamples: readonly string[];
}

/** Options of `fuzz`. */
export interface FuzzOptions {
  readonly seeds: readonly number[];
  readonly queriesPerSeed: number;
  readonly oracles: readonly OracleName[];
  /** Minimize and save at most this many findings; later ones are only counted. */
  readonly findingsMax: number;
  readonly minimizeChecksMax: number;
  /** Where regression files go (null: not saved). */
  readonly outDir: string | null;
  /** Stop starting new seeds after this much time. */
  readonly timeBudgetMs: number;
  readonly log?: (line: string) => void;
}

let databaseCounter = 0;

/** A database created on a server for one case, with the session that uses it. */
interface OpenDatabase {
  readonly session: SqlSession;
  close(): Promise<void>;
}

async function openDatabase(server: SqlServer, db: Database): Promise<OpenDatabase | string> {
  const session = await server.connect();
  const name = `fuzz_${process.pid}_${++databaseCounter}`;
  const close = async (): Promise<void> => {
    const dropped = await session.run(`DROP DATABASE IF EXISTS ${name}`);
    await session.close();
    if (dropped.kind === "error")
      throw new Error(`fuzz: DROP DATABASE ${name}: ${dropped.message}`);
  };
  for (const sql of [`CREATE DATABASE ${name}`, `USE ${name}`, ...setupStatements(db)]) {
    const outcome = await session.run(sql);
    if (outcome.kind === "error") {
      await close();
      return `${outcome.message} in ${sql}`;
    }
  }
  return { session, close };
}

/** Statements that build a database, with one multi-row INSERT per table (faster). */
export function setupStatements(db: Database): string[] {
  const ddl = renderDatabase({ ...db, tables: db.tables.map((t) => ({ ...t, rows: [] })) });
  const inserts = db.tables
    .filter((t) => t.rows.length > 0)
    .map(
      (t) => `INSERT INTO ${t.name} VALUES ${t.rows.map((r) => `(${r.join(", ")})`).join(", ")}`,
    );
  return [...ddl, ...inserts];
}

/** Checks one case on freshly created databases. */
export async function checkCase(servers: FuzzServers, c: FuzzCase): Promise<Verdict> {
  const sides = sidesOf(c.oracle, c.shape);
  const main = await openDatabase(servers.main, c.db);
  if (typeof main === "string") return { kind: "invalid", reason: main };
  try {
    if (!c.oracle.startsWith("differential")) return await checkOne(main.session, sides);
    if (servers.reference === null) return { kind: "invalid", reason: "no reference server" };
    const reference = await openDatabase(servers.reference, c.db);
    if (typeof reference === "string")
      return { kind: "invalid", reason: `reference: ${reference}` };
    try {
      return await checkTwo(reference.session, main.session, sides);
    } finally {
      await reference.close();
    }
  } finally {
    await main.close();
  }
}

/** Runs the fuzzer; see the file comment. */
export async function fuzz(servers: FuzzServers, options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const counts: Record<string, OracleCounts> = {};
  for (const o of options.oracles) counts[o] = { ok: 0, invalid: 0, mismatch: 0 };
  const findings: Finding[] = [];
  const invalidSamples: string[] = [];
  const log = options.log ?? (() => undefined);
  const oracles = options.oracles.filter(
    (o) => servers.reference !== null || !o.startsWith("differential"),
  );
  let seedsRun = 0;
  for (const seed of options.seeds) {
    if (performance.now() - started > options.timeBudgetMs) break;
    seedsRun++;
    const prng = new Prng(seed);
    const db = generateDatabase(prng);
    const main = await openDatabase(servers.main, db);
    if (typeof main === "string") {
      log(`seed ${seed}: database refused: ${main}`);
      continue;
    }
    const reference = servers.reference === null ? null : await openDatabase(servers.reference, db);
    try {
      for (let q = 0; q < options.queriesPerSeed; q++) {
        const shape = generateQuery(prng, db);
        for (const oracle of oracles) {
          const sides = sidesOf(oracle, shape);
          let verdict: Verdict;
          if (!oracle.startsWith("differential")) {
            verdict = await checkOne(main.session, sides);
          } else if (reference === null || typeof reference === "string") {
            verdict = { kind: "invalid", reason: `reference database: ${String(reference)}` };
          } else {
            verdict = await checkTwo(reference.session, main.session, sides);
          }
          const count = counts[oracle] as OracleCounts;
          count[verdict.kind]++;
          if (verdict.kind === "invalid" && invalidSamples.length < 20) {
            invalidSamples.push(`${oracle}: ${verdict.reason}`);
          }
          if (verdict.kind !== "mismatch") continue;
          log(`seed ${seed} query ${q} ${oracle}: MISMATCH ${verdict.reason}`);
          if (findings.length >= options.findingsMax) continue;
          const found: FuzzCase = { seed, queryIndex: q, oracle, db, shape };
          findings.push(await report(servers, found, verdict, options));
        }
      }
    } finally {
      await main.close();
      if (reference !== null && typeof reference !== "string") await reference.close();
    }
  }
  return { seeds: seedsRun, counts, findings, invalidSamples };
}

async function report(
  servers: FuzzServers,
  found: FuzzCase,
  verdict: Extract<Verdict, { kind: "mismatch" }>,
  options: FuzzOptions,
): Promise<Finding> {
  const small =
    options.minimizeChecksMax > 0
      ? await minimize(servers, found, options.minimizeChecksMax)
      : found;
  const sides = sidesOf(small.oracle, small.shape);
  const sql = [
    ...setupStatements(small.db),
    sides.leftOne,
    ...(small.oracle.startsWith("differential") ? [] : [sides.rightOne]),
  ];
  let file: string | null = null;
  let reproduces: boolean | null = null;
  if (options.outDir !== null) {
    const text = await regressionScript(servers, small, verdict.reason);
    await mkdir(options.outDir, { recursive: true });
    file = join(options.outDir, `${small.oracle}_seed${small.seed}_q${small.queryIndex}.slt`);
    await writeFile(file, text);
    const result = await runScript(
      servers.main,
      { file, records: parseScript(text) },
      defaultRunOptions,
    );
    reproduces = result.failed > 0;
  }
  return {
    seed: found.seed,
    queryIndex: found.queryIndex,
    oracle: found.oracle,
    reason: verdict.reason,
    sql,
    file,
    reproduces,
  };
}

/**
 * A `.slt` regression file for a case. Single-server oracles become two queries with the
 * same label and no expected values (the runner fails when their results differ);
 * differential cases become one query with the reference server's result as expected.
 */
export async function regressionScript(
  servers: FuzzServers,
  c: FuzzCase,
  reason: string,
): Promise<string> {
  const sides = sidesOf(c.oracle, c.shape);
  const types = sides.types.map(typeLetter).join("");
  const lines = [
    `# Regression found by the SQL fuzzer (test/slt/fuzz): oracle ${c.oracle}, seed ${c.seed},`,
    `# query ${c.queryIndex}; ${reason.replace(/\s+/g, " ").slice(0, 200)}.`,
    c.oracle.startsWith("differential")
      ? "# Expected values are the reference server's (MariaDB) result."
      : "# Both queries carry the same label: their results must be equal.",
    "",
  ];
  for (const sql of setupStatements(c.db)) lines.push("statement ok", sql, "");
  const label = `fuzz-${c.seed}-${c.queryIndex}`;
  if (!c.oracle.startsWith("differential")) {
    lines.push(`query ${types} rowsort ${label}`, sides.leftOne, "");
    lines.push(`query ${types} rowsort ${label}`, sides.rightOne, "");
    return `${lines.join("\n")}`;
  }
  const reference = servers.reference === null ? null : await openDatabase(servers.reference, c.db);
  if (reference === null || typeof reference === "string") {
    lines.push(`query ${types} rowsort`, sides.leftOne, "");
    return lines.join("\n");
  }
  try {
    const result = await runSide(reference.session, [sides.leftOne]);
    lines.push(`query ${types} rowsort`, sides.leftOne);
    if (!("error" in result)) {
      const values = sortValues(formatRows(result.rows, types), "rowsort");
      lines.push("----", ...resultLines(values, 8));
    }
    lines.push("");
    return lines.join("\n");
  } finally {
    await reference.close();
  }
}

/** Greedy minimization: apply the first simplification that still fails, repeat. */
export async function minimize(
  servers: FuzzServers,
  c: FuzzCase,
  checksMax: number,
): Promise<FuzzCase> {
  let current = c;
  let checks = 0;
  let progress = true;
  while (progress && checks < checksMax) {
    progress = false;
    for (const candidate of candidates(current)) {
      if (checks >= checksMax) break;
      checks++;
      const v = await checkCase(servers, candidate);
      if (v.kind === "mismatch") {
        current = candidate;
        progress = true;
        break;
      }
    }
  }
  return current;
}

/** Smaller variants of a case, cheapest-to-check and biggest cuts first. */
function* candidates(c: FuzzCase): Generator<FuzzCase> {
  const withDb = (db: Database): FuzzCase => ({ ...c, db });
  const withShape = (shape: QueryShape): FuzzCase => ({ ...c, shape });
  const { db, shape } = c;
  // Data: drop half of a table's rows, then single rows.
  for (let t = 0; t < db.tables.length; t++) {
    const table = db.tables[t] as Database["tables"][number];
    const n = table.rows.length;
    const cuts: [number, number][] = [];
    if (n >= 2) cuts.push([0, Math.floor(n / 2)], [Math.floor(n / 2), n]);
    for (let i = 0; i < n; i++) cuts.push([i, i + 1]);
    for (const [from, to] of cuts) {
      const rows = [...table.rows.slice(0, from), ...table.rows.slice(to)];
      yield withDb({ ...db, tables: db.tables.map((x, i) => (i === t ? { ...x, rows } : x)) });
    }
  }
  for (let i = 0; i < db.indexes.length; i++) {
    yield withDb({ ...db, indexes: db.indexes.filter((_, j) => j !== i) });
  }
  // Tables the query may not need (an invalid candidate is rejected by the check).
  for (const t of db.tables) {
    if (db.tables.length > 1) {
      yield withDb({
        tables: db.tables.filter((x) => x !== t),
        indexes: db.indexes.filter((i) => i.table !== t.name),
      });
    }
  }
  // Joins: drop a joined table, or simplify its ON condition.
  for (let i = 1; i < shape.from.length; i++) {
    const from = shape.from.filter((_, j) => j !== i);
    yield withShape(withFrom(shape, from));
    const item = shape.from[i] as QueryShape["from"][number];
    if (item.on !== null) {
      for (const on of simplifications(item.on)) {
        yield withShape(
          withFrom(
            shape,
            shape.from.map((f, j) => (j === i ? { ...f, on } : f)),
          ),
        );
      }
    }
  }
  const usesPlain = !["tlp-groupby", "differential-grouped"].includes(c.oracle);
  const usesGrouped = ["tlp-groupby", "tlp-aggregate", "differential-grouped"].includes(c.oracle);
  if (usesPlain)
    for (const plain of selectVariants(shape.plain)) yield withShape({ ...shape, plain });
  if (usesGrouped)
    for (const grouped of selectVariants(shape.grouped)) yield withShape({ ...shape, grouped });
  if (!c.oracle.startsWith("differential")) {
    for (const predicate of simplifications(shape.predicate))
      yield withShape({ ...shape, predicate });
  }
}

function withFrom(shape: QueryShape, from: QueryShape["from"]): QueryShape {
  return { ...shape, from, plain: { ...shape.plain, from }, grouped: { ...shape.grouped, from } };
}

function* selectVariants(s: Select): Generator<Select> {
  if (s.where !== null) {
    yield { ...s, where: null };
    for (const where of simplifications(s.where)) yield { ...s, where };
  }
  if (s.having !== null) yield { ...s, having: null };
  if (s.distinct) yield { ...s, distinct: false };
  if (s.orderBy.length > 0) yield { ...s, orderBy: [] };
  if (s.items.length > 1) {
    for (let i = 0; i < s.items.length; i++) {
      const item = s.items[i] as Expr;
      const groupBy = s.groupBy.filter((g) => g !== item);
      if (s.groupBy.length > 0 && groupBy.length === 0) continue;
      yield { ...s, items: s.items.filter((_, j) => j !== i), groupBy };
    }
  }
  for (let i = 0; i < s.items.length; i++) {
    const item = s.items[i] as Expr;
    if (s.groupBy.includes(item)) continue;
    for (const simpler of simplifications(item)) {
      yield { ...s, items: s.items.map((x, j) => (j === i ? simpler : x)) };
    }
  }
}
