/**
 * Single-table INSERT, UPDATE and DELETE inside one transaction (SELECT, and the source
 * of INSERT … SELECT, run in the query engine, src/sql/plan).
 *
 * Plans are fixed shapes, no optimizer yet: a WHERE with a conjunct `pk = constant` on a
 * clustered integer primary key is a point get (one `get`, counted in
 * `ExecStats.pointGets`); anything else scans the table's rows in pages and filters them
 * with `expr` (WHERE evaluated against each row through `column` nodes); a WHERE with a
 * subquery is filtered by the query engine. INSERT … SELECT reads its whole source before
 * buffering a write.
 *
 * Each DML statement computes all its checks (NOT NULL, types, duplicate keys) before it
 * buffers any write, so a failing statement leaves its transaction as it found it.
 * Writes use `set`/`delete` and presence checks at the transaction's snapshot; two
 * transactions inserting the same key conflict at commit (optimistic, first committer
 * wins), which the session reports as the retryable 9007.
 */
import type { Transaction } from "../../client/mod.ts";
import {
  type EvalContext,
  type Expr,
  type Value,
  compareForSort,
  evaluate,
  isTrue,
  toText,
  typeCollation,
} from "../../expr/mod.ts";
import type {
  Assignment,
  Expr as AstExpr,
  DeleteStatement,
  InsertStatement,
  Limit,
  OrderItem,
  SelectQuery,
  TableExpr,
  UpdateStatement,
} from "../parser/ast.ts";
import { parseExpression } from "../parser/parse.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { type TranslateScope, countParams, tableRowScope, translate }
  from "../session/to_expr.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import type { TableInfo } from "../catalog/schema.ts";
import {
  decodeRowValue,
  handleOf,
  integralValue,
  rowKey,
  rowRange,
  storeValue,
} from "../table/table.ts";
import type { SqlStorage } from "./storage.ts";
import { stateOf } from "../table/index_writes.ts";
import { touchOnUpdateColumns } from "../table/typed_store.ts";
import { utcDefaultValue } from "../table/timestamp_default.ts";
import { implicitDefault, storeValueFor, writeEvalContext } from "./write_convert.ts";
import { type AutoIdContext, autoRandomColumn, fillAutoRandom, newRowId } from "./auto_ids.ts";
import { onDuplicateUpdater } from "./write_on_duplicate.ts";
import { partitionRows, statementPartitions } from "./partition_rows.ts";
import { partitionPositions } from "../catalog/partition.ts";
import { bindAllSubqueries, containsSubquery, evaluateWithSubqueries, filterWithSubqueries,
  limitCount, planEnvOf, queryValues, refuseRowIdTarget, rowIdRef, withHandle }
  from "../plan/mod.ts";
import {
  type NewRow,
  type RowChange,
  type WriteContext,
  deleteRowsOf,
  insertRows,
  updateRows,
} from "./write_statements.ts";

/** Rows read per scan request. */
const scanPageRows = 10_000;
const aggregateNames = new Set(["count", "sum", "avg", "min", "max", "bit_and", "bit_or",
  "bit_xor", "std", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
  "json_arrayagg", "json_objectagg"]);

