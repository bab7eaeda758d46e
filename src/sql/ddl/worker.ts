/**
 * `DdlService`: one SQL node's part in online DDL — it submits jobs for its sessions and
 * waits for them, keeps the node's schema lease (`SchemaSyncer`), campaigns to be the DDL
 * owner, and, while it is the owner, runs the queued jobs one at a time, step by step
 * (`job.ts`).
 *
 * Owner election through KV: the owner key holds `{ nodeId, expiresMs }`; every
 * `leaseMs / 3` each node runs a small transaction that takes the key when it is absent
 * or expired (TSO physical time of the transaction's start ts) and renews it when it is
 * its own (`ownerDecision`). A node acts as owner only while its monotonic clock is
 * within `leaseMs` of the start of its last successful campaign, and each step
 * transaction re-reads the key, so a node that lost the lease stops at its next step.
 * Two owners can never both apply a step: every step writes the job record and the
 * schema version key, so the second one to commit conflicts and re-reads.
 *
 * Before each step of an F1 job the owner waits until every live SQL node runs the latest
 * version with nothing older committing (`SchemaSyncer.waitForVersion`), so a new owner
 * also waits for what the previous one left; one-step DDL does not wait (`stepsInStates`).
 * Sessions wait for their job by polling the history with backoff; the local worker wakes
 * them early when it finishes a job. All time and timers come from the client's `Env`.
 */
import type { Transaction, TxnClient } from "../../client/mod.ts";
import { ErrorCode, hasErrorCode, limits } from "../../base/mod.ts";
import type { Env, Timer } from "../../env/mod.ts";
import { type Catalog, isRetryableConflict, openDdlTxn } from "../catalog/catalog.ts";
import { MySqlError } from "../mysql_errors.ts";
import { BackfillStopped, backfillIndex, deleteRangeBatch, droppedRange } from "./backfill.ts";
import {
  type DdlJob,
  type DdlJobArgs,
  type DroppedRange,
  type Reorg,
  isFinished,
  jobErrorOf,
  mysqlErrorOf,
  runStep,
  tableById,
} from "./job.ts";
import {
  type DeleteRangeRecord,
  type OwnerRecord,
  allocJobId,
  ownerKey,
  physicalMs,
  putJob,
  readHistory,
  readHistoryJob,
  readOwner,
  readQueue,
  putDeleteRange,
  readDeleteRanges,
  readQueuedJob,
  readSchemaVersion,
  rollbackQuietly,
  writeOwner,
  writeSchemaVersion,
} from "./meta.ts";
import { SchemaSyncer } from "./syncer.ts";
import { validateCheck, validateForeignKey } from "./validate.ts";
import { physicalTables, withPartitionRanges, withPartitionTableIds }
  from "./partition_ddl.ts";

/** Tuning of a node's DDL service. */
export interface DdlOptions {
  /**
   * Schema lease and owner lease (TSO ms): a node that could not write its schema record
   * for this long refuses commits (8027), and the owner stops waiting for it; a stopped
   * owner is replaced after it.
   */
  readonly leaseMs: number;
  /** Rows per backfill transaction. */
  readonly backfillBatchRows: number;
  /** Backfill transactions in flight at once. */
  readonly backfillWorkers: number;
  /** Test hook: runs before each step the owner takes. */
  readonly beforeStep?: (job: DdlJob) => Promise<void>;
}

export const ddlOptionsDefault: DdlOptions = {
  leaseMs: 10_000,
  backfillBatchRows: 256,
  backfillWorkers: 4,
};

/** The owner looks at the queue, and a session at its job, at least this often. */
const pollMsMax = 250;
/** Jobs ADMIN SHOW DDL JOBS lists from the history (TiDB's default). */
export const historyJobsShown = 10;
/** Queued jobs listed at most. */
const queueJobsShown = 100;
/**
 * Job types that go through F1 states: the owner waits for every node before each step.
 * One-step DDL needs no wait: a transaction of an older version that wrote the changed
 * table fails its commit check (the change is not compatible), and new transactions read
 * the schema version at their start.
 */
const stepsInStates: ReadonlySet<string> = new Set(["addIndex", "dropIndex", "addColumn",
  "dropColumn", "addCheck", "addForeignKey", "partitions"]);
