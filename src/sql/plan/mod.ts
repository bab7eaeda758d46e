/**
 * The query engine of the SQL node: plans and runs SELECT (joins, subqueries, derived
 * tables, views, CTEs, UNION / INTERSECT / EXCEPT, VALUES) inside a statement's
 * transaction, and the view DDL. See `planner.ts` for the pipeline, `from.ts` for joins,
 * `compile.ts` for subqueries and `scope.ts` for name resolution.
 *
 * `executeQuery` answers a query statement with wire columns and rows; `queryValues`
 * gives the typed values (INSERT … SELECT); `filterWithSubqueries` filters a table's
 * rows by a WHERE holding subqueries (UPDATE and DELETE).
 */
import { type Expr, type FieldType, type Value, nullLiteral, valueConstant }
  from "../../expr/mod.ts";
import type { Expr as AstExpr, Query } from "../parser/ast.ts";
import type { ColumnDef, SqlValue } from "../wire/session.ts";
import { columnOf, sqlValueOf } from "../session/to_expr.ts";
import { selectItemTexts } from "../session/field_names.ts";
import { type ColumnInfo, type IndexInfo, type TableInfo, fieldTypeOf }
  from "../catalog/schema.ts";
import { decodeIndexKey } from "../../codec/mod.ts";
import { decodeRowValue, handleOfIndexValue, handleOfRowKey, rowKey, rowRange }
  from "../table/table.ts";
import type { DmlContext } from "../exec/dml.ts";
import { compile, containsSubquery, evalCompiled, holds } from "./compile.ts";
import { type PlanEnv, type Planned, Planner, type TableRows } from "./planner.ts";
import { type Col, Frame, Scope, layoutOf, noColumns } from "./scope.ts";
import { hasRowId, rowIdCol, withHandle } from "./row_id.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { StatsService } from "../stats/mod.ts";
import { canPushRead, readPushed } from "./pushdown.ts";
import { partitionedEnv } from "./partition_env.ts";

export { containsSubquery } from "./compile.ts";
export { type PlanEnv, Planner } from "./planner.ts";
export { explainQuery } from "./explain.ts";
export { PointGetCache, type PointGetRunOptions, pointGetShape } from "./point_get_cache.ts";
export {
  createView,
  dropDatabaseViews,
  dropViews,
  showCreateView,
  viewsOf,
} from "./views.ts";

/** Rows read per scan request. */
const scanPageRows = 10_000;

/** A virtual table (information_schema) the session can provide. */
export type VirtualTables = (name: string) => { readonly columns: readonly ColumnInfo[];
  readonly rows: readonly (readonly Value[])[] } | undefined;

/** The planner's environment over a DML context (the statement's transaction). */
export function planEnvOf(ctx: DmlContext): PlanEnv {
  // Partitioned tables are read partition by partition (partition_env.ts).
  return partitionedEnv(basePlanEnv(ctx));
}