/** What a statement runs with, provided by the session. */
export interface DmlContext {
  readonly storage: SqlStorage;
  readonly txn: Transaction;
  readonly schema: InfoSchema;
  readonly database: string | null;
  /** The session's scope for a clause (variables, parameters; no columns). */
  scope(clause: string): TranslateScope;
  evalContext(): EvalContext;
  setLastInsertId(id: bigint): void;
  /** Records a warning of the statement (INSERT IGNORE's 1062 …); absent: dropped. */
  warn?(warning: MySqlError): void;
  /** Marks the warnings so far; the function returned drops those raised since. */
  warningMark?(): () => void;
  /** `@@foreign_key_checks`; absent: on. */
  readonly foreignKeyChecks?: boolean;
  /** CLIENT_FOUND_ROWS: affected rows count matched, not changed, rows; absent: off. */
  readonly foundRows?: boolean;
  /**
   * sql_mode has STRICT_TRANS_TABLES or STRICT_ALL_TABLES: a value a column cannot hold
   * fails the statement; otherwise it is converted with a warning. Absent: strict.
   */
  readonly strictMode?: boolean;
  /**
   * Strict sql_mode with ERROR_FOR_DIVISION_BY_ZERO: division by zero in a value written
   * fails with 1365 (outside IGNORE). Absent: a warning.
   */
  readonly divisionByZeroIsError?: boolean;
  /** TiDB's `@@allow_auto_random_explicit_insert`; absent: off. */
  readonly allowAutoRandomExplicitInsert?: boolean;
  /** Aborted by `KILL QUERY` / `KILL`: reads stop at their next request (1317). */
  readonly signal?: AbortSignal;
  /**
   * A virtual table (`information_schema.X`) with its rows, or undefined when `name` is a
   * stored table; see src/sql/infoschema.
   */
  virtualTable?(name: { readonly db: string | null; readonly name: string }):
    { readonly info: TableInfo; readonly rows: readonly (readonly Value[])[] } | undefined;
}

interface Row {
  readonly handle: bigint;
  readonly values: Value[];
}

/** Resolves `db.name` against the schema: 1046, 1146. */
export function resolveTable(ctx: { readonly schema: InfoSchema; readonly database: string | null },
  name: { readonly db: string | null; readonly name: string }): TableInfo {
  const db = name.db ?? ctx.database;
  if (db === null) throw mysqlError(ER.NO_DB_ERROR);
  const table = ctx.schema.table(db, name.name);
  if (table === undefined) throw mysqlError(ER.NO_SUCH_TABLE, [db, name.name]);
  return table;
}

function singleTable(from: readonly TableExpr[]): { name: { db: string | null; name: string };
  alias: string | null; partitions: readonly string[] } {
  const only = from.length === 1 ? from[0]! : undefined;
  if (only === undefined || only.kind !== "table") {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["joins, derived tables and multi-table statements"]);
  }
  return { name: only.name, alias: only.alias, partitions: only.partitions };
}

/** A scope resolving the table's columns to `column` nodes at their offsets. */
function rowScope(ctx: DmlContext, table: TableInfo, alias: string, clause: string):
  TranslateScope {
  return tableRowScope(ctx.scope(clause), table, alias);
}

function rowContext(ctx: DmlContext, row: readonly Value[]): EvalContext {
  return { ...ctx.evalContext(), row };
}

function matches(where: Expr | null, ctx: EvalContext): boolean {
  return where === null || isTrue(evaluate(where, ctx), ctx.warn) === true;
}

function conjuncts(e: AstExpr): AstExpr[] {
  return e.kind === "binary" && e.op === "AND" ? [...conjuncts(e.left), ...conjuncts(e.right)]
    : [e];
}

function isColumnOf(e: AstExpr, table: TableInfo, alias: string, offset: number): boolean {
  return e.kind === "column" && e.db === null &&
    (e.table === null || e.table.toLowerCase() === alias.toLowerCase()) &&
    e.column.toLowerCase() === table.columns[offset]!.name.toLowerCase();
}

function hasColumns(node: unknown): boolean {
  if (node === null || typeof node !== "object") return false;
  if ((node as { kind?: unknown }).kind === "column") return true;
  return Object.values(node).some(hasColumns);
}