/** Delete-range batches (of `deleteBatchKeys` keys) the owner runs per round at most. */
const deleteRangeBatchesMax = 16;
/** Unexpected failures of one job in a row before a job that changed nothing is cancelled. */
const jobFailuresMax = 10;
/** Attempts of one owner campaign that meets a conflict. */
const campaignAttemptsMax = 5;
/** Conflicting retries of one step transaction. */
const stepAttemptsMax = 50;

/** Records the ranges a step dropped, in the step's transaction, for delete-range. */
function recordDropped(txn: Transaction, jobId: number, dropped: readonly DroppedRange[],
  version: bigint): void {
  dropped.forEach((d, seq) => {
    const range = droppedRange(d.tableId, d.indexId);
    putDeleteRange(txn, { jobId, seq, tableId: d.tableId, indexId: d.indexId,
      start: Buffer.from(range.start).toString("hex"),
      end: Buffer.from(range.end).toString("hex"), version: version.toString() });
  });
}

/** What a node does about the owner key it read at TSO physical time `nowMs`. */
export function ownerDecision(record: OwnerRecord | null, nodeId: string, nowMs: number):
  "take" | "renew" | "follow" {
  if (record === null || record.expiresMs <= nowMs) return "take";
  return record.nodeId === nodeId ? "renew" : "follow";
}

/** Where a job is after a step the owner ran. */
interface StepOutcome {
  readonly job: DdlJob;
  readonly version: bigint | null;
  readonly reorg: Reorg | null;
}

function isCancelled(error: unknown): boolean {
  return hasErrorCode(error, ErrorCode.EnvCancelled);
}

/** A node's DDL service; see the file comment. */
export class DdlService {
  readonly syncer: SchemaSyncer;
  readonly nodeId: string;
  readonly options: DdlOptions;
  private readonly env: Env;
  private readonly client: TxnClient;
  private readonly catalog: Catalog;
  private ownerUntilMs = -Infinity;
  private closed = false;
  private readonly stop = new AbortController();
  private campaignTimer: Timer | null = null;
  private campaigning: Promise<void> | null = null;
  private worker: Promise<void> | null = null;
  private workerWake: AbortController | null = null;
  private readonly waiters = new Set<AbortController>();
  /** The newest schema version every live node was seen to run. */
  private syncedVersion = 0n;
  /** The job the worker is running (or last ran). */
  private currentJob: number | null = null;
  /**
   * Every job below this id has finished (the queue head seen last): queue scans start
   * here instead of walking the deleted keys finished jobs left. Ids commit in id order
   * (`allocJobId` reads and bumps one key, so a later id's transaction conflicts with an
   * earlier one still open), so no job below a head once seen can appear later.
   */
  private queueFloor = 0;
  /** Every delete-range record before this one is done (the first one seen last). */
  private deleteRangeFloor: { readonly jobId: number; readonly seq: number } | null = null;
  /** The last error the worker or a campaign hit (they retry), for diagnostics. */
  lastError: unknown = null;
  /** Steps this node ran as owner, for tests. */
  stepsRun = 0;

  private constructor(env: Env, client: TxnClient, catalog: Catalog, options: DdlOptions) {
    this.env = env;
    this.client = client;
    this.catalog = catalog;
    this.options = options;
    this.nodeId = [...env.random.bytes(8)].map((x) => x.toString(16).padStart(2, "0")).join("");
    this.syncer = new SchemaSyncer(env, client, catalog, { nodeId: this.nodeId,
      leaseMs: options.leaseMs });
  }

  /** Starts the node's schema lease, owner campaign and worker. */
  static async open(client: TxnClient, catalog: Catalog, options: Partial<DdlOptions> = {}):
    Promise<DdlService> {
    const service = new DdlService(client.environment, client, catalog,
      { ...ddlOptionsDefault, ...options });
    await service.syncer.start();
    await service.campaign();
    service.campaignTimer = service.env.timers.setInterval(service.options.leaseMs / 3, () => {
      if (service.campaigning === null) {
        service.campaigning = service.campaign().finally(() => {
          service.campaigning = null;
        });
      }
    });
    service.worker = service.workLoop();
    return service;
  }

  /** Whether this node is the DDL owner now. */
  get isOwner(): boolean {
    return !this.closed && this.env.clock.monotonicMs() < this.ownerUntilMs;
  }

