/**
 * The balance-shard scheduler (PD's balance-region): evens out the bytes of shard data each
 * store holds. While the fullest healthy store holds more than the tolerance
 * (`max(shardToleranceBytesMin, average * shardToleranceRatio)`) above the emptiest, it moves
 * one replica from a full store to an empty one that holds no peer of that shard. A move
 * must not overshoot (the shard is smaller than half the gap), so stores never trade places.
 * Followers move before leaders (moving a leader adds a leader transfer). Only healthy
 * shards move; sick ones belong to the replica checker.
 */
import {
  applyOperatorToLoads,
  busyShardIds,
  leaderOf,
  peerOnStore,
  remainingQuota,
  shardIsHealthy,
  shardsById,
  storeAcceptsPeer,
  storeIsHealthy,
  storeLoads,
  storeMap,
} from "./cluster.ts";
import type { StoreLoad } from "./cluster.ts";
import { makeOperator, movePeerSteps } from "./operator.ts";
import type { Operator, ScheduleInput, ShardInfo } from "./types.ts";

/** Plans replica moves that even out store sizes. Operators of kind `balanceShard`. */
export function balanceShards(input: ScheduleInput): Operator[] {
  let quota = remainingQuota(input, "balanceShard");
  const busy = busyShardIds(input.inFlight);
  const stores = storeMap(input);
  const loads = storeLoads(input);
  const healthy = [...loads.values()].filter((l) => storeIsHealthy(l.store, input));
  if (healthy.length < 2) return [];
  const average = healthy.reduce((sum, l) => sum + l.shardSizeBytes, 0) / healthy.length;
  const tolerance = Math.max(
    input.config.shardToleranceBytesMin,
    average * input.config.shardToleranceRatio,
  );
  const candidates = shardsById(input.state.shards).filter(
    (s) => !busy.has(s.id) && shardIsHealthy(s, input, stores),
  );

  const out: Operator[] = [];
  while (quota > 0) {
    const planned = planOne(input, healthy, { candidates, tolerance, busy });
    if (planned === undefined) break;
    const op = makeOperator(planned.shard, "balanceShard", {
      steps: movePeerSteps(planned.shard, {
        from: planned.from.store.id,
        to: planned.to.store.id,
        newPeerId: input.allocPeerId(),
      }),
      description:
        `balance shards: store ${planned.from.store.id} (${planned.from.shardSizeBytes} B) -> ` +
        `store ${planned.to.store.id} (${planned.to.shardSizeBytes} B)`,
      nowMs: input.nowMs,
      config: input.config,
      priority: "normal",
    });
    applyOperatorToLoads(op, planned.shard, loads);
    busy.add(planned.shard.id);
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
  input: ScheduleInput,
  healthy: readonly StoreLoad[],
  options: {
    readonly candidates: readonly ShardInfo[];
    readonly tolerance: number;
    readonly busy: ReadonlySet<number>;
  },
): Planned | undefined {
  const sources = [...healthy].sort(
    (a, b) => b.shardSizeBytes - a.shardSizeBytes || a.store.id - b.store.id,
  );
  const targets = [...healthy].sort(
    (a, b) => a.shardSizeBytes - b.shardSizeBytes || a.store.id - b.store.id,
  );
  for (const from of sources) {
    const onSource = options.candidates.filter(
      (s) => !options.busy.has(s.id) && peerOnStore(s, from.store.id) !== undefined,
    );
    // Followers first, then leaders; by shard id within each group.
    const ordered = [
      ...onSource.filter((s) => leaderOf(s)?.storeId !== from.store.id),
      ...onSource.filter((s) => leaderOf(s)?.storeId === from.store.id),
    ];
    for (const to of targets) {
      const gap = from.shardSizeBytes - to.shardSizeBytes;
      if (gap <= options.tolerance) break;
      const shard = ordered.find(
        (s) =>
          peerOnStore(s, to.store.id) === undefined &&
          2 * s.approximateSizeBytes < gap &&
          storeAcceptsPeer(to, input, s.approximateSizeBytes),
      );
      if (shard !== undefined) return { shard, from, to };
    }
  }
  return undefined;
}
