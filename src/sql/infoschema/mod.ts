/**
 * `information_schema` as virtual (memory) tables, produced on demand from the catalog
 * and the node's state — the entry point every executor calls for
 * `FROM information_schema.X`.
 *
 * `memTable(name, ctx)` returns the table's columns (as catalog `ColumnInfo`s with MySQL 8
 * names and types, wrapped in a `TableInfo` with no indexes and no handle) and its rows as
 * expression `Value`s in column order, or `undefined` when `information_schema` has no
 * table of that name (the caller then answers 1109/1146). The rows are a snapshot of the
 * catalog the caller's statement runs at (`ctx.schema`), so a query sees the tables its
 * transaction sees. Pure: no I/O; the node state it reads (connections, the statements
 * summary) is handed in by the session.
 */
import type { TimeZone, Value } from "../../expr/mod.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import type { ColumnInfo, TableInfo } from "../catalog/schema.ts";
import type { ConnectionInfo } from "../wire/session.ts";
import type { StatementsSummary } from "./summary.ts";
import { infoSchemaTables } from "./tables.ts";

/** The name of the virtual database, as MySQL spells it. */
export const informationSchemaName = "information_schema";

/** What a virtual table's rows are made from. */
export interface InfoSchemaContext {
  /** The catalog at the statement's snapshot. */
  readonly schema: InfoSchema;
  /** The session's current database (DATABASE()), or null. */
  readonly database: string | null;
  /** The open connections of this node (PROCESSLIST). */
  readonly connections: () => readonly ConnectionInfo[];
  /** This node's per-digest statement statistics (STATEMENTS_SUMMARY). */
  readonly summary?: StatementsSummary;
  /** Wall-clock milliseconds, for PROCESSLIST.TIME and similar. */
  readonly wallMs?: () => number;
  /**
   * The columns of view `db.name` (planned, not run; see view_columns.ts); throws for a
   * broken view. Without it views have no columns listed.
   */
  readonly viewColumns?: (db: string, name: string) => readonly ColumnInfo[];
  /** The session's `time_zone`, TIMESTAMP defaults are shown in (absent: UTC). */
  readonly timeZone?: TimeZone;
}

/** One virtual table with its rows. */
export interface MemTable {
  /** The table's name as MySQL spells it (upper case). */
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
  /** Rows as values in column order. */
  readonly rows: readonly (readonly Value[])[];
  /** The columns as a `TableInfo` (id 0, no indexes, no handle) for executors keyed on one. */
  readonly info: TableInfo;
}

/** Whether `db` names `information_schema` (case-insensitive). */
export function isInformationSchema(db: string | null | undefined): boolean {
  return db !== null && db !== undefined && db.toLowerCase() === informationSchemaName;
}

/** The names of the virtual tables, upper case, sorted (SHOW TABLES in the database). */
export function memTableNames(): string[] {
  return [...infoSchemaTables.keys()].sort();
}

/** The virtual table `name` (any case) with its rows now, or undefined when there is none. */
export function memTable(name: string, ctx: InfoSchemaContext): MemTable | undefined {
  const def = infoSchemaTables.get(name.toUpperCase());
  if (def === undefined) return undefined;
  const columns = def.columns;
  const info: TableInfo = { id: 0, name: def.name, dbId: 0, columns, indexes: [],
    pkHandle: null };
  return { name: def.name, columns, rows: def.rows(ctx), info };
}

export { StatementsSummary, type StatementSample } from "./summary.ts";
