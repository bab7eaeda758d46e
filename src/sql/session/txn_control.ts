/**
 * `TxnControl`: a SQL session's transactions — when one opens and ends, in which mode and
 * isolation, how each statement runs inside it, savepoints, and which MySQL error a
 * storage failure becomes. The session owns one (when it has storage) and calls it from
 * `withTxn`/`endTxn` and the BEGIN/COMMIT/ROLLBACK/SAVEPOINT statements.
 *
 * The contract (as TiDB's, see the README):
 * - Mode: `tidb_txn_mode` ('pessimistic' by default, or 'optimistic'), or per transaction
 *   `BEGIN PESSIMISTIC` / `BEGIN OPTIMISTIC`, fixed when the transaction opens.
 * - Plain SELECTs read the transaction's snapshot: its start ts under REPEATABLE READ,
 *   a fresh ts per statement under READ COMMITTED (READ UNCOMMITTED runs as READ
 *   COMMITTED, a stronger level; SERIALIZABLE is refused where it is set).
 * - Pessimistic DML (INSERT/UPDATE/DELETE/REPLACE) and locking reads (FOR UPDATE, FOR
 *   SHARE and LOCK IN SHARE MODE, all exclusive here: stronger than a shared lock) read
 *   at a fresh for-update ts and lock, at that same ts, the rows they select and every
 *   key they wrote (found from the statement's buffer checkpoint, as TiDB finds them in
 *   its statement staging buffer) before they return. The executors know nothing of
 *   this: the transaction's statement options make its reads and `lockKeys` use the
 *   statement's ts. When a locked key had a commit newer than that ts the statement's
 *   writes are rolled back to its checkpoint and it runs again at a new ts (bounded by
 *   `limits.sqlPessimisticStatementRetriesMax`), so `UPDATE t SET v = v + 1` and
 *   SELECT … FOR UPDATE followed by a write never lose an update. A lock wait past
 *   `innodb_lock_wait_timeout` is 1205 and rolls back the statement only; a deadlock is
 *   1213 and rolls back the whole transaction, as InnoDB does; a held lock fails a
 *   locking read with NOWAIT at once with 3572.
 * - Optimistic transactions read and write at their snapshot and conflict at commit:
 *   first committer wins, the loser gets the retryable 9007 — snapshot isolation.
 * - Every statement is atomic: a failed one leaves the write buffer as it found it.
 * - Explicit transactions are never retried. An autocommit statement is its own
 *   transaction; it runs optimistically first and, after a write conflict at commit,
 *   runs again from scratch (pessimistically in pessimistic mode, as TiDB does; after a
 *   jittered wait in optimistic mode), at most `limits.sqlAutocommitRetriesMax` times.
 *   Rerunning a whole single-statement transaction is safe: nothing of it was visible.
 * - READ ONLY transactions (START TRANSACTION READ ONLY, `transaction_read_only`,
 *   SET TRANSACTION READ ONLY) refuse writes and DDL (`readOnlyNow`) with 1792.
 *
 * State: the open transaction (or none) with its schema, characteristics and savepoints,
 * and the characteristics BEGIN or SET TRANSACTION chose for the next one. Calls never
 * overlap.
 */
import { ErrorCode, TesseraError, type Timestamp, limits, maxTimestamp }
  from "../../base/mod.ts";
import type { BufferCheckpoint, Transaction } from "../../client/mod.ts";
import { decodeRowKey } from "../../codec/mod.ts";
import type { KeyError } from "../../proto/mod.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import type { SqlStorage } from "../exec/storage.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import type { Statement } from "../parser/ast.ts";
import { addWrittenTables, commitChecked } from "../ddl/syncer.ts";

/** `tidb_txn_mode`. */
export type TxnMode = "pessimistic" | "optimistic";

/** The isolation levels that run; SERIALIZABLE is refused before it gets here. */
export type Isolation = "REPEATABLE-READ" | "READ-COMMITTED";

/** What a transaction was opened with. */
export interface TxnCharacteristics {
  readonly mode: TxnMode;
  readonly isolation: Isolation;
  readonly readOnly: boolean;
}

/** How a statement uses its transaction. */
export interface StatementAccess {
  readonly kind: "read" | "lockingRead" | "write";
  /** A locking read with NOWAIT: fail at once on a held lock (3572). */
  readonly noWait: boolean;
  /** A locking read with SKIP LOCKED: refused (1235) until it exists. */
  readonly skipLocked?: boolean;
}

