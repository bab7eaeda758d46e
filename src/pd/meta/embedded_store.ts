/**
 * `EmbeddedMetaStore`: a durable, single-process `MetaStore` for a lone PD (playground).
 *
 * State lives in memory (keys in a sorted array plus a map, leases with their timers) and
 * on disk in two files under the data directory, both written only through `Env.fs`:
 * - `meta.log`: an append-only log of records, each framed as `u32 length | u32 crc32 |
 *   msgpack body`. A record is one committed write transaction (its puts and deletes at a
 *   revision), a lease grant or a lease removal, with a sequence number.
 * - `meta.snap`: the whole state at some sequence number, replaced atomically.
 * A write is appended and synced before it is applied in memory, acknowledged or shown to
 * watchers, so an acknowledged write survives a crash. Writes are serialized through one
 * queue (reads see only applied state and never wait). When the log passes
 * `limits.pdMetaLogBytesMax` the store writes a snapshot and starts an empty log.
 *
 * Recovery: load the snapshot, replay log records with a higher sequence number, and cut
 * the log at the first frame that is short or fails its CRC — the torn tail of a write
 * the crash interrupted, which was therefore never acknowledged. Leases come back with
 * their full TTL counted from the restart, as etcd does.
 *
 * Lock: given `lockPid`, the store holds a `LOCK` file with that PID in its directory
 * while open, created with `createExclusive` (O_EXCL), so two processes never share a
 * directory. A lock whose process is gone (no `/proc/<pid>` on Linux) is stale and taken
 * over; where `/proc` is absent no lock is judged stale. Two processes taking over the same
 * stale lock at the same instant are not told apart — starting two PDs on one directory
 * right after a crash is what the lock exists to catch, not a race it can always win.
 */
import { Packr } from "msgpackr";
import { ErrorCode, TesseraError, assert, describeError, limits } from "../../base/mod.ts";
import type { Env, FileHandle, Timer } from "../../env/mod.ts";
import {
  type LeaseId,
  type MetaKeyValue,
  type MetaLease,
  type MetaOp,
  type MetaRange,
  type MetaStore,
  type MetaTxn,
  type MetaTxnResult,
  type MetaWatch,
  type MetaWatchEvent,
  compareHolds,
} from "./meta_store.ts";

/** What the embedded store takes from the `Env`. */
export type EmbeddedMetaEnv = Pick<Env, "fs" | "timers" | "clock" | "crypto">;

export interface EmbeddedMetaStoreOptions {
  /** Directory for `meta.log` and `meta.snap`; created if absent. */
  readonly dir: string;
  /** Log size that triggers a snapshot (default `limits.pdMetaLogBytesMax`). */
  readonly logBytesMax?: number;
  /** This process's id: when given, the directory is locked while open (file comment). */
  readonly lockPid?: number;
}

type LogRecord =
  | {
      readonly t: "txn";
      readonly seq: number;
      readonly rev: number;
      readonly puts: readonly (readonly [string, Uint8Array, string])[];
      readonly dels: readonly string[];
    }
  | { readonly t: "grant"; readonly seq: number; readonly id: string; readonly ttlMs: number }
  | { readonly t: "drop"; readonly seq: number; readonly id: string };

interface Snapshot {
  readonly seq: number;
  readonly rev: number;
  readonly nextLeaseId: number;
  readonly kvs: readonly (readonly [string, Uint8Array, number, number, number, string])[];
  readonly leases: readonly (readonly [string, number])[];
}

interface Lease {
  readonly id: LeaseId;
  readonly ttlMs: number;
  readonly keys: Set<string>;
  timer: Timer | undefined;
}

interface Watcher {
  readonly prefix: string;
  readonly listener: (events: readonly MetaWatchEvent[]) => void;
}

const packr = new Packr({ useRecords: false, int64AsType: "bigint", useBigIntExtension: true });
const frameHeaderBytes = 8;
const logName = "meta.log";
const snapName = "meta.snap";
const lockName = "LOCK";

function corrupt(message: string, cause?: unknown): TesseraError {
  return new TesseraError(ErrorCode.PdMetaCorrupt, message, cause === undefined ? {} : { cause });
}

