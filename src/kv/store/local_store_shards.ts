/**
 * `LocalStoreShards`: the `StoreShards` contract over one engine with no replication — a
 * set of shards that this store alone holds and leads. Used by the KV server's tests and
 * as a single-node mode until the multi-Raft store serves.
 *
 * Reads check routing (shard known, epoch equal, every key in range) and take an engine
 * snapshot in the same synchronous turn; writes check routing again, every written key
 * against the shard's range, and apply the batch with `sync: true`, resolving once it is
 * durable. The shard set is owned by this object and changes only through `split`, which
 * bumps the parent's version like a Raft split would; a request routed with the old epoch
 * then gets `epochNotMatch` with the shards now covering it.
 */
import { TesseraError, assert } from "../../base/mod.ts";
import type { ShardMeta } from "../../proto/mod.ts";
import { compareBytes } from "../engine/bytes.ts";
import type { Engine, WriteOp } from "../engine/engine.ts";
import { decodeEngineKey } from "../mvcc/keys.ts";
import type { RouteError, ShardContext, ShardSnapshot, StoreShards, ShardWriteOptions }
  from "./store_shards.ts";

/** True when user key `key` lies in `shard`'s range. */
export function shardContainsKey(shard: ShardMeta, key: Uint8Array): boolean {
  if (compareBytes(key, shard.startKey) < 0) return false;
  return shard.endKey.length === 0 || compareBytes(key, shard.endKey) < 0;
}

/** One shard covering the whole key space, with one voter on `storeId`. */
export function wholeKeySpaceShard(options: {
  readonly shardId: number;
  readonly peerId: number;
  readonly storeId: number;
}): ShardMeta {
  return {
    id: options.shardId,
    startKey: new Uint8Array(0),
    endKey: new Uint8Array(0),
    epoch: { confVersion: 1, version: 1 },
    peers: [{ peerId: options.peerId, storeId: options.storeId, role: "voter" }],
  };
}

/** The engine keys a write op touches (both bounds of a range delete). */
function engineKeysOf(op: WriteOp): Uint8Array[] {
  switch (op.kind) {
    case "put":
    case "delete":
      return [op.key];
    case "deleteRange":
      return [op.start];
    default:
      return op satisfies never;
  }
}

/** The user key of an MVCC engine key, or undefined if it is not one (outside every CF). */
function userKeyOf(engineKey: Uint8Array): Uint8Array | undefined {
  try {
    return decodeEngineKey(engineKey).key;
  } catch (error) {
    if (error instanceof TesseraError) return undefined;
    throw error;
  }
}

/** Unreplicated shards over one engine; see the file comment. */
export class LocalStoreShards implements StoreShards {
  private readonly engine: Engine;
  private readonly byId = new Map<number, ShardMeta>();
  private readonly onChange: ((shards: readonly ShardMeta[]) => void) | undefined;

  /** `onChange` is told the new shard set after a split (a node persists it). */
  constructor(
    engine: Engine,
    shards: readonly ShardMeta[],
    options: { readonly onChange?: (shards: readonly ShardMeta[]) => void } = {},
  ) {
    this.engine = engine;
    this.onChange = options.onChange;
    for (const shard of shards) this.byId.set(shard.id, shard);
  }

  read(
    ctx: ShardContext,
    options: { readonly keys: readonly Uint8Array[] },
  ): Promise<{ readonly kind: "ok"; readonly value: ShardSnapshot } | RouteError> {
    const checked = this.check(ctx, options.keys);
    if (checked.kind !== "ok") return Promise.resolve(checked);
    const snapshot = this.engine.snapshot();
    return Promise.resolve({ kind: "ok", value: { shard: checked.shard, snapshot } });
  }