  /**
   * One campaign: take or renew the owner key. A conflict (this node's own step
   * transactions lock the key too) is retried at once, a few times.
   */
  private async campaign(): Promise<void> {
    for (let attempt = 0; attempt < campaignAttemptsMax && !this.closed; attempt++) {
      const startedMs = this.env.clock.monotonicMs();
      try {
        const txn = await this.client.begin();
        try {
          const nowMs = physicalMs(txn.startTs);
          const decision = ownerDecision(await readOwner(txn), this.nodeId, nowMs);
          if (decision === "follow") {
            this.ownerUntilMs = -Infinity;
            await txn.rollback();
            return;
          }
          writeOwner(txn, { nodeId: this.nodeId, expiresMs: nowMs + this.options.leaseMs });
          await txn.commit();
        } catch (error: unknown) {
          await rollbackQuietly(txn);
          throw error;
        }
        const wasOwner = this.isOwner;
        this.ownerUntilMs = startedMs + this.options.leaseMs;
        if (!wasOwner) this.wakeWorker();
        return;
      } catch (error: unknown) {
        this.lastError = error;
        if (!isRetryableConflict(error)) return;
        await this.env.timers.sleep(2 ** attempt);
      }
    }
  }

  private wakeWorker(): void {
    this.workerWake?.abort();
  }

  private notifyWaiters(): void {
    for (const w of this.waiters) w.abort();
  }

  /** Sleeps `delayMs` or until `wake` aborts; never rejects for a wake-up. */
  private async nap(delayMs: number, wake: AbortController): Promise<void> {
    try {
      await this.env.timers.sleep(delayMs, wake.signal);
    } catch (error: unknown) {
      if (!isCancelled(error)) throw error;
    }
  }

  private async workLoop(): Promise<void> {
    let failures = 0;
    let failedJob: number | null = null;
    while (!this.closed) {
      const wake = new AbortController();
      this.workerWake = wake;
      try {
        if (this.isOwner) await this.runQueue();
        if (this.isOwner) await this.runDeleteRanges();
        failures = 0;
      } catch (error: unknown) {
        this.lastError = error;
        failures = failedJob === this.currentJob ? failures + 1 : 1;
        failedJob = this.currentJob;
        if (failures >= jobFailuresMax && failedJob !== null) {
          await this.giveUp(failedJob, error).catch((e: unknown) => {
            this.lastError = e;
          });
        }
      }
      if (this.closed) return;
      await this.nap(Math.min(this.options.leaseMs / 4, pollMsMax), wake);
    }
  }

  private async runQueue(): Promise<void> {
    while (this.isOwner) {
      const txn = await this.client.begin();
      let head: DdlJob | undefined;
      try {
        head = (await readQueue(txn, 1, this.queueFloor))[0];
      } finally {
        await rollbackQuietly(txn);
      }
      if (head === undefined) return;
      this.queueFloor = head.id;
      await this.runJob(head);
    }
  }

  /**
   * Delete-range: deletes up to `deleteRangeBatchesMax` batches of the keys dropped
   * tables and indexes left, oldest first, each once every live node runs the schema
   * version of its drop — from then on no transaction can write into it (a transaction
   * of an older version that wrote the table fails its commit check), so nothing deleted
   * comes back. The deletes are transactional (MVCC), so snapshots older than the drop
   * keep reading the data until GC, and the work is bounded per round so queued jobs
   * are not held up; the next round goes on where this one stopped.
   */
  private async runDeleteRanges(): Promise<void> {
    const txn = await this.client.begin();
    let records;
    try {
      records = await readDeleteRanges(txn, deleteRangeBatchesMax, this.deleteRangeFloor);
    } finally {
      await rollbackQuietly(txn);
    }
    // Records are written by job steps, which run one at a time in id order: none can
    // appear before the first one seen.
    const first = records[0];
    if (first !== undefined) this.deleteRangeFloor = { jobId: first.jobId, seq: first.seq };
    let batches = 0;
    for (const record of records) {
      const version = BigInt(record.version);
      if (version > this.syncedVersion) {
        await this.syncer.waitForVersion(version, this.stop.signal);
        this.syncedVersion = version;
      }
      for (let current: DeleteRangeRecord | null = record; current !== null;) {
        if (batches >= deleteRangeBatchesMax || !this.isOwner) return;
        batches++;
        current = await deleteRangeBatch(this.client, current);
      }
    }
  }

