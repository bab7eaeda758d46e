/**
 * The contract between a KV node's RPC layer (`kv/server`) and its replicated shards
 * (`kv/store`, multi-Raft on the engine).
 *
 * The server runs Percolator actions the way TiKV's scheduler does: it takes the keys'
 * latches, asks the store for a read snapshot of the shard (`read`: served by the leader
 * from its lease or after a ReadIndex round, so it is linearizable), computes the action on
 * that snapshot (pure `kv/txn` code), hands the resulting writes to `write` (one Raft
 * proposal, resolved once applied on this leader), and then releases the latches. Every
 * call names the shard and the epoch the client routed with; a mismatch comes back as a
 * `RouteError` the client can act on (refresh its cache, follow the leader hint, retry).
 *
 * Two implementations: `MultiRaftStore` (production: Raft-replicated shards) and
 * `LocalStoreShards` (one unreplicated shard over an engine, for server tests and a
 * single-node mode). Both must pass one conformance suite.
 */
import type { RouteError, ShardContext, ShardMeta } from "../../proto/mod.ts";
import type { EngineSnapshot, WriteOp } from "../engine/engine.ts";

/**
 * What a client names with each request (the shard and the epoch it routed with), and why
 * a request could not be served: the wire types of `proto/kv.ts`, used here unchanged so
 * the RPC layer passes them through without conversion.
 */
export type { RouteError, ShardContext };

/** A read snapshot of one shard, consistent and linearizable. Release it when done. */
export interface ShardSnapshot {
  readonly shard: ShardMeta;
  readonly snapshot: EngineSnapshot;
  /**
   * The Raft term of the leadership the snapshot was read under; absent on unreplicated
   * stores (one leader forever). A change tells the scheduler to sync its max read ts.
   */
  readonly leaderTerm?: number;
}

/** Options of `StoreShards.write`. */
export interface ShardWriteOptions {
  /** Called when the write is proposed (TiKV's pipelined pessimistic lock replies then). */
  readonly onProposed?: () => void;
}

/** The replicated shards of one store, as the RPC layer sees them. */
export interface StoreShards {
  /**
   * A linearizable snapshot of the shard after checking routing: every key in `keys` (and
   * the range, if given) must lie in the shard.
   */
  read(
    ctx: ShardContext,
    options: { readonly keys: readonly Uint8Array[] },
  ): Promise<{ readonly kind: "ok"; readonly value: ShardSnapshot } | RouteError>;
  /**
   * Replicates `ops` as one atomic batch and resolves once it is applied on this peer.
   * Every key written must lie in the shard (checked again at apply time against the epoch).
   * `onProposed` is called once the batch is accepted for replication (proposed to Raft
   * by the leader; at once on an unreplicated store), before it is durable or applied;
   * not at all when it is refused outright.
   */
  write(
    ctx: ShardContext,
    ops: readonly WriteOp[],
    options?: ShardWriteOptions,
  ): Promise<{ readonly kind: "ok" } | RouteError>;
  /** Shards this store holds a peer of, with whether that peer leads. */
  shards(): readonly { readonly shard: ShardMeta; readonly isLeader: boolean }[];
}
