/**
 * The point-get fast path and its plan cache: a SELECT that reads rows of one table by a
 * key (`SELECT c FROM t WHERE id = ?`, `… WHERE id IN (?, ?)`, `… WHERE email = ?` on a
 * unique index, `… WHERE a = ? AND b = ?` on a unique index of (a, b)) skips the
 * planner. TiDB calls these PointGet and BatchPointGet plans and caches them per
 * session; so does this file.
 *
 * `pointGetShape` recognizes the statement from its syntax alone: one base table (no
 * join, partition or index hint), a select list of plain columns or a lone `*`, a WHERE
 * that is `col = key`, a conjunction of such equalities on distinct columns, or
 * `col IN (keys…)`, each key a `?`, an integer or a string literal, and no other clause
 * (GROUP BY, HAVING, ORDER BY, LIMIT, DISTINCT, locking, windows, WITH, select options or
 * optimizer hints). Its cache key is the statement's shape with the literal values left
 * out (the digest), plus the current database and the settings that change a
 * statement's meaning (`sql_mode`, `time_zone`, `collation_connection` …, given by the
 * session), so two databases with a table `t` never share a plan. An entry also
 * remembers the schema version it was planned at, and is used only at that version: a
 * plan made before an ALTER is re-planned and replaced after it.
 *
 * A plan holds the result columns (from `describeQuery`, so names and types are exactly
 * the full path's), per column the row offset it reads, and the access: the row handle
 * (the clustered integer primary key) or a public unique index whose columns are exactly
 * the WHERE's. Running it evaluates the keys; only values whose comparison with the
 * column needs no conversion take the fast path — whole numbers held exactly (a bound
 * integer, a whole DOUBLE as mysql2 binds JS numbers, an integer literal) for integer
 * columns, strings for string columns — and anything else (a string against a
 * number, a fraction, NULL) goes to the planner, which applies MySQL's comparison rules.
 * A unique index narrows the rows to read, as the planner's index read does, and the
 * WHERE is still evaluated on them. Rows come back in handle order, as the planner's
 * reads return them.
 */
import { type Expr, type Value, columnRef, evaluate, isTrue } from "../../expr/mod.ts";
import { prefixNext } from "../../codec/mod.ts";
import type { Expr as AstExpr, SelectQuery, TableExpr } from "../parser/ast.ts";
import type { ColumnDef, SqlValue } from "../wire/session.ts";
import { sqlValueOf, tableRowScope, translate } from "../session/to_expr.ts";
import { type ColumnInfo, type IndexInfo, type TableInfo, fieldTypeOf, isPublic }
  from "../catalog/schema.ts";
import { indexEntry, integralValue } from "../table/table.ts";
import { withRow } from "./compile.ts";
import type { PlanEnv } from "./planner.ts";

/** A SELECT of the point-get shape, as read from its syntax. */
export interface PointGetShape {
  readonly db: string | null;
  readonly table: string;
  /** The name columns are qualified with: the alias, else the table name (lower case). */
  readonly qualifier: string;
  /** The select list: one entry per item, or null for a lone `*`. */
  readonly fields: readonly { readonly column: string }[] | null;
  /**
   * The WHERE as key conditions on distinct columns (lower case): one per equality of a
   * conjunction, or one with the list of `col IN (…)`.
   */
  readonly conds: readonly { readonly column: string; readonly keys: readonly AstExpr[] }[];
  /** The WHERE itself, evaluated on the rows a unique index gives. */
  readonly where: AstExpr;
  /** The digest: the shape with literal values left out. */
  readonly digest: string;
}

/** A cached plan: what to read and how to show it. */
interface PointGetPlan {
  /** The schema version it was planned at: only a plan of the current one is used. */
  readonly schemaVersion: bigint;
  readonly table: TableInfo;
  readonly columns: readonly ColumnDef[];
  /** Per result column: the column reference evaluated on the table's row. */
  readonly outputs: readonly Expr[];
  /** How rows are found: by handle, or by a unique index (`offsets`: per condition). */
  readonly access:
    | { readonly kind: "handle" }
    | { readonly kind: "unique"; readonly index: IndexInfo; readonly offsets: readonly number[] };
}

/** The result of a query run on the fast path. */
export interface PointGetOutput {
  readonly columns: ColumnDef[];
  readonly rows: SqlValue[][];
  /** Whether the plan came from the cache (`@@last_plan_from_cache`). */
  readonly fromCache: boolean;
}

/** Plans kept per session by default (TiDB's `tidb_session_plan_cache_size`). */
export const pointGetCacheSizeDefault = 100;

