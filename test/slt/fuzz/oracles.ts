/**
 * Test oracles of the differential fuzzer. Each turns a fuzz case into two *sides* — lists
 * of queries whose combined results must be equal — and checks them:
 * - `tlp-where`: ternary logic partitioning. `Q` equals, as a multiset, the union of
 *   `Q WHERE p`, `Q WHERE NOT p` and `Q WHERE p IS NULL`.
 * - `tlp-distinct`, `tlp-groupby`: the same for `SELECT DISTINCT` and a GROUP BY without
 *   aggregates, compared as sets.
 * - `tlp-aggregate`: `SELECT agg(x) FROM …` equals the same aggregate recombined on the
 *   server over the three partitions (`SUM` of `COUNT`s, `MIN` of `MIN`s, …).
 * - `norec`: `SELECT COUNT(*) … WHERE p` equals `SUM(CASE WHEN p THEN 1 ELSE 0 END)`
 *   over the unfiltered rows, which an optimizer cannot turn into an index lookup.
 * - `differential`, `differential-grouped`: the plain or the grouped query of the case on
 *   two servers (MariaDB the reference).
 * The others need one server. Values are compared after normalization: numbers
 * canonical (`1.50` = `1.5`), text lower-cased without trailing spaces, because the
 * default collation (utf8mb4_general_ci) lets a server return any of several equal
 * strings for DISTINCT, GROUP BY and MIN/MAX.
 */
import type { Cell } from "../result_format.ts";
import type { SqlSession } from "../session.ts";
import type { QueryShape } from "./generator.ts";
import {
  childrenOf,
  renderExpr,
  renderSelect,
  renderSelectTail,
  type Expr,
  type Select,
} from "./sql_ast.ts";

/** The oracle names. */
export const oracleNames = [
  "tlp-where",
  "tlp-distinct",
  "tlp-groupby",
  "tlp-aggregate",
  "norec",
  "differential",
  "differential-grouped",
] as const;

/** Oracles that need only one server. */
export const singleServerOracles: readonly OracleName[] = oracleNames.filter(
  (o) => !o.startsWith("differential"),
);

/** One oracle. */
export type OracleName = (typeof oracleNames)[number];

/** How a side's rows are combined and compared. */
export type Combine = "bag" | "set";

/** The two sides an oracle compares, and the static types of their result columns. */
export interface Sides {
  readonly left: readonly string[];
  readonly right: readonly string[];
  readonly combine: Combine;
  readonly types: readonly Expr["type"][];
  /** For saved regression files: each side as one query (partitions glued by UNION). */
  readonly leftOne: string;
  readonly rightOne: string;
}

/** The queries an oracle runs for a query shape. */
export function sidesOf(oracle: OracleName, shape: QueryShape): Sides {
  const p = shape.predicate;
  const partitions = (base: Select): Select[] => {
    const parts: Expr[] = [
      p,
      { k: "unary", op: "NOT", arg: p, type: "bool" },
      { k: "is", arg: p, what: "NULL", type: "bool" },
    ];
    return parts.map((part) => ({
      ...base,
      where:
        base.where === null
          ? part
          : { k: "binary", op: "AND", left: base.where, right: part, type: "bool" },
    }));
  };
  switch (oracle) {
    case "tlp-where":
    case "tlp-distinct": {
      const base: Select = { ...shape.plain, distinct: oracle === "tlp-distinct", orderBy: [] };
      const parts = partitions(base).map(renderSelect);
      const glue = oracle === "tlp-where" ? " UNION ALL " : " UNION ";
      return {
        left: [renderSelect(base)],
        right: parts,
        combine: oracle === "tlp-where" ? "bag" : "set",
        types: base.items.map((i) => i.type),
        leftOne: renderSelect(base),
        rightOne: parts.join(glue),
      };
    }
    case "tlp-groupby": {
      const base: Select = {
        ...shape.grouped,
        items: shape.grouped.groupBy,
        having: null,
        distinct: false,
      };
      const parts = partitions(base).map(renderSelect);
      return {
        left: [renderSelect(base)],
        right: parts,
        combine: "set",
        types: base.items.map((i) => i.type),
        leftOne: renderSelect(base),
        rightOne: parts.join(" UNION "),
      };
    }
    case "tlp-aggregate": {
      const agg = firstAggregate(shape.grouped) ?? {
        k: "agg",
        fn: "COUNT",
        arg: null,
        distinct: false,
        type: "int",
      };
      // AVG does not recombine and DISTINCT aggregates do not add up: use plain SUM/MIN/MAX.
      // A sum of divisions does not either: each partition's SUM rounds its quotients to
      // div_precision_increment digits, the whole-table SUM rounds once. MIN stays exact
      // (rounding is monotone).
      const arg = agg.k === "agg" ? agg.arg : null;
      const wanted = agg.k === "agg" && agg.fn !== "AVG" ? agg.fn : "SUM";
      const fn = wanted === "SUM" && arg !== null && hasDivision(arg) ? "MIN" : wanted;
      const inner: Expr = { k: "agg", fn, arg, distinct: false, type: agg.type };
      const base: Select = {
        distinct: false,
        items: [inner],
        from: shape.plain.from,
        where: shape.plain.where,
        groupBy: [],
        having: null,
        orderBy: [],
      };
      const outer = fn === "COUNT" || fn === "SUM" ? "SUM" : fn;
      const union = partitions(base)
        .map((s) => `SELECT ${renderExpr(inner)} AS a ${renderSelectTail(s)}`)
        .join(" UNION ALL ");
      const combined = `SELECT ${outer}(u.a) FROM (${union}) AS u`;
      const type = fn === "COUNT" ? "int" : inner.type;
      return {
        left: [renderSelect(base)],
        right: [combined],
        combine: "bag",
        types: [type],
        leftOne: renderSelect(base),
        rightOne: combined,
      };
    }
    case "norec": {
      const from = shape.plain.from;
      const counted: Select = {
        distinct: false,
        items: [{ k: "agg", fn: "COUNT", arg: null, distinct: false, type: "int" }],
        from,
        where: p,
        groupBy: [],
        having: null,
        orderBy: [],
      };
      const fromSql = renderSelectTail({ ...counted, where: null });
      const sum = `SUM(CASE WHEN ${renderExpr(p)} THEN 1 ELSE 0 END)`;
      const unoptimized = `SELECT COALESCE(${sum}, 0) ${fromSql}`;
      return {
        left: [renderSelect(counted)],
        right: [unoptimized],
        combine: "bag",
        types: ["int"],
        leftOne: renderSelect(counted),
        rightOne: unoptimized,
      };
    }
    case "differential":
    case "differential-grouped": {
      const select = oracle === "differential" ? shape.plain : shape.grouped;
      const sql = renderSelect(select);
      return {
        left: [sql],
        right: [sql],
        combine: "bag",
        types: select.items.map((i) => i.type),
        leftOne: sql,
        rightOne: sql,
      };
    }
  }
}

