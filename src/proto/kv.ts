/**
 * The KV RPC service of a storage node: method names, request and reply shapes, typed
 * transaction errors, and validators.
 *
 * Every request carries a `header` with the cluster id the caller believes in (a store of
 * another cluster refuses it with `KV:Cluster:IdMismatch`) and a `context` naming the
 * shard and the epoch the caller routed with. Every reply may carry a `routeError` (the
 * request could not be served here: follow the leader hint, refresh the route, back off)
 * or a `keyError` (a transaction outcome the client acts on: resolve the lock, retry,
 * abort); a reply with neither is a success. Errors that are neither — a malformed body,
 * an unsupported request — are RPC errors with a stable code.
 *
 * Bodies are msgpack values: timestamps are `bigint`s, keys and values `Uint8Array`s,
 * absent optional fields are left out. The `parse*` functions are the only way the server
 * turns an untrusted body into a typed request: each throws `KV:Request:Malformed` naming
 * the first bad field, and never anything else.
 */
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
import type { Timestamp } from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";
import type { RequestHeader, ShardEpoch, ShardMeta } from "./pd.ts";

/** Method names of the KV service (all unary). */
export const KvMethod = {
  /** `GetRequest` → `GetReply`. */
  get: "kv.Get",
  /** `BatchGetRequest` → `BatchGetReply`. */
  batchGet: "kv.BatchGet",
  /** `ScanRequest` → `ScanReply`. */
  scan: "kv.Scan",
  /** `PrewriteRequest` → `PrewriteReply`. */
  prewrite: "kv.Prewrite",
  /** `CommitRequest` → `CommitReply`. */
  commit: "kv.Commit",
  /** `PessimisticLockRequest` → `PessimisticLockReply`. */
  pessimisticLock: "kv.PessimisticLock",
  /** `PessimisticRollbackRequest` → `KvReply`. */
  pessimisticRollback: "kv.PessimisticRollback",
  /** `RollbackRequest` → `KvReply`. */
  rollback: "kv.Rollback",
  /** `CleanupRequest` → `KvReply`. */
  cleanup: "kv.Cleanup",
  /** `CheckTxnStatusRequest` → `CheckTxnStatusReply`. */
  checkTxnStatus: "kv.CheckTxnStatus",
  /** `ResolveLockRequest` → `ResolveLockReply`. */
  resolveLock: "kv.ResolveLock",
  /** `TxnHeartbeatRequest` → `TxnHeartbeatReply`. */
  txnHeartbeat: "kv.TxnHeartbeat",
  /** `CheckSecondaryLocksRequest` → `CheckSecondaryLocksReply`. */
  checkSecondaryLocks: "kv.CheckSecondaryLocks",
  /** `GcRequest` → `GcReply`. */
  gc: "kv.Gc",
  /** `SplitRequest` → `SplitReply` (`KV:Request:Unsupported` on an unreplicated store). */
  split: "kv.Split",
  /** `CoprocessorRequest` → `CoprocessorReply`. */
  coprocessor: "kv.Coprocessor",
  /**
   * `DetectRequest` → `DetectReply`: the cluster-wide deadlock detector, served by the
   * store leading the first shard; other stores forward their lock waits to it.
   */
  detect: "kv.Detect",
} as const;
export type KvMethod = (typeof KvMethod)[keyof typeof KvMethod];

/** The shard and the epoch a request was routed with. */
export interface ShardContext {
  readonly shardId: number;
  readonly epoch: ShardEpoch;
}

/** Why a store could not serve a request; each carries what a client needs to recover. */
export type RouteError =
  | {
      readonly kind: "notLeader";
      readonly shardId: number;
      readonly leader?: { readonly peerId: number; readonly storeId: number };
    }
  | { readonly kind: "shardNotFound"; readonly shardId: number }
  | { readonly kind: "epochNotMatch"; readonly current: readonly ShardMeta[] }
  | { readonly kind: "keyNotInShard"; readonly key: Uint8Array; readonly shard: ShardMeta }
  | { readonly kind: "serverIsBusy"; readonly reason: string }
  | { readonly kind: "staleCommand" };

