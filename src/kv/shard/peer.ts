/**
 * `ShardPeer`: one store's replica of one shard. It drives a `RawNode` and carries out
 * each `Ready` in the documented order: persist (snapshot install, log entries and hard
 * state in one engine batch, synced when `mustSync`) BEFORE sending messages; then apply
 * the committed entries — their writes, any shard meta change and the new applied
 * position in ONE engine batch, so a crash never half-applies or re-applies an entry;
 * then resolve proposals and reads; then `advance`.
 *
 * Each normal entry is a `ShardCommand` carrying the epoch it was proposed under; at apply
 * the epoch and key range are checked again (a split may have applied in between), and a
 * failed check is the command's result, identical on every peer. A proposal resolves
 * when the entry at its index applies: with the command's result if the entry there has
 * its term and proposal id, `staleCommand` otherwise (or when this peer stops leading
 * first, since its entry may still commit under the next leader: the outcome is unknown).
 * An error while persisting or applying is fatal (`host.fatal`): a committed entry is
 * never skipped. The peer owns its Raft state, meta and pending requests; the store owns
 * the set of peers and the transport.
 *
 * Merge (TiKV's PrepareMerge / CommitMerge / RollbackMerge, simplified). The source's
 * PrepareMerge bumps its version and puts it in merging mode: later proposals are refused
 * and any write proposed before it fails its epoch check at apply, so from PrepareMerge on
 * no data of the source changes. The target's CommitMerge carries the source meta; each
 * target peer, at apply, first waits (pausing its apply, bounded, fail-stop) until its
 * store's source peer has applied as far as the source leader had when CommitMerge was
 * proposed (PrepareMerge included, on every source peer by Raft progress), so the source
 * data on that store is the same on every store. It then widens the target to cover the
 * source and tombstones the local source peer (its Raft state goes, its data stays: it is
 * now the target's) in the apply batch. A CommitMerge whose target epoch or range no
 * longer fits fails with `epochNotMatch`, a definite outcome after which the source may
 * propose RollbackMerge (version bumped again, merging mode left).
 */
import { AssertionError, Prng, assert } from "../../base/mod.ts";
import type { PeerId } from "../../base/mod.ts";
import type { Clock, Timers } from "../../env/mod.ts";
import type { PeerMeta, ShardEpoch, ShardMeta } from "../../proto/mod.ts";
import {
  type ConfState,
  type Entry,
  type Message,
  type RaftOptions,
  type RaftStatus,
  type Ready,
  type Snapshot,
  RawNode,
  emptyConfState,
} from "../../raft/mod.ts";
import { checkWriteOps, compareBytes } from "../engine/bytes.ts";
import type { Engine, EngineSnapshot, WriteOp } from "../engine/engine.ts";
import type { RouteError, ShardContext, ShardSnapshot } from "../store/store_shards.ts";
import {
  type MergeState,
  type PeerState,
  type RaftEnvelope,
  type ShardCommand,
  type ShardConfChange,
  type SnapshotPayload,
  decode,
  decodeCommand,
  encodeCommand,
  encodePeerState,
} from "./codec.ts";
import {
  dataRanges,
  engineKeyInRange,
  engineRangeInRange,
  hardStateKey,
  applyStateKey,
  peerStateKey,
  raftLogRange,
  userKeyInRange,
} from "./local_keys.ts";
import { EngineRaftStorage, RaftWriteBatch } from "./raft_storage.ts";
import { ShardFlow, countingSnapshot } from "./shard_flow.ts";

/** Tunables of a peer beyond Raft's own. */
export interface PeerOptions {
  readonly raft: RaftOptions;
  /** Proposals waiting to apply before `serverIsBusy`. */
  readonly proposalsPendingMax: number;
  /** Applied entries kept in the log before it is compacted. */
  readonly logGcCountMax: number;
  /** How long a read waits for its ReadIndex confirmation. */
  readonly readIndexTimeoutMs: number;
}

/** What the new shard of an applied split becomes on this store. */
export type SplitTarget =
  | { readonly kind: "create"; readonly keepHardState?: { term: number; vote: PeerId | null } }
  | { readonly kind: "skip" };

/** What a peer needs from its store. */
export interface PeerHost {
  readonly storeId: number;
  readonly engine: Engine;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly options: PeerOptions;
  /** Queues messages for other stores (batched per store by the host). */
  send(envelopes: readonly RaftEnvelope[]): void;
  /** The initialized shards this store holds overlapping a range (for `epochNotMatch`). */
  currentShards(range: { startKey: Uint8Array; endKey: Uint8Array }): ShardMeta[];
  /** How a split's new shard is created here; decided at apply, synchronously. */
  splitTarget(newShardId: number): SplitTarget;
  /** A split applied: the new shard's peer here is durable (unless skipped). */
  splitApplied(right: ShardMeta, options: { readonly campaign: boolean }): void;
  /** This peer was removed from its shard and destroyed. */
  destroyed(peer: ShardPeer): void;
  /**
   * Resolves with this store's peer of a merge's source once it has applied through
   * `appliedIndex` with meta epoch `epoch`; rejects when it cannot within a bound.
   */
  waitMergeSource(
    sourceShardId: number,
    options: { readonly appliedIndex: number; readonly epoch: ShardEpoch },
  ): Promise<ShardPeer>;
  /** A CommitMerge applied here: `source` (tombstoned in the same batch) is gone. */
  mergeApplied(source: ShardPeer, target: ShardMeta): void;
  /** Counts heartbeats sent (hibernation metrics). */
  heartbeatSent(count: number): void;
  /** Counts snapshots installed (metrics, tests). */
  snapshotInstalled(): void;
  /** A committed entry could not be applied or state not persisted: stop the node. */
  fatal(error: unknown): void;
}

