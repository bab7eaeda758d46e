/**
 * Schema leases: how a SQL node keeps its schema fresh, tells the DDL owner which version
 * it runs, and decides whether a transaction may commit (TiDB's schema syncer and schema
 * validator).
 *
 * Every `leaseMs / 4` the node reloads the schema (`Catalog.schemaAt` on a fresh
 * snapshot) and writes its record (`meta.ts`, `SchemaSyncer`): the version it loaded, the
 * oldest schema version among its transactions that are committing, and an expiry of the
 * reload's TSO physical time + `leaseMs`. In between it reads the schema version key
 * every 200 ms and reloads at once when it moved (or when its oldest committing version
 * did), so a DDL step waits for other nodes a fraction of a second, not a lease. The
 * owner moves a job to its next state only when every node whose record has not expired
 * has loaded the current version and has no transaction of an older version committing
 * (`waitForVersion`), so at most two adjacent versions ever commit at once — the F1
 * invariant.
 *
 * A transaction's commit check (`checkCommit`) registers it as committing first (so any
 * record written later counts it), then: refuses with the retryable 8027 when the node
 * has not reloaded within its lease (the owner may already treat it as gone); reads the
 * latest version; and fails with the retryable 8028 only when a version after its own
 * changed a table it wrote — unless that was one compatible F1 step and this node had not
 * loaded it yet when the transaction registered (then no owner can have moved past it
 * without waiting for this commit). DDL on other tables never fails a transaction.
 * A commit that stalls longer than a lease after its check is the remaining gap (as in
 * TiDB without its commit-ts check); the lease is many times a normal commit.
 */
import type { Timer, Env } from "../../env/mod.ts";
import type { Transaction, TxnClient } from "../../client/mod.ts";
import { type Catalog, isRetryableConflict } from "../catalog/catalog.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import {
  deleteSyncer,
  physicalMs,
  readSchemaChange,
  readSchemaVersion,
  readSyncers,
  rollbackQuietly,
  writeSyncer,
} from "./meta.ts";

/** How often a node reads the schema version key to notice a DDL step (at most). */
const versionCheckMs = 200;
/** A node whose record expired this many leases ago is forgotten. */
const goneLeases = 100;

/** More schema versions than this between a transaction's and the latest fail it (8028). */
export const schemaDeltaMax = 100;

export interface SchemaSyncerOptions {
  readonly nodeId: string;
  /** The schema lease; see the file comment. */
  readonly leaseMs: number;
}

/** One committing transaction, returned by `checkCommit` and given back to `endCommit`. */
export interface CommitToken {
  readonly id: number;
}

/** A node's schema syncer and commit validator; see the file comment. */
export class SchemaSyncer {
  readonly nodeId: string;
  readonly leaseMs: number;
  private readonly env: Env;
  private readonly client: TxnClient;
  private readonly catalog: Catalog;
  private readonly committing = new Map<number, bigint>();
  private nextToken = 1;
  private lastReloadMs = -Infinity;
  private timer: Timer | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private ticking = false;
  private tickRun: Promise<void> | null = null;
  /** The `oldestCommitting` and `version` of the last record written. */
  private writtenOldest = -1n;
  private writtenVersion = -1n;
  private closed = false;
  /** Reloads that failed (the next one tries again), for tests and diagnostics. */
  failedReloads = 0;
  lastError: unknown = null;

  constructor(env: Env, client: TxnClient, catalog: Catalog, options: SchemaSyncerOptions) {
    this.env = env;
    this.client = client;
    this.catalog = catalog;
    this.nodeId = options.nodeId;
    this.leaseMs = options.leaseMs;
  }

  /** Loads the schema once, then keeps reloading every quarter lease. */
  async start(): Promise<void> {
    await this.reloadOnce();
    this.timer = this.env.timers.setInterval(Math.min(this.leaseMs / 4, versionCheckMs),
      () => {
        if (!this.ticking) this.tickRun = this.tick();
      });
  }