/** A lock as the wire shows it (the lock CF record plus its key). */
export interface LockInfo {
  readonly key: Uint8Array;
  readonly kind: "put" | "delete" | "lock" | "pessimistic";
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly ttlMs: number;
  readonly forUpdateTs: Timestamp;
  readonly txnSize: number;
  readonly minCommitTs: Timestamp;
  readonly useAsyncCommit: boolean;
  readonly secondaries: readonly Uint8Array[];
}

/** One edge of a deadlock's wait chain: `waiterTs` waits for `holderTs` on a key hash. */
export interface WaitForEdgeInfo {
  readonly waiterTs: Timestamp;
  readonly holderTs: Timestamp;
  readonly keyHash: number;
}

/** A transaction outcome the client must act on. */
export type KeyError =
  | {
      readonly kind: "writeConflict";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
      readonly conflictStartTs: Timestamp;
      readonly conflictCommitTs: Timestamp;
      readonly reason: "optimistic" | "pessimisticRetry" | "selfRolledBack";
    }
  | { readonly kind: "keyIsLocked"; readonly lock: LockInfo }
  | { readonly kind: "txnLockNotFound"; readonly key: Uint8Array; readonly startTs: Timestamp }
  | {
      readonly kind: "pessimisticLockNotFound";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
    }
  | { readonly kind: "alreadyExist"; readonly key: Uint8Array }
  | {
      readonly kind: "commitTsExpired";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
      readonly commitTs: Timestamp;
      readonly minCommitTs: Timestamp;
    }
  | { readonly kind: "txnNotFound"; readonly key: Uint8Array; readonly startTs: Timestamp }
  /** Rollback or cleanup of a transaction that already committed at `commitTs`. */
  | {
      readonly kind: "committed";
      readonly key: Uint8Array;
      readonly startTs: Timestamp;
      readonly commitTs: Timestamp;
    }
  /** Waiting for `lockTs` on `key` would close a cycle; the chain starts at the request. */
  | {
      readonly kind: "deadlock";
      readonly key: Uint8Array;
      readonly lockTs: Timestamp;
      readonly waitChain: readonly WaitForEdgeInfo[];
    }
  /** The lock wait ran out of time; the lock of `lock` is still there. */
  | { readonly kind: "lockWaitTimeout"; readonly lock: LockInfo }
  /**
   * A read at `readTs` below the GC safe point the store last collected at (`kv.Gc`):
   * versions it needs may be gone, so nothing is returned.
   */
  | { readonly kind: "snapshotTooOld"; readonly readTs: Timestamp; readonly safePoint: Timestamp };

/** The stable error code of each key error, for clients that raise them. */
export const keyErrorCodes: Readonly<Record<KeyError["kind"], ErrorCode>> = {
  writeConflict: ErrorCode.KvTxnWriteConflict,
  keyIsLocked: ErrorCode.KvTxnKeyIsLocked,
  txnLockNotFound: ErrorCode.KvTxnTxnLockNotFound,
  pessimisticLockNotFound: ErrorCode.KvTxnPessimisticLockNotFound,
  alreadyExist: ErrorCode.KvTxnAlreadyExist,
  commitTsExpired: ErrorCode.KvTxnCommitTsExpired,
  txnNotFound: ErrorCode.KvTxnTxnNotFound,
  committed: ErrorCode.KvTxnCommitted,
  deadlock: ErrorCode.KvTxnDeadlock,
  lockWaitTimeout: ErrorCode.KvTxnLockWaitTimeout,
  snapshotTooOld: ErrorCode.KvTxnSnapshotTooOld,
};

/** What every reply may carry besides its payload. */
export interface KvReply {
  readonly routeError?: RouteError;
  readonly keyError?: KeyError;
}

/** Fields every request carries. */
export interface KvRequestBase {
  readonly header: RequestHeader;
  readonly context: ShardContext;
}

export interface GetRequest extends KvRequestBase {
  readonly key: Uint8Array;
  /** The read timestamp. */
  readonly version: Timestamp;
  /** Start timestamps of transactions whose locks the reader may ignore. */
  readonly bypassLocks?: readonly Timestamp[];
}

