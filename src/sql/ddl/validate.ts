/**
 * The DDL owner's check of existing rows against a constraint ALTER TABLE adds (the
 * validate reorg of `job_constraints.ts`): every row of the table must satisfy a new CHECK
 * (else 3819, as MySQL's ALTER TABLE ADD CHECK), every row with no NULL in a new foreign
 * key's columns must have its parent row (else 1452).
 *
 * The rows are read from one snapshot taken after every node runs the constraint in
 * write-only (so every row committed without it being enforced is in the snapshot, and
 * every later write enforces it), a page of `pageRows` at a time, so memory stays bounded.
 * A CHECK is evaluated without a session: its expression may use no variables or
 * non-deterministic functions (MySQL refuses those in CHECK), so a fixed context serves.
 */
import type { Transaction } from "../../client/mod.ts";
import { prefixNext } from "../../codec/mod.ts";
import {
  type EvalContext,
  type Expr,
  type Value,
  columnRef,
  defaultBuildOptions,
  evaluate,
  isTrue,
} from "../../expr/mod.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import { type ForeignKeyInfo, type IndexInfo, type TableInfo, fieldTypeOf }
  from "../catalog/schema.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { parseExpression } from "../parser/parse.ts";
import { translate } from "../session/to_expr.ts";
import { decodeRowValue, handleOf, indexEntry, rowKey, rowRange } from "../table/table.ts";

/** Rows read per page. */
const pageRows = 512;

/** Calls `visit` for every row of `table` at `txn`'s snapshot, in handle order. */
async function forEachRow(txn: Transaction, table: TableInfo,
  visit: (values: Value[]) => Promise<void> | void): Promise<void> {
  const range = rowRange(table);
  for (let start = range.start; ;) {
    const page = await txn.scan(start, range.end, { limit: pageRows });
    for (const pair of page) await visit(decodeRowValue(table, pair.value));
    if (page.length < pageRows) return;
    const last = page[page.length - 1]!.key;
    start = new Uint8Array(last.length + 1);
    start.set(last);
  }
}

const fixedContext: EvalContext = {
  warn: () => undefined,
  statementTime: { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0,
    microsecond: 0 },
  database: null,
  user: "",
  currentUser: "",
  connectionId: 0,
  version: "",
  lastInsertId: 0n,
  setLastInsertId: () => undefined,
  setUserVariable: () => undefined,
};

/** The compiled expression of CHECK `exprText` over `table`'s row. */
function checkExpr(table: TableInfo, exprText: string): Expr {
  const parsed = parseExpression(exprText);
  if (parsed.kind === "error") throw parsed.error;
  const noVariables = (): never => {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["variables in a CHECK constraint"]);
  };
  return translate(parsed.expr, {
    options: defaultBuildOptions, clause: "check constraint", params: null, database: null,
    userVariable: noVariables, systemVariable: noVariables,
    column: (name) => {
      const c = table.columns.find((col) => col.name.toLowerCase() === name.toLowerCase());
      return c === undefined ? undefined : columnRef(c.offset, c.name, fieldTypeOf(c));
    },
  });
}

/** Throws 3819 when a row of `table` makes CHECK `name` false. */
export async function validateCheck(txn: Transaction, table: TableInfo, name: string):
  Promise<void> {
  const check = (table.checks ?? []).find((c) => c.name === name);
  if (check === undefined) throw new Error(`check ${name} of ${table.name} is gone`);
  const expr = checkExpr(table, check.exprText);
  await forEachRow(txn, table, (values) => {
    const ctx: EvalContext = { ...fixedContext, row: values };
    if (isTrue(evaluate(expr, ctx), ctx.warn) === false) {
      throw mysqlError(ER.CHECK_CONSTRAINT_VIOLATED, [check.name]);
    }
  });
}

function formatIdent(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

/** The database name of id `dbId`. */
function databaseName(schema: InfoSchema, dbId: number): string {
  return schema.databaseNames().find((d) => schema.database(d)?.info.id === dbId) ?? "";
}

/** 1452 for a row of `child` without its parent under `fk`. */
function orphanError(schema: InfoSchema, child: TableInfo, fk: ForeignKeyInfo): Error {
  const cols = fk.columns.map((o) => formatIdent(child.columns[o]!.name)).join(", ");
  let text = `${formatIdent(databaseName(schema, child.dbId))}.${formatIdent(child.name)}, ` +
    `CONSTRAINT ${formatIdent(fk.name)} FOREIGN KEY (${cols}) REFERENCES ` +
    `${formatIdent(fk.refTable)} (${fk.refColumns.map(formatIdent).join(", ")})`;
  if (fk.onDelete !== null) text += ` ON DELETE ${fk.onDelete}`;
  if (fk.onUpdate !== null) text += ` ON UPDATE ${fk.onUpdate}`;
  return mysqlError(ER.NO_REFERENCED_ROW_2, [text]);
}

/**
 * Whether `parent` has a row whose columns at `offsets` equal `values`, read through its
 * clustered key or an index those columns lead (as the writers' parent check does);
 * undefined when no key can answer.
 */
async function parentExists(txn: Transaction, parent: TableInfo, offsets: readonly number[],
  values: readonly Value[]): Promise<boolean | undefined> {
  const image: Value[] = parent.columns.map(() => null);
  offsets.forEach((o, k) => {
    image[o] = values[k] ?? null;
  });
  if (parent.pkHandle !== null && offsets.length === 1 && offsets[0] === parent.pkHandle) {
    const key = image[parent.pkHandle] ?? null;
    if (key === null || (key.kind !== "int" && key.kind !== "uint")) return false;
    return (await txn.get(rowKey(parent, handleOf(key)))) !== null;
  }
  const index = parent.indexes.find((i) => (i.state ?? "public") !== "deleteOnly" &&
    offsets.every((o, k) => i.columns[k] === o));
  if (index === undefined) return undefined;
  const prefixIndex: IndexInfo = { ...index, unique: true, columns: offsets };
  const prefix = indexEntry(parent, prefixIndex, { values: image, handle: 0n }).key;
  if (index.unique && index.columns.length === offsets.length) {
    return (await txn.get(prefix)) !== null;
  }
  return (await txn.scan(prefix, prefixNext(prefix), { limit: 1 })).length > 0;
}

/** Throws 1452 when a row of `table` has no parent row under foreign key `name`. */
export async function validateForeignKey(txn: Transaction, schema: InfoSchema,
  table: TableInfo, name: string): Promise<void> {
  const fk = (table.foreignKeys ?? []).find((f) => f.name === name);
  if (fk === undefined) throw new Error(`foreign key ${name} of ${table.name} is gone`);
  const parent = schema.table(fk.refDb ?? databaseName(schema, table.dbId), fk.refTable);
  const offsets = fk.refColumns.map((c) => parent?.columns.find((col) =>
    col.name.toLowerCase() === c.toLowerCase())?.offset ?? -1);
  await forEachRow(txn, table, async (values) => {
    const keyValues = fk.columns.map((o) => values[o] ?? null);
    if (keyValues.some((v) => v === null)) return;
    if (parent === undefined || offsets.includes(-1)) throw orphanError(schema, table, fk);
    const found = await parentExists(txn, parent, offsets, keyValues);
    if (found !== true) throw orphanError(schema, table, fk);
  });
}