  /**
   * The periodic work: a reload and record write every quarter lease, or sooner when the
   * oldest committing version moved or the schema version key moved past the record's.
   */
  private async tick(): Promise<void> {
    if (this.closed || this.running !== null || this.ticking) return;
    this.ticking = true;
    try {
      const dueMs = this.lastReloadMs + this.leaseMs / 4;
      if (this.env.clock.monotonicMs() >= dueMs || this.oldest() !== this.writtenOldest) {
        await this.reload();
        return;
      }
      const txn = await this.client.begin();
      let version: bigint;
      try {
        version = await readSchemaVersion(txn);
      } finally {
        await rollbackQuietly(txn);
      }
      // Against the record, not the cache: a statement may have loaded the new version
      // already, and the owner waits for the record.
      if (version !== this.writtenVersion) await this.reload();
    } catch (error: unknown) {
      this.failedReloads++;
      this.lastError = error;
    } finally {
      this.ticking = false;
    }
  }

  /** The oldest schema version committing on this node, or the loaded one. */
  private oldest(): bigint {
    let oldest = this.catalog.cachedVersion;
    for (const v of this.committing.values()) if (v < oldest) oldest = v;
    return oldest;
  }

  /** Reloads now (or right after the reload in flight); resolves when done, never rejects. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.reloadOnce();
        } catch (error: unknown) {
          this.failedReloads++;
          this.lastError = error;
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async reloadOnce(): Promise<void> {
    const startedMs = this.env.clock.monotonicMs();
    const txn = await this.client.begin();
    try {
      await this.catalog.schemaAt(txn);
      const version = this.catalog.cachedVersion;
      const oldest = this.oldest();
      writeSyncer(txn, { nodeId: this.nodeId, version: version.toString(),
        oldestCommitting: oldest.toString(),
        expiresMs: physicalMs(txn.startTs) + this.leaseMs });
      await txn.commit();
      this.writtenOldest = oldest;
      this.writtenVersion = version;
    } catch (error: unknown) {
      await rollbackQuietly(txn);
      throw error;
    }
    if (startedMs > this.lastReloadMs) this.lastReloadMs = startedMs;
  }

  /**
   * Checks that a transaction of schema `version` that wrote `tableIds` may commit, and
   * registers it as committing until `endCommit`. Throws 8027 or 8028 (retryable).
   */
  async checkCommit(version: bigint, tableIds: ReadonlySet<number>): Promise<CommitToken> {
    const token = { id: this.nextToken++ };
    this.committing.set(token.id, version);
    try {
      if (this.env.clock.monotonicMs() - this.lastReloadMs > this.leaseMs) {
        throw mysqlError(ER.INFO_SCHEMA_EXPIRED);
      }
      const loaded = this.catalog.cachedVersion;
      const txn = await this.client.begin();
      try {
        const latest = await readSchemaVersion(txn);
        if (latest <= version) return token;
        if (latest - version > BigInt(schemaDeltaMax)) throw mysqlError(ER.INFO_SCHEMA_CHANGED);
        for (let v = version + 1n; v <= latest; v++) {
          const change = await readSchemaChange(txn, v);
          const touches = change === null || change.tableIds.some((id) => tableIds.has(id));
          if (!touches) continue;
          const adjacent = latest === version + 1n && loaded <= version &&
            change !== null && change.compatible;
          if (!adjacent) throw mysqlError(ER.INFO_SCHEMA_CHANGED);
        }
        return token;
      } finally {
        await txn.rollback();
      }
    } catch (error: unknown) {
      this.committing.delete(token.id);
      throw error;
    }
  }

  /**
   * Whether this node's loaded schema is within its lease: started, not closed, and
   * reloaded (record written) less than a lease ago. Statements may then use the loaded
   * schema instead of reading the version key (`Catalog.loadedAsOf`).
   */
  leaseValid(): boolean {
    return this.timer !== null && !this.closed &&
      this.env.clock.monotonicMs() - this.lastReloadMs <= this.leaseMs;
  }

