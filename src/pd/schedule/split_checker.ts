/**
 * The split checker: a shard that reached `splitSizeBytes` or `splitKeys` is split in the
 * middle (the store finds the key from its size estimates), and a shard serving at least
 * `loadSplitQps` requests per second is split where its sampled load divides evenly, so
 * one hot range can spread over several stores (TiKV's load-based split). Size comes first:
 * a big shard is split by size even when it is also busy. Operators of kind `split`.
 */
import { ErrorCode, TesseraError } from "../../base/mod.ts";
import { busyShardIds, compareKeys, remainingQuota, shardsById } from "./cluster.ts";
import { makeOperator } from "./operator.ts";
import type { Operator, ScheduleInput, SchedulerConfig, ShardInfo } from "./types.ts";

/** Plans splits of oversized and overloaded shards. */
export function checkSplits(input: ScheduleInput): Operator[] {
  let quota = remainingQuota(input, "split");
  const busy = busyShardIds(input.inFlight);
  const { config } = input;
  const out: Operator[] = [];
  for (const shard of shardsById(input.state.shards)) {
    if (quota <= 0) break;
    if (busy.has(shard.id)) continue;
    let op: Operator | undefined;
    if (shard.approximateSizeBytes >= config.splitSizeBytes) {
      op = splitOperator(shard, {
        policy: "approximate",
        description: `split: size ${shard.approximateSizeBytes} B >= ${config.splitSizeBytes} B`,
        nowMs: input.nowMs,
        config,
      });
    } else if (shard.approximateKeys >= config.splitKeys) {
      op = splitOperator(shard, {
        policy: "approximate",
        description: `split: ${shard.approximateKeys} keys >= ${config.splitKeys}`,
        nowMs: input.nowMs,
        config,
      });
    } else if (shard.queriesPerSec >= config.loadSplitQps) {
      op = splitOperator(shard, {
        policy: "loadBased",
        description: `load-based split: ${shard.queriesPerSec} qps >= ${config.loadSplitQps}`,
        nowMs: input.nowMs,
        config,
      });
    }
    if (op === undefined) continue;
    out.push(op);
    quota--;
  }
  return out;
}

/** Options for `splitOperator`. */
export interface SplitOptions {
  readonly policy: "approximate" | "loadBased";
  readonly description: string;
  readonly nowMs: number;
  readonly config: SchedulerConfig;
}

/** A split operator on `shard` letting the store choose the key. */
export function splitOperator(shard: ShardInfo, options: SplitOptions): Operator {
  return makeOperator(shard, "split", {
    steps: [{ kind: "splitShard", policy: options.policy }],
    description: options.description,
    nowMs: options.nowMs,
    config: options.config,
    priority: "normal",
  });
}

/**
 * A split of `shard` at the given keys (`SPLIT TABLE`, `tessera ctl`, import pre-split).
 * Throws `PD:Schedule:BadSplitKey` unless there is a key and every key lies strictly inside
 * the shard, ascending and distinct (keys come from users, so this is not an assertion).
 */
export function splitAtKeys(
  shard: ShardInfo,
  keys: readonly Uint8Array[],
  options: { readonly nowMs: number; readonly config: SchedulerConfig },
): Operator {
  const bad = (why: string): never => {
    throw new TesseraError(ErrorCode.PdScheduleBadSplitKey, `cannot split shard: ${why}`, {
      details: { shardId: shard.id },
    });
  };
  if (keys.length === 0) bad("no split key given");
  keys.forEach((key, i) => {
    if (compareKeys(key, shard.startKey) <= 0) bad(`split key ${i} is not after the start`);
    if (shard.endKey.length > 0 && compareKeys(key, shard.endKey) >= 0) {
      bad(`split key ${i} is not before the end`);
    }
    const prev = keys[i - 1];
    if (prev !== undefined && compareKeys(prev, key) >= 0) bad("split keys must ascend");
  });
  return makeOperator(shard, "split", {
    steps: [{ kind: "splitShard", policy: "byKeys", keys: keys.map((k) => k.slice()) }],
    description: `split at ${keys.length} keys`,
    nowMs: options.nowMs,
    config: options.config,
    priority: "high",
  });
}