/** A plain read: what statements that neither write nor lock are. */
export const readAccess: StatementAccess = { kind: "read", noWait: false };

/** The access of a statement the session runs on storage. */
export function statementAccess(statement: Statement): StatementAccess {
  switch (statement.kind) {
    case "insert":
    case "update":
    case "delete":
    case "loadData":
      return { kind: "write", noWait: false };
    case "select":
      return statement.lock === null ? readAccess
        : { kind: "lockingRead", noWait: statement.lock.wait === "NOWAIT",
          skipLocked: statement.lock.wait === "SKIP LOCKED" };
    default:
      return readAccess;
  }
}

/** The session settings a transaction reads (system variables, already validated). */
export interface TxnSettings {
  readonly mode: TxnMode;
  /** `transaction_isolation`'s value. */
  readonly isolation: string;
  readonly readOnly: boolean;
  /** `innodb_lock_wait_timeout` in milliseconds. */
  readonly lockWaitTimeoutMs: number;
}

/** A session's open transaction. */
export interface OpenTxn {
  readonly txn: Transaction;
  readonly schema: InfoSchema;
  readonly characteristics: TxnCharacteristics;
  /** Whether it buffered writes (or optimistic lock-only keys): commit, not roll back. */
  wrote: boolean;
  /** DML statements run so far. */
  writes: number;
  /** Savepoints, oldest first, each with the buffer checkpoint it restores. */
  readonly savepoints: { readonly name: string; readonly checkpoint: BufferCheckpoint }[];
  /** Ids of the tables it wrote: only DDL on these can fail its commit (8028). */
  readonly tableIds: Set<number>;
}

function isolationOf(value: string): Isolation {
  return value === "REPEATABLE-READ" ? "REPEATABLE-READ" : "READ-COMMITTED";
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof TesseraError && codes.includes(error.code);
}

/**
 * The other transaction and the key of a conflict, from the store's key error when the
 * error carries it (`details.keyError`): the conflicting writer's start and commit ts
 * (0 when unknown, as for a lock not yet committed) and the key, a row key as TiDB
 * prints it (`{tableID=5, handle=3}`), another key in hex; else the error's message.
 */
function conflictOf(error: TesseraError): { startTs: bigint; commitTs: bigint; key: string } {
  const keyError = (error.details as { readonly keyError?: KeyError } | undefined)?.keyError;
  switch (keyError?.kind) {
    case "writeConflict":
      return { startTs: keyError.conflictStartTs, commitTs: keyError.conflictCommitTs,
        key: describeKey(keyError.key) };
    case "keyIsLocked":
      return { startTs: keyError.lock.startTs, commitTs: 0n, key: describeKey(keyError.lock.key) };
    case "alreadyExist":
      return { startTs: 0n, commitTs: 0n, key: describeKey(keyError.key) };
    default:
      return { startTs: 0n, commitTs: 0n, key: error.message };
  }
}

function describeKey(key: Uint8Array): string {
  try {
    const row = decodeRowKey(key);
    return `{tableID=${row.tableId}, handle=${row.handle}}`;
  } catch {
    return Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
  }
}

/** A conflict an autocommit statement is rerun after (its transaction was rolled back). */
function isCommitConflict(error: unknown): boolean {
  return hasCode(error, ErrorCode.KvTxnWriteConflict, ErrorCode.KvTxnKeyIsLocked,
    ErrorCode.KvTxnAlreadyExist);
}

/**
 * A storage failure as the MySQL error a client acts on (9007 and 8028 are retryable,
 * 1205 and 1213 as InnoDB, 8004 for a transaction past its size limits). Other values
 * pass through unchanged.
 */
export function storageError(error: unknown, startTs: bigint): unknown {
  if (!(error instanceof TesseraError)) return error;
  switch (error.code) {
    case ErrorCode.KvTxnWriteConflict:
    case ErrorCode.KvTxnKeyIsLocked:
    case ErrorCode.KvTxnAlreadyExist:
    {
      const conflict = conflictOf(error);
      return mysqlError(ER.WRITE_CONFLICT,
        [startTs, conflict.startTs, conflict.commitTs, conflict.key]);
    }
    case ErrorCode.KvTxnDeadlock:
      return mysqlError(ER.LOCK_DEADLOCK);
    case ErrorCode.KvTxnPessimisticLockNotFound:
      return mysqlError(ER.LOCK_EXPIRE);
    case ErrorCode.KvTxnLockWaitTimeout:
    case ErrorCode.ClientTxnLockResolveTimeout:
      return mysqlError(ER.LOCK_WAIT_TIMEOUT);
    case ErrorCode.ClientTxnBufferFull: {
      const bytes = (error.details as { readonly bytes?: unknown } | undefined)?.bytes;
      return mysqlError(ER.TXN_TOO_LARGE, [typeof bytes === "number" ? bytes : 0]);
    }
    default:
      return error;
  }
}