function hasDivision(e: Expr): boolean {
  return (e.k === "binary" && e.op === "/") || childrenOf(e).some(hasDivision);
}

function firstAggregate(s: Select): Expr | null {
  return s.items.find((i) => i.k === "agg") ?? null;
}

/** The verdict of one check. */
export type Verdict =
  | { readonly kind: "ok" }
  | { readonly kind: "invalid"; readonly reason: string }
  | {
      readonly kind: "mismatch";
      readonly reason: string;
      readonly left: readonly string[];
      readonly right: readonly string[];
    };

/** Runs each query on `session`; rows of all queries together, or the first error. */
export async function runSide(
  session: SqlSession,
  queries: readonly string[],
): Promise<{ rows: Cell[][] } | { error: string; sql: string }> {
  const rows: Cell[][] = [];
  for (const sql of queries) {
    const outcome = await session.run(sql);
    if (outcome.kind === "error") return { error: outcome.message, sql };
    if (outcome.kind === "rows") rows.push(...outcome.rows.map((r) => [...r]));
  }
  return { rows };
}

/** A value as compared by the oracles (see the file comment). */
export function normalizeCell(cell: Cell): string {
  if (cell === null) return "NULL";
  const number = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(cell);
  if (number !== null && cell !== "" && cell !== "." && (number[2] !== "" || number[3] !== "")) {
    const intPart = (number[2] ?? "").replace(/^0+(?=\d)/, "") || "0";
    const frac = (number[3] ?? "").replace(/0+$/, "");
    const zero = /^0*$/.test(intPart) && frac === "";
    const sign = number[1] === "-" && !zero ? "-" : "";
    return `${sign}${intPart}${frac === "" ? "" : `.${frac}`}`;
  }
  return `'${cell.toLowerCase().trimEnd()}'`;
}

/** Rows normalized, combined by bag or set semantics, sorted: the comparable form. */
export function canonicalRows(rows: readonly (readonly Cell[])[], combine: Combine): string[] {
  const lines = rows.map((r) => r.map(normalizeCell).join(" | "));
  const out = combine === "set" ? [...new Set(lines)] : lines;
  return out.sort();
}

/** Checks one oracle on one server (both sides on the same session). */
export async function checkOne(session: SqlSession, sides: Sides): Promise<Verdict> {
  const left = await runSide(session, sides.left);
  if ("error" in left) return { kind: "invalid", reason: `${left.error} in ${left.sql}` };
  const right = await runSide(session, sides.right);
  if ("error" in right) return { kind: "invalid", reason: `${right.error} in ${right.sql}` };
  return compareSides(left.rows, right.rows, sides.combine);
}

/** Checks the same query on two servers: a reference and a server under test. */
export async function checkTwo(
  reference: SqlSession,
  tested: SqlSession,
  sides: Sides,
): Promise<Verdict> {
  const a = await runSide(reference, sides.left);
  // The reference refuses the query: nothing to compare against.
  if ("error" in a) return { kind: "invalid", reason: `reference: ${a.error}` };
  const b = await runSide(tested, sides.right);
  if ("error" in b) {
    return {
      kind: "mismatch",
      reason: `error only on the tested server: ${b.error}`,
      left: canonicalRows(a.rows, "bag"),
      right: [],
    };
  }
  return compareSides(a.rows, b.rows, "bag");
}

function compareSides(
  left: readonly Cell[][],
  right: readonly Cell[][],
  combine: Combine,
): Verdict {
  const a = canonicalRows(left, combine);
  const b = canonicalRows(right, combine);
  if (a.length === b.length && a.every((x, i) => x === b[i])) return { kind: "ok" };
  const show = (rows: readonly string[]): string =>
    `${rows.length} rows [${rows.slice(0, 4).join("; ")}${rows.length > 4 ? "; …" : ""}]`;
  return { kind: "mismatch", reason: `${show(a)} vs ${show(b)}`, left: a, right: b };
}