/** What a proposal resolves with. */
export type ProposalResult = { readonly kind: "ok" } | RouteError;

interface PendingProposal {
  readonly term: number;
  readonly proposalId: number;
  readonly range: { startKey: Uint8Array; endKey: Uint8Array };
  readonly resolve: (result: ProposalResult) => void;
}

/** A command's outcome at apply, before `epochNotMatch` is filled with current shards. */
type ApplyOutcome =
  | { readonly kind: "ok" }
  | { readonly kind: "epochNotMatch" }
  | { readonly kind: "keyNotInShard"; readonly key: Uint8Array; readonly shard: ShardMeta };

/** The founding conf state of a shard's peers. */
export function confStateOf(peers: readonly PeerMeta[]): ConfState {
  const ids = (role: string): PeerId[] =>
    peers.filter((p) => p.role === role).map((p) => p.peerId as PeerId).sort((a, b) => a - b);
  return { ...emptyConfState, voters: ids("voter"), learners: ids("learner") };
}

function sameEpoch(a: ShardEpoch, b: ShardEpoch): boolean {
  return a.version === b.version && a.confVersion === b.confVersion;
}

/** One replica of one shard on this store. */
export class ShardPeer {
  readonly shardId: number;
  readonly peerId: number;
  private readonly host: PeerHost;
  readonly storage: EngineRaftStorage;
  private readonly rawNode: RawNode;
  private meta: ShardMeta;
  private initialized: boolean;
  /** True until the peer state is first written (a peer created by a message). */
  private peerStateUnwritten: boolean;
  private readonly peerStores = new Map<number, PeerMeta>();
  private readonly pending = new Map<number, PendingProposal>();
  private readonly readWaiters = new Map<string, (readIndex: number | null) => void>();
  private appliedWaiters: { index: number; resolve: (ok: boolean) => void }[] = [];
  private nextProposalId = 1;
  private nextReadId = 1;
  private running = false;
  private leaderId: number | null = null;
  private isLeaderNow = false;
  /** The term of the current (or last) leadership of this peer; 0 before any. */
  private leaderTerm = 0;
  private mergeState: MergeState | undefined;
  destroyedFlag = false;
  /** Read and write load since the last shard heartbeat. */
  readonly flow = new ShardFlow();

  constructor(host: PeerHost, state: PeerState, options: { readonly peerStateUnwritten: boolean }) {
    this.host = host;
    this.shardId = state.shard.id;
    this.peerId = state.peerId;
    this.meta = state.shard;
    this.initialized = state.initialized;
    this.peerStateUnwritten = options.peerStateUnwritten;
    this.mergeState = state.merging;
    for (const p of state.shard.peers) this.peerStores.set(p.peerId, p);
    this.storage = new EngineRaftStorage(host.engine, this.shardId);
    this.rawNode = new RawNode({
      ...host.options.raft,
      id: this.peerId as PeerId,
      storage: this.storage,
      prng: new Prng(this.peerId * 7919 + this.shardId),
      appliedIndex: this.storage.getApplyState().appliedIndex,
    });
  }

  /** The shard as this peer last applied it. */
  get shard(): ShardMeta {
    return this.meta;
  }

  get isInitialized(): boolean {
    return this.initialized;
  }

  get isLeader(): boolean {
    return this.isLeaderNow && !this.destroyedFlag;
  }

  /** Set while this shard is a merge's source (PrepareMerge applied, not rolled back). */
  get merging(): MergeState | undefined {
    return this.mergeState;
  }

  get appliedIndex(): number {
    return this.storage.getApplyState().appliedIndex;
  }

  /** True if this peer leads and every peer's log holds `index` (Raft progress). */
  allMatched(index: number): boolean {
    if (!this.isLeader) return false;
    const status = this.rawNode.status();
    for (const p of this.meta.peers) {
      const match = p.peerId === this.peerId
        ? status.lastIndex
        : status.progress.get(p.peerId as PeerId)?.matchIndex ?? 0;
      if (match < index) return false;
    }
    return true;
  }

  get isHibernating(): boolean {
    return this.rawNode.isHibernating();
  }

  /** Proposals waiting for their entry to apply (metrics). */
  get proposalsPending(): number {
    return this.pending.size;
  }

  status(): RaftStatus {
    return this.rawNode.status();
  }

  /** The leader's peer meta, if known. */
  leaderHint(): { peerId: number; storeId: number } | undefined {
    const id = this.leaderId;
    if (id === null) return undefined;
    const p = this.peerStores.get(id);
    return p === undefined ? undefined : { peerId: p.peerId, storeId: p.storeId };
  }