/** Options of one statement run by `TxnControl.statement`. */
export interface StatementRun<R> {
  /** Inside BEGIN … COMMIT or with autocommit off: the session's transaction. */
  readonly explicit: boolean;
  readonly access: StatementAccess;
  readonly body: (open: OpenTxn) => Promise<R>;
  /** Called before a rerun (the session drops the failed attempt's warnings). */
  readonly onRetry: () => void;
  /**
   * For an autocommit read of one key (a point get): the statement, run first on a
   * transaction that reads the latest committed version (read ts = the maximum
   * timestamp, TiDB's max-ts PointGet) without fetching a start ts from PD. One key has
   * no snapshot to keep consistent, and a read of the latest committed version is
   * linearizable: a lock in the way is resolved first, as any reader's. Undefined from
   * it: the statement needs a snapshot after all, and `body` runs it as usual.
   */
  readonly readLatest?: (open: OpenTxn) => Promise<R | undefined>;
}

/** A session's transactions; see the file comment. */
export class TxnControl {
  private readonly storage: SqlStorage;
  private readonly settings: () => TxnSettings;
  private openTxn: OpenTxn | null = null;
  /** Chosen by BEGIN for the transaction it starts (opened lazily). */
  private begun: TxnCharacteristics | null = null;
  /** SET TRANSACTION without a scope: the next transaction only. */
  private next: { isolation?: Isolation; readOnly?: boolean } = {};

  constructor(storage: SqlStorage, settings: () => TxnSettings) {
    this.storage = storage;
    this.settings = settings;
  }

  /** The open transaction, if any. */
  get open(): OpenTxn | null {
    return this.openTxn;
  }

  /**
   * True when the current transaction (open, begun, or the one the next statement would
   * open) is READ ONLY: DDL is refused then with 1792, as MySQL refuses it.
   */
  get readOnlyNow(): boolean {
    const current = this.openTxn?.characteristics ?? this.begun;
    return current?.readOnly ?? this.next.readOnly ?? this.settings().readOnly;
  }

  /**
   * BEGIN / START TRANSACTION (the session ended the previous transaction first): fixes
   * the new transaction's characteristics; WITH CONSISTENT SNAPSHOT opens it now.
   */
  async begin(options: {
    readonly mode: "PESSIMISTIC" | "OPTIMISTIC" | null;
    readonly readOnly: boolean | null;
    readonly consistentSnapshot: boolean;
  }): Promise<void> {
    const chars = this.takeCharacteristics();
    this.begun = {
      ...chars,
      mode: options.mode === null ? chars.mode
        : options.mode === "PESSIMISTIC" ? "pessimistic" : "optimistic",
      readOnly: options.readOnly ?? chars.readOnly,
    };
    if (options.consistentSnapshot) await this.ensureOpen();
  }

  /** SET TRANSACTION without GLOBAL/SESSION; 1568 inside an open explicit transaction. */
  setNext(options: { readonly isolation: string | null; readonly readOnly: boolean | null },
    inExplicitTxn: boolean): void {
    if (inExplicitTxn && (this.openTxn !== null || this.begun !== null)) {
      throw mysqlError(ER.CANT_CHANGE_TX_CHARACTERISTICS);
    }
    if (options.isolation !== null) {
      this.next.isolation = isolationOf(options.isolation.replace(/ /g, "-"));
    }
    if (options.readOnly !== null) this.next.readOnly = options.readOnly;
  }

  /** Drops what SET TRANSACTION chose for the next transaction (connection reset). */
  forgetNext(): void {
    this.next = {};
  }

  /** Runs one statement; see the file comment. Errors are MySQL errors where one applies. */
  async statement<R>(run: StatementRun<R>): Promise<R> {
    if (run.access.skipLocked === true) {
      throw mysqlError(ER.NOT_SUPPORTED_YET, ["SKIP LOCKED"]);
    }
    if (!run.explicit) {
      // A transaction left open when autocommit was switched back on commits first, as
      // SET autocommit = 1 does in MySQL.
      await this.end({ commit: true });
      return this.autocommit(run);
    }
    const open = await this.ensureOpen();
    try {
      return await this.inTxn(open, run);
    } catch (error: unknown) {
      if (hasCode(error, ErrorCode.KvTxnDeadlock)) await this.finish({ commit: false });
      throw this.mapped(error, open, run.access);
    }
  }

