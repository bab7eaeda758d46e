/**
 * `Scheduling`: the PD leader's scheduling shell for one term. It owns an
 * `OperatorController` (empty at the start of every term) and, every `intervalMs` on the
 * Env's timers, runs a round: time out expired operators, retire drained offline stores
 * as tombstones, snapshot the cluster (`Cluster.schedulingState`), run the enabled
 * schedulers and offer their operators to the controller. Shard heartbeats go through
 * `onShardHeartbeat`, whose answer is the step the shard's leader should take next — the
 * only way an operator reaches a store, so a lost reply costs one heartbeat.
 *
 * The schedulers are pure and synchronous, but new peers need ids from the durable ID
 * allocator: the shell keeps a reserved block of ids, and when a round runs short it
 * throws that plan away, reserves more and plans again (at most twice), so an operator
 * never carries an id that was not reserved.
 *
 * Times are whole milliseconds of the monotonic clock, the clock heartbeats are timed on.
 * Counters (operators created, finished, timed out, cancelled, by kind) belong to the
 * caller and outlive the term.
 */
import { ErrorCode, TesseraError, describeError, limits } from "../../base/mod.ts";
import type { PeerId, StoreId } from "../../base/mod.ts";
import type { Env, Timer } from "../../env/mod.ts";
import type { ShardOperatorStep } from "../../proto/mod.ts";
import { makeOperator } from "../schedule/operator.ts";
import {
  OperatorController,
  type OperatorEvent,
  type RunningOperator,
} from "../schedule/operator_controller.ts";
import { type SchedulerName, runSchedulers, schedulers } from "../schedule/schedule.ts";
import { splitAtKeys } from "../schedule/split_checker.ts";
import {
  type Operator,
  type OperatorKind,
  type OperatorStep,
  type SchedulerConfig,
  operatorKinds,
  validateSchedulerConfig,
} from "../schedule/types.ts";
import type { Cluster, ClusterConfig } from "./cluster.ts";
import type { PdLogger } from "./logger.ts";

/** How often the leader runs a scheduling round by default (ms). */
export const scheduleIntervalMsDefault = 1_000;

/** Operators by outcome, for one kind. */
export interface OperatorCounts {
  created: number;
  finished: number;
  timedOut: number;
  cancelled: number;
  rejected: number;
}

/** Operator outcomes by kind; kept by the PD server across terms. */
export type OperatorCounters = Record<OperatorKind, OperatorCounts>;

/** Zeroed counters for every kind. */
export function newOperatorCounters(): OperatorCounters {
  const counters = {} as OperatorCounters;
  for (const kind of operatorKinds) {
    counters[kind] = { created: 0, finished: 0, timedOut: 0, cancelled: 0, rejected: 0 };
  }
  return counters;
}

/** Every scheduler name, in round order. */
export const schedulerNames: readonly SchedulerName[] = schedulers.map((s) => s.name);

/** True when `name` names a scheduler. */
export function isSchedulerName(name: string): name is SchedulerName {
  return (schedulerNames as readonly string[]).includes(name);
}

/** The store liveness thresholds the cluster derives from a scheduler config. */
export function clusterConfigOf(config: SchedulerConfig): ClusterConfig {
  return {
    maxReplicas: config.maxReplicas,
    storeDisconnectMs: config.storeDisconnectTimeMs,
    maxStoreDownTimeMs: config.maxStoreDownTimeMs,
  };
}

function malformed(message: string): TesseraError {
  return new TesseraError(ErrorCode.PdRequestMalformed, message);
}

function plainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * `base` with the settings in `patch` (a parsed JSON object) replaced. Throws
 * `PD:Request:Malformed` for an unknown key or a value that is not a number, and
 * `PD:Schedule:ConfigInvalid` when the result is out of range; `base` is never changed.
 */
export function mergeSchedulerConfig(base: SchedulerConfig, patch: unknown): SchedulerConfig {
  const fields = plainObject(patch, "the config");
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(fields)) {
    if (!Object.hasOwn(base, key)) throw malformed(`unknown scheduler config key ${key}`);
    if (key === "scheduleLimits" || key === "operatorTimeoutsMs") {
      const nested: Record<string, unknown> = { ...base[key] };
      for (const [kind, n] of Object.entries(plainObject(value, key))) {
        if (!(operatorKinds as readonly string[]).includes(kind)) {
          throw malformed(`unknown operator kind ${key}.${kind}`);
        }
        if (typeof n !== "number") throw malformed(`${key}.${kind} must be a number`);
        nested[kind] = n;
      }
      out[key] = nested;
    } else {
      if (typeof value !== "number") throw malformed(`${key} must be a number`);
      out[key] = value;
    }
  }
  const config = out as unknown as SchedulerConfig;
  validateSchedulerConfig(config);
  return config;
}