  async write(
    ctx: ShardContext,
    ops: readonly WriteOp[],
    options?: ShardWriteOptions,
  ): Promise<{ readonly kind: "ok" } | RouteError> {
    const checked = this.check(ctx, []);
    if (checked.kind !== "ok") return checked;
    for (const engineKey of ops.flatMap(engineKeysOf)) {
      const key = userKeyOf(engineKey);
      if (key === undefined || !shardContainsKey(checked.shard, key)) {
        return { kind: "keyNotInShard", key: key ?? engineKey, shard: checked.shard };
      }
    }
    options?.onProposed?.();
    if (ops.length > 0) await this.engine.write(ops, { sync: true });
    return { kind: "ok" };
  }

  /** Adds a shard this store now holds (the first shard, at bootstrap). */
  addShard(shard: ShardMeta): void {
    assert(!this.byId.has(shard.id), "shard added twice");
    this.byId.set(shard.id, shard);
    this.onChange?.(this.sortedShards());
  }

  shards(): readonly { readonly shard: ShardMeta; readonly isLeader: boolean }[] {
    return [...this.byId.values()].map((shard) => ({ shard, isLeader: true }));
  }

  /**
   * Splits shard `shardId` at `splitKeys` (ascending, strictly inside it): the parent keeps
   * the first range and each new shard (ids from `newShardIds`, peers from `newPeerIds`)
   * takes the next. Every resulting shard gets the parent's version + 1.
   */
  split(
    shardId: number,
    splitKeys: readonly Uint8Array[],
    options: {
      readonly newShardIds: readonly number[];
      readonly newPeerIds: readonly number[];
      /** Refuse with `epochNotMatch` unless the parent still has this epoch. */
      readonly expectedEpoch?: ShardMeta["epoch"];
    },
  ): { readonly kind: "ok"; readonly shards: readonly ShardMeta[] } | RouteError {
    const parent = this.byId.get(shardId);
    if (parent === undefined) return { kind: "shardNotFound", shardId };
    const expected = options.expectedEpoch;
    if (expected !== undefined && expected.version !== parent.epoch.version) {
      return { kind: "epochNotMatch", current: this.sortedShards() };
    }
    assert(options.newShardIds.length >= splitKeys.length, "a new shard id per split key");
    for (const key of splitKeys) {
      if (!shardContainsKey(parent, key) || compareBytes(key, parent.startKey) === 0) {
        return { kind: "keyNotInShard", key, shard: parent };
      }
    }
    const epoch = { ...parent.epoch, version: parent.epoch.version + 1 };
    const bounds = [parent.startKey, ...splitKeys, parent.endKey];
    const out: ShardMeta[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const id = i === 0 ? parent.id : (options.newShardIds[i - 1] as number);
      const peers =
        i === 0
          ? parent.peers
          : parent.peers.map((p, j) => ({
              ...p,
              peerId: options.newPeerIds[(i - 1) * parent.peers.length + j] ?? p.peerId,
            }));
      out.push({
        id,
        startKey: bounds[i] as Uint8Array,
        endKey: bounds[i + 1] as Uint8Array,
        epoch,
        peers,
      });
    }
    for (const shard of out) this.byId.set(shard.id, shard);
    this.onChange?.(this.sortedShards());
    return { kind: "ok", shards: out };
  }

  private check(
    ctx: ShardContext,
    keys: readonly Uint8Array[],
  ): { readonly kind: "ok"; readonly shard: ShardMeta } | RouteError {
    const shard = this.byId.get(ctx.shardId);
    if (shard === undefined) return { kind: "shardNotFound", shardId: ctx.shardId };
    // Only splits and merges (the version) change which keys a shard holds; a conf change
    // does not reroute reads or writes (the conformance suite's convention).
    if (shard.epoch.version !== ctx.epoch.version) {
      return { kind: "epochNotMatch", current: this.sortedShards() };
    }
    for (const key of keys) {
      if (!shardContainsKey(shard, key)) return { kind: "keyNotInShard", key, shard };
    }
    return { kind: "ok", shard };
  }

  /** Every shard, in key order: few on one unreplicated store, and they cover the old range. */
  private sortedShards(): ShardMeta[] {
    return [...this.byId.values()].sort((a, b) => compareBytes(a.startKey, b.startKey));
  }
}