  /** Whether dropped data is still waiting for delete-range (tests). */
  async deleteRangesPending(): Promise<number> {
    const txn = await this.client.begin();
    try {
      return (await readDeleteRanges(txn, 1_000)).length;
    } finally {
      await rollbackQuietly(txn);
    }
  }

  private async latestVersion(): Promise<bigint> {
    const txn = await this.client.begin();
    try {
      return await readSchemaVersion(txn);
    } finally {
      await rollbackQuietly(txn);
    }
  }

  /**
   * Cancels job `id` after repeated unexpected failures — only while it has changed
   * nothing (a job half-way through its states must finish or roll back, so it is
   * retried for as long as it takes).
   */
  private async giveUp(id: number, error: unknown): Promise<void> {
    const txn = await this.client.begin();
    let job: DdlJob | null;
    try {
      job = await readQueuedJob(txn, id);
    } finally {
      await rollbackQuietly(txn);
    }
    if (job === null || job.schemaState !== "none") return;
    const message = error instanceof Error ? error.message : String(error);
    await this.updateJob(id, (j) => ({ ...j, state: "cancelled", finishMs: j.startMs,
      error: { name: "UNKNOWN_ERROR", message: `DDL job failed: ${message}` } }));
    this.notifyWaiters();
  }

  private async runJob(first: DdlJob): Promise<void> {
    this.currentJob = first.id;
    let job = first;
    while (!isFinished(job)) {
      if (!this.isOwner) return;
      await this.options.beforeStep?.(job);
      if (!this.isOwner) return;
      if (stepsInStates.has(job.args.kind)) {
        // Every node runs the latest version, with nothing older committing, before the
        // next F1 step (a new owner too: the old one may have died before waiting).
        const latest = await this.latestVersion();
        if (latest > this.syncedVersion) {
          await this.syncer.waitForVersion(latest, this.stop.signal);
          this.syncedVersion = latest;
        }
      }
      const outcome = await this.step(job.id);
      if (outcome === null) return;
      this.stepsRun++;
      job = outcome.job;
      const reorg = outcome.reorg;
      if (reorg?.kind === "backfill") {
        const next = await this.backfill(job, reorg);
        if (next === null) return;
        job = next;
      } else if (reorg?.kind === "validate") {
        job = await this.validate(job, reorg);
      }
    }
    this.notifyWaiters();
  }

  /** Runs a backfill; the job after it (reorg done, or rolling back), or null if stopped. */
  private async backfill(job: DdlJob, reorg: Extract<Reorg, { kind: "backfill" }>):
    Promise<DdlJob | null> {
    const txn = await this.client.begin();
    let table;
    try {
      table = tableById(await this.catalog.schemaAt(txn), reorg.tableId);
    } finally {
      await rollbackQuietly(txn);
    }
    const index = table?.indexes.find((i) => i.id === reorg.indexId);
    if (table === undefined || index === undefined) {
      throw new Error(`job ${job.id}: backfill target ${reorg.tableId}/${reorg.indexId} gone`);
    }
    let lastWriteMs = this.env.clock.monotonicMs();
    let progress: Promise<unknown> = Promise.resolve();
    try {
      let before = 0; // rows of the partitions backfilled already
      let rows = 0;
      for (const physical of physicalTables(table)) {
        before = rows;
        rows += await backfillIndex(this.client, physical, index, {
          env: this.env,
          batchRows: this.options.backfillBatchRows,
          workers: this.options.backfillWorkers,
          stopped: () => !this.isOwner,
          onProgress: (partRows) => {
            const rowsDone = before + partRows;
            const nowMs = this.env.clock.monotonicMs();
            if (nowMs - lastWriteMs < 200) return;
            lastWriteMs = nowMs;
            progress = progress.then(() => this.updateJob(job.id, (j) => ({ ...j,
              rowCount: Math.max(j.rowCount, rowsDone) }))).catch((error: unknown) => {
              this.lastError = error;
            });
          },
        });
      }
      await progress;
      return await this.updateJob(job.id, (j) => ({ ...j, rowCount: rows, reorgDone: true }));
    } catch (error: unknown) {
      await progress;
      if (error instanceof BackfillStopped) return null;
      if (!(error instanceof MySqlError)) throw error;
      return await this.updateJob(job.id, (j) => ({ ...j, state: "rollingBack",
        error: jobErrorOf(error) }));
    }
  }