/** The handle a WHERE pins with `pk = constant`, or undefined when it does not. */
function pointHandle(ctx: DmlContext, table: TableInfo, alias: string, where: AstExpr | null):
  bigint | undefined {
  if (where === null) return undefined;
  // The clustered integer key, or else the hidden `_tidb_rowid`, is the handle.
  const pk = table.pkHandle;
  const isHandle = (e: AstExpr): boolean => (pk !== null ? isColumnOf(e, table, alias, pk)
    : e.kind === "column" && e.db === null &&
      rowIdRef(table, alias, e.column, e.table) !== undefined);
  for (const c of conjuncts(where)) {
    if (c.kind !== "binary" || c.op !== "=") continue;
    const other = isHandle(c.left) ? c.right : isHandle(c.right) ? c.left : undefined;
    if (other === undefined || hasColumns(other)) continue;
    const value = evaluate(translate(other, ctx.scope("where clause")), ctx.evalContext());
    const handle = integralValue(value);
    if (handle !== undefined) return handle;
  }
  return undefined;
}

/** Rows of `table` that may match `where` (a point get or a full scan). */
async function candidateRows(ctx: DmlContext, table: TableInfo, alias: string,
  where: AstExpr | null, partitions: readonly string[] = []): Promise<Row[]> {
  if (table.partition !== undefined || partitions.length > 0) {
    // The partitions the statement names and its WHERE can match (partition_rows.ts).
    return partitionRows(ctx, table, statementPartitions(ctx, table, alias, where, partitions),
      pointHandle(ctx, table, alias, where));
  }
  const handle = pointHandle(ctx, table, alias, where);
  if (handle !== undefined) {
    ctx.storage.stats.pointGets++;
    const bytes = await ctx.txn.get(rowKey(table, handle));
    return bytes === null ? [] : [{ handle, values: decodeRowValue(table, bytes) }];
  }
  ctx.storage.stats.tableScans++;
  const rows: Row[] = [];
  const range = rowRange(table);
  let start = range.start;
  for (;;) {
    const page = await ctx.txn.scan(start, range.end, { limit: scanPageRows });
    for (const pair of page) {
      const view = new DataView(pair.key.buffer, pair.key.byteOffset + pair.key.length - 8, 8);
      const handle = BigInt.asIntN(64, view.getBigUint64(0) ^ (1n << 63n));
      rows.push({ handle, values: decodeRowValue(table, pair.value) });
    }
    if (page.length < scanPageRows) return rows;
    const last = page[page.length - 1]!.key;
    start = Uint8Array.of(...last, 0);
  }
}

/** Candidate rows filtered by WHERE. */
async function matchingRows(ctx: DmlContext, table: TableInfo, alias: string,
  whereAst: AstExpr | null, partitions: readonly string[] = []): Promise<Row[]> {
  if (whereAst !== null && containsSubquery(whereAst)) {
    // Subqueries run in the query engine (src/sql/plan), before any write is buffered.
    const all = await candidateRows(ctx, table, alias, null, partitions);
    const keep = await filterWithSubqueries(planEnvOf(ctx), table, alias, all, whereAst);
    return all.filter((_, i) => keep[i]);
  }
  const scope = rowScope(ctx, table, alias, "where clause");
  let rowIdUsed = false; // `_tidb_rowid` is read from the row's handle
  const where = whereAst === null ? null : translate(whereAst, { ...scope,
    column: (name, qual) => {
      const found = scope.column?.(name, qual);
      if (found !== undefined) return found;
      const ref = rowIdRef(table, alias, name, qual);
      rowIdUsed ||= ref !== undefined;
      return ref;
    } });
  const rows = await candidateRows(ctx, table, alias, whereAst, partitions);
  return rows.filter((row) => matches(where, rowContext(ctx,
    rowIdUsed ? withHandle(row.values, row.handle) : row.values)));
}

// ---- SELECT ------------------------------------------------------------------------------
// SELECT runs in the query engine (src/sql/plan); what is left here serves the writes.

function groupKey(values: readonly Value[]): string {
  return values.map((v) => (v === null ? "\u0000" : `${v.kind}:${toText(v)}`)).join("\u0001");
}

