/**
 * What a leader knows about each peer's log (`Progress`), the membership configuration
 * it replicates to (`ProgressTracker`), and the quorum arithmetic over both halves of a
 * joint configuration.
 *
 * A follower's progress is in one of three states. `probe`: the leader does not know
 * where the logs diverge and sends one append per heartbeat interval until an answer
 * arrives. `replicate`: the logs match up to `matchIndex` and the leader streams entries,
 * at most `inflightMax` unacknowledged messages at a time. `snapshot`: the leader sent a
 * snapshot and waits for it to be installed. Invariant: `matchIndex < nextIndex`.
 */
import { assert } from "../base/mod.ts";
import type { PeerId } from "../base/mod.ts";
import type { ConfState } from "./types.ts";

/** A bounded window of in-flight append messages, each recorded by its last index. */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  add(lastIndex: number): void {
    assert(!this.full(), "inflight window overflow");
    this.lastIndexes.push(lastIndex);
  }

  /** Frees every message whose entries end at or before `index` (it was acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && (this.lastIndexes[n] as number) <= index) n++;
    if (n > 0) this.lastIndexes.splice(0, n);
  }

  freeFirstOne(): void {
    this.lastIndexes.shift();
  }

  full(): boolean {
    return this.lastIndexes.length >= this.capacity;
  }

  count(): number {
    return this.lastIndexes.length;
  }

  reset(): void {
    this.lastIndexes.length = 0;
  }
}

export type ProgressState = "probe" | "replicate" | "snapshot";

/** The leader's view of one peer. */
export class Progress {
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = "probe";
  /** In `snapshot` state: the index of the snapshot being installed. */
  pendingSnapshotIndex = 0;
  /** In `probe` state: an append was sent and no answer came since. */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Highest heartbeat round this peer acknowledged in the current term. */
  ackedRound = 0;
  /** The peer acknowledged the current hibernation request. */
  hibernateAcked = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(nextIndex: number, inflightMax: number, isLearner: boolean) {
    this.nextIndex = nextIndex;
    this.inflights = new Inflights(inflightMax);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshotIndex = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === "snapshot") {
      const pending = this.pendingSnapshotIndex;
      this.resetState("probe");
      this.nextIndex = Math.max(this.matchIndex + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.nextIndex = this.matchIndex + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.nextIndex = this.matchIndex + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("snapshot");
    this.pendingSnapshotIndex = snapshotIndex;
  }

  /** Records an append acknowledged up to `index`; false if it was stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.matchIndex < index) {
      this.matchIndex = index;
      updated = true;
      this.probeSent = false;
    }
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    return updated;
  }

  /**
   * Handles a rejection of the append after `rejectedIndex`, with the follower's hint.
   * Returns false if the rejection is stale (answers an older message).
   */
  maybeDecreaseTo(rejectedIndex: number, hintIndex: number): boolean {
    if (this.state === "replicate") {
      if (rejectedIndex <= this.matchIndex) return false;
      this.nextIndex = this.matchIndex + 1;
      return true;
    }
    if (this.nextIndex - 1 !== rejectedIndex) return false;
    this.nextIndex = Math.max(Math.min(rejectedIndex, hintIndex + 1), this.matchIndex + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Records that an append carrying entries up to `lastIndex` was sent. */
  sentEntries(entryCount: number, lastIndex: number): void {
    switch (this.state) {
      case "replicate":
        if (entryCount > 0) {
          this.nextIndex = lastIndex + 1;
          this.inflights.add(lastIndex);
        }
        break;
      case "probe":
        this.probeSent = true;
        break;
      case "snapshot":
        assert(false, "sending entries in snapshot state");
    }
  }

  /** True when the leader must not send this peer more appends for now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  describe(): string {
    const extra = this.state === "snapshot" ? ` pendingSnapshot=${this.pendingSnapshotIndex}` : "";
    return `${this.state} match=${this.matchIndex} next=${this.nextIndex}${extra}`;
  }
}

/** A vote tally outcome. */
export type VoteOutcome = "won" | "lost" | "pending";

/** The `n`-th largest of `values` for a majority of `voters`: what a quorum reached. */
function majorityValue(voters: ReadonlySet<PeerId>, valueOf: (p: PeerId) => number): number {
  if (voters.size === 0) return Number.MAX_SAFE_INTEGER; // An empty half agrees to anything.
  const values: number[] = [];
  for (const v of voters) values.push(valueOf(v));
  values.sort((a, b) => b - a);
  return values[Math.floor(voters.size / 2)] as number;
}

function majorityVote(
  voters: ReadonlySet<PeerId>,
  votes: ReadonlyMap<PeerId, boolean>,
): VoteOutcome {
  if (voters.size === 0) return "won";
  let granted = 0;
  let missing = 0;
  for (const v of voters) {
    const vote = votes.get(v);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return "won";
  if (granted + missing >= quorum) return "pending";
  return "lost";
}

/** The membership configuration a leader replicates to, and its peers' progress. */
export class ProgressTracker {
  voters = new Set<PeerId>();
  votersOutgoing = new Set<PeerId>();
  learners = new Set<PeerId>();
  learnersNext = new Set<PeerId>();
  autoLeave = false;
  progress = new Map<PeerId, Progress>();
  votes = new Map<PeerId, boolean>();
  private readonly inflightMax: number;

  constructor(inflightMax: number) {
    this.inflightMax = inflightMax;
  }

  /** Loads a configuration, keeping progress of peers that stay, adding new ones. */
  applyConfState(conf: ConfState, nextIndex: number): void {
    this.voters = new Set(conf.voters);
    this.votersOutgoing = new Set(conf.votersOutgoing);
    this.learners = new Set(conf.learners);
    this.learnersNext = new Set(conf.learnersNext);
    this.autoLeave = conf.autoLeave;
    const members = this.members();
    for (const id of [...this.progress.keys()]) {
      if (!members.has(id)) this.progress.delete(id);
    }
    for (const id of members) {
      const isLearner = this.learners.has(id);
      const pr = this.progress.get(id);
      if (pr === undefined) {
        const fresh = new Progress(nextIndex, this.inflightMax, isLearner);
        // A new peer counts as active so check-quorum gives it an election timeout to
        // catch up before the leader steps down for lack of it.
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      } else {
        pr.isLearner = isLearner;
      }
    }
  }

  confState(): ConfState {
    return {
      voters: sorted(this.voters),
      votersOutgoing: sorted(this.votersOutgoing),
      learners: sorted(this.learners),
      learnersNext: sorted(this.learnersNext),
      autoLeave: this.autoLeave,
    };
  }

  /** Every peer with progress: voters of both halves and learners. */
  members(): Set<PeerId> {
    const all = new Set<PeerId>(this.voters);
    for (const id of this.votersOutgoing) all.add(id);
    for (const id of this.learners) all.add(id);
    for (const id of this.learnersNext) all.add(id);
    return all;
  }

  isVoter(id: PeerId): boolean {
    return this.voters.has(id) || this.votersOutgoing.has(id);
  }

  isJoint(): boolean {
    return this.votersOutgoing.size > 0;
  }

  /** Voters of both halves, ascending. */
  voterIds(): PeerId[] {
    const all = new Set<PeerId>(this.voters);
    for (const id of this.votersOutgoing) all.add(id);
    return sorted(all);
  }

  /** The highest value a quorum of both halves has reached. */
  quorumValue(valueOf: (p: PeerId) => number): number {
    const incoming = majorityValue(this.voters, valueOf);
    if (!this.isJoint()) return incoming === Number.MAX_SAFE_INTEGER ? 0 : incoming;
    const outgoing = majorityValue(this.votersOutgoing, valueOf);
    const v = Math.min(incoming, outgoing);
    return v === Number.MAX_SAFE_INTEGER ? 0 : v;
  }

  /** The highest index a quorum has matched. */
  committedIndex(): number {
    return this.quorumValue((p) => this.progress.get(p)?.matchIndex ?? 0);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: PeerId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteOutcome {
    const a = majorityVote(this.voters, this.votes);
    if (!this.isJoint()) return a;
    const b = majorityVote(this.votersOutgoing, this.votes);
    if (a === "lost" || b === "lost") return "lost";
    if (a === "won" && b === "won") return "won";
    return "pending";
  }

  /** True if a quorum of voters was recently active (`self` always is). */
  quorumActive(self: PeerId): boolean {
    const votes = new Map<PeerId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, id === self || pr.recentActive || pr.hibernateAcked);
    }
    const a = majorityVote(this.voters, votes);
    if (!this.isJoint()) return a === "won";
    return a === "won" && majorityVote(this.votersOutgoing, votes) === "won";
  }
}

export function sorted(ids: Iterable<PeerId>): PeerId[] {
  return [...ids].sort((a, b) => a - b);
}