  /**
   * Checks every existing row against a constraint in write-only (`validate.ts`) at one
   * snapshot; the job after it: validated, or rolling back with the violation (3819,
   * 1452).
   */
  private async validate(job: DdlJob, reorg: Extract<Reorg, { kind: "validate" }>):
    Promise<DdlJob> {
    const txn = await this.client.begin();
    try {
      const schema = await this.catalog.schemaAt(txn);
      const table = tableById(schema, reorg.tableId);
      if (table === undefined) throw new Error(`job ${job.id}: table ${reorg.tableId} gone`);
      if (reorg.constraint === "check") {
        for (const physical of physicalTables(table)) {
          await validateCheck(txn, physical, reorg.name);
        }
      }
      else await validateForeignKey(txn, schema, table, reorg.name);
    } catch (error: unknown) {
      if (!(error instanceof MySqlError)) throw error;
      return await this.updateJob(job.id, (j) => ({ ...j, state: "rollingBack",
        error: jobErrorOf(error) }));
    } finally {
      await rollbackQuietly(txn);
    }
    return await this.updateJob(job.id, (j) => ({ ...j, reorgDone: true }));
  }

  /** Rewrites a queued job (bounded conflict retries); returns it as written. */
  private async updateJob(id: number, change: (job: DdlJob) => DdlJob): Promise<DdlJob> {
    for (let attempt = 0; ; attempt++) {
      const txn = await this.client.begin();
      try {
        const job = await readQueuedJob(txn, id);
        if (job === null) throw new Error(`job ${id} left the queue`);
        const next = change(job);
        putJob(txn, next, { finished: isFinished(next) });
        await txn.commit();
        return next;
      } catch (error: unknown) {
        await rollbackQuietly(txn);
        if (!isRetryableConflict(error) || attempt + 1 >= stepAttemptsMax) throw error;
      }
    }
  }

  /** One step transaction; null when this node is not the owner or the job is gone. */
  private async step(id: number): Promise<StepOutcome | null> {
    for (let attempt = 0; ; attempt++) {
      const txn = await this.client.begin();
      try {
        const nowMs = physicalMs(txn.startTs);
        const owner = await readOwner(txn);
        if (owner?.nodeId !== this.nodeId || owner.expiresMs <= nowMs) {
          this.ownerUntilMs = -Infinity;
          await rollbackQuietly(txn);
          return null;
        }
        // Unchanged here, but a takeover after this snapshot must fail this step: written
        // back as it is (a put, not a lock record, so reads of the key — every step and
        // campaign reads it — find the newest version at once instead of walking back
        // over one lock record per step to the last campaign's put).
        writeOwner(txn, owner);
        const queued = await readQueuedJob(txn, id);
        if (queued === null) {
          await rollbackQuietly(txn);
          return null;
        }
        const job: DdlJob = { ...queued, startMs: queued.startMs ?? nowMs };
        const schema = await this.catalog.schemaAt(txn);
        let result;
        const ddl = openDdlTxn(txn, schema);
        try {
          result = await runStep(job, ddl);
        } catch (error: unknown) {
          if (!(error instanceof MySqlError)) throw error;
          await rollbackQuietly(txn);
          const failed = await this.updateJob(id, (j) => ({ ...j, state: "cancelled",
            error: jobErrorOf(error), startMs: j.startMs ?? nowMs, finishMs: nowMs }));
          return { job: failed, version: null, reorg: null };
        }
        let version: bigint | null = null;
        if (result.change !== null) {
          version = schema.version + 1n;
          writeSchemaVersion(txn, version, { ...result.change, edits: ddl.edits.edits(),
            tableIds: withPartitionTableIds(schema, result.change.tableIds) });
        }
        recordDropped(txn, job.id, withPartitionRanges(schema, result.dropped ?? []),
          version ?? schema.version);
        const finished = isFinished(result.job);
        const next: DdlJob = { ...result.job, finishMs: finished ? nowMs : null };
        putJob(txn, next, { finished });
        await txn.commit();
        return { job: next, version, reorg: result.reorg };
      } catch (error: unknown) {
        await rollbackQuietly(txn);
        if (!isRetryableConflict(error) || attempt + 1 >= stepAttemptsMax) throw error;
        await this.env.timers.sleep(Math.min(2 ** attempt, 100));
      }
    }
  }