  /**
   * Ends the open transaction: commits one that wrote (8028 when a DDL changed the schema
   * since it began), rolls back otherwise. The next transaction starts from the settings.
   */
  async end(options: { readonly commit: boolean }): Promise<void> {
    const open = this.openTxn;
    try {
      await this.finish(options);
    } catch (error: unknown) {
      throw open === null ? error : storageError(error, open.txn.startTs);
    }
  }

  /** SAVEPOINT name inside an explicit transaction (a same-named one is replaced). */
  async savepoint(name: string): Promise<void> {
    const open = await this.ensureOpen();
    this.releaseSavepoint(name);
    open.savepoints.push({ name, checkpoint: open.txn.checkpoint() });
  }

  /**
   * ROLLBACK TO SAVEPOINT: the write buffer as it was at the savepoint (later savepoints
   * are gone; locks taken since stay held). False when this transaction has no such one.
   */
  rollbackToSavepoint(name: string): boolean {
    const open = this.openTxn;
    const at = this.savepointIndex(name);
    if (open === null || at < 0) return false;
    const savepoint = open.savepoints[at] as OpenTxn["savepoints"][number];
    open.txn.rollbackTo(savepoint.checkpoint);
    open.savepoints.length = at + 1;
    return true;
  }

  /** RELEASE SAVEPOINT: forgets it and every later one, keeping the writes. */
  releaseSavepoint(name: string): void {
    const open = this.openTxn;
    const at = this.savepointIndex(name);
    if (open === null || at < 0) return;
    open.txn.releaseCheckpoint((open.savepoints[at] as OpenTxn["savepoints"][number])
      .checkpoint);
    open.savepoints.length = at;
  }

  // ---- internals -------------------------------------------------------------------------

  private savepointIndex(name: string): number {
    return this.openTxn?.savepoints.findIndex((s) => s.name.toLowerCase() ===
      name.toLowerCase()) ?? -1;
  }

  /** The characteristics the next transaction gets (consuming SET TRANSACTION's). */
  private takeCharacteristics(): TxnCharacteristics {
    const settings = this.settings();
    const chars: TxnCharacteristics = {
      mode: settings.mode,
      isolation: this.next.isolation ?? isolationOf(settings.isolation),
      readOnly: this.next.readOnly ?? settings.readOnly,
    };
    this.next = {};
    return chars;
  }

  private async ensureOpen(): Promise<OpenTxn> {
    if (this.openTxn !== null) return this.openTxn;
    const chars = this.begun ?? this.takeCharacteristics();
    this.openTxn = await this.openWith(chars);
    return this.openTxn;
  }

  /** `StatementRun.readLatest`: `body` on a read-only transaction at the maximum ts. */
  private async readLatest<R>(body: (open: OpenTxn) => Promise<R | undefined>,
    chars: TxnCharacteristics): Promise<R | undefined> {
    const open = await this.openWith({ ...chars, mode: "optimistic" }, maxTimestamp);
    this.openTxn = open;
    try {
      open.txn.setStatementOptions({ readTs: maxTimestamp,
        lockWaitTimeoutMs: this.settings().lockWaitTimeoutMs });
      return await body(open);
    } catch (error: unknown) {
      throw error instanceof MySqlError ? error : this.mapped(error, open, readAccess);
    } finally {
      if (this.openTxn === open) await this.finish({ commit: false });
    }
  }

  private async openWith(characteristics: TxnCharacteristics,
    startTs?: Timestamp, failOnLiveLocks = false): Promise<OpenTxn> {
    const pessimistic = characteristics.mode === "pessimistic";
    const options = {
      pessimistic,
      ...(pessimistic ? { lockTtlMs: limits.sqlPessimisticLockTtlMs } : {}),
      ...(failOnLiveLocks ? { failOnLiveLocks } : {}),
    };
    const txn = startTs === undefined ? await this.storage.client.begin(options)
      : await this.storage.client.beginAt(startTs, options);
    try {
      // Within the schema lease the loaded schema serves (no version read per statement).
      const schema = (this.storage.ddl.syncer.leaseValid()
        ? this.storage.catalog.loadedAsOf(txn.startTs) : null) ??
        await this.storage.catalog.schemaAt(txn);
      return { txn, schema, characteristics, wrote: false, writes: 0, savepoints: [],
        tableIds: new Set() };
    } catch (error: unknown) {
      await txn.rollback();
      throw storageError(error, txn.startTs);
    }
  }

