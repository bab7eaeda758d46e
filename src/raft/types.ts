/**
 * The data types of the Raft library: log entries, membership configurations, snapshots,
 * the durable hard state, the messages peers exchange and the results the core returns.
 *
 * Invariants: every log position (`index`, `commitIndex`, `appliedIndex`) and every term is
 * a non-negative safe integer; index 0 and term 0 mean "before the first entry". Values of
 * these types are treated as immutable once handed to or returned by the library: the host
 * may keep and persist them, the library never mutates them afterwards.
 */
import type { PeerId } from "../base/mod.ts";

/**
 * One change of a membership configuration. `addVoter` also promotes a learner; `addLearner`
 * also demotes a voter (through a joint configuration).
 */
export interface ConfChangeItem {
  readonly op: "addVoter" | "addLearner" | "removePeer";
  readonly peer: PeerId;
}

/**
 * A membership change, proposed with `RawNode.proposeConfChange` and applied by the host
 * with `RawNode.applyConfChange` when its entry commits. A change of one item is simple
 * (it may change at most one voter); more items enter a joint configuration, in which the
 * old and the new voter sets must both agree. `transition` says how a joint configuration
 * is left: `auto` lets the leader propose the leaving change itself once the joint
 * configuration is applied, `explicit` waits for the host to propose an empty change.
 * An empty `changes` list leaves a joint configuration.
 */
export interface ConfChange {
  readonly changes: readonly ConfChangeItem[];
  readonly transition: "auto" | "explicit";
}

/** The normal payload of a log entry: opaque bytes the host's state machine applies. */
export interface NormalEntry {
  readonly kind: "normal";
  readonly term: number;
  readonly index: number;
  /** Opaque command bytes; empty for the entry a new leader appends in its term. */
  readonly data: Uint8Array;
}

/** A log entry that changes membership when it is applied. */
export interface ConfChangeEntry {
  readonly kind: "confChange";
  readonly term: number;
  readonly index: number;
  readonly change: ConfChange;
}

/** One position of the replicated log. `index` is its log position, `term` its leader's. */
export type Entry = NormalEntry | ConfChangeEntry;

/**
 * A membership configuration. Outside a joint configuration `votersOutgoing` is empty.
 * `learnersNext` holds voters of the outgoing set that become learners when the joint
 * configuration is left. Ids are sorted ascending so two equal states compare equal.
 */
export interface ConfState {
  readonly voters: readonly PeerId[];
  readonly votersOutgoing: readonly PeerId[];
  readonly learners: readonly PeerId[];
  readonly learnersNext: readonly PeerId[];
  /** True when the leader leaves the joint configuration on its own (see `ConfChange`). */
  readonly autoLeave: boolean;
}

/** Where a snapshot ends: the last log position it covers and the configuration there. */
export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** The applied state machine up to `metadata.index`, as opaque bytes from the host. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/**
 * The state a peer must make durable before it acts on it (sends a vote or an
 * acknowledgement): the current term, the peer voted for in that term, and how far the
 * log is known committed.
 */
export interface HardState {
  readonly term: number;
  readonly vote: PeerId | null;
  readonly commitIndex: number;
}

/** The role of a peer in its group. */
export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state a host may want to observe (routing, metrics); never persisted. */
export interface SoftState {
  readonly leader: PeerId | null;
  readonly role: Role;
  /** True while the group is hibernating: the host may skip ticking it. */
  readonly hibernating: boolean;
}

/** A linearizable read point: a read may be served once `appliedIndex >= readIndex`. */
export interface ReadState {
  readonly readIndex: number;
  /** The context passed to `RawNode.readIndex`, so the host can match the request. */
  readonly context: string;
}

interface MessageHeader {
  readonly from: PeerId;
  readonly to: PeerId;
  readonly term: number;
}

