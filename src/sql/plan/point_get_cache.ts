/**
 * The point-get fast path and its plan cache: a SELECT that reads rows of one table by
 * its clustered integer primary key (`SELECT c FROM t WHERE id = ?`, `… WHERE id IN (?,
 * ?)`, with literals or `?`) skips the planner. TiDB calls these PointGet and
 * BatchPointGet plans and caches them per session; so does this file.
 *
 * `pointGetShape` recognizes the statement from its syntax alone: one base table (no
 * join, partition or index hint), a select list of plain columns or a lone `*`, a WHERE
 * that is `pk = key` or `pk IN (keys…)` with each key a `?` or an integer literal, and no
 * other clause (GROUP BY, HAVING, ORDER BY, LIMIT, DISTINCT, locking, windows, WITH,
 * select options or optimizer hints). Its cache key is the statement's shape with the
 * literal values left out (the digest), plus the current database and the settings that
 * change a statement's meaning (`sql_mode`, `time_zone`, `collation_connection` …, given
 * by the session), so two databases with a table `t` never share a plan. An entry also
 * remembers the schema version it was planned at, and is used only at that version: a
 * plan made before an ALTER is re-planned and replaced after it.
 *
 * A plan holds the result columns (from `describeQuery`, so names and types are exactly
 * the full path's) and, per column, the row offset it reads. Running it evaluates the
 * keys; only whole numbers held exactly (a bound integer, a whole DOUBLE as mysql2 binds
 * JS numbers, an integer literal) take the fast path — anything needing a conversion (a
 * string, a fraction, NULL) goes to the planner, which applies MySQL's comparison rules.
 * Rows come back in handle order, as a range read of the primary key returns them.
 */
import { type Expr, type Value, columnRef, evaluate } from "../../expr/mod.ts";
import type { Expr as AstExpr, SelectQuery, TableExpr } from "../parser/ast.ts";
import type { ColumnDef, SqlValue } from "../wire/session.ts";
import { sqlValueOf, translate } from "../session/to_expr.ts";
import { type ColumnInfo, type TableInfo, fieldTypeOf } from "../catalog/schema.ts";
import { integralValue } from "../table/table.ts";
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
  /** The key column named in WHERE. */
  readonly keyColumn: string;
  /** The keys: `pk = k` has one, `pk IN (…)` one per list item. */
  readonly keys: readonly AstExpr[];
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
  let keyColumn: string | undefined;
  let keys: readonly AstExpr[];
  if (where.kind === "binary" && where.op === "=") {
    const left = names(where.left);
    const right = names(where.right);
    if (left !== undefined && isKey(where.right)) {
      keyColumn = left;
      keys = [where.right];
    } else if (right !== undefined && isKey(where.left)) {
      keyColumn = right;
      keys = [where.left];
    } else {
      return undefined;
    }
  } else if (where.kind === "in" && !where.not && where.list.length > 0 &&
    where.list.every(isKey)) {
    keyColumn = names(where.operand);
    keys = where.list;
  } else {
    return undefined;
  }
  if (keyColumn === undefined) return undefined;
  const digest = [db ?? "", from.name.name.toLowerCase(), qualifier,
    fields === null ? "*" : fields.map((f, i) => `${f.column} ${query.fields[i]!.alias ?? ""}`)
      .join(","),
    where.kind === "in" ? "in" : "=", keyColumn,
    keys.map((k) => (k.kind === "param" ? "?" : "#")).join(","),
    // Field names as written (case, spacing) are the result columns' names.
    query.fields.map((f) => f.alias ?? "").join(",")].join("\u0000");
  return { db, table: from.name.name, qualifier, fields, keyColumn, keys, digest };
}

/** `?` or an unsigned integer literal. */
function isKey(e: AstExpr): boolean {
  return e.kind === "param" || e.kind === "int";
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

/** A column a statement may name: public (not being added or dropped by online DDL). */
function isPublic(column: ColumnInfo): boolean {
  return column.state === undefined || column.state === "public";
}

/**
 * The plan of `shape` on `table`, or undefined when the table's primary key is not the
 * key column or a named column is not there (the planner then answers, errors included).
 */
function planOf(env: PlanEnv, shape: PointGetShape, table: TableInfo, query: SelectQuery,
  fieldTexts: readonly (string | undefined)[] | null,
  describe: DescribeQuery): PointGetPlan | undefined {
  if (table.pkHandle === null) return undefined;
  const pk = table.columns[table.pkHandle]!;
  if (pk.name.toLowerCase() !== shape.keyColumn || !isPublic(pk)) return undefined;
  const offsets: number[] = [];
  if (shape.fields === null) {
    table.columns.forEach((c, offset) => {
      if (isPublic(c)) offsets.push(offset);
    });
  } else {
    for (const field of shape.fields) {
      const offset = table.columns.findIndex((c) =>
        isPublic(c) && c.name.toLowerCase() === field.column);
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
  return { schemaVersion: env.schema.version, table, columns, outputs };
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
}

/** One session's point-get plans, least recently used first. */
export class PointGetCache {
  private readonly plans = new Map<string, PointGetPlan>();

  /**
   * Runs `query` on the fast path when it has the point-get shape; undefined sends it
   * to the planner. `settings` are the session settings a plan depends on, as one text;
   * with `useCache` false a plan is made for this run only (the cache is switched off).
   */
  async tryRun(env: PlanEnv, query: SelectQuery, options: PointGetRunOptions):
    Promise<PointGetOutput | undefined> {
    const shape = pointGetShape(query);
    if (shape === undefined) return undefined;
    const db = shape.db ?? env.database;
    if (db === null) return undefined;
    const table = env.schema.table(db, shape.table);
    if (table === undefined) return undefined;
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
    const pk = plan!.table.columns[plan!.table.pkHandle!]!;
    const handles = this.handles(env, shape.keys, pk.type.kind === "int" && pk.type.unsigned);
    if (handles === undefined) return undefined;
    const rows = await Promise.all(handles.map((h) => env.getRow(plan!.table, h)));
    const base = env.evalContext();
    const out: SqlValue[][] = [];
    for (const row of rows) {
      if (row === null) continue;
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

  /**
   * The distinct handles the keys name, ascending; undefined when a key is not a whole
   * number held exactly (`isExactKey`) or is past BIGINT (the planner converts and
   * compares it).
   */
  private handles(env: PlanEnv, keys: readonly AstExpr[], unsigned: boolean):
    bigint[] | undefined {
    const scope = env.scope("where clause");
    const ctx = env.evalContext();
    const found = new Set<bigint>();
    for (const key of keys) {
      const value: Value = evaluate(translate(key, scope), ctx);
      if (!isExactKey(value)) return undefined;
      const handle = integralValue(value);
      // Outside BIGINT's range: no row has it, but let the planner say so.
      if (handle === undefined) return undefined;
      // A negative key names no row of an unsigned key (its handles are its values).
      if (!(unsigned && handle < 0n)) found.add(handle);
    }
    return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