  // ---- inputs -------------------------------------------------------------------------

  tick(nowMs: number): void {
    this.rawNode.tick(nowMs);
    this.schedule();
  }

  step(envelope: RaftEnvelope): void {
    if (this.destroyedFlag) return;
    this.peerStores.set(envelope.from.peerId, envelope.from);
    this.rawNode.step(envelope.message);
    this.schedule();
  }

  wake(): void {
    this.rawNode.wake();
    this.schedule();
  }

  transferLeader(toPeerId: number): void {
    this.rawNode.transferLeader(toPeerId as PeerId);
    this.schedule();
  }

  /** Routing checks shared by reads and writes; `null` if the request may proceed. */
  private route(ctx: ShardContext): RouteError | null {
    if (this.destroyedFlag || !this.initialized) {
      return { kind: "shardNotFound", shardId: ctx.shardId };
    }
    if (ctx.epoch.version !== this.meta.epoch.version) {
      return { kind: "epochNotMatch", current: this.host.currentShards(this.meta) };
    }
    if (!this.isLeaderNow) return this.notLeader();
    return null;
  }

  private notLeader(): RouteError {
    const leader = this.leaderHint();
    return leader === undefined || leader.peerId === this.peerId
      ? { kind: "notLeader", shardId: this.shardId }
      : { kind: "notLeader", shardId: this.shardId, leader };
  }

  /** A linearizable snapshot (lease read, else ReadIndex), after routing checks. */
  async read(
    ctx: ShardContext,
    keys: readonly Uint8Array[],
  ): Promise<{ readonly kind: "ok"; readonly value: ShardSnapshot } | RouteError> {
    const refused = this.route(ctx);
    if (refused !== null) return refused;
    this.flow.query();
    for (const key of keys) {
      if (!userKeyInRange(key, this.meta.startKey, this.meta.endKey)) {
        return { kind: "keyNotInShard", key, shard: this.meta };
      }
    }
    let readIndex: number;
    const lease = this.rawNode.leaseRead(this.host.clock.monotonicMs());
    if (lease.kind === "ok") {
      readIndex = lease.readIndex;
    } else {
      const context = `${this.peerId}:${this.nextReadId++}`;
      const queued = this.rawNode.readIndex(context);
      if (queued.kind === "notLeader") return this.notLeader();
      if (queued.kind === "tooManyPending") {
        return { kind: "serverIsBusy", reason: "too many pending reads" };
      }
      const confirmed = await this.waitReadState(context);
      if (confirmed === null) {
        return this.isLeaderNow
          ? { kind: "serverIsBusy", reason: "read index not confirmed in time" }
          : this.notLeader();
      }
      readIndex = confirmed;
    }
    if (!(await this.waitApplied(readIndex))) return this.notLeader();
    const snapshot: EngineSnapshot = this.host.engine.snapshot();
    // The snapshot is at or past the read point; a split applied meanwhile shows here.
    if (this.destroyedFlag || ctx.epoch.version !== this.meta.epoch.version) {
      snapshot.release();
      return { kind: "epochNotMatch", current: this.host.currentShards(this.meta) };
    }
    return {
      kind: "ok",
      value: {
        shard: this.meta,
        snapshot: countingSnapshot(snapshot, this.flow),
        leaderTerm: this.leaderTerm,
      },
    };
  }

  private waitReadState(context: string): Promise<number | null> {
    return new Promise((resolve) => {
      const timer = this.host.timers.setTimeout(this.host.options.readIndexTimeoutMs, () => {
        if (this.readWaiters.delete(context)) resolve(null);
      });
      this.readWaiters.set(context, (index) => {
        timer.cancel();
        resolve(index);
      });
      this.schedule();
    });
  }

  private waitApplied(index: number): Promise<boolean> {
    if (this.storage.getApplyState().appliedIndex >= index) return Promise.resolve(true);
    return new Promise((resolve) => this.appliedWaiters.push({ index, resolve }));
  }

  /**
   * Replicates `ops` (MVCC-layout engine keys) and resolves once applied here;
   * `onProposed` is called once Raft accepted the proposal.
   */
  write(ctx: ShardContext, ops: readonly WriteOp[], onProposed?: () => void):
    Promise<ProposalResult> {
    const refused = this.route(ctx) ?? this.mergingRefusal();
    if (refused !== null) return Promise.resolve(refused);
    this.flow.query();
    const bad = this.opOutsideShard(ops, this.meta);
    if (bad !== null) return Promise.resolve(bad);
    checkWriteOps(ops);
    const proposalId = this.nextProposalId++;
    return this.propose(proposalId, encodeCommand({
      kind: "write",
      proposalId,
      epoch: this.meta.epoch,
      ops,
    }), onProposed);
  }