export interface GetReply extends KvReply {
  /** `null` when the key has no visible value (also with an error). */
  readonly value: Uint8Array | null;
}

export interface BatchGetRequest extends KvRequestBase {
  readonly keys: readonly Uint8Array[];
  readonly version: Timestamp;
  readonly bypassLocks?: readonly Timestamp[];
}

/** One key of a batch get or scan: its value, or the lock in the way. */
export interface KvPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface BatchGetReply extends KvReply {
  /** Keys with a visible value, in request order. */
  readonly pairs: readonly KvPair[];
  /** Keys whose read is blocked by a lock: resolve them and read those keys again. */
  readonly locked: readonly LockInfo[];
}

export interface ScanRequest extends KvRequestBase {
  /** Inclusive; must lie in the shard. */
  readonly startKey: Uint8Array;
  /** Exclusive; empty: the shard's end. The scan never leaves the shard. */
  readonly endKey: Uint8Array;
  /** 1..`limits.kvScanLimitMax`. */
  readonly limit: number;
  readonly version: Timestamp;
  /** Return keys with empty values. */
  readonly keyOnly?: boolean;
  /** From the largest key below `endKey` (or the shard's end) down to `startKey`. */
  readonly reverse?: boolean;
  readonly bypassLocks?: readonly Timestamp[];
}

export interface ScanReply extends KvReply {
  readonly pairs: readonly KvPair[];
}

/** One key a transaction writes or checks. */
export type MutationInfo =
  | { readonly kind: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: "insert"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: "delete"; readonly key: Uint8Array }
  | { readonly kind: "lock"; readonly key: Uint8Array }
  | { readonly kind: "checkNotExists"; readonly key: Uint8Array };

export interface PrewriteRequest extends KvRequestBase {
  readonly mutations: readonly MutationInfo[];
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly lockTtlMs: number;
  /** Keys of the whole transaction (a hint for resolvers); default: this request's. */
  readonly txnSize?: number;
  /** A lower bound for the commit ts (zero: none). */
  readonly minCommitTs?: Timestamp;
  /** Pessimistic transactions: the for-update ts and which mutations hold our lock. */
  readonly pessimistic?: { readonly forUpdateTs: Timestamp; readonly locked: readonly boolean[] };
  /** Async commit: every key but the primary (on the primary's shard), and the bound. */
  readonly asyncCommit?: {
    readonly secondaries: readonly Uint8Array[];
    /** Fall back to 2PC if the commit ts would exceed this (zero: no bound). */
    readonly maxCommitTs: Timestamp;
  };
  /** One-phase commit (every key in this request): commit now if the ts fits. */
  readonly tryOnePc?: { readonly maxCommitTs: Timestamp };
}

export interface PrewriteReply extends KvReply {
  /** Async commit: the commit ts this shard requires (max over its keys); else zero. */
  readonly minCommitTs: Timestamp;
  /** 1PC: the commit ts the transaction committed at; else zero. */
  readonly onePcCommitTs: Timestamp;
  /** Set when async commit or 1PC was asked for and the store fell back to 2PC. */
  readonly fellBackFrom?: "asyncCommit" | "onePc";
}

export interface CommitRequest extends KvRequestBase {
  readonly keys: readonly Uint8Array[];
  readonly startTs: Timestamp;
  readonly commitTs: Timestamp;
}

export interface CommitReply extends KvReply {
  /** The commit ts in force (the earlier one when a retry found the keys committed). */
  readonly commitTs: Timestamp;
}

export interface PessimisticLockKeyInfo {
  readonly key: Uint8Array;
  /** Fail with `alreadyExist` if the key has a value (INSERT). */
  readonly shouldNotExist?: boolean;
}

