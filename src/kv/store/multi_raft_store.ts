/**
 * `MultiRaftStore`: the production `StoreShards` — every shard this store holds a peer
 * of, each a Raft group whose log, hard state and applied state live in the store's one
 * engine next to the data (`kv/shard`).
 *
 * The store owns the set of peers (by shard id), the tombstones of removed peers, one tick
 * timer and the outbox. The timer ticks only peers that are not hibernating, so thousands
 * of idle shards cost nothing; `ticks` and `heartbeatsSent` count what it did (plain
 * numbers for metrics). Messages of all peers for one store are batched and handed to the
 * `RaftTransport` once per flush. On open the store recovers every peer from the engine;
 * on a first start with `bootstrap` it founds the first shard (the whole key space) with
 * the given initial peers, as every founding store does with the same meta.
 *
 * A message for a shard this store has no peer of creates an uninitialized peer, which
 * holds nothing until the leader's snapshot arrives (how added peers and a split's
 * lagging peers join). A snapshot whose range overlaps another initialized peer here is
 * dropped until that peer's range shrinks (it missed a split it is still to apply), or,
 * if that peer is a merge's source merging into the snapshot's shard, after it is dropped
 * (the merge committed on the target, whose snapshot brings the source's data).
 *
 * Merges run from the source's leader here (`merge`): PrepareMerge on the source, a wait
 * until every source peer's log holds it, then CommitMerge on the target, whose leader
 * must be on this store (PD merges shards with peers on the same stores; when the
 * target's leader is elsewhere, the source's leadership is moved there first). A leader
 * of a merging source that is not running its merge resumes it on the tick, so a merge
 * survives leader changes and restarts. A merge that can no longer commit (the target
 * refused CommitMerge at apply, or its peer here left the planned epoch, is merging
 * itself or was merged away) is rolled back, so the source serves again. Requests for a
 * merged-away source get `epochNotMatch` with the shards now covering its range.
 */
import { AssertionError, assert, limits } from "../../base/mod.ts";
import type { PeerId } from "../../base/mod.ts";
import type { Env, Timer } from "../../env/mod.ts";
import type {
  PeerMeta,
  ShardEpoch,
  ShardMeta,
  ShardOperatorStep,
  ShardStats,
} from "../../proto/mod.ts";
import { type RaftOptions, type RaftStatus, defaultRaftOptions } from "../../raft/mod.ts";
import type { Engine, WriteOp } from "../engine/engine.ts";
import {
  type MergeState,
  type PeerState,
  type RaftEnvelope,
  type SnapshotPayload,
  decode,
  decodeHardState,
  decodePeerState,
  encodePeerState,
} from "../shard/codec.ts";
import {
  hardStateKey,
  isPeerStateKey,
  peerStateKey,
  rangesOverlap,
  shardMetaRange,
} from "../shard/local_keys.ts";
import {
  type PeerHost,
  type PeerOptions,
  type ProposalResult,
  type SplitTarget,
  ShardPeer,
  confStateOf,
} from "../shard/peer.ts";
import { compareBytes } from "../engine/bytes.ts";
import { EngineRaftStorage, RaftWriteBatch } from "../shard/raft_storage.ts";
import { approximateUserKeys, middleUserKey, shardDataBytes } from "../shard/shard_size.ts";
import type { RaftTransport } from "./raft_transport.ts";
import type { RouteError, ShardContext, ShardSnapshot, StoreShards, ShardWriteOptions }
  from "./store_shards.ts";

/** Options of `MultiRaftStore.open`. */
export interface MultiRaftStoreOptions {
  readonly env: Pick<Env, "clock" | "timers" | "buggify">;
  readonly engine: Engine;
  readonly storeId: number;
  readonly transport: RaftTransport;
  /** Raft tunables (production defaults otherwise). */
  readonly raft?: Partial<RaftOptions>;
  /** Default `limits.kvShardProposalsPendingMax`. */
  readonly proposalsPendingMax?: number;
  /** Default `limits.kvRaftLogGcCountMax`. */
  readonly logGcCountMax?: number;
  /** Default `limits.kvReadIndexTimeoutMs`. */
  readonly readIndexTimeoutMs?: number;
  /** On a first start (empty engine): found this shard with its initial peers. */
  readonly bootstrap?: ShardMeta;
  /** A broken invariant or a failed apply; by default rethrown from a timer (fail-stop). */
  readonly onFatal?: (error: unknown) => void;
}

