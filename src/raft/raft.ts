/**
 * The Raft state machine of one peer, after etcd-raft and raft-rs: elections with pre-vote
 * and check-quorum, log replication with per-follower progress, commit, snapshots,
 * membership changes (simple and joint), leader transfer, ReadIndex, leader leases and
 * hibernation. It is pure: inputs are messages, ticks and proposals; outputs accumulate in
 * `msgs`, `readStates` and the log's unstable tail until `RawNode.ready()` collects them.
 *
 * Invariants: `term` never decreases and `vote` changes only with it or from null; a
 * leader commits by counting only entries of its own term; at most one membership change
 * is pending (`pendingConfIndex > appliedIndex`) and a new leader takes none until its
 * first entry is applied; a message whose sender is not a member is ignored unless it is
 * a leader's (appends, heartbeats, snapshots reach peers whose configuration lags);
 * `ticksSinceLeaderContact < electionTicks` makes a peer refuse votes (the follower half
 * of the leader lease, also on a fresh start, when the peer cannot know whom it served).
 */
import { assert, limits, unreachable } from "../base/mod.ts";
import type { PeerId } from "../base/mod.ts";
import type { RaftConfig } from "./config.ts";
import { leaseDurationMs, validateRaftOptions } from "./config.ts";
import { applyConfChangeTo } from "./conf_change.ts";
import { RaftLog } from "./log.ts";
import { ProgressTracker } from "./progress.ts";
import { entryBytes } from "./storage.ts";
import type {
  AppendRequest,
  AppendResponse,
  ConfChange,
  ConfState,
  Entry,
  HeartbeatResponse,
  HibernateRequest,
  LeaseReadResult,
  Message,
  ProposeResult,
  ReadIndexResult,
  ReadState,
  Role,
  Snapshot,
  SnapshotRequest,
  VoteRequest,
  VoteResponse,
} from "./types.ts";

type CampaignKind = "preElection" | "election" | "transfer";

interface PendingRead {
  readonly context: string;
  /** The follower that forwarded the request, or null for a local one. */
  readonly from: PeerId | null;
  readonly readIndex: number;
  /** The heartbeat round whose quorum acknowledgement confirms this read. */
  readonly round: number;
}

interface RoundRecord {
  readonly round: number;
  /** Host monotonic time known when the round was broadcast: at or before its sending. */
  readonly sentAtMs: number;
}

/** Test-only deviations from Raft, used to show that the randomized checker finds bugs. */
export interface RaftBugs {
  /** Grant any vote request, even after voting for someone else in the term. */
  readonly voteTwice?: boolean;
}

/** One Raft peer's state machine. `RawNode` is its public face. */
export class Raft {
  readonly id: PeerId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  term = 0;
  vote: PeerId | null = null;
  role: Role = "follower";
  leader: PeerId | null = null;
  /** Messages produced since the last `Ready`. */
  msgs: Message[] = [];
  /** Confirmed reads produced since the last `Ready`. */
  readStates: ReadState[] = [];
  hibernating = false;
  leadTransferee: PeerId | null = null;
  /** Position of the last membership change proposed by this leader (or its first entry). */
  pendingConfIndex = 0;
  /** The latest monotonic time the host told us (`tick(nowMs)`). */
  nowMs = 0;
  bugs: RaftBugs = {};

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTicks = 0;
  private ticksSinceLeaderContact = 0;
  private idleTicks = 0;
  /** Sizes of this leader's uncommitted entries, oldest first, as [index, bytes]. */
  private uncommitted: [number, number][] = [];
  private uncommittedBytes = 0;
  private round = 0;
  private rounds: RoundRecord[] = [];
  private confirmedRound = 0;
  private pendingReads: PendingRead[] = [];
  private readsAwaitingCommit: { context: string; from: PeerId | null }[] = [];
  private leaseStartMs = Number.NEGATIVE_INFINITY;
  /** A term known to have a committed entry of its own (see `committedInCurrentTerm`). */
  private termWithCommit = -1;
  /** Only heartbeat rounds from here on may earn a lease in this term. */
  private leaseMinRound = 1;

