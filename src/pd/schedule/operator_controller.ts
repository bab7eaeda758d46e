/**
 * The operator controller (PD's operator controller): a pure state machine that decides
 * which planned operators run and drives the running ones from shard heartbeats. The PD
 * server feeds it operators from the schedulers, shard heartbeats and clock ticks, and
 * carries out the events it returns (send a step to the shard's leader, log, count).
 *
 * Admission: at most one operator per shard (a merge holds both shards); a new operator
 * of higher priority replaces a running one, otherwise it is a duplicate. Each kind has
 * its in-flight limit, and each store a token bucket for peers added and removed per
 * minute, so a recovering cluster does not bury one store in snapshots.
 *
 * Progress: a heartbeat advances the current step once the shard shows its effect and
 * resends the current step otherwise (a lost message costs one heartbeat). The controller
 * keeps the epoch each operator expects, raised by one conf version per membership step
 * that took effect; a heartbeat with a newer epoch than that means someone else changed
 * the shard and the operator is cancelled as stale. An older epoch is a delayed heartbeat
 * and is ignored. An operator running past `createdAtMs + timeoutMs` times out.
 *
 * The controller owns its running operators and token buckets; callers own everything
 * else. All state changes happen inside its methods, each given the time `nowMs`.
 */
import { assert, limits } from "../../base/mod.ts";
import type { ShardId, StoreId } from "../../base/mod.ts";
import { describeStep, rangeCovers, stepChangesConf, stepFinished } from "./operator.ts";
import type {
  Operator,
  OperatorPriority,
  OperatorStep,
  SchedulerConfig,
  ShardEpoch,
  ShardInfo,
} from "./types.ts";

/** Why an operator was not admitted. */
export type RejectReason =
  | "duplicate"
  | "kindLimit"
  | "storeLimit"
  | "tooManyOperators"
  | "expired";

/** Why a running operator was cancelled. */
export type CancelReason = "staleEpoch" | "replaced" | "manual";

/** What the controller asks its host to do or to record. */
export type OperatorEvent =
  | { readonly kind: "admitted"; readonly operator: Operator }
  | { readonly kind: "rejected"; readonly operator: Operator; readonly reason: RejectReason }
  | {
      readonly kind: "send";
      readonly operator: Operator;
      readonly stepIndex: number;
      readonly step: OperatorStep;
    }
  | { readonly kind: "finished"; readonly operator: Operator }
  | { readonly kind: "timedOut"; readonly operator: Operator; readonly stepIndex: number }
  | {
      readonly kind: "cancelled";
      readonly operator: Operator;
      readonly stepIndex: number;
      readonly reason: CancelReason;
    };

/** A running operator and how far it got. */
export interface RunningOperator {
  readonly operator: Operator;
  /** The step being carried out. */
  readonly stepIndex: number;
  /** The shard epoch once the finished steps took effect. */
  readonly expectedEpoch: ShardEpoch;
}

interface Running {
  readonly operator: Operator;
  stepIndex: number;
  expectedEpoch: ShardEpoch;
}

interface Bucket {
  addTokens: number;
  removeTokens: number;
  lastRefillMs: number;
}

const priorityRank: Readonly<Record<OperatorPriority, number>> = {
  low: 0,
  normal: 1,
  high: 2,
  urgent: 3,
};

/** Admits, advances, times out and cancels operators. See the file comment. */
export class OperatorController {
  private config: SchedulerConfig;
  /** Running operators by the shard they run on (a merge's source). */
  private readonly running = new Map<ShardId, Running>();
  /** Merge targets held by a running merge: target shard → source shard. */
  private readonly mergeTargets = new Map<ShardId, ShardId>();
  private readonly buckets = new Map<StoreId, Bucket>();

  constructor(config: SchedulerConfig) {
    this.config = config;
  }

  /**
   * Replaces the config (the HTTP API changed it): new limits and rates apply from the
   * next call; running operators keep the timeouts they were created with.
   */
  setConfig(config: SchedulerConfig): void {
    this.config = config;
  }

  /** The operators in flight, by shard id: what the schedulers take as `inFlight`. */
  operators(): Operator[] {
    return this.snapshot().map((r) => r.operator);
  }