/** The outcome of an admin request (split, conf change, leader transfer). */
export type AdminResult = ProposalResult | { readonly kind: "refused"; readonly reason: string };

/** The replicated shards of one store. */
export class MultiRaftStore implements StoreShards {
  readonly storeId: number;
  private readonly env: Pick<Env, "clock" | "timers" | "buggify">;
  private readonly engine: Engine;
  private readonly transport: RaftTransport;
  private readonly peers = new Map<number, ShardPeer>();
  private readonly tombstones = new Map<number, number>();
  /** Merged-away sources: their last meta, for `epochNotMatch` answers. */
  private readonly mergedSources = new Map<number, ShardMeta>();
  /** Merges this store drives as the source's leader, by source shard id. */
  private readonly mergesRunning = new Map<number, Promise<AdminResult>>();
  private readonly host: PeerHost;
  private readonly onFatal: (error: unknown) => void;
  private outbox = new Map<number, RaftEnvelope[]>();
  private flushQueued = false;
  private timer: Timer | undefined;
  private closed = false;
  /** Peer ticks driven by the timer (hibernating peers are not ticked). */
  ticks = 0;
  /** Heartbeat messages sent by leaders of this store. */
  heartbeatsSent = 0;
  /** Envelopes handed to the transport. */
  messagesSent = 0;
  /** Snapshots installed by peers of this store. */
  snapshotsInstalled = 0;
  /** The first fatal error, if the store stopped. */
  fatalError: unknown = undefined;

  private constructor(options: MultiRaftStoreOptions) {
    this.storeId = options.storeId;
    this.env = options.env;
    this.engine = options.engine;
    this.transport = options.transport;
    this.onFatal = options.onFatal ?? ((error) => {
      this.env.timers.setTimeout(0, () => {
        throw error;
      });
    });
    const raft: RaftOptions = { ...defaultRaftOptions, ...options.raft };
    const peerOptions: PeerOptions = {
      raft,
      proposalsPendingMax: options.proposalsPendingMax ?? limits.kvShardProposalsPendingMax,
      logGcCountMax: options.logGcCountMax ?? limits.kvRaftLogGcCountMax,
      readIndexTimeoutMs: options.readIndexTimeoutMs ?? limits.kvReadIndexTimeoutMs,
    };
    this.host = {
      storeId: this.storeId,
      engine: this.engine,
      clock: this.env.clock,
      timers: this.env.timers,
      options: peerOptions,
      send: (envelopes) => this.enqueue(envelopes),
      currentShards: (range) => this.currentShards(range),
      splitTarget: (id) => this.splitTarget(id),
      splitApplied: (right, opts) => this.splitApplied(right, opts),
      destroyed: (peer) => this.peerDestroyed(peer),
      waitMergeSource: (id, opts) => this.waitMergeSource(id, opts),
      mergeApplied: (source) => this.mergeApplied(source),
      heartbeatSent: (count) => {
        this.heartbeatsSent += count;
      },
      snapshotInstalled: () => {
        this.snapshotsInstalled++;
      },
      fatal: (error) => this.fatal(error),
    };
  }

  /** Opens the store: recovers its peers from the engine, or bootstraps the first shard. */
  static async open(options: MultiRaftStoreOptions): Promise<MultiRaftStore> {
    const store = new MultiRaftStore(options);
    for (const { key, value } of options.engine.scan(shardMetaRange)) {
      if (!isPeerStateKey(key)) continue;
      const state = decodePeerState(value);
      if (state.state === "tombstone") {
        store.tombstones.set(state.shard.id, state.peerId);
        if (state.mergedInto !== undefined) store.mergedSources.set(state.shard.id, state.shard);
      } else {
        const peer = new ShardPeer(store.host, state, { peerStateUnwritten: false });
        store.peers.set(state.shard.id, peer);
      }
    }
    if (store.peers.size === 0 && store.tombstones.size === 0 && options.bootstrap !== undefined) {
      await store.createShard(options.bootstrap);
    }
    const tickMs = store.host.options.raft.tickIntervalMs;
    store.timer = options.env.timers.setInterval(tickMs, () => store.tickAll());
    return store;
  }

