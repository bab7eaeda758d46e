/**
 * `kv`: the storage node. This file is the component's public surface; other components
 * import only from here.
 */
// MVCC: key layout, records and snapshot reads (src/kv/mvcc).
export { Cf, cfRange, dataKey, decodeEngineKey, lockKey, writeKey } from "./mvcc/keys.ts";
export { type Lock, type LockKind, decodeLock, encodeLock, makeLock } from "./mvcc/lock.ts";
export { type Write, type WriteKind, decodeWrite, encodeWrite, makeWrite } from "./mvcc/write.ts";
export {
  MvccReader,
  type TxnCommitRecord,
  type VersionedWrite,
} from "./mvcc/reader.ts";
export {
  type GetResult,
  type LockedKey,
  type MvccPair,
  type ReadOptions,
  type ScanOptions as MvccScanOptions,
  type ScanResult,
  lockBlocksRead,
  mvccGet,
  mvccScan,
  scanLocks,
} from "./mvcc/snapshot_read.ts";
export { type GcResult, gcKey, gcRange } from "./mvcc/gc.ts";
export {
  describeEntry,
  describeKey,
  describeLock,
  describeValue,
  describeWrite,
  describeWriteOp,
} from "./mvcc/describe.ts";
// Percolator actions and concurrency control (src/kv/txn).
export {
  type ActionResult,
  type TxnFailure,
  failureToError,
  isFailure,
} from "./txn/failure.ts";
export {
  type CommitMode,
  type MemoryLock,
  type Mutation,
  type PrewriteOutcome,
  type PrewriteRequest,
  prewrite,
} from "./txn/prewrite.ts";
export {
  type PessimisticLockKey,
  type PessimisticLockOutcome,
  type PessimisticLockRequest,
  acquirePessimisticLock,
} from "./txn/pessimistic_lock.ts";
export { type CommitOutcome, commitKey, commitKeys } from "./txn/commit.ts";
export {
  type PessimisticRolledBack,
  type RolledBack,
  cleanupKey,
  pessimisticRollbackKey,
  rollbackKey,
  rollbackKeys,
} from "./txn/cleanup.ts";
export {
  type CheckTxnStatusRequest,
  type TxnStatus,
  checkTxnStatus,
} from "./txn/check_txn_status.ts";
export {
  type SecondaryLocksStatus,
  checkSecondaryLocks,
} from "./txn/check_secondary_locks.ts";
export { type HeartbeatOutcome, txnHeartbeat } from "./txn/heartbeat.ts";
export { type ResolvedOutcome, resolveLocks } from "./txn/resolve_lock.ts";
export { isLockExpired } from "./txn/common.ts";
export { readKey, readRange } from "./txn/read.ts";
export { keyHash } from "./txn/key_hash.ts";
export { Latches } from "./txn/latches.ts";
export { ConcurrencyManager, type MemoryLockCheck } from "./txn/concurrency_manager.ts";
export { type LockWaitEvent, LockWaitQueue, type Waiter } from "./txn/lock_wait_queue.ts";
export {
  type DetectResult,
  DeadlockDetector,
  type WaitForEdge,
} from "./txn/deadlock_detector.ts";
// Storage engine: interface, memory and LMDB engines, sorted files (src/kv/engine).
export {
  type Engine,
  type EngineReader,
  type EngineSnapshot,
  type IngestResult,
  type KeyValue,
  type ScanOptions,
  type WriteOp,
  type WriteOptions,
} from "./engine/engine.ts";
export { MemoryEngine } from "./engine/memory_engine.ts";
export { LmdbEngine, type LmdbEngineOptions, lmdbFormatVersion } from "./engine/lmdb_engine.ts";
export {
  decodeSortedFile,
  encodeSortedFile,
  readSortedFile,
  sortedFileVersion,
  writeSortedFile,
} from "./engine/sorted_file.ts";
export { compareBytes } from "./engine/bytes.ts";
// The KV service of a store: scheduler, RPC handlers, PD worker (src/kv/server), and the
// unreplicated store shards the service's own tests run it on (src/kv/store).
export {
  LocalStoreShards,
  shardContainsKey,
  wholeKeySpaceShard,
} from "./store/local_store_shards.ts";
export {
  TxnScheduler,
  type TxnSchedulerOptions,
  type TxnSchedulerStats,
} from "./server/txn_scheduler.ts";
export {
  KvService,
  type KvServiceOptions,
  type KvRequestCounts,
  type KvResult,
} from "./server/kv_service.ts";
export {
  type DeadlockService,
  type DetectorCall,
  ForwardingDeadlockService,
  LocalDeadlockService,
} from "./server/deadlock_service.ts";
export {
  type CoprocessorHandler,
  type CoprocessorInput,
  type CoprocessorOutput,
  type CoprocessorRange,
  CoprocessorRegistry,
} from "./server/coprocessor.ts";
export {
  LocalShardOperations,
  type ShardOperationResult,
  type ShardOperations,
} from "./server/shard_operations.ts";
export {
  type KvLogger,
  type PdHeartbeatSink,
  PdWorker,
  type PdWorkerOptions,
  type PdWorkerStats,
} from "./server/pd_worker.ts";
// Replicated shards: multi-Raft peers on the engine and their transports (src/kv/store,
// src/kv/shard).
export {
  type RouteError,
  type ShardContext,
  type ShardSnapshot,
  type ShardWriteOptions,
  type StoreShards,
} from "./store/store_shards.ts";
export {
  type AdminResult,
  MultiRaftStore,
  type MultiRaftStoreOptions,
} from "./store/multi_raft_store.ts";
export {
  LocalRaftNetwork,
  type RaftReceiver,
  type RaftTransport,
} from "./store/raft_transport.ts";
export {
  RaftMethod,
  RpcRaftTransport,
  type RpcRaftTransportOptions,
  serveRaft,
} from "./store/rpc_raft_transport.ts";
export type { RaftEnvelope } from "./shard/codec.ts";
export { RaftShardOperations } from "./server/raft_shard_operations.ts";
export {
  type KvNode,
  type KvNodeLogger,
  type KvNodeOptions,
  type StoreWorkOptions,
  openKvNode,
  startStoreWork,
} from "./server/kv_node.ts";