export interface PessimisticLockRequest extends KvRequestBase {
  readonly keys: readonly PessimisticLockKeyInfo[];
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly forUpdateTs: Timestamp;
  readonly lockTtlMs: number;
  /** Return each key's latest committed value. */
  readonly returnValues?: boolean;
  /**
   * `noWait`: another transaction's lock is `keyIsLocked` at once. `wait`: park until it
   * is released (or `waitTimeoutMs` passes: `lockWaitTimeout`; a cycle: `deadlock`).
   */
  readonly waitMode: "wait" | "noWait";
  /** Default `limits.kvLockWaitTimeoutMsDefault`. */
  readonly waitTimeoutMs?: number;
}

export interface PessimisticLockReply extends KvReply {
  /** With `returnValues`: parallel to `keys` (`null`: no value). */
  readonly values: readonly (Uint8Array | null)[];
}

export interface PessimisticRollbackRequest extends KvRequestBase {
  readonly keys: readonly Uint8Array[];
  readonly startTs: Timestamp;
  readonly forUpdateTs: Timestamp;
}

export interface RollbackRequest extends KvRequestBase {
  readonly keys: readonly Uint8Array[];
  readonly startTs: Timestamp;
}

export interface CleanupRequest extends KvRequestBase {
  readonly key: Uint8Array;
  readonly startTs: Timestamp;
}

export interface CheckTxnStatusRequest extends KvRequestBase {
  readonly primary: Uint8Array;
  readonly lockTs: Timestamp;
  /** The caller's start ts: a reader pushes the lock's min commit ts above it (0: none). */
  readonly callerStartTs: Timestamp;
  readonly currentTs: Timestamp;
  readonly rollbackIfNotExist: boolean;
}

/** A transaction's status as its primary tells it. */
export type TxnStatusInfo =
  | { readonly kind: "committed"; readonly commitTs: Timestamp }
  | { readonly kind: "rolledBack" }
  | { readonly kind: "ttlExpireRollback" }
  | { readonly kind: "lockNotExistRollback" }
  | { readonly kind: "pessimisticRollback" }
  | { readonly kind: "locked"; readonly lock: LockInfo; readonly minCommitTsPushed: boolean };

export interface CheckTxnStatusReply extends KvReply {
  /** `null` with an error. */
  readonly status: TxnStatusInfo | null;
}

export interface ResolveLockRequest extends KvRequestBase {
  readonly startTs: Timestamp;
  /** Commit at this ts; zero rolls back. */
  readonly commitTs: Timestamp;
  /** The keys to resolve; empty: every lock of the transaction in the shard. */
  readonly keys: readonly Uint8Array[];
}

export interface ResolveLockReply extends KvReply {
  readonly resolvedKeys: number;
}

export interface TxnHeartbeatRequest extends KvRequestBase {
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly adviseLockTtlMs: number;
}

export interface TxnHeartbeatReply extends KvReply {
  readonly lockTtlMs: number;
}

export interface CheckSecondaryLocksRequest extends KvRequestBase {
  readonly keys: readonly Uint8Array[];
  readonly startTs: Timestamp;
}

export type SecondaryLocksInfo =
  | { readonly kind: "locked"; readonly locks: readonly LockInfo[] }
  | { readonly kind: "committed"; readonly commitTs: Timestamp }
  | { readonly kind: "rolledBack" };

export interface CheckSecondaryLocksReply extends KvReply {
  readonly status: SecondaryLocksInfo | null;
}

export interface GcRequest extends KvRequestBase {
  /**
   * Versions no read at or above this can see are removed. The store records it and from
   * then on answers reads below it with `snapshotTooOld`.
   */
  readonly safePoint: Timestamp;
}

export interface GcReply extends KvReply {
  readonly deletedVersions: number;
}

export interface SplitRequest extends KvRequestBase {
  /** Strictly ascending keys inside the shard (not its start key). */
  readonly splitKeys: readonly Uint8Array[];
}

export interface SplitReply extends KvReply {
  /** The shards now covering the old shard's range, in key order. */
  readonly shards: readonly ShardMeta[];
}