/** An operator asked for through the HTTP API. */
export type ManualOperatorSpec =
  | { readonly kind: "transferLeader"; readonly shardId: number; readonly toStoreId: number }
  | {
      readonly kind: "split";
      readonly shardId: number;
      readonly policy: "approximate" | "byKeys";
      readonly keys: readonly Uint8Array[];
    };

export interface SchedulingOptions {
  readonly config: SchedulerConfig;
  readonly enabled: ReadonlySet<SchedulerName>;
  readonly intervalMs: number;
  readonly logger: PdLogger;
  /** Updated in place as operators come and go. */
  readonly counters: OperatorCounters;
}

/** The step as the PD RPC service sends it. */
export function toProtoStep(step: OperatorStep): ShardOperatorStep {
  switch (step.kind) {
    case "addLearner":
    case "promoteLearner":
    case "removePeer":
      return { kind: step.kind, storeId: step.storeId, peerId: step.peerId };
    case "transferLeader":
      return { kind: step.kind, fromStoreId: step.fromStoreId, toStoreId: step.toStoreId };
    case "splitShard":
      return step.keys === undefined
        ? { kind: step.kind, policy: step.policy }
        : { kind: step.kind, policy: step.policy, keys: step.keys };
    case "mergeShard":
      return {
        kind: step.kind,
        sourceShardId: step.sourceShardId,
        targetShardId: step.targetShardId,
        targetEpoch: step.targetEpoch,
      };
  }
}

/** One term's scheduling; see the file comment. */
export class Scheduling {
  private readonly env: Pick<Env, "clock" | "timers">;
  private readonly cluster: Cluster;
  private readonly options: SchedulingOptions;
  private readonly controller: OperatorController;
  private config: SchedulerConfig;
  private enabled: ReadonlySet<SchedulerName>;
  private timer: Timer | undefined;
  private roundRunning = false;
  private stopped = false;
  /** Reserved peer ids `[idNext, idEnd)`. */
  private idNext = 0;
  private idEnd = 0;

  constructor(env: Pick<Env, "clock" | "timers">, cluster: Cluster, options: SchedulingOptions) {
    this.env = env;
    this.cluster = cluster;
    this.options = options;
    this.config = options.config;
    this.enabled = options.enabled;
    this.controller = new OperatorController(options.config);
  }

  /** Starts the periodic rounds. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = this.env.timers.setInterval(this.options.intervalMs, () => {
      if (this.roundRunning || this.stopped) return;
      this.roundRunning = true;
      this.runRound()
        .catch((error: unknown) => {
          if (!this.stopped) {
            this.options.logger.warn({ err: describeError(error) }, "scheduling round failed");
          }
        })
        .finally(() => {
          this.roundRunning = false;
        });
    });
  }

  /** Stops the rounds for good (the term ended). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Now, in whole monotonic milliseconds. */
  nowMs(): number {
    return Math.floor(this.env.clock.monotonicMs());
  }

  /** Applies a new config from the next round on. */
  setConfig(config: SchedulerConfig): void {
    this.config = config;
    this.controller.setConfig(config);
  }

  /** Switches schedulers on or off from the next round on. */
  setEnabled(enabled: ReadonlySet<SchedulerName>): void {
    this.enabled = enabled;
  }

  /** The operators in flight with their progress. */
  operators(): RunningOperator[] {
    return this.controller.snapshot();
  }

  /**
   * One round (the timer calls it; tests may too). Resolves with the operators the
   * controller admitted.
   */
  async runRound(): Promise<Operator[]> {
    this.record(this.controller.tick(this.nowMs()));
    const buried = await this.cluster.buryEmptyOfflineStores();
    if (buried.length > 0) {
      this.options.logger.info({ stores: buried }, "drained offline stores are tombstones");
    }
    for (let attempt = 0; ; attempt++) {
      const nowMs = this.nowMs();
      const mark = this.idNext;
      let shortfall = 0;
      const allocPeerId = (): PeerId => {
        if (this.idNext < this.idEnd) return this.idNext++ as PeerId;
        shortfall++;
        return (Number.MAX_SAFE_INTEGER - shortfall) as PeerId;
      };
      const planned = runSchedulers(
        {
          state: this.cluster.schedulingState(nowMs),
          config: this.config,
          nowMs,
          inFlight: this.controller.operators(),
          allocPeerId,
        },
        { enabled: this.enabled },
      );
      if (shortfall === 0) {
        const events = this.controller.admit(planned, nowMs);
        this.record(events);
        return events.flatMap((e) => (e.kind === "admitted" ? [e.operator] : []));
      }
      // The plan used ids not reserved yet: drop it, reserve enough and plan again.
      this.idNext = mark;
      if (attempt >= 2) {
        this.options.logger.warn({ shortfall }, "scheduling round ran out of peer ids");
        return [];
      }
      await this.reservePeerIds(shortfall);
    }
  }

