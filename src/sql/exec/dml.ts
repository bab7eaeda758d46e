/**
 * Single-table SELECT, INSERT, UPDATE and DELETE inside one transaction.
 *
 * Plans are fixed shapes, no optimizer yet: a WHERE with a conjunct `pk = constant` on a
 * clustered integer primary key is a point get (one `get`, counted in
 * `ExecStats.pointGets`); anything else scans the table's rows in pages and filters them
 * with `expr` (WHERE evaluated against each row through `column` nodes). Aggregates
 * (COUNT/SUM/AVG/MIN/MAX, with or without GROUP BY and HAVING), ORDER BY, DISTINCT and
 * LIMIT run in memory over the filtered rows. A SELECT without FROM reads one implicit
 * row with no columns. INSERT … SELECT reads its whole source before buffering a write.
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
  type FieldType,
  type Value,
  columnRef,
  compareValues,
  decimalType,
  doubleType,
  evaluate,
  intType,
  isTrue,
  toDouble,
  toText,
} from "../../expr/mod.ts";
import type {
  Assignment,
  Expr as AstExpr,
  DeleteStatement,
  InsertStatement,
  SelectQuery,
  TableExpr,
  UpdateStatement,
} from "../parser/ast.ts";
import { formatExpr } from "../parser/format.ts";
import { parseExpression } from "../parser/parse.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { ColumnDef, SqlValue } from "../wire/session.ts";
import { type TranslateScope, columnOf, sqlValueOf, translate } from "../session/to_expr.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import { type TableInfo, fieldTypeOf } from "../catalog/schema.ts";
import {
  decodeRowValue,
  duplicateText,
  encodeRowValue,
  handleOf,
  indexEntry,
  rowKey,
  rowRange,
  storeValue,
} from "../table/table.ts";
import type { SqlStorage } from "./storage.ts";

/** Rows read per scan request. */
const scanPageRows = 10_000;
/** The qualifier that marks an aggregate's slot in a rewritten expression. */
const aggQualifier = "\u0000agg";
const aggregateNames = new Set(["count", "sum", "avg", "min", "max"]);

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
  alias: string | null } {
  const only = from.length === 1 ? from[0]! : undefined;
  if (only === undefined || only.kind !== "table") {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["joins, derived tables and multi-table statements"]);
  }
  return { name: only.name, alias: only.alias };
}

