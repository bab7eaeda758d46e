/**
 * Configuration of one Raft peer, its production defaults and their validation.
 *
 * Time inside the core is counted in ticks: the host calls `RawNode.tick(nowMs)` every
 * `tickIntervalMs` of monotonic time, and never more often (a late timer delays a tick;
 * missed ticks are not replayed in a burst). Leases are the one place where real time
 * matters, and there the host passes monotonic milliseconds explicitly.
 *
 * The defaults tolerate multi-second process stalls: with 1 s ticks, a follower waits
 * 20–40 s without hearing from its leader before campaigning, so a leader that was not
 * scheduled for 19 s (measured on a loaded 2-core machine) is not deposed, and the leader
 * lease lasts (20 - 1) s - 0.5 s = 18.5 s. Simulation configures short ticks instead.
 */
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
import type { PeerId, Prng } from "../base/mod.ts";
import type { Storage } from "./storage.ts";

/** Everything a `RawNode` needs; see `defaultRaftOptions` for the tunables. */
export interface RaftConfig extends RaftOptions {
  /** This peer. */
  readonly id: PeerId;
  /** The persisted log, hard state and snapshot (read-only to the core). */
  readonly storage: Storage;
  /** Source of election timeout jitter; seeded in tests so runs replay. */
  readonly prng: Prng;
  /**
   * The last position the host's state machine has applied (restarts skip re-applying);
   * 0 means everything committed is handed over again.
   */
  readonly appliedIndex?: number;
}

/** The tunable part of a `RaftConfig`. */
export interface RaftOptions {
  /**
   * Ticks without hearing from a leader before a follower campaigns (randomized in
   * `[electionTicks, 2 * electionTicks)`), and the check-quorum period of a leader.
   */
  readonly electionTicks: number;
  /** Ticks between a leader's heartbeats; must be below `electionTicks`. */
  readonly heartbeatTicks: number;
  /** Monotonic milliseconds between ticks, as the host promises to call `tick`. */
  readonly tickIntervalMs: number;
  /** Largest difference in clock rate over one lease the lease must absorb, in ms. */
  readonly maxClockDriftMs: number;
  /** Campaign in a pre-vote round first, so a partitioned peer cannot inflate terms. */
  readonly preVote: boolean;
  /**
   * A leader steps down when a quorum has not answered for an election timeout, and a
   * follower that heard from a leader within an election timeout refuses votes. Leases
   * require it.
   */
  readonly checkQuorum: boolean;
  /** Serve `leaseRead` from a leader lease (needs `checkQuorum`). */
  readonly leaseReads: boolean;
  /** Put an idle group to sleep (see `RawNode` on hibernation). */
  readonly hibernate: boolean;
  /** Ticks a leader must be idle before it asks its followers to hibernate. */
  readonly hibernateIdleTicks: number;
  /** Entry bytes per append message. */
  readonly messageEntriesBytesMax: number;
  /** Entries per append message. */
  readonly messageEntriesMax: number;
  /** Unacknowledged append messages per follower. */
  readonly inflightMessagesMax: number;
  /** Uncommitted entry bytes a leader accepts before refusing proposals. */
  readonly uncommittedBytesMax: number;
  /** Committed entry bytes handed to the host in one `Ready`. */
  readonly readyCommittedBytesMax: number;
}

/** Production defaults (see the file comment for the timing rationale). */
export const defaultRaftOptions: RaftOptions = {
  electionTicks: 20,
  heartbeatTicks: 2,
  tickIntervalMs: 1_000,
  maxClockDriftMs: 500,
  preVote: true,
  checkQuorum: true,
  leaseReads: true,
  hibernate: true,
  hibernateIdleTicks: 4,
  messageEntriesBytesMax: limits.raftMessageEntriesBytesMax,
  messageEntriesMax: limits.raftMessageEntriesMax,
  inflightMessagesMax: limits.raftInflightMessagesMax,
  uncommittedBytesMax: limits.raftUncommittedBytesMax,
  readyCommittedBytesMax: limits.raftReadyCommittedBytesMax,
};

/**
 * How long a lease earned by a heartbeat sent at time T lasts: followers that answered it
 * refuse votes for `electionTicks` of their own ticks after receiving it, the first of
 * which may come at once, so `(electionTicks - 1) * tickIntervalMs` of real time is
 * guaranteed, less the drift between clocks.
 */
export function leaseDurationMs(options: RaftOptions): number {
  return (options.electionTicks - 1) * options.tickIntervalMs - options.maxClockDriftMs;
}

/** Throws `Raft:Config:Invalid` if the options cannot work. */
export function validateRaftOptions(options: RaftOptions): void {
  const bad = (why: string): never => {
    throw new TesseraError(ErrorCode.RaftConfigInvalid, `invalid raft config: ${why}`);
  };
  const positive: (keyof RaftOptions)[] = [
    "electionTicks",
    "heartbeatTicks",
    "tickIntervalMs",
    "hibernateIdleTicks",
    "messageEntriesBytesMax",
    "messageEntriesMax",
    "inflightMessagesMax",
    "uncommittedBytesMax",
    "readyCommittedBytesMax",
  ];
  for (const key of positive) {
    const v = options[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      bad(`${key} must be a positive integer`);
    }
  }
  if (options.heartbeatTicks >= options.electionTicks) {
    bad("heartbeatTicks must be below electionTicks");
  }
  if (!Number.isFinite(options.maxClockDriftMs) || options.maxClockDriftMs < 0) {
    bad("maxClockDriftMs must be a non-negative number");
  }
  if (options.leaseReads && !options.checkQuorum) bad("leaseReads needs checkQuorum");
  if (options.leaseReads && leaseDurationMs(options) <= 0) {
    bad("the lease is not positive: raise electionTicks or lower maxClockDriftMs");
  }
}