  /**
   * Splits the shard at `splitKey` (a user key strictly inside it): the new shard
   * `[splitKey, end)` gets `newShardId` and one new peer id per current peer, in order.
   */
  split(
    ctx: ShardContext,
    options: { readonly splitKey: Uint8Array; readonly newShardId: number;
      readonly newPeerIds: readonly number[] },
  ): Promise<ProposalResult> {
    const refused = this.route(ctx) ?? this.mergingRefusal();
    if (refused !== null) return Promise.resolve(refused);
    if (!sameEpoch(ctx.epoch, this.meta.epoch)) {
      const current = this.host.currentShards(this.meta);
      return Promise.resolve({ kind: "epochNotMatch", current });
    }
    const { splitKey } = options;
    if (compareBytes(splitKey, this.meta.startKey) <= 0 ||
      !userKeyInRange(splitKey, this.meta.startKey, this.meta.endKey)) {
      return Promise.resolve({ kind: "keyNotInShard", key: splitKey, shard: this.meta });
    }
    assert(options.newPeerIds.length === this.meta.peers.length,
      "split needs one new peer id per peer");
    const proposalId = this.nextProposalId++;
    return this.propose(proposalId, encodeCommand({
      kind: "split",
      proposalId,
      epoch: this.meta.epoch,
      splitKey,
      newShardId: options.newShardId,
      newPeerIds: options.newPeerIds,
    }));
  }

  /** Proposes a one-peer membership change; resolves once applied here. */
  changePeer(
    op: "addLearner" | "addVoter" | "removePeer",
    peer: PeerMeta,
  ): Promise<ProposalResult | { readonly kind: "refused"; readonly reason: string }> {
    if (this.destroyedFlag || !this.initialized) {
      return Promise.resolve({ kind: "shardNotFound", shardId: this.shardId });
    }
    if (!this.isLeaderNow) return Promise.resolve(this.notLeader());
    const merging = this.mergingRefusal();
    if (merging !== null) return Promise.resolve(merging);
    if (op === "removePeer" && peer.peerId === this.peerId) {
      const reason = "transfer leadership before removing the leader";
      return Promise.resolve({ kind: "refused", reason });
    }
    const proposalId = this.nextProposalId++;
    const change: ShardConfChange = {
      changes: [{ op, peer: peer.peerId as PeerId }],
      transition: "auto",
      peerMeta: { ...peer, role: op === "addVoter" ? "voter" : "learner" },
      proposalId,
    };
    const result = this.rawNode.proposeConfChange(change);
    if (result.kind !== "ok") {
      if (result.kind === "notLeader") return Promise.resolve(this.notLeader());
      return Promise.resolve({ kind: "refused", reason: result.kind });
    }
    return this.track(result.index, result.term, proposalId);
  }

  /** A merge's source takes no proposals until the merge is rolled back. */
  private mergingRefusal(): RouteError | null {
    return this.mergeState === undefined
      ? null
      : { kind: "serverIsBusy", reason: `shard ${this.shardId} is merging` };
  }

  /** Leader checks of the merge proposals (no epoch check: that is at apply). */
  private adminRoute(): RouteError | null {
    if (this.destroyedFlag || !this.initialized) {
      return { kind: "shardNotFound", shardId: this.shardId };
    }
    if (!this.isLeaderNow) return this.notLeader();
    return null;
  }

  /** On a merge's source: proposes PrepareMerge; resolves once applied here. */
  prepareMerge(target: { readonly shardId: number; readonly epoch: ShardEpoch }):
  Promise<ProposalResult> {
    const refused = this.adminRoute() ?? this.mergingRefusal();
    if (refused !== null) return Promise.resolve(refused);
    const proposalId = this.nextProposalId++;
    return this.propose(proposalId, encodeCommand({
      kind: "prepareMerge",
      proposalId,
      epoch: this.meta.epoch,
      targetShardId: target.shardId,
      targetEpoch: target.epoch,
    }));
  }

  /**
   * On a merge's target: proposes CommitMerge of `source` (its meta after PrepareMerge)
   * under the target epoch the merge was planned against; resolves once applied here.
   * `epochNotMatch` is then the definite outcome of the entry at apply.
   */
  commitMerge(
    source: ShardMeta,
    options: { readonly expectedEpoch: ShardEpoch; readonly sourceAppliedIndex: number },
  ): Promise<ProposalResult> {
    const refused = this.adminRoute() ?? this.mergingRefusal();
    if (refused !== null) return Promise.resolve(refused);
    const proposalId = this.nextProposalId++;
    return this.propose(proposalId, encodeCommand({
      kind: "commitMerge",
      proposalId,
      epoch: options.expectedEpoch,
      source,
      sourceAppliedIndex: options.sourceAppliedIndex,
    }));
  }

  /** On a merge's source whose target refused: proposes RollbackMerge. */
  rollbackMerge(): Promise<ProposalResult> {
    const refused = this.adminRoute();
    if (refused !== null) return Promise.resolve(refused);
    if (this.mergeState === undefined) return Promise.resolve({ kind: "ok" });
    const proposalId = this.nextProposalId++;
    return this.propose(proposalId, encodeCommand({
      kind: "rollbackMerge",
      proposalId,
      epoch: this.meta.epoch,
    }));
  }

  /** This peer's source shard was merged away by its store's target peer. */
  markMerged(): void {
    this.destroyedFlag = true;
    this.failPending();
    for (const w of this.appliedWaiters) w.resolve(false);
    this.appliedWaiters = [];
  }

