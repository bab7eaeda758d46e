/**
 * Partitioned tables in the catalog (TiDB's `PartitionInfo`): how a table is partitioned
 * — RANGE / RANGE COLUMNS / LIST / LIST COLUMNS / HASH / KEY — and its partitions, each
 * with a physical id of its own (allocated as table ids are) under which its rows and
 * local index entries are keyed. A partition is read and written as a clone of the
 * table's `TableInfo` whose `id` is the partition's (`physicalTable`), so the row, index
 * and coprocessor code works on it unchanged; AUTO_INCREMENT and `_tidb_rowid` stay the
 * logical table's.
 *
 * Here: the definition as stored, its checks at CREATE TABLE from the parsed clause
 * (MySQL's errors: 1492, 1479, 1480, 1481, 1484, 1486, 1488, 1499, 1503, 1504, 1506,
 * 1517, 1564, 1652, 1653, 1659), names, and the clause as SHOW CREATE TABLE prints it.
 * Values are evaluated (bounds, routing) by src/sql/table/partition_route.ts. Pure.
 */
import type { Expr as AstExpr, PartitionDefinition, PartitionOptions } from "../parser/ast.ts";
import { formatExpr } from "../parser/format.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { ColumnInfo, IndexInfo, TableInfo } from "./schema.ts";

/** How rows are assigned to partitions. */
export type PartitionMethod = "RANGE" | "RANGE COLUMNS" | "LIST" | "LIST COLUMNS" | "HASH" |
  "KEY";

/** One partition. */
export interface PartitionDef {
  /** The physical id its rows and index entries are keyed by. */
  readonly id: number;
  readonly name: string;
  /** RANGE: the upper bounds (exclusive), SQL literals or `MAXVALUE`, one per column. */
  readonly lessThan?: readonly string[];
  /** LIST: the value tuples, SQL literals (`NULL` too). */
  readonly inValues?: readonly (readonly string[])[];
}

export interface PartitionInfo {
  readonly method: PartitionMethod;
  /** LINEAR HASH / LINEAR KEY as written (rows are placed as without LINEAR). */
  readonly linear?: boolean;
  /** RANGE, LIST, HASH: the expression as SQL text; absent for the others. */
  readonly expr?: string;
  /**
   * The partitioning columns' names: COLUMNS forms and KEY partition by them (in order);
   * RANGE, LIST and HASH list the columns their expression reads.
   */
  readonly columns: readonly string[];
  readonly definitions: readonly PartitionDef[];
  /**
   * Planning only, never stored: the positions (in `definitions`) a statement reads after
   * pruning and PARTITION (…) selection; absent: all.
   */
  readonly selected?: readonly number[];
}

/** MySQL's bound on partitions per table (`MAX_PARTITIONS`). */
export const partitionsMax = 8192;

/** Functions MySQL permits in a partitioning expression. */
const allowedFunctions = new Set(["abs", "ceiling", "ceil", "datediff", "day", "dayofmonth",
  "dayofweek", "dayofyear", "floor", "hour", "microsecond", "minute", "mod", "month", "quarter",
  "second", "time_to_sec", "to_days", "to_seconds", "unix_timestamp", "weekday", "year",
  "yearweek"]);

/** Column kinds a COLUMNS-partitioned or KEY-partitioned table may use. */
const columnsKinds = new Set(["int", "date", "datetime", "string", "bytes"]);
const keyKinds = new Set(["int", "date", "datetime", "timestamp", "time", "year", "string",
  "bytes", "decimal", "enum"]);

const lower = (s: string): string => s.toLowerCase();

function findColumn(columns: readonly ColumnInfo[], name: string): ColumnInfo | undefined {
  return columns.find((c) => lower(c.name) === lower(name));
}

/** The column names a partitioning expression reads (AST). */
function exprColumns(e: AstExpr, out: string[] = []): string[] {
  if (e.kind === "column") out.push(e.column);
  else for (const v of Object.values(e)) walkColumns(v, out);
  return out;
}

