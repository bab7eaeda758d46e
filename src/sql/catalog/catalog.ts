/**
 * The catalog in KV and its per-SQL-node cache.
 *
 * Layout under the meta prefix (`encodeMetaKey`, TiDB's `meta` package shape; values are
 * UTF-8 JSON or decimal text):
 *
 *     m "BootstrapVersion" s        version of the bootstrap that ran (written once)
 *     m "SchemaVersion" s           bumped by every DDL, in the DDL's own transaction
 *     m "NextGlobalID" s            the next database / table id
 *     m "DBs" h {dbId}              DatabaseInfo
 *     m "DB:{dbId}" h {tableId}     TableInfo
 *     m "View:{dbId}" h {viewId}    ViewInfo (a view's name, column list and SELECT text)
 *     m "AutoID:{tableId}" s        the auto-id allocator's high-water mark
 *
 *     m "SchemaDiff:{version}" s    what the DDL that made `version` changed
 *
 * Table and index DDL runs as online DDL jobs (`src/sql/ddl`): the DDL owner edits the
 * catalog through `openDdlTxn`, one schema version per F1 step. `runDdl` is the
 * synchronous path left for catalog objects no transaction writes (views): one
 * transaction reads the schema version, writes the changed infos, the version + 1 and its
 * diff, and commits; concurrent DDLs conflict on the version key and the loser retries
 * (bounded). A transaction fails at commit with the retryable 8028 only when a version
 * after its own changed a table it wrote (`src/sql/ddl/syncer.ts`).
 *
 * `Catalog` owns the node's cache: the `InfoSchema` of the last version it loaded. A
 * statement asks for the schema at its transaction's snapshot (`schemaAt`), which reads
 * the version key there and, when it differs, patches the cache with the diffs of the
 * versions in between (`schema_diff.ts`) or reloads everything. Bootstrap runs once per
 * cluster: its transaction `insert`s the bootstrap key, so of two nodes starting at once
 * one commits and the other fails, re-reads, and finds the catalog bootstrapped.
 */
import { ErrorCode, type Timestamp, hasErrorCode } from "../../base/mod.ts";
import type { Transaction, TxnClient } from "../../client/mod.ts";
import { encodeMetaKey, prefixNext } from "../../codec/mod.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { DatabaseInfo, TableInfo, ViewInfo } from "./schema.ts";
import { SchemaEditsRecorder, applyEdits, editsOf } from "./schema_diff.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const b = (s: string): Uint8Array => utf8.encode(s);

/** The bootstrap this code writes; later versions upgrade in place. */
export const bootstrapVersionCurrent = 1;
/** Databases every cluster starts with (MySQL creates `test` too). */
export const bootstrapDatabases: readonly string[] = ["mysql", "test"];
/** A cached schema at most this many versions old is patched by diffs, not reloaded. */
const schemaDiffsApplied = 64n;
/** How many times a DDL or bootstrap retries a conflicting transaction. */
const ddlRetriesMax = 20;

const bootstrapKey = encodeMetaKey({ key: b("BootstrapVersion") });
/** The schema version key; `SchemaCheck` and tests read it. */
export const schemaVersionKey = encodeMetaKey({ key: b("SchemaVersion") });
const nextGlobalIdKey = encodeMetaKey({ key: b("NextGlobalID") });
const dbsKey = "DBs";
const dbKey = (dbId: number): string => `DB:${dbId}`;
const viewKey = (dbId: number): string => `View:${dbId}`;

/** The meta key of table `tableId`'s auto-id counter. */
export function autoIdKey(tableId: number): Uint8Array {
  return encodeMetaKey({ key: b(`AutoID:${tableId}`) });
}

function hashFieldKey(key: string, field: number): Uint8Array {
  return encodeMetaKey({ key: b(key), field: b(String(field)) });
}

/** The key range of all fields of hash `key`: the field key minus its empty field. */
function hashRange(key: string): { start: Uint8Array; end: Uint8Array } {
  const empty = encodeMetaKey({ key: b(key), field: new Uint8Array(0) });
  const start = empty.slice(0, empty.length - 9);
  return { start, end: prefixNext(start) };
}

function readBigInt(value: Uint8Array | null): bigint | null {
  return value === null ? null : BigInt(fromUtf8.decode(value));
}

function json(value: unknown): Uint8Array {
  return b(JSON.stringify(value));
}

/** One database of an `InfoSchema`. */
export interface SchemaDatabase {
  readonly info: DatabaseInfo;
  /** Tables by lower-case name. */
  readonly tables: ReadonlyMap<string, TableInfo>;
  /** Views by lower-case name (absent: none). */
  readonly views?: ReadonlyMap<string, ViewInfo>;
}

