/**
 * Views: CREATE [OR REPLACE] VIEW, DROP VIEW [IF EXISTS], SHOW CREATE VIEW, and what SHOW
 * TABLES lists.
 *
 * A view is stored in the catalog as its SELECT printed back to SQL, with its column
 * names fixed at creation (the names given, or the SELECT's own as MySQL derives them
 * from the text), so a later reprint cannot rename a column. CREATE VIEW plans the
 * SELECT once to report what MySQL reports then (unknown tables and columns, a column
 * list of the wrong length, duplicate names); the planner expands a view where it is
 * used (`Planner.viewSource`). Views and tables share one namespace per database.
 */
import type { Query, TableName } from "../parser/ast.ts";
import { formatQuery } from "../parser/format.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { deleteView, putView } from "../catalog/catalog.ts";
import type { ViewInfo } from "../catalog/schema.ts";
import type { SqlStorage } from "../exec/storage.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import { type PlanEnv, Planner } from "./planner.ts";
import { Frame } from "./scope.ts";

/** The views of database `db` by lower-case name. */
export function viewsOf(schema: InfoSchema, db: string): ReadonlyMap<string, ViewInfo> {
  return schema.database(db)?.views ?? new Map();
}

/** What a view DDL reports: notes for IF EXISTS that found nothing. */
export interface ViewOutcome {
  readonly notes: readonly MySqlError[];
}

function planOnlyEnv(schema: InfoSchema, database: string, env: Pick<PlanEnv, "scope" |
  "evalContext">): PlanEnv {
  const never = (): never => {
    throw new Error("CREATE VIEW plans its SELECT without running it");
  };
  return { schema, database, scope: env.scope, evalContext: env.evalContext, scanTable: never,
    getRow: never, lockRows: never };
}

export async function createView(storage: SqlStorage, target: { readonly db: string;
  readonly name: string }, statement: { readonly orReplace: boolean;
  readonly columns: readonly string[] | null; readonly query: Query;
  readonly checkOption: "CASCADED" | "LOCAL" | null },
fieldTexts: readonly (string | undefined)[] | null,
env: Pick<PlanEnv, "scope" | "evalContext">): Promise<ViewOutcome> {
  return storage.catalog.runDdl(async (ddl) => {
    const db = ddl.schema.database(target.db);
    if (db === undefined) throw mysqlError(ER.BAD_DB_ERROR, [target.db]);
    const key = target.name.toLowerCase();
    if (db.tables.has(key)) {
      if (statement.orReplace) throw mysqlError(ER.WRONG_OBJECT, [target.db, target.name, "VIEW"]);
      throw mysqlError(ER.TABLE_EXISTS_ERROR, [target.name]);
    }
    const existing = viewsOf(ddl.schema, target.db).get(key);
    if (existing !== undefined && !statement.orReplace) {
      throw mysqlError(ER.TABLE_EXISTS_ERROR, [target.name]);
    }
    const planner = new Planner(planOnlyEnv(ddl.schema, db.info.name, env));
    planner.forbidView(db.info.name, target.name);
    const plan = planner.planQuery(statement.query, new Frame(null), fieldTexts);
    if (statement.columns !== null && statement.columns.length !== plan.names.length) {
      throw mysqlError(ER.VIEW_WRONG_LIST);
    }
    const columns = statement.columns ?? plan.names;
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c.toLowerCase())) throw mysqlError(ER.DUP_FIELDNAME, [c]);
      seen.add(c.toLowerCase());
    }
    putView(ddl, {
      id: existing?.id ?? await ddl.allocId(),
      name: existing?.name ?? target.name,
      dbId: db.info.id,
      columns,
      definition: formatQuery(statement.query),
      checkOption: statement.checkOption,
    });
    return { notes: [] };
  });
}

/** DROP VIEW: 1051 for a missing view (a note with IF EXISTS), 1347 for a table. */
export async function dropViews(storage: SqlStorage, names: readonly { readonly db: string;
  readonly name: string }[], options: { readonly ifExists: boolean }): Promise<ViewOutcome> {
  return storage.catalog.runDdl((ddl) => {
    const missing: string[] = [];
    for (const n of names) {
      const view = viewsOf(ddl.schema, n.db).get(n.name.toLowerCase());
      if (view !== undefined) {
        deleteView(ddl, view);
        continue;
      }
      if (ddl.schema.table(n.db, n.name) !== undefined) {
        throw mysqlError(ER.WRONG_OBJECT, [n.db, n.name, "VIEW"]);
      }
      missing.push(`${n.db}.${n.name}`);
    }
    if (missing.length > 0 && !options.ifExists) {
      throw mysqlError(ER.BAD_TABLE_ERROR, [missing.join(",")]);
    }
    return Promise.resolve({ notes: missing.map((m) => mysqlError(ER.BAD_TABLE_ERROR, [m])) });
  });
}

/** Deletes the views of a database being dropped (inside its DROP DATABASE). */
export function dropDatabaseViews(ddl: Parameters<typeof deleteView>[0], db: string): void {
  for (const view of viewsOf(ddl.schema, db).values()) deleteView(ddl, view);
}

/** An identifier as MySQL's SHOW output quotes it: always in backquotes. */
function quoted(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** SHOW CREATE VIEW's row: View, Create View, character_set_client, collation_connection. */
export function showCreateView(schema: InfoSchema, name: TableName, database: string | null):
  string[] {
  const db = name.db ?? database;
  if (db === null) throw mysqlError(ER.NO_DB_ERROR);
  const view = viewsOf(schema, db).get(name.name.toLowerCase());
  if (view === undefined) {
    if (schema.table(db, name.name) !== undefined) {
      throw mysqlError(ER.WRONG_OBJECT, [db, name.name, "VIEW"]);
    }
    throw mysqlError(ER.NO_SUCH_TABLE, [db, name.name]);
  }
  const columns = view.columns === null ? ""
    : ` (${view.columns.map(quoted).join(",")})`;
  const check = view.checkOption === null ? "" : ` WITH ${view.checkOption} CHECK OPTION`;
  return [view.name, `CREATE ALGORITHM=UNDEFINED DEFINER=\`root\`@\`%\` SQL SECURITY DEFINER ` +
    `VIEW ${quoted(view.name)}${columns} AS ${view.definition}${check}`, "utf8mb4",
  "utf8mb4_general_ci"];
}
