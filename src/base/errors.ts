/**
 * Typed errors that cross component boundaries.
 *
 * Every error that leaves a component carries a stable `code` of the form
 * `Component:Area:Name` (for example `RPC:Frame:TooLarge`), so callers switch on codes
 * rather than on message text, and logs and metrics can count them. Codes are listed in
 * `ErrorCode` so a typo is a type error. Messages are for people and may change.
 *
 * An `ambiguous` error means the caller cannot know whether the operation took effect
 * (a commit whose reply was lost): it must never be retried blindly or reported as failed.
 */

/** Every stable error code. Add new codes here, grouped by component. */
export const ErrorCode = {
  // Configuration and command line.
  ConfigUnknownKey: "Config:UnknownKey",
  ConfigBadValue: "Config:BadValue",
  ConfigParse: "Config:Parse",
  ConfigFileUnreadable: "Config:FileUnreadable",
  ConfigFileTooLarge: "Config:FileTooLarge",
  // Process plumbing (cmd).
  StatusListenFailed: "Cmd:Status:ListenFailed",
  ChildStartFailed: "Cmd:Child:StartFailed",
  // Transport.
  RpcFrameTooLarge: "RPC:Frame:TooLarge",
  RpcFrameMalformed: "RPC:Frame:Malformed",
  RpcDeadlineExceeded: "RPC:Call:DeadlineExceeded",
  RpcTooManyInFlight: "RPC:Call:TooManyInFlight",
  RpcConnectionClosed: "RPC:Connection:Closed",
  RpcConnectFailed: "RPC:Connection:ConnectFailed",
  RpcUnknownMethod: "RPC:Call:UnknownMethod",
  RpcRemoteError: "RPC:Call:RemoteError",
  RpcStreamCancelled: "RPC:Stream:Cancelled",
  RpcClientClosed: "RPC:Client:Closed",
  RpcWriteBufferFull: "RPC:Connection:WriteBufferFull",
  RpcStreamClosed: "RPC:Stream:Closed",
  // Codec.
  CodecCorrupt: "Codec:Corrupt",
  CodecUnsupported: "Codec:Unsupported",
  CodecOutOfRange: "Codec:OutOfRange",
  CodecDecimalSyntax: "Codec:DecimalSyntax",
  CodecKeyTooLarge: "Codec:KeyTooLarge",
  // Environment.
  EnvCancelled: "Env:Cancelled",
  EnvTlsFailed: "Env:TlsFailed",
  EnvListenFailed: "Env:ListenFailed",
  // KV transactions (MVCC and Percolator).
  KvTxnWriteConflict: "KV:Txn:WriteConflict",
  KvTxnKeyIsLocked: "KV:Txn:KeyIsLocked",
  KvTxnTxnLockNotFound: "KV:Txn:TxnLockNotFound",
  KvTxnPessimisticLockNotFound: "KV:Txn:PessimisticLockNotFound",
  KvTxnAlreadyExist: "KV:Txn:AlreadyExist",
  KvTxnCommitTsExpired: "KV:Txn:CommitTsExpired",
  KvTxnTxnNotFound: "KV:Txn:TxnNotFound",
  KvTxnCommitted: "KV:Txn:Committed",
  KvTxnDeadlock: "KV:Txn:Deadlock",
  KvTxnLockWaitTimeout: "KV:Txn:LockWaitTimeout",
  KvTxnLockWaitQueueFull: "KV:Txn:LockWaitQueueFull",
  KvTxnDeadlockDetectorFull: "KV:Txn:DeadlockDetectorFull",
  KvTxnMemoryLocksFull: "KV:Txn:MemoryLocksFull",
  // Raft.
  RaftConfigInvalid: "Raft:Config:Invalid",
  // SQL parser (both become MySQL error 1064 on the wire).
  SqlParseSyntax: "SQL:Parse:Syntax",
  SqlParseTooDeep: "SQL:Parse:TooDeep",
  // KV storage engine.
  KvEngineKeyEmpty: "KV:Engine:KeyEmpty",
  KvEngineKeyTooLarge: "KV:Engine:KeyTooLarge",
  KvEngineValueTooLarge: "KV:Engine:ValueTooLarge",
  KvEngineBadRange: "KV:Engine:BadRange",
  KvEngineLocked: "KV:Engine:Locked",
  KvEngineCorrupt: "KV:Engine:Corrupt",
  KvEngineVersionMismatch: "KV:Engine:VersionMismatch",
  KvEngineWriteFailed: "KV:Engine:WriteFailed",
  KvEngineClosed: "KV:Engine:Closed",
  KvEngineIngestUnsorted: "KV:Engine:IngestUnsorted",
  KvEngineIngestMalformed: "KV:Engine:IngestMalformed",
  // PD scheduling: a scheduler config with a value outside its range.
  PdScheduleConfigInvalid: "PD:Schedule:ConfigInvalid",
  // PD scheduling: a requested split key outside its shard, unsorted or repeated.
  PdScheduleBadSplitKey: "PD:Schedule:BadSplitKey",
  // PD service: requests, membership, cluster, stores, shards, TSO and the metadata store.
  PdRequestMalformed: "PD:Request:Malformed",
  PdNotLeader: "PD:Member:NotLeader",
  PdClusterIdMismatch: "PD:Cluster:IdMismatch",
  PdClusterNotBootstrapped: "PD:Cluster:NotBootstrapped",
  PdClusterAlreadyBootstrapped: "PD:Cluster:AlreadyBootstrapped",
  PdStoreUnknown: "PD:Store:Unknown",
  PdStoreAddressConflict: "PD:Store:AddressConflict",
  PdStoreTombstone: "PD:Store:Tombstone",
  PdStoresFull: "PD:Store:TooMany",
  PdShardUnknown: "PD:Shard:Unknown",
  PdShardStaleEpoch: "PD:Shard:StaleEpoch",
  PdShardsFull: "PD:Shard:TooMany",
  PdTsoUnavailable: "PD:TSO:Unavailable",
  PdMetaUnavailable: "PD:Meta:Unavailable",
  PdMetaCorrupt: "PD:Meta:Corrupt",
  PdMetaClosed: "PD:Meta:Closed",
  PdMetaLeaseNotFound: "PD:Meta:LeaseNotFound",
  PdMetaValueTooLarge: "PD:Meta:ValueTooLarge",
  PdMetaWatchersFull: "PD:Meta:TooManyWatchers",
  PdElectionNotOwner: "PD:Election:NotOwner",
  PdElectionsFull: "PD:Election:TooMany",
  // PD store lifecycle: a store with peers cannot become a tombstone.
  PdStoreNotEmpty: "PD:Store:NotEmpty",
  // PD scheduling shell: an operator the controller refused, an unknown scheduler name.
  PdOperatorRejected: "PD:Operator:Rejected",
  PdSchedulerUnknown: "PD:Scheduler:Unknown",
  // PD client: every PD member failed or refused within the retry bound.
  PdUnavailable: "PD:Client:Unavailable",
  // PD embedded metadata store: its directory is locked by another live process.
  PdMetaLocked: "PD:Meta:Locked",
  // KV service: a malformed request, another cluster's request or data dir, a request the
  // store cannot serve (a split on an unreplicated store), too many commands in flight.
  KvRequestMalformed: "KV:Request:Malformed",
  KvClusterIdMismatch: "KV:Cluster:IdMismatch",
  KvRequestUnsupported: "KV:Request:Unsupported",
  KvSchedulerBusy: "KV:Scheduler:Busy",
  // Client (KV client, transactions, GC): a request that kept failing to route or reach a
  // store within its retry bound; a commit whose outcome cannot be known (ambiguous); a
  // write buffer over its bound; a read below the GC safe point; a lock that outlived the
  // resolver's wait bound; a transaction used after it finished.
  ClientRouteRetriesExhausted: "CLIENT:Route:RetriesExhausted",
  ClientTxnCommitResultUnknown: "CLIENT:Txn:CommitResultUnknown",
  ClientTxnBufferFull: "CLIENT:Txn:BufferFull",
  ClientTxnSnapshotTooOld: "CLIENT:Txn:SnapshotTooOld",
  ClientTxnLockResolveTimeout: "CLIENT:Txn:LockResolveTimeout",
  ClientTxnFinished: "CLIENT:Txn:Finished",
  // GC ([T6]): a read below the GC safe point a store last received (the client raises it
  // as CLIENT:Txn:SnapshotTooOld); a service safe point below the GC safe point in force,
  // whose snapshot may already be collected; PD's table of service safe points is full.
  KvTxnSnapshotTooOld: "KV:Txn:SnapshotTooOld",
  PdGcSafePointTooOld: "PD:GC:SafePointTooOld",
  PdGcServiceSafePointsFull: "PD:GC:TooManyServiceSafePoints",
  // Operator tools (cmd): `tessera ctl` and `tessera cluster`.
  CtlPdUnreachable: "Cmd:Ctl:PdUnreachable",
  CtlPdRequestFailed: "Cmd:Ctl:PdRequestFailed",
  ClusterTopologyInvalid: "Cmd:Cluster:TopologyInvalid",
  ClusterStartFailed: "Cmd:Cluster:StartFailed",
  ClusterStateUnreadable: "Cmd:Cluster:StateUnreadable",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Optional details attached to a `TesseraError`. */
export interface TesseraErrorOptions {
  /** The error that caused this one, kept for logs. */
  readonly cause?: unknown;
  /** True when the caller cannot know whether the operation took effect. */
  readonly ambiguous?: boolean;
  /** Machine-readable context (key, shard id, limit that was hit …). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An expected failure at a component boundary, identified by a stable code. */
export class TesseraError extends Error {
  override readonly name = "TesseraError";
  readonly code: ErrorCode;
  readonly ambiguous: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: TesseraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.ambiguous = options.ambiguous ?? false;
    this.details = options.details ?? {};
  }
}

/** True when `error` is a `TesseraError` with the given code. */
export function hasErrorCode(error: unknown, code: ErrorCode): error is TesseraError {
  return error instanceof TesseraError && error.code === code;
}

/** A short description of any thrown value, for logs and error replies. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