function basePlanEnv(ctx: DmlContext): PlanEnv {
  const virtualTable: VirtualTables | undefined = ctx.virtualTable === undefined ? undefined
    : (name) => {
      const table = ctx.virtualTable?.({ db: "information_schema", name });
      return table === undefined ? undefined : { columns: table.info.columns, rows: table.rows };
    };
  return {
    schema: ctx.schema,
    database: ctx.database,
    scope: (clause) => ctx.scope(clause),
    evalContext: () => ctx.evalContext(),
    scanTable: (table) => {
      ctx.signal?.throwIfAborted();
      ctx.storage.stats.tableScans++;
      return scanRows(ctx, table, rowRange(table));
    },
    scanTablePages: (table, pageRows) => {
      ctx.storage.stats.tableScans++;
      return scanPages(ctx, table, rowRange(table), pageRows);
    },
    ...(ctx.storage.tmpStorage === undefined ? {}
      : { spillSpace: () => ctx.storage.tmpStorage! }),
    scanRows: (table, range) => {
      ctx.storage.stats.handleRangeScans = (ctx.storage.stats.handleRangeScans ?? 0) + 1;
      return scanRows(ctx, table, range);
    },
    getRow: async (table, handle) => {
      ctx.signal?.throwIfAborted();
      ctx.storage.stats.pointGets++;
      const bytes = await ctx.txn.get(rowKey(table, handle));
      return bytes === null ? null : decodeRowValue(table, bytes);
    },
    getRows: async (table, handles) => {
      ctx.signal?.throwIfAborted();
      ctx.storage.stats.pointGets += handles.length;
      const values = await ctx.txn.batchGet(handles.map((h) => rowKey(table, h)));
      const found = handles.filter((_, k) => values[k] !== null);
      return { handles: found, rows: values.flatMap((bytes) => (bytes === null ? []
        : [decodeRowValue(table, bytes)])) };
    },
    readIndex: (table, index, range) => readIndex(ctx, table, index, range),
    lockRows: async (table, handles) => {
      await ctx.txn.lockKeys(handles.map((h) => rowKey(table, h)));
    },
    tableStats: (table) => StatsService.of(ctx.storage).get(table),
    canPush: (table) => canPushRead(ctx, table),
    pushedRead: (table, ranges, scan, evalCtx) => readPushed(ctx, table, ranges, scan, evalCtx),
    warn: (warning) => ctx.warn?.(warning),
    ...(ctx.warningMark === undefined ? {} : { warningMark: () => ctx.warningMark!() }),
    ...(virtualTable === undefined ? {} : { virtualTable }),
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  };
}

/** The rows whose row keys lie in `range`, in handle order. */
async function scanRows(ctx: DmlContext, table: TableInfo,
  range: { readonly start: Uint8Array; readonly end: Uint8Array }): Promise<TableRows> {
  const handles: bigint[] = [];
  const rows: Value[][] = [];
  let start = range.start;
  for (;;) {
    ctx.signal?.throwIfAborted();
    const page = await ctx.txn.scan(start, range.end, { limit: scanPageRows });
    for (const pair of page) {
      handles.push(handleOfRowKey(pair.key));
      rows.push(decodeRowValue(table, pair.value));
    }
    if (page.length < scanPageRows) return { handles, rows };
    const last = page[page.length - 1]!.key;
    start = Uint8Array.of(...last, 0);
  }
}

/** The rows whose row keys lie in `range`, in handle order, `pageRows()` at a time. */
async function* scanPages(ctx: DmlContext, table: TableInfo,
  range: { readonly start: Uint8Array; readonly end: Uint8Array }, pageRows: () => number):
  AsyncGenerator<TableRows> {
  let start = range.start;
  for (;;) {
    ctx.signal?.throwIfAborted();
    const limit = Math.max(1, pageRows());
    const page = await ctx.txn.scan(start, range.end, { limit });
    const handles: bigint[] = [];
    const rows: Value[][] = [];
    for (const pair of page) {
      handles.push(handleOfRowKey(pair.key));
      rows.push(decodeRowValue(table, pair.value));
    }
    if (rows.length > 0) yield { handles, rows };
    if (page.length < limit) return;
    start = Uint8Array.of(...page[page.length - 1]!.key, 0);
  }
}

/** Rows of `table` whose index entries of `index` lie in `range`, in handle order. */
async function readIndex(ctx: DmlContext, table: TableInfo, index: IndexInfo,
  range: { readonly start: Uint8Array; readonly end: Uint8Array }): Promise<TableRows> {
  ctx.storage.stats.indexRangeScans = (ctx.storage.stats.indexRangeScans ?? 0) + 1;
  const found: bigint[] = [];
  let start = range.start;
  for (;;) {
    ctx.signal?.throwIfAborted();
    const page = await ctx.txn.scan(start, range.end, { limit: scanPageRows });
    for (const pair of page) {
      const key = decodeIndexKey(pair.key, { columnCount: index.columns.length });
      found.push(key.handle ?? handleOfIndexValue(pair.value));
    }
    if (page.length < scanPageRows) break;
    start = Uint8Array.of(...page[page.length - 1]!.key, 0);
  }
  found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  ctx.storage.stats.indexLookupRows = (ctx.storage.stats.indexLookupRows ?? 0) + found.length;
  const handles: bigint[] = [];
  const rows: Value[][] = [];
  for (let i = 0; i < found.length; i += scanPageRows) {
    ctx.signal?.throwIfAborted();
    const chunk = found.slice(i, i + scanPageRows);
    const values = await ctx.txn.batchGet(chunk.map((h) => rowKey(table, h)));
    values.forEach((bytes, k) => {
      if (bytes === null) return;
      handles.push(chunk[k]!);
      rows.push(decodeRowValue(table, bytes));
    });
  }
  return { handles, rows };
}

