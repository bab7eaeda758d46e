/**
 * `RawNode`: the public face of one Raft peer. The host feeds it ticks, messages and
 * proposals, then drains its effects as a `Ready` and acknowledges them with `advance`.
 *
 * Invariants: at most one `Ready` is outstanding (handed out and not yet advanced); every
 * entry, hard state and snapshot appears in exactly one `Ready`; committed entries are
 * handed out in log order, each once (until a restart, which hands out everything after
 * the configured `appliedIndex` again).
 *
 * Hibernation: a leader whose group is idle (everything committed, applied and
 * replicated, no reads or transfer pending) for `hibernateIdleTicks` asks its peers to
 * hibernate; a peer whose log matches goes to sleep and says so; once all have, the leader
 * sleeps too. A sleeping peer ignores ticks (the host may stop calling `tick`, so
 * thousands of idle groups cost nothing) and sends nothing. Any message of the current
 * term or newer, a proposal, a read or `wake()` wakes it; a waking leader heartbeats at
 * once, which wakes its followers. A sleeping leader holds no lease. A sleeping follower
 * cannot notice its leader died: the host must `wake()` the groups of a store it learns is
 * down (store liveness), as TiKV does.
 */
import { assert } from "../base/mod.ts";
import type { PeerId } from "../base/mod.ts";
import type { RaftConfig } from "./config.ts";
import { Raft } from "./raft.ts";
import type { RaftBugs } from "./raft.ts";
import type { ProgressState } from "./progress.ts";
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  LeaseReadResult,
  Message,
  ProposeResult,
  ReadIndexResult,
  ReadState,
  Role,
  Snapshot,
  SoftState,
} from "./types.ts";

/**
 * Effects for the host to carry out, in this order:
 * 1. Persist `snapshot` (if any), then append `entries` (overwriting any conflicting
 *    suffix of the stored log), then `hardState` (if any) — durably (fsync'ed) when
 *    `mustSync` — before step 2. Votes and append acknowledgements among `messages` are
 *    promises about this state; sending them first loses committed data on a crash.
 * 2. Send `messages` (in any order; the network may drop or reorder them).
 * 3. Apply `snapshot` to the state machine, then `committedEntries` in order, calling
 *    `RawNode.applyConfChange` for each `confChange` entry; serve `readStates` once the
 *    state machine has applied `readIndex`.
 * 4. Call `RawNode.advance(ready)`.
 */
export interface Ready {
  /** The new soft state, if it changed. */
  readonly softState: SoftState | null;
  /** The new hard state, if it changed. */
  readonly hardState: HardState | null;
  /** Entries to append to stable storage. */
  readonly entries: readonly Entry[];
  /** A snapshot to persist and apply, replacing the log. */
  readonly snapshot: Snapshot | null;
  /** Committed entries to apply to the state machine. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send after persisting. */
  readonly messages: readonly Message[];
  /** Confirmed linearizable read points. */
  readonly readStates: readonly ReadState[];
  /** True if the writes of step 1 must be synced to disk before step 2. */
  readonly mustSync: boolean;
}

/** A snapshot of a peer's state for hosts, tests and operators. */
export interface RaftStatus {
  readonly id: PeerId;
  readonly term: number;
  readonly vote: PeerId | null;
  readonly role: Role;
  readonly leader: PeerId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly hibernating: boolean;
  readonly leadTransferee: PeerId | null;
  readonly confState: ConfState;
  /** The leader's view of each peer; empty on other roles. */
  readonly progress: ReadonlyMap<PeerId, PeerProgress>;
}

/** The leader's view of one peer. */
export interface PeerProgress {
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly state: ProgressState;
  readonly inflight: number;
}

/** One Raft peer, driven by its host. */
export class RawNode {
  private readonly raft: Raft;
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private outstanding: Ready | null = null;