  constructor(config: RaftConfig) {
    validateRaftOptions(config);
    this.id = config.id;
    this.config = config;
    this.log = new RaftLog(config.storage, config.appliedIndex ?? 0);
    this.tracker = new ProgressTracker(config.inflightMessagesMax);
    const { hardState, confState } = config.storage.initialState();
    this.tracker.applyConfState(confState, this.log.lastIndex() + 1);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.becomeFollower(this.term, null);
    // A restarted peer may have acknowledged a leader's lease just before it stopped: it
    // must not vote for an election timeout (see the file comment).
    this.ticksSinceLeaderContact = 0;
  }

  // ---- Inputs ----------------------------------------------------------------------

  /** Advances logical time by one tick; `nowMs` is the host's monotonic clock. */
  tick(nowMs: number): void {
    this.observeTime(nowMs);
    if (this.hibernating) return;
    if (this.role === "leader") this.tickLeader();
    else this.tickElection();
  }

  observeTime(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }

  /** Starts an election now (a host bootstrapping a group, or a test). */
  campaign(): void {
    this.wake();
    this.hup(this.config.preVote ? "preElection" : "election");
  }

  step(m: Message): void {
    if (m.to !== this.id) return;
    const fromLeader =
      m.kind === "append" ||
      m.kind === "heartbeat" ||
      m.kind === "snapshot" ||
      m.kind === "hibernate" ||
      m.kind === "readIndexResponse";
    if (!fromLeader && !this.tracker.progress.has(m.from)) return;
    if (m.term >= this.term && this.hibernating) this.wake();

    if (m.term > this.term) {
      if (m.kind === "vote" || m.kind === "preVote") {
        const inLease =
          this.config.checkQuorum &&
          this.ticksSinceLeaderContact < this.config.electionTicks &&
          !this.bugs.voteTwice;
        if (inLease && !m.transfer) return;
      }
      if (m.kind === "preVote") {
        // A pre-vote never changes our term.
      } else if (m.kind === "preVoteResponse" && !m.reject) {
        // Granted pre-votes carry the term we would campaign in; counted below.
      } else if (fromLeader && m.kind !== "readIndexResponse") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if (
        (this.config.checkQuorum || this.config.preVote) &&
        (m.kind === "append" || m.kind === "heartbeat" || m.kind === "snapshot" ||
          m.kind === "hibernate")
      ) {
        // Tell a stale leader about the newer term so it steps down; without this a
        // partitioned leader that returns would never learn it was replaced.
        this.send(appendAck(m.from, this.id, this.term, 0));
      } else if (m.kind === "preVote") {
        this.send({ kind: "preVoteResponse", from: this.id, to: m.from, term: this.term,
          reject: true });
      }
      return;
    }

    switch (m.kind) {
      case "vote":
      case "preVote":
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case "leader":
        this.stepLeader(m);
        return;
      case "candidate":
      case "preCandidate":
        this.stepCandidate(m);
        return;
      case "follower":
        this.stepFollower(m);
        return;
      default:
        unreachable(this.role, "role");
    }
  }

  propose(data: Uint8Array): ProposeResult {
    const refused = this.checkCanPropose();
    if (refused !== null) return refused;
    return this.appendProposal({ kind: "normal", term: this.term, index: 0, data });
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    const refused = this.checkCanPropose();
    if (refused !== null) return refused;
    if (this.pendingConfIndex > this.log.appliedIndex) return { kind: "confChangePending" };
    const outcome = applyConfChangeTo(this.tracker.confState(), change);
    if (outcome.kind === "invalid") return { kind: "confChangeInvalid", reason: outcome.reason };
    const result = this.appendProposal({ kind: "confChange", term: this.term, index: 0, change });
    if (result.kind === "ok") this.pendingConfIndex = result.index;
    return result;
  }

  /**
   * Applies a committed membership change (the host calls it when it applies the entry).
   * Every peer applies the same changes in the same order, so an invalid change (which a
   * leader never proposes) is skipped identically everywhere.
   */
  applyConfChange(change: ConfChange): ConfState {
    const outcome = applyConfChangeTo(this.tracker.confState(), change);
    if (outcome.kind === "ok") this.switchToConfig(outcome.confState);
    return this.tracker.confState();
  }

