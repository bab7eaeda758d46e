/**
 * The balance-leader scheduler (PD's balance-leader): evens out how many shards each store
 * leads, since leaders serve all reads and writes of their shard. While the store with the
 * most leaders leads more than `max(1, average * leaderToleranceRatio)` more than the one
 * with the fewest, it moves one leader from a heavy store to a light one that already holds
 * a voter of the shard (a leader transfer moves no data). Only healthy stores take part.
 * Counts include the effect of operators in flight and of those planned earlier this round.
 */
import type { StoreId } from "../../base/mod.ts";
import {
  applyOperatorToLoads,
  busyShardIds,
  leaderOf,
  peerOnStore,
  remainingQuota,
  shardsById,
  storeIsHealthy,
  storeLoads,
} from "./cluster.ts";
import type { StoreLoad } from "./cluster.ts";
import { makeOperator } from "./operator.ts";
import type { Operator, ScheduleInput, ShardInfo } from "./types.ts";

/** Plans leader transfers that even out leader counts. Operators of kind `balanceLeader`. */
export function balanceLeaders(input: ScheduleInput): Operator[] {
  let quota = remainingQuota(input, "balanceLeader");
  const busy = busyShardIds(input.inFlight);
  const loads = storeLoads(input);
  const healthy = [...loads.values()].filter((l) => storeIsHealthy(l.store, input));
  if (healthy.length < 2) return [];
  const total = healthy.reduce((sum, l) => sum + l.leaderCount, 0);
  const tolerance = Math.max(1, (total / healthy.length) * input.config.leaderToleranceRatio);

  // Shards by the store of their leader, each list by shard id.
  const ledBy = new Map<StoreId, ShardInfo[]>();
  for (const shard of shardsById(input.state.shards)) {
    const leader = leaderOf(shard);
    if (leader === undefined || busy.has(shard.id)) continue;
    const list = ledBy.get(leader.storeId) ?? [];
    list.push(shard);
    ledBy.set(leader.storeId, list);
  }

  const out: Operator[] = [];
  while (quota > 0) {
    const busyNow = new Set(out.map((o) => o.shardId));
    const planned = planOne(healthy, ledBy, { tolerance, busy: busyNow });
    if (planned === undefined) break;
    const { from, to } = planned;
    const op = makeOperator(planned.shard, "balanceLeader", {
      steps: [{ kind: "transferLeader", fromStoreId: from.store.id, toStoreId: to.store.id }],
      description:
        `balance leaders: store ${planned.from.store.id} (${planned.from.leaderCount}) -> ` +
        `store ${planned.to.store.id} (${planned.to.leaderCount})`,
      nowMs: input.nowMs,
      config: input.config,
      priority: "normal",
    });
    applyOperatorToLoads(op, planned.shard, loads);
    out.push(op);
    quota--;
  }
  return out;
}

interface Planned {
  readonly shard: ShardInfo;
  readonly from: StoreLoad;
  readonly to: StoreLoad;
}

function planOne(
  healthy: readonly StoreLoad[],
  ledBy: ReadonlyMap<StoreId, readonly ShardInfo[]>,
  options: { readonly tolerance: number; readonly busy: ReadonlySet<number> },
): Planned | undefined {
  const sources = [...healthy].sort(
    (a, b) => b.leaderCount - a.leaderCount || a.store.id - b.store.id,
  );
  const targets = [...healthy].sort(
    (a, b) => a.leaderCount - b.leaderCount || a.store.id - b.store.id,
  );
  for (const from of sources) {
    for (const to of targets) {
      // Targets only get heavier from here on, so no later one qualifies either.
      if (from.leaderCount - to.leaderCount <= options.tolerance) break;
      for (const shard of ledBy.get(from.store.id) ?? []) {
        if (options.busy.has(shard.id)) continue;
        const peer = peerOnStore(shard, to.store.id);
        if (peer === undefined || peer.role !== "voter") continue;
        if (shard.pendingPeerIds.includes(peer.peerId)) continue;
        return { shard, from, to };
      }
    }
  }
  return undefined;
}