  /** Starts (or restarts) a peer from `config.storage`. */
  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevHardState = this.hardState();
    this.prevSoftState = this.softState();
  }

  /**
   * Advances the peer's logical clock by one tick. Call every `tickIntervalMs` of
   * monotonic time, never faster; `nowMs` is that monotonic time (the lease clock).
   */
  tick(nowMs: number): void {
    this.raft.tick(nowMs);
  }

  /** Handles a message from another peer. Unknown senders and stale terms are ignored. */
  step(message: Message): void {
    this.raft.step(message);
  }

  /** Starts an election at once (bootstrapping a group); normally ticks do this. */
  campaign(): void {
    this.raft.campaign();
  }

  /** Proposes a command; on a leader it is appended and replicated. */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(data);
  }

  /**
   * Proposes a membership change. Refused while another is pending (proposed and not yet
   * applied), before this leader's first entry is applied, and if invalid now.
   */
  proposeConfChange(change: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(change);
  }

  /** Applies a committed membership change; returns the configuration now in force. */
  applyConfChange(change: ConfChange): ConfState {
    return this.raft.applyConfChange(change);
  }

  /**
   * Asks for a linearizable read point. The answer comes as a `ReadState` with the same
   * `context` in a later `Ready`, or never (leadership changed, a message was lost): the
   * host times reads out and retries. A follower forwards the request to its leader.
   */
  readIndex(context: string): ReadIndexResult {
    return this.raft.readIndex(context);
  }

  /**
   * A read point from the leader lease, without a network round, if the lease holds at
   * monotonic time `nowMs`. The lease started when the last heartbeat round a quorum
   * acknowledged was sent and lasts `leaseDurationMs(config)`; a leader that stalled past
   * it, is hibernating, or is transferring leadership has none.
   */
  leaseRead(nowMs: number): LeaseReadResult {
    return this.raft.leaseRead(nowMs);
  }

  /** Asks the leader to hand leadership to `transferee` (a voter); no-op elsewhere. */
  transferLeader(transferee: PeerId): void {
    this.raft.transferLeader(transferee);
  }

  /** The transport could not reach `peer`: stop streaming to it until it answers. */
  reportUnreachable(peer: PeerId): void {
    this.raft.reportUnreachable(peer);
  }

  /** The snapshot sent to `peer` was installed, or failed to be delivered. */
  reportSnapshot(peer: PeerId, options: { succeeded: boolean }): void {
    this.raft.reportSnapshot(peer, options);
  }

  /** Leaves hibernation (see the file comment). */
  wake(): void {
    this.raft.wake();
  }

  /** True while hibernating: the host may skip `tick` calls. */
  isHibernating(): boolean {
    return this.raft.hibernating;
  }

  /** True if `ready()` has something to hand out. */
  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    const r = this.raft;
    const log = r.log;
    return (
      r.msgs.length > 0 ||
      log.unstableEntries.length > 0 ||
      log.unstableSnapshot !== null ||
      r.readStates.length > 0 ||
      log.hasNextCommittedEntries() ||
      !sameSoftState(this.softState(), this.prevSoftState) ||
      !sameHardState(this.hardState(), this.prevHardState)
    );
  }

  /**
   * Collects the effects accumulated since the last `Ready`. The host must carry them out
   * as documented on `Ready` — in particular, make `hardState`, `entries` and `snapshot`
   * durable before sending `messages` — and then call `advance`.
   */
  ready(): Ready {
    assert(this.outstanding === null, "ready() called before advance() of the previous one");
    const r = this.raft;
    const soft = this.softState();
    const hard = this.hardState();
    const hardChanged = !sameHardState(hard, this.prevHardState);
    const entries = r.log.unstableEntries.slice();
    const ready: Ready = {
      softState: sameSoftState(soft, this.prevSoftState) ? null : soft,
      hardState: hardChanged ? hard : null,
      entries,
      snapshot: r.log.unstableSnapshot,
      committedEntries: r.log.nextCommittedEntries(r.config.readyCommittedBytesMax),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync:
        entries.length > 0 ||
        r.log.unstableSnapshot !== null ||
        hard.term !== this.prevHardState.term ||
        hard.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.prevSoftState = soft;
    this.outstanding = ready;
    return ready;
  }

  /** The host carried out `ready`: its entries and snapshot are stable, its commits applied. */
  advance(ready: Ready): void {
    assert(this.outstanding === ready, "advance() of a Ready that is not outstanding");
    this.outstanding = null;
    const r = this.raft;
    if (ready.hardState !== null) this.prevHardState = ready.hardState;
    if (ready.snapshot !== null) {
      r.log.stableSnapshotTo(ready.snapshot.metadata.index);
      if (ready.snapshot.metadata.index > r.log.appliedIndex) {
        r.appliedTo(ready.snapshot.metadata.index);
      }
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) r.log.stableTo(lastEntry.index, lastEntry.term);
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastCommitted !== undefined && lastCommitted.index > r.log.appliedIndex) {
      r.appliedTo(lastCommitted.index);
    }
  }

  /** The current state, for hosts, tests and operators. */
  status(): RaftStatus {
    const r = this.raft;
    const progress = new Map<PeerId, PeerProgress>();
    if (r.role === "leader") {
      for (const [id, pr] of r.tracker.progress) {
        progress.set(id, {
          matchIndex: pr.matchIndex,
          nextIndex: pr.nextIndex,
          state: pr.state,
          inflight: pr.inflights.count(),
        });
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      role: r.role,
      leader: r.leader,
      commitIndex: r.log.commitIndex,
      appliedIndex: r.log.appliedIndex,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      hibernating: r.hibernating,
      leadTransferee: r.leadTransferee,
      confState: r.tracker.confState(),
      progress,
    };
  }

  /** Test-only: makes this peer deviate from Raft, to show the checkers catch it. */
  injectBugs(bugs: RaftBugs): void {
    this.raft.bugs = bugs;
  }

  private hardState(): HardState {
    const r = this.raft;
    return { term: r.term, vote: r.vote, commitIndex: r.log.commitIndex };
  }

  private softState(): SoftState {
    const r = this.raft;
    return { leader: r.leader, role: r.role, hibernating: r.hibernating };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commitIndex === b.commitIndex;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role && a.hibernating === b.hibernating;
}