  /** The transaction of `token` finished committing (either way). */
  endCommit(token: CommitToken): void {
    this.committing.delete(token.id);
  }

  /**
   * Waits until every live node has loaded `version` and has nothing older committing;
   * reloads this node's own record on the way. Polls with backoff; `signal` stops it.
   */
  async waitForVersion(version: bigint, signal?: AbortSignal): Promise<void> {
    for (let delayMs = 2; ; delayMs = Math.min(delayMs * 2, this.leaseMs / 8)) {
      // This node is judged by what it runs, not by its record (which says the same or
      // less): reloaded at once when behind, so a wait on a lone node costs no sleep.
      if (!this.runsAtLeast(version)) await this.reload();
      const txn = await this.client.begin();
      let pending: string[];
      try {
        const nowMs = physicalMs(txn.startTs);
        const records = await readSyncers(txn);
        pending = records.filter((r) => r.nodeId !== this.nodeId && r.expiresMs > nowMs &&
          (BigInt(r.version) < version || BigInt(r.oldestCommitting) < version))
          .map((r) => r.nodeId);
        if (!this.runsAtLeast(version)) pending.push(this.nodeId);
        // Records of nodes gone for long (crashed, never deregistered) are removed.
        const gone = records.filter((r) => r.expiresMs < nowMs - goneLeases * this.leaseMs);
        for (const r of gone) deleteSyncer(txn, r.nodeId);
        if (gone.length > 0) {
          try {
            await txn.commit();
          } catch (error: unknown) {
            // Another node removed them first; the next wait tries again if not.
            if (!isRetryableConflict(error)) throw error;
          }
        }
      } finally {
        await rollbackQuietly(txn);
      }
      if (pending.length === 0) return;
      await this.env.timers.sleep(delayMs, signal);
    }
  }

  /**
   * Whether this node has loaded `version` and has no transaction of an older version
   * committing, and its record says so (a reload writes both; a failed record write
   * leaves the record behind, and then this node still counts as behind).
   */
  private runsAtLeast(version: bigint): boolean {
    return this.catalog.cachedVersion >= version && this.oldest() >= version &&
      this.writtenVersion >= version;
  }

  /**
   * Stops reloading. `deregister` removes this node's record (a clean shutdown); without
   * it the record stays until it expires, as after a crash.
   */
  async close(options: { readonly deregister: boolean }): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    await this.tickRun;
    await this.running;
    if (options.deregister) await this.deregister();
  }

  /** Removes this node's schema-lease record (a clean shutdown; it expires otherwise). */
  async deregister(): Promise<void> {
    const txn = await this.client.begin();
    deleteSyncer(txn, this.nodeId);
    await txn.commit();
  }
}

/** Adds the table ids of written keys (`t{tableId}…`) to `into`. */
export function addWrittenTables(keys: readonly Uint8Array[], into: Set<number>): void {
  for (const key of keys) {
    if (key.length < 9 || key[0] !== 0x74) continue;
    const view = new DataView(key.buffer, key.byteOffset + 1, 8);
    into.add(Number(BigInt.asIntN(64, view.getBigUint64(0) ^ (1n << 63n))));
  }
}

/**
 * Commits `txn` (schema `version`, wrote `tableIds`) if `syncer.checkCommit` allows it;
 * rolls it back and throws 8027/8028 otherwise. The transaction counts as committing
 * (for the DDL owner) until its commit returns.
 */
export async function commitChecked(syncer: SchemaSyncer, txn: Transaction,
  schema: { readonly version: bigint; readonly tableIds: ReadonlySet<number> }):
  Promise<void> {
  let token: CommitToken;
  try {
    token = await syncer.checkCommit(schema.version, schema.tableIds);
  } catch (error: unknown) {
    await txn.rollback();
    throw error;
  }
  try {
    await txn.commit();
  } finally {
    syncer.endCommit(token);
  }
}
