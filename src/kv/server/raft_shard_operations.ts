/**
 * `RaftShardOperations`: `ShardOperations` of a `MultiRaftStore` — PD's operator steps
 * (add a learner, promote it, remove a peer, transfer the leader, split, merge) become
 * Raft conf changes, leader transfers, split and merge proposals on this store's leader
 * peer. A split without keys (policy `approximate` or `loadBased`) splits at the shard's
 * approximate middle user key; a merge runs on the source's leader (`MultiRaftStore.merge`).
 *
 * Ids of new shards and their peers come from PD's allocator (`allocIds`, a block per
 * split). A split at several keys is a series of single splits from the highest key down,
 * so every split is proposed on the original shard, which this store leads, and only the
 * first one checks the caller's epoch (each later one uses the epoch the previous split
 * left). Steps the store cannot carry out now (a shard with no middle key, a merge that
 * must wait or was rolled back) answer `unsupported`; PD times the operator out and plans
 * again.
 */
import type { ShardMeta, ShardOperatorStep } from "../../proto/mod.ts";
import { compareBytes } from "../engine/bytes.ts";
import type { AdminResult, MultiRaftStore } from "../store/multi_raft_store.ts";
import type { ShardContext } from "../store/store_shards.ts";
import type { ShardOperationResult, ShardOperations } from "./shard_operations.ts";

/** Shard operations of a replicated store; see the file comment. */
export class RaftShardOperations implements ShardOperations {
  private readonly store: MultiRaftStore;
  private readonly allocIds: (count: number) => Promise<number>;

  constructor(options: {
    readonly store: MultiRaftStore;
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
    if (step.kind === "splitShard") {
      const shard = this.local(shardId);
      if (shard === undefined) return { kind: "shardNotFound", shardId };
      const keys = step.keys !== undefined && step.keys.length > 0
        ? step.keys
        : [this.store.splitKey(shardId)].filter((k) => k !== undefined);
      if (keys.length === 0) {
        return { kind: "unsupported", reason: `shard ${shardId} has no middle key to split at` };
      }
      const result = await this.split({ shardId, epoch: shard.epoch }, keys);
      return result.kind === "ok" ? { kind: "ok", value: null } : result;
    }
    const result = await this.store.executeStep(shardId, step, {
      allocId: () => this.allocIds(1),
    });
    return result.kind === "ok" ? { kind: "ok", value: null } : notDone(result);
  }

  async split(
    ctx: ShardContext,
    splitKeys: readonly Uint8Array[],
  ): Promise<ShardOperationResult<readonly ShardMeta[]>> {
    const original = this.local(ctx.shardId);
    if (original === undefined) return { kind: "shardNotFound", shardId: ctx.shardId };
    const keys = [...splitKeys].sort((a, b) => compareBytes(b, a));
    let epoch = ctx.epoch;
    let previous: Uint8Array | undefined;
    for (const splitKey of keys) {
      if (previous !== undefined && compareBytes(previous, splitKey) === 0) continue;
      previous = splitKey;
      const current = this.local(ctx.shardId);
      if (current === undefined) return { kind: "shardNotFound", shardId: ctx.shardId };
      const first = await this.allocIds(1 + current.peers.length);
      const newPeerIds = current.peers.map((_, i) => first + 1 + i);
      const result = await this.store.split(
        { shardId: ctx.shardId, epoch },
        { splitKey, newShardId: first, newPeerIds },
      );
      if (result.kind !== "ok") return notDone(result);
      const after = this.local(ctx.shardId);
      if (after === undefined) return { kind: "shardNotFound", shardId: ctx.shardId };
      epoch = after.epoch;
    }
    const covering = this.store
      .shards()
      .map((s) => s.shard)
      .filter((s) => overlaps(s, original))
      .sort((a, b) => compareBytes(a.startKey, b.startKey));
    return { kind: "ok", value: covering };
  }

  private local(shardId: number): ShardMeta | undefined {
    return this.store.shards().find((s) => s.shard.id === shardId)?.shard;
  }
}

/** An admin request that did not happen, as a shard operation's outcome. */
function notDone(
  result: Exclude<AdminResult, { readonly kind: "ok" }>,
): Exclude<ShardOperationResult<never>, { readonly kind: "ok" }> {
  return result.kind === "refused" ? { kind: "unsupported", reason: result.reason } : result;
}

function overlaps(a: ShardMeta, b: ShardMeta): boolean {
  const aEndsBeforeB = a.endKey.length > 0 && compareBytes(a.endKey, b.startKey) <= 0;
  const bEndsBeforeA = b.endKey.length > 0 && compareBytes(b.endKey, a.startKey) <= 0;
  return !aEndsBeforeB && !bEndsBeforeA;
}
