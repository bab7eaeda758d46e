/**
 * What DDL checks about foreign keys, as MySQL 8 does while `foreign_key_checks` is on:
 * CREATE TABLE's references must name an existing table (1824) with an index starting
 * with the referenced columns (1822), of compatible types (3780); DROP TABLE of a parent
 * whose child is not dropped with it is 3730; TRUNCATE of a referenced table is 1701.
 * With the variable off (what dumps set) none of this is checked, so tables load in any
 * order. The checks are pure functions of a schema; `schemaForCheck` reads the latest one
 * (the DDL job itself runs later, so a concurrent DDL can slip between — as with any
 * session-side check).
 */
import type { InfoSchema } from "../catalog/catalog.ts";
import type { ColumnInfo, ForeignKeyInfo, TableInfo } from "../catalog/schema.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import type { SqlStorage } from "./storage.ts";

function formatIdent(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

const lower = (s: string): string => s.toLowerCase();

/** Whether a child column can reference a parent column (same kind and signedness). */
function compatible(child: ColumnInfo, parent: ColumnInfo): boolean {
  const a = child.type;
  const b = parent.type;
  if (a.kind !== b.kind) return false;
  if (a.kind === "int" || a.kind === "decimal") return a.unsigned === b.unsigned;
  return true;
}

/** The 1824 / 1822 / 3780 of a new table's foreign keys, or null. */
export function foreignKeyCreateError(schema: InfoSchema, db: string, table: TableInfo):
  MySqlError | null {
  for (const fk of table.foreignKeys ?? []) {
    const parentDb = fk.refDb ?? db;
    const self = lower(parentDb) === lower(db) && lower(fk.refTable) === lower(table.name);
    const parent = self ? table : schema.table(parentDb, fk.refTable);
    if (parent === undefined) return mysqlError(ER.FK_CANNOT_OPEN_PARENT, [fk.refTable]);
    // A partitioned parent cannot be referenced, as in MySQL.
    if (parent.partition !== undefined) return mysqlError(ER.FOREIGN_KEY_ON_PARTITIONED);
    const missingIndex = mysqlError(ER.FK_NO_INDEX_PARENT, [fk.name, fk.refTable]);
    if (fk.refColumns.length !== fk.columns.length) return missingIndex;
    const offsets: number[] = [];
    for (const [k, name] of fk.refColumns.entries()) {
      const column = parent.columns.find((c) => lower(c.name) === lower(name));
      if (column === undefined) return missingIndex;
      const child = table.columns[fk.columns[k]!]!;
      if (!compatible(child, column)) {
        return mysqlError(ER.FK_INCOMPATIBLE_COLUMNS, [child.name, column.name, fk.name]);
      }
      offsets.push(column.offset);
    }
    const indexed = (parent.pkHandle !== null && offsets.length === 1 &&
      offsets[0] === parent.pkHandle) ||
      parent.indexes.some((i) => offsets.every((o, k) => i.columns[k] === o));
    if (!indexed) return missingIndex;
  }
  return null;
}

/** Every foreign key of another table that references `db.name`. */
function referencing(schema: InfoSchema, db: string, name: string):
  { childDb: string; child: TableInfo; fk: ForeignKeyInfo }[] {
  const out: { childDb: string; child: TableInfo; fk: ForeignKeyInfo }[] = [];
  for (const childDb of schema.databaseNames()) {
    for (const child of schema.database(childDb)?.tables.values() ?? []) {
      for (const fk of child.foreignKeys ?? []) {
        if (lower(fk.refDb ?? childDb) === lower(db) && lower(fk.refTable) === lower(name)) {
          out.push({ childDb, child, fk });
        }
      }
    }
  }
  return out;
}

/** 3730 when a dropped table is referenced by a table not dropped with it, or null. */
export function foreignKeyDropError(schema: InfoSchema,
  tables: readonly { readonly db: string; readonly name: string }[]): MySqlError | null {
  const dropped = new Set(tables.map((t) => `${lower(t.db)}.${lower(t.name)}`));
  for (const t of tables) {
    for (const ref of referencing(schema, t.db, t.name)) {
      if (dropped.has(`${lower(ref.childDb)}.${lower(ref.child.name)}`)) continue;
      return mysqlError(ER.FK_CANNOT_DROP_PARENT, [t.name, ref.fk.name, ref.child.name]);
    }
  }
  return null;
}

/** 1701 when another table references `db.name`, or null. */
export function foreignKeyTruncateError(schema: InfoSchema,
  target: { readonly db: string; readonly name: string }): MySqlError | null {
  const ref = referencing(schema, target.db, target.name)
    .find((r) => lower(r.childDb) !== lower(target.db) ||
      lower(r.child.name) !== lower(target.name));
  if (ref === undefined) return null;
  const { child, fk } = ref;
  const cols = fk.columns.map((o) => formatIdent(child.columns[o]!.name)).join(", ");
  return mysqlError(ER.TRUNCATE_ILLEGAL_FK, [`${formatIdent(ref.childDb)}.` +
    `${formatIdent(child.name)}, CONSTRAINT ${formatIdent(fk.name)} FOREIGN KEY (${cols}) ` +
    `REFERENCES ${formatIdent(target.db)}.${formatIdent(target.name)} ` +
    `(${fk.refColumns.map(formatIdent).join(", ")})`]);
}

/** Runs `check` on the latest schema and throws what it returns. */
export async function checkForeignKeyDdl(storage: SqlStorage,
  check: (schema: InfoSchema) => MySqlError | null): Promise<void> {
  const txn = await storage.client.begin();
  let error: MySqlError | null;
  try {
    error = check(await storage.catalog.schemaAt(txn));
  } finally {
    await txn.rollback();
  }
  if (error !== null) throw error;
}