  private async finish(options: { readonly commit: boolean }): Promise<void> {
    const open = this.openTxn;
    this.openTxn = null;
    this.begun = null;
    if (open === null) return;
    if (!options.commit || !open.wrote) {
      await open.txn.rollback();
      return;
    }
    await commitChecked(this.storage.ddl.syncer, open.txn,
      { version: open.schema.version, tableIds: open.tableIds });
  }

  /** A statement's failure as the error the client gets. */
  private mapped(error: unknown, open: OpenTxn, access: StatementAccess): unknown {
    if (access.noWait && hasCode(error, ErrorCode.KvTxnLockWaitTimeout)) {
      return mysqlError(ER.LOCK_NOWAIT);
    }
    return storageError(error, open.txn.startTs);
  }

  /**
   * One statement in `open`: reads at its read ts, writes checkpointed, pessimistic keys
   * locked before it returns, rerun at a new for-update ts after a newer commit.
   */
  private async inTxn<R>(open: OpenTxn, run: StatementRun<R>): Promise<R> {
    const chars = open.characteristics;
    if (run.access.kind === "write" && chars.readOnly) {
      throw mysqlError(ER.CANT_EXECUTE_IN_READ_ONLY_TRANSACTION);
    }
    const lockAtReadTs = chars.mode === "pessimistic" && run.access.kind !== "read";
    const freshReadTs = lockAtReadTs || chars.isolation === "READ-COMMITTED";
    const txn = open.txn;
    for (let attempt = 0; ; attempt++) {
      const readTs: Timestamp = freshReadTs ? await this.storage.client.timestamp()
        : txn.startTs;
      const lockWaitTimeoutMs = run.access.noWait ? 0 : this.settings().lockWaitTimeoutMs;
      const checkpoint = txn.checkpoint();
      txn.setStatementOptions({ readTs, lockWaitTimeoutMs,
        ...(lockAtReadTs ? { forUpdateTs: readTs } : {}) });
      try {
        const result = await run.body(open);
        const written = txn.keysChangedSince(checkpoint);
        // Pessimistic: lock what the statement wrote, at the ts it read at.
        if (lockAtReadTs && written.length > 0) await txn.lockKeys(written);
        txn.releaseCheckpoint(checkpoint);
        if (written.length > 0) open.wrote = true;
        addWrittenTables(written, open.tableIds);
        return result;
      } catch (error: unknown) {
        txn.rollbackTo(checkpoint);
        txn.releaseCheckpoint(checkpoint);
        const conflict = lockAtReadTs && hasCode(error, ErrorCode.KvTxnWriteConflict);
        if (!conflict || attempt >= limits.sqlPessimisticStatementRetriesMax) throw error;
        run.onRetry();
      } finally {
        txn.setStatementOptions({});
      }
    }
  }

  /** An autocommit statement: its own transaction, rerun after a commit conflict. */
  private async autocommit<R>(run: StatementRun<R>): Promise<R> {
    const chars = this.takeCharacteristics();
    if (run.readLatest !== undefined && run.access.kind === "read") {
      const latest = await this.readLatest(run.readLatest, chars);
      if (latest !== undefined) return latest;
      run.onRetry();
    }
    // A locking read in its own transaction has nothing to keep locked: a plain read.
    const access = run.access.kind === "lockingRead" ? readAccess : run.access;
    let mode: TxnMode = "optimistic";
    for (let attempt = 0; ; attempt++) {
      // In pessimistic mode the optimistic first attempt must not wait on another
      // transaction's lock (that could be as long as the lock's TTL): it fails at once and
      // the pessimistic rerun waits, bounded by innodb_lock_wait_timeout.
      const open = await this.openWith({ ...chars, mode }, undefined,
        mode === "optimistic" && chars.mode === "pessimistic");
      this.openTxn = open;
      try {
        const result = await this.inTxn(open, { ...run, access });
        await this.finish({ commit: true });
        return result;
      } catch (error: unknown) {
        if (this.openTxn === open) await this.finish({ commit: false });
        if (!isCommitConflict(error) || attempt >= limits.sqlAutocommitRetriesMax) {
          throw error instanceof MySqlError ? error : this.mapped(error, open, access);
        }
        run.onRetry();
        // Pessimistic reruns queue on the locks instead; optimistic ones spread out.
        if (chars.mode === "optimistic") await this.storage.client.conflictBackoff(attempt + 1);
        mode = chars.mode;
      }
    }
  }
}