/** Whether `node` calls an aggregate function outside any subquery. */
function callsAggregate(node: unknown): boolean {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some(callsAggregate);
  const e = node as AstExpr;
  // Window functions and GROUP_CONCAT also need the query engine.
  if (e.kind === "func" && (aggregateNames.has(e.name) || e.over !== null)) return true;
  if (e.kind === "groupConcat") return true;
  if (e.kind === "subquery" || e.kind === "exists") return false;
  if (e.kind === "inSubquery" || e.kind === "compareSubquery") return callsAggregate(e.operand);
  return Object.values(node).some(callsAggregate);
}

/** Whether a SELECT's fields, HAVING or ORDER BY call an aggregate function. */
export function hasAggregates(query: SelectQuery): boolean {
  return query.fields.some((f) => callsAggregate(f.expr)) ||
    (query.having !== null && callsAggregate(query.having)) ||
    query.orderBy.some((o) => callsAggregate(o.expr));
}

function limitOf(ctx: DmlContext, limit: { readonly count: AstExpr;
  readonly offset: AstExpr | null }): { count: bigint; offset: bigint } {
  const value = (e: AstExpr): bigint => {
    return limitCount(evaluate(translate(e, ctx.scope("LIMIT")), ctx.evalContext()));
  };
  return { count: value(limit.count), offset: limit.offset === null ? 0n : value(limit.offset) };
}

// ---- writes ------------------------------------------------------------------------------
// Rows are computed here; checking and writing them (unique keys, CHECK, foreign keys,
// IGNORE / REPLACE / ON DUPLICATE KEY UPDATE) is write_statements.ts.

/** The write half's context, from the session's. */
function writeContext(ctx: DmlContext): WriteContext {
  return {
    txn: ctx.txn,
    schema: ctx.schema,
    foreignKeyChecks: ctx.foreignKeyChecks ?? true,
    foundRows: ctx.foundRows ?? false,
    scope: (clause) => ctx.scope(clause),
    evalContext: () => ctx.evalContext(),
    warn: (warning) => ctx.warn?.(warning),
  };
}

function defaultValue(ctx: DmlContext, table: TableInfo, offset: number, row: number): Value {
  const column = table.columns[offset]!;
  if (column.defaultText === null) {
    if (column.nullable || column.autoIncrement || column.autoRandom !== undefined) return null;
    throw mysqlError(ER.NO_DEFAULT_FOR_FIELD, [column.name]);
  }
  const utc = utcDefaultValue(column); // a TIMESTAMP's instant, kept in UTC
  if (utc !== undefined) return storeValue(utc, { column, row }, ctx.evalContext());
  const parsed = parseExpression(column.defaultText);
  if (parsed.kind === "error") throw new Error(`bad stored default ${column.defaultText}`);
  const value = evaluate(translate(parsed.expr, ctx.scope("field list")), ctx.evalContext());
  return storeValue(value, { column, row }, ctx.evalContext());
}

/**
 * The rows an UPDATE or DELETE acts on, in its ORDER BY (stable: ties keep handle order)
 * and cut to its LIMIT — rows are written one at a time, so the order matters
 * (`UPDATE t SET k = k + 1 ORDER BY k DESC` on a unique k).
 */
function orderAndLimit(ctx: DmlContext, target: { readonly table: TableInfo;
  readonly alias: string }, statement: { readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null }, rows: Row[]): Row[] {
  let out = rows;
  if (statement.orderBy.length > 0) {
    const scope = rowScope(ctx, target.table, target.alias, "order clause");
    const keys = statement.orderBy.map((item) => ({ expr: translate(item.expr, scope),
      desc: item.desc }));
    const warn = ctx.evalContext().warn;
    const keyed = out.map((row) => ({ row, values: keys.map((k) =>
      evaluate(k.expr, rowContext(ctx, row.values))) }));
    keyed.sort((x, y) => {
      for (let i = 0; i < keys.length; i++) {
        const a = x.values[i]!;
        const b = y.values[i]!;
        let order = a === null ? (b === null ? 0 : -1) : b === null ? 1
          : compareForSort(a, b, { warn, collation: typeCollation(keys[i]!.expr.type) }) ?? 0;
        if (keys[i]!.desc) order = -order;
        if (order !== 0) return order;
      }
      return 0;
    });
    out = keyed.map((k) => k.row);
  }
  if (statement.limit !== null) out = out.slice(0, Number(limitOf(ctx, statement.limit).count));
  return out;
}