/** An immutable catalog at one schema version. Names are case-insensitive. */
export class InfoSchema {
  readonly version: bigint;
  private readonly databases: ReadonlyMap<string, SchemaDatabase>;

  constructor(version: bigint, databases: ReadonlyMap<string, SchemaDatabase>) {
    this.version = version;
    this.databases = databases;
  }

  /** The databases by lower-case name (`schema_diff.ts` patches a copy). */
  get databaseMap(): ReadonlyMap<string, SchemaDatabase> {
    return this.databases;
  }

  database(name: string): SchemaDatabase | undefined {
    return this.databases.get(name.toLowerCase());
  }

  table(db: string, name: string): TableInfo | undefined {
    return this.database(db)?.tables.get(name.toLowerCase());
  }

  /** Database names in creation order. */
  databaseNames(): string[] {
    return [...this.databases.values()].sort((x, y) => x.info.id - y.info.id)
      .map((d) => d.info.name);
  }
}

/** Loads the whole catalog visible to `txn`. */
async function loadInfoSchema(txn: Transaction, version: bigint): Promise<InfoSchema> {
  const dbRange = hashRange(dbsKey);
  const dbPairs = await txn.scan(dbRange.start, dbRange.end);
  const databases = new Map<string, SchemaDatabase>();
  for (const pair of dbPairs) {
    const info = JSON.parse(fromUtf8.decode(pair.value)) as DatabaseInfo;
    const range = hashRange(dbKey(info.id));
    const tables = new Map<string, TableInfo>();
    for (const t of await txn.scan(range.start, range.end)) {
      const table = JSON.parse(fromUtf8.decode(t.value)) as TableInfo;
      tables.set(table.name.toLowerCase(), table);
    }
    const views = new Map<string, ViewInfo>();
    const vr = hashRange(viewKey(info.id));
    for (const v of await txn.scan(vr.start, vr.end)) {
      const view = JSON.parse(fromUtf8.decode(v.value)) as ViewInfo;
      views.set(view.name.toLowerCase(), view);
    }
    databases.set(info.name.toLowerCase(), { info, tables, views });
  }
  return new InfoSchema(version, databases);
}

/** A DDL's view of the catalog inside its transaction. */
export interface DdlTxn {
  readonly schema: InfoSchema;
  readonly txn: Transaction;
  /** A new database / table id. */
  allocId(): Promise<number>;
  putDatabase(info: DatabaseInfo): void;
  deleteDatabase(info: DatabaseInfo): void;
  putTable(info: TableInfo): void;
  deleteTable(info: TableInfo): void;
  /** What the transaction edited, for its schema diff (absent: not recorded). */
  readonly edits?: SchemaEditsRecorder;
}

/** Stores view `info` in the DDL's transaction (CREATE [OR REPLACE] VIEW). */
export function putView(ddl: DdlTxn, info: ViewInfo): void {
  ddl.edits?.view(info.dbId, info.id);
  ddl.txn.set(hashFieldKey(viewKey(info.dbId), info.id), json(info));
}

/** Deletes view `info` in the DDL's transaction (DROP VIEW, DROP DATABASE). */
export function deleteView(ddl: DdlTxn, info: ViewInfo): void {
  ddl.edits?.view(info.dbId, info.id);
  ddl.txn.delete(hashFieldKey(viewKey(info.dbId), info.id));
}

/**
 * The schema at `version` made from `cached` (an older version) by applying the diffs in
 * between (`schema_diff.ts`), or null when one of them does not allow it.
 */
async function loadBySchemaDiffs(txn: Transaction, cached: InfoSchema, version: bigint):
  Promise<InfoSchema | null> {
  if (version - cached.version > schemaDiffsApplied) return null;
  const tables = new Map<string, readonly [number, number]>();
  const views = new Map<string, readonly [number, number]>();
  for (let v = cached.version + 1n; v <= version; v++) {
    const value = await txn.get(schemaDiffKey(v));
    const edits = value === null ? null : editsOf(JSON.parse(fromUtf8.decode(value)));
    if (edits === null || edits.databases) return null;
    for (const t of edits.tables) tables.set(`${t[0]}:${t[1]}`, t);
    for (const t of edits.views) views.set(`${t[0]}:${t[1]}`, t);
  }
  const read = async <T>(key: string, [dbId, id]: readonly [number, number]) => {
    const value = await txn.get(hashFieldKey(key, id));
    return { dbId, id, info: value === null ? null : JSON.parse(fromUtf8.decode(value)) as T };
  };
  const tableInfos = await Promise.all([...tables.values()].map((t) =>
    read<TableInfo>(dbKey(t[0]), t)));
  const viewInfos = await Promise.all([...views.values()].map((t) =>
    read<ViewInfo>(viewKey(t[0]), t)));
  const databases = applyEdits(cached.databaseMap, tableInfos, viewInfos);
  return databases === null ? null : new InfoSchema(version, databases);
}