  /** The running operators with their progress, by shard id. */
  snapshot(): RunningOperator[] {
    return [...this.running.values()]
      .sort((a, b) => a.operator.shardId - b.operator.shardId)
      .map((r) => ({
        operator: r.operator,
        stepIndex: r.stepIndex,
        expectedEpoch: r.expectedEpoch,
      }));
  }

  /** The operator running on (or merging into) a shard, if any. */
  operatorOf(shardId: ShardId): Operator | undefined {
    const source = this.mergeTargets.get(shardId) ?? shardId;
    return this.running.get(source)?.operator;
  }

  /**
   * Offers operators in the order given; returns, for each, `admitted` followed by `send`
   * of its first step, or `rejected` with the reason. Replaced operators come out as
   * `cancelled` just before the operator that replaced them.
   */
  admit(operators: readonly Operator[], nowMs: number): OperatorEvent[] {
    const events: OperatorEvent[] = [];
    for (const op of operators) this.admitOne(op, nowMs, events);
    return events;
  }

  private admitOne(op: Operator, nowMs: number, events: OperatorEvent[]): void {
    const reject = (reason: RejectReason): void => {
      events.push({ kind: "rejected", operator: op, reason });
    };
    if (nowMs >= op.createdAtMs + op.timeoutMs) return reject("expired");
    const shards = shardsOf(op);
    const conflicts = new Set<ShardId>();
    for (const id of shards) {
      const source = this.mergeTargets.get(id) ?? id;
      if (this.running.has(source)) conflicts.add(source);
    }
    // Only a single conflicting operator on the very same shard can be replaced.
    const old = conflicts.size === 1 ? this.running.get(op.shardId) : undefined;
    const replace =
      old !== undefined &&
      shards.length === 1 &&
      shardsOf(old.operator).length === 1 &&
      priorityRank[op.priority] > priorityRank[old.operator.priority];
    if (conflicts.size > 0 && !replace) return reject("duplicate");
    const sameKind = [...this.running.values()].filter(
      (r) => r.operator.kind === op.kind && r !== old,
    ).length;
    if (sameKind >= this.config.scheduleLimits[op.kind]) return reject("kindLimit");
    if (this.running.size - (replace ? 1 : 0) >= limits.pdOperatorsInFlightMax) {
      return reject("tooManyOperators");
    }
    const cost = storeCost(op);
    for (const [store, need] of cost) {
      const bucket = this.bucket(store, nowMs);
      if (bucket.addTokens < need.add || bucket.removeTokens < need.remove) {
        return reject("storeLimit");
      }
    }

    if (replace && old !== undefined) {
      this.remove(old.operator);
      events.push({
        kind: "cancelled",
        operator: old.operator,
        stepIndex: old.stepIndex,
        reason: "replaced",
      });
    }
    for (const [store, need] of cost) {
      const bucket = this.bucket(store, nowMs);
      bucket.addTokens -= need.add;
      bucket.removeTokens -= need.remove;
    }
    const run: Running = { operator: op, stepIndex: 0, expectedEpoch: op.epoch };
    this.running.set(op.shardId, run);
    for (const id of shards) if (id !== op.shardId) this.mergeTargets.set(id, op.shardId);
    events.push({ kind: "admitted", operator: op });
    events.push(sendEvent(run));
  }

  /**
   * Feeds one shard heartbeat (the shard as its leader now reports it). Returns the events
   * for the operator on this shard and for a merge targeting it: `send` of the current
   * step, `finished`, `timedOut` or `cancelled` (stale epoch).
   */
  onShardHeartbeat(shard: ShardInfo, nowMs: number): OperatorEvent[] {
    const events: OperatorEvent[] = [];
    const own = this.running.get(shard.id);
    if (own !== undefined && !this.expire(own, nowMs, events)) {
      if (own.operator.kind === "merge") this.mergeSourceHeartbeat(own, shard, events);
      else this.advance(own, shard, events);
    }
    const source = this.mergeTargets.get(shard.id);
    const merge = source === undefined ? undefined : this.running.get(source);
    if (merge !== undefined && !this.expire(merge, nowMs, events)) {
      this.mergeTargetHeartbeat(merge, shard, events);
    }
    return events;
  }