  /**
   * Founds a shard's peer on this store (first start, or tests creating many shards):
   * every store of `meta.peers` does the same with the same meta.
   */
  async createShard(meta: ShardMeta): Promise<void> {
    assert(!this.peers.has(meta.id), `shard ${meta.id} already exists here`);
    const mine = meta.peers.find((p) => p.storeId === this.storeId);
    assert(mine !== undefined, `shard ${meta.id} has no peer on store ${this.storeId}`);
    const batch = new RaftWriteBatch();
    EngineRaftStorage.stageBootstrap(batch, meta.id, { confState: confStateOf(meta.peers) });
    const state: PeerState = {
      peerId: mine.peerId,
      state: "normal",
      initialized: true,
      shard: meta,
    };
    batch.ops.push({ kind: "put", key: peerStateKey(meta.id), value: encodePeerState(state) });
    await batch.write(this.engine, { sync: true });
    this.peers.set(meta.id, new ShardPeer(this.host, state, { peerStateUnwritten: false }));
  }

  // ---- StoreShards ------------------------------------------------------------------

  read(
    ctx: ShardContext,
    options: { readonly keys: readonly Uint8Array[] },
  ): Promise<{ readonly kind: "ok"; readonly value: ShardSnapshot } | RouteError> {
    const peer = this.peers.get(ctx.shardId);
    if (peer === undefined || this.closed) return Promise.resolve(this.missing(ctx.shardId));
    return peer.read(ctx, options.keys);
  }

  write(ctx: ShardContext, ops: readonly WriteOp[], options?: ShardWriteOptions):
    Promise<{ readonly kind: "ok" } | RouteError> {
    const peer = this.peers.get(ctx.shardId);
    if (peer === undefined || this.closed) return Promise.resolve(this.missing(ctx.shardId));
    return peer.write(ctx, ops, options?.onProposed);
  }

  /** A request for a shard with no peer here: merged away (with its successors) or not found. */
  private missing(shardId: number): RouteError {
    const merged = this.mergedSources.get(shardId);
    if (merged !== undefined && !this.closed) {
      const current = this.currentShards(merged);
      if (current.length > 0) return { kind: "epochNotMatch", current };
    }
    return { kind: "shardNotFound", shardId };
  }

  shards(): readonly { readonly shard: ShardMeta; readonly isLeader: boolean }[] {
    const out: { shard: ShardMeta; isLeader: boolean }[] = [];
    for (const peer of this.peers.values()) {
      if (peer.isInitialized) out.push({ shard: peer.shard, isLeader: peer.isLeader });
    }
    return out;
  }

  // ---- admin ------------------------------------------------------------------------

  /**
   * The key a split at the approximate middle of `shardId` uses: the first user key at
   * which half of its bytes lie before it. `undefined` if the shard is not here or has
   * no such key (too little data).
   */
  splitKey(shardId: number): Uint8Array | undefined {
    const peer = this.peers.get(shardId);
    if (peer === undefined || !peer.isInitialized) return undefined;
    const shard = peer.shard;
    const snapshot = this.engine.snapshot();
    try {
      return middleUserKey(snapshot, shard, { totalBytes: shardDataBytes(this.engine, shard) });
    } finally {
      snapshot.release();
    }
  }

  /**
   * What a shard heartbeat reports of `shardId`: approximate size and keys, and the load
   * since the previous call (`nowMs` ends that interval).
   */
  shardStats(shardId: number, nowMs: number): ShardStats {
    const peer = this.peers.get(shardId);
    if (peer === undefined || !peer.isInitialized) {
      return {
        approximateSizeBytes: 0, approximateKeys: 0, readBytesPerSec: 0, readKeysPerSec: 0,
        writeBytesPerSec: 0, writeKeysPerSec: 0, queriesPerSec: 0,
      };
    }
    const shard = peer.shard;
    const totalBytes = shardDataBytes(this.engine, shard);
    const snapshot = this.engine.snapshot();
    let keys: number;
    try {
      keys = approximateUserKeys(snapshot, shard, {
        totalBytes,
        scanKeysMax: limits.kvShardKeysScanMax,
      });
    } finally {
      snapshot.release();
    }
    return { approximateSizeBytes: totalBytes, approximateKeys: keys, ...peer.flow.take(nowMs) };
  }

