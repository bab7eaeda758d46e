/**
 * The columns of a view, as SHOW COLUMNS and information_schema.COLUMNS list them: the
 * view is planned (`SELECT * FROM db.view`, never run) and each result column becomes a
 * `ColumnInfo`. A column that comes straight from a table column keeps that column's
 * declared type; a computed one gets the type its expression has (BIGINT, DECIMAL(p,s),
 * DOUBLE, VARCHAR(n) / LONGTEXT, DATETIME(fsp)). Planning reads no rows.
 */
import type { FieldType } from "../../expr/mod.ts";
import type { Query } from "../parser/ast.ts";
import { parse } from "../parser/parse.ts";
import type { ColumnInfo, ColumnType } from "../catalog/schema.ts";
import { type PlanEnv, Planner } from "../plan/mod.ts";
import { Frame } from "../plan/scope.ts";

function quote(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

/** The declared type a computed column of `type` is shown with. */
function columnTypeOf(type: FieldType): ColumnType {
  const base = { unsigned: type.unsigned, scale: 0, binaryCollation: false };
  switch (type.kind) {
    case "int":
      return { ...base, name: "BIGINT", kind: "int", length: null };
    case "decimal":
      return { ...base, name: "DECIMAL", kind: "decimal", length: type.precision,
        scale: type.decimals };
    case "double":
      return { ...base, name: "DOUBLE", kind: "double", length: null };
    case "datetime":
      return { ...base, name: "DATETIME", kind: "datetime", length: null,
        scale: Math.min(type.decimals, 6) };
    case "string":
    case "null":
      return type.length > 16383 ? { ...base, name: "LONGTEXT", kind: "string", length: null }
        : { ...base, name: "VARCHAR", kind: "string", length: Math.max(type.length, 0) };
  }
}

/** The columns of view `db.view`; throws the MySqlError planning raises (a broken view). */
export function viewColumns(env: PlanEnv, db: string, view: string): ColumnInfo[] {
  // The view's own SELECT is planned (in the view's database), so columns taken from a
  // table keep that table column's declared type; `SELECT * FROM view` is the fallback.
  const info = env.schema.database(db)?.views?.get(view.toLowerCase());
  const text = info?.definition ?? `SELECT * FROM ${quote(db)}.${quote(view)}`;
  const parsed = parse(text);
  if (parsed.kind === "error" || parsed.statements.length !== 1) {
    throw new Error(`cannot describe view ${db}.${view}`);
  }
  const query = parsed.statements[0]!.statement as Query;
  const plan = new Planner({ ...env, database: db }).planQuery(query, new Frame(null), null);
  const names = info?.columns ?? plan.names;
  return names.map((name, offset) => {
    const type = plan.types[offset]!;
    const origin = plan.origins[offset] ?? null;
    const source = origin === null ? undefined : env.schema.table(origin.db ?? db,
      origin.orgTable)?.columns.find((c) => c.name.toLowerCase() ===
      origin.orgName.toLowerCase());
    return { id: offset + 1, name, offset, nullable: type.nullable, autoIncrement: false,
      type: source?.type ?? columnTypeOf(type), defaultText: source?.defaultText ?? null };
  });
}