/** A query's result as the wire sends it. */
export interface QueryOutput {
  readonly columns: ColumnDef[];
  readonly rows: SqlValue[][];
}

/** Plans and runs `query`; `fieldTexts` are the top-level select items as written. */
export async function executeQuery(env: PlanEnv, query: Query,
  fieldTexts: readonly (string | undefined)[] | null): Promise<QueryOutput> {
  const planner = new Planner(env);
  const plan = planner.planQuery(query, new Frame(null), fieldTexts);
  let rows: Value[][];
  try {
    rows = await plan.run();
  } finally {
    planner.releaseMemory();
  }
  const columns = columnsOf(plan);
  return { columns, rows: rows.map((row) =>
    row.map((v, i) => sqlValueOf(v, columns[i]?.type, columns[i]?.length))) };
}

/** The result columns of `query`, from planning alone (a prepared statement's reply). */
export function describeQuery(env: PlanEnv, query: Query,
  fieldTexts: readonly (string | undefined)[] | null): ColumnDef[] {
  const plan = new Planner(env).planQuery(query, new Frame(null), fieldTexts);
  return columnsOf(plan);
}

function columnsOf(plan: Planned): ColumnDef[] {
  return plan.names.map((name, i) => {
    const def = columnOf(name, plan.types[i]!);
    const origin = plan.origins[i];
    return origin === null || origin === undefined ? def : { ...def, table: origin.table,
      orgTable: origin.orgTable, orgName: origin.orgName, schema: origin.db ?? "" };
  });
}

/**
 * The columns of view `db.name` (names and types, from planning `SELECT *` on it), for
 * SHOW COLUMNS / DESCRIBE and information_schema.COLUMNS; undefined when it is no view.
 */
export function viewColumns(env: PlanEnv, db: string, name: string):
  { names: readonly string[]; types: readonly FieldType[] } | undefined {
  if (env.schema.database(db)?.views?.get(name.toLowerCase()) === undefined) return undefined;
  const query: Query = { kind: "select", with: null, orderBy: [], limit: null, hints: null,
    distinct: false, options: [], fields: [{ expr: { kind: "star", table: null }, alias: null }],
    from: [{ kind: "table", name: { db, name }, alias: null, partitions: [], indexHints: [] }],
    where: null, groupBy: [], withRollup: false, having: null, windows: [], lock: null };
  const plan = new Planner(env).planQuery(query, new Frame(null), null);
  return { names: plan.names, types: plan.types };
}

/** Plans and runs `query` to typed values. */
export async function queryValues(env: PlanEnv, query: Query): Promise<{
  names: readonly string[]; types: readonly FieldType[]; rows: Value[][] }> {
  const planner = new Planner(env);
  const plan = planner.planQuery(query, new Frame(null), null);
  try {
    return { names: plan.names, types: plan.types, rows: await plan.run() };
  } finally {
    planner.releaseMemory();
  }
}

/**
 * Which of `rows` (a table's rows, named by `alias`) satisfy `where`, for a WHERE with
 * subqueries (UPDATE, DELETE).
 */
export async function filterWithSubqueries(env: PlanEnv, table: TableInfo, alias: string,
  rows: readonly { readonly values: readonly Value[]; readonly handle: bigint }[],
  where: AstExpr): Promise<boolean[]> {
  const planner = new Planner(env);
  const cols: Col[] = table.columns.map((c) => ({ qual: alias, db: null, name: c.name,
    type: fieldTypeOf(c), orgTable: table.name, orgName: c.name, hidden: false }));
  // `_tidb_rowid` (row_id.ts) reads the row's handle.
  const rowId = hasRowId(table);
  if (rowId) cols.push(rowIdCol({ qual: alias, db: null, orgTable: table.name }));
  const layout = layoutOf(cols);
  const compiled = compile(where, new Scope(layout, "where clause", new Frame(null)), planner);
  const ctx = env.evalContext();
  const keep: boolean[] = [];
  for (const row of rows) {
    keep.push(await holds(compiled, rowId ? withHandle(row.values, row.handle) : row.values,
      ctx));
  }
  return keep;
}

