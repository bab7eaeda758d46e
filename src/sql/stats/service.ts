/**
 * `StatsService`: a SQL node's statistics — the cache the planner reads synchronously,
 * ANALYZE TABLE, the modify counters of the node's writes, and auto-analyze.
 *
 * One service per `SqlStorage` (`StatsService.of`), started on first use. The planner
 * asks `get(table)`: cached statistics at once, or undefined while a first load runs in
 * the background (that query plans by rules; the next ones by cost). A loop, every
 * `tickMs`:
 * - adds the node's counted row changes to the tables' modify counters in KV (a failed
 *   flush keeps them for the next tick);
 * - reads every table's analysis summary and reloads cached tables analyzed since (by
 *   another node too);
 * - on the DDL owner only (one node of the cluster), analyzes at most one table whose
 *   rows changed since its last analysis by more than `autoAnalyzeRatio` (0.5, as TiDB)
 *   of its rows, or, never analyzed, by at least `autoAnalyzeMinRows`.
 * The loop runs while the node's schema lease is valid (it stops when the node closes;
 * the next use starts it again). Row changes are counted when a statement ends, whether
 * or not its transaction commits: a counter that only triggers analyses may overcount.
 */
import type { InfoSchema } from "../catalog/catalog.ts";
import type { TableInfo } from "../catalog/schema.ts";
import type { SqlStorage } from "../exec/storage.ts";
import type { StatsMeta } from "./codec.ts";
import type { TableStats } from "./histogram.ts";
import { addModifyCounts, analyzeTable, deleteStats, readAllMeta, readAllModifyCounts,
  readStats } from "./store.ts";

/** Tunables of a node's statistics service. */
export interface StatsOptions {
  /** How often the loop runs, ms. */
  tickMs: number;
  /** Changed rows over rows at the last analysis that trigger an auto-analyze. */
  autoAnalyzeRatio: number;
  /** Changed rows that trigger the first analysis of a table. */
  autoAnalyzeMinRows: number;
  /** Whether this node auto-analyzes when it is the DDL owner. */
  autoAnalyze: boolean;
}

export const statsOptionsDefault: StatsOptions = {
  tickMs: 1_000,
  autoAnalyzeRatio: 0.5,
  autoAnalyzeMinRows: 1_000,
  autoAnalyze: true,
};

/** Tables whose statistics a node caches at most (then the cache starts over). */
const cachedTablesMax = 4_096;

/**
 * Whether a table needs analyzing: `meta` is its last analysis (undefined: never),
 * `modifyCount` its modify counter now.
 */
export function needsAnalyze(meta: StatsMeta | undefined, modifyCount: number,
  options: { readonly autoAnalyzeRatio: number; readonly autoAnalyzeMinRows: number }): boolean {
  if (meta === undefined) return modifyCount >= options.autoAnalyzeMinRows;
  const changed = modifyCount - meta.modifyBase;
  return changed > 0 && changed > options.autoAnalyzeRatio * meta.count;
}

interface Entry {
  stats: TableStats | null;
  loading: boolean;
}

const services = new WeakMap<SqlStorage, StatsService>();

/** A SQL node's statistics; see the file comment. */
export class StatsService {
  private readonly storage: SqlStorage;
  readonly options: StatsOptions = { ...statsOptionsDefault };
  private readonly cache = new Map<number, Entry>();
  private readonly deltas = new Map<number, number>();
  private running = false;
  /** Analyses this node ran by itself, for tests. */
  autoAnalyzed = 0;
  /** The last error of the loop (it retries), for diagnostics. */
  lastError: unknown = null;

  private constructor(storage: SqlStorage) {
    this.storage = storage;
  }

  /** The service of `storage`, created (and its loop started) on first use. */
  static of(storage: SqlStorage): StatsService {
    let service = services.get(storage);
    if (service === undefined) {
      service = new StatsService(storage);
      services.set(storage, service);
    }
    service.start();
    return service;
  }

  /** The cached statistics of `table`; undefined (and a load started) when none yet. */
  get(table: TableInfo): TableStats | undefined {
    const entry = this.cache.get(table.id);
    if (entry !== undefined) return entry.stats ?? undefined;
    if (this.cache.size >= cachedTablesMax) this.cache.clear();
    const created: Entry = { stats: null, loading: true };
    this.cache.set(table.id, created);
    void this.load(table.id, created);
    return undefined;
  }

