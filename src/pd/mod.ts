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