  /** Stages the tombstone of a merged source peer: Raft state removed, data kept. */
  static stageMergedTombstone(
    batch: RaftWriteBatch,
    source: { readonly peerId: number; readonly shard: ShardMeta },
    targetShardId: number,
  ): void {
    const id = source.shard.id;
    batch.ops.push({ kind: "deleteRange", ...raftLogRange(id) });
    batch.ops.push({ kind: "delete", key: hardStateKey(id) });
    batch.ops.push({ kind: "delete", key: applyStateKey(id) });
    const tomb: PeerState = {
      peerId: source.peerId,
      state: "tombstone",
      initialized: false,
      shard: source.shard,
      mergedInto: targetShardId,
    };
    batch.ops.push({ kind: "put", key: peerStateKey(id), value: encodePeerState(tomb) });
  }

  private propose(proposalId: number, data: Uint8Array, onProposed?: () => void):
    Promise<ProposalResult> {
    if (this.pending.size >= this.host.options.proposalsPendingMax) {
      return Promise.resolve({ kind: "serverIsBusy", reason: "too many pending proposals" });
    }
    const result = this.rawNode.propose(data);
    switch (result.kind) {
      case "ok": {
        const applied = this.track(result.index, result.term, proposalId);
        onProposed?.();
        return applied;
      }
      case "notLeader":
        return Promise.resolve(this.notLeader());
      case "transferring":
        return Promise.resolve({ kind: "serverIsBusy", reason: "leader transfer in progress" });
      case "tooManyUncommitted":
        return Promise.resolve({ kind: "serverIsBusy", reason: "too many uncommitted entries" });
      case "confChangePending":
      case "confChangeInvalid":
        throw new AssertionError(`propose of a normal entry refused: ${result.kind}`);
    }
  }

  private track(index: number, term: number, proposalId: number): Promise<ProposalResult> {
    const range = { startKey: this.meta.startKey, endKey: this.meta.endKey };
    const promise = new Promise<ProposalResult>((resolve) => {
      this.pending.set(index, { term, proposalId, range, resolve });
    });
    this.schedule();
    return promise;
  }

  private opOutsideShard(ops: readonly WriteOp[], meta: ShardMeta): RouteError | null {
    for (const op of ops) {
      const ok =
        op.kind === "deleteRange"
          ? engineRangeInRange(op.start, op.end, meta.startKey, meta.endKey)
          : engineKeyInRange(op.key, meta.startKey, meta.endKey);
      if (!ok) {
        const key = op.kind === "deleteRange" ? op.start : op.key;
        return { kind: "keyNotInShard", key, shard: meta };
      }
    }
    return null;
  }

  // ---- the Ready loop ---------------------------------------------------------------

  /** Carries out Readies until none is left; a failure is fatal. */
  schedule(): void {
    if (this.running || this.destroyedFlag || !this.rawNode.hasReady()) return;
    this.running = true;
    void this.runReadies().then(
      () => {
        this.running = false;
        // Inputs that arrived during the last await may have produced a new Ready.
        this.schedule();
      },
      (error: unknown) => {
        this.running = false;
        this.destroyedFlag = true;
        this.host.fatal(error);
      },
    );
  }

