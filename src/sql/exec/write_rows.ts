/**
 * `RowWriter`: inserts, updates and deletes single rows into a statement's writes
 * (`StatementWrites`) with everything MySQL 8 checks on the way — CHECK constraints
 * (3819), unique keys (1062, via `uniqueChecks`), foreign keys as the child (1452, the
 * parent row locked) and as the parent (1451, or the CASCADE / SET NULL actions, which
 * recurse into the child table up to MySQL's depth of 15). Index entries are maintained
 * by `indexMutations`, honouring each index's online-DDL state.
 *
 * Rows are processed one at a time against the statement's view, so a row sees what
 * earlier rows of the same statement wrote (MySQL's row-by-row semantics); a failure
 * throws the MySqlError and the caller either fails the statement (nothing reached the
 * transaction) or, under IGNORE, undoes the row with `StatementWrites.undo`.
 *
 * With `foreign_key_checks = 0` nothing about foreign keys is checked or done.
 */
import { prefixNext } from "../../codec/mod.ts";
import {
  type EvalContext,
  type Expr,
  type Value,
  columnRef,
  evaluate,
  isTrue,
  toText,
} from "../../expr/mod.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import {
  type ForeignKeyInfo,
  type IndexInfo,
  type TableInfo,
  fieldTypeOf,
} from "../catalog/schema.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { parseExpression } from "../parser/parse.ts";
import { type TranslateScope, translate } from "../session/to_expr.ts";
import {
  type RowImage,
  type UniqueCheck,
  encodeRowForWrite,
  indexMutations,
  indexTakesWrites,
  uniqueChecks,
} from "../table/index_writes.ts";
import {
  decodeRowValue,
  handleOf,
  handleOfIndexValue,
  indexEntry,
  rowKey,
} from "../table/table.ts";
import type { StatementWrites } from "./write_overlay.ts";
import { routeRow } from "../table/partition_route.ts";
import { physicalTables } from "../ddl/partition_ddl.ts";

/** MySQL's bound on nested foreign-key cascades (`FK_MAX_CASCADE_DEL`). */
export const foreignKeyCascadeDepthMax = 15;

/** Errors that IGNORE turns into warnings (the row is skipped). */
export const ignorableErrnos: ReadonlySet<number> = new Set([
  ER.DUP_ENTRY.errno, ER.ROW_IS_REFERENCED_2.errno, ER.NO_REFERENCED_ROW_2.errno,
  ER.CHECK_CONSTRAINT_VIOLATED.errno, ER.NO_PARTITION_FOR_GIVEN_VALUE.errno,
  ER.ROW_DOES_NOT_MATCH_GIVEN_PARTITION_SET.errno,
]);

/** Whether `error` is one IGNORE downgrades to a warning. */
export function isIgnorable(error: unknown): error is MySqlError {
  return error instanceof MySqlError && ignorableErrnos.has(error.errno);
}

/** What a `RowWriter` runs with. */
export interface RowWriterContext {
  readonly writes: StatementWrites;
  readonly schema: InfoSchema;
  readonly foreignKeyChecks: boolean;
  /** The session's scope for a clause (variables; no columns). */
  scope(clause: string): TranslateScope;
  evalContext(): EvalContext;
}

/** A row of another table that already owns a key a new row needs. */
export interface Conflict {
  readonly check: UniqueCheck;
  readonly handle: bigint;
  /** The table (the partition, of a partitioned table) holding that row. */
  readonly table: TableInfo;
}

