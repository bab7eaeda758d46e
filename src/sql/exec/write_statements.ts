/**
 * The write half of INSERT / REPLACE / INSERT … ON DUPLICATE KEY UPDATE, UPDATE and
 * DELETE, once the statement's rows are known (dml.ts reads and evaluates them): rows
 * are applied one at a time through a `RowWriter` into the statement's `StatementWrites`,
 * which reach the transaction only when every row has passed, so a failing statement
 * leaves its transaction as it found it.
 *
 * MySQL's rules, as MySQL 8 counts them:
 * - INSERT: 1 affected row per row; a key another row owns is 1062.
 * - IGNORE: a row failing with 1062, 1451, 1452 or 3819 is skipped with that error as
 *   a warning (its partial writes undone); `duplicates` counts the 1062s.
 * - REPLACE: every row owning a key the new row needs (primary key, then each unique
 *   key) is deleted — 1 affected row each, foreign-key ON DELETE actions applied — then
 *   the row is inserted (1 more).
 * - ON DUPLICATE KEY UPDATE: the first row owning a key (primary key first) is updated
 *   instead: 2 affected rows if it changed, 0 if not (1 with CLIENT_FOUND_ROWS); the
 *   update may itself fail with 1062 on another key.
 * - The first auto-generated id of a row actually inserted is the statement's
 *   LAST_INSERT_ID; updated rows do not set it.
 */
import type { Transaction } from "../../client/mod.ts";
import type { EvalContext, Value } from "../../expr/mod.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { ER, MySqlError } from "../mysql_errors.ts";
import type { TranslateScope } from "../session/to_expr.ts";
import type { RowImage } from "../table/index_writes.ts";
import { StatementWrites } from "./write_overlay.ts";
import { RowWriter, isIgnorable, sameValue } from "./write_rows.ts";

/** What the write half of a DML statement runs with. */
export interface WriteContext {
  readonly txn: Transaction;
  readonly schema: InfoSchema;
  /** `@@foreign_key_checks`. */
  readonly foreignKeyChecks: boolean;
  /** The client asked for found (matched) rather than changed rows (CLIENT_FOUND_ROWS). */
  readonly foundRows: boolean;
  scope(clause: string): TranslateScope;
  evalContext(): EvalContext;
  /** Records a warning of the statement (SHOW WARNINGS). */
  warn(warning: MySqlError): void;
}

/** A row an INSERT wants to write: converted values and its handle. */
export interface NewRow extends RowImage {
  readonly values: Value[];
  /** The auto-increment value generated for this row, if one was. */
  readonly generatedId: bigint | null;
  /** Conversion warnings of the row, reported when the row is written (in row order). */
  readonly warnings?: readonly MySqlError[];
}

/** ON DUPLICATE KEY UPDATE: the new values of `old` given the row that collided. */
export type OnDuplicate = (old: RowImage, inserted: RowImage, rowNumber: number) => Value[];

export interface InsertOptions {
  readonly ignore: boolean;
  readonly replace: boolean;
  readonly onDuplicate: OnDuplicate | null;
  /** Of a partitioned table: the partitions `INSERT … PARTITION (…)` named (positions). */
  readonly partitions?: readonly number[];
}

export interface InsertOutcome {
  readonly affectedRows: number;
  /** Rows the statement had. */
  readonly records: number;
  /** Rows that met a duplicate key (skipped, replaced or updated). */
  readonly duplicates: number;
  /** The first id generated for a row that was inserted, or null. */
  readonly firstGeneratedId: bigint | null;
  /** Rows actually inserted. */
  readonly inserted: number;
  /** The last row inserted or updated, or null. */
  readonly lastWritten: RowImage | null;
}

function writerOf(ctx: WriteContext, writes: StatementWrites): RowWriter {
  return new RowWriter({ writes, schema: ctx.schema, foreignKeyChecks: ctx.foreignKeyChecks,
    scope: (clause) => ctx.scope(clause), evalContext: () => ctx.evalContext() });
}

function sameRow(a: RowImage, b: RowImage): boolean {
  return a.handle === b.handle && a.values.every((v, i) => sameValue(v, b.values[i] ?? null));
}

/** Thrown by a row body to skip the row without a warning (it is gone or unchanged). */
const skipRow = new Error("row skipped");

/**
 * Runs `body` for one row; under IGNORE an ignorable error skips the row with a warning.
 * Returns the error that skipped the row (`skipRow` for a silent skip), or null.
 */
async function perRow(ctx: WriteContext, writes: StatementWrites, ignore: boolean,
  body: () => Promise<void>): Promise<Error | null> {
  const mark = writes.mark();
  try {
    await body();
    return null;
  } catch (error: unknown) {
    if (error === skipRow) {
      writes.undo(mark);
      return skipRow;
    }
    if (!ignore || !isIgnorable(error)) throw error;
    writes.undo(mark);
    ctx.warn(error);
    return error;
  }
}

