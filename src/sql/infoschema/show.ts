/**
 * The SHOW statements answered from the catalog and constant server facts, with the
 * column names MySQL 8 returns: DATABASES, [FULL] TABLES, [FULL] COLUMNS, INDEX, CREATE
 * TABLE, CREATE DATABASE, TABLE STATUS, TRIGGERS / EVENTS / PROCEDURE STATUS / FUNCTION
 * STATUS (always empty: Tessera has none), ENGINES, CHARACTER SET, COLLATION, PLUGINS.
 *
 * `showFromCatalog` returns the column names and text rows (null for SQL NULL) before
 * LIKE / WHERE filtering, which the session applies (LIKE on the first column, WHERE on
 * the named columns); `undefined` means the statement is not one of these. Errors are the
 * MySQL ones (1046, 1049, 1146). Pure: no I/O.
 */
import type { ShowStatement } from "../parser/ast.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import { type TableInfo, columnKeyText, showCreateTable, typeText } from "../catalog/schema.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { showCreateView } from "../plan/views.ts";
import { tableInZone } from "../table/timestamp_default.ts";
import { type InfoSchemaContext, informationSchemaName, isInformationSchema, memTable,
  memTableNames } from "./mod.ts";
import { characterSets, collationOf, collations, defaultValueText, engines, tableIndexes }
  from "./tables.ts";

/** A SHOW result before filtering: column names and rows of text or NULL. */
export interface ShowRows {
  readonly names: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
}

/** What the catalog SHOWs need: the catalog at the statement's snapshot and the session. */
export type ShowContext = InfoSchemaContext;

const routineStatusNames = ["Db", "Name", "Type", "Definer", "Modified", "Created",
  "Security_type", "Comment", "character_set_client", "collation_connection",
  "Database Collation"];

/** SHOWs that need no catalog: engines, character sets, collations, plugins, routines. */
export function showConstant(statement: ShowStatement): ShowRows | undefined {
  switch (statement.target) {
    case "ENGINES":
      return { names: ["Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"],
        rows: engines };
    case "CHARSET":
      return { names: ["Charset", "Description", "Default collation", "Maxlen"],
        rows: characterSets.map(([name, collation, description, maxlen]) =>
          [name, description, collation, String(maxlen)]) };
    case "COLLATION":
      return { names: ["Collation", "Charset", "Id", "Default", "Compiled", "Sortlen",
        "Pad_attribute"],
      rows: collations.map(([name, charset, id, isDefault, pad]) =>
        [name, charset, String(id), isDefault ? "Yes" : "", "Yes", "1", pad]) };
    case "PLUGINS":
      return { names: ["Name", "Status", "Type", "Library", "License"], rows: [
        ["mysql_native_password", "ACTIVE", "AUTHENTICATION", null, "GPL"],
        ["InnoDB", "ACTIVE", "STORAGE ENGINE", null, "GPL"],
      ] };
    case "PROCEDURE STATUS":
    case "FUNCTION STATUS":
      return { names: routineStatusNames, rows: [] };
    default:
      return undefined;
  }
}

function requireDb(db: string | null, schema: InfoSchema): string {
  if (db === null) throw mysqlError(ER.NO_DB_ERROR);
  if (isInformationSchema(db)) return informationSchemaName;
  const found = schema.database(db);
  if (found === undefined) throw mysqlError(ER.BAD_DB_ERROR, [db]);
  return found.info.name;
}

/** The table a SHOW COLUMNS / INDEX / CREATE TABLE names, and its database. */
function requireTable(statement: ShowStatement, ctx: ShowContext):
  { readonly db: string; readonly table: TableInfo } {
  const name = statement.table ?? { db: null, name: "" };
  const db = name.db ?? statement.db ?? ctx.database;
  if (db === null) throw mysqlError(ER.NO_DB_ERROR);
  if (isInformationSchema(db)) {
    const mem = memTable(name.name, ctx);
    if (mem === undefined) throw mysqlError(ER.UNKNOWN_TABLE, [name.name, informationSchemaName]);
    return { db: informationSchemaName, table: mem.info };
  }
  const table = ctx.schema.table(db, name.name);
  if (table === undefined) throw mysqlError(ER.NO_SUCH_TABLE, [db, name.name]);
  return { db, table: tableInZone(table, ctx.timeZone) };
}

/** As `requireTable`, and a view as a table of its columns (no keys). */
function requireTableOrView(statement: ShowStatement, ctx: ShowContext):
  { readonly db: string; readonly table: TableInfo } {
  const name = statement.table ?? { db: null, name: "" };
  const db = name.db ?? statement.db ?? ctx.database;
  if (db !== null && ctx.viewColumns !== undefined && !isInformationSchema(db) &&
    ctx.schema.table(db, name.name) === undefined &&
    ctx.schema.database(db)?.views?.has(name.name.toLowerCase()) === true) {
    const columns = ctx.viewColumns(db, name.name);
    return { db, table: { id: 0, name: name.name, dbId: 0, columns, indexes: [],
      pkHandle: null } };
  }
  return requireTable(statement, ctx);
}