  private async load(tableId: number, entry: Entry): Promise<void> {
    try {
      const txn = await this.storage.client.begin();
      try {
        entry.stats = await readStats(txn, tableId);
      } finally {
        await txn.rollback().catch(() => {});
      }
    } catch (error: unknown) {
      this.lastError = error;
      this.cache.delete(tableId);
    } finally {
      entry.loading = false;
    }
  }

  /** ANALYZE TABLE: analyzes `table` in a transaction of its own and caches the result. */
  async analyze(table: TableInfo): Promise<TableStats> {
    const txn = await this.storage.client.begin();
    let stats: TableStats;
    try {
      stats = await analyzeTable(txn, table);
      await txn.commit();
    } catch (error: unknown) {
      await txn.rollback().catch(() => {});
      throw error;
    }
    this.cache.set(table.id, { stats, loading: false });
    return stats;
  }

  /** Counts `rows` changed rows of table `tableId` (flushed by the loop). */
  noteModified(tableId: number, rows: number): void {
    if (rows <= 0) return;
    this.deltas.set(tableId, (this.deltas.get(tableId) ?? 0) + rows);
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      const env = this.storage.client.environment;
      while (this.storage.ddl.syncer.leaseValid()) {
        await env.timers.sleep(this.options.tickMs);
        if (!this.storage.ddl.syncer.leaseValid()) break;
        try {
          await this.tick();
        } catch (error: unknown) {
          this.lastError = error;
        }
      }
    } catch (error: unknown) {
      this.lastError = error;
    } finally {
      this.running = false;
    }
  }

  /** One round of the loop (see the file comment); exposed for tests. */
  async tick(): Promise<void> {
    await this.flush();
    const txn = await this.storage.client.begin();
    let metas: Map<number, StatsMeta>;
    let counts: Map<number, number>;
    try {
      metas = await readAllMeta(txn);
      counts = await readAllModifyCounts(txn);
    } finally {
      await txn.rollback().catch(() => {});
    }
    for (const [tableId, entry] of this.cache) {
      const meta = metas.get(tableId);
      if (meta !== undefined && !entry.loading && entry.stats?.version !== meta.version) {
        entry.loading = true;
        await this.load(tableId, entry);
      }
    }
    if (this.options.autoAnalyze && this.storage.ddl.isOwner) {
      await this.autoAnalyze(metas, counts);
    }
  }

  private async flush(): Promise<void> {
    if (this.deltas.size === 0) return;
    const deltas = new Map(this.deltas);
    this.deltas.clear();
    try {
      const txn = await this.storage.client.begin();
      try {
        await addModifyCounts(txn, deltas);
        await txn.commit();
      } catch (error: unknown) {
        await txn.rollback().catch(() => {});
        throw error;
      }
    } catch (error: unknown) {
      for (const [id, n] of deltas) this.deltas.set(id, (this.deltas.get(id) ?? 0) + n);
      throw error;
    }
  }

  private async autoAnalyze(metas: ReadonlyMap<number, StatsMeta>,
    counts: ReadonlyMap<number, number>): Promise<void> {
    const due = [...counts].filter(([id, n]) => needsAnalyze(metas.get(id), n, this.options));
    if (due.length === 0) return;
    const [tableId] = due[0]!;
    const txn = await this.storage.client.begin();
    let schema: InfoSchema;
    try {
      schema = await this.storage.catalog.schemaAt(txn);
    } finally {
      await txn.rollback().catch(() => {});
    }
    const table = tableById(schema, tableId);
    if (table === undefined) {
      const drop = await this.storage.client.begin();
      deleteStats(drop, tableId);
      await drop.commit();
      this.cache.delete(tableId);
      return;
    }
    await this.analyze(table);
    this.autoAnalyzed++;
  }
}

/** The table of id `tableId` in `schema`. */
function tableById(schema: InfoSchema, tableId: number): TableInfo | undefined {
  for (const name of schema.databaseNames()) {
    for (const table of schema.database(name)?.tables.values() ?? []) {
      if (table.id === tableId) return table;
    }
  }
  return undefined;
}
