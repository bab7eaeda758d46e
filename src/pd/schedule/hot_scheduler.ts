/**
 * The hot-shard scheduler (PD's hot-region scheduler), from the read/write flow shards
 * report. A shard is read-hot when its read bytes/s or keys/s reach the configured
 * thresholds, write-hot likewise for writes. Store load is measured in bytes/s of hot
 * shards only, so cold bulk traffic does not trigger moves.
 *
 * - Reads are served by leaders, so hot read load is spread by moving the leaders of hot
 *   shards (a `hotLeader` transfer to a store already holding a voter).
 * - Writes land on every replica, so hot write load is spread by moving hot peers to
 *   stores without one (a `hotPeer` move).
 *
 * A move happens only when the source carries more than `(1 + hotToleranceRatio)` times the
 * target's load and the target stays below the source's current load after the move, so a
 * single hot shard never ping-pongs between two stores. Hottest shards are tried first.
 */
import type { StoreId } from "../../base/mod.ts";
import {
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
import { makeOperator, movePeerSteps } from "./operator.ts";
import type { Operator, ScheduleInput, SchedulerConfig, ShardInfo } from "./types.ts";

/** True when the shard's read flow reaches either hot-read threshold. */
export function isReadHot(shard: ShardInfo, config: SchedulerConfig): boolean {
  return (
    shard.readBytesPerSec >= config.hotReadBytesPerSec ||
    shard.readKeysPerSec >= config.hotReadKeysPerSec
  );
}

/** True when the shard's write flow reaches either hot-write threshold. */
export function isWriteHot(shard: ShardInfo, config: SchedulerConfig): boolean {
  return (
    shard.writeBytesPerSec >= config.hotWriteBytesPerSec ||
    shard.writeKeysPerSec >= config.hotWriteKeysPerSec
  );
}

/** Spreads the leaders of read-hot shards. Operators of kind `hotLeader`. */
export function scheduleHotReads(input: ScheduleInput): Operator[] {
  let quota = remainingQuota(input, "hotLeader");
  const busy = busyShardIds(input.inFlight);
  const stores = storeMap(input);
  const healthy = new Set(
    input.state.stores.filter((s) => storeIsHealthy(s, input)).map((s) => s.id),
  );
  const hot = shardsById(input.state.shards)
    .filter((s) => isReadHot(s, input.config))
    .sort((a, b) => b.readBytesPerSec - a.readBytesPerSec || a.id - b.id);

  // Hot read bytes/s led by each store, with in-flight transfers counted as done.
  const load = new Map<StoreId, number>([...healthy].map((id) => [id, 0]));
  const leaderStore = new Map<number, StoreId>();
  for (const shard of hot) {
    const leader = leaderOf(shard);
    if (leader === undefined) continue;
    let at = leader.storeId;
    for (const op of input.inFlight) {
      if (op.shardId !== shard.id) continue;
      for (const step of op.steps) if (step.kind === "transferLeader") at = step.toStoreId;
    }
    leaderStore.set(shard.id, at);
    load.set(at, (load.get(at) ?? 0) + shard.readBytesPerSec);
  }

  const out: Operator[] = [];
  const tolerance = 1 + input.config.hotToleranceRatio;
  for (const shard of hot) {
    if (quota <= 0) break;
    if (busy.has(shard.id) || !shardIsHealthy(shard, input, stores)) continue;
    const from = leaderStore.get(shard.id);
    if (from === undefined || !healthy.has(from)) continue;
    const fromLoad = load.get(from) ?? 0;
    const flow = shard.readBytesPerSec;
    const to = shard.peers
      .filter((p) => p.role === "voter" && p.storeId !== from && healthy.has(p.storeId))
      .map((p) => p.storeId)
      .sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || a - b)[0];
    if (to === undefined) continue;
    const toLoad = load.get(to) ?? 0;
    if (!(fromLoad > toLoad * tolerance && toLoad + flow < fromLoad)) continue;
    out.push(
      makeOperator(shard, "hotLeader", {
        steps: [{ kind: "transferLeader", fromStoreId: from, toStoreId: to }],
        description: `spread hot read leader (${flow} B/s): store ${from} -> store ${to}`,
        nowMs: input.nowMs,
        config: input.config,
        priority: "high",
      }),
    );
    load.set(from, fromLoad - flow);
    load.set(to, toLoad + flow);
    busy.add(shard.id);
    quota--;
  }
  return out;
}

/** Spreads the peers of write-hot shards. Operators of kind `hotPeer`. */
export function scheduleHotWrites(input: ScheduleInput): Operator[] {
  let quota = remainingQuota(input, "hotPeer");
  const busy = busyShardIds(input.inFlight);
  const stores = storeMap(input);
  const loads = storeLoads(input);
  const healthy = new Set(
    input.state.stores.filter((s) => storeIsHealthy(s, input)).map((s) => s.id),
  );
  const hot = shardsById(input.state.shards)
    .filter((s) => isWriteHot(s, input.config))
    .sort((a, b) => b.writeBytesPerSec - a.writeBytesPerSec || a.id - b.id);

  // Hot write bytes/s landing on each store, with in-flight peer moves counted as done.
  const load = new Map<StoreId, number>([...healthy].map((id) => [id, 0]));
  for (const shard of hot) {
    const at = new Set(shard.peers.map((p) => p.storeId));
    for (const op of input.inFlight) {
      if (op.shardId !== shard.id) continue;
      for (const step of op.steps) {
        if (step.kind === "addLearner") at.add(step.storeId);
        if (step.kind === "removePeer") at.delete(step.storeId);
      }
    }
    for (const id of at) load.set(id, (load.get(id) ?? 0) + shard.writeBytesPerSec);
  }

  const out: Operator[] = [];
  const tolerance = 1 + input.config.hotToleranceRatio;
  for (const shard of hot) {
    if (quota <= 0) break;
    if (busy.has(shard.id) || !shardIsHealthy(shard, input, stores)) continue;
    const flow = shard.writeBytesPerSec;
    const from = shard.peers
      .map((p) => p.storeId)
      .sort((a, b) => (load.get(b) ?? 0) - (load.get(a) ?? 0) || a - b)[0];
    if (from === undefined) continue;
    const fromLoad = load.get(from) ?? 0;
    const to = [...healthy]
      .filter((id) => peerOnStore(shard, id) === undefined)
      .filter((id) => {
        const l = loads.get(id);
        return l !== undefined && storeAcceptsPeer(l, input, shard.approximateSizeBytes);
      })
      .sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || a - b)[0];
    if (to === undefined) continue;
    const toLoad = load.get(to) ?? 0;
    if (!(fromLoad > toLoad * tolerance && toLoad + flow < fromLoad)) continue;
    out.push(
      makeOperator(shard, "hotPeer", {
        steps: movePeerSteps(shard, { from, to, newPeerId: input.allocPeerId() }),
        description: `spread hot write peer (${flow} B/s): store ${from} -> store ${to}`,
        nowMs: input.nowMs,
        config: input.config,
        priority: "high",
      }),
    );
    load.set(from, fromLoad - flow);
    load.set(to, toLoad + flow);
    busy.add(shard.id);
    quota--;
  }
  return out;
}