/** (Pre-)vote request. A pre-vote carries the term the sender would campaign in. */
export interface VoteRequest extends MessageHeader {
  readonly kind: "vote" | "preVote";
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** True when the campaign follows a leader transfer: voters skip their lease check. */
  readonly transfer: boolean;
}

/** (Pre-)vote answer. */
export interface VoteResponse extends MessageHeader {
  readonly kind: "voteResponse" | "preVoteResponse";
  readonly reject: boolean;
}

/** Entries to append after `(prevLogIndex, prevLogTerm)`, with the leader's commitIndex. */
export interface AppendRequest extends MessageHeader {
  readonly kind: "append";
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commitIndex: number;
}

/**
 * Append answer. On success `matchIndex` is the follower's last index known to match the
 * leader. On rejection `rejectedIndex` is the `prevLogIndex` that did not match and
 * `(hintIndex, hintTerm)` the follower's last entry at or below it whose term is at most
 * the leader's `prevLogTerm`, so the leader can skip a whole term per round trip.
 */
export interface AppendResponse extends MessageHeader {
  readonly kind: "appendResponse";
  readonly reject: boolean;
  readonly matchIndex: number;
  readonly rejectedIndex: number;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/**
 * Leader liveness and commit propagation. `round` numbers the leader's heartbeat
 * broadcasts within its term; echoing it back confirms leadership for ReadIndex and
 * leases.
 */
export interface Heartbeat extends MessageHeader {
  readonly kind: "heartbeat";
  readonly commitIndex: number;
  readonly round: number;
}

/** Heartbeat answer, echoing the round it answers. */
export interface HeartbeatResponse extends MessageHeader {
  readonly kind: "heartbeatResponse";
  readonly round: number;
}

/** A snapshot for a follower whose next entries the leader has compacted away. */
export interface SnapshotRequest extends MessageHeader {
  readonly kind: "snapshot";
  readonly snapshot: Snapshot;
}

/** Leader transfer: the leader asks the up-to-date transferee to campaign at once. */
export interface TimeoutNow extends MessageHeader {
  readonly kind: "timeoutNow";
}

/** A follower forwards a ReadIndex request to its leader. */
export interface ReadIndexRequest extends MessageHeader {
  readonly kind: "readIndex";
  readonly context: string;
}

/** The leader's answer to a forwarded ReadIndex request. */
export interface ReadIndexResponse extends MessageHeader {
  readonly kind: "readIndexResponse";
  readonly context: string;
  readonly readIndex: number;
}

/** The idle leader asks a follower to hibernate if its log matches up to `lastIndex`. */
export interface HibernateRequest extends MessageHeader {
  readonly kind: "hibernate";
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly commitIndex: number;
}

/** A follower's answer; `ok` means it matched and went to sleep. */
export interface HibernateResponse extends MessageHeader {
  readonly kind: "hibernateResponse";
  readonly lastIndex: number;
  readonly ok: boolean;
}

/** Every message Raft peers exchange. The host routes it to the peer named by `to`. */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotRequest
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse
  | HibernateRequest
  | HibernateResponse;

/** The kinds of `Message`. */
export type MessageKind = Message["kind"];

/** Outcome of `RawNode.propose` / `proposeConfChange`. */
export type ProposeResult =
  | { readonly kind: "ok"; readonly index: number; readonly term: number }
  | { readonly kind: "notLeader"; readonly leader: PeerId | null }
  | { readonly kind: "transferring" }
  | { readonly kind: "confChangePending" }
  | { readonly kind: "confChangeInvalid"; readonly reason: string }
  | { readonly kind: "tooManyUncommitted" };

/** Outcome of `RawNode.readIndex`. */
export type ReadIndexResult =
  | { readonly kind: "queued" }
  | { readonly kind: "notLeader"; readonly leader: PeerId | null }
  | { readonly kind: "tooManyPending" };

/** Outcome of `RawNode.leaseRead`. */
export type LeaseReadResult =
  | { readonly kind: "ok"; readonly readIndex: number }
  | { readonly kind: "noLease"; readonly reason: string };