  readIndex(context: string): ReadIndexResult {
    this.wake();
    if (this.role !== "leader") {
      if (this.leader === null) return { kind: "notLeader", leader: null };
      this.send({ kind: "readIndex", from: this.id, to: this.leader, term: this.term, context });
      return { kind: "queued" };
    }
    return this.leaderReadIndex(context, null);
  }

  leaseRead(nowMs: number): LeaseReadResult {
    this.observeTime(nowMs);
    if (!this.config.leaseReads) return { kind: "noLease", reason: "lease reads disabled" };
    if (this.role !== "leader") return { kind: "noLease", reason: "not leader" };
    if (this.hibernating) return { kind: "noLease", reason: "hibernating" };
    if (this.leadTransferee !== null) return { kind: "noLease", reason: "transferring" };
    if (!this.committedInCurrentTerm()) {
      return { kind: "noLease", reason: "no entry committed in this term yet" };
    }
    if (this.selfIsQuorum()) return { kind: "ok", readIndex: this.log.commitIndex };
    if (!(nowMs < this.leaseStartMs + leaseDurationMs(this.config))) {
      return { kind: "noLease", reason: "lease expired" };
    }
    return { kind: "ok", readIndex: this.log.commitIndex };
  }

  transferLeader(transferee: PeerId): void {
    this.wake();
    if (this.role !== "leader") return;
    if (transferee === this.id || !this.tracker.isVoter(transferee)) return;
    if (this.leadTransferee === transferee) return;
    this.leadTransferee = transferee;
    // The transfer must finish within an election timeout or it is abandoned.
    this.electionElapsed = 0;
    const pr = this.tracker.progress.get(transferee);
    if (pr !== undefined && pr.matchIndex === this.log.lastIndex()) {
      this.sendTimeoutNow(transferee);
    } else {
      this.sendAppend(transferee);
    }
  }

  reportUnreachable(peer: PeerId): void {
    if (this.role !== "leader") return;
    const pr = this.tracker.progress.get(peer);
    if (pr !== undefined && pr.state === "replicate") pr.becomeProbe();
  }

  reportSnapshot(peer: PeerId, options: { succeeded: boolean }): void {
    if (this.role !== "leader") return;
    const pr = this.tracker.progress.get(peer);
    if (pr === undefined || pr.state !== "snapshot") return;
    if (!options.succeeded) pr.pendingSnapshotIndex = 0;
    pr.becomeProbe();
    // Wait for the next heartbeat answer before probing again.
    pr.probeSent = true;
  }

  /** Leaves hibernation (any message, proposal or the host's store liveness does this). */
  wake(): void {
    if (!this.hibernating) return;
    this.hibernating = false;
    this.idleTicks = 0;
    if (this.role === "leader") {
      this.electionElapsed = 0;
      this.heartbeatElapsed = 0;
      for (const pr of this.tracker.progress.values()) {
        pr.hibernateAcked = false;
        pr.recentActive = true;
      }
      this.bcastHeartbeat();
    }
  }

  /** The host applied entries (or a snapshot) up to `appliedIndex`. */
  appliedTo(appliedIndex: number): void {
    this.log.appliedTo(appliedIndex);
    if (
      this.role === "leader" &&
      this.tracker.autoLeave &&
      this.tracker.isJoint() &&
      appliedIndex >= this.pendingConfIndex
    ) {
      // Leave the joint configuration on the leader's own initiative (etcd's autoLeave).
      const result = this.appendProposal({
        kind: "confChange",
        term: this.term,
        index: 0,
        change: { changes: [], transition: "auto" },
      });
      if (result.kind === "ok") this.pendingConfIndex = result.index;
    }
  }