/** A key range of a coprocessor request, `[start, end)`; empty end: the shard's end. */
export interface KeyRangeInfo {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

export interface CoprocessorRequest extends KvRequestBase {
  /** Which registered handler runs the plan (`dag` for the SQL pushdown of [T9]). */
  readonly handler: string;
  /** The handler's encoded plan. */
  readonly plan: Uint8Array;
  readonly ranges: readonly KeyRangeInfo[];
  readonly startTs: Timestamp;
  /** Transactions whose locks the read may pass (their commit is known to be later). */
  readonly bypassLocks?: readonly Timestamp[];
}

export interface CoprocessorReply extends KvReply {
  /** The handler's encoded result (empty with an error). */
  readonly data: Uint8Array;
}

/** One call to the cluster-wide deadlock detector. */
export type DetectEntry =
  | ({ readonly kind: "detect" } & WaitForEdgeInfo)
  | ({ readonly kind: "cleanUpWaitFor" } & WaitForEdgeInfo)
  | { readonly kind: "cleanUp"; readonly txnTs: Timestamp };

export interface DetectRequest {
  readonly header: RequestHeader;
  readonly entry: DetectEntry;
}

export interface DetectReply {
  /** For `detect`: `ok`, `deadlock` (with the chain) or `full`; else `ok`. */
  readonly result:
    | { readonly kind: "ok" }
    | { readonly kind: "deadlock"; readonly waitChain: readonly WaitForEdgeInfo[] }
    | { readonly kind: "full" }
    /** This store does not run the detector (not the first shard's leader). */
    | { readonly kind: "notDetector" };
}

// ---------------------------------------------------------------------------------------
// Validators for untrusted bodies.

function malformed(path: string, why: string): never {
  throw new TesseraError(ErrorCode.KvRequestMalformed, `malformed KV request: ${path} ${why}`, {
    details: { field: path },
  });
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Uint8Array
  ) {
    return malformed(path, "must be an object");
  }
  return value as Record<string, unknown>;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value === "bigint" && value >= BigInt(min) && value <= BigInt(max)) {
    return Number(value);
  }
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    return malformed(path, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function ts(value: unknown, path: string): Timestamp {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value) as Timestamp;
  }
  if (typeof value !== "bigint" || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    return malformed(path, "must be an unsigned 64-bit timestamp");
  }
  return value as Timestamp;
}

function positiveTs(value: unknown, path: string): Timestamp {
  const t = ts(value, path);
  if (t === 0n) malformed(path, "must be above zero");
  return t;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") return malformed(path, "must be a boolean");
  return value;
}

function bytesOf(value: unknown, path: string, max: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > max) {
    return malformed(path, `must be bytes, at most ${max}`);
  }
  return value;
}

/** A user key: 1 byte up to the engine's bound (leaving room for the MVCC suffix). */
function key(value: unknown, path: string): Uint8Array {
  const k = bytesOf(value, path, limits.engineKeyBytesMax - 32);
  if (k.length === 0) malformed(path, "must not be empty");
  return k;
}

/** A range bound: may be empty (the start or end of the key space). */
function bound(value: unknown, path: string): Uint8Array {
  return bytesOf(value ?? new Uint8Array(0), path, limits.engineKeyBytesMax - 32);
}

function list<T>(
  value: unknown,
  path: string,
  max: number,
  item: (v: unknown, p: string) => T,
): T[] {
  if (!Array.isArray(value) || value.length > max) {
    return malformed(path, `must be a list of at most ${max} items`);
  }
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

function nonEmptyKeys(value: unknown, path: string): Uint8Array[] {
  const keys = list(value, path, limits.kvRequestKeysMax, key);
  if (keys.length === 0) malformed(path, "must not be empty");
  return keys;
}

function ttlMs(value: unknown, path: string): number {
  return integer(value, path, 0, 0xffff_ffff);
}

function epoch(value: unknown, path: string): ShardEpoch {
  const r = record(value, path);
  return {
    confVersion: integer(r["confVersion"], `${path}.confVersion`, 0, Number.MAX_SAFE_INTEGER),
    version: integer(r["version"], `${path}.version`, 0, Number.MAX_SAFE_INTEGER),
  };
}

function header(value: unknown): RequestHeader {
  const r = record(value, "header");
  return { clusterId: ts(r["clusterId"], "header.clusterId") };
}

/** Checks the header and shard context every request carries. */
export function parseKvRequestBase(body: unknown): KvRequestBase {
  const r = record(body, "body");
  const c = record(r["context"], "context");
  return {
    header: header(r["header"]),
    context: {
      shardId: integer(c["shardId"], "context.shardId", 1, Number.MAX_SAFE_INTEGER),
      epoch: epoch(c["epoch"], "context.epoch"),
    },
  };
}

function bypassLocks(value: unknown): { bypassLocks?: Timestamp[] } {
  if (value === undefined || value === null) return {};
  return { bypassLocks: list(value, "bypassLocks", 1_024, ts) };
}

export function parseGetRequest(body: unknown): GetRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    key: key(r["key"], "key"),
    version: ts(r["version"], "version"),
    ...bypassLocks(r["bypassLocks"]),
  };
}

