/**
 * The replica checker (PD's replica checker): keeps every shard at `maxReplicas` voters on
 * stores that are alive. In order of urgency, per shard:
 *   1. a peer on a lost store (offline, tombstone, or silent past `maxStoreDownTimeMs`) is
 *      replaced: learner on the best store, promote, remove the lost peer;
 *   2. a stray learner (left behind by an abandoned operator) is promoted if the shard
 *      needs a voter, or removed;
 *   3. a shard short of voters gains one; 4. a shard with too many loses the worst.
 * A shard that lost its quorum cannot commit a membership change and is left alone.
 * New peers only go to healthy stores with room (see `bestTargetStore`).
 */
import type { StoreId } from "../../base/mod.ts";
import {
  applyOperatorToLoads,
  bestTargetStore,
  busyShardIds,
  remainingQuota,
  shardsById,
  storeIsHealthy,
  storeIsLost,
  storeLoads,
  storeMap,
} from "./cluster.ts";
import type { StoreLoad } from "./cluster.ts";
import { addPeerSteps, makeOperator, movePeerSteps, removePeerSteps } from "./operator.ts";
import type {
  Operator,
  OperatorPriority,
  OperatorStep,
  PeerInfo,
  ScheduleInput,
  ShardInfo,
  StoreInfo,
} from "./types.ts";

/** Repairs under-, over- and badly-placed replicas. Operators of kind `replica`. */
export function checkReplicas(input: ScheduleInput): Operator[] {
  let quota = remainingQuota(input, "replica");
  const busy = busyShardIds(input.inFlight);
  const stores = storeMap(input);
  const loads = storeLoads(input);
  const out: Operator[] = [];
  for (const shard of shardsById(input.state.shards)) {
    if (quota <= 0) break;
    if (busy.has(shard.id)) continue;
    const plan = planRepair(shard, input, { stores, loads });
    if (plan === undefined) continue;
    const op = makeOperator(shard, "replica", {
      steps: plan.steps,
      description: plan.description,
      nowMs: input.nowMs,
      config: input.config,
      priority: plan.priority,
    });
    applyOperatorToLoads(op, shard, loads);
    out.push(op);
    quota--;
  }
  return out;
}

interface RepairPlan {
  readonly steps: OperatorStep[];
  readonly description: string;
  readonly priority: OperatorPriority;
}

interface Context {
  readonly stores: ReadonlyMap<StoreId, StoreInfo>;
  readonly loads: Map<StoreId, StoreLoad>;
}

function planRepair(
  shard: ShardInfo,
  input: ScheduleInput,
  ctx: Context,
): RepairPlan | undefined {
  const { maxReplicas } = input.config;
  const isLost = (p: PeerInfo): boolean => storeIsLost(ctx.stores.get(p.storeId), input);
  const healthyStore = (s: StoreId): boolean => {
    const store = ctx.stores.get(s);
    return store !== undefined && storeIsHealthy(store, input);
  };
  const voters = shard.peers.filter((p) => p.role === "voter");
  const lostVoters = voters.filter(isLost);
  if (lostVoters.length * 2 >= voters.length && voters.length > 0) {
    // No quorum: a membership change could never commit. Needs unsafe recovery.
    return undefined;
  }

  // 1. Peers on lost stores, lowest store id first.
  const lost = shard.peers.filter(isLost).sort((a, b) => a.storeId - b.storeId)[0];
  if (lost !== undefined) {
    if (lost.role === "learner") {
      return {
        steps: [{ kind: "removePeer", storeId: lost.storeId, peerId: lost.peerId }],
        description: `remove learner on lost store ${lost.storeId}`,
        priority: "high",
      };
    }
    const target = bestTargetStore(input, shard, ctx.loads);
    if (target !== undefined) {
      return {
        steps: movePeerSteps(shard, {
          from: lost.storeId,
          to: target.store.id,
          newPeerId: input.allocPeerId(),
        }),
        description: `replace peer on lost store ${lost.storeId} with store ${target.store.id}`,
        priority: "urgent",
      };
    }
    if (voters.length > maxReplicas) {
      const steps = removePeerSteps(shard, lost.storeId, { leaderAllowed: healthyStore });
      if (steps === undefined) return undefined;
      const description = `remove extra peer on lost store ${lost.storeId}`;
      return { steps, description, priority: "high" };
    }
    return undefined;
  }

  // 2. Stray learners.
  const learner = shard.peers
    .filter((p) => p.role === "learner" && !shard.pendingPeerIds.includes(p.peerId))
    .sort((a, b) => a.storeId - b.storeId)[0];
  if (learner !== undefined) {
    if (voters.length < maxReplicas && healthyStore(learner.storeId)) {
      return {
        steps: [{ kind: "promoteLearner", storeId: learner.storeId, peerId: learner.peerId }],
        description: `promote stray learner on store ${learner.storeId}`,
        priority: "high",
      };
    }
    return {
      steps: [{ kind: "removePeer", storeId: learner.storeId, peerId: learner.peerId }],
      description: `remove stray learner on store ${learner.storeId}`,
      priority: "normal",
    };
  }

  // 3. Too few voters.
  if (voters.length < maxReplicas) {
    const target = bestTargetStore(input, shard, ctx.loads);
    if (target === undefined) return undefined;
    return {
      steps: addPeerSteps(target.store.id, input.allocPeerId()),
      description: `add missing replica on store ${target.store.id}`,
      priority: "high",
    };
  }

  // 4. Too many voters: remove the one on the least healthy, then most loaded, store.
  if (voters.length > maxReplicas) {
    const worst = [...voters].sort((a, b) => {
      const ha = healthyStore(a.storeId) ? 1 : 0;
      const hb = healthyStore(b.storeId) ? 1 : 0;
      if (ha !== hb) return ha - hb;
      const la = ctx.loads.get(a.storeId)?.shardSizeBytes ?? 0;
      const lb = ctx.loads.get(b.storeId)?.shardSizeBytes ?? 0;
      if (la !== lb) return lb - la;
      return a.storeId - b.storeId;
    })[0];
    if (worst === undefined) return undefined;
    const steps = removePeerSteps(shard, worst.storeId, { leaderAllowed: healthyStore });
    if (steps === undefined) return undefined;
    return {
      steps,
      description: `remove extra replica on store ${worst.storeId}`,
      priority: "normal",
    };
  }
  return undefined;
}
