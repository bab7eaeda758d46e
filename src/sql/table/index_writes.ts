/**
 * Index maintenance of one row change, as a pure function: which index entries an INSERT
 * (`before` null), an UPDATE (both) or a DELETE (`after` null) puts and deletes. Every
 * writer — DML and the online-DDL backfill — goes through `indexMutations`, so an index
 * is maintained the same way whoever writes.
 *
 * The F1 states of an index (`IndexInfo.state`, absent = public) decide what a writer
 * does: `deleteOnly` → the old entry is deleted, no entry is added; `writeOnly`,
 * `writeReorg`, `public` → maintained fully (old entry deleted, new one put). An UPDATE
 * that leaves an entry byte-identical (same key, same value) produces no mutation for
 * it; one whose key is unchanged but whose value changed (a unique entry whose row
 * moved to another handle) is a put alone. Deletes come before puts in the output, so
 * applying the list in order is always right.
 *
 * Unique entries without NULLs are `distinct`: their key alone must be free (or owned by
 * the same handle); a writer checks that with `uniqueChecks` before it applies the
 * mutations. An entry with a NULL carries the handle in its key, so NULLs never collide.
 * `encodeRowForWrite` is the row value itself, honouring column states the same way.
 * Pure: no I/O.
 */
import type { Value } from "../../expr/mod.ts";
import type { IndexInfo, SchemaState, TableInfo } from "../catalog/schema.ts";
import { duplicateText, encodeRowValue, indexEntry, rowKey } from "./table.ts";

/** A row as writers see it: its handle and values in column order. */
export interface RowImage {
  readonly handle: bigint;
  readonly values: readonly Value[];
}

/** One index write. */
export type IndexMutation =
  | {
      readonly kind: "put";
      readonly index: IndexInfo;
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      /** A unique entry without NULLs: the key must not belong to another handle. */
      readonly distinct: boolean;
    }
  | { readonly kind: "delete"; readonly index: IndexInfo; readonly key: Uint8Array };

/** The state of an index or column; absent is `public`. */
export function stateOf(item: { readonly state?: SchemaState }): SchemaState {
  return item.state ?? "public";
}

/** Whether writers add entries to `index` (every state but delete-only). */
export function indexTakesWrites(index: IndexInfo): boolean {
  return stateOf(index) !== "deleteOnly";
}

/** Whether readers (plans, SHOW INDEX) may use `index`. */
export function indexIsPublic(index: IndexInfo): boolean {
  return stateOf(index) === "public";
}

/**
 * The value a writer stores under a row key: every column but those in delete-only. A
 * delete-only column takes no writes (F1): a row written then lacks it, so it reads the
 * column's origin default once an ADD COLUMN makes it public, and a DROP COLUMN leaves
 * nothing of it behind. Write-only and write-reorg columns are written (their default,
 * for a row inserted by a statement that cannot name them).
 */
export function encodeRowForWrite(table: TableInfo, values: readonly Value[]): Uint8Array {
  if (table.columns.every((c) => stateOf(c) !== "deleteOnly")) {
    return encodeRowValue(table, values);
  }
  const kept = table.columns.filter((c) => stateOf(c) !== "deleteOnly");
  return encodeRowValue({ ...table, columns: kept }, kept.map((c) => values[c.offset] ?? null));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The index writes of a row change, deletes first. `before`/`after` null: an insert or
 * a delete; both null: nothing. Indexes are taken from `options.indexes` when given (a
 * backfill of one index), else all of `table.indexes`.
 */
export function indexMutations(
  table: TableInfo,
  change: {
    readonly before: RowImage | null;
    readonly after: RowImage | null;
    readonly indexes?: readonly IndexInfo[];
  },
): IndexMutation[] {
  const deletes: IndexMutation[] = [];
  const puts: IndexMutation[] = [];
  for (const index of change.indexes ?? table.indexes) {
    const old = change.before === null ? null : indexEntry(table, index, change.before);
    const next = change.after === null || !indexTakesWrites(index) ? null
      : indexEntry(table, index, change.after);
    if (old !== null && next !== null && sameBytes(old.key, next.key)) {
      if (!sameBytes(old.value, next.value)) {
        puts.push({ kind: "put", index, key: next.key, value: next.value,
          distinct: next.distinct });
      }
      continue;
    }
    if (old !== null) deletes.push({ kind: "delete", index, key: old.key });
    if (next !== null) {
      puts.push({ kind: "put", index, key: next.key, value: next.value,
        distinct: next.distinct });
    }
  }
  return [...deletes, ...puts];
}

/** A key a new row image needs for itself, and what to say when another row has it. */
export interface UniqueCheck {
  /** `PRIMARY` for the row key of a clustered primary key, else the index. */
  readonly index: IndexInfo | "PRIMARY";
  /** `indexName` as MySQL 8 prints it in 1062: `t.k`, `t.PRIMARY`. */
  readonly keyName: string;
  /** The row key (clustered primary key) or the unique index key. */
  readonly key: Uint8Array;
  /** The `'1-a'` part of the 1062 message. */
  readonly text: string;
}

/**
 * The keys `after` must own alone: its row key when the primary key is the handle, and
 * the key of every unique index that takes writes and has no NULL in the row. With
 * `before` (an UPDATE), keys that do not change are left out — the row owns them
 * already. Order: primary key first, then indexes in table order (the order MySQL
 * reports the first duplicate in).
 */
export function uniqueChecks(
  table: TableInfo,
  change: { readonly before: RowImage | null; readonly after: RowImage },
): UniqueCheck[] {
  const { before, after } = change;
  const checks: UniqueCheck[] = [];
  if (table.pkHandle !== null && (before === null || before.handle !== after.handle)) {
    checks.push({ index: "PRIMARY", keyName: `${table.name}.PRIMARY`,
      key: rowKey(table, after.handle),
      text: duplicateText(after.values, [table.pkHandle]) });
  }
  const primaries = table.indexes.filter((i) => i.primary);
  const others = table.indexes.filter((i) => !i.primary);
  for (const index of [...primaries, ...others]) {
    if (!index.unique || !indexTakesWrites(index)) continue;
    const entry = indexEntry(table, index, after);
    if (!entry.distinct) continue;
    if (before !== null && sameBytes(indexEntry(table, index, before).key, entry.key)) continue;
    checks.push({ index, keyName: `${table.name}.${index.name}`, key: entry.key,
      text: duplicateText(after.values, index.columns) });
  }
  return checks;
}