  /** Times out every operator past its deadline; call on a regular tick. */
  tick(nowMs: number): OperatorEvent[] {
    const events: OperatorEvent[] = [];
    for (const run of [...this.running.values()].sort(byShard)) this.expire(run, nowMs, events);
    // A full bucket is the same as no bucket: forget it, so the map tracks only busy stores.
    for (const [store, bucket] of this.buckets) {
      this.refill(bucket, nowMs);
      if (
        bucket.addTokens >= this.config.storeAddPeersPerMinute &&
        bucket.removeTokens >= this.config.storeRemovePeersPerMinute
      ) {
        this.buckets.delete(store);
      }
    }
    return events;
  }

  /** Cancels the operator on (or merging into) a shard, as an operator asked. */
  cancel(shardId: ShardId): OperatorEvent[] {
    const source = this.mergeTargets.get(shardId) ?? shardId;
    const run = this.running.get(source);
    if (run === undefined) return [];
    this.remove(run.operator);
    return [
      { kind: "cancelled", operator: run.operator, stepIndex: run.stepIndex, reason: "manual" },
    ];
  }

  private expire(run: Running, nowMs: number, events: OperatorEvent[]): boolean {
    const op = run.operator;
    if (nowMs < op.createdAtMs + op.timeoutMs) return false;
    this.remove(op);
    events.push({ kind: "timedOut", operator: op, stepIndex: run.stepIndex });
    return true;
  }

  private advance(run: Running, shard: ShardInfo, events: OperatorEvent[]): void {
    const op = run.operator;
    const hb = shard.epoch;
    const expected = run.expectedEpoch;
    if (epochBefore(hb, expected)) return; // A delayed heartbeat: tells us nothing new.

    if (op.steps[run.stepIndex]?.kind === "splitShard") {
      if (hb.version > expected.version) return this.finish(run, events);
      if (hb.confVersion > expected.confVersion) return this.stale(run, events);
      events.push(sendEvent(run));
      return;
    }
    for (;;) {
      const step = op.steps[run.stepIndex];
      if (step === undefined || !stepFinished(step, shard)) break;
      if (stepChangesConf(step)) {
        run.expectedEpoch = {
          confVersion: run.expectedEpoch.confVersion + 1,
          version: run.expectedEpoch.version,
        };
      }
      run.stepIndex++;
    }
    // A membership step that took effect but has not finished (a learner still receiving
    // its snapshot) has already raised the conf version.
    const current = op.steps[run.stepIndex];
    const inProgress = current !== undefined && stepApplied(current, shard) ? 1 : 0;
    if (
      hb.version !== run.expectedEpoch.version ||
      hb.confVersion > run.expectedEpoch.confVersion + inProgress
    ) {
      return this.stale(run, events);
    }
    if (current === undefined) return this.finish(run, events);
    events.push(sendEvent(run));
  }

  /**
   * The merge source's heartbeats: PrepareMerge raises its version and conf version by one
   * each; anything else means the source changed under the merge.
   */
  private mergeSourceHeartbeat(run: Running, shard: ShardInfo, events: OperatorEvent[]): void {
    const e = run.operator.epoch;
    const hb = shard.epoch;
    if (epochBefore(hb, e)) return;
    if (hb.version === e.version && hb.confVersion === e.confVersion) {
      events.push(sendEvent(run));
      return;
    }
    if (hb.version === e.version + 1 && hb.confVersion === e.confVersion + 1) return;
    this.stale(run, events);
  }

  /** The merge target's heartbeats: done once its range covers the source's. */
  private mergeTargetHeartbeat(run: Running, shard: ShardInfo, events: OperatorEvent[]): void {
    const step = run.operator.steps[0];
    assert(step?.kind === "mergeShard", "a merge operator has one mergeShard step");
    const e = step.targetEpoch;
    const hb = shard.epoch;
    if (epochBefore(hb, e)) return;
    if (hb.confVersion !== e.confVersion) return this.stale(run, events);
    if (hb.version === e.version) return;
    const source = { startKey: step.sourceStartKey, endKey: step.sourceEndKey };
    if (rangeCovers(shard, source)) return this.finish(run, events);
    this.stale(run, events);
  }