  /** Splits a shard at `splitKey`; ids of the new shard and its peers come from PD. */
  split(
    ctx: ShardContext,
    options: { readonly splitKey: Uint8Array; readonly newShardId: number;
      readonly newPeerIds: readonly number[] },
  ): Promise<AdminResult> {
    const peer = this.peers.get(ctx.shardId);
    if (peer === undefined) return Promise.resolve({ kind: "shardNotFound", shardId: ctx.shardId });
    return peer.split(ctx, options);
  }

  /** Adds a learner, promotes a learner to voter, or removes a peer. */
  changePeer(
    shardId: number,
    op: "addLearner" | "addVoter" | "removePeer",
    peer: { readonly peerId: number; readonly storeId: number },
  ): Promise<AdminResult> {
    const local = this.peers.get(shardId);
    if (local === undefined) return Promise.resolve({ kind: "shardNotFound", shardId });
    const meta: PeerMeta = { ...peer, role: op === "addVoter" ? "voter" : "learner" };
    return local.changePeer(op, meta);
  }

  /** Asks the leader to hand leadership to the peer on `toStoreId`. */
  transferLeader(shardId: number, toPeerId: number): AdminResult {
    const local = this.peers.get(shardId);
    if (local === undefined) return { kind: "shardNotFound", shardId };
    if (!local.isLeader) return { kind: "notLeader", shardId };
    local.transferLeader(toPeerId);
    return { kind: "ok" };
  }

  /**
   * Carries out one PD operator step on the shard's leader here. A split needs ids from
   * PD (`allocId`); without explicit keys it splits at the approximate middle key.
   */
  async executeStep(
    shardId: number,
    step: ShardOperatorStep,
    options: { readonly allocId?: () => Promise<number> } = {},
  ): Promise<AdminResult> {
    const local = this.peers.get(shardId);
    if (local === undefined) return { kind: "shardNotFound", shardId };
    switch (step.kind) {
      case "addLearner":
        return this.changePeer(shardId, "addLearner", step);
      case "promoteLearner":
        return this.changePeer(shardId, "addVoter", step);
      case "removePeer":
        return this.changePeer(shardId, "removePeer", step);
      case "transferLeader": {
        const to = local.shard.peers.find((p) => p.storeId === step.toStoreId);
        if (to === undefined) return { kind: "refused", reason: "no peer on the target store" };
        return this.transferLeader(shardId, to.peerId);
      }
      case "splitShard": {
        const key = step.keys?.[0] ?? this.splitKey(shardId);
        if (key === undefined) {
          return { kind: "refused", reason: `shard ${shardId} has no middle key to split at` };
        }
        if (options.allocId === undefined) {
          return { kind: "refused", reason: "split needs an id allocator" };
        }
        const shard = local.shard;
        const newShardId = await options.allocId();
        const newPeerIds: number[] = [];
        for (let i = 0; i < shard.peers.length; i++) newPeerIds.push(await options.allocId());
        const ctx = { shardId, epoch: shard.epoch };
        return this.split(ctx, { splitKey: key, newShardId, newPeerIds });
      }
      case "mergeShard":
        if (step.sourceShardId !== shardId) {
          return { kind: "refused", reason: "a merge runs on its source shard's leader" };
        }
        return this.merge(shardId, {
          targetShardId: step.targetShardId,
          targetEpoch: step.targetEpoch,
        });
    }
  }

