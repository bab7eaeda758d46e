/**
 * The vocabulary of PD scheduling: the cluster state schedulers read (stores and shards as
 * the last heartbeats described them), the scheduler configuration, and the operators they
 * produce. Everything here is plain immutable data; the PD server owns the live state and
 * hands a snapshot to the pure checkers in this folder, which return operators.
 *
 * An operator carries the epoch of the shard it was created for, so the controller can drop
 * it when a heartbeat shows the shard changed under it (a split, a merge, a foreign conf
 * change). Peers in steps are named by store, since a shard has at most one peer per store.
 */
import { ErrorCode, TesseraError } from "../../base/mod.ts";
import type { PeerId, ShardId, StoreId } from "../../base/mod.ts";

/**
 * A store's lifecycle as PD sees it: `up` heartbeats; `disconnected` missed a few heartbeats;
 * `down` missed them long enough to be suspected dead; `offline` is being drained by an
 * operator; `tombstone` is drained and gone for good.
 */
export type StoreState = "up" | "disconnected" | "down" | "offline" | "tombstone";

/** One store as its last heartbeat described it. */
export interface StoreInfo {
  readonly id: StoreId;
  readonly address: string;
  readonly state: StoreState;
  /** When PD last heard from the store, on PD's clock (ms). */
  readonly lastHeartbeatMs: number;
  readonly capacityBytes: number;
  readonly availableBytes: number;
  /** Shards whose leader is on this store. */
  readonly leaderCount: number;
  /** Peers (of any role) on this store. */
  readonly shardCount: number;
  /** Sum of the approximate sizes of the shards with a peer on this store. */
  readonly shardSizeBytes: number;
  readonly readBytesPerSec: number;
  readonly writeBytesPerSec: number;
}

/** The conf version grows with every membership change, the version with splits/merges. */
export interface ShardEpoch {
  readonly confVersion: number;
  readonly version: number;
}

/** A voter takes part in elections and quorums; a learner only receives the log. */
export type PeerRole = "voter" | "learner";

/** One replica of a shard. */
export interface PeerInfo {
  readonly peerId: PeerId;
  readonly storeId: StoreId;
  readonly role: PeerRole;
}

/** One shard as its leader's last heartbeat described it. */
export interface ShardInfo {
  readonly id: ShardId;
  /** Inclusive start key; empty means the start of the key space. */
  readonly startKey: Uint8Array;
  /** Exclusive end key; empty means the end of the key space. */
  readonly endKey: Uint8Array;
  readonly epoch: ShardEpoch;
  readonly peers: readonly PeerInfo[];
  /** The leader peer; always one of `peers`. */
  readonly leaderPeerId: PeerId;
  /** Peers still catching up (receiving a snapshot): not yet safe to promote or count. */
  readonly pendingPeerIds: readonly PeerId[];
  readonly approximateSizeBytes: number;
  readonly approximateKeys: number;
  readonly readBytesPerSec: number;
  readonly readKeysPerSec: number;
  readonly writeBytesPerSec: number;
  readonly writeKeysPerSec: number;
  /** Requests per second (reads and writes) the leader served: drives load-based split. */
  readonly queriesPerSec: number;
  /** When PD last got a heartbeat for the shard (ms). */
  readonly lastHeartbeatMs: number;
  /**
   * When the shard last split or was created by a split (ms), if PD saw it: such shards are
   * not merged for `splitMergeIntervalMs`, or a split would be undone at once.
   */
  readonly lastSplitMs?: number;
}

/** A snapshot of the cluster for one scheduling round. */
export interface ClusterState {
  readonly stores: readonly StoreInfo[];
  readonly shards: readonly ShardInfo[];
}

/** What an operator is for: each kind has its own in-flight limit and timeout. */
export type OperatorKind =
  | "replica"
  | "balanceLeader"
  | "balanceShard"
  | "hotLeader"
  | "hotPeer"
  | "split"
  | "merge";

/** Every operator kind, in a stable order. */
export const operatorKinds: readonly OperatorKind[] = [
  "replica",
  "balanceLeader",
  "balanceShard",
  "hotLeader",
  "hotPeer",
  "split",
  "merge",
];

/**
 * How a split picks its key: `approximate` lets the store find the middle by size,
 * `byKeys` splits at the given keys, `loadBased` lets the store pick a key from the
 * requests it sampled.
 */
export type SplitPolicy = "approximate" | "byKeys" | "loadBased";