/** What an INSERT reports: affected rows, the OK packet's insert id, and its info counts. */
export interface InsertResult {
  readonly affectedRows: number;
  readonly lastInsertId: bigint;
  readonly records: number;
  readonly duplicates: number;
}

export async function insert(ctx: DmlContext, statement: InsertStatement):
  Promise<InsertResult> {
  const table = resolveTable(ctx, statement.table);
  // Columns an online DDL is adding or dropping are not the user's to name or list.
  const visible = table.columns.filter((c) => stateOf(c) === "public");
  const offsets = (names: readonly string[]): number[] => names.map((name) => {
    const c = visible.find((col) => col.name.toLowerCase() === name.toLowerCase());
    if (c === undefined) refuseRowIdTarget(table, name);
    if (c === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [name, "field list"]);
    return c.offset;
  });
  let targets: number[];
  // A source is an expression to evaluate (VALUES, SET) or a value a SELECT produced.
  let sources: (readonly (AstExpr | { readonly kind: "value"; readonly value: Value })[])[];
  switch (statement.source.kind) {
    case "values":
      targets = statement.columns === null ? visible.map((c) => c.offset)
        : offsets(statement.columns);
      sources = statement.source.rows.map((r) => r.length === 0 && statement.columns === null
        ? targets.map((): AstExpr => ({ kind: "default" })) : r);
      break;
    case "set":
      targets = offsets(statement.source.assignments.map((a) => a.column.column));
      sources = [statement.source.assignments.map((a) => a.value)];
      break;
    case "query": {
      const query = statement.source.query;
      targets = statement.columns === null ? visible.map((c) => c.offset)
        : offsets(statement.columns);
      // The whole source is read before any write is buffered, so a statement whose
      // source is its own target sees the rows as they were when it started.
      const result = await queryValues(planEnvOf(ctx), query);
      if (result.names.length !== targets.length) {
        throw mysqlError(ER.WRONG_VALUE_COUNT_ON_ROW, [1]);
      }
      sources = result.rows.map((row) => row.map((value) => ({ kind: "value", value })));
      break;
    }
  }
  if (statement.source.kind !== "query" && containsSubquery(sources)) {
    // Subqueries in VALUES / SET run in the query engine, before any write is buffered.
    const env = planEnvOf(ctx);
    const evaluated: typeof sources = [];
    for (const row of sources) {
      const out: (typeof row)[number][] = [];
      for (const item of row) {
        out.push(item.kind !== "value" && containsSubquery(item)
          ? { kind: "value", value: await evaluateWithSubqueries(env, item) } : item);
      }
      evaluated.push(out);
    }
    sources = evaluated;
  }
  const write = writeContext(ctx);
  // LAST_INSERT_ID(expr) in the statement makes the OK packet carry its value.
  let lastInsertIdArg: bigint | null = null;
  const evalContext = (): EvalContext => {
    const base = writeEvalContext(ctx.evalContext(),
      !statement.ignore && ctx.divisionByZeroIsError === true);
    return { ...base, setLastInsertId: (id) => {
      base.setLastInsertId(id);
      lastInsertIdArg = id;
    } };
  };
  // Conversion errors are warnings under IGNORE and in non-strict sql_mode; there NULL
  // into NOT NULL stays an error for a single-row INSERT, as MySQL has it.
  const strict = !statement.ignore && ctx.strictMode !== false;
  const nullIsError = !statement.ignore && statement.source.kind !== "query" &&
    sources.length === 1;
  const autoColumn = table.columns.find((c) => c.autoIncrement);
  const randomColumn = autoRandomColumn(table);
  const ids: AutoIdContext = { autoIds: ctx.storage.autoIds, startTs: ctx.txn.startTs,
    allowExplicit: ctx.allowAutoRandomExplicitInsert ?? false };
  const rows: NewRow[] = [];
  for (let r = 0; r < sources.length; r++) {
    const source = sources[r]!;
    if (source.length !== targets.length) {
      throw mysqlError(ER.WRONG_VALUE_COUNT_ON_ROW, [r + 1]);
    }
    const given = new Map<number, (typeof source)[number]>();
    targets.forEach((o, i) => given.set(o, source[i]!));
    const warnings: MySqlError[] = [];
    const values: Value[] = table.columns.map((column) => {
      const ast = given.get(column.offset);
      if (ast === undefined && stateOf(column) !== "public") {
        // A column being added gets its default; one being dropped, anything valid.
        return column.defaultText === null && !column.nullable ? implicitDefault(column)
          : defaultValue(ctx, table, column.offset, r + 1);
      }
      if (ast === undefined || ast.kind === "default") {
        try {
          return defaultValue(ctx, table, column.offset, r + 1);
        } catch (error: unknown) {
          // IGNORE: a NOT NULL column without a default gets its type's zero (1364 warns).
          if (strict || !(error instanceof MySqlError) ||
            error.errno !== ER.NO_DEFAULT_FOR_FIELD.errno) throw error;
          warnings.push(error);
          return implicitDefault(column);
        }
      }
      const value = ast.kind === "value" ? ast.value
        : evaluate(translate(ast, ctx.scope("field list")), evalContext());
      if (value === null && (column.autoIncrement || column.autoRandom !== undefined)) {
        return null;
      }
      return storeValueFor(value, { column, row: r + 1 },
        { ctx: ctx.evalContext(), strict, nullIsError, warn: (w) => warnings.push(w) });
    });
    let generatedId: bigint | null = null;
    if (autoColumn !== undefined) {
      const v = values[autoColumn.offset] ?? null;
      const n = v === null ? 0n : v.kind === "int" || v.kind === "uint" ? v.value : 0n;
      if (n === 0n) {
        generatedId = await ctx.storage.autoIds.next(table.id);
        values[autoColumn.offset] = storeValue({ kind: "int", value: generatedId },
          { column: autoColumn, row: r + 1 }, ctx.evalContext());
      } else {
        await ctx.storage.autoIds.rebase(table.id, n);
      }
    }
    if (randomColumn !== undefined) {
      generatedId = await fillAutoRandom(ids, table, randomColumn, values);
    }
    const handle = table.pkHandle !== null ? handleOf(values[table.pkHandle] ?? null)
      : await newRowId(ids, table);
    rows.push({ handle, values, generatedId, warnings });
  }
  const onDuplicate = statement.onDuplicate.length === 0 ? null
    : onDuplicateUpdater({ table, rowAlias: statement.rowAlias ?? null, targets, strict,
      scope: (clause) => ctx.scope(clause), evalContext, warn: write.warn,
      defaultOf: (offset, row) => defaultValue(ctx, table, offset, row) },
    statement.onDuplicate);
  const outcome = await insertRows(write, table, rows, { ignore: statement.ignore,
    replace: statement.replace, onDuplicate, ...(statement.partitions.length === 0 ? {}
      : { partitions: partitionPositions(table, statement.partitions) }) });
  if (outcome.firstGeneratedId !== null) ctx.setLastInsertId(outcome.firstGeneratedId);
  // MySQL's OK packet: the first generated id, else LAST_INSERT_ID(expr)'s value, else
  // the auto-increment value of the last row written.
  let lastInsertId = outcome.firstGeneratedId ?? lastInsertIdArg ?? 0n;
  if (outcome.firstGeneratedId === null && lastInsertIdArg === null &&
    autoColumn !== undefined && outcome.lastWritten !== null) {
    const v = outcome.lastWritten.values[autoColumn.offset] ?? null;
    lastInsertId = v !== null && (v.kind === "int" || v.kind === "uint") ? v.value : 0n;
  }
  return { affectedRows: outcome.affectedRows, lastInsertId, records: outcome.records,
    duplicates: outcome.duplicates };
}