export function parseBatchGetRequest(body: unknown): BatchGetRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    keys: nonEmptyKeys(r["keys"], "keys"),
    version: ts(r["version"], "version"),
    ...bypassLocks(r["bypassLocks"]),
  };
}

export function parseScanRequest(body: unknown): ScanRequest {
  const r = record(body, "body");
  const startKey = bound(r["startKey"], "startKey");
  const endKey = bound(r["endKey"], "endKey");
  if (endKey.length > 0 && compareBytes(startKey, endKey) >= 0) {
    malformed("endKey", "must be above startKey (or empty)");
  }
  return {
    ...parseKvRequestBase(body),
    startKey,
    endKey,
    limit: integer(r["limit"], "limit", 1, limits.kvScanLimitMax),
    version: ts(r["version"], "version"),
    keyOnly: bool(r["keyOnly"] ?? false, "keyOnly"),
    reverse: bool(r["reverse"] ?? false, "reverse"),
    ...bypassLocks(r["bypassLocks"]),
  };
}

const valueBytesMax = limits.engineValueBytesMax;

function mutation(value: unknown, path: string): MutationInfo {
  const r = record(value, path);
  const k = key(r["key"], `${path}.key`);
  switch (r["kind"]) {
    case "put":
    case "insert":
      return {
        kind: r["kind"],
        key: k,
        value: bytesOf(r["value"], `${path}.value`, valueBytesMax),
      };
    case "delete":
    case "lock":
    case "checkNotExists":
      return { kind: r["kind"], key: k };
    default:
      return malformed(`${path}.kind`, "must be put|insert|delete|lock|checkNotExists");
  }
}

export function parsePrewriteRequest(body: unknown): PrewriteRequest {
  const r = record(body, "body");
  const mutations = list(r["mutations"], "mutations", limits.kvRequestKeysMax, mutation);
  if (mutations.length === 0) malformed("mutations", "must not be empty");
  const startTs = positiveTs(r["startTs"], "startTs");
  const out: {
    -readonly [K in keyof PrewriteRequest]: PrewriteRequest[K];
  } = {
    ...parseKvRequestBase(body),
    mutations,
    primary: key(r["primary"], "primary"),
    startTs,
    lockTtlMs: ttlMs(r["lockTtlMs"], "lockTtlMs"),
  };
  if (r["txnSize"] !== undefined) {
    out.txnSize = integer(r["txnSize"], "txnSize", 0, Number.MAX_SAFE_INTEGER);
  }
  if (r["minCommitTs"] !== undefined) out.minCommitTs = ts(r["minCommitTs"], "minCommitTs");
  if (r["pessimistic"] !== undefined) {
    const p = record(r["pessimistic"], "pessimistic");
    const forUpdateTs = positiveTs(p["forUpdateTs"], "pessimistic.forUpdateTs");
    if (forUpdateTs < startTs) malformed("pessimistic.forUpdateTs", "must be at least startTs");
    const locked = list(p["locked"], "pessimistic.locked", limits.kvRequestKeysMax, bool);
    if (locked.length !== mutations.length) {
      malformed("pessimistic.locked", "must have one flag per mutation");
    }
    out.pessimistic = { forUpdateTs, locked };
  }
  if (r["asyncCommit"] !== undefined && r["tryOnePc"] !== undefined) {
    malformed("tryOnePc", "cannot be combined with asyncCommit");
  }
  if (r["asyncCommit"] !== undefined) {
    const a = record(r["asyncCommit"], "asyncCommit");
    out.asyncCommit = {
      secondaries: list(
        a["secondaries"],
        "asyncCommit.secondaries",
        limits.kvRequestKeysMax,
        key,
      ),
      maxCommitTs: ts(a["maxCommitTs"], "asyncCommit.maxCommitTs"),
    };
  }
  if (r["tryOnePc"] !== undefined) {
    const o = record(r["tryOnePc"], "tryOnePc");
    out.tryOnePc = { maxCommitTs: ts(o["maxCommitTs"], "tryOnePc.maxCommitTs") };
  }
  return out;
}