/** One step of an operator, carried out by the shard's leader. */
export type OperatorStep =
  | { readonly kind: "addLearner"; readonly storeId: StoreId; readonly peerId: PeerId }
  | { readonly kind: "promoteLearner"; readonly storeId: StoreId; readonly peerId: PeerId }
  | { readonly kind: "removePeer"; readonly storeId: StoreId; readonly peerId: PeerId }
  | {
      readonly kind: "transferLeader";
      readonly fromStoreId: StoreId;
      readonly toStoreId: StoreId;
    }
  | {
      readonly kind: "splitShard";
      readonly policy: SplitPolicy;
      /** Split keys, for `byKeys` only. */
      readonly keys?: readonly Uint8Array[];
    }
  | {
      readonly kind: "mergeShard";
      readonly sourceShardId: ShardId;
      readonly targetShardId: ShardId;
      /** The target's epoch when the merge was planned; a different one makes it stale. */
      readonly targetEpoch: ShardEpoch;
      /** The source's key range: the merge is done once the target covers it. */
      readonly sourceStartKey: Uint8Array;
      readonly sourceEndKey: Uint8Array;
    };

/** A higher priority may replace a running lower-priority operator on the same shard. */
export type OperatorPriority = "low" | "normal" | "high" | "urgent";

/** A planned change to one shard: steps run one after another. */
export interface Operator {
  /** Unique among operators in flight: `${kind}/${shardId}/${createdAtMs}`. */
  readonly id: string;
  readonly shardId: ShardId;
  /** The shard's epoch when the operator was planned. */
  readonly epoch: ShardEpoch;
  readonly kind: OperatorKind;
  /** A one-line reason, for logs and the HTTP API. */
  readonly description: string;
  readonly steps: readonly OperatorStep[];
  readonly createdAtMs: number;
  /** The operator times out at `createdAtMs + timeoutMs`. */
  readonly timeoutMs: number;
  readonly priority: OperatorPriority;
}

/** Scheduler settings; `defaultSchedulerConfig` has PD's defaults. */
export interface SchedulerConfig {
  /** Voters each shard should have. */
  readonly maxReplicas: number;
  /** A store silent this long has its peers replaced elsewhere (PD's max-store-down-time). */
  readonly maxStoreDownTimeMs: number;
  /** A store silent this long gets no new peers or leaders. */
  readonly storeDisconnectTimeMs: number;
  /** A store with less than `1 - lowSpaceRatio` of its capacity free gets no new peers. */
  readonly lowSpaceRatio: number;
  /** Operators of each kind that may be in flight at once. */
  readonly scheduleLimits: Readonly<Record<OperatorKind, number>>;
  /** How long an operator of each kind may run before it is given up (ms). */
  readonly operatorTimeoutsMs: Readonly<Record<OperatorKind, number>>;
  /** Peers a store may gain per minute (token bucket, burst of one minute). */
  readonly storeAddPeersPerMinute: number;
  /** Peers a store may lose per minute. */
  readonly storeRemovePeersPerMinute: number;
  /**
   * Leaders move only while the most loaded store leads more than
   * `max(1, average * leaderToleranceRatio)` shards more than the least loaded one.
   */
  readonly leaderToleranceRatio: number;
  /**
   * Replicas move only while the size gap between the fullest and emptiest store exceeds
   * `max(shardToleranceBytesMin, average store size * shardToleranceRatio)`.
   */
  readonly shardToleranceRatio: number;
  readonly shardToleranceBytesMin: number;
  /** A shard is read-hot at or above either rate. */
  readonly hotReadBytesPerSec: number;
  readonly hotReadKeysPerSec: number;
  /** A shard is write-hot at or above either rate. */
  readonly hotWriteBytesPerSec: number;
  readonly hotWriteKeysPerSec: number;
  /** Hot load moves only when the source carries more than `(1 + ratio)` times the target. */
  readonly hotToleranceRatio: number;
  /** A shard at or above this size or key count is split. */
  readonly splitSizeBytes: number;
  readonly splitKeys: number;
  /** A shard at or above this request rate is split by load. */
  readonly loadSplitQps: number;
  /** A shard below both is small enough to merge into a neighbour. */
  readonly mergeSizeBytes: number;
  readonly mergeKeys: number;
  /** Shards that split more recently than this are not merged (PD's split-merge-interval). */
  readonly splitMergeIntervalMs: number;
}