/**
 * The catalog edits of one DDL step inside `txn` (which the caller commits after bumping
 * the schema version). Used by `runDdl` and by the online DDL worker (`src/sql/ddl`).
 */
export function openDdlTxn(txn: Transaction, schema: InfoSchema):
  DdlTxn & { readonly touchedTableIds: ReadonlySet<number>;
    readonly edits: SchemaEditsRecorder } {
  let nextId: bigint | null = null;
  const touchedTableIds = new Set<number>();
  const edits = new SchemaEditsRecorder();
  return {
    touchedTableIds,
    schema,
    txn,
    allocId: async () => {
      nextId ??= readBigInt(await txn.get(nextGlobalIdKey)) ?? 1n;
      const id = nextId;
      nextId++;
      txn.set(nextGlobalIdKey, b(nextId.toString()));
      return Number(id);
    },
    putDatabase: (info) => {
      edits.database();
      txn.set(hashFieldKey(dbsKey, info.id), json(info));
    },
    deleteDatabase: (info) => {
      edits.database();
      txn.delete(hashFieldKey(dbsKey, info.id));
    },
    putTable: (info) => {
      touchedTableIds.add(info.id);
      edits.table(info.dbId, info.id);
      txn.set(hashFieldKey(dbKey(info.dbId), info.id), json(info));
    },
    deleteTable: (info) => {
      touchedTableIds.add(info.id);
      edits.table(info.dbId, info.id);
      txn.delete(hashFieldKey(dbKey(info.dbId), info.id));
    },
    edits,
  };
}

/**
 * The meta key recording what the DDL that made schema `version` changed: JSON
 * `{ tableIds, compatible, edits }` (see `src/sql/ddl/syncer.ts`, which lets a transaction
 * commit across DDL on tables it did not write, and `schema_diff.ts` for `edits`).
 */
export function schemaDiffKey(version: bigint): Uint8Array {
  return encodeMetaKey({ key: b(`SchemaDiff:${version}`) });
}

/** The node's catalog cache; see the file comment. */
export class Catalog {
  private readonly client: TxnClient;
  private cached: InfoSchema | null = null;
  /** The snapshot `cached` was loaded at: it is the schema of every snapshot from there. */
  private cachedAtTs: Timestamp | null = null;
  private loads = 0;
  private diffLoads = 0;
  private versionReads = 0;

  constructor(client: TxnClient) {
    this.client = client;
  }

  /** The newest schema version this node has loaded (0 before the first load). */
  get cachedVersion(): bigint {
    return this.cached?.version ?? 0n;
  }

  /** How many times the cache was (re)loaded, for tests. */
  get loadCount(): number {
    return this.loads;
  }

  /** How many of those loads patched an older schema with diffs, for tests. */
  get diffLoadCount(): number {
    return this.diffLoads;
  }

