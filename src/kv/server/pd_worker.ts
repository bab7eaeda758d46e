/**
 * The PD worker of a store: periodic store heartbeats (capacity, shard and leader counts,
 * flow) and shard heartbeats for every shard this store leads, and execution of the
 * operator step PD answers a shard heartbeat with, through `ShardOperations`.
 *
 * Timers come from the `Env`. A heartbeat round never overlaps the previous one (a slow PD
 * skips rounds rather than piling up calls); failures are counted and logged, and the next
 * round tries again. PD's answer to the store heartbeat carries the GC safe point, kept
 * here and handed to `onGcSafePoint` (the scheduler, so a store that never received
 * `kv.Gc`, e.g. a new leader, still refuses reads below it). A step the store cannot
 * carry out (`unsupported`, or a routing error because the shard changed meanwhile) is
 * logged; PD times the operator out and plans again.
 */
import { type Timestamp, describeError, zeroTimestamp } from "../../base/mod.ts";
import type { Timer, Timers } from "../../env/mod.ts";
import type {
  ShardHeartbeatRequest,
  ShardMeta,
  ShardOperatorStep,
  ShardStats,
  StoreStats,
} from "../../proto/mod.ts";
import type { StoreShards } from "../store/store_shards.ts";
import type { ShardOperations } from "./shard_operations.ts";

/** The PD calls the worker makes; `PdClient` fits. */
export interface PdHeartbeatSink {
  storeHeartbeat(storeId: number, stats: StoreStats): Promise<Timestamp>;
  shardHeartbeat(
    request: Omit<ShardHeartbeatRequest, "header">,
  ): Promise<ShardOperatorStep | null>;
}

/** Where the worker logs (pino's shape: fields first). */
export interface KvLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Counters for `/metrics`. */
export interface PdWorkerStats {
  readonly storeHeartbeats: number;
  readonly shardHeartbeats: number;
  readonly heartbeatErrors: number;
  readonly stepsExecuted: number;
  readonly stepsRefused: number;
  readonly gcSafePoint: Timestamp;
}

export interface PdWorkerOptions {
  readonly pd: PdHeartbeatSink;
  readonly timers: Timers;
  readonly storeId: number;
  readonly store: StoreShards;
  readonly operations: ShardOperations;
  readonly logger: KvLogger;
  readonly storeHeartbeatIntervalMs: number;
  readonly shardHeartbeatIntervalMs: number;
  /** The store's load now (capacity, used bytes, flow); counts are filled in here. */
  readonly storeStats: () => Omit<StoreStats, "shardCount" | "leaderCount">;
  /** One shard's load now. */
  readonly shardStats: (shard: ShardMeta) => ShardStats;
  /** Peers of a shard still catching up (PD waits before promoting them); none if absent. */
  readonly pendingPeerIds?: (shard: ShardMeta) => readonly number[];
  /** Told each store heartbeat reply's GC safe point (the scheduler refuses reads below). */
  readonly onGcSafePoint?: (safePoint: Timestamp) => void;
}

/** The heartbeat loops; see the file comment. */
export class PdWorker {
  private readonly options: PdWorkerOptions;
  private timers: Timer[] = [];
  private storeRound: Promise<void> | undefined;
  private shardRound: Promise<void> | undefined;
  private counters = {
    storeHeartbeats: 0,
    shardHeartbeats: 0,
    heartbeatErrors: 0,
    stepsExecuted: 0,
    stepsRefused: 0,
    gcSafePoint: zeroTimestamp,
  };

  constructor(options: PdWorkerOptions) {
    this.options = options;
  }

  stats(): PdWorkerStats {
    return { ...this.counters };
  }

  /** Sends the first heartbeats now and then every interval. */
  start(): void {
    const { timers } = this.options;
    this.tickStore();
    this.tickShards();
    this.timers.push(
      timers.setInterval(this.options.storeHeartbeatIntervalMs, () => this.tickStore()),
    );
    this.timers.push(
      timers.setInterval(this.options.shardHeartbeatIntervalMs, () => this.tickShards()),
    );
  }

  /** Stops the loops and waits for rounds in flight. */
  async stop(): Promise<void> {
    for (const timer of this.timers) timer.cancel();
    this.timers = [];
    await Promise.all([this.storeRound, this.shardRound]);
  }

  private tickStore(): void {
    if (this.storeRound !== undefined) return;
    this.storeRound = this.storeHeartbeat().finally(() => {
      this.storeRound = undefined;
    });
  }

  private tickShards(followUp = false): void {
    if (this.shardRound !== undefined) return;
    this.shardRound = this.shardHeartbeats().then((executedStep) => {
      this.shardRound = undefined;
      // A step changed shards (a split's new halves, a new peer): report them now, as
      // TiKV reports a split at once, so PD and the clients routing by it do not lag a
      // whole heartbeat interval behind. One follow-up round per tick at most (a step
      // still in progress, such as a leader transfer, is not re-sent in a loop); a
      // stopped worker has no timers left.
      if (executedStep && !followUp && this.timers.length > 0) this.tickShards(true);
    }, () => {
      this.shardRound = undefined;
    });
  }

  private async storeHeartbeat(): Promise<void> {
    const shards = this.options.store.shards();
    const stats: StoreStats = {
      ...this.options.storeStats(),
      shardCount: shards.length,
      leaderCount: shards.filter((s) => s.isLeader).length,
    };
    try {
      this.counters.gcSafePoint = await this.options.pd.storeHeartbeat(this.options.storeId, stats);
      this.counters.storeHeartbeats++;
      this.options.onGcSafePoint?.(this.counters.gcSafePoint);
    } catch (error) {
      this.counters.heartbeatErrors++;
      this.options.logger.warn({ err: describeError(error) }, "store heartbeat failed");
    }
  }

  /** One round of shard heartbeats; true if an operator step was executed. */
  private async shardHeartbeats(): Promise<boolean> {
    let executed = false;
    for (const { shard, isLeader } of this.options.store.shards()) {
      if (!isLeader) continue;
      const leader = shard.peers.find((p) => p.storeId === this.options.storeId);
      if (leader === undefined) continue;
      let step: ShardOperatorStep | null;
      try {
        step = await this.options.pd.shardHeartbeat({
          shard,
          leaderPeerId: leader.peerId,
          pendingPeerIds: this.options.pendingPeerIds?.(shard) ?? [],
          stats: this.options.shardStats(shard),
        });
        this.counters.shardHeartbeats++;
      } catch (error) {
        this.counters.heartbeatErrors++;
        this.options.logger.warn(
          { err: describeError(error), shardId: shard.id },
          "shard heartbeat failed",
        );
        continue;
      }
      if (step !== null && await this.execute(shard.id, step)) executed = true;
    }
    return executed;
  }

  /** Executes one operator step; true if it was carried out. */
  private async execute(shardId: number, step: ShardOperatorStep): Promise<boolean> {
    try {
      const result = await this.options.operations.executeStep(shardId, step);
      if (result.kind === "ok") {
        this.counters.stepsExecuted++;
        this.options.logger.info({ shardId, step: step.kind }, "operator step executed");
        return true;
      }
      this.counters.stepsRefused++;
      this.options.logger.warn(
        {
          shardId,
          step: step.kind,
          result: result.kind,
          ...("reason" in result ? { reason: result.reason } : {}),
        },
        "operator step not executed",
      );
    } catch (error) {
      this.counters.stepsRefused++;
      this.options.logger.warn(
        { shardId, step: step.kind, err: describeError(error) },
        "operator step failed",
      );
    }
    return false;
  }
}
