/**
 * Encodings of what a shard keeps in the engine and sends between stores: Raft entries,
 * hard states, apply and peer states, commands carried in entries, and Raft envelopes.
 * All are msgpack (`msgpackr`, records off, so the bytes are self-describing); decoding
 * trusts its input because it comes from our own engine or from an authenticated peer
 * store, and a value of the wrong shape is a bug (`AssertionError`), never skipped.
 */
import { Packr } from "msgpackr";
import { assert } from "../../base/mod.ts";
import type { ShardEpoch, ShardMeta, PeerMeta } from "../../proto/mod.ts";
import type { ConfChange, ConfState, Entry, HardState, Message } from "../../raft/mod.ts";
import type { WriteOp } from "../engine/engine.ts";

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Msgpack bytes of `value`. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** The value msgpack `bytes` hold. Binary fields come back as `Uint8Array`s. */
export function decode<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/**
 * How far a shard's state machine got: the last applied position and its term, the log
 * prefix discarded (`truncatedIndex` is the position a snapshot at least covers), and the
 * membership in force at `appliedIndex`.
 */
export interface ApplyState {
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly truncatedIndex: number;
  readonly truncatedTerm: number;
  readonly confState: ConfState;
}

/**
 * A store's peer of one shard. `initialized` is false for a peer created by a message
 * from a new group member's leader, which has no data until a snapshot arrives;
 * `tombstone` marks a removed peer (messages to it or older peer ids are dropped).
 */
export interface PeerState {
  readonly peerId: number;
  readonly state: "normal" | "tombstone";
  readonly initialized: boolean;
  readonly shard: ShardMeta;
  /** Set while the shard is the source of a merge (PrepareMerge applied). */
  readonly merging?: MergeState;
  /** On a tombstone: the shard this one was merged into (its data now belongs there). */
  readonly mergedInto?: number;
}

/**
 * A merge's source after PrepareMerge: the log position of the PrepareMerge entry and
 * the target it will be merged into, with the target epoch the merge was planned against.
 */
export interface MergeState {
  readonly prepareIndex: number;
  readonly targetShardId: number;
  readonly targetEpoch: ShardEpoch;
}

/**
 * A command replicated in a normal entry, with the epoch it was proposed under (rechecked
 * at apply) and the proposer's id (matched against the pending proposal at that index).
 */
export type ShardCommand =
  | {
      readonly kind: "write";
      readonly proposalId: number;
      readonly epoch: ShardEpoch;
      readonly ops: readonly WriteOp[];
    }
  | {
      readonly kind: "split";
      readonly proposalId: number;
      readonly epoch: ShardEpoch;
      /** The first user key of the new (right-hand) shard. */
      readonly splitKey: Uint8Array;
      readonly newShardId: number;
      /** Peer ids of the new shard, one per peer of this shard, in `peers` order. */
      readonly newPeerIds: readonly number[];
    }
  | {
      /** On a merge's source: stop taking commands, to be merged into the target. */
      readonly kind: "prepareMerge";
      readonly proposalId: number;
      readonly epoch: ShardEpoch;
      readonly targetShardId: number;
      readonly targetEpoch: ShardEpoch;
    }
  | {
      /** On a merge's target (its expected epoch in `epoch`): absorb the source. */
      readonly kind: "commitMerge";
      readonly proposalId: number;
      readonly epoch: ShardEpoch;
      /** The source's meta after PrepareMerge. */
      readonly source: ShardMeta;
      /** Every source peer has this much of the source log (PrepareMerge included). */
      readonly sourceAppliedIndex: number;
    }
  | {
      /** On a merge's source whose target refused: take commands again. */
      readonly kind: "rollbackMerge";
      readonly proposalId: number;
      readonly epoch: ShardEpoch;
    };

/**
 * A membership change as a shard proposes it: Raft's change plus the store of the peer
 * it adds or removes (Raft knows peer ids only), carried in the entry so every peer
 * updates its shard meta the same way at apply.
 */
export interface ShardConfChange extends ConfChange {
  readonly peerMeta: PeerMeta;
  readonly proposalId: number;
}

/** A Raft message between two stores, addressed to a shard's peer. */
export interface RaftEnvelope {
  readonly shardId: number;
  readonly from: PeerMeta;
  readonly to: PeerMeta;
  /** The sender's view of the shard, so a receiver can tell stale from new peers. */
  readonly epoch: ShardEpoch;
  readonly message: Message;
}

export function encodeEntry(entry: Entry): Uint8Array {
  return encode(entry);
}

export function decodeEntry(bytes: Uint8Array): Entry {
  const entry = decode<Entry>(bytes);
  assert(typeof entry === "object" && entry !== null && typeof entry.index === "number",
    "corrupt raft log entry");
  return entry;
}

export function encodeHardState(hardState: HardState): Uint8Array {
  return encode(hardState);
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const hs = decode<HardState>(bytes);
  assert(typeof hs.term === "number" && typeof hs.commitIndex === "number", "corrupt hard state");
  return { term: hs.term, vote: hs.vote ?? null, commitIndex: hs.commitIndex } as HardState;
}

export function encodeApplyState(state: ApplyState): Uint8Array {
  return encode(state);
}

export function decodeApplyState(bytes: Uint8Array): ApplyState {
  const s = decode<ApplyState>(bytes);
  assert(typeof s.appliedIndex === "number" && typeof s.truncatedIndex === "number",
    "corrupt apply state");
  return s;
}

export function encodePeerState(state: PeerState): Uint8Array {
  return encode(state);
}

export function decodePeerState(bytes: Uint8Array): PeerState {
  const s = decode<PeerState>(bytes);
  assert(typeof s.peerId === "number" && typeof s.shard === "object", "corrupt peer state");
  return s;
}

export function encodeCommand(command: ShardCommand): Uint8Array {
  return encode(command);
}

export function decodeCommand(bytes: Uint8Array): ShardCommand {
  const c = decode<ShardCommand>(bytes);
  assert(
    c.kind === "write" || c.kind === "split" || c.kind === "prepareMerge" ||
      c.kind === "commitMerge" || c.kind === "rollbackMerge",
    "corrupt shard command",
  );
  return c;
}

/** The snapshot payload: the shard meta and its data pairs, flattened key, value, … */
export interface SnapshotPayload {
  readonly shard: ShardMeta;
  readonly pairs: readonly Uint8Array[];
  /** The source's merge state, when the snapshot is taken during a merge. */
  readonly merging?: MergeState;
}