export async function update(ctx: DmlContext, statement: UpdateStatement):
  Promise<{ matched: number; changed: number }> {
  const from = singleTable(statement.tables);
  const table = resolveTable(ctx, from.name);
  const alias = from.alias ?? table.name;
  const base = rowScope(ctx, table, alias, "field list");
  // Subqueries in SET values run once in the query engine and bind as parameters.
  const bound = await bindAllSubqueries(planEnvOf(ctx), statement.set.map((a) => a.value),
    base.params, countParams(statement));
  const scope: TranslateScope = { ...base, params: bound.params };
  const write = writeContext(ctx);
  const sets = statement.set.map((a: Assignment, i) => {
    if (a.column.table !== null && a.column.table.toLowerCase() !== alias.toLowerCase()) {
      throw mysqlError(ER.BAD_FIELD_ERROR, [`${a.column.table}.${a.column.column}`,
        "field list"]);
    }
    const c = table.columns.find((col) => stateOf(col) === "public" &&
      col.name.toLowerCase() === a.column.column.toLowerCase());
    if (c === undefined) refuseRowIdTarget(table, a.column.column);
    if (c === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [a.column.column, "field list"]);
    const value = bound.asts[i]!;
    return { column: c, value: value.kind === "default" ? null : translate(value, scope) };
  });
  const rows = orderAndLimit(ctx, { table, alias }, statement,
    await matchingRows(ctx, table, alias, statement.where, from.partitions));
  const assigned = new Set(sets.map((set) => set.column.offset));
  /** The new image of `old` (row `rowNumber` of the statement), null when unchanged. */
  const compute = (old: Row, rowNumber: number): Row | null => {
    const values = [...old.values];
    for (const set of sets) {
      const value = set.value === null ? defaultValue(ctx, table, set.column.offset, rowNumber)
        : evaluate(set.value, { ...writeEvalContext(ctx.evalContext(),
          !statement.ignore && ctx.divisionByZeroIsError === true), row: values });
      values[set.column.offset] = storeValueFor(value, { column: set.column, row: rowNumber },
        { ctx: ctx.evalContext(), strict: !statement.ignore && ctx.strictMode !== false,
          warn: write.warn });
    }
    const same = values.every((v, k) => groupKey([v]) === groupKey([old.values[k] ?? null]));
    if (same) return null;
    touchOnUpdateColumns(table.columns, values, assigned, ctx.evalContext());
    const handle = table.pkHandle === null ? old.handle : handleOf(values[table.pkHandle] ?? null);
    return { handle, values };
  };
  const changes: RowChange[] = [];
  const rowNumbers: number[] = [];
  rows.forEach((old, i) => {
    const after = compute(old, i + 1);
    if (after === null) return;
    changes.push({ before: old, after });
    rowNumbers.push(i + 1);
  });
  const changed = await updateRows(write, table, changes, { ignore: statement.ignore,
    ...(from.partitions.length === 0 ? {}
      : { partitions: partitionPositions(table, from.partitions) }),
    recompute: (current, k) => compute({ handle: current.handle, values: [...current.values] },
      rowNumbers[k]!) });
  return { matched: rows.length, changed };
}

export async function deleteRows(ctx: DmlContext, statement: DeleteStatement):
  Promise<number> {
  if (statement.targets.length > 0) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["multi-table DELETE"]);
  }
  const from = singleTable(statement.from);
  const table = resolveTable(ctx, from.name);
  const alias = from.alias ?? table.name;
  const rows = orderAndLimit(ctx, { table, alias }, statement,
    await matchingRows(ctx, table, alias, statement.where, from.partitions));
  return deleteRowsOf(writeContext(ctx), table, rows, { ignore: statement.ignore });
}