function walkColumns(v: unknown, out: string[]): void {
  if (Array.isArray(v)) for (const x of v) walkColumns(x, out);
  else if (v !== null && typeof v === "object" && "kind" in v) exprColumns(v as AstExpr, out);
}

/**
 * Checks that `e` is an integer expression MySQL allows as a partitioning function: an
 * integer column, allowed functions of columns (YEAR(d), TO_DAYS(d) …), integer literals,
 * `+ - * DIV %`. 1054 unknown column, 1659 a bare non-integer column, 1564 otherwise.
 */
function checkExpr(e: AstExpr, columns: readonly ColumnInfo[], underFunction: boolean): void {
  switch (e.kind) {
    case "column": {
      const column = findColumn(columns, e.column);
      if (column === undefined) {
        throw mysqlError(ER.BAD_FIELD_ERROR, [e.column, "partition function"]);
      }
      if (!underFunction && column.type.kind !== "int" && column.type.kind !== "year") {
        throw mysqlError(ER.FIELD_TYPE_NOT_ALLOWED_AS_PARTITION_FIELD, [column.name]);
      }
      return;
    }
    case "int":
      return;
    case "string":
    case "temporal":
      if (underFunction) return;
      throw mysqlError(ER.PARTITION_FUNCTION_IS_NOT_ALLOWED);
    case "unary":
      if (e.op !== "-" && e.op !== "+") throw mysqlError(ER.PARTITION_FUNCTION_IS_NOT_ALLOWED);
      checkExpr(e.operand, columns, underFunction);
      return;
    case "binary":
      if (!["+", "-", "*", "DIV", "%"].includes(e.op)) {
        throw mysqlError(ER.PARTITION_FUNCTION_IS_NOT_ALLOWED);
      }
      checkExpr(e.left, columns, underFunction);
      checkExpr(e.right, columns, underFunction);
      return;
    case "func":
      if (!allowedFunctions.has(e.name) || e.over !== null || e.distinct) {
        throw mysqlError(ER.PARTITION_FUNCTION_IS_NOT_ALLOWED);
      }
      for (const arg of e.args) checkExpr(arg, columns, true);
      return;
    case "extract":
      checkExpr(e.expr, columns, true);
      return;
    default:
      throw mysqlError(ER.PARTITION_FUNCTION_IS_NOT_ALLOWED);
  }
}

/** The offsets of the columns the partitioning reads. */
export function partitionColumnOffsets(table: { readonly columns: readonly ColumnInfo[] },
  info: PartitionInfo): number[] {
  const offsets: number[] = [];
  for (const name of info.columns) {
    const c = findColumn(table.columns, name);
    if (c !== undefined && !offsets.includes(c.offset)) offsets.push(c.offset);
  }
  return offsets;
}

/** Marks a column's place in an expression being printed (`quotedExprText`). */
const columnMark = "\u0001";

/** An expression as SQL text with every column backquoted, as MySQL prints them. */
function quotedExprText(e: AstExpr): string {
  const names: string[] = [];
  const marked = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(marked);
    if (n === null || typeof n !== "object") return n;
    const node = n as AstExpr;
    if (node.kind === "column") {
      names.push(node.column);
      return { ...node, column: `${columnMark}${names.length - 1}${columnMark}` };
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, marked(v)]));
  };
  return formatExpr(marked(e) as AstExpr)
    .replace(new RegExp(`\`?${columnMark}(\\d+)${columnMark}\`?`, "g"),
      (_, k: string) => ident(names[Number(k)]!));
}

/** What `partitionInfoOf` checks the definition against. */
export interface PartitionedTable {
  readonly columns: readonly ColumnInfo[];
  readonly indexes: readonly IndexInfo[];
  readonly pkHandle: number | null;
  readonly hasForeignKeys: boolean;
}

function literalText(e: AstExpr): string {
  return formatExpr(e);
}

/**
 * The stored partitioning of a CREATE TABLE's `PARTITION BY` (partition ids 0 until the
 * DDL owner allocates them); throws MySQL's error for a malformed one. Bounds are kept as
 * written here and evaluated and ordered by `resolvePartitionBounds` (partition_route.ts).
 */