/**
 * The select items of `query`'s first SELECT as written in `text` (they name the result
 * columns), or null when they cannot be found.
 */
export function queryItemTexts(text: string, query: Query): (string | undefined)[] | null {
  let q: Query = query;
  while (q.kind !== "select") {
    if (q.kind === "values") return null;
    q = q.kind === "setOp" ? q.left : q.query;
  }
  if (q.with !== null || query.with !== null) return null;
  return selectItemTexts(text, q.fields.length) ?? null;
}

/**
 * Replaces the subqueries of `ast` (one of an INSERT's values, an UPDATE's SET value) by
 * their values, computed once for the statement: `?` placeholders numbered from
 * `firstParam`, with the constants to bind them to. A subquery reading the row being
 * written (correlated) is 1235.
 */
export async function bindSubqueries(env: PlanEnv, ast: AstExpr, firstParam: number):
  Promise<{ ast: AstExpr; params: Expr[] }> {
  const planner = new Planner(env);
  const ctx = env.evalContext();
  const params: Expr[] = [];
  const found: { node: AstExpr; index: number }[] = [];
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n === null || typeof n !== "object") return n;
    const e = n as AstExpr;
    if (containsSubquery(e) && (e.kind === "subquery" || e.kind === "exists" ||
      e.kind === "inSubquery" || e.kind === "compareSubquery")) {
      const index = firstParam + found.length;
      found.push({ node: e, index });
      return { kind: "param", index };
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
  };
  const rewritten = walk(ast) as AstExpr;
  for (const { node } of found) {
    let compiled;
    try {
      compiled = compile(node, new Scope(noColumns, "field list", new Frame(null)), planner);
    } catch (error: unknown) {
      if (error instanceof MySqlError && error.errno === ER.BAD_FIELD_ERROR.errno) {
        throw mysqlError(ER.NOT_SUPPORTED_YET, ["subqueries reading the row being written"]);
      }
      throw error;
    }
    params.push(valueConstant(await evalCompiled(compiled, [], ctx)));
  }
  return { ast: rewritten, params };
}

/**
 * `bindSubqueries` over several expressions of one statement (an UPDATE's SET values):
 * the rewritten expressions and the statement's parameters (`params`, of which there are
 * `paramCount`) followed by the subqueries' values.
 */
export async function bindAllSubqueries(env: PlanEnv, asts: readonly AstExpr[],
  params: readonly Expr[] | null, paramCount: number):
  Promise<{ asts: AstExpr[]; params: readonly Expr[] | null }> {
  if (!containsSubquery(asts)) return { asts: [...asts], params };
  const all: Expr[] = Array.from({ length: paramCount }, (_, i) => params?.[i] ?? nullLiteral());
  const out: AstExpr[] = [];
  for (const ast of asts) {
    const bound = await bindSubqueries(env, ast, all.length);
    all.push(...bound.params);
    out.push(bound.ast);
  }
  return { asts: out, params: all };
}

/** The value of a constant expression holding subqueries (an INSERT's VALUES item). */
export async function evaluateWithSubqueries(env: PlanEnv, ast: AstExpr): Promise<Value> {
  const compiled = compile(ast, new Scope(noColumns, "field list", new Frame(null)),
    new Planner(env));
  return evalCompiled(compiled, [], env.evalContext());
}

/** Whether a WHERE needs the query engine (it holds a subquery). */
export function needsEngine(where: AstExpr | null): boolean {
  return where !== null && containsSubquery(where);
}

export { refuseRowIdTarget, rowIdRef, withHandle } from "./row_id.ts";
export { limitCount } from "./limit_value.ts";
