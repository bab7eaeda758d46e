/**
 * Loading a schema version from the one before it (TiDB's schema diffs): every DDL that
 * bumps the schema version also records, in the version's diff (`schemaDiffKey`), which
 * catalog objects it put or deleted (`SchemaEdits`). A node whose cached `InfoSchema` is a
 * few versions old then reads those diffs and the touched objects by key and patches its
 * cache (`applyEdits`), instead of scanning every database's tables and views again — a
 * scan that also walks the deleted keys every dropped table leaves until MVCC GC.
 *
 * A diff without edits (written by an older node, or the bootstrap's missing one) or with
 * a database created, dropped or changed falls back to the full load. This file is pure:
 * `catalog.ts` does the reads.
 */
import type { SchemaDatabase } from "./catalog.ts";
import type { TableInfo, ViewInfo } from "./schema.ts";

/** What one DDL transaction changed in the catalog. */
export interface SchemaEdits {
  /** `[dbId, tableId]` of every table put or deleted. */
  readonly tables: readonly (readonly [number, number])[];
  /** `[dbId, viewId]` of every view put or deleted. */
  readonly views: readonly (readonly [number, number])[];
  /** A database was put or deleted: nodes load the whole catalog. */
  readonly databases: boolean;
}

/** Collects the edits of one DDL transaction (`openDdlTxn`). */
export class SchemaEditsRecorder {
  private readonly tables = new Map<string, readonly [number, number]>();
  private readonly views = new Map<string, readonly [number, number]>();
  private databases = false;

  table(dbId: number, tableId: number): void {
    this.tables.set(`${dbId}:${tableId}`, [dbId, tableId]);
  }

  view(dbId: number, viewId: number): void {
    this.views.set(`${dbId}:${viewId}`, [dbId, viewId]);
  }

  database(): void {
    this.databases = true;
  }

  /** The edits so far, as the diff records them. */
  edits(): SchemaEdits {
    return { tables: [...this.tables.values()], views: [...this.views.values()],
      databases: this.databases };
  }
}

/** The edits a parsed diff record carries, or null when it has none usable. */
export function editsOf(diff: unknown): SchemaEdits | null {
  if (typeof diff !== "object" || diff === null) return null;
  const edits = (diff as { edits?: unknown }).edits;
  if (typeof edits !== "object" || edits === null) return null;
  const e = edits as { tables?: unknown; views?: unknown; databases?: unknown };
  const pairs = (v: unknown): v is (readonly [number, number])[] => Array.isArray(v) &&
    v.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isSafeInteger));
  if (!pairs(e.tables) || !pairs(e.views) || typeof e.databases !== "boolean") return null;
  return { tables: e.tables, views: e.views, databases: e.databases };
}

/** A touched object as it is at the new version: its info, or null once deleted. */
export interface EditedObject<T> {
  readonly dbId: number;
  readonly id: number;
  readonly info: T | null;
}

/**
 * `databases` with the touched tables and views replaced by their current infos (removed
 * when deleted, moved when renamed across databases). Null when an object lands in a
 * database the map does not have (the caller then loads everything).
 */
export function applyEdits(databases: ReadonlyMap<string, SchemaDatabase>,
  tables: readonly EditedObject<TableInfo>[], views: readonly EditedObject<ViewInfo>[]):
  Map<string, SchemaDatabase> | null {
  const out = new Map(databases);
  const tableIds = new Set(tables.map((t) => t.id));
  const viewIds = new Set(views.map((v) => v.id));
  const byId = new Map<number, string>();
  for (const [name, db] of out) byId.set(db.info.id, name);
  // Every touched object leaves the database it was in; the current ones come back below.
  for (const [name, db] of out) {
    const hasTable = [...db.tables.values()].some((t) => tableIds.has(t.id));
    const hasView = [...db.views?.values() ?? []].some((v) => viewIds.has(v.id));
    if (!hasTable && !hasView) continue;
    out.set(name, {
      info: db.info,
      tables: new Map([...db.tables].filter(([, t]) => !tableIds.has(t.id))),
      views: new Map([...db.views ?? []].filter(([, v]) => !viewIds.has(v.id))),
    });
  }
  const place = (dbId: number, add: (db: SchemaDatabase) => SchemaDatabase): boolean => {
    const name = byId.get(dbId);
    const db = name === undefined ? undefined : out.get(name);
    if (name === undefined || db === undefined) return false;
    out.set(name, add(db));
    return true;
  };
  for (const t of tables) {
    const info = t.info;
    if (info === null) continue;
    const ok = place(t.dbId, (db) => ({ ...db,
      tables: new Map(db.tables).set(info.name.toLowerCase(), info) }));
    if (!ok) return null;
  }
  for (const v of views) {
    const info = v.info;
    if (info === null) continue;
    const ok = place(v.dbId, (db) => ({ ...db,
      views: new Map(db.views ?? []).set(info.name.toLowerCase(), info) }));
    if (!ok) return null;
  }
  // In the order a full load reads them (by the decimal text of the id, the hash field),
  // so that nothing iterating a database's tables sees a different order either way.
  for (const [name, db] of out) {
    if (db === databases.get(name)) continue;
    out.set(name, { info: db.info, tables: inKeyOrder(db.tables),
      views: inKeyOrder(db.views ?? new Map()) });
  }
  return out;
}

function inKeyOrder<T extends { readonly id: number }>(objects: ReadonlyMap<string, T>):
  Map<string, T> {
  const text = (o: T): string => String(o.id);
  return new Map([...objects].sort(([, a], [, b]) =>
    (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0)));
}
