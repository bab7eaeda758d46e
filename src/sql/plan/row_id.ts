/**
 * TiDB's `_tidb_rowid`: the hidden handle of a table whose rows are not keyed by an integer
 * primary key, readable by name (`SELECT _tidb_rowid …`, `WHERE _tidb_rowid = N`) but not
 * listed by `*` or `t.*`. A table whose integer primary key is the handle has no such
 * column (1054, as TiDB).
 *
 * A base table's layout gets the column after its stored columns and its rows carry the
 * handle there (copies of the stored rows: a scan's rows may be shared), so that every
 * row is as wide as its layout. Pure: no I/O.
 */
import { type Expr, type Value, columnRef, intType } from "../../expr/mod.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { ER, MySqlError } from "../mysql_errors.ts";
import type { Col } from "./scope.ts";

/** The hidden handle column's name (TiDB's `model.ExtraHandleName`). */
export const rowIdName = "_tidb_rowid";

const rowIdType = intType({ length: 20, nullable: false });

/** Whether `table` has a hidden handle column (its handle is not its primary key). */
export function hasRowId(table: TableInfo): boolean {
  return table.pkHandle === null;
}

/** The `_tidb_rowid` column of a base table's layout (after its stored columns). */
export function rowIdCol(source: { readonly qual: string; readonly db: string | null;
  readonly orgTable: string }): Col {
  return { qual: source.qual, db: source.db, name: rowIdName, type: rowIdType,
    orgTable: source.orgTable, orgName: rowIdName, hidden: false, implicit: true };
}

/** Stored rows with each row's handle appended (copies). */
export function withRowIds(rows: readonly (readonly Value[])[], handles: readonly bigint[]):
  Value[][] {
  return rows.map((row, k) => withHandle(row, handles[k]!));
}

/**
 * For a single-table statement's WHERE (UPDATE, DELETE): the node of `qual.name` when it
 * names `table`'s `_tidb_rowid` (rows are then evaluated with their handle appended,
 * `withHandle`), or undefined.
 */
export function rowIdRef(table: TableInfo, alias: string, name: string, qual: string | null):
  Expr | undefined {
  if (!hasRowId(table) || name.toLowerCase() !== rowIdName) return undefined;
  if (qual !== null && qual.toLowerCase() !== alias.toLowerCase()) return undefined;
  return columnRef(table.columns.length, rowIdName, rowIdType);
}

/** A stored row's values with its handle appended (for `rowIdRef` nodes). */
export function withHandle(values: readonly Value[], handle: bigint): Value[] {
  return [...values, { kind: "int", value: handle }];
}

/**
 * INSERT / REPLACE / UPDATE naming `_tidb_rowid` as a target column: TiDB refuses to
 * write it (1105; its `tidb_opt_write_row_id` is not supported here). A table whose key is
 * the handle has no such column: the caller's 1054 then.
 */
export function refuseRowIdTarget(table: TableInfo, name: string): void {
  if (hasRowId(table) && name.toLowerCase() === rowIdName) {
    // TiDB raises it as a plain error, which reaches the client as 1105.
    throw new MySqlError(ER.UNKNOWN_ERROR,
      "insert, update and replace statements for _tidb_rowid are not supported");
  }
}