/** The point-get shape of `query`, or undefined when it has another shape. */
export function pointGetShape(query: SelectQuery): PointGetShape | undefined {
  if (query.with !== null || query.orderBy.length > 0 || query.limit !== null ||
    query.hints !== null || query.distinct || query.options.length > 0 ||
    query.groupBy.length > 0 || query.withRollup || query.having !== null ||
    query.windows.length > 0 || query.lock !== null || query.from.length !== 1) {
    return undefined;
  }
  const from: TableExpr = query.from[0]!;
  if (from.kind !== "table" || from.partitions.length > 0 || from.indexHints.length > 0) {
    return undefined;
  }
  const qualifier = (from.alias ?? from.name.name).toLowerCase();
  const db = from.name.db;
  const names = (e: AstExpr): string | undefined => {
    if (e.kind !== "column") return undefined;
    if (e.table !== null && e.table.toLowerCase() !== qualifier) return undefined;
    // `db.t.c` names the table itself; with an alias MySQL only accepts the alias.
    if (e.db !== null && (from.alias !== null || db === null ||
      e.db.toLowerCase() !== db.toLowerCase())) return undefined;
    return e.column.toLowerCase();
  };
  let fields: { column: string }[] | null = [];
  if (query.fields.length === 1 && query.fields[0]!.expr.kind === "star") {
    const star = query.fields[0]!.expr;
    if (star.table !== null && (star.table.db !== null ||
      star.table.name.toLowerCase() !== qualifier)) return undefined;
    fields = null;
  } else {
    for (const field of query.fields) {
      const column = names(field.expr);
      if (column === undefined) return undefined;
      fields.push({ column });
    }
  }
  const where = query.where;
  if (where === null) return undefined;
  const conds: { column: string; keys: readonly AstExpr[] }[] = [];
  if (where.kind === "in") {
    const column = names(where.operand);
    if (where.not || column === undefined || where.list.length === 0 ||
      !where.list.every(isKey)) return undefined;
    conds.push({ column, keys: where.list });
  } else {
    for (const conjunct of conjunctsOf(where)) {
      if (conjunct.kind !== "binary" || conjunct.op !== "=") return undefined;
      const left = names(conjunct.left);
      const right = names(conjunct.right);
      if (left !== undefined && isKey(conjunct.right)) {
        conds.push({ column: left, keys: [conjunct.right] });
      } else if (right !== undefined && isKey(conjunct.left)) {
        conds.push({ column: right, keys: [conjunct.left] });
      } else {
        return undefined;
      }
    }
    if (new Set(conds.map((c) => c.column)).size !== conds.length) return undefined;
  }
  const digest = [db ?? "", from.name.name.toLowerCase(), qualifier,
    fields === null ? "*" : fields.map((f, i) => `${f.column} ${query.fields[i]!.alias ?? ""}`)
      .join(","),
    where.kind === "in" ? "in" : "=",
    conds.map((c) => `${c.column}:${c.keys.map(keyKind).join(",")}`).join(";"),
    // Field names as written (case, spacing) are the result columns' names.
    query.fields.map((f) => f.alias ?? "").join(",")].join("\u0000");
  return { db, table: from.name.name, qualifier, fields, conds, where, digest };
}

/** The conjuncts of an AND tree. */
function conjunctsOf(e: AstExpr): AstExpr[] {
  return e.kind === "binary" && e.op === "AND" ? [...conjunctsOf(e.left), ...conjunctsOf(e.right)]
    : [e];
}

/** A key's kind in the digest: `?`, `#` (integer literal) or `'` (string literal). */
function keyKind(e: AstExpr): string {
  return e.kind === "param" ? "?" : e.kind === "int" ? "#" : "'";
}

/** `?`, an unsigned integer literal or a string literal without an introducer. */
function isKey(e: AstExpr): boolean {
  return e.kind === "param" || e.kind === "int" || (e.kind === "string" && e.charset === null);
}

/**
 * Whether `value` compares with an integer column exactly as the integer it holds: an
 * integer, a whole DECIMAL, or a whole DOUBLE within ±2^53 (mysql2 binds JS numbers as
 * DOUBLE; past 2^53 MySQL's double comparison is not integer equality).
 */
function isExactKey(value: Value): boolean {
  if (value === null) return false;
  switch (value.kind) {
    case "int":
    case "uint":
    case "decimal":
      return true;
    case "double":
      return Number.isInteger(value.value) && Math.abs(value.value) <= 2 ** 53;
    default:
      return false;
  }
}

/**
 * The plan of `shape` on `table`, or undefined when its key columns are neither the
 * clustered integer primary key nor exactly the columns of a public unique index, or a
 * named column is not there (the planner then answers, errors included).
 */