/** The tables of `db` (virtual ones for information_schema), sorted by name. */
function tableNames(db: string, schema: InfoSchema): { name: string; type: string }[] {
  if (isInformationSchema(db)) {
    return memTableNames().map((name) => ({ name, type: "SYSTEM VIEW" }));
  }
  const found = schema.database(db);
  return [...found?.tables.values() ?? []].map((t) => ({ name: t.name, type: "BASE TABLE" }))
    .concat([...found?.views?.values() ?? []].map((v) => ({ name: v.name, type: "VIEW" })))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** `SHOW CREATE DATABASE` text, as MySQL 8 prints it. */
export function showCreateDatabase(db: string, ifNotExists: boolean): string {
  const charset = isInformationSchema(db) ? "utf8mb3" : "utf8mb4";
  const collation = isInformationSchema(db) ? "utf8mb3_general_ci" : "utf8mb4_general_ci";
  return `CREATE DATABASE ${ifNotExists ? "/*!32312 IF NOT EXISTS*/ " : ""}` +
    `\`${db.replaceAll("`", "``")}\` /*!40100 DEFAULT CHARACTER SET ${charset} ` +
    `COLLATE ${collation} */ /*!80016 DEFAULT ENCRYPTION='N' */`;
}

/** The SHOWs answered from the catalog, or undefined for other targets. */
export function showFromCatalog(statement: ShowStatement, ctx: ShowContext):
  ShowRows | undefined {
  const constant = showConstant(statement);
  if (constant !== undefined) return constant;
  const schema = ctx.schema;
  switch (statement.target) {
    case "DATABASES":
      return { names: ["Database"], rows: [[informationSchemaName],
        ...schema.databaseNames().map((d) => [d])] };
    case "TABLES": {
      const db = requireDb(statement.db ?? ctx.database, schema);
      const tables = tableNames(db, schema);
      const first = `Tables_in_${db}` + (statement.like === null ? "" : ` (${statement.like})`);
      return statement.full
        ? { names: [first, "Table_type"], rows: tables.map((t) => [t.name, t.type]) }
        : { names: [first], rows: tables.map((t) => [t.name]) };
    }
    case "COLUMNS": {
      const { table } = requireTableOrView(statement, ctx);
      const visible = table.columns.filter((c) => c.state === undefined || c.state === "public");
      if (statement.full) {
        return { names: ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra",
          "Privileges", "Comment"], rows: visible.map((c) => [c.name, typeText(c.type),
          collationOf(c.type), c.nullable ? "YES" : "NO", columnKeyText(table, c.offset),
          defaultValueText(c), c.autoIncrement ? "auto_increment" : "",
          "select,insert,update,references", ""]) };
      }
      return { names: ["Field", "Type", "Null", "Key", "Default", "Extra"],
        rows: visible.map((c) => [c.name, typeText(c.type), c.nullable ? "YES" : "NO",
          columnKeyText(table, c.offset), defaultValueText(c),
          c.autoIncrement ? "auto_increment" : ""]) };
    }
    case "INDEX": {
      const { table } = requireTable(statement, ctx);
      return { names: ["Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name",
        "Collation", "Cardinality", "Sub_part", "Packed", "Null", "Index_type", "Comment",
        "Index_comment", "Visible", "Expression"],
      rows: tableIndexes(table).flatMap((index) => index.columns.map((c, k) => [table.name,
        index.unique ? "0" : "1", index.name, String(k + 1), c.name, "A", "0", null, null,
        c.nullable ? "YES" : "", "BTREE", "", "", "YES", null])) };
    }
    case "CREATE TABLE": {
      // On a view, SHOW CREATE TABLE answers as SHOW CREATE VIEW (as MySQL does).
      const name = statement.table ?? { db: null, name: "" };
      const viewDb = name.db ?? ctx.database;
      if (viewDb !== null && schema.table(viewDb, name.name) === undefined &&
        schema.database(viewDb)?.views?.has(name.name.toLowerCase()) === true) {
        return { names: ["View", "Create View", "character_set_client",
          "collation_connection"], rows: [showCreateView(schema, name, ctx.database)] };
      }
      const { db, table } = requireTable(statement, ctx);
      if (isInformationSchema(db)) {
        return { names: ["Table", "Create Table"], rows: [[table.name,
          showCreateTable(table).replace(/ENGINE=InnoDB.*$/, "ENGINE=MEMORY DEFAULT " +
            "CHARSET=utf8mb3")]] };
      }
      return { names: ["Table", "Create Table"], rows: [[table.name, showCreateTable(table)]] };
    }
    case "CREATE DATABASE": {
      const db = requireDb(statement.db, schema);
      return { names: ["Database", "Create Database"],
        rows: [[db, showCreateDatabase(db, statement.ifNotExists)]] };
    }
    case "TABLE STATUS": {
      const db = requireDb(statement.db ?? ctx.database, schema);
      const system = isInformationSchema(db);
      return { names: ["Name", "Engine", "Version", "Row_format", "Rows", "Avg_row_length",
        "Data_length", "Max_data_length", "Index_length", "Data_free", "Auto_increment",
        "Create_time", "Update_time", "Check_time", "Collation", "Checksum",
        "Create_options", "Comment"],
      rows: tableNames(db, schema).map((t) => t.type === "VIEW"
        ? [t.name, null, null, null, null, null, null, null, null, null, null, null, null, null,
          null, null, null, "VIEW"]
        : [t.name, system ? "MEMORY" : "InnoDB", "10", system ? "Fixed" : "Dynamic", "0", "0",
          "0", "0", "0", "0", null, null, null, null,
          system ? "utf8mb3_general_ci" : "utf8mb4_general_ci", null, "", ""]) };
    }
    case "TRIGGERS":
      requireDb(statement.db ?? ctx.database, schema);
      return { names: ["Trigger", "Event", "Table", "Statement", "Timing", "Created",
        "sql_mode", "Definer", "character_set_client", "collation_connection",
        "Database Collation"], rows: [] };
    case "EVENTS":
      requireDb(statement.db ?? ctx.database, schema);
      return { names: ["Db", "Name", "Definer", "Time zone", "Type", "Execute at",
        "Interval value", "Interval field", "Starts", "Ends", "Status", "Originator",
        "character_set_client", "collation_connection", "Database Collation"], rows: [] };
    default:
      return undefined;
  }
}
