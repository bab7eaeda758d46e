/**
 * `pd`: the placement driver — timestamp oracle (TSO), cluster metadata (stores, shards,
 * routing), ID allocation, GC safe point, leadership on a metadata store (embedded or
 * etcd), the PD RPC service and its HTTP API, and the pure schedulers in `schedule/`.
 * Exports are listed by name; each owner adds its own lines.
 */
// Scheduling (src/pd/schedule): pure checkers/schedulers and the operator controller.
export {
  type ClusterState,
  type Operator,
  type OperatorKind,
  type OperatorPriority,
  type OperatorStep,
  type PeerInfo,
  type PeerRole,
  type ScheduleInput,
  type Scheduler,
  type SchedulerConfig,
  type ShardEpoch,
  type ShardInfo,
  type SplitPolicy,
  type StoreInfo,
  type StoreState,
  defaultSchedulerConfig,
  operatorKinds,
  validateSchedulerConfig,
} from "./schedule/types.ts";
export {
  type CancelReason,
  type OperatorEvent,
  type RejectReason,
  type RunningOperator,
  OperatorController,
  describeEvent,
} from "./schedule/operator_controller.ts";
export { type SchedulerName, runSchedulers, schedulers } from "./schedule/schedule.ts";
export { checkReplicas } from "./schedule/replica_checker.ts";
export { balanceLeaders } from "./schedule/balance_leader.ts";
export { balanceShards } from "./schedule/balance_shard.ts";
export {
  isReadHot,
  isWriteHot,
  scheduleHotReads,
  scheduleHotWrites,
} from "./schedule/hot_scheduler.ts";
export { checkSplits, splitAtKeys } from "./schedule/split_checker.ts";
export { checkMerges } from "./schedule/merge_checker.ts";
export { describeStep, rangeCovers, type KeyRange } from "./schedule/operator.ts";
export {
  type TsoAllocation,
  TsoAllocator,
  type TsoAllocatorOptions,
  type TsoTickResult,
} from "./tso/allocator.ts";
export { TsoService, type TsoServiceOptions } from "./tso/tso_service.ts";
export {
  type LeaseId,
  type MetaCompare,
  type MetaKeyValue,
  type MetaLease,
  type MetaOp,
  type MetaRange,
  type MetaStore,
  type MetaTxn,
  type MetaTxnResult,
  type MetaWatch,
  type MetaWatchEvent,
  prefixEnd,
} from "./meta/meta_store.ts";
export {
  EmbeddedMetaStore,
  type EmbeddedMetaEnv,
  type EmbeddedMetaStoreOptions,
} from "./meta/embedded_store.ts";
export { EtcdMetaStore, type EtcdMetaStoreOptions } from "./meta/etcd_store.ts";
export {
  Leadership,
  type LeaderTerm,
  type LeadershipOptions,
  type MemberInfo,
} from "./server/leadership.ts";
export { Cluster, type ClusterConfig, defaultClusterConfig } from "./server/cluster.ts";
export { OwnerElections } from "./server/owner_elections.ts";
export { type PdLogger, silentPdLogger } from "./server/logger.ts";
export {
  PdServer,
  type PdServerOptions,
  type PdStats,
  tsoBatchBuckets,
} from "./server/pd_server.ts";
export { type HttpApiRequest, type HttpApiResponse, handlePdHttp } from "./server/http_api.ts";
export {
  type ManualOperatorSpec,
  type OperatorCounters,
  type OperatorCounts,
  Scheduling,
  type SchedulingOptions,
  clusterConfigOf,
  mergeSchedulerConfig,
  scheduleIntervalMsDefault,
  schedulerNames,
} from "./server/scheduling.ts";
export type { ScheduleSettings } from "./server/cluster.ts";