  // ---- Role changes ----------------------------------------------------------------

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks =
      this.config.electionTicks + this.config.prng.nextInt(this.config.electionTicks);
    this.leadTransferee = null;
    this.tracker.resetVotes();
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.tracker.progress) {
      pr.matchIndex = 0;
      pr.nextIndex = next;
      pr.state = "probe";
      pr.probeSent = false;
      pr.pendingSnapshotIndex = 0;
      pr.recentActive = false;
      pr.ackedRound = 0;
      pr.hibernateAcked = false;
      pr.inflights.reset();
      if (id === this.id) pr.matchIndex = this.log.lastIndex();
    }
    this.uncommitted = [];
    this.uncommittedBytes = 0;
    this.round = 0;
    this.rounds = [];
    this.confirmedRound = 0;
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
    this.leaseStartMs = Number.NEGATIVE_INFINITY;
    this.leaseMinRound = 1;
    this.idleTicks = 0;
    this.hibernating = false;
  }

  becomeFollower(term: number, leader: PeerId | null): void {
    this.reset(term);
    this.role = "follower";
    this.leader = leader;
    if (leader !== null) this.ticksSinceLeaderContact = 0;
  }

  private becomePreCandidate(): void {
    assert(this.role !== "leader", "leader cannot become pre-candidate");
    this.role = "preCandidate";
    this.tracker.resetVotes();
    this.leader = null;
  }

  private becomeCandidate(): void {
    assert(this.role !== "leader", "leader cannot become candidate");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
  }

  private becomeLeader(): void {
    assert(this.role === "candidate", "only a candidate becomes leader");
    this.reset(this.term);
    this.role = "leader";
    this.leader = this.id;
    this.ticksSinceLeaderContact = 0;
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // No membership change until this leader's own first entry is applied: earlier
    // terms may hold an uncommitted change, and committing an entry of its own term is
    // what settles them (the fix for the single-server change bug in Ongaro's thesis).
    const empty: Entry = { kind: "normal", term: this.term, index: 0, data: new Uint8Array(0) };
    this.pendingConfIndex = this.appendEntries([empty]);
  }

  private hup(kind: CampaignKind): void {
    if (this.role === "leader") return;
    if (!this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return;
    this.runCampaign(kind);
  }

  private runCampaign(kind: CampaignKind): void {
    let voteKind: "vote" | "preVote";
    let campaignTerm: number;
    if (kind === "preElection") {
      this.becomePreCandidate();
      voteKind = "preVote";
      campaignTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteKind = "vote";
      campaignTerm = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes() === "won") {
      if (kind === "preElection") this.runCampaign("election");
      else this.becomeLeader();
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const id of this.tracker.voterIds()) {
      if (id === this.id) continue;
      this.send({
        kind: voteKind,
        from: this.id,
        to: id,
        term: campaignTerm,
        lastLogIndex,
        lastLogTerm,
        transfer: kind === "transfer",
      });
    }
  }

  private promotable(): boolean {
    return this.tracker.isVoter(this.id) && this.log.unstableSnapshot === null;
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.commitIndex <= this.log.appliedIndex) return false;
    const entries = this.log.slice(
      Math.max(this.log.appliedIndex + 1, this.log.firstIndex()),
      this.log.commitIndex + 1,
      Number.MAX_SAFE_INTEGER,
    );
    return entries !== null && entries.some((e) => e.kind === "confChange");
  }

  // ---- Ticks -------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.ticksSinceLeaderContact < this.config.electionTicks) this.ticksSinceLeaderContact++;
    if (this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.hup(this.config.preVote ? "preElection" : "election");
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        if (!this.tracker.quorumActive(this.id)) {
          this.becomeFollower(this.term, null);
          return;
        }
        for (const [id, pr] of this.tracker.progress) {
          if (id !== this.id) pr.recentActive = false;
        }
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = null;
    }
    if (this.config.hibernate && this.tickHibernation()) return;
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  /** Runs the leader's hibernation protocol; true if it replaced this tick's heartbeat. */
  private tickHibernation(): boolean {
    if (!this.isIdle()) {
      this.idleTicks = 0;
      for (const pr of this.tracker.progress.values()) pr.hibernateAcked = false;
      return false;
    }
    this.idleTicks++;
    if (this.idleTicks < this.config.hibernateIdleTicks) return false;
    if (this.maybeSleep()) return true;
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      const lastIndex = this.log.lastIndex();
      for (const [id, pr] of this.tracker.progress) {
        if (id === this.id || pr.hibernateAcked) continue;
        this.send({
          kind: "hibernate",
          from: this.id,
          to: id,
          term: this.term,
          lastIndex,
          lastTerm: this.log.lastTerm(),
          commitIndex: this.log.commitIndex,
        });
      }
    }
    return true;
  }

  private isIdle(): boolean {
    const last = this.log.lastIndex();
    if (this.leadTransferee !== null || this.tracker.isJoint()) return false;
    if (this.pendingReads.length > 0 || this.readsAwaitingCommit.length > 0) return false;
    if (this.log.commitIndex !== last || this.log.appliedIndex !== last) return false;
    for (const [id, pr] of this.tracker.progress) {
      if (id !== this.id && (pr.matchIndex !== last || pr.state === "snapshot")) return false;
    }
    return true;
  }

  /** Sleeps once every peer acknowledged hibernation; a sleeping leader holds no lease. */
  private maybeSleep(): boolean {
    for (const [id, pr] of this.tracker.progress) {
      if (id !== this.id && !pr.hibernateAcked) return false;
    }
    this.hibernating = true;
    this.leaseStartMs = Number.NEGATIVE_INFINITY;
    this.leaseMinRound = this.round + 1;
    this.rounds = [];
    return true;
  }

  // ---- Message handling ------------------------------------------------------------

  private handleVoteRequest(m: VoteRequest): void {
    const responseKind = m.kind === "vote" ? "voteResponse" : "preVoteResponse";
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (m.kind === "preVote" && m.term > this.term) ||
      this.bugs.voteTwice === true;
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      // A granted pre-vote answers in the campaign's term, so the pre-candidate counts it.
      this.send({ kind: responseKind, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.kind === "vote") {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ kind: responseKind, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.kind) {
      case "appendResponse":
        this.handleAppendResponse(m);
        return;
      case "heartbeatResponse":
        this.handleHeartbeatResponse(m);
        return;
      case "readIndex": {
        const result = this.leaderReadIndex(m.context, m.from);
        if (result.kind !== "queued") return; // The follower's host times the read out.
        return;
      }
      case "hibernateResponse": {
        const pr = this.tracker.progress.get(m.from);
        if (pr === undefined) return;
        pr.recentActive = true;
        if (m.ok && m.lastIndex === this.log.lastIndex() && this.isIdle()) {
          pr.hibernateAcked = true;
          if (this.idleTicks >= this.config.hibernateIdleTicks) this.maybeSleep();
        }
        return;
      }
      default:
        // Vote answers from an election this leader already won, or leader messages of
        // our own term (impossible: one leader per term).
        return;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.kind) {
      case "append":
      case "heartbeat":
      case "snapshot":
      case "hibernate":
        // Someone won this term.
        this.becomeFollower(this.term, m.from);
        this.stepFollower(m);
        return;
      case "voteResponse":
      case "preVoteResponse":
        this.handleVoteResponse(m);
        return;
      case "readIndexResponse":
        this.readStates.push({ readIndex: m.readIndex, context: m.context });
        return;
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.kind) {
      case "append":
        this.leaderContact(m.from);
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.leaderContact(m.from);
        this.log.commitTo(Math.min(m.commitIndex, this.log.lastIndex()));
        this.send({
          kind: "heartbeatResponse",
          from: this.id,
          to: m.from,
          term: this.term,
          round: m.round,
        });
        return;
      case "snapshot":
        this.leaderContact(m.from);
        this.handleSnapshot(m);
        return;
      case "hibernate":
        this.leaderContact(m.from);
        this.handleHibernate(m);
        return;
      case "timeoutNow":
        // Only this term's leader sends it, and only to an up-to-date peer.
        if (this.promotable()) this.runCampaign("transfer");
        return;
      case "readIndexResponse":
        this.readStates.push({ readIndex: m.readIndex, context: m.context });
        return;
      default:
        return;
    }
  }

  private leaderContact(from: PeerId): void {
    this.electionElapsed = 0;
    this.ticksSinceLeaderContact = 0;
    this.leader = from;
  }

  private handleVoteResponse(m: VoteResponse): void {
    const expected = this.role === "preCandidate" ? "preVoteResponse" : "voteResponse";
    if (m.kind !== expected) return;
    this.tracker.recordVote(m.from, !m.reject);
    switch (this.tracker.tallyVotes()) {
      case "won":
        if (this.role === "preCandidate") {
          this.runCampaign("election");
        } else {
          this.becomeLeader();
          this.bcastAppend();
        }
        return;
      case "lost":
        this.becomeFollower(this.term, null);
        return;
      case "pending":
        return;
    }
  }

  private handleAppend(m: AppendRequest): void {
    if (m.prevLogIndex < this.log.commitIndex) {
      this.send(appendAck(m.from, this.id, this.term, this.log.commitIndex));
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.commitIndex, m.entries);
    if (lastNew !== null) {
      this.send(appendAck(m.from, this.id, this.term, lastNew));
      return;
    }
    const hint = this.log.findConflictByTerm(
      Math.min(m.prevLogIndex, this.log.lastIndex()),
      m.prevLogTerm,
    );
    this.send({
      kind: "appendResponse",
      from: this.id,
      to: m.from,
      term: this.term,
      reject: true,
      matchIndex: 0,
      rejectedIndex: m.prevLogIndex,
      hintIndex: hint.index,
      hintTerm: hint.term,
    });
  }

  private handleSnapshot(m: SnapshotRequest): void {
    if (this.restore(m.snapshot)) {
      this.send(appendAck(m.from, this.id, this.term, this.log.lastIndex()));
    } else {
      this.send(appendAck(m.from, this.id, this.term, this.log.commitIndex));
    }
  }

  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.commitIndex) return false;
    if (!confIncludes(confState, this.id)) return false;
    if (this.log.matchTerm(index, term)) {
      // We have the entries already: just learn that they are committed.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker.applyConfState(confState, this.log.lastIndex() + 1);
    return true;
  }

  private handleHibernate(m: HibernateRequest): void {
    const matches =
      this.config.hibernate &&
      this.log.lastIndex() === m.lastIndex &&
      this.log.matchTerm(m.lastIndex, m.lastTerm);
    if (matches) {
      this.log.commitTo(m.commitIndex);
      this.hibernating = true;
    }
    this.send({
      kind: "hibernateResponse",
      from: this.id,
      to: m.from,
      term: this.term,
      lastIndex: m.lastIndex,
      ok: matches,
    });
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.reject) {
      let next = m.hintIndex;
      if (m.hintTerm > 0) next = this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
      if (pr.maybeDecreaseTo(m.rejectedIndex, next)) {
        if (pr.state === "replicate") pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.matchIndex)) return;
    switch (pr.state) {
      case "probe":
        pr.becomeReplicate();
        break;
      case "snapshot":
        if (pr.matchIndex >= pr.pendingSnapshotIndex) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case "replicate":
        pr.inflights.freeLE(m.matchIndex);
        break;
    }
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else if (wasPaused) {
      this.sendAppend(m.from);
    }
    while (this.maybeSendAppend(m.from, false)) {
      // Fill the in-flight window.
    }
    if (m.from === this.leadTransferee && pr.matchIndex === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    // Appends may have been lost: free one slot of a full window so the next append
    // goes out; a gap makes the follower reject it, which restarts from its match.
    if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (m.round > pr.ackedRound) {
      pr.ackedRound = m.round;
      this.advanceConfirmedRound();
    }
    if (pr.matchIndex < this.log.lastIndex()) this.sendAppend(m.from);
  }

  // ---- Reads and leases --------------------------------------------------------------

  private leaderReadIndex(context: string, from: PeerId | null): ReadIndexResult {
    const pending = this.pendingReads.length + this.readsAwaitingCommit.length;
    if (pending >= limits.raftReadIndexPendingMax) return { kind: "tooManyPending" };
    if (!this.committedInCurrentTerm()) {
      // The commit index of a new leader may lag what was committed before it: wait for
      // its first entry to commit.
      this.readsAwaitingCommit.push({ context, from });
      return { kind: "queued" };
    }
    this.startRead(context, from);
    return { kind: "queued" };
  }

  private startRead(context: string, from: PeerId | null): void {
    const readIndex = this.log.commitIndex;
    if (this.selfIsQuorum()) {
      this.deliverRead({ context, from, readIndex, round: 0 });
      return;
    }
    const round = this.bcastHeartbeat();
    this.pendingReads.push({ context, from, readIndex, round });
  }

  private deliverRead(read: PendingRead): void {
    if (read.from === null) {
      this.readStates.push({ readIndex: read.readIndex, context: read.context });
    } else {
      this.send({
        kind: "readIndexResponse",
        from: this.id,
        to: read.from,
        term: this.term,
        context: read.context,
        readIndex: read.readIndex,
      });
    }
  }

  private advanceConfirmedRound(): void {
    const confirmed = this.tracker.quorumValue((p) =>
      p === this.id ? this.round : (this.tracker.progress.get(p)?.ackedRound ?? 0),
    );
    if (confirmed <= this.confirmedRound) return;
    this.confirmedRound = confirmed;
    let n = 0;
    while (n < this.rounds.length && (this.rounds[n] as RoundRecord).round <= confirmed) {
      const record = this.rounds[n] as RoundRecord;
      if (record.round === confirmed && record.round >= this.leaseMinRound) {
        this.leaseStartMs = Math.max(this.leaseStartMs, record.sentAtMs);
      }
      n++;
    }
    if (n > 0) this.rounds.splice(0, n);
    let r = 0;
    for (; r < this.pendingReads.length; r++) {
      const read = this.pendingReads[r] as PendingRead;
      if (read.round > confirmed) break;
      this.deliverRead(read);
    }
    if (r > 0) this.pendingReads.splice(0, r);
  }

  /**
   * Whether an entry of the current term is committed. Once true it stays true for the
   * term (the commit index only grows, and terms grow along the log), so the answer is
   * remembered: every lease read asks, and the log's term lookup may read storage.
   */
  private committedInCurrentTerm(): boolean {
    if (this.termWithCommit === this.term) return true;
    if (this.log.term(this.log.commitIndex) !== this.term) return false;
    this.termWithCommit = this.term;
    return true;
  }

  private selfIsQuorum(): boolean {
    return this.tracker.quorumValue((p) => (p === this.id ? 1 : 0)) === 1;
  }

  private revokeLease(): void {
    this.leaseStartMs = Number.NEGATIVE_INFINITY;
    this.leaseMinRound = Number.POSITIVE_INFINITY;
  }

  // ---- Replication -------------------------------------------------------------------

  private checkCanPropose(): ProposeResult | null {
    this.wake();
    if (this.role !== "leader") return { kind: "notLeader", leader: this.leader };
    if (this.leadTransferee !== null) return { kind: "transferring" };
    return null;
  }

  private appendProposal(entry: Entry): ProposeResult {
    const bytes = entryBytes(entry);
    const total = this.uncommittedBytes + bytes;
    if (this.uncommittedBytes > 0 && total > this.config.uncommittedBytesMax) {
      return { kind: "tooManyUncommitted" };
    }
    const index = this.appendEntries([entry]);
    this.bcastAppend();
    return { kind: "ok", index, term: this.term };
  }

  /** Appends entries to the leader's log, numbering them. Returns the last index. */
  private appendEntries(entries: Entry[]): number {
    let index = this.log.lastIndex();
    const numbered: Entry[] = [];
    for (const e of entries) {
      index++;
      numbered.push({ ...e, term: this.term, index });
      const bytes = entryBytes(e);
      this.uncommitted.push([index, bytes]);
      this.uncommittedBytes += bytes;
    }
    this.log.append(numbered);
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) self.maybeUpdate(index);
    this.maybeCommit();
    return index;
  }

  private maybeCommit(): boolean {
    const hadCommitted = this.committedInCurrentTerm();
    if (!this.log.maybeCommit(this.tracker.committedIndex(), this.term)) return false;
    let n = 0;
    while (n < this.uncommitted.length && (this.uncommitted[n] as [number, number])[0] <=
        this.log.commitIndex) {
      this.uncommittedBytes -= (this.uncommitted[n] as [number, number])[1];
      n++;
    }
    if (n > 0) this.uncommitted.splice(0, n);
    if (!hadCommitted && this.role === "leader") {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const r of waiting) this.startRead(r.context, r.from);
    }
    return true;
  }

  private sendAppend(to: PeerId): void {
    this.maybeSendAppend(to, true);
  }

  private maybeSendAppend(to: PeerId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || to === this.id || pr.isPaused()) return false;
    const prevLogIndex = pr.nextIndex - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    const entries =
      prevLogTerm === null
        ? null
        : this.log.entriesFrom(
            pr.nextIndex,
            this.config.messageEntriesBytesMax,
            this.config.messageEntriesMax,
          );
    if (prevLogTerm === null || entries === null) {
      // The follower needs entries we compacted: send a snapshot, if it is alive.
      if (!pr.recentActive) return false;
      const snapshot = this.log.snapshot();
      // A snapshot taken before the peer joined would be refused by it: wait for the host
      // to take a newer one.
      if (snapshot === null || !confIncludes(snapshot.metadata.confState, to)) return false;
      assert(snapshot.metadata.index > 0, "compacted log without a snapshot");
      this.send({ kind: "snapshot", from: this.id, to, term: this.term, snapshot });
      pr.becomeSnapshot(snapshot.metadata.index);
      return true;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({
      kind: "append",
      from: this.id,
      to,
      term: this.term,
      prevLogIndex,
      prevLogTerm,
      entries,
      commitIndex: this.log.commitIndex,
    });
    const last = entries.length === 0 ? prevLogIndex : (entries[entries.length - 1] as Entry).index;
    pr.sentEntries(entries.length, last);
    return true;
  }

  private bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  /** Sends a heartbeat round to every peer; returns the round number. */
  private bcastHeartbeat(): number {
    this.round++;
    if (this.rounds.length >= limits.raftHeartbeatRoundsPendingMax) this.rounds.shift();
    this.rounds.push({ round: this.round, sentAtMs: this.nowMs });
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      this.send({
        kind: "heartbeat",
        from: this.id,
        to: id,
        term: this.term,
        commitIndex: Math.min(pr.matchIndex, this.log.commitIndex),
        round: this.round,
      });
    }
    // A group whose quorum is this peer alone confirms the round at once.
    this.advanceConfirmedRound();
    return this.round;
  }

  private sendTimeoutNow(to: PeerId): void {
    // The transferee may win an election at once: no more lease reads in this term.
    this.revokeLease();
    this.send({ kind: "timeoutNow", from: this.id, to, term: this.term });
  }

  private switchToConfig(conf: ConfState): void {
    this.tracker.applyConfState(conf, this.log.lastIndex() + 1);
    if (this.role !== "leader") return;
    if (!this.tracker.isVoter(this.id)) {
      // A leader removed or demoted by the change stops leading; hosts transfer
      // leadership away first (as PD does) to avoid the election timeout.
      this.becomeFollower(this.term, null);
      return;
    }
    if (this.leadTransferee !== null && !this.tracker.isVoter(this.leadTransferee)) {
      this.leadTransferee = null;
    }
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else {
      for (const id of this.tracker.progress.keys()) this.maybeSendAppend(id, false);
    }
    // The quorum changed: reads and leases are confirmed against the new one.
    this.advanceConfirmedRound();
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }
}

function appendAck(to: PeerId, from: PeerId, term: number, matchIndex: number): Message {
  return {
    kind: "appendResponse",
    from,
    to,
    term,
    reject: false,
    matchIndex,
    rejectedIndex: 0,
    hintIndex: 0,
    hintTerm: 0,
  };
}

function confIncludes(conf: ConfState, peer: PeerId): boolean {
  return (
    conf.voters.includes(peer) ||
    conf.votersOutgoing.includes(peer) ||
    conf.learners.includes(peer) ||
    conf.learnersNext.includes(peer)
  );
}