/** INSERT, INSERT IGNORE, REPLACE and ON DUPLICATE KEY UPDATE of prepared rows. */
export async function insertRows(ctx: WriteContext, table: TableInfo,
  rows: readonly NewRow[], options: InsertOptions): Promise<InsertOutcome> {
  const writes = new StatementWrites(ctx.txn);
  const writer = writerOf(ctx, writes);
  writer.allowedPartitions = options.partitions;
  await writer.prefetchUnique(table, rows.map((after) => ({ before: null, after })));
  let affectedRows = 0;
  let duplicates = 0;
  let inserted = 0;
  // MySQL counts in "Records" the rows that reached the write, not those a CHECK stopped.
  let checkFailures = 0;
  let firstGeneratedId: bigint | null = null;
  let lastWritten: RowImage | null = null;
  const insertOne = async (row: NewRow): Promise<void> => {
    await writer.insertRow(table, row);
    lastWritten = row;
    inserted++;
    affectedRows++;
    if (row.generatedId !== null) firstGeneratedId ??= row.generatedId;
  };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (const warning of row.warnings ?? []) ctx.warn(warning);
    // A row skipped under IGNORE counts nothing, even what it did before it failed.
    const counted: { affectedRows: number; duplicates: number; inserted: number;
      firstGeneratedId: bigint | null; lastWritten: RowImage | null } =
      { affectedRows, duplicates, inserted, firstGeneratedId, lastWritten };
    const failed = await perRow(ctx, writes, options.ignore, async () => {
      if (options.replace) {
        writer.checkConstraints(table, row.values);
        let replaced = false;
        for (let found = await writer.conflict(table, { before: null, after: row });
          found !== null; found = await writer.conflict(table, { before: null, after: row })) {
          const old = await writer.loadRow(found.table, found.handle);
          if (old === null) throw new Error(`index entry of ${found.check.keyName} without row`);
          await writer.deleteRow(table, old);
          affectedRows++;
          replaced = true;
        }
        if (replaced) duplicates++;
        await insertOne(row);
        return;
      }
      if (options.onDuplicate !== null) {
        writer.checkConstraints(table, row.values);
        const found = await writer.conflict(table, { before: null, after: row });
        if (found === null) {
          await insertOne(row);
          return;
        }
        const old = await writer.loadRow(found.table, found.handle);
        if (old === null) throw new Error(`index entry of ${found.check.keyName} without row`);
        duplicates++;
        const values = options.onDuplicate(old, row, i + 1);
        const handle = table.pkHandle === null ? old.handle
          : handleFromValue(values[table.pkHandle] ?? null, old.handle);
        const next: RowImage = { handle, values };
        if (sameRow(old, next)) {
          if (ctx.foundRows) affectedRows++;
          return;
        }
        writer.checkConstraints(table, values);
        await writer.updateRow(table, old, next);
        lastWritten = next;
        affectedRows += 2;
        return;
      }
      await insertOne(row);
    });
    if (failed !== null) {
      ({ affectedRows, duplicates, inserted, firstGeneratedId, lastWritten } = counted);
    }
    if (failed instanceof MySqlError && failed.errno === ER.DUP_ENTRY.errno) duplicates++;
    if (failed instanceof MySqlError && failed.errno === ER.CHECK_CONSTRAINT_VIOLATED.errno) {
      checkFailures++;
    }
  }
  await writes.flush();
  return { affectedRows, records: rows.length - checkFailures, duplicates, firstGeneratedId,
    inserted, lastWritten };
}

function handleFromValue(value: Value, fallback: bigint): bigint {
  if (value === null || (value.kind !== "int" && value.kind !== "uint")) return fallback;
  return BigInt.asIntN(64, value.value);
}

/** One row an UPDATE changes. */
export interface RowChange {
  readonly before: RowImage;
  readonly after: RowImage;
}

/**
 * UPDATE [IGNORE] of rows whose new values are computed; returns the rows changed. A row
 * an earlier row's foreign-key cascade already changed gets its new values from
 * `recompute` (null: now unchanged); one it deleted is skipped.
 */
export async function updateRows(ctx: WriteContext, table: TableInfo,
  changes: readonly RowChange[], options: { readonly ignore: boolean;
    readonly recompute: (current: RowImage, index: number) => RowImage | null;
    /** Of a partitioned table: the partitions `UPDATE t PARTITION (…)` named. */
    readonly partitions?: readonly number[] }):
  Promise<number> {
  const writes = new StatementWrites(ctx.txn);
  const writer = writerOf(ctx, writes);
  writer.allowedPartitions = options.partitions;
  await writer.prefetchUnique(table, changes);
  let changed = 0;
  for (const [i, change] of changes.entries()) {
    const failed = await perRow(ctx, writes, options.ignore, async () => {
      const current = await writer.currentRow(table, change.before);
      const after = current === change.before ? change.after
        : current === null ? null : options.recompute(current, i);
      if (current === null || after === null) throw skipRow;
      await writer.updateRow(table, current, after);
    });
    if (failed === null) changed++;
  }
  await writes.flush();
  return changed;
}

/** DELETE [IGNORE] of rows; returns the rows deleted. */
export async function deleteRowsOf(ctx: WriteContext, table: TableInfo,
  rows: readonly RowImage[], options: { readonly ignore: boolean }): Promise<number> {
  const writes = new StatementWrites(ctx.txn);
  const writer = writerOf(ctx, writes);
  let deleted = 0;
  for (const row of rows) {
    const failed = await perRow(ctx, writes, options.ignore, async () => {
      const current = await writer.currentRow(table, row);
      if (current === null) throw skipRow;
      await writer.deleteRow(table, current);
    });
    if (failed === null) deleted++;
  }
  await writes.flush();
  return deleted;
}