function formatIdent(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

/** The handle at the end of a non-unique index key (or a unique one with a NULL). */
function handleOfIndexKey(key: Uint8Array): bigint {
  const view = new DataView(key.buffer, key.byteOffset + key.length - 8, 8);
  return BigInt.asIntN(64, view.getBigUint64(0) ^ (1n << 63n));
}

/** The error of a key another row owns. */
export function duplicateError(check: UniqueCheck): MySqlError {
  return mysqlError(ER.DUP_ENTRY, [check.text, check.keyName]);
}

/** Where a foreign-key cascade stands: how deep, and which tables it has updated. */
interface Cascade {
  readonly depth: number;
  readonly updated: ReadonlySet<number>;
}

const topLevel: Cascade = { depth: 0, updated: new Set() };

/** A referencing foreign key: `child`'s `fk` points at the parent. */
interface Reference {
  readonly child: TableInfo;
  readonly childDb: string;
  readonly fk: ForeignKeyInfo;
}

/** How to find rows by some columns' values: the row key or an index (prefix). */
interface Lookup {
  /** Null: the columns are the clustered primary key. */
  readonly index: IndexInfo | null;
  /** The index's key is exactly these columns and unique: one point get. */
  readonly point: boolean;
}

export class RowWriter {
  private readonly ctx: RowWriterContext;
  private readonly checkExprs = new Map<number, { name: string; expr: Expr }[]>();
  private references: Map<number, Reference[]> | undefined;

  /**
   * Of a partitioned table, the partitions the statement named (`PARTITION (p0, …)`,
   * positions): a row placed elsewhere is 1748. Absent: any.
   */
  allowedPartitions: readonly number[] | undefined;

  constructor(ctx: RowWriterContext) {
    this.ctx = ctx;
  }

  /** Where a row of `table` with `values` is stored: its partition, or `table` itself. */
  private physical(table: TableInfo, values: readonly Value[]): TableInfo {
    // ALTER TABLE … PARTITION BY is moving the table's rows (partition_ddl.ts).
    if (table.partitionReorg === true) throw mysqlError(ER.INFO_SCHEMA_CHANGED);
    return table.partition === undefined ? table
      : routeRow(table, values, this.allowedPartitions);
  }

  get writes(): StatementWrites {
    return this.ctx.writes;
  }

  /** Reads the keys `rows` will need checked, in one batch. */
  async prefetchUnique(table: TableInfo, rows: readonly { readonly before: RowImage | null;
    readonly after: RowImage }[]): Promise<void> {
    await this.ctx.writes.prefetch(rows.flatMap((r) => {
      try {
        return uniqueChecks(this.physical(table, r.after.values), r).map((c) => c.key);
      } catch {
        return []; // a row no partition takes fails when it is written
      }
    }));
  }

  /** The first key of `change.after` another row owns (primary key first), or null. */
  async conflict(table: TableInfo, change: { readonly before: RowImage | null;
    readonly after: RowImage }): Promise<Conflict | null> {
    const after = this.physical(table, change.after.values);
    // A row moving to another partition meets only that partition's rows there.
    const moved = change.before !== null && after !== table &&
      this.physical(table, change.before.values).id !== after.id;
    for (const check of uniqueChecks(after, moved ? { before: null, after: change.after }
      : change)) {
      const value = await this.ctx.writes.get(check.key);
      if (value === null) continue;
      const handle = check.index === "PRIMARY" ? change.after.handle : handleOfIndexValue(value);
      if (change.before !== null && handle === change.before.handle) continue;
      return { check, handle, table: after };
    }
    return null;
  }

  /** The row of `handle` as the statement sees it (any partition of a partitioned table). */
  async loadRow(table: TableInfo, handle: bigint): Promise<RowImage | null> {
    for (const physical of physicalTables(table)) {
      const bytes = await this.ctx.writes.get(rowKey(physical, handle));
      if (bytes !== null) return { handle, values: decodeRowValue(physical, bytes) };
    }
    return null;
  }

  /**
   * `row` as it is now: itself unless this statement already wrote its key (a cascade
   * from an earlier row changed or deleted it), then the statement's version or null.
   */
  async currentRow(table: TableInfo, row: RowImage): Promise<RowImage | null> {
    const physical = table.partition === undefined ? table : routeRow(table, row.values);
    if (!this.ctx.writes.wrote(rowKey(physical, row.handle))) return row;
    return this.loadRow(physical, row.handle);
  }

  /** Throws 3819 for the first enforced CHECK constraint `values` make false. */
  checkConstraints(table: TableInfo, values: readonly Value[]): void {
    const checks = (table.checks ?? []).filter((c) => c.enforced);
    if (checks.length === 0) return;
    let exprs = this.checkExprs.get(table.id);
    if (exprs === undefined) {
      const scope: TranslateScope = { ...this.ctx.scope("check constraint"),
        column: (name, qualifier) => {
          if (qualifier !== null && qualifier.toLowerCase() !== table.name.toLowerCase()) {
            return undefined;
          }
          const c = table.columns.find((col) => col.name.toLowerCase() === name.toLowerCase());
          return c === undefined ? undefined : columnRef(c.offset, c.name, fieldTypeOf(c));
        } };
      exprs = checks.map((c) => {
        const parsed = parseExpression(c.exprText);
        if (parsed.kind === "error") throw new Error(`bad stored check ${c.exprText}`);
        return { name: c.name, expr: translate(parsed.expr, scope) };
      });
      this.checkExprs.set(table.id, exprs);
    }
    const ctx: EvalContext = { ...this.ctx.evalContext(), row: values };
    for (const check of exprs) {
      if (isTrue(evaluate(check.expr, ctx), ctx.warn) === false) {
        throw mysqlError(ER.CHECK_CONSTRAINT_VIOLATED, [check.name]);
      }
    }
  }

  /** Inserts `row`: CHECK, unique keys (1062), foreign keys as the child (1452). */
  async insertRow(table: TableInfo, row: RowImage): Promise<void> {
    this.checkConstraints(table, row.values);
    const found = await this.conflict(table, { before: null, after: row });
    if (found !== null) throw duplicateError(found.check);
    this.put(table, null, row);
    await this.checkParents(table, null, row);
  }

  /**
   * Updates `before` to `after` (same or another handle): CHECK, unique keys, foreign
   * keys both ways. `cascade` is where a foreign-key cascade stands (top level: none).
   */
  async updateRow(table: TableInfo, before: RowImage, after: RowImage,
    cascade: Cascade = topLevel): Promise<void> {
    if (cascade.depth === 0) this.checkConstraints(table, after.values);
    const found = await this.conflict(table, { before, after });
    if (found !== null) throw duplicateError(found.check);
    this.put(table, before, after);
    await this.checkParents(table, before, after);
    await this.actOnChildren(table, before, after,
      { ...cascade, updated: new Set([...cascade.updated, table.id]) });
  }

  /** Deletes `row`, applying the ON DELETE action of every foreign key referencing it. */
  async deleteRow(table: TableInfo, row: RowImage, cascade: Cascade = topLevel):
    Promise<void> {
    this.put(table, row, null);
    await this.actOnChildren(table, row, null, cascade);
  }

  /** Buffers the row key and index writes of a change (checks done). */
  private put(table: TableInfo, before: RowImage | null, after: RowImage | null): void {
    if (table.partitionReorg === true) throw mysqlError(ER.INFO_SCHEMA_CHANGED);
    if (table.partition !== undefined) {
      // Each image in its own partition: a row changing partition moves.
      const from = before === null ? null : routeRow(table, before.values);
      const to = after === null ? null : this.physical(table, after.values);
      if (from !== null && to !== null && from.id === to.id) this.put(from, before, after);
      else {
        if (from !== null) this.put(from, before, null);
        if (to !== null) this.put(to, null, after);
      }
      return;
    }
    const writes = this.ctx.writes;
    if (before !== null && (after === null || after.handle !== before.handle)) {
      writes.delete(rowKey(table, before.handle));
    }
    for (const m of indexMutations(table, { before, after })) {
      if (m.kind === "delete") writes.delete(m.key);
      else writes.put(m.key, m.value);
    }
    if (after !== null) {
      writes.put(rowKey(table, after.handle), encodeRowForWrite(table, after.values));
    }
  }

  // ---- foreign keys ---------------------------------------------------------------------

  private databaseName(dbId: number): string {
    for (const name of this.ctx.schema.databaseNames()) {
      if (this.ctx.schema.database(name)?.info.id === dbId) return name;
    }
    return "";
  }

  private parentOf(child: TableInfo, fk: ForeignKeyInfo): TableInfo | undefined {
    return this.ctx.schema.table(fk.refDb ?? this.databaseName(child.dbId), fk.refTable);
  }

  /** The `(`db`.`child`, CONSTRAINT …)` detail of 1451 and 1452. */
  private fkDetail(child: TableInfo, fk: ForeignKeyInfo): string {
    const cols = fk.columns.map((o) => formatIdent(child.columns[o]!.name)).join(", ");
    let text = `${formatIdent(this.databaseName(child.dbId))}.${formatIdent(child.name)}, ` +
      `CONSTRAINT ${formatIdent(fk.name)} FOREIGN KEY (${cols}) REFERENCES ` +
      `${formatIdent(fk.refTable)} (${fk.refColumns.map(formatIdent).join(", ")})`;
    if (fk.onDelete !== null) text += ` ON DELETE ${fk.onDelete}`;
    if (fk.onUpdate !== null) text += ` ON UPDATE ${fk.onUpdate}`;
    return text;
  }

  /** Foreign keys of any table that reference `parent`. */
  private referencesTo(parent: TableInfo): Reference[] {
    if (this.references === undefined) {
      this.references = new Map();
      for (const dbName of this.ctx.schema.databaseNames()) {
        for (const child of this.ctx.schema.database(dbName)?.tables.values() ?? []) {
          for (const fk of child.foreignKeys ?? []) {
            const target = this.parentOf(child, fk);
            if (target === undefined) continue;
            const list = this.references.get(target.id) ?? [];
            list.push({ child, childDb: dbName, fk });
            this.references.set(target.id, list);
          }
        }
      }
    }
    return this.references.get(parent.id) ?? [];
  }

  /** How to find rows of `table` by the columns at `offsets` (an index must start so). */
  private lookupOf(table: TableInfo, offsets: readonly number[]): Lookup | undefined {
    if (table.pkHandle !== null && offsets.length === 1 && offsets[0] === table.pkHandle) {
      return { index: null, point: true };
    }
    const usable = table.indexes.filter((i) => indexTakesWrites(i) &&
      offsets.every((o, k) => i.columns[k] === o));
    const exact = usable.find((i) => i.unique && i.columns.length === offsets.length);
    if (exact !== undefined) return { index: exact, point: true };
    const first = usable[0];
    return first === undefined ? undefined : { index: first, point: false };
  }

  /**
   * Handles of rows of `table` whose columns at `offsets` equal `values` (non-NULL), at
   * most `limit`.
   */
  private async findRows(table: TableInfo, offsets: readonly number[],
    values: readonly Value[], limit: number): Promise<bigint[] | undefined> {
    const lookup = this.lookupOf(table, offsets);
    if (lookup === undefined) return undefined;
    const writes = this.ctx.writes;
    const image = table.columns.map((): Value => null);
    offsets.forEach((o, k) => {
      image[o] = values[k] ?? null;
    });
    if (lookup.index === null) {
      const key = image[table.pkHandle!] ?? null;
      // Tables created with foreign_key_checks = 0 may reference across types.
      if (key === null || (key.kind !== "int" && key.kind !== "uint")) return [];
      const handle = handleOf(key);
      return (await writes.get(rowKey(table, handle))) === null ? [] : [handle];
    }
    // A unique entry of the key columns alone has no handle in its key: the prefix.
    const prefixIndex: IndexInfo = { ...lookup.index, unique: true, columns: offsets };
    const prefix = indexEntry(table, prefixIndex, { values: image, handle: 0n }).key;
    if (lookup.point) {
      const value = await writes.get(prefix);
      return value === null ? [] : [handleOfIndexValue(value)];
    }
    const pairs = await writes.scan(prefix, prefixNext(prefix), limit);
    return pairs.map((p) => (p.value.length === 8 && lookup.index!.unique
      ? handleOfIndexValue(p.value) : handleOfIndexKey(p.key)));
  }

  /** Child-side check: every changed, non-NULL foreign key of `after` has its parent row. */
  private async checkParents(table: TableInfo, before: RowImage | null, after: RowImage):
    Promise<void> {
    if (!this.ctx.foreignKeyChecks) return;
    for (const fk of table.foreignKeys ?? []) {
      const values = fk.columns.map((o) => after.values[o] ?? null);
      if (values.some((v) => v === null)) continue;
      if (before !== null && fk.columns.every((o) =>
        sameValue(before.values[o] ?? null, after.values[o] ?? null))) continue;
      const error = (): MySqlError =>
        mysqlError(ER.NO_REFERENCED_ROW_2, [this.fkDetail(table, fk)]);
      const parent = this.parentOf(table, fk);
      if (parent === undefined) throw error();
      const offsets = fk.refColumns.map((name) => parent.columns.find((c) =>
        c.name.toLowerCase() === name.toLowerCase())?.offset ?? -1);
      if (offsets.includes(-1)) throw error();
      const handles = await this.findRows(parent, offsets, values, 1);
      if (handles === undefined || handles.length === 0) throw error();
      // The parent row must not go away before this transaction commits.
      this.ctx.writes.lock(rowKey(parent, handles[0]!));
    }
  }

  /** Parent-side: ON DELETE / ON UPDATE of every foreign key referencing the row. */
  private async actOnChildren(table: TableInfo, before: RowImage, after: RowImage | null,
    cascade: Cascade): Promise<void> {
    if (!this.ctx.foreignKeyChecks) return;
    for (const ref of this.referencesTo(table)) {
      const { child, fk } = ref;
      const offsets = fk.refColumns.map((name) => table.columns.find((c) =>
        c.name.toLowerCase() === name.toLowerCase())?.offset ?? -1);
      if (offsets.includes(-1)) continue;
      const oldValues = offsets.map((o) => before.values[o] ?? null);
      if (oldValues.some((v) => v === null)) continue;
      if (after !== null && offsets.every((o) =>
        sameValue(before.values[o] ?? null, after.values[o] ?? null))) continue;
      const action = (after === null ? fk.onDelete : fk.onUpdate) ?? "NO ACTION";
      const restrict = action !== "CASCADE" && action !== "SET NULL";
      const handles = await this.findRows(child, fk.columns, oldValues,
        restrict ? 1 : Number.MAX_SAFE_INTEGER);
      if (handles === undefined || handles.length === 0) continue;
      if (restrict) throw mysqlError(ER.ROW_IS_REFERENCED_2, [this.fkDetail(child, fk)]);
      // InnoDB refuses an ON UPDATE action on a table an enclosing update already changed
      // (a self-referencing ON UPDATE CASCADE), rather than risk a loop.
      if (after !== null && cascade.updated.has(child.id)) {
        throw mysqlError(ER.ROW_IS_REFERENCED_2, [this.fkDetail(child, fk)]);
      }
      const depth = cascade.depth + 1;
      if (depth > foreignKeyCascadeDepthMax) {
        throw mysqlError(ER.FK_DEPTH_EXCEEDED, [foreignKeyCascadeDepthMax]);
      }
      for (const handle of handles) {
        const row = await this.loadRow(child, handle);
        if (row === null) continue;
        if (after === null && action === "CASCADE") {
          await this.deleteRow(child, row, { ...cascade, depth });
          continue;
        }
        const values = [...row.values];
        fk.columns.forEach((o, k) => {
          values[o] = action === "SET NULL" ? null : after!.values[offsets[k]!] ?? null;
        });
        const moved = child.pkHandle !== null ? handleOf(values[child.pkHandle] ?? null)
          : row.handle;
        await this.updateRow(child, row, { handle: moved, values }, { ...cascade, depth });
      }
    }
  }
}

/** Whether two stored values are the same (as an UPDATE decides "changed"). */
export function sameValue(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  return a.kind === b.kind && toText(a) === toText(b);
}
