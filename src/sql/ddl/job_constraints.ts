/**
 * The steps of ALTER TABLE ADD/DROP FOREIGN KEY and ADD/DROP CHECK (see `job.ts` for the
 * job model).
 *
 * ADD CHECK / ADD FOREIGN KEY (enforced, or with foreign_key_checks on): none →
 * write-only → (validate) → public. In write-only every writer enforces the constraint
 * (write_rows.ts does not look at the state) while readers do not show it; once every
 * node runs write-only the owner checks every existing row (`validate.ts`, 3819 / 1452),
 * and a violation rolls the job back (the constraint removed, the error kept). A CHECK
 * NOT ENFORCED, or a foreign key added with foreign_key_checks off, is one step straight
 * to public, as MySQL then checks no row. DROP CHECK / DROP FOREIGN KEY are one step:
 * removing a constraint never breaks a transaction of the version before (compatible).
 * Pure given the catalog, as `job.ts`.
 */
import type { DdlTxn } from "../catalog/catalog.ts";
import { type CheckInfo, type ForeignKeyInfo, type TableInfo, isPublic }
  from "../catalog/schema.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import {
  type ArgsOf,
  type DdlJob,
  type StepResult,
  finish,
  jobTable,
  lower,
  withState,
} from "./job.ts";

/** The next free `{table}_{infix}_{n}` name among `taken` (MySQL's generated names). */
function generatedName(table: string, infix: string, taken: readonly string[]): string {
  const prefix = lower(`${table}_${infix}_`);
  let n = 0;
  for (const name of taken) {
    const lowered = lower(name);
    if (!lowered.startsWith(prefix)) continue;
    const k = Number(lowered.slice(prefix.length));
    if (Number.isInteger(k) && k > n) n = k;
  }
  return `${table}_${infix}_${n + 1}`;
}

function withChecks(table: TableInfo, checks: readonly CheckInfo[]): TableInfo {
  const copy: { -readonly [K in keyof TableInfo]: TableInfo[K] } = { ...table, checks };
  if (checks.length === 0) delete copy.checks;
  return copy;
}

function withForeignKeys(table: TableInfo, foreignKeys: readonly ForeignKeyInfo[]): TableInfo {
  const copy: { -readonly [K in keyof TableInfo]: TableInfo[K] } = { ...table, foreignKeys };
  if (foreignKeys.length === 0) delete copy.foreignKeys;
  return copy;
}

/** The new CHECK of an ADD CHECK job, checked against `table` (3822, 3820). */
function newCheck(table: TableInfo, args: ArgsOf<"addCheck">): CheckInfo {
  const checks = table.checks ?? [];
  const name = args.name ?? generatedName(table.name, "chk", checks.map((c) => c.name));
  if (checks.some((c) => lower(c.name) === lower(name))) {
    throw mysqlError(ER.CHECK_CONSTRAINT_DUP_NAME, [name]);
  }
  for (const column of args.columns) {
    if (!table.columns.some((c) => isPublic(c) && lower(c.name) === lower(column))) {
      throw mysqlError(ER.CHECK_CONSTRAINT_REFERS_UNKNOWN_COLUMN, [name, column]);
    }
  }
  return { name, exprText: args.exprText, enforced: args.enforced };
}

/** The new foreign key of an ADD FOREIGN KEY job, checked against `table` (1826 …). */
function newForeignKey(table: TableInfo, args: ArgsOf<"addForeignKey">): ForeignKeyInfo {
  const fks = table.foreignKeys ?? [];
  const spec = args.fk;
  const name = spec.name ?? generatedName(table.name, "ibfk", fks.map((f) => f.name));
  if (fks.some((f) => lower(f.name) === lower(name))) {
    throw mysqlError(ER.FK_DUP_NAME, [name]);
  }
  const offsets = spec.columns.map((columnName) => {
    const column = table.columns.find((c) => isPublic(c) && lower(c.name) === lower(columnName));
    if (column === undefined) throw mysqlError(ER.KEY_COLUMN_DOES_NOT_EXITS, [columnName]);
    return column.offset;
  });
  if (spec.onDelete === "SET NULL" || spec.onUpdate === "SET NULL") {
    const notNull = offsets.map((o) => table.columns[o]!).find((c) => !c.nullable);
    if (notNull !== undefined) throw mysqlError(ER.FK_COLUMN_CANNOT_BE_NULL, [notNull.name, name]);
  }
  const covered = (table.pkHandle !== null && offsets.length === 1 &&
    offsets[0] === table.pkHandle) || table.indexes.some((i) => isPublic(i) &&
    offsets.every((o, k) => i.columns[k] === o));
  if (!covered) throw mysqlError(ER.FK_NO_INDEX_CHILD, [name, table.name]);
  return { name, columns: offsets, refDb: spec.refDb, refTable: spec.refTable,
    refColumns: spec.refColumns, onDelete: spec.onDelete, onUpdate: spec.onUpdate };
}