export function parseCommitRequest(body: unknown): CommitRequest {
  const r = record(body, "body");
  const startTs = positiveTs(r["startTs"], "startTs");
  const commitTs = ts(r["commitTs"], "commitTs");
  if (commitTs <= startTs) malformed("commitTs", "must be above startTs");
  return { ...parseKvRequestBase(body), keys: nonEmptyKeys(r["keys"], "keys"), startTs, commitTs };
}

export function parsePessimisticLockRequest(body: unknown): PessimisticLockRequest {
  const r = record(body, "body");
  const keys = list(r["keys"], "keys", limits.kvRequestKeysMax, (v, p) => {
    const k = record(v, p);
    return {
      key: key(k["key"], `${p}.key`),
      shouldNotExist: bool(k["shouldNotExist"] ?? false, `${p}.shouldNotExist`),
    };
  });
  if (keys.length === 0) malformed("keys", "must not be empty");
  const startTs = positiveTs(r["startTs"], "startTs");
  const forUpdateTs = positiveTs(r["forUpdateTs"], "forUpdateTs");
  if (forUpdateTs < startTs) malformed("forUpdateTs", "must be at least startTs");
  const waitMode = r["waitMode"];
  if (waitMode !== "wait" && waitMode !== "noWait") malformed("waitMode", "must be wait|noWait");
  return {
    ...parseKvRequestBase(body),
    keys,
    primary: key(r["primary"], "primary"),
    startTs,
    forUpdateTs,
    lockTtlMs: ttlMs(r["lockTtlMs"], "lockTtlMs"),
    returnValues: bool(r["returnValues"] ?? false, "returnValues"),
    waitMode,
    waitTimeoutMs: integer(
      r["waitTimeoutMs"] ?? limits.kvLockWaitTimeoutMsDefault,
      "waitTimeoutMs",
      0,
      limits.kvLockWaitTimeoutMsMax,
    ),
  };
}

export function parsePessimisticRollbackRequest(body: unknown): PessimisticRollbackRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    keys: nonEmptyKeys(r["keys"], "keys"),
    startTs: positiveTs(r["startTs"], "startTs"),
    forUpdateTs: positiveTs(r["forUpdateTs"], "forUpdateTs"),
  };
}

export function parseRollbackRequest(body: unknown): RollbackRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    keys: nonEmptyKeys(r["keys"], "keys"),
    startTs: positiveTs(r["startTs"], "startTs"),
  };
}

export function parseCleanupRequest(body: unknown): CleanupRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    key: key(r["key"], "key"),
    startTs: positiveTs(r["startTs"], "startTs"),
  };
}

export function parseCheckTxnStatusRequest(body: unknown): CheckTxnStatusRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    primary: key(r["primary"], "primary"),
    lockTs: positiveTs(r["lockTs"], "lockTs"),
    callerStartTs: ts(r["callerStartTs"] ?? 0n, "callerStartTs"),
    currentTs: ts(r["currentTs"] ?? 0n, "currentTs"),
    rollbackIfNotExist: bool(r["rollbackIfNotExist"] ?? false, "rollbackIfNotExist"),
  };
}