function planOf(env: PlanEnv, shape: PointGetShape, table: TableInfo, query: SelectQuery,
  fieldTexts: readonly (string | undefined)[] | null,
  describe: DescribeQuery): PointGetPlan | undefined {
  const offsetOf = (name: string): number => table.columns.findIndex((c) =>
    isPublic(c) && c.name.toLowerCase() === name);
  const keyOffsets = shape.conds.map((c) => offsetOf(c.column));
  if (keyOffsets.some((o) => o < 0)) return undefined;
  let access: PointGetPlan["access"];
  if (keyOffsets.length === 1 && keyOffsets[0] === table.pkHandle) {
    access = { kind: "handle" };
  } else {
    const index = table.indexes.find((i) => i.unique && isPublic(i) &&
      i.columns.length === keyOffsets.length && i.columns.every((o) => keyOffsets.includes(o)));
    if (index === undefined || !keyOffsets.every((o) => keyKindOf(table.columns[o]!))) {
      return undefined;
    }
    access = { kind: "unique", index, offsets: keyOffsets };
  }
  const offsets: number[] = [];
  if (shape.fields === null) {
    table.columns.forEach((c, offset) => {
      if (isPublic(c)) offsets.push(offset);
    });
  } else {
    for (const field of shape.fields) {
      const offset = offsetOf(field.column);
      if (offset < 0) return undefined;
      offsets.push(offset);
    }
  }
  const columns = describe(env, query, fieldTexts);
  if (columns.length !== offsets.length) return undefined;
  const outputs = offsets.map((offset) => {
    const column = table.columns[offset]!;
    return columnRef(offset, column.name, fieldTypeOf(column));
  });
  return { schemaVersion: env.schema.version, table, columns, outputs, access };
}

/**
 * What keys of a unique index's column can be looked up as they are: integers for an
 * integer column, strings for a string column (its key is its collation's sort key, the
 * collation the evaluator compares under). Other columns: none (undefined).
 */
function keyKindOf(column: ColumnInfo): "int" | "string" | undefined {
  if (column.type.kind === "int") return "int";
  // The column's collation (IMPLICIT) beats a key's (COERCIBLE): `=` compares under the
  // column's, which its index key is the sort key of (`_bin` as well as general_ci).
  if (column.type.kind === "string") return "string";
  return undefined;
}

/**
 * The value of `key` as column `column` stores it, for an index key; undefined when the
 * comparison needs a conversion (the planner's), null when no row can hold it.
 */
function storedKey(column: ColumnInfo, key: Value): Value | undefined {
  if (keyKindOf(column) === "string") {
    return key !== null && key.kind === "string" ? key : undefined;
  }
  if (!isExactKey(key)) return undefined;
  const n = integralValue(key);
  if (n === undefined) return undefined;
  if (!column.type.unsigned) return { kind: "int", value: n };
  return n < 0n ? null : { kind: "uint", value: n };
}

/** `describeQuery` of `mod.ts`, passed in (it imports this file). */
export type DescribeQuery = (env: PlanEnv, query: SelectQuery,
  fieldTexts: readonly (string | undefined)[] | null) => ColumnDef[];

/** How `PointGetCache.tryRun` runs a statement. */
export interface PointGetRunOptions {
  /** The select items as written (the result columns' names). */
  readonly fieldTexts: readonly (string | undefined)[] | null;
  /** The session settings a plan depends on, as one text (part of the cache key). */
  readonly settings: string;
  /** False: plan for this run only (the plan cache is switched off). */
  readonly useCache: boolean;
  /** Plans kept at most. */
  readonly capacity: number;
  readonly describe: DescribeQuery;
  /**
   * The transaction reads the latest committed versions, not a snapshot: only a lookup
   * of one key by handle may run on it (a unique index then row read would be two).
   */
  readonly latestRead?: boolean;
}

/** One session's point-get plans, least recently used first. */
export class PointGetCache {
  private readonly plans = new Map<string, PointGetPlan>();

