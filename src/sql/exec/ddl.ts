/**
 * Synchronous DDL through `Catalog.runDdl`: CREATE/DROP DATABASE, CREATE/DROP/TRUNCATE
 * TABLE. Each statement is one catalog transaction that bumps the schema version (see
 * `catalog.ts` for why this is not yet online DDL). Dropped and truncated tables' rows stay
 * in KV, unreachable (their table id is never reused); deleting the range is the GC
 * worker's job in a later step (TiDB's delete-range).
 */
import type { ColumnDefinition, TableConstraint, TableName } from "../parser/ast.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { tableInfoOf } from "../catalog/schema.ts";
import type { SqlStorage } from "./storage.ts";

/** What a DDL outcome reports: notes for IF [NOT] EXISTS that found nothing to do. */
export interface DdlOutcome {
  readonly notes: readonly MySqlError[];
}

const none: DdlOutcome = { notes: [] };

export async function createDatabase(storage: SqlStorage, name: string,
  options: { readonly ifNotExists: boolean }): Promise<DdlOutcome> {
  return storage.catalog.runDdl(async (ddl) => {
    if (ddl.schema.database(name) !== undefined) {
      const error = mysqlError(ER.DB_CREATE_EXISTS, [name]);
      if (options.ifNotExists) return { notes: [error] };
      throw error;
    }
    ddl.putDatabase({ id: await ddl.allocId(), name });
    return none;
  });
}

export async function dropDatabase(storage: SqlStorage, name: string,
  options: { readonly ifExists: boolean }): Promise<DdlOutcome> {
  return storage.catalog.runDdl((ddl) => {
    const db = ddl.schema.database(name);
    if (db === undefined) {
      const error = mysqlError(ER.DB_DROP_EXISTS, [name]);
      if (options.ifExists) return Promise.resolve({ notes: [error] });
      throw error;
    }
    for (const table of db.tables.values()) ddl.deleteTable(table);
    ddl.deleteDatabase(db.info);
    return Promise.resolve(none);
  });
}

export async function createTable(
  storage: SqlStorage,
  target: { readonly db: string; readonly name: string },
  statement: { readonly ifNotExists: boolean; readonly columns: readonly ColumnDefinition[];
    readonly constraints: readonly TableConstraint[] },
): Promise<DdlOutcome> {
  return storage.catalog.runDdl(async (ddl) => {
    const db = ddl.schema.database(target.db);
    if (db === undefined) throw mysqlError(ER.BAD_DB_ERROR, [target.db]);
    if (db.tables.has(target.name.toLowerCase())) {
      const error = mysqlError(ER.TABLE_EXISTS_ERROR, [target.name]);
      if (statement.ifNotExists) return { notes: [error] };
      throw error;
    }
    const info = tableInfoOf(target.name, statement,
      { tableId: await ddl.allocId(), dbId: db.info.id });
    ddl.putTable(info);
    return none;
  });
}

export async function dropTables(
  storage: SqlStorage,
  tables: readonly { readonly db: string; readonly name: string }[],
  options: { readonly ifExists: boolean },
): Promise<DdlOutcome> {
  return storage.catalog.runDdl((ddl) => {
    const missing: string[] = [];
    for (const t of tables) {
      const info = ddl.schema.table(t.db, t.name);
      if (info === undefined) missing.push(`${t.db}.${t.name}`);
      else ddl.deleteTable(info);
    }
    if (missing.length > 0 && !options.ifExists) {
      throw mysqlError(ER.BAD_TABLE_ERROR, [missing.join(",")]);
    }
    return Promise.resolve({ notes: missing.map((m) => mysqlError(ER.BAD_TABLE_ERROR, [m])) });
  });
}

/** TRUNCATE: the table gets a new id (an empty key range) under the same name. */
export async function truncateTable(storage: SqlStorage, target: TableName & { db: string }):
  Promise<DdlOutcome> {
  return storage.catalog.runDdl(async (ddl) => {
    const info = ddl.schema.table(target.db, target.name);
    if (info === undefined) throw mysqlError(ER.NO_SUCH_TABLE, [target.db, target.name]);
    ddl.deleteTable(info);
    ddl.putTable({ ...info, id: await ddl.allocId() });
    storage.autoIds.forget(info.id);
    return none;
  });
}