  private async runReadies(): Promise<void> {
    while (!this.destroyedFlag && this.rawNode.hasReady()) {
      await this.handleReady(this.rawNode.ready());
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    // 1. Persist before anything is said about it.
    const batch = new RaftWriteBatch();
    let installed: { shard: ShardMeta; merging: MergeState | undefined } | null = null;
    if (rd.snapshot !== null) installed = this.stageInstall(batch, rd.snapshot);
    if (this.peerStateUnwritten && installed === null) {
      this.stagePeerState(batch, this.meta, { initialized: false });
    }
    this.storage.stageAppend(batch, rd.entries);
    if (rd.hardState !== null) this.storage.stageHardState(batch, rd.hardState);
    await batch.write(this.host.engine, { sync: rd.mustSync || installed !== null });
    this.peerStateUnwritten = false;
    if (installed !== null) {
      this.meta = installed.shard;
      this.mergeState = installed.merging;
      this.initialized = true;
      for (const p of installed.shard.peers) this.peerStores.set(p.peerId, p);
      this.host.snapshotInstalled();
    }
    // 2. Send.
    this.sendMessages(rd.messages);
    // 3. Apply.
    if (rd.committedEntries.length > 0) await this.applyEntries(rd.committedEntries);
    for (const rs of rd.readStates) {
      const waiter = this.readWaiters.get(rs.context);
      if (waiter !== undefined) {
        this.readWaiters.delete(rs.context);
        waiter(rs.readIndex);
      }
    }
    if (rd.softState !== null) {
      this.leaderId = rd.softState.leader;
      const wasLeader = this.isLeaderNow;
      this.isLeaderNow = rd.softState.role === "leader";
      if (wasLeader && !this.isLeaderNow) this.failPending();
      if (!wasLeader && this.isLeaderNow) this.leaderTerm = this.rawNode.status().term;
    }
    this.rawNode.advance(rd);
    this.notifyApplied();
    await this.maybeCompact();
  }

  private sendMessages(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const out: RaftEnvelope[] = [];
    let heartbeats = 0;
    const from: PeerMeta = this.peerStores.get(this.peerId) ??
      { peerId: this.peerId, storeId: this.host.storeId, role: "voter" };
    for (const message of messages) {
      const to = this.peerStores.get(message.to);
      if (to === undefined) continue; // A peer we cannot place yet: Raft retries.
      if (message.kind === "heartbeat") heartbeats++;
      out.push({ shardId: this.shardId, from, to, epoch: this.meta.epoch, message });
      if (message.kind === "snapshot") {
        // Delivery is best effort; on loss the follower keeps rejecting and gets another.
        this.rawNode.reportSnapshot(message.to, { succeeded: true });
      }
    }
    if (heartbeats > 0) this.host.heartbeatSent(heartbeats);
    this.host.send(out);
  }

  private stagePeerState(
    batch: RaftWriteBatch,
    shard: ShardMeta,
    options: { readonly initialized: boolean; readonly merging?: MergeState | undefined },
  ): void {
    const merging = "merging" in options ? options.merging : this.mergeState;
    const state: PeerState = {
      peerId: this.peerId,
      state: "normal",
      initialized: options.initialized,
      shard,
      ...(merging === undefined ? {} : { merging }),
    };
    batch.ops.push({ kind: "put", key: peerStateKey(this.shardId), value: encodePeerState(state) });
  }

  /** Stages a received snapshot: the shard's data range replaced, log and state reset. */
  private stageInstall(
    batch: RaftWriteBatch,
    snapshot: Snapshot,
  ): { shard: ShardMeta; merging: MergeState | undefined } {
    const payload = decode<SnapshotPayload>(snapshot.data);
    const shard = payload.shard;
    assert(shard.id === this.shardId, "snapshot of another shard");
    for (const range of dataRanges(shard.startKey, shard.endKey)) {
      batch.ops.push({ kind: "deleteRange", start: range.start, end: range.end });
    }
    for (let i = 0; i + 1 < payload.pairs.length; i += 2) {
      batch.ops.push({
        kind: "put",
        key: payload.pairs[i] as Uint8Array,
        value: payload.pairs[i + 1] as Uint8Array,
      });
    }
    this.stagePeerState(batch, shard, { initialized: true, merging: payload.merging });
    this.storage.stageSnapshot(batch, snapshot);
    return { shard, merging: payload.merging };
  }

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    const batch = new RaftWriteBatch();
    let meta = this.meta;
    let confState = this.storage.getApplyState().confState;
    const outcomes = new Map<number, { term: number; proposalId: number; outcome: ApplyOutcome }>();
    const splits: { right: ShardMeta; created: boolean }[] = [];
    let merging = this.mergeState;
    const mergedSources: ShardPeer[] = [];
    let removedSelf = false;
    for (const entry of entries) {
      if (entry.kind === "confChange") {
        const change = entry.change as Partial<ShardConfChange> & typeof entry.change;
        const before = confState;
        confState = this.rawNode.applyConfChange(entry.change);
        if (change.peerMeta !== undefined) {
          this.peerStores.set(change.peerMeta.peerId, change.peerMeta);
        }
        if (JSON.stringify(before) !== JSON.stringify(confState)) {
          meta = this.metaWithConf(meta, confState);
        }
        if (!meta.peers.some((p) => p.peerId === this.peerId) && before.voters.length > 0 &&
          [...before.voters, ...before.learners, ...before.votersOutgoing]
            .includes(this.peerId as PeerId)) {
          removedSelf = true;
        }
        outcomes.set(entry.index, {
          term: entry.term,
          proposalId: change.proposalId ?? 0,
          outcome: { kind: "ok" },
        });
        continue;
      }
      if (entry.data.length === 0) continue;
      const command = decodeCommand(entry.data);
      if (command.kind === "commitMerge") {
        const merged = await this.applyCommitMerge(command, meta, merging, batch);
        if (merged !== null) {
          meta = merged.meta;
          mergedSources.push(merged.source);
        }
        outcomes.set(entry.index, {
          term: entry.term,
          proposalId: command.proposalId,
          outcome: merged === null ? { kind: "epochNotMatch" } : { kind: "ok" },
        });
        continue;
      }
      const applied = this.applyCommand(command, { meta, merging, index: entry.index }, batch);
      meta = applied.meta;
      merging = applied.merging;
      if (applied.split !== undefined) splits.push(applied.split);
      outcomes.set(entry.index, {
        term: entry.term,
        proposalId: command.proposalId,
        outcome: applied.outcome,
      });
    }
    const last = entries[entries.length - 1] as Entry;
    if (meta !== this.meta || merging !== this.mergeState) {
      this.stagePeerState(batch, meta, { initialized: true, merging });
    }
    this.storage.stageApplyState(batch, {
      ...this.storage.getApplyState(),
      appliedIndex: last.index,
      appliedTerm: last.term,
      confState,
    });
    await batch.write(this.host.engine, { sync: mergedSources.length > 0 });
    this.meta = meta;
    this.mergeState = merging;
    for (const source of mergedSources) this.host.mergeApplied(source, meta);
    for (const split of splits) {
      if (split.created) this.host.splitApplied(split.right, { campaign: this.isLeaderNow });
    }
    this.resolveApplied(last.index, outcomes);
    if (removedSelf) await this.destroy();
  }