  /**
   * Merges shard `sourceShardId` (led here) into its neighbour `targetShardId`, planned
   * against the target at `targetEpoch`. Resolves `ok` once the target absorbed the
   * source here; `epochNotMatch` if the target changed before the merge began; `refused`
   * if it could not finish now (still merging: retried on the tick) or was rolled back.
   */
  merge(
    sourceShardId: number,
    options: {
      readonly targetShardId: number;
      readonly targetEpoch: ShardEpoch;
      /** Test hook: runs after the source prepared, before CommitMerge is proposed. */
      readonly beforeCommit?: () => Promise<void>;
    },
  ): Promise<AdminResult> {
    const running = this.mergesRunning.get(sourceShardId);
    if (running !== undefined) return running;
    const source = this.peers.get(sourceShardId);
    if (source === undefined) return Promise.resolve(this.missing(sourceShardId));
    const promise = this.runMerge(source, options).finally(() => {
      this.mergesRunning.delete(sourceShardId);
    });
    this.mergesRunning.set(sourceShardId, promise);
    return promise;
  }

  private async runMerge(
    source: ShardPeer,
    options: {
      readonly targetShardId: number;
      readonly targetEpoch: ShardEpoch;
      readonly beforeCommit?: () => Promise<void>;
    },
  ): Promise<AdminResult> {
    if (!source.isLeader) return { kind: "notLeader", shardId: source.shardId };
    if (source.merging === undefined) {
      const target = this.peers.get(options.targetShardId);
      if (target === undefined || !target.isInitialized || target.destroyedFlag) {
        return { kind: "refused", reason: "the merge target has no peer on this store" };
      }
      // A merging target refuses CommitMerge until it is merged away or rolled back (a new
      // epoch): the source would only prepare to roll back.
      if (target.merging !== undefined) {
        return { kind: "refused", reason: "the merge target is merging" };
      }
      const t = target.shard;
      if (t.epoch.version !== options.targetEpoch.version ||
        t.epoch.confVersion !== options.targetEpoch.confVersion) {
        return { kind: "epochNotMatch", current: this.currentShards(t) };
      }
      const s = source.shard;
      const adjacent = (s.endKey.length > 0 && compareBytes(s.endKey, t.startKey) === 0) ||
        (t.endKey.length > 0 && compareBytes(t.endKey, s.startKey) === 0);
      if (!adjacent) return { kind: "refused", reason: "merge target is not adjacent" };
      const stores = (m: ShardMeta): string =>
        m.peers.map((p) => p.storeId).sort((a, b) => a - b).join(",");
      if (stores(s) !== stores(t)) {
        return { kind: "refused", reason: "merge source and target are on different stores" };
      }
      const prepared = await source.prepareMerge({
        shardId: options.targetShardId,
        epoch: options.targetEpoch,
      });
      if (prepared.kind !== "ok") return prepared;
    }
    return this.commitMerge(source, options.beforeCommit);
  }

  /** The source has prepared: gets CommitMerge applied on the target, or rolls back. */
  private async commitMerge(
    source: ShardPeer,
    beforeCommit: (() => Promise<void>) | undefined,
  ): Promise<AdminResult> {
    const tickMs = this.host.options.raft.tickIntervalMs;
    for (let attempt = 0; attempt < limits.kvMergeCommitAttemptsMax; attempt++) {
      if (attempt > 0) await this.sleep(tickMs * Math.min(2 ** attempt, 32));
      if (this.closed) return { kind: "shardNotFound", shardId: source.shardId };
      if (source.destroyedFlag) {
        return this.mergedSources.has(source.shardId)
          ? { kind: "ok" }
          : { kind: "shardNotFound", shardId: source.shardId };
      }
      const merging = source.merging;
      if (merging === undefined) return { kind: "refused", reason: "merge rolled back" };
      if (!source.isLeader) return { kind: "notLeader", shardId: source.shardId };
      if (this.mergeTargetMovedOn(merging)) return this.rollBackMerge(source);
      // Everything the source applied (PrepareMerge and after) must be in every source
      // peer's log, so every target peer's wait for its source peer ends.
      const appliedIndex = source.appliedIndex;
      if (!source.allMatched(appliedIndex)) continue;
      const target = this.peers.get(merging.targetShardId);
      if (target === undefined || target.destroyedFlag) continue;
      if (!target.isLeader) {
        const hint = target.leaderHint();
        const there = hint === undefined
          ? undefined
          : source.shard.peers.find((p) => p.storeId === hint.storeId);
        if (there !== undefined && there.storeId !== this.storeId) {
          source.transferLeader(there.peerId);
          return { kind: "refused", reason: "moving the source's leader to the target's" };
        }
        continue;
      }
      if (beforeCommit !== undefined) await beforeCommit();
      const result = await target.commitMerge(source.shard, {
        expectedEpoch: merging.targetEpoch,
        sourceAppliedIndex: appliedIndex,
      });
      if (result.kind === "ok") return { kind: "ok" };
      if (result.kind !== "epochNotMatch") continue;
      // A definite refusal at apply: every earlier CommitMerge attempt in the target's log
      // is settled too. If none took the source, it is safe to roll back.
      if (source.destroyedFlag) return { kind: "ok" };
      return this.rollBackMerge(source);
    }
    return { kind: "refused", reason: "merge not finished yet; resumed on the tick" };
  }