export function partitionInfoOf(o: PartitionOptions, table: PartitionedTable): PartitionInfo {
  if (table.hasForeignKeys) throw mysqlError(ER.FOREIGN_KEY_ON_PARTITIONED);
  const method: PartitionMethod = o.columnsForm ? `${o.method} COLUMNS` as PartitionMethod
    : o.method;
  const isRange = o.method === "RANGE";
  const isList = o.method === "LIST";
  let columnNames: string[];
  let expr: string | undefined;
  if (o.expr !== null) {
    checkExpr(o.expr, table.columns, false);
    const read = exprColumns(o.expr);
    if (read.length === 0) throw mysqlError(ER.WRONG_EXPR_IN_PARTITION_FUNC_ERROR);
    expr = quotedExprText(o.expr);
    columnNames = [];
    for (const name of read) {
      const column = findColumn(table.columns, name)!;
      if (!columnNames.includes(column.name)) columnNames.push(column.name);
    }
  } else {
    let names = [...o.columns];
    if (names.length === 0 && o.method === "KEY") {
      // KEY () partitions by the primary key.
      const pk = table.pkHandle !== null ? [table.pkHandle]
        : table.indexes.find((i) => i.primary)?.columns ?? [];
      names = pk.map((offset) => table.columns[offset]!.name);
      if (names.length === 0) throw mysqlError(ER.FIELD_NOT_FOUND_PART_ERROR);
    }
    const seen = new Set<string>();
    columnNames = names.map((name) => {
      const column = findColumn(table.columns, name);
      if (column === undefined) throw mysqlError(ER.FIELD_NOT_FOUND_PART_ERROR);
      if (seen.has(lower(column.name))) {
        throw mysqlError(ER.SAME_NAME_PARTITION_FIELD, [column.name]);
      }
      seen.add(lower(column.name));
      const kinds = o.method === "KEY" ? keyKinds : columnsKinds;
      if (!kinds.has(column.type.kind) ||
        ((column.type.kind === "string" || column.type.kind === "bytes") &&
          column.type.length === null)) {
        throw mysqlError(ER.FIELD_TYPE_NOT_ALLOWED_AS_PARTITION_FIELD, [column.name]);
      }
      return column.name;
    });
    if (!isRange && !isList && o.method !== "KEY") throw mysqlError(ER.PARTITION_COLUMN_LIST_ERROR);
  }
  // The partitions.
  let count = o.count ?? (o.definitions.length > 0 ? o.definitions.length : 1);
  if (isRange || isList) {
    if (o.definitions.length === 0) {
      throw mysqlError(ER.PARTITIONS_MUST_BE_DEFINED_ERROR, [o.method]);
    }
    count = o.definitions.length;
  } else if (o.count !== null && o.definitions.length > 0 && o.count !== o.definitions.length) {
    throw mysqlError(ER.PARTITION_WRONG_NO_PART_ERROR);
  }
  if (count === 0) throw mysqlError(ER.NO_PARTS_ERROR, ["partitions"]);
  if (count > partitionsMax) throw mysqlError(ER.TOO_MANY_PARTITIONS_ERROR);
  const width = expr === undefined ? columnNames.length : 1;
  const names = new Set<string>();
  const definitions: PartitionDef[] = [];
  for (let k = 0; k < count; k++) {
    const d = o.definitions[k];
    const name = d?.name ?? `p${k}`;
    if (names.has(lower(name))) throw mysqlError(ER.SAME_NAME_PARTITION, [name]);
    names.add(lower(name));
    if (d === undefined) {
      definitions.push({ id: 0, name });
      continue;
    }
    if (isRange) {
      if (d.inValues !== null) throw wrongValues("LIST", "IN");
      if (d.lessThan === null) {
        throw mysqlError(ER.PARTITION_REQUIRES_VALUES_ERROR, ["RANGE", "LESS THAN"]);
      }
      const bounds = d.lessThan;
      if (bounds.length !== width) throw mysqlError(ER.PARTITION_COLUMN_LIST_ERROR);
      if (bounds.some((b) => b === "MAXVALUE") && k !== count - 1 && width === 1) {
        throw mysqlError(ER.PARTITION_MAXVALUE_ERROR);
      }
      definitions.push({ id: 0, name, lessThan: bounds.map((b) => (b === "MAXVALUE" ? b
        : literalText(b))) });
    } else if (isList) {
      if (d.lessThan !== null) throw wrongValues("RANGE", "LESS THAN");
      if (d.inValues === null) throw mysqlError(ER.PARTITION_REQUIRES_VALUES_ERROR, ["LIST", "IN"]);
      const tuples = d.inValues.map((t) => {
        const items = t.length === 1 && t[0]!.kind === "row" ? t[0]!.items : t;
        if (items.length !== width) throw mysqlError(ER.PARTITION_COLUMN_LIST_ERROR);
        return items.map(literalText);
      });
      definitions.push({ id: 0, name, inValues: tuples });
    } else {
      if (d.lessThan !== null) throw wrongValues("RANGE", "LESS THAN");
      if (d.inValues !== null) throw wrongValues("LIST", "IN");
      definitions.push({ id: 0, name });
    }
  }
  const info: PartitionInfo = { method, ...(o.linear ? { linear: true } : {}),
    ...(expr === undefined ? {} : { expr }), columns: columnNames, definitions };
  checkUniqueKeys(table, info);
  return info;
}