export function parseResolveLockRequest(body: unknown): ResolveLockRequest {
  const r = record(body, "body");
  const startTs = positiveTs(r["startTs"], "startTs");
  const commitTs = ts(r["commitTs"], "commitTs");
  if (commitTs !== 0n && commitTs <= startTs) malformed("commitTs", "must be 0 or above startTs");
  return {
    ...parseKvRequestBase(body),
    startTs,
    commitTs,
    keys: list(r["keys"] ?? [], "keys", limits.kvRequestKeysMax, key),
  };
}

export function parseTxnHeartbeatRequest(body: unknown): TxnHeartbeatRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    primary: key(r["primary"], "primary"),
    startTs: positiveTs(r["startTs"], "startTs"),
    adviseLockTtlMs: ttlMs(r["adviseLockTtlMs"], "adviseLockTtlMs"),
  };
}

export function parseCheckSecondaryLocksRequest(body: unknown): CheckSecondaryLocksRequest {
  const r = record(body, "body");
  return {
    ...parseKvRequestBase(body),
    keys: nonEmptyKeys(r["keys"], "keys"),
    startTs: positiveTs(r["startTs"], "startTs"),
  };
}

export function parseGcRequest(body: unknown): GcRequest {
  const r = record(body, "body");
  return { ...parseKvRequestBase(body), safePoint: ts(r["safePoint"], "safePoint") };
}

export function parseSplitRequest(body: unknown): SplitRequest {
  const r = record(body, "body");
  const splitKeys = list(r["splitKeys"], "splitKeys", limits.pdOperatorSplitKeysMax, key);
  if (splitKeys.length === 0) malformed("splitKeys", "must not be empty");
  for (let i = 1; i < splitKeys.length; i++) {
    const prev = splitKeys[i - 1] as Uint8Array;
    if (compareBytes(prev, splitKeys[i] as Uint8Array) >= 0) {
      malformed(`splitKeys[${i}]`, "must be above the key before it");
    }
  }
  return { ...parseKvRequestBase(body), splitKeys };
}

export function parseCoprocessorRequest(body: unknown): CoprocessorRequest {
  const r = record(body, "body");
  const handler = r["handler"];
  if (typeof handler !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(handler)) {
    malformed("handler", "must be a handler name of [A-Za-z0-9._-]");
  }
  const ranges = list(r["ranges"], "ranges", limits.kvCoprocessorRangesMax, (v, p) => {
    const range = record(v, p);
    const start = bound(range["start"], `${p}.start`);
    const end = bound(range["end"], `${p}.end`);
    if (end.length > 0 && compareBytes(start, end) >= 0) {
      malformed(`${p}.end`, "must be above start (or empty)");
    }
    return { start, end };
  });
  if (ranges.length === 0) malformed("ranges", "must not be empty");
  return {
    ...parseKvRequestBase(body),
    handler,
    plan: bytesOf(r["plan"], "plan", limits.kvCoprocessorPlanBytesMax),
    ranges,
    startTs: ts(r["startTs"], "startTs"),
    ...bypassLocks(r["bypassLocks"]),
  };
}

function edge(r: Record<string, unknown>): WaitForEdgeInfo {
  return {
    waiterTs: positiveTs(r["waiterTs"], "entry.waiterTs"),
    holderTs: positiveTs(r["holderTs"], "entry.holderTs"),
    keyHash: integer(r["keyHash"], "entry.keyHash", 0, 0xffff_ffff),
  };
}

export function parseDetectRequest(body: unknown): DetectRequest {
  const r = record(body, "body");
  const e = record(r["entry"], "entry");
  const h = header(r["header"]);
  switch (e["kind"]) {
    case "detect":
      return { header: h, entry: { kind: "detect", ...edge(e) } };
    case "cleanUpWaitFor":
      return { header: h, entry: { kind: "cleanUpWaitFor", ...edge(e) } };
    case "cleanUp":
      return {
        header: h,
        entry: { kind: "cleanUp", txnTs: positiveTs(e["txnTs"], "entry.txnTs") },
      };
    default:
      return malformed("entry.kind", "must be detect|cleanUpWaitFor|cleanUp");
  }
}