  /**
   * True when this store's peer of a merge's target proves that no CommitMerge of the
   * merging source led here can ever apply, so the source may roll back (TiKV's source
   * peers do the same check of their local target before asking for RollbackMerge). The
   * proof: a target peer applying that CommitMerge tombstones this store's source peer in
   * the same batch (and a target snapshot covering the source destroys it first), so while
   * the source peer here lives, the target peer here has not passed the CommitMerge; if it
   * has nevertheless left the planned epoch (versions only grow), or is merging itself (it
   * refuses CommitMerge until merged away or rolled back to a new version), or was merged
   * away, every later CommitMerge in the target's log fails its epoch check at apply. A
   * target peer still behind the planned epoch, or missing here for another reason (not
   * yet created, replaced), proves nothing: the merge waits.
   */
  private mergeTargetMovedOn(merging: MergeState): boolean {
    const target = this.peers.get(merging.targetShardId);
    if (target === undefined || target.destroyedFlag) {
      return this.mergedSources.has(merging.targetShardId);
    }
    if (!target.isInitialized) return false;
    const epoch = target.shard.epoch;
    const planned = merging.targetEpoch;
    return epoch.version > planned.version || epoch.confVersion > planned.confVersion ||
      (target.merging !== undefined && epoch.version >= planned.version);
  }

