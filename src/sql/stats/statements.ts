/**
 * The statements of statistics as the session runs them: `ANALYZE TABLE t, …` (MySQL's
 * result set: Table, Op, Msg_type, Msg_text, one row per table) and the row changes of
 * INSERT / UPDATE / DELETE counted towards auto-analyze.
 */
import type { Statement, TableExpr, TableName } from "../parser/ast.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import type { SqlStorage } from "../exec/storage.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { StatsService } from "./service.ts";

/** The columns of ANALYZE TABLE's result. */
export const analyzeColumns: readonly string[] = ["Table", "Op", "Msg_type", "Msg_text"];

/** Runs ANALYZE TABLE on `tables` (1146 for one that does not exist): the result rows. */
export async function analyzeStatement(storage: SqlStorage, schema: InfoSchema,
  database: string | null, tables: readonly TableName[]): Promise<string[][]> {
  const service = StatsService.of(storage);
  const rows: string[][] = [];
  for (const name of tables) {
    const db = name.db ?? database;
    if (db === null) throw mysqlError(ER.NO_DB_ERROR);
    const table = schema.table(db, name.name);
    if (table === undefined) throw mysqlError(ER.NO_SUCH_TABLE, [db, name.name]);
    await service.analyze(table);
    rows.push([`${db}.${table.name}`, "analyze", "status", "OK"]);
  }
  return rows;
}

function firstTable(items: readonly TableExpr[]): TableName | undefined {
  for (const item of items) {
    if (item.kind === "table") return item.name;
    if (item.kind === "join") return firstTable([item.left, item.right]);
    if (item.kind === "tableList") return firstTable(item.items);
  }
  return undefined;
}

/** Counts the `rows` a write statement changed towards its table's auto-analyze. */
export function noteStatementWrites(storage: SqlStorage, schema: InfoSchema,
  database: string | null, statement: Statement, rows: number): void {
  let name: TableName | undefined;
  if (statement.kind === "insert") name = statement.table;
  else if (statement.kind === "update") name = firstTable(statement.tables);
  else if (statement.kind === "delete") {
    name = statement.targets[0] ?? firstTable(statement.from);
  }
  const db = name?.db ?? database;
  if (name === undefined || db === null) return;
  const table = schema.table(db, name.name);
  if (table !== undefined) StatsService.of(storage).noteModified(table.id, rows);
}
