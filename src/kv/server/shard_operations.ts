/**
 * `ShardOperations`: what a store does when PD (or a client's split request) asks it to
 * change a shard — transfer its leader, add a learner, promote it, remove a peer, split.
 *
 * The multi-Raft store implements it with Raft conf changes and split proposals;
 * `LocalShardOperations` serves an unreplicated `LocalStoreShards`, which has no peers to
 * move: membership steps answer `unsupported` (the node logs them), and a split is done
 * in place with ids from `allocIds`.
 */
import type { ShardMeta, ShardOperatorStep } from "../../proto/mod.ts";
import type { LocalStoreShards } from "../store/local_store_shards.ts";
import type { RouteError, ShardContext } from "../store/store_shards.ts";

/** The outcome of a shard operation. */
export type ShardOperationResult<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "unsupported"; readonly reason: string }
  | RouteError;

/** Shard changes a store can carry out. */
export interface ShardOperations {
  /** Carries out one PD operator step on shard `shardId` (this store leads it). */
  executeStep(shardId: number, step: ShardOperatorStep): Promise<ShardOperationResult<null>>;
  /** Splits the shard at `splitKeys`; resolves with the shards now covering its range. */
  split(
    ctx: ShardContext,
    splitKeys: readonly Uint8Array[],
  ): Promise<ShardOperationResult<readonly ShardMeta[]>>;
}

/** Shard operations of an unreplicated store; see the file comment. */
export class LocalShardOperations implements ShardOperations {
  private readonly store: LocalStoreShards;
  private readonly allocIds: (count: number) => Promise<number>;

  constructor(options: {
    readonly store: LocalStoreShards;
    /** `count` fresh, consecutive ids; resolves with the first (PD's `allocIds`). */
    readonly allocIds: (count: number) => Promise<number>;
  }) {
    this.store = options.store;
    this.allocIds = options.allocIds;
  }

  async executeStep(
    shardId: number,
    step: ShardOperatorStep,
  ): Promise<ShardOperationResult<null>> {
    if (step.kind === "splitShard" && step.keys !== undefined && step.keys.length > 0) {
      const shard = this.store.shards().find((s) => s.shard.id === shardId)?.shard;
      if (shard === undefined) return { kind: "shardNotFound", shardId };
      const result = await this.split({ shardId, epoch: shard.epoch }, step.keys);
      return result.kind === "ok" ? { kind: "ok", value: null } : result;
    }
    return {
      kind: "unsupported",
      reason: `${step.kind} needs a replicated store; this node runs unreplicated shards`,
    };
  }

  async split(
    ctx: ShardContext,
    splitKeys: readonly Uint8Array[],
  ): Promise<ShardOperationResult<readonly ShardMeta[]>> {
    const shard = this.store.shards().find((s) => s.shard.id === ctx.shardId)?.shard;
    if (shard === undefined) return { kind: "shardNotFound", shardId: ctx.shardId };
    const perShard = 1 + shard.peers.length;
    const first = await this.allocIds(splitKeys.length * perShard);
    const newShardIds = splitKeys.map((_, i) => first + i * perShard);
    const newPeerIds = splitKeys.flatMap((_, i) =>
      shard.peers.map((_p, j) => first + i * perShard + 1 + j),
    );
    // The epoch may have moved while the ids were allocated: check it against the store.
    const result = this.store.split(ctx.shardId, splitKeys, {
      newShardIds,
      newPeerIds,
      expectedEpoch: ctx.epoch,
    });
    return result.kind === "ok" ? { kind: "ok", value: result.shards } : result;
  }
}