  private finish(run: Running, events: OperatorEvent[]): void {
    this.remove(run.operator);
    events.push({ kind: "finished", operator: run.operator });
  }

  private stale(run: Running, events: OperatorEvent[]): void {
    this.remove(run.operator);
    events.push({
      kind: "cancelled",
      operator: run.operator,
      stepIndex: run.stepIndex,
      reason: "staleEpoch",
    });
  }

  private remove(op: Operator): void {
    this.running.delete(op.shardId);
    for (const id of shardsOf(op)) if (id !== op.shardId) this.mergeTargets.delete(id);
  }

  private bucket(store: StoreId, nowMs: number): Bucket {
    let bucket = this.buckets.get(store);
    if (bucket === undefined) {
      bucket = {
        addTokens: this.config.storeAddPeersPerMinute,
        removeTokens: this.config.storeRemovePeersPerMinute,
        lastRefillMs: nowMs,
      };
      this.buckets.set(store, bucket);
    }
    this.refill(bucket, nowMs);
    return bucket;
  }

  private refill(bucket: Bucket, nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - bucket.lastRefillMs);
    const { storeAddPeersPerMinute: addRate, storeRemovePeersPerMinute: removeRate } =
      this.config;
    bucket.addTokens = Math.min(addRate, bucket.addTokens + (elapsedMs * addRate) / 60_000);
    bucket.removeTokens = Math.min(
      removeRate,
      bucket.removeTokens + (elapsedMs * removeRate) / 60_000,
    );
    bucket.lastRefillMs = Math.max(bucket.lastRefillMs, nowMs);
  }
}

/** The shards an operator holds: its own, plus the target of a merge. */
function shardsOf(op: Operator): ShardId[] {
  const ids = [op.shardId];
  for (const step of op.steps) {
    if (step.kind === "mergeShard" && step.targetShardId !== op.shardId) {
      ids.push(step.targetShardId);
    }
  }
  return ids;
}

/** Tokens an operator takes from each store's buckets. */
function storeCost(op: Operator): Map<StoreId, { add: number; remove: number }> {
  const cost = new Map<StoreId, { add: number; remove: number }>();
  for (const step of op.steps) {
    if (step.kind !== "addLearner" && step.kind !== "removePeer") continue;
    const c = cost.get(step.storeId) ?? { add: 0, remove: 0 };
    if (step.kind === "addLearner") c.add++;
    else c.remove++;
    cost.set(step.storeId, c);
  }
  return cost;
}

/** True when the membership change of `step` shows in the shard, finished or not. */
function stepApplied(step: OperatorStep, shard: ShardInfo): boolean {
  if (step.kind === "addLearner") return shard.peers.some((p) => p.storeId === step.storeId);
  return stepChangesConf(step) && stepFinished(step, shard);
}

function epochBefore(a: ShardEpoch, b: ShardEpoch): boolean {
  return a.version < b.version || (a.version === b.version && a.confVersion < b.confVersion);
}

function sendEvent(run: Running): OperatorEvent {
  const step = run.operator.steps[run.stepIndex];
  assert(step !== undefined, "a running operator has a current step");
  return { kind: "send", operator: run.operator, stepIndex: run.stepIndex, step };
}

function byShard(a: Running, b: Running): number {
  return a.operator.shardId - b.operator.shardId;
}

/** One line per event, for logs and test traces. */
export function describeEvent(event: OperatorEvent): string {
  const id = event.operator.id;
  switch (event.kind) {
    case "admitted":
    case "finished":
      return `${event.kind} ${id}`;
    case "rejected":
      return `rejected ${id}: ${event.reason}`;
    case "send":
      return `send ${id} #${event.stepIndex} ${describeStep(event.step)}`;
    case "timedOut":
      return `timedOut ${id} at #${event.stepIndex}`;
    case "cancelled":
      return `cancelled ${id} at #${event.stepIndex}: ${event.reason}`;
  }
}