  // ---- the session side --------------------------------------------------------------

  /**
   * Queues a job and waits until it finishes and this node has loaded the schema after
   * it; throws its error as the MySqlError it was (1062, 1061, 1146 …). Returns the
   * finished job (notes, row count).
   */
  async run(args: DdlJobArgs, target: { readonly db: string; readonly table: string },
    query = ""): Promise<DdlJob> {
    const id = await this.submit(args, target, query);
    const job = await this.wait(id);
    // The node loads the schema the job made before the session goes on, so statements
    // that use the loaded schema see their own DDL (TiDB waits for the reload too).
    await this.syncer.reload();
    if (job.error !== null) throw mysqlErrorOf(job.error);
    return job;
  }

  private async submit(args: DdlJobArgs, target: { readonly db: string;
    readonly table: string }, query: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const txn = await this.client.begin();
      try {
        const id = await allocJobId(txn);
        const job: DdlJob = { id, args, query, dbName: target.db, tableName: target.table,
          dbId: 0, tableId: 0, state: "queueing", schemaState: "none", rowCount: 0,
          reorgDone: false, error: null, notes: [], createMs: physicalMs(txn.startTs),
          startMs: null, finishMs: null };
        putJob(txn, job, { finished: false });
        await txn.commit();
        this.wakeWorker();
        return id;
      } catch (error: unknown) {
        await rollbackQuietly(txn);
        if (!isRetryableConflict(error) || attempt + 1 >= stepAttemptsMax) throw error;
      }
    }
  }

  /** Polls the history until job `id` is there (backoff up to `pollMsMax`). */
  async wait(id: number): Promise<DdlJob> {
    for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, this.options.leaseMs / 4,
      pollMsMax)) {
      const wake = new AbortController();
      this.waiters.add(wake);
      try {
        const txn = await this.client.begin();
        let job: DdlJob | null;
        try {
          job = await readHistoryJob(txn, id);
        } finally {
          await rollbackQuietly(txn);
        }
        if (job !== null) return job;
        if (this.closed) throw new Error("the SQL node is shutting down");
        await this.nap(delayMs, wake);
        // Woken by the local worker: poll again soon.
        if (wake.signal.aborted) delayMs = 1;
      } finally {
        this.waiters.delete(wake);
      }
    }
  }

  /** Queued jobs, then the latest finished ones (ADMIN SHOW DDL JOBS). */
  async jobs(): Promise<DdlJob[]> {
    const txn = await this.client.begin();
    try {
      return [...await readQueue(txn, queueJobsShown, this.queueFloor),
        ...await readHistory(txn, historyJobsShown)];
    } finally {
      await rollbackQuietly(txn);
    }
  }

  /**
   * Stops the worker, campaign and schema lease. `deregister` (a clean shutdown) removes
   * the node's schema record and gives up the owner key; without it both stay until they
   * expire, as after a crash.
   */
  async close(options: { readonly deregister: boolean } = { deregister: true }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.campaignTimer?.cancel();
    this.wakeWorker();
    this.notifyWaiters();
    await this.campaigning;
    await this.syncer.close({ deregister: false });
    await this.worker;
    if (!options.deregister) return;
    // Deregistering needs PD and the KV nodes. When they are gone too (a SIGTERM to a
    // whole process group stops every node at once) the transaction would retry until
    // the process's shutdown deadline; give up after a bound instead: the records
    // expire with their lease, as after a crash.
    const done = new AbortController();
    const deregistered = this.deregister().finally(() => done.abort());
    deregistered.catch(() => undefined); // rethrown below unless the bound passed first
    const bound = this.env.timers.sleep(limits.ddlDeregisterMsMax, done.signal)
      .catch(() => undefined);
    await Promise.race([deregistered, bound]);
  }

  /** Removes this node's schema-lease record and gives up the owner key if it holds it. */
  private async deregister(): Promise<void> {
    await this.syncer.deregister();
    const txn = await this.client.begin();
    try {
      const owner = await readOwner(txn);
      if (owner?.nodeId === this.nodeId) txn.delete(ownerKey);
      await txn.commit();
    } catch (error: unknown) {
      await rollbackQuietly(txn);
      if (!isRetryableConflict(error)) throw error;
    }
  }
}