  private metaWithConf(meta: ShardMeta, confState: ConfState): ShardMeta {
    const peers: PeerMeta[] = [];
    const add = (ids: readonly number[], role: "voter" | "learner"): void => {
      for (const id of ids) {
        if (peers.some((p) => p.peerId === id)) continue;
        const known = this.peerStores.get(id);
        assert(known !== undefined, `conf change names peer ${id} of no known store`);
        peers.push({ peerId: id, storeId: known.storeId, role });
      }
    };
    add([...confState.voters, ...confState.votersOutgoing], "voter");
    add([...confState.learners, ...confState.learnersNext], "learner");
    peers.sort((a, b) => a.peerId - b.peerId);
    return {
      ...meta,
      peers,
      epoch: { ...meta.epoch, confVersion: meta.epoch.confVersion + 1 },
    };
  }

  /**
   * Applies a CommitMerge on a target peer: `null` (the command's `epochNotMatch`) if the
   * target changed since the merge was planned or the source does not fit; otherwise,
   * after this store's source peer caught up, the widened meta, with the source's
   * tombstone staged in `batch`.
   */
  private async applyCommitMerge(
    command: Extract<ShardCommand, { kind: "commitMerge" }>,
    meta: ShardMeta,
    merging: MergeState | undefined,
    batch: RaftWriteBatch,
  ): Promise<{ meta: ShardMeta; source: ShardPeer } | null> {
    const { source } = command;
    const leftOf = source.endKey.length > 0 && compareBytes(source.endKey, meta.startKey) === 0;
    const rightOf = meta.endKey.length > 0 && compareBytes(meta.endKey, source.startKey) === 0;
    const stores = (m: ShardMeta): string =>
      m.peers.map((p) => p.storeId).sort((a, b) => a - b).join(",");
    if (!sameEpoch(command.epoch, meta.epoch) || merging !== undefined ||
      (!leftOf && !rightOf) || stores(source) !== stores(meta)) {
      return null;
    }
    // Pausing this apply is safe: nothing else of this peer runs meanwhile (one Ready at
    // a time) and the source peer's progress does not depend on this one.
    const peer = await this.host.waitMergeSource(source.id, {
      appliedIndex: command.sourceAppliedIndex,
      epoch: source.epoch,
    });
    assert(peer.merging?.targetShardId === this.shardId,
      `merge source ${source.id} is not merging into ${this.shardId}`);
    peer.markMerged();
    ShardPeer.stageMergedTombstone(batch, { peerId: peer.peerId, shard: peer.shard }, this.shardId);
    const version = Math.max(source.epoch.version, meta.epoch.version) + 1;
    const merged: ShardMeta = {
      ...meta,
      startKey: leftOf ? source.startKey : meta.startKey,
      endKey: leftOf ? meta.endKey : source.endKey,
      epoch: { confVersion: meta.epoch.confVersion, version },
    };
    return { meta: merged, source: peer };
  }

  private applyCommand(
    command: Exclude<ShardCommand, { kind: "commitMerge" }>,
    state: { meta: ShardMeta; merging: MergeState | undefined; index: number },
    batch: RaftWriteBatch,
  ): {
    meta: ShardMeta;
    merging: MergeState | undefined;
    outcome: ApplyOutcome;
    split?: { right: ShardMeta; created: boolean };
  } {
    const { meta, merging } = state;
    const refuse = { meta, merging, outcome: { kind: "epochNotMatch" } } as const;
    switch (command.kind) {
      case "write": {
        if (command.epoch.version !== meta.epoch.version || merging !== undefined) return refuse;
        const bad = this.opOutsideShard(command.ops, meta);
        if (bad !== null && bad.kind === "keyNotInShard") return { meta, merging, outcome: bad };
        for (const op of command.ops) batch.ops.push(op);
        this.flow.wrote(command.ops);
        return { meta, merging, outcome: { kind: "ok" } };
      }
      case "prepareMerge": {
        if (!sameEpoch(command.epoch, meta.epoch) || merging !== undefined) return refuse;
        const epoch = { ...meta.epoch, version: meta.epoch.version + 1 };
        return {
          meta: { ...meta, epoch },
          merging: {
            prepareIndex: state.index,
            targetShardId: command.targetShardId,
            targetEpoch: command.targetEpoch,
          },
          outcome: { kind: "ok" },
        };
      }
      case "rollbackMerge": {
        if (!sameEpoch(command.epoch, meta.epoch) || merging === undefined) return refuse;
        const epoch = { ...meta.epoch, version: meta.epoch.version + 1 };
        return { meta: { ...meta, epoch }, merging: undefined, outcome: { kind: "ok" } };
      }
      case "split": {
        if (!sameEpoch(command.epoch, meta.epoch) || merging !== undefined) return refuse;
        const { splitKey } = command;
        if (compareBytes(splitKey, meta.startKey) <= 0 ||
          !userKeyInRange(splitKey, meta.startKey, meta.endKey)) {
          const outcome = { kind: "keyNotInShard", key: splitKey, shard: meta } as const;
          return { meta, merging, outcome };
        }
        const epoch = { confVersion: meta.epoch.confVersion, version: meta.epoch.version + 1 };
        const left: ShardMeta = { ...meta, endKey: splitKey, epoch };
        const right: ShardMeta = {
          id: command.newShardId,
          startKey: splitKey,
          endKey: meta.endKey,
          epoch,
          peers: meta.peers.map((p, i) => ({ ...p, peerId: command.newPeerIds[i] as number })),
        };
        const mine = right.peers.find((p) => p.storeId === this.host.storeId);
        assert(mine !== undefined, "split of a shard without a peer on this store");
        const target = this.host.splitTarget(right.id);
        if (target.kind === "create") {
          EngineRaftStorage.stageBootstrap(batch, right.id, {
            confState: confStateOf(right.peers),
            ...(target.keepHardState === undefined
              ? {}
              : { keepHardState: { ...target.keepHardState, commitIndex: 0 } }),
          });
          const state: PeerState = {
            peerId: mine.peerId,
            state: "normal",
            initialized: true,
            shard: right,
          };
          const value = encodePeerState(state);
          batch.ops.push({ kind: "put", key: peerStateKey(right.id), value });
        }
        const split = { right, created: target.kind === "create" };
        return { meta: left, merging, outcome: { kind: "ok" }, split };
      }
    }
  }