/** The embedded store. Open with `EmbeddedMetaStore.open`. */
export class EmbeddedMetaStore implements MetaStore {
  readonly kind = "embedded";
  private readonly env: EmbeddedMetaEnv;
  private readonly dir: string;
  private readonly logBytesMax: number;
  private readonly kvs = new Map<string, MetaKeyValue>();
  /** Keys in ascending order. */
  private sortedKeys: string[] = [];
  private readonly leases = new Map<LeaseId, Lease>();
  private readonly watchers = new Set<Watcher>();
  private revision = 1;
  private seq = 0;
  private nextLeaseId = 1;
  private log: FileHandle | undefined;
  private logBytes = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The lock file this store holds, if it locked its directory. */
  private lockPath: string | undefined;

  private constructor(env: EmbeddedMetaEnv, options: EmbeddedMetaStoreOptions) {
    this.env = env;
    this.dir = options.dir;
    this.logBytesMax = options.logBytesMax ?? limits.pdMetaLogBytesMax;
  }

  /** Opens (and recovers) the store in `options.dir`. */
  static async open(
    env: EmbeddedMetaEnv,
    options: EmbeddedMetaStoreOptions,
  ): Promise<EmbeddedMetaStore> {
    const store = new EmbeddedMetaStore(env, options);
    if (options.lockPid !== undefined) await store.lock(options.lockPid);
    try {
      await store.recover();
    } catch (error) {
      await store.unlock();
      throw error;
    }
    return store;
  }