/** ADD CHECK / ADD FOREIGN KEY; see the file comment. */
export function addConstraintStep(job: DdlJob, args: ArgsOf<"addCheck" | "addForeignKey">,
  ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  const change = { tableIds: [table.id], compatible: true };
  const isCheck = args.kind === "addCheck";
  const given = isCheck ? args.checkName : args.fkName;
  if (given === undefined) {
    const validate = isCheck ? args.enforced : args.validate;
    const state = validate ? "writeOnly" : "public";
    let name: string;
    if (isCheck) {
      const check = withState(newCheck(table, args), state);
      name = check.name;
      ddl.putTable(withChecks(table, [...table.checks ?? [], check]));
    } else {
      const fk = withState(newForeignKey(table, args), state);
      name = fk.name;
      ddl.putTable(withForeignKeys(table, [...table.foreignKeys ?? [], fk]));
    }
    const named = isCheck ? { ...args, checkName: name } : { ...args, fkName: name };
    const running: DdlJob = { ...job, ...ids, args: named };
    return { job: validate ? { ...running, schemaState: "writeOnly" }
      : finish(running, { schemaState: "public" }), change, reorg: null };
  }
  const present = isCheck ? (table.checks ?? []).some((c) => c.name === given)
    : (table.foreignKeys ?? []).some((f) => f.name === given);
  if (!present) throw new Error(`job ${job.id}: constraint ${given} is gone`);
  const edit = (next: "public" | null): TableInfo => isCheck
    ? withChecks(table, (table.checks ?? []).flatMap((c) => c.name !== given ? [c]
      : next === null ? [] : [withState(c, next)]))
    : withForeignKeys(table, (table.foreignKeys ?? []).flatMap((f) => f.name !== given ? [f]
      : next === null ? [] : [withState(f, next)]));
  if (job.state === "rollingBack") {
    ddl.putTable(edit(null));
    return { job: { ...job, state: "rolledBack", schemaState: "none" }, change, reorg: null };
  }
  if (!job.reorgDone) {
    return { job, change: null, reorg: { kind: "validate", tableId: table.id,
      constraint: isCheck ? "check" : "foreignKey", name: given } };
  }
  ddl.putTable(edit("public"));
  return { job: finish(job, { schemaState: "public" }), change, reorg: null };
}

/** DROP CHECK (3821 when there is none) / DROP FOREIGN KEY (1091). */
export function dropConstraintStep(job: DdlJob, args: ArgsOf<"dropCheck" | "dropForeignKey">,
  ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  let next: TableInfo;
  if (args.kind === "dropCheck") {
    const checks = table.checks ?? [];
    const found = checks.find((c) => isPublic(c) && lower(c.name) === lower(args.name));
    if (found === undefined) throw mysqlError(ER.CHECK_CONSTRAINT_NOT_FOUND, [args.name]);
    next = withChecks(table, checks.filter((c) => c !== found));
  } else {
    const fks = table.foreignKeys ?? [];
    const found = fks.find((f) => isPublic(f) && lower(f.name) === lower(args.name));
    if (found === undefined) throw mysqlError(ER.CANT_DROP_FIELD_OR_KEY, [args.name]);
    next = withForeignKeys(table, fks.filter((f) => f !== found));
  }
  ddl.putTable(next);
  return { job: finish({ ...job, ...ids }, { schemaState: "none" }),
    change: { tableIds: [table.id], compatible: true }, reorg: null };
}