  private resolveApplied(
    lastIndex: number,
    outcomes: ReadonlyMap<number, { term: number; proposalId: number; outcome: ApplyOutcome }>,
  ): void {
    for (const [index, p] of this.pending) {
      if (index > lastIndex) continue;
      this.pending.delete(index);
      const o = outcomes.get(index);
      if (o === undefined || o.term !== p.term || o.proposalId !== p.proposalId) {
        p.resolve({ kind: "staleCommand" });
      } else if (o.outcome.kind === "epochNotMatch") {
        p.resolve({ kind: "epochNotMatch", current: this.host.currentShards(p.range) });
      } else {
        p.resolve(o.outcome);
      }
    }
  }

  private notifyApplied(): void {
    const applied = this.storage.getApplyState().appliedIndex;
    if (this.appliedWaiters.length === 0) return;
    const still: { index: number; resolve: (ok: boolean) => void }[] = [];
    for (const w of this.appliedWaiters) {
      if (w.index <= applied) w.resolve(true);
      else still.push(w);
    }
    this.appliedWaiters = still;
  }

  /** This peer stopped leading: its proposals' fate is unknown, its reads unconfirmed. */
  private failPending(): void {
    for (const p of this.pending.values()) p.resolve({ kind: "staleCommand" });
    this.pending.clear();
    for (const waiter of this.readWaiters.values()) waiter(null);
    this.readWaiters.clear();
  }

  private async maybeCompact(): Promise<void> {
    const state = this.storage.getApplyState();
    const gcMax = this.host.options.logGcCountMax;
    if (state.appliedIndex - state.truncatedIndex <= gcMax) return;
    let compactIndex = state.appliedIndex;
    if (this.isLeaderNow && state.appliedIndex - state.truncatedIndex <= 4 * gcMax) {
      // Keep what followers that are keeping up still need, so they need no snapshot.
      for (const [id, pr] of this.rawNode.status().progress) {
        if (id !== this.peerId && pr.state === "replicate") {
          compactIndex = Math.min(compactIndex, pr.matchIndex);
        }
      }
    }
    if (compactIndex <= state.truncatedIndex) return;
    const batch = new RaftWriteBatch();
    this.storage.stageCompact(batch, compactIndex);
    await batch.write(this.host.engine, { sync: false });
  }

  /** Removes this peer's state and data; leaves a tombstone naming its peer id. */
  async destroy(): Promise<void> {
    if (this.destroyedFlag) return;
    this.destroyedFlag = true;
    this.failPending();
    for (const w of this.appliedWaiters) w.resolve(false);
    this.appliedWaiters = [];
    const ops: WriteOp[] = [
      { kind: "deleteRange", ...raftLogRange(this.shardId) },
      { kind: "delete", key: hardStateKey(this.shardId) },
      { kind: "delete", key: applyStateKey(this.shardId) },
    ];
    const others = this.host.currentShards(this.meta).filter((s) => s.id !== this.shardId);
    if (this.initialized && others.length === 0) {
      for (const r of dataRanges(this.meta.startKey, this.meta.endKey)) {
        ops.push({ kind: "deleteRange", start: r.start, end: r.end });
      }
    }
    const tomb: PeerState = {
      peerId: this.peerId,
      state: "tombstone",
      initialized: false,
      shard: this.meta,
    };
    ops.push({ kind: "put", key: peerStateKey(this.shardId), value: encodePeerState(tomb) });
    await this.host.engine.write(ops, { sync: true });
    this.host.destroyed(this);
  }

  /** Stops serving (store shutdown): waiting requests get `notLeader`. */
  stop(): void {
    this.destroyedFlag = true;
    this.failPending();
    for (const w of this.appliedWaiters) w.resolve(false);
    this.appliedWaiters = [];
  }
}