  /** Proposes RollbackMerge on the source (led here) once the merge cannot commit. */
  private async rollBackMerge(source: ShardPeer): Promise<AdminResult> {
    const rolled = await source.rollbackMerge();
    if (rolled.kind !== "ok") return rolled;
    return { kind: "refused", reason: "the merge target changed; merge rolled back" };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.env.timers.setTimeout(ms, resolve));
  }

  /**
   * Store liveness: `storeId` is down, so wake every sleeping group with a peer there (a
   * hibernating follower cannot notice its leader died).
   */
  storeUnreachable(storeId: number): void {
    for (const peer of this.peers.values()) {
      if (peer.shard.peers.some((p) => p.storeId === storeId)) peer.wake();
    }
  }

  /** The Raft status of this store's peer of `shardId`, if any. */
  status(shardId: number): RaftStatus | undefined {
    return this.peers.get(shardId)?.status();
  }

  /** Peers that are hibernating (metrics). */
  hibernatedCount(): number {
    let n = 0;
    for (const peer of this.peers.values()) if (peer.isHibernating) n++;
    return n;
  }

  /** Proposals of all peers waiting to apply (metrics). */
  proposalsPendingCount(): number {
    let n = 0;
    for (const peer of this.peers.values()) n += peer.proposalsPending;
    return n;
  }

  /**
   * Peers of `shardId` the leader here considers still catching up (needing a snapshot,
   * or never matched): PD does not promote them yet. Empty unless this store leads it.
   */
  pendingPeerIds(shardId: number): number[] {
    const status = this.peers.get(shardId)?.status();
    if (status === undefined || status.role !== "leader") return [];
    const out: number[] = [];
    for (const [id, pr] of status.progress) {
      if (id === status.id) continue;
      if (pr.state === "snapshot" || pr.matchIndex === 0 || pr.matchIndex < status.firstIndex - 1) {
        out.push(id);
      }
    }
    return out;
  }

  /** Stops the timer and every peer. The engine stays open (the caller owns it). */
  close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    for (const peer of this.peers.values()) peer.stop();
    this.peers.clear();
    return Promise.resolve();
  }

  // ---- messages ---------------------------------------------------------------------

  /** Handles a batch of envelopes from another store. */
  receive(envelopes: readonly RaftEnvelope[]): void {
    if (this.closed) return;
    for (const envelope of envelopes) {
      if (envelope.to.storeId !== this.storeId) continue;
      const peer = this.peerFor(envelope);
      if (peer === undefined) continue;
      if (envelope.message.kind === "snapshot" && this.snapshotOverlaps(envelope)) continue;
      peer.step(envelope);
    }
  }

  private peerFor(envelope: RaftEnvelope): ShardPeer | undefined {
    const { shardId } = envelope;
    const target = envelope.to.peerId;
    const existing = this.peers.get(shardId);
    if (existing !== undefined) {
      if (existing.peerId === target) return existing;
      if (target > existing.peerId && !existing.isLeader) {
        // Our peer was removed (and is being replaced) without learning it: drop it.
        void existing.destroy().catch((error: unknown) => this.fatal(error));
      }
      return undefined;
    }
    const tomb = this.tombstones.get(shardId);
    if (tomb !== undefined && target <= tomb) return undefined;
    // Only a leader's messages create a peer (a stale vote must not resurrect one).
    const kind = envelope.message.kind;
    if (kind !== "append" && kind !== "heartbeat" && kind !== "snapshot") return undefined;
    const state: PeerState = {
      peerId: target,
      state: "normal",
      initialized: false,
      shard: { id: shardId, startKey: new Uint8Array(0), endKey: new Uint8Array(0),
        epoch: { confVersion: 0, version: 0 }, peers: [envelope.to] },
    };
    const peer = new ShardPeer(this.host, state, { peerStateUnwritten: true });
    this.peers.set(shardId, peer);
    this.tombstones.delete(shardId);
    return peer;
  }

  private snapshotOverlaps(envelope: RaftEnvelope): boolean {
    if (envelope.message.kind !== "snapshot") return false;
    const payload = decode<SnapshotPayload>(envelope.message.snapshot.data);
    for (const peer of this.peers.values()) {
      if (peer.shardId === envelope.shardId || !peer.isInitialized) continue;
      if (!rangesOverlap(peer.shard, payload.shard)) continue;
      if (peer.merging?.targetShardId === envelope.shardId) {
        // The target's snapshot covers the source: the merge committed there; the
        // snapshot brings the source's data, so the source peer goes.
        this.mergedSources.set(peer.shardId, peer.shard);
        void peer.destroy().catch((error: unknown) => this.fatal(error));
        continue;
      }
      return true;
    }
    return false;
  }

  private enqueue(envelopes: readonly RaftEnvelope[]): void {
    for (const envelope of envelopes) {
      const to = envelope.to.storeId;
      let list = this.outbox.get(to);
      if (list === undefined) {
        list = [];
        this.outbox.set(to, list);
      }
      list.push(envelope);
    }
    if (!this.flushQueued && this.outbox.size > 0) {
      this.flushQueued = true;
      // Fault point (simulation only): a late flush batches more appends per message.
      if (this.env.buggify?.("raft.store.delayFlush") === true) {
        this.env.timers.setTimeout(5, () => this.flush());
      } else {
        queueMicrotask(() => this.flush());
      }
    }
  }

  private flush(): void {
    this.flushQueued = false;
    const outbox = this.outbox;
    this.outbox = new Map();
    if (this.closed) return;
    for (const [storeId, envelopes] of outbox) {
      this.messagesSent += envelopes.length;
      if (storeId === this.storeId) this.receive(envelopes);
      else this.transport.send(storeId, envelopes);
    }
  }

  private tickAll(): void {
    if (this.closed) return;
    const now = this.env.clock.monotonicMs();
    for (const peer of this.peers.values()) {
      const merging = peer.merging;
      if (merging !== undefined && peer.isLeader && !this.mergesRunning.has(peer.shardId)) {
        this.resumeMerge(peer, merging.targetShardId);
      }
      if (peer.isHibernating) continue;
      this.ticks++;
      peer.tick(now);
    }
  }

  // ---- peer host --------------------------------------------------------------------

  /**
   * The shards here overlapping `range`, plus its right sibling (the shard starting at its
   * end), as TiKV attaches to EpochNotMatch: a client that routed by the shard before a
   * split then learns the right half from the store, without waiting for PD to hear of it.
   */
  private currentShards(range: { startKey: Uint8Array; endKey: Uint8Array }): ShardMeta[] {
    const out: ShardMeta[] = [];
    for (const peer of this.peers.values()) {
      if (!peer.isInitialized || peer.destroyedFlag) continue;
      const shard = peer.shard;
      const sibling = range.endKey.length > 0 && compareBytes(shard.startKey, range.endKey) === 0;
      if (sibling || rangesOverlap(shard, range)) out.push(shard);
    }
    return out;
  }

  private splitTarget(newShardId: number): SplitTarget {
    const existing = this.peers.get(newShardId);
    if (existing === undefined) {
      if (this.tombstones.has(newShardId)) return { kind: "skip" };
      return { kind: "create" };
    }
    if (existing.isInitialized) return { kind: "skip" };
    const raw = this.engine.get(hardStateKey(newShardId));
    if (raw === undefined) return { kind: "create" };
    const hs = decodeHardState(raw);
    return { kind: "create", keepHardState: { term: hs.term, vote: hs.vote as PeerId | null } };
  }

  private splitApplied(right: ShardMeta, options: { readonly campaign: boolean }): void {
    if (this.closed) return;
    const mine = right.peers.find((p) => p.storeId === this.storeId);
    assert(mine !== undefined, "split without a peer here");
    const old = this.peers.get(right.id);
    if (old !== undefined) old.stop();
    const peer = new ShardPeer(
      this.host,
      { peerId: mine.peerId, state: "normal", initialized: true, shard: right },
      { peerStateUnwritten: false },
    );
    this.peers.set(right.id, peer);
    if (options.campaign) peer.wake();
  }

  /** A merging source led here with no merge running: carry it on (leader change, restart). */
  private resumeMerge(peer: ShardPeer, targetShardId: number): void {
    const merging = peer.merging;
    if (merging === undefined) return;
    void this.merge(peer.shardId, { targetShardId, targetEpoch: merging.targetEpoch }).catch(
      (error: unknown) => this.fatal(error),
    );
  }

  private async waitMergeSource(
    sourceShardId: number,
    options: { readonly appliedIndex: number; readonly epoch: ShardEpoch },
  ): Promise<ShardPeer> {
    const deadline = this.env.clock.monotonicMs() + limits.kvMergeSourceWaitMs;
    let woken = false;
    for (;;) {
      const peer = this.peers.get(sourceShardId);
      if (peer !== undefined && peer.isInitialized && !peer.destroyedFlag) {
        const e = peer.shard.epoch;
        if (peer.appliedIndex >= options.appliedIndex && e.version === options.epoch.version &&
          e.confVersion === options.epoch.confVersion) {
          return peer;
        }
        if (!woken) {
          peer.wake();
          woken = true;
        }
      }
      if (this.closed || this.env.clock.monotonicMs() >= deadline) {
        throw new AssertionError(
          `store ${this.storeId}: CommitMerge cannot apply: the local peer of merge source ` +
          `${sourceShardId} did not reach applied index ${options.appliedIndex} at epoch ` +
          `${options.epoch.version}/${options.epoch.confVersion} within ` +
          `${limits.kvMergeSourceWaitMs} ms`,
        );
      }
      await this.sleep(this.host.options.raft.tickIntervalMs);
    }
  }

  private mergeApplied(source: ShardPeer): void {
    if (this.peers.get(source.shardId) === source) this.peers.delete(source.shardId);
    this.tombstones.set(source.shardId, source.peerId);
    this.mergedSources.set(source.shardId, source.shard);
  }

  private peerDestroyed(peer: ShardPeer): void {
    if (this.peers.get(peer.shardId) === peer) this.peers.delete(peer.shardId);
    this.tombstones.set(peer.shardId, peer.peerId);
  }

  private fatal(error: unknown): void {
    if (this.fatalError !== undefined) return;
    this.fatalError = error;
    void this.close();
    this.onFatal(error);
  }
}