  /**
   * Runs `query`, whose point-get shape is `shape` (`pointGetShape`), on the fast path;
   * undefined sends it to the planner. `settings` are the session settings a plan
   * depends on, as one text; with `useCache` false a plan is made for this run only (the
   * cache is switched off).
   */
  async tryRun(env: PlanEnv, query: SelectQuery, shape: PointGetShape,
    options: PointGetRunOptions): Promise<PointGetOutput | undefined> {
    const db = shape.db ?? env.database;
    if (db === null) return undefined;
    const table = env.schema.table(db, shape.table);
    // Partitioned tables take the planner's path (their partitions are pruned there).
    if (table === undefined || table.partition !== undefined) return undefined;
    // Result columns are named by the select items as written, so those are in the key.
    const cacheKey = [db.toLowerCase(), options.settings, shape.digest,
      ...(options.fieldTexts ?? [])].join("\u0001");
    let plan = options.useCache ? this.plans.get(cacheKey) : undefined;
    const fromCache = plan !== undefined && plan.schemaVersion === env.schema.version;
    if (fromCache) {
      // Most recently used last.
      this.plans.delete(cacheKey);
      this.plans.set(cacheKey, plan!);
    } else {
      plan = planOf(env, shape, table, query, options.fieldTexts, options.describe);
      if (plan === undefined) return undefined;
      if (options.useCache) this.remember(cacheKey, plan, options.capacity);
    }
    if (options.latestRead === true && plan!.access.kind !== "handle") return undefined;
    const rows = plan!.access.kind === "handle"
      ? await this.byHandle(env, plan!, shape)
      : await this.byUniqueIndex(env, plan!, plan!.access, shape);
    if (rows === undefined) return undefined;
    const base = env.evalContext();
    const out: SqlValue[][] = [];
    for (const row of rows) {
      const ctx = withRow(base, row);
      out.push(plan!.outputs.map((e, i) => {
        const column = plan!.columns[i]!;
        return sqlValueOf(evaluate(e, ctx), column.type, column.length);
      }));
    }
    return { columns: [...plan!.columns], rows: out, fromCache };
  }

  /** Plans cached now. */
  get size(): number {
    return this.plans.size;
  }

  /** Forgets every plan. */
  clear(): void {
    this.plans.clear();
  }

  private remember(key: string, plan: PointGetPlan, capacity: number): void {
    this.plans.delete(key);
    this.plans.set(key, plan);
    while (this.plans.size > Math.max(1, capacity)) {
      this.plans.delete(this.plans.keys().next().value!);
    }
  }

  /** The rows whose handles the keys name, in handle order; undefined: ask the planner. */
  private async byHandle(env: PlanEnv, plan: PointGetPlan, shape: PointGetShape):
    Promise<(readonly Value[])[] | undefined> {
    const pk = plan.table.columns[plan.table.pkHandle!]!;
    const scope = env.scope("where clause");
    const ctx = env.evalContext();
    const found = new Set<bigint>();
    for (const key of shape.conds[0]!.keys) {
      const value = storedKey(pk, evaluate(translate(key, scope), ctx));
      if (value === undefined) return undefined;
      // Handles are the key's values as signed 64-bit integers.
      const handle = value === null ? undefined : integralValue(value);
      if (value !== null && handle === undefined) return undefined;
      if (handle !== undefined) found.add(handle);
    }
    const handles = [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rows = await Promise.all(handles.map((h) => env.getRow(plan.table, h)));
    return rows.filter((row) => row !== null);
  }

  /**
   * The rows of the unique index entries the keys name that satisfy the WHERE, in handle
   * order; undefined: ask the planner.
   */
  private async byUniqueIndex(env: PlanEnv, plan: PointGetPlan,
    access: Extract<PointGetPlan["access"], { kind: "unique" }>, shape: PointGetShape):
    Promise<(readonly Value[])[] | undefined> {
    const readIndex = env.readIndex;
    if (readIndex === undefined) return undefined;
    const table = plan.table;
    const scope = env.scope("where clause");
    const ctx = env.evalContext();
    // One tuple of key values per lookup: the IN list's items, or the equalities'.
    const tuples: Value[][] = [];
    const evaluated = shape.conds.map((c) => c.keys.map((k) => evaluate(translate(k, scope),
      ctx)));
    if (shape.conds.length === 1) {
      for (const value of evaluated[0]!) tuples.push([value]);
    } else {
      tuples.push(evaluated.map((values) => values[0]!));
    }
    const ranges: { start: Uint8Array; end: Uint8Array }[] = [];
    for (const tuple of tuples) {
      const values: Value[] = table.columns.map(() => null);
      let possible = true;
      for (let i = 0; i < tuple.length; i++) {
        const column = table.columns[access.offsets[i]!]!;
        const stored = storedKey(column, tuple[i]!);
        if (stored === undefined) return undefined;
        if (stored === null) possible = false;
        values[access.offsets[i]!] = stored;
      }
      if (!possible) continue;
      const key = indexEntry(table, access.index, { values, handle: 0n }).key;
      ranges.push({ start: key, end: prefixNext(key) });
    }
    const byHandle = new Map<bigint, readonly Value[]>();
    for (const range of ranges) {
      const read = await readIndex.call(env, table, access.index, range);
      read.handles.forEach((h, i) => byHandle.set(h, read.rows[i]!));
    }
    // The index narrows; the WHERE decides, as on the planner's index read.
    const where = translate(shape.where, tableRowScope(scope, table, shape.qualifier));
    return [...byHandle].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, row]) => row)
      .filter((row) => isTrue(evaluate(where, withRow(ctx, row)), ctx.warn) === true);
  }
}