/** A scope resolving the table's columns to `column` nodes at their offsets. */
function rowScope(ctx: DmlContext, table: TableInfo, alias: string, clause: string):
  TranslateScope {
  return {
    ...ctx.scope(clause),
    column: (name, qualifier) => {
      if (qualifier !== null && qualifier.toLowerCase() !== alias.toLowerCase()) return undefined;
      const column = table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
      return column === undefined ? undefined
        : columnRef(column.offset, column.name, fieldTypeOf(column));
    },
  };
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

/**
 * `value` as an int64 when it is exactly one (a client may bind `2` as a DOUBLE or a
 * string); comparing an integer column with it is then plain equality.
 */
function integralValue(value: Value): bigint | undefined {
  if (value === null) return undefined;
  let n: bigint | undefined;
  switch (value.kind) {
    case "int":
    case "uint":
      n = value.value;
      break;
    case "double":
      n = Number.isInteger(value.value) ? BigInt(value.value) : undefined;
      break;
    case "decimal":
      n = value.unscaled % 10n ** BigInt(value.scale) === 0n
        ? value.unscaled / 10n ** BigInt(value.scale) : undefined;
      break;
    case "string":
      n = /^-?\d{1,19}$/.test(value.value) ? BigInt(value.value) : undefined;
      break;
    default:
      n = undefined;
  }
  return n !== undefined && n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** The handle a WHERE pins with `pk = constant`, or undefined when it does not. */
function pointHandle(ctx: DmlContext, table: TableInfo, alias: string, where: AstExpr | null):
  bigint | undefined {
  if (where === null || table.pkHandle === null) return undefined;
  for (const c of conjuncts(where)) {
    if (c.kind !== "binary" || c.op !== "=") continue;
    const other = isColumnOf(c.left, table, alias, table.pkHandle) ? c.right
      : isColumnOf(c.right, table, alias, table.pkHandle) ? c.left : undefined;
    if (other === undefined || hasColumns(other)) continue;
    const value = evaluate(translate(other, ctx.scope("where clause")), ctx.evalContext());
    const handle = integralValue(value);
    if (handle !== undefined) return handle;
  }
  return undefined;
}

/** Rows of `table` that may match `where` (a point get or a full scan). */
async function candidateRows(ctx: DmlContext, table: TableInfo, alias: string,
  where: AstExpr | null): Promise<Row[]> {
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
  whereAst: AstExpr | null): Promise<Row[]> {
  const where = whereAst === null ? null
    : translate(whereAst, rowScope(ctx, table, alias, "where clause"));
  const rows = await candidateRows(ctx, table, alias, whereAst);
  return rows.filter((row) => matches(where, rowContext(ctx, row.values)));
}

// ---- SELECT ------------------------------------------------------------------------------

interface AggSpec {
  readonly name: string;
  readonly arg: Expr | null;
  readonly distinct: boolean;
  readonly type: FieldType;
  readonly text: string;
}

/** Replaces aggregate calls in `node` by slot references, collecting them in `out`. */
function extractAggregates(node: AstExpr, out: AstExpr[]): AstExpr {
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n === null || typeof n !== "object") return n;
    const e = n as AstExpr;
    if (e.kind === "func" && aggregateNames.has(e.name) && e.over === null) {
      out.push(e);
      return { kind: "column", db: null, table: aggQualifier, column: String(out.length - 1) };
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
  };
  return walk(node) as AstExpr;
}

function aggregateType(name: string, arg: Expr | null): FieldType {
  const t = arg?.type;
  switch (name) {
    case "count":
      return intType({ length: 21, nullable: false });
    case "sum":
    case "avg": {
      if (t === undefined || t.kind === "double" || t.kind === "string") return doubleType({});
      const scale = (t.kind === "decimal" ? t.decimals : 0) + (name === "avg" ? 4 : 0);
      return decimalType(65, { scale: Math.min(scale, 30) });
    }
    default:
      return t ?? intType({ length: 21 });
  }
}

class Accumulator {
  private count = 0n;
  private sumDecimal: { unscaled: bigint; scale: number } | null = null;
  private sumDouble: number | null = null;
  private best: Value = null;
  private readonly seen = new Set<string>();
  private readonly spec: AggSpec;

  constructor(spec: AggSpec) {
    this.spec = spec;
  }

  add(ctx: EvalContext): void {
    const spec = this.spec;
    if (spec.arg === null) {
      this.count++;
      return;
    }
    const v = evaluate(spec.arg, ctx);
    if (v === null) return;
    if (spec.distinct) {
      const key = `${v.kind}:${toText(v)}`;
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    this.count++;
    switch (spec.name) {
      case "sum":
      case "avg":
        if (spec.type.kind === "double") {
          this.sumDouble = (this.sumDouble ?? 0) + (toDouble(v, ctx.warn) ?? 0);
        } else {
          const d = v.kind === "decimal" ? { unscaled: v.unscaled, scale: v.scale }
            : { unscaled: v.kind === "int" || v.kind === "uint" ? v.value : 0n, scale: 0 };
          const s = this.sumDecimal ?? { unscaled: 0n, scale: d.scale };
          const scale = Math.max(s.scale, d.scale);
          this.sumDecimal = { unscaled: s.unscaled * 10n ** BigInt(scale - s.scale) +
            d.unscaled * 10n ** BigInt(scale - d.scale), scale };
        }
        break;
      case "min":
      case "max": {
        const order = this.best === null ? null : compareValues(v, this.best, { warn: ctx.warn });
        if (this.best === null || (order !== null &&
          (spec.name === "min" ? order < 0 : order > 0))) this.best = v;
        break;
      }
      default:
        break;
    }
  }

  result(): Value {
    const spec = this.spec;
    switch (spec.name) {
      case "count":
        return { kind: "int", value: this.count };
      case "min":
      case "max":
        return this.best;
      case "sum":
        if (this.count === 0n) return null;
        return this.sumDouble !== null ? { kind: "double", value: this.sumDouble }
          : { kind: "decimal", ...this.sumDecimal! };
      default: {
        if (this.count === 0n) return null;
        if (this.sumDouble !== null) {
          return { kind: "double", value: this.sumDouble / Number(this.count) };
        }
        const sum = this.sumDecimal!;
        const scale = spec.type.decimals;
        const scaled = sum.unscaled * 10n ** BigInt(scale - sum.scale);
        const twice = (scaled * 2n) / this.count;
        const rounded = twice >= 0n ? (twice + 1n) / 2n : (twice - 1n) / 2n;
        return { kind: "decimal", unscaled: rounded, scale };
      }
    }
  }
}

function groupKey(values: readonly Value[]): string {
  return values.map((v) => (v === null ? "\u0000" : `${v.kind}:${toText(v)}`)).join("\u0001");
}

/** The result of a SELECT over one table. */
export interface SelectOutput {
  readonly columns: ColumnDef[];
  readonly rows: SqlValue[][];
}

export async function select(ctx: DmlContext, query: SelectQuery, fieldTexts: readonly
  (string | undefined)[] | null): Promise<SelectOutput> {
  const result = await selectValues(ctx, query, fieldTexts);
  const columns = result.names.map((name, i) => {
    const def = columnOf(name, result.types[i]!);
    return result.table === null ? def
      : { ...def, table: result.table.alias, orgTable: result.table.name };
  });
  return { columns, rows: result.rows.map((row) => row.map(sqlValueOf)) };
}

/** Whether a SELECT's fields, HAVING or ORDER BY call an aggregate function. */
export function hasAggregates(query: SelectQuery): boolean {
  const found: AstExpr[] = [];
  for (const field of query.fields) extractAggregates(field.expr, found);
  if (query.having !== null) extractAggregates(query.having, found);
  for (const item of query.orderBy) extractAggregates(item.expr, found);
  return found.length > 0;
}

/** A table with no columns: the source of a SELECT without FROM. */
const noTable: TableInfo = { id: 0, name: "", dbId: 0, columns: [], indexes: [], pkHandle: null };

/**
 * Runs a SELECT to values. Without FROM it reads one implicit row with no columns, as
 * MySQL does, so `SELECT COUNT(*)` is 1 and `SELECT COUNT(*) WHERE 0` is 0.
 */
async function selectValues(ctx: DmlContext, query: SelectQuery, fieldTexts: readonly
  (string | undefined)[] | null): Promise<{ names: string[]; types: FieldType[];
    rows: Value[][]; table: { alias: string; name: string } | null }> {
  if (query.with !== null || query.windows.length > 0) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["WITH and WINDOW"]);
  }
  const from = query.from.length === 0 ? null : singleTable(query.from);
  const table = from === null ? noTable : resolveTable(ctx, from.name);
  const alias = from?.alias ?? table.name;
  // Expand `*`.
  const fields: { expr: AstExpr; name: string }[] = [];
  query.fields.forEach((field, i) => {
    if (field.expr.kind === "star") {
      if (from === null) throw mysqlError(ER.NO_TABLES_USED);
      for (const c of table.columns) {
        fields.push({ expr: { kind: "column", db: null, table: null, column: c.name },
          name: c.name });
      }
    } else {
      const name = field.alias ?? (field.expr.kind === "column" ? field.expr.column
        : fieldTexts?.[i] ?? formatExpr(field.expr));
      fields.push({ expr: field.expr, name });
    }
  });
  const aggAsts: AstExpr[] = [];
  const fieldAsts = fields.map((f) => extractAggregates(f.expr, aggAsts));
  const havingAst = query.having === null ? null : extractAggregates(query.having, aggAsts);
  const orderAsts = query.orderBy.map((o) => extractAggregates(o.expr, aggAsts));
  const grouped = aggAsts.length > 0 || query.groupBy.length > 0;
  const base = (clause: string): TranslateScope => rowScope(ctx, table, alias, clause);
  const aggs: AggSpec[] = aggAsts.map((a) => {
    if (a.kind !== "func") throw new Error("not an aggregate");
    const argAst = a.args[0];
    const arg = argAst === undefined || argAst.kind === "star" ? null
      : translate(argAst, base("field list"));
    if (a.args.length !== 1) throw mysqlError(ER.WRONG_PARAMCOUNT_TO_NATIVE_FCT, [a.name]);
    return { name: a.name, arg, distinct: a.distinct, type: aggregateType(a.name, arg),
      text: formatExpr(a) };
  });
  const width = table.columns.length;
  const scope = (clause: string): TranslateScope => {
    const inner = base(clause);
    return { ...inner, column: (name, qualifier) => {
      if (qualifier === aggQualifier) {
        const k = Number(name);
        return columnRef(width + k, aggs[k]!.text, aggs[k]!.type);
      }
      return inner.column!(name, qualifier);
    } };
  };
  const fieldExprs = fieldAsts.map((a) => translate(a, scope("field list")));
  const having = havingAst === null ? null : translate(havingAst, scope("having clause"));
  const aliases = new Map(fields.map((f, i) => [f.name.toLowerCase(), i]));
  const orderKeys = orderAsts.map((a, i) => {
    const original = query.orderBy[i]!.expr;
    if (original.kind === "int") {
      const position = Number(original.text);
      if (position < 1 || position > fields.length) {
        throw mysqlError(ER.BAD_FIELD_ERROR, [original.text, "order clause"]);
      }
      return { field: position - 1 };
    }
    if (original.kind === "column" && original.table === null &&
      aliases.has(original.column.toLowerCase())) {
      return { field: aliases.get(original.column.toLowerCase())! };
    }
    return { expr: translate(a, scope("order clause")) };
  });
  const groupExprs = query.groupBy.map((g) => {
    if (g.kind === "int") return fieldExprs[Number(g.text) - 1]!;
    return translate(g, base("group statement"));
  });
  const limit = query.limit === null ? null : limitOf(ctx, query.limit);

  const rows = from !== null ? await matchingRows(ctx, table, alias, query.where)
    : [{ handle: 0n, values: [] }].filter((row) => query.where === null || matches(
      translate(query.where, rowScope(ctx, table, alias, "where clause")),
      rowContext(ctx, row.values)));
  if (from !== null && query.lock !== null && rows.length > 0) {
    await ctx.txn.lockKeys(rows.map((r) => rowKey(table, r.handle)));
  }
  // Records to output: the row the field expressions see.
  let records: Value[][];
  if (grouped) {
    const groups = new Map<string, { first: Value[]; accs: Accumulator[] }>();
    for (const row of rows) {
      const rctx = rowContext(ctx, row.values);
      const key = groupKey(groupExprs.map((g) => evaluate(g, rctx)));
      let group = groups.get(key);
      if (group === undefined) {
        group = { first: row.values, accs: aggs.map((a) => new Accumulator(a)) };
        groups.set(key, group);
      }
      for (const acc of group.accs) acc.add(rctx);
    }
    if (groups.size === 0 && query.groupBy.length === 0) {
      groups.set("", { first: table.columns.map(() => null),
        accs: aggs.map((a) => new Accumulator(a)) });
    }
    records = [...groups.values()].map((g) => [...g.first, ...g.accs.map((a) => a.result())]);
    if (having !== null) records = records.filter((r) => matches(having, rowContext(ctx, r)));
  } else {
    records = rows.map((r) => r.values);
  }
  let output = records.map((record) => {
    const rctx = rowContext(ctx, record);
    const out = fieldExprs.map((e) => evaluate(e, rctx));
    const keys = orderKeys.map((k) => (k.field !== undefined ? out[k.field]! : evaluate(k.expr!,
      rctx)));
    return { out, keys };
  });
  if (orderKeys.length > 0) {
    const warn = ctx.evalContext().warn;
    output.sort((x, y) => {
      for (let i = 0; i < orderKeys.length; i++) {
        const a = x.keys[i]!;
        const b = y.keys[i]!;
        let order = a === null ? (b === null ? 0 : -1) : b === null ? 1
          : compareValues(a, b, { warn }) ?? 0;
        if (query.orderBy[i]!.desc) order = -order;
        if (order !== 0) return order;
      }
      return 0;
    });
  }
  if (query.distinct) {
    const seen = new Set<string>();
    output = output.filter((o) => {
      const key = groupKey(o.out);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  if (limit !== null) {
    output = output.slice(Number(limit.offset), Number(limit.offset + limit.count));
  }
  return { names: fields.map((f) => f.name), types: fieldExprs.map((e) => e.type),
    rows: output.map((o) => o.out), table: from === null ? null : { alias, name: table.name } };
}

function limitOf(ctx: DmlContext, limit: { readonly count: AstExpr;
  readonly offset: AstExpr | null }): { count: bigint; offset: bigint } {
  const value = (e: AstExpr): bigint => {
    const v = evaluate(translate(e, ctx.scope("LIMIT")), ctx.evalContext());
    const n = v !== null && (v.kind === "int" || v.kind === "uint") ? v.value : undefined;
    if (n === undefined || n < 0n) throw mysqlError(ER.WRONG_ARGUMENTS, ["LIMIT"]);
    return n;
  };
  return { count: value(limit.count), offset: limit.offset === null ? 0n : value(limit.offset) };
}

// ---- writes ------------------------------------------------------------------------------

/** Buffers a row and its index entries; checks were done by the caller. */
function writeRow(txn: Transaction, table: TableInfo, row: Row): void {
  txn.set(rowKey(table, row.handle), encodeRowValue(table, row.values));
  for (const index of table.indexes) {
    const entry = indexEntry(table, index, row);
    txn.set(entry.key, entry.value);
  }
}

function deleteRow(txn: Transaction, table: TableInfo, row: Row): void {
  txn.delete(rowKey(table, row.handle));
  for (const index of table.indexes) txn.delete(indexEntry(table, index, row).key);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** A key that must be absent, and the 1062 to report when it is not. */
interface UniqueKey {
  readonly key: Uint8Array;
  readonly error: () => Error;
  /** The row that may own it already (an UPDATE's own row). */
  readonly owner: bigint;
}

function uniqueKeys(table: TableInfo, row: Row, onlyChangedFrom?: Row): UniqueKey[] {
  const keys: UniqueKey[] = [];
  const dup = (text: string, index: string) => () =>
    mysqlError(ER.DUP_ENTRY, [text, `${table.name}.${index}`]);
  if (table.pkHandle !== null && (onlyChangedFrom === undefined ||
    onlyChangedFrom.handle !== row.handle)) {
    keys.push({ key: rowKey(table, row.handle), owner: row.handle,
      error: dup(row.handle.toString(), "PRIMARY") });
  }
  for (const index of table.indexes) {
    const entry = indexEntry(table, index, row);
    if (!entry.distinct) continue;
    if (onlyChangedFrom !== undefined &&
      hex(indexEntry(table, index, onlyChangedFrom).key) === hex(entry.key)) continue;
    keys.push({ key: entry.key, owner: row.handle,
      error: dup(duplicateText(row.values, index.columns), index.name) });
  }
  return keys;
}

/** Throws the 1062 of the first key already present (in the batch or in storage). */
async function checkUnique(txn: Transaction, keys: readonly UniqueKey[],
  freed: ReadonlySet<string> = new Set()): Promise<void> {
  const seen = new Set<string>();
  for (const k of keys) {
    const h = hex(k.key);
    if (seen.has(h)) throw k.error();
    seen.add(h);
  }
  const existing = keys.length === 0 ? [] : await txn.batchGet(keys.map((k) => k.key));
  existing.forEach((value, i) => {
    if (value !== null && !freed.has(hex(keys[i]!.key))) throw keys[i]!.error();
  });
}

function defaultValue(ctx: DmlContext, table: TableInfo, offset: number, row: number): Value {
  const column = table.columns[offset]!;
  if (column.defaultText === null) {
    if (column.nullable || column.autoIncrement) return null;
    throw mysqlError(ER.NO_DEFAULT_FOR_FIELD, [column.name]);
  }
  const parsed = parseExpression(column.defaultText);
  if (parsed.kind === "error") throw new Error(`bad stored default ${column.defaultText}`);
  const value = evaluate(translate(parsed.expr, ctx.scope("field list")), ctx.evalContext());
  return storeValue(value, { column, row }, ctx.evalContext());
}

export async function insert(ctx: DmlContext, statement: InsertStatement):
  Promise<{ affectedRows: number; lastInsertId: bigint }> {
  if (statement.replace || statement.onDuplicate.length > 0 || statement.ignore) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["REPLACE, INSERT IGNORE and ON DUPLICATE KEY UPDATE"]);
  }
  const table = resolveTable(ctx, statement.table);
  const offsets = (names: readonly string[]): number[] => names.map((name) => {
    const c = table.columns.find((col) => col.name.toLowerCase() === name.toLowerCase());
    if (c === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [name, "field list"]);
    return c.offset;
  });
  let targets: number[];
  // A source is an expression to evaluate (VALUES, SET) or a value a SELECT produced.
  let sources: (readonly (AstExpr | { readonly kind: "value"; readonly value: Value })[])[];
  switch (statement.source.kind) {
    case "values":
      targets = statement.columns === null ? table.columns.map((c) => c.offset)
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
      if (query.kind !== "select") {
        throw mysqlError(ER.NOT_SUPPORTED_YET, ["INSERT ... SELECT with a set operation"]);
      }
      targets = statement.columns === null ? table.columns.map((c) => c.offset)
        : offsets(statement.columns);
      // The whole source is read before any write is buffered, so a statement whose
      // source is its own target sees the rows as they were when it started.
      const result = await selectValues(ctx, query, null);
      if (result.names.length !== targets.length) {
        throw mysqlError(ER.WRONG_VALUE_COUNT_ON_ROW, [1]);
      }
      sources = result.rows.map((row) => row.map((value) => ({ kind: "value", value })));
      break;
    }
  }
  const autoColumn = table.columns.find((c) => c.autoIncrement);
  let firstAutoId: bigint | null = null;
  const rows: Row[] = [];
  for (let r = 0; r < sources.length; r++) {
    const source = sources[r]!;
    if (source.length !== targets.length) {
      throw mysqlError(ER.WRONG_VALUE_COUNT_ON_ROW, [r + 1]);
    }
    const given = new Map<number, (typeof source)[number]>();
    targets.forEach((o, i) => given.set(o, source[i]!));
    const values: Value[] = table.columns.map((column) => {
      const ast = given.get(column.offset);
      if (ast === undefined || ast.kind === "default") {
        return defaultValue(ctx, table, column.offset, r + 1);
      }
      const value = ast.kind === "value" ? ast.value
        : evaluate(translate(ast, ctx.scope("field list")), ctx.evalContext());
      if (value === null && column.autoIncrement) return null;
      return storeValue(value, { column, row: r + 1 }, ctx.evalContext());
    });
    if (autoColumn !== undefined) {
      const v = values[autoColumn.offset] ?? null;
      const n = v === null ? 0n : v.kind === "int" || v.kind === "uint" ? v.value : 0n;
      if (n === 0n) {
        const id = await ctx.storage.autoIds.next(table.id);
        firstAutoId ??= id;
        values[autoColumn.offset] = storeValue({ kind: "int", value: id },
          { column: autoColumn, row: r + 1 }, ctx.evalContext());
      } else {
        await ctx.storage.autoIds.rebase(table.id, n);
      }
    }
    const handle = table.pkHandle !== null ? handleOf(values[table.pkHandle] ?? null)
      : await ctx.storage.autoIds.next(table.id);
    rows.push({ handle, values });
  }
  await checkUnique(ctx.txn, rows.flatMap((row) => uniqueKeys(table, row)));
  for (const row of rows) writeRow(ctx.txn, table, row);
  if (firstAutoId !== null) ctx.setLastInsertId(firstAutoId);
  return { affectedRows: rows.length, lastInsertId: firstAutoId ?? 0n };
}

export async function update(ctx: DmlContext, statement: UpdateStatement):
  Promise<{ matched: number; changed: number }> {
  const from = singleTable(statement.tables);
  const table = resolveTable(ctx, from.name);
  const alias = from.alias ?? table.name;
  const scope = rowScope(ctx, table, alias, "field list");
  const sets = statement.set.map((a: Assignment) => {
    if (a.column.table !== null && a.column.table.toLowerCase() !== alias.toLowerCase()) {
      throw mysqlError(ER.BAD_FIELD_ERROR, [`${a.column.table}.${a.column.column}`,
        "field list"]);
    }
    const c = table.columns.find((col) => col.name.toLowerCase() === a.column.column.toLowerCase());
    if (c === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [a.column.column, "field list"]);
    return { column: c, value: a.value.kind === "default" ? null : translate(a.value, scope) };
  });
  let rows = await matchingRows(ctx, table, alias, statement.where);
  if (statement.limit !== null) {
    const limit = limitOf(ctx, statement.limit);
    rows = rows.slice(0, Number(limit.count));
  }
  const changes: { old: Row; next: Row }[] = [];
  rows.forEach((old, i) => {
    const values = [...old.values];
    for (const set of sets) {
      const value = set.value === null ? defaultValue(ctx, table, set.column.offset, i + 1)
        : evaluate(set.value, rowContext(ctx, values));
      values[set.column.offset] = storeValue(value, { column: set.column, row: i + 1 },
        ctx.evalContext());
    }
    const same = values.every((v, k) => groupKey([v]) === groupKey([old.values[k] ?? null]));
    if (same) return;
    const handle = table.pkHandle === null ? old.handle : handleOf(values[table.pkHandle] ?? null);
    changes.push({ old, next: { handle, values } });
  });
  const freed = new Set<string>();
  for (const { old } of changes) {
    for (const k of uniqueKeys(table, old)) freed.add(hex(k.key));
  }
  await checkUnique(ctx.txn, changes.flatMap((c) => uniqueKeys(table, c.next, c.old)), freed);
  for (const { old } of changes) deleteRow(ctx.txn, table, old);
  for (const { next } of changes) writeRow(ctx.txn, table, next);
  return { matched: rows.length, changed: changes.length };
}

export async function deleteRows(ctx: DmlContext, statement: DeleteStatement):
  Promise<number> {
  if (statement.targets.length > 0) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["multi-table DELETE"]);
  }
  const from = singleTable(statement.from);
  const table = resolveTable(ctx, from.name);
  let rows = await matchingRows(ctx, table, from.alias ?? table.name, statement.where);
  if (statement.limit !== null) rows = rows.slice(0, Number(limitOf(ctx, statement.limit).count));
  for (const row of rows) deleteRow(ctx.txn, table, row);
  return rows.length;
}
