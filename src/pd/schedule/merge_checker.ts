/**
 * The merge checker (PD's merge checker): folds a small, cold shard into an adjacent one so
 * the cluster does not drown in tiny Raft groups. A source qualifies when it is below both
 * `mergeSizeBytes` and `mergeKeys`; the source and its target must both be healthy, cold
 * (neither read- nor write-hot, below the load-split rate), idle (no operator in flight),
 * not split within `splitMergeIntervalMs`, have peers on exactly the same stores (TiKV
 * merges peer by peer), and together stay below the split thresholds, or the merged shard
 * would be split again at once. Of two qualifying neighbours the smaller wins; on a tie the
 * left one. Each operator runs on the source and names the target, which counts as busy.
 */
import {
  busyShardIds,
  compareKeys,
  keysEqual,
  remainingQuota,
  shardIsHealthy,
  storeMap,
} from "./cluster.ts";
import { isReadHot, isWriteHot } from "./hot_scheduler.ts";
import { makeOperator } from "./operator.ts";
import type { Operator, ScheduleInput, ShardInfo } from "./types.ts";

/** Plans merges of small cold shards into a neighbour. Operators of kind `merge`. */
export function checkMerges(input: ScheduleInput): Operator[] {
  let quota = remainingQuota(input, "merge");
  const { config, nowMs } = input;
  const busy = busyShardIds(input.inFlight);
  const stores = storeMap(input);
  const byKey = [...input.state.shards].sort(
    (a, b) => compareKeys(a.startKey, b.startKey) || a.id - b.id,
  );
  const mergeable = (s: ShardInfo): boolean =>
    !busy.has(s.id) &&
    !isReadHot(s, config) &&
    !isWriteHot(s, config) &&
    s.queriesPerSec < config.loadSplitQps &&
    (s.lastSplitMs === undefined || nowMs - s.lastSplitMs >= config.splitMergeIntervalMs) &&
    shardIsHealthy(s, input, stores);

  const out: Operator[] = [];
  byKey.forEach((source, i) => {
    if (quota <= 0) return;
    const small =
      source.approximateSizeBytes < config.mergeSizeBytes &&
      source.approximateKeys < config.mergeKeys;
    if (!small || !mergeable(source)) return;
    const prev = byKey[i - 1];
    const next = byKey[i + 1];
    const neighbours: ShardInfo[] = [];
    if (prev !== undefined && keysEqual(prev.endKey, source.startKey)) neighbours.push(prev);
    if (next !== undefined && source.endKey.length > 0 && keysEqual(next.startKey, source.endKey)) {
      neighbours.push(next);
    }
    const target = neighbours
      .filter(
        (t) =>
          mergeable(t) &&
          sameStores(source, t) &&
          source.approximateSizeBytes + t.approximateSizeBytes < config.splitSizeBytes &&
          source.approximateKeys + t.approximateKeys < config.splitKeys,
      )
      .sort((a, b) => a.approximateSizeBytes - b.approximateSizeBytes)[0];
    if (target === undefined) return;
    out.push(
      makeOperator(source, "merge", {
        steps: [
          {
            kind: "mergeShard",
            sourceShardId: source.id,
            targetShardId: target.id,
            targetEpoch: target.epoch,
            sourceStartKey: source.startKey,
            sourceEndKey: source.endKey,
          },
        ],
        description:
          `merge shard ${source.id} (${source.approximateSizeBytes} B) into ` +
          `shard ${target.id} (${target.approximateSizeBytes} B)`,
        nowMs,
        config,
        priority: "low",
      }),
    );
    busy.add(source.id);
    busy.add(target.id);
    quota--;
  });
  return out;
}

/** True when both shards have peers on exactly the same set of stores. */
function sameStores(a: ShardInfo, b: ShardInfo): boolean {
  if (a.peers.length !== b.peers.length) return false;
  const stores = new Set(a.peers.map((p) => p.storeId));
  return b.peers.every((p) => stores.has(p.storeId));
}
