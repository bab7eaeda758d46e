/**
 * Building operators and judging their steps against a shard heartbeat.
 *
 * Step sequences follow PD: a peer is added as a learner, promoted once it caught up, and
 * only then is the old peer removed, so a shard never drops below its replica count while
 * data moves. A leader is never removed directly: leadership is transferred first. Each
 * membership step raises the shard's conf version by one, a split or merge raises its
 * version, and a leader transfer changes neither; the controller relies on this to tell
 * the effect of its own steps from foreign changes that make an operator stale.
 */
import { assert } from "../../base/mod.ts";
import type { PeerId, StoreId } from "../../base/mod.ts";
import { compareKeys, leaderOf, peerOnStore } from "./cluster.ts";
import type {
  Operator,
  OperatorKind,
  OperatorPriority,
  OperatorStep,
  SchedulerConfig,
  ShardInfo,
} from "./types.ts";

/** Options for `makeOperator`. */
export interface MakeOperatorOptions {
  readonly steps: readonly OperatorStep[];
  readonly description: string;
  readonly nowMs: number;
  readonly config: SchedulerConfig;
  readonly priority: OperatorPriority;
}

/** An operator of `kind` on `shard`, stamped with the shard's current epoch. */
export function makeOperator(
  shard: ShardInfo,
  kind: OperatorKind,
  options: MakeOperatorOptions,
): Operator {
  assert(options.steps.length > 0, "an operator needs at least one step");
  return {
    id: `${kind}/${shard.id}/${options.nowMs}`,
    shardId: shard.id,
    epoch: shard.epoch,
    kind,
    description: options.description,
    steps: options.steps,
    createdAtMs: options.nowMs,
    timeoutMs: options.config.operatorTimeoutsMs[kind],
    priority: options.priority,
  };
}

/** Adds a voter on `storeId`: as a learner first, promoted once it has caught up. */
export function addPeerSteps(storeId: StoreId, peerId: PeerId): OperatorStep[] {
  return [
    { kind: "addLearner", storeId, peerId },
    { kind: "promoteLearner", storeId, peerId },
  ];
}

/**
 * Removes the shard's peer on `storeId`. If it is the leader, leadership first moves to
 * `leaderTo` (or, when absent, to the first other voter by store id on an allowed store).
 * Returns undefined when the leader has nowhere to go.
 */
export function removePeerSteps(
  shard: ShardInfo,
  storeId: StoreId,
  options: { readonly leaderTo?: StoreId; readonly leaderAllowed: (s: StoreId) => boolean },
): OperatorStep[] | undefined {
  const peer = peerOnStore(shard, storeId);
  assert(peer !== undefined, `shard ${shard.id} has no peer on store ${storeId}`);
  const steps: OperatorStep[] = [];
  if (leaderOf(shard)?.storeId === storeId) {
    const to =
      options.leaderTo ??
      shard.peers
        .filter((p) => p.role === "voter" && p.storeId !== storeId)
        .filter((p) => options.leaderAllowed(p.storeId))
        .sort((a, b) => a.storeId - b.storeId)[0]?.storeId;
    if (to === undefined) return undefined;
    steps.push({ kind: "transferLeader", fromStoreId: storeId, toStoreId: to });
  }
  steps.push({ kind: "removePeer", storeId, peerId: peer.peerId });
  return steps;
}

/**
 * Moves the shard's peer from one store to another: add a learner, promote it, hand over
 * leadership to it if the old peer leads, then remove the old peer.
 */
export function movePeerSteps(
  shard: ShardInfo,
  move: { readonly from: StoreId; readonly to: StoreId; readonly newPeerId: PeerId },
): OperatorStep[] {
  const remove = removePeerSteps(shard, move.from, {
    leaderTo: move.to,
    leaderAllowed: () => true,
  });
  assert(remove !== undefined, "a move always has a leader target");
  return [...addPeerSteps(move.to, move.newPeerId), ...remove];
}

/** True when the step changes the shard's membership (and so its conf version). */
export function stepChangesConf(step: OperatorStep): boolean {
  switch (step.kind) {
    case "addLearner":
    case "promoteLearner":
    case "removePeer":
      return true;
    case "transferLeader":
    case "splitShard":
    case "mergeShard":
      return false;
  }
}

/**
 * True when the heartbeat shows the step took effect. A learner counts as added only once
 * it is no longer pending (it applied its snapshot), so it is never promoted too early.
 */
export function stepFinished(step: OperatorStep, shard: ShardInfo): boolean {
  switch (step.kind) {
    case "addLearner": {
      const peer = peerOnStore(shard, step.storeId);
      return peer !== undefined && !shard.pendingPeerIds.includes(peer.peerId);
    }
    case "promoteLearner":
      return peerOnStore(shard, step.storeId)?.role === "voter";
    case "removePeer":
      return peerOnStore(shard, step.storeId) === undefined;
    case "transferLeader":
      return leaderOf(shard)?.storeId === step.toStoreId;
    case "splitShard":
      // Judged against the operator's epoch by the controller, not from the shard alone.
      return false;
    case "mergeShard":
      return false;
  }
}

/** A key range `[startKey, endKey)`; an empty end key means the end of the key space. */
export interface KeyRange {
  readonly startKey: Uint8Array;
  readonly endKey: Uint8Array;
}

/** True when `outer` covers the whole of `inner`. */
export function rangeCovers(outer: KeyRange, inner: KeyRange): boolean {
  if (compareKeys(outer.startKey, inner.startKey) > 0) return false;
  if (outer.endKey.length === 0) return true;
  if (inner.endKey.length === 0) return false;
  return compareKeys(outer.endKey, inner.endKey) >= 0;
}

/** A short description of a step, for logs and test traces. */
export function describeStep(step: OperatorStep): string {
  switch (step.kind) {
    case "addLearner":
    case "promoteLearner":
    case "removePeer":
      return `${step.kind}(store ${step.storeId}, peer ${step.peerId})`;
    case "transferLeader":
      return `transferLeader(store ${step.fromStoreId} -> ${step.toStoreId})`;
    case "splitShard":
      return `splitShard(${step.policy}${step.keys ? `, ${step.keys.length} keys` : ""})`;
    case "mergeShard":
      return `mergeShard(shard ${step.sourceShardId} into ${step.targetShardId})`;
  }
}