/** Definitions of ALTER TABLE … ADD PARTITION as stored (ids 0, bounds as written). */
export function partitionDefsOf(definitions: readonly PartitionDefinition[]): PartitionDef[] {
  return definitions.map((d) => ({ id: 0, name: d.name,
    ...(d.lessThan === null ? {} : { lessThan: d.lessThan.map((b) => (b === "MAXVALUE" ? b
      : literalText(b))) }),
    ...(d.inValues === null ? {} : { inValues: d.inValues.map((t) =>
      (t.length === 1 && t[0]!.kind === "row" ? t[0]!.items : t).map(literalText)) }) }));
}

/** 1480: VALUES of the other kind of partitioning. */
function wrongValues(method: string, values: string): Error {
  return mysqlError(ER.PARTITION_WRONG_VALUES_ERROR, [method, values]);
}

/** 1503: every unique key (the primary key too) must hold every partitioning column. */
function checkUniqueKeys(table: PartitionedTable, info: PartitionInfo): void {
  const needed = partitionColumnOffsets(table, info);
  if (table.pkHandle !== null && needed.some((o) => o !== table.pkHandle)) {
    throw mysqlError(ER.UNIQUE_KEY_NEED_ALL_FIELDS_IN_PF, ["PRIMARY KEY"]);
  }
  for (const index of table.indexes) {
    if (!index.unique) continue;
    if (needed.some((o) => !index.columns.includes(o))) {
      throw mysqlError(ER.UNIQUE_KEY_NEED_ALL_FIELDS_IN_PF,
        [index.primary ? "PRIMARY KEY" : "UNIQUE INDEX"]);
    }
  }
}

/** 1503 for a unique index `columns` added to a partitioned table (ALTER / CREATE INDEX). */
export function checkUniqueIndexOnPartitioned(table: TableInfo, columns: readonly number[],
  primary: boolean): void {
  if (table.partition === undefined) return;
  const needed = partitionColumnOffsets(table, table.partition);
  if (needed.some((o) => !columns.includes(o))) {
    throw mysqlError(ER.UNIQUE_KEY_NEED_ALL_FIELDS_IN_PF,
      [primary ? "PRIMARY KEY" : "UNIQUE INDEX"]);
  }
}

const physicalCache = new WeakMap<TableInfo, TableInfo[]>();

/**
 * Partition `position` of `table` as a table of its own: the same columns and indexes,
 * the partition's physical id, no partitioning.
 */