  private async lock(pid: number): Promise<void> {
    await this.env.fs.mkdir(this.dir);
    const lockPath = `${this.dir}/${lockName}`;
    const locked = (holder: string): TesseraError =>
      new TesseraError(
        ErrorCode.PdMetaLocked,
        `metadata directory ${this.dir} is locked by process ${holder}`,
        { details: { holder } },
      );
    for (let attempt = 0; attempt < limits.engineLockAttemptsMax; attempt++) {
      try {
        await this.env.fs.createExclusive(lockPath, new TextEncoder().encode(`${pid}\n`));
        this.lockPath = lockPath;
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== "EEXIST") throw error;
      }
      let text: string;
      try {
        text = new TextDecoder().decode(await this.env.fs.readFile(lockPath)).trim();
      } catch (error) {
        if ((error as { code?: unknown }).code === "ENOENT") continue; // Released meanwhile.
        throw error;
      }
      const holder = /^\d{1,10}$/.test(text) ? Number(text) : undefined;
      if (holder === undefined) throw locked(`unknown (lock file says ${JSON.stringify(text)})`);
      const stale =
        holder !== pid &&
        (await this.env.fs.exists("/proc/self")) &&
        !(await this.env.fs.exists(`/proc/${holder}`));
      if (!stale) throw locked(String(holder));
      await this.env.fs.remove(lockPath);
    }
    throw locked("another process (the lock kept changing hands)");
  }

  private async unlock(): Promise<void> {
    const lockPath = this.lockPath;
    this.lockPath = undefined;
    if (lockPath !== undefined) await this.env.fs.remove(lockPath);
  }

  /** The store's current revision. */
  get currentRevision(): number {
    return this.revision;
  }

  get(key: string): Promise<MetaKeyValue | undefined> {
    if (this.closed) return Promise.reject(closedError());
    return Promise.resolve(this.kvs.get(key));
  }

  range(range: MetaRange): Promise<MetaKeyValue[]> {
    if (this.closed) return Promise.reject(closedError());
    const limit = Math.min(range.limit ?? limits.pdMetaRangeKeysMax, limits.pdMetaRangeKeysMax);
    const out: MetaKeyValue[] = [];
    for (let i = lowerBound(this.sortedKeys, range.start); i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i] as string;
      if ((range.end !== "" && key >= range.end) || out.length >= limit) break;
      out.push(this.kvs.get(key) as MetaKeyValue);
    }
    return Promise.resolve(out);
  }

  async put(key: string, value: Uint8Array, options: { leaseId?: LeaseId } = {}): Promise<number> {
    const op: MetaOp = { kind: "put", key, value, ...options };
    const result = await this.txn({ compare: [], success: [op] });
    return result.revision;
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.txn({
      compare: [{ key, target: "version", op: ">", operand: 0 }],
      success: [{ kind: "delete", key }],
    });
    return result.succeeded;
  }

  txn(txn: MetaTxn): Promise<MetaTxnResult> {
    for (const op of [...txn.success, ...(txn.failure ?? [])]) {
      if (op.kind === "put" && op.value.length > limits.pdMetaValueBytesMax) {
        return Promise.reject(
          new TesseraError(ErrorCode.PdMetaValueTooLarge, `value of ${op.key} is too large`, {
            details: { bytes: op.value.length, limit: limits.pdMetaValueBytesMax },
          }),
        );
      }
    }
    return this.serialize(async () => {
      const succeeded = txn.compare.every((c) => compareHolds(c, this.kvs.get(c.key)));
      const ops = succeeded ? txn.success : (txn.failure ?? []);
      const gets: (MetaKeyValue | undefined)[] = [];
      // Evaluate the branch against a view that sees its own earlier writes.
      const view = new Map<string, MetaKeyValue | undefined>();
      const current = (key: string): MetaKeyValue | undefined =>
        view.has(key) ? view.get(key) : this.kvs.get(key);
      const rev = this.revision + 1;
      let writes = 0;
      for (const op of ops) {
        switch (op.kind) {
          case "get":
            gets.push(current(op.key));
            break;
          case "put": {
            const leaseId = op.leaseId ?? "0";
            if (leaseId !== "0" && !this.leases.has(leaseId)) {
              throw new TesseraError(ErrorCode.PdMetaLeaseNotFound, `lease ${leaseId} not found`);
            }
            const old = current(op.key);
            view.set(op.key, {
              key: op.key,
              value: op.value,
              createRevision: old === undefined ? rev : old.createRevision,
              modRevision: rev,
              version: old === undefined ? 1 : old.version + 1,
              leaseId,
            });
            writes++;
            break;
          }
          case "delete":
            if (current(op.key) !== undefined) {
              view.set(op.key, undefined);
              writes++;
            }
            break;
        }
      }
      if (writes === 0) return { succeeded, revision: this.revision, gets };
      const puts: [string, Uint8Array, string][] = [];
      const dels: string[] = [];
      for (const [key, kv] of view) {
        if (kv === undefined) dels.push(key);
        else puts.push([key, kv.value, kv.leaseId]);
      }
      await this.append({ t: "txn", seq: this.seq + 1, rev, puts, dels });
      this.applyTxn(rev, puts, dels);
      return { succeeded, revision: rev, gets };
    });
  }

  grantLease(ttlMs: number): Promise<MetaLease> {
    assert(Number.isSafeInteger(ttlMs) && ttlMs > 0, `bad lease TTL ${ttlMs}`);
    return this.serialize(async () => {
      if (this.leases.size >= limits.pdMetaLeasesMax) {
        throw new TesseraError(ErrorCode.PdMetaUnavailable, "too many leases", {
          details: { limit: limits.pdMetaLeasesMax },
        });
      }
      const id = String(this.nextLeaseId);
      await this.append({ t: "grant", seq: this.seq + 1, id, ttlMs });
      this.applyGrant(id, ttlMs);
      return { leaseId: id, ttlMs };
    });
  }

  keepAlive(leaseId: LeaseId): Promise<MetaLease> {
    if (this.closed) return Promise.reject(closedError());
    const lease = this.leases.get(leaseId);
    if (lease === undefined) {
      return Promise.reject(
        new TesseraError(ErrorCode.PdMetaLeaseNotFound, `lease ${leaseId} not found`),
      );
    }
    this.arm(lease);
    return Promise.resolve({ leaseId, ttlMs: lease.ttlMs });
  }

  revokeLease(leaseId: LeaseId): Promise<void> {
    return this.serialize(() => this.dropLease(leaseId));
  }

  watch(prefix: string, listener: (events: readonly MetaWatchEvent[]) => void): Promise<MetaWatch> {
    if (this.closed) return Promise.reject(closedError());
    if (this.watchers.size >= limits.pdMetaWatchersMax) {
      return Promise.reject(
        new TesseraError(ErrorCode.PdMetaWatchersFull, "too many watches", {
          details: { limit: limits.pdMetaWatchersMax },
        }),
      );
    }
    const watcher: Watcher = { prefix, listener };
    this.watchers.add(watcher);
    return Promise.resolve({
      cancel: () => {
        this.watchers.delete(watcher);
        return Promise.resolve();
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    for (const lease of this.leases.values()) lease.timer?.cancel();
    this.watchers.clear();
    await this.log?.close();
    this.log = undefined;
    await this.unlock();
  }

  /** Runs `work` after every earlier write, failing fast once closed. */
  private serialize<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    const run = this.queue.then(() => {
      if (this.closed) throw closedError();
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async dropLease(leaseId: LeaseId): Promise<void> {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) return;
    // Gone for keepAlive and put at once, before the log writes wait on the disk: a lease
    // whose keys are being deleted must not be renewed (its holder would believe it still
    // held them). A crash before the drop is logged brings it back, to expire again.
    this.applyDrop(leaseId);
    const rev = this.revision + 1;
    const dels = [...lease.keys].sort();
    if (dels.length > 0) {
      await this.append({ t: "txn", seq: this.seq + 1, rev, puts: [], dels });
      this.applyTxn(rev, [], dels);
    }
    await this.append({ t: "drop", seq: this.seq + 1, id: leaseId });
  }

  /** (Re)starts a lease's expiry timer for its full TTL. */
  private arm(lease: Lease): void {
    lease.timer?.cancel();
    lease.timer = this.env.timers.setTimeout(lease.ttlMs, () => {
      lease.timer = undefined;
      this.serialize(() => this.dropLease(lease.id)).catch((error: unknown) => {
        // Only a closed store or a failing disk get here; the lease stays until restart.
        if (!this.closed) throw corrupt(`lease expiry failed: ${describeError(error)}`, error);
      });
    });
  }

  private applyTxn(
    rev: number,
    puts: readonly (readonly [string, Uint8Array, string])[],
    dels: readonly string[],
  ): void {
    const events: MetaWatchEvent[] = [];
    for (const key of dels) {
      const old = this.kvs.get(key);
      if (old === undefined) continue;
      this.leases.get(old.leaseId)?.keys.delete(key);
      this.kvs.delete(key);
      this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 1);
      events.push({ kind: "delete", key, value: new Uint8Array(0), modRevision: rev });
    }
    for (const [key, value, leaseId] of puts) {
      const old = this.kvs.get(key);
      if (old === undefined) {
        this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 0, key);
      } else {
        this.leases.get(old.leaseId)?.keys.delete(key);
      }
      this.kvs.set(key, {
        key,
        value,
        createRevision: old === undefined ? rev : old.createRevision,
        modRevision: rev,
        version: old === undefined ? 1 : old.version + 1,
        leaseId,
      });
      this.leases.get(leaseId)?.keys.add(key);
      events.push({ kind: "put", key, value, modRevision: rev });
    }
    this.revision = rev;
    this.notify(events);
  }

  private applyGrant(id: LeaseId, ttlMs: number): void {
    const lease: Lease = { id, ttlMs, keys: new Set(), timer: undefined };
    this.leases.set(id, lease);
    this.nextLeaseId = Math.max(this.nextLeaseId, Number(id) + 1);
    this.arm(lease);
  }

  private applyDrop(id: LeaseId): void {
    this.leases.get(id)?.timer?.cancel();
    this.leases.delete(id);
  }

  private notify(events: readonly MetaWatchEvent[]): void {
    if (events.length === 0) return;
    for (const watcher of this.watchers) {
      const mine = events.filter((e) => e.key.startsWith(watcher.prefix));
      if (mine.length > 0) watcher.listener(mine);
    }
  }

  // ---- durability -----------------------------------------------------------------

  private async append(record: LogRecord): Promise<void> {
    const log = this.log;
    if (log === undefined) throw closedError();
    const body = packr.pack(record);
    const frame = new Uint8Array(frameHeaderBytes + body.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, body.length);
    view.setUint32(4, this.env.crypto.crc32(body));
    frame.set(body, frameHeaderBytes);
    try {
      await log.append(frame);
      await log.sync();
    } catch (error) {
      throw new TesseraError(ErrorCode.PdMetaUnavailable, `metadata log write failed`, {
        cause: error,
        ambiguous: true,
      });
    }
    this.seq = record.seq;
    this.logBytes += frame.length;
    if (this.logBytes > this.logBytesMax) await this.compact();
  }

  /** Writes a snapshot of the state (as of the last appended record) and empties the log. */
  private async compact(): Promise<void> {
    const log = this.log;
    if (log === undefined) return;
    // The record just appended is not applied yet; the snapshot must include it, so
    // compaction runs after the caller applies: defer it to the next write turn.
    this.queue = this.queue.then(async () => {
      if (this.closed || this.logBytes <= this.logBytesMax) return;
      const snapshot: Snapshot = {
        seq: this.seq,
        rev: this.revision,
        nextLeaseId: this.nextLeaseId,
        kvs: this.sortedKeys.map((key) => {
          const kv = this.kvs.get(key) as MetaKeyValue;
          return [key, kv.value, kv.createRevision, kv.modRevision, kv.version, kv.leaseId];
        }),
        leases: [...this.leases.values()].map((l) => [l.id, l.ttlMs] as const),
      };
      await this.env.fs.writeFileAtomic(`${this.dir}/${snapName}`, packr.pack(snapshot));
      await log.truncate(0);
      await log.sync();
      this.logBytes = 0;
    });
    // A failed compaction loses nothing (the log still holds every record) and the next
    // write over the threshold tries again; it must not fail the writes queued behind it.
    this.queue = this.queue.catch(() => undefined);
  }

  private async recover(): Promise<void> {
    await this.env.fs.mkdir(this.dir);
    const snapPath = `${this.dir}/${snapName}`;
    let snapSeq = 0;
    if (await this.env.fs.exists(snapPath)) {
      let snapshot: Snapshot;
      try {
        snapshot = packr.unpack(await this.env.fs.readFile(snapPath)) as Snapshot;
      } catch (error) {
        throw corrupt(`cannot decode ${snapPath}: ${describeError(error)}`, error);
      }
      snapSeq = snapshot.seq;
      this.seq = snapshot.seq;
      this.revision = snapshot.rev;
      this.nextLeaseId = snapshot.nextLeaseId;
      for (const [id, ttlMs] of snapshot.leases) this.applyGrant(id, ttlMs);
      for (const [key, value, createRevision, modRevision, version, leaseId] of snapshot.kvs) {
        this.kvs.set(key, { key, value, createRevision, modRevision, version, leaseId });
        this.sortedKeys.push(key);
        this.leases.get(leaseId)?.keys.add(key);
      }
    }
    const log = await this.env.fs.open(`${this.dir}/${logName}`, { create: true });
    // A log file just created is durable only once its directory entry is: without this,
    // a crash could drop the file, and every write acknowledged into it, whole.
    await this.env.fs.syncDir(this.dir);
    const size = await log.size();
    const bytes = size === 0 ? new Uint8Array(0) : await log.read(0, size);
    let offset = 0;
    while (offset + frameHeaderBytes <= bytes.length) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, frameHeaderBytes);
      const length = view.getUint32(0);
      const crc = view.getUint32(4);
      const end = offset + frameHeaderBytes + length;
      if (end > bytes.length) break;
      const body = bytes.subarray(offset + frameHeaderBytes, end);
      if (this.env.crypto.crc32(body) !== crc) break;
      let record: LogRecord;
      try {
        record = packr.unpack(body) as LogRecord;
      } catch (error) {
        throw corrupt(`undecodable metadata log record at ${offset}`, error);
      }
      if (record.seq > snapSeq) this.replay(record);
      offset = end;
    }
    if (offset < bytes.length) {
      // The torn tail of a write that was never acknowledged.
      await log.truncate(offset);
      await log.sync();
    }
    this.log = log;
    this.logBytes = offset;
  }

  private replay(record: LogRecord): void {
    switch (record.t) {
      case "txn":
        this.applyTxn(record.rev, record.puts, record.dels);
        break;
      case "grant":
        this.applyGrant(record.id, record.ttlMs);
        break;
      case "drop":
        this.applyDrop(record.id);
        break;
    }
    this.seq = record.seq;
  }
}

function closedError(): TesseraError {
  return new TesseraError(ErrorCode.PdMetaClosed, "metadata store is closed");
}

/** The first index in sorted `keys` whose key is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