  /** Writes the bootstrap once per cluster; a no-op when it already ran. */
  async bootstrap(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const txn = await this.client.begin();
      try {
        if (await txn.get(bootstrapKey) !== null) {
          await txn.rollback();
          return;
        }
        txn.insert(bootstrapKey, b(String(bootstrapVersionCurrent)));
        txn.set(schemaVersionKey, b("1"));
        let nextId = 1;
        for (const name of bootstrapDatabases) {
          const info: DatabaseInfo = { id: nextId++, name };
          txn.set(hashFieldKey(dbsKey, info.id), json(info));
        }
        txn.set(nextGlobalIdKey, b(String(nextId)));
        await txn.commit();
        return;
      } catch (error: unknown) {
        if (!isRetryableConflict(error) || attempt >= ddlRetriesMax) throw error;
      }
    }
  }

  /** Reads of the schema version key by `schemaAt`, for tests. */
  get versionReadCount(): number {
    return this.versionReads;
  }

  /** The schema `txn` sees, from the cache when its version is current. */
  async schemaAt(txn: Transaction): Promise<InfoSchema> {
    this.versionReads++;
    const version = readBigInt(await txn.get(schemaVersionKey)) ?? 0n;
    const cached = this.cached;
    if (cached !== null && cached.version === version) return cached;
    const patched = cached !== null && cached.version < version
      ? await loadBySchemaDiffs(txn, cached, version) : null;
    const loaded = patched ?? await loadInfoSchema(txn, version);
    this.loads++;
    if (patched !== null) this.diffLoads++;
    if (this.cached === null || this.cached.version < version) {
      this.cached = loaded;
      this.cachedAtTs = txn.startTs;
    }
    return loaded;
  }

  /**
   * The loaded schema, for a transaction starting at `ts`, without reading the version key
   * (TiDB's `domain.InfoSchema()`): null unless it was loaded at a snapshot at or before
   * `ts`. The caller holds a valid schema lease (`SchemaSyncer.leaseValid`), which keeps
   * it at most one F1 step behind the latest; commits are checked against the latest.
   */
  loadedAsOf(ts: Timestamp): InfoSchema | null {
    if (this.cached === null || this.cachedAtTs === null || this.cachedAtTs > ts) return null;
    return this.cached;
  }

  /** The latest committed schema version (a fresh snapshot). */
  async latestVersion(): Promise<bigint> {
    const txn = await this.client.begin();
    try {
      return readBigInt(await txn.get(schemaVersionKey)) ?? 0n;
    } finally {
      await txn.rollback();
    }
  }

  /**
   * Runs one DDL: `change` edits the catalog inside a transaction that also bumps the
   * schema version; conflicts with other DDLs retry. `change` throws MySqlErrors.
   */
  async runDdl<T>(change: (ddl: DdlTxn) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const txn = await this.client.begin();
      try {
        const schema = await this.schemaAt(txn);
        const ddl = openDdlTxn(txn, schema);
        const result = await change(ddl);
        txn.set(schemaVersionKey, b((schema.version + 1n).toString()));
        txn.set(schemaDiffKey(schema.version + 1n),
          json({ tableIds: [...ddl.touchedTableIds], compatible: false,
            edits: ddl.edits.edits() }));
        await txn.commit();
        return result;
      } catch (error: unknown) {
        await rollbackQuietly(txn);
        if (!isRetryableConflict(error) || attempt >= ddlRetriesMax) throw error;
      }
    }
  }
}

async function rollbackQuietly(txn: Transaction): Promise<void> {
  try {
    await txn.rollback();
  } catch (error: unknown) {
    // Already finished (a failed commit rolls back itself): nothing left to release.
    if (!hasErrorCode(error, ErrorCode.ClientTxnFinished)) throw error;
  }
}

/** True for the errors a retried transaction can get past. */
export function isRetryableConflict(error: unknown): boolean {
  return hasErrorCode(error, ErrorCode.KvTxnWriteConflict) ||
    hasErrorCode(error, ErrorCode.KvTxnAlreadyExist) ||
    hasErrorCode(error, ErrorCode.KvTxnKeyIsLocked);
}

/** The error of naming a database that does not exist. */
export function unknownDatabase(name: string): Error {
  return mysqlError(ER.BAD_DB_ERROR, [name]);
}

/**
 * The node's auto-id allocator: each table's ids come from a range of `step` ids
 * reserved in KV by a small transaction of its own, then handed out from memory. Ids are
 * unique across SQL nodes and increasing per node, not across nodes (as TiDB).
 */
export class AutoIdAllocator {
  private readonly client: TxnClient;
  private readonly step: bigint;
  private readonly ranges = new Map<number, { next: bigint; end: bigint }>();

  constructor(client: TxnClient, options: { readonly step: number }) {
    this.client = client;
    this.step = BigInt(options.step);
  }

  /** The next id of `tableId`. */
  async next(tableId: number): Promise<bigint> {
    let range = this.ranges.get(tableId);
    if (range === undefined || range.next >= range.end) {
      range = await this.reserve(tableId, 0n);
      this.ranges.set(tableId, range);
    }
    return range.next++;
  }

  /** Makes later ids of `tableId` exceed `used` (an explicitly inserted value). */
  async rebase(tableId: number, used: bigint): Promise<void> {
    const range = this.ranges.get(tableId);
    if (range !== undefined && used < range.next) return;
    if (range !== undefined && used < range.end) {
      range.next = used + 1n;
      return;
    }
    this.ranges.set(tableId, await this.reserve(tableId, used));
  }

  /** Forgets the cached range of a dropped or truncated table. */
  forget(tableId: number): void {
    this.ranges.delete(tableId);
  }

  private async reserve(tableId: number, atLeast: bigint): Promise<{ next: bigint; end: bigint }> {
    const key = autoIdKey(tableId);
    for (let attempt = 0; ; attempt++) {
      const txn = await this.client.begin();
      try {
        const stored = readBigInt(await txn.get(key)) ?? 0n;
        const base = stored > atLeast ? stored : atLeast;
        const end = base + this.step;
        txn.set(key, b(end.toString()));
        await txn.commit();
        return { next: base + 1n, end: end + 1n };
      } catch (error: unknown) {
        await rollbackQuietly(txn);
        if (!isRetryableConflict(error) || attempt >= ddlRetriesMax) throw error;
      }
    }
  }
}