  private async reservePeerIds(needed: number): Promise<void> {
    const count = Math.min(limits.pdIdAllocCountMax, needed + limits.pdSchedulePeerIdBatch);
    const first = await this.cluster.allocIds(count);
    // A fresh block replaces what is left of the old one only if it is not contiguous.
    if (first !== this.idEnd) this.idNext = first;
    this.idEnd = first + count;
  }

  /**
   * Feeds the heartbeat PD just accepted for `shardId` to the controller; returns the step
   * the shard's leader should take now, or null.
   */
  onShardHeartbeat(shardId: number): ShardOperatorStep | null {
    const shard = this.cluster.schedulingShard(shardId);
    if (shard === undefined) return null;
    const events = this.controller.onShardHeartbeat(shard, this.nowMs());
    this.record(events);
    let step: ShardOperatorStep | null = null;
    for (const event of events) {
      if (event.kind === "send" && event.operator.shardId === shardId) {
        step = toProtoStep(event.step);
      }
    }
    return step;
  }

  /** Builds an operator asked for by hand; throws a typed error when it makes no sense. */
  manualOperator(spec: ManualOperatorSpec): Operator {
    const shard = this.cluster.schedulingShard(spec.shardId);
    if (shard === undefined) {
      throw new TesseraError(
        ErrorCode.PdShardUnknown,
        `shard ${spec.shardId} is unknown or its leader has not reported yet`,
        { details: { shardId: spec.shardId } },
      );
    }
    const nowMs = this.nowMs();
    if (spec.kind === "split") {
      if (spec.policy === "byKeys") {
        return splitAtKeys(shard, spec.keys, { nowMs, config: this.config });
      }
      return makeOperator(shard, "split", {
        steps: [{ kind: "splitShard", policy: "approximate" }],
        description: "manual split at the approximate middle",
        nowMs,
        config: this.config,
        priority: "high",
      });
    }
    const target = shard.peers.find((p) => p.storeId === spec.toStoreId);
    if (target === undefined || target.role !== "voter") {
      throw malformed(`shard ${shard.id} has no voter on store ${spec.toStoreId}`);
    }
    const leader = shard.peers.find((p) => p.peerId === shard.leaderPeerId);
    if (leader === undefined || leader.storeId === spec.toStoreId) {
      throw malformed(`store ${spec.toStoreId} already leads shard ${shard.id}`);
    }
    const state = this.cluster.getStore(spec.toStoreId).state;
    if (state !== "up") {
      throw new TesseraError(
        ErrorCode.PdOperatorRejected,
        `store ${spec.toStoreId} is ${state}, not up`,
      );
    }
    return makeOperator(shard, "balanceLeader", {
      steps: [
        {
          kind: "transferLeader",
          fromStoreId: leader.storeId,
          toStoreId: spec.toStoreId as StoreId,
        },
      ],
      description: `manual leader transfer to store ${spec.toStoreId}`,
      nowMs,
      config: this.config,
      priority: "high",
    });
  }

  /** Admits an operator asked for by hand; throws `PD:Operator:Rejected` with the reason. */
  addOperator(operator: Operator): void {
    const events = this.controller.admit([operator], this.nowMs());
    this.record(events);
    for (const event of events) {
      if (event.kind === "rejected") {
        throw new TesseraError(
          ErrorCode.PdOperatorRejected,
          `operator refused: ${event.reason}`,
          { details: { reason: event.reason } },
        );
      }
    }
  }

  private record(events: readonly OperatorEvent[]): void {
    const { counters, logger } = this.options;
    for (const event of events) {
      const op = event.operator;
      const counts = counters[op.kind];
      switch (event.kind) {
        case "admitted":
          counts.created++;
          logger.info({ operator: op.id, description: op.description }, "operator created");
          break;
        case "finished":
          counts.finished++;
          logger.info({ operator: op.id }, "operator finished");
          break;
        case "timedOut":
          counts.timedOut++;
          logger.warn({ operator: op.id, stepIndex: event.stepIndex }, "operator timed out");
          break;
        case "cancelled":
          counts.cancelled++;
          logger.info({ operator: op.id, reason: event.reason }, "operator cancelled");
          break;
        case "rejected":
          counts.rejected++;
          break;
        case "send":
          break;
      }
    }
  }
}