export function physicalTable(table: TableInfo, position: number): TableInfo {
  let list = physicalCache.get(table);
  if (list === undefined) {
    const rest = Object.fromEntries(Object.entries(table).filter(([k]) => k !== "partition"));
    list = (table.partition?.definitions ?? []).map((d) => ({ ...rest, id: d.id }) as TableInfo);
    physicalCache.set(table, list);
  }
  const got = list[position];
  if (got === undefined) throw new Error(`table ${table.name} has no partition ${position}`);
  return got;
}

/** The positions a statement reads: the pruned selection, else every partition. */
export function selectedPartitions(info: PartitionInfo): readonly number[] {
  return info.selected ?? info.definitions.map((_, k) => k);
}

/** Positions of `names` (PARTITION (p0, p1) of a statement); 1735 for an unknown one. */
export function partitionPositions(table: TableInfo, names: readonly string[]): number[] {
  const info = table.partition;
  if (info === undefined) throw mysqlError(ER.PARTITION_CLAUSE_ON_NONPARTITIONED);
  const out: number[] = [];
  for (const name of names) {
    const k = info.definitions.findIndex((d) => lower(d.name) === lower(name));
    if (k < 0) throw mysqlError(ER.UNKNOWN_PARTITION, [name, table.name]);
    if (!out.includes(k)) out.push(k);
  }
  return out.sort((a, b) => a - b);
}

/** `table` restricted to the partitions at `positions` (planning). */
export function withSelection(table: TableInfo, positions: readonly number[]): TableInfo {
  if (table.partition === undefined) return table;
  return { ...table, partition: { ...table.partition, selected: positions } };
}

/** Every physical id of a table: its own, then its partitions'. */
export function physicalIds(table: TableInfo): number[] {
  return [table.id, ...(table.partition?.definitions ?? []).map((d) => d.id)];
}

const ident = (name: string): string => "`" + name.replaceAll("`", "``") + "`";

/** The PARTITIONS table's `PARTITION_EXPRESSION`: the expression or the column list. */
export function partitionExpressionText(info: PartitionInfo): string {
  return info.expr ?? info.columns.map(ident).join(",");
}

/** The PARTITIONS table's `PARTITION_DESCRIPTION` of a partition (bounds or values). */
export function partitionDescription(def: PartitionDef): string | null {
  if (def.lessThan !== undefined) return def.lessThan.join(",");
  if (def.inValues !== undefined) {
    return def.inValues.map((t) => (t.length === 1 ? t[0]! : `(${t.join(",")})`)).join(",");
  }
  return null;
}

/** The clause SHOW CREATE TABLE appends, in MySQL 8's layout (a versioned comment). */
export function showPartitionText(info: PartitionInfo): string {
  const columns = info.method === "RANGE COLUMNS" || info.method === "LIST COLUMNS";
  const linear = info.linear === true ? "LINEAR " : "";
  let head: string;
  if (columns) {
    head = `/*!50500 PARTITION BY ${info.method.replace(" ", "  ")}(` +
      `${info.columns.map(ident).join(",")})`;
  } else {
    head = `/*!50100 PARTITION BY ${linear}${info.method} (${partitionExpressionText(info)})`;
  }
  if (info.method === "HASH" || info.method === "KEY") {
    const generated = info.definitions.every((d, k) => d.name === `p${k}`);
    if (generated) return `\n${head}\nPARTITIONS ${info.definitions.length} */`;
    return `\n${head}\n(${info.definitions.map((d) => `PARTITION ${ident(d.name)} ` +
      "ENGINE = InnoDB").join(",\n ")}) */`;
  }
  const defs = info.definitions.map((d) => {
    let values: string;
    if (d.lessThan !== undefined) {
      values = d.lessThan.length === 1 && d.lessThan[0] === "MAXVALUE" && !columns
        ? "VALUES LESS THAN MAXVALUE" : `VALUES LESS THAN (${d.lessThan.join(",")})`;
    } else {
      values = `VALUES IN (${partitionDescription(d) ?? ""})`;
    }
    return `PARTITION ${ident(d.name)} ${values} ENGINE = InnoDB`;
  });
  return `\n${head}\n(${defs.join(",\n ")}) */`;
}