/** PD's defaults (TiKV's split and merge sizes). */
export const defaultSchedulerConfig: SchedulerConfig = {
  maxReplicas: 3,
  maxStoreDownTimeMs: 30 * 60 * 1000,
  storeDisconnectTimeMs: 20_000,
  lowSpaceRatio: 0.8,
  scheduleLimits: {
    replica: 64,
    balanceLeader: 4,
    balanceShard: 2048,
    hotLeader: 4,
    hotPeer: 4,
    split: 16,
    merge: 8,
  },
  operatorTimeoutsMs: {
    replica: 10 * 60 * 1000,
    balanceLeader: 10_000,
    balanceShard: 10 * 60 * 1000,
    hotLeader: 10_000,
    hotPeer: 10 * 60 * 1000,
    split: 60_000,
    merge: 5 * 60 * 1000,
  },
  storeAddPeersPerMinute: 15,
  storeRemovePeersPerMinute: 15,
  leaderToleranceRatio: 0.05,
  shardToleranceRatio: 0.05,
  shardToleranceBytesMin: 2 * 96 * 1024 * 1024,
  hotReadBytesPerSec: 1024 * 1024,
  hotReadKeysPerSec: 1000,
  hotWriteBytesPerSec: 1024 * 1024,
  hotWriteKeysPerSec: 1000,
  hotToleranceRatio: 0.25,
  splitSizeBytes: 96 * 1024 * 1024,
  splitKeys: 960_000,
  loadSplitQps: 3000,
  mergeSizeBytes: 20 * 1024 * 1024,
  mergeKeys: 200_000,
  splitMergeIntervalMs: 60 * 60 * 1000,
};

/** Everything one scheduling round reads. */
export interface ScheduleInput {
  readonly state: ClusterState;
  readonly config: SchedulerConfig;
  /** PD's clock now (ms). */
  readonly nowMs: number;
  /** Operators the controller is running: their shards are left alone, their effect counted. */
  readonly inFlight: readonly Operator[];
  /** Allocates the id of a new peer (PD's ID allocator; a counter in tests). */
  readonly allocPeerId: () => PeerId;
}

/** A checker or scheduler: a pure function from the cluster to new operators. */
export type Scheduler = (input: ScheduleInput) => Operator[];

/** Throws `PD:Schedule:ConfigInvalid` unless every setting is in range. */
export function validateSchedulerConfig(config: SchedulerConfig): void {
  const bad = (why: string): never => {
    throw new TesseraError(ErrorCode.PdScheduleConfigInvalid, `invalid scheduler config: ${why}`);
  };
  if (!Number.isSafeInteger(config.maxReplicas) || config.maxReplicas < 1) {
    bad(`maxReplicas must be a positive integer, got ${config.maxReplicas}`);
  }
  const nonNegative: (keyof SchedulerConfig)[] = [
    "maxStoreDownTimeMs",
    "storeDisconnectTimeMs",
    "storeAddPeersPerMinute",
    "storeRemovePeersPerMinute",
    "leaderToleranceRatio",
    "shardToleranceRatio",
    "shardToleranceBytesMin",
    "hotReadBytesPerSec",
    "hotReadKeysPerSec",
    "hotWriteBytesPerSec",
    "hotWriteKeysPerSec",
    "hotToleranceRatio",
    "splitSizeBytes",
    "splitKeys",
    "loadSplitQps",
    "mergeSizeBytes",
    "mergeKeys",
    "splitMergeIntervalMs",
  ];
  for (const key of nonNegative) {
    const value = config[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      bad(`${key} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (!(config.lowSpaceRatio > 0 && config.lowSpaceRatio <= 1)) {
    bad(`lowSpaceRatio must be in (0, 1], got ${config.lowSpaceRatio}`);
  }
  if (config.storeDisconnectTimeMs > config.maxStoreDownTimeMs) {
    bad("storeDisconnectTimeMs must not exceed maxStoreDownTimeMs");
  }
  if (config.mergeSizeBytes >= config.splitSizeBytes || config.mergeKeys >= config.splitKeys) {
    bad("merge thresholds must be below split thresholds, or merges would split again");
  }
  for (const kind of operatorKinds) {
    const limit = config.scheduleLimits[kind];
    if (!Number.isSafeInteger(limit) || limit < 0) {
      bad(`scheduleLimits.${kind} must be a non-negative integer, got ${limit}`);
    }
    const timeout = config.operatorTimeoutsMs[kind];
    if (!Number.isFinite(timeout) || timeout <= 0) {
      bad(`operatorTimeoutsMs.${kind} must be positive, got ${timeout}`);
    }
  }
}
