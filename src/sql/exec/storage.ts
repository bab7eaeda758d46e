/**
 * `SqlStorage`: what a SQL node shares between its sessions once it has a cluster — the
 * transactional client, the catalog cache, the auto-id allocator and execution counters.
 * Created by `openSqlStorage`, which bootstraps the cluster's catalog (once per cluster)
 * and starts the node's DDL service (schema lease, owner campaign; `ddl.close()` stops it).
 */
import type { TxnClient } from "../../client/mod.ts";
import { AutoIdAllocator, Catalog } from "../catalog/catalog.ts";
import { type DdlOptions, DdlService } from "../ddl/worker.ts";
import type { SpillSpace } from "../plan/spill_store.ts";

/** Counters of how statements ran, for tests and metrics. */
export interface ExecStats {
  /** Reads of one row by its handle without a scan (the point-get fast path). */
  pointGets: number;
  /** Full scans of a table's rows. */
  tableScans: number;
  /** Reads of a key range of a secondary index (then the rows by handle). */
  indexRangeScans?: number;
  /** Reads of a range of row keys by bounds on a clustered integer primary key. */
  handleRangeScans?: number;
  /** Coprocessor requests sent to KV nodes (pushed-down scans, plan/pushdown.ts). */
  coprocessorRequests?: number;
  /** Rows an index range read fetched by handle after reading the index (IndexLookUp). */
  indexLookupRows?: number;
}

/** A SQL node's storage services; see the file comment. */
export interface SqlStorage {
  readonly client: TxnClient;
  readonly catalog: Catalog;
  readonly autoIds: AutoIdAllocator;
  readonly stats: ExecStats;
  /** Online DDL: job queue, owner, schema lease; `ddl.close()` before the client closes. */
  readonly ddl: DdlService;
  /** Temp storage of spilling sorts and aggregations (plan/spill_store.ts); absent: default. */
  readonly tmpStorage?: SpillSpace;
}

/** Options of `openSqlStorage`. */
export interface SqlStorageOptions {
  /** Ids an auto-id range reserves at a time (TiDB's default is 30000). */
  readonly autoIdStep?: number;
  /** Online DDL tuning (schema lease, backfill batches); see `DdlOptions`. */
  readonly ddl?: Partial<DdlOptions>;
  /** Where spilling operators write temp files (`tmp-storage-path`); absent: the OS's. */
  readonly tmpStorage?: SpillSpace;
}

/** Connects the SQL layer to a cluster through `client` and bootstraps it if new. */
export async function openSqlStorage(
  client: TxnClient,
  options: SqlStorageOptions = {},
): Promise<SqlStorage> {
  const catalog = new Catalog(client);
  await catalog.bootstrap();
  const ddl = await DdlService.open(client, catalog, options.ddl);
  return {
    ddl,
    client,
    catalog,
    autoIds: new AutoIdAllocator(client, { step: options.autoIdStep ?? 30_000 }),
    stats: { pointGets: 0, tableScans: 0 },
    ...(options.tmpStorage === undefined ? {} : { tmpStorage: options.tmpStorage }),
  };
}
