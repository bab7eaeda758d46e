/**
 * `EngineRaftStorage`: the Raft `Storage` of one shard peer, kept in the store's engine
 * under the local keys (`local_keys.ts`): the log entries, the hard state, and the apply
 * state whose truncated position is where the log starts. Reads come straight from the
 * engine (reads are synchronous); the positions of the log's ends are cached in memory.
 *
 * Writes go through a `RaftWriteBatch`: the peer stages every change of one `Ready` (log
 * appends, hard state, snapshot install, applied state, compaction) into one engine batch
 * and the in-memory view follows only once that batch is written, so what the Raft core
 * reads is always what is on disk. The snapshot a leader sends is generated on demand from
 * an engine snapshot: the data of the shard's range as of the applied position, read in
 * one consistent view together with that position.
 */
import { assert } from "../../base/mod.ts";
import {
  type ConfState,
  type Entry,
  type HardState,
  type InitialState,
  type Snapshot,
  type Storage,
  bootstrapIndex,
  bootstrapTerm,
  emptyConfState,
  entryBytes,
} from "../../raft/mod.ts";
import type { Engine, WriteOp } from "../engine/engine.ts";
import {
  type ApplyState,
  type PeerState,
  type SnapshotPayload,
  decodeApplyState,
  decodeEntry,
  decodeHardState,
  decodePeerState,
  encode,
  encodeApplyState,
  encodeEntry,
  encodeHardState,
} from "./codec.ts";
import {
  applyStateKey,
  dataRanges,
  hardStateKey,
  peerStateKey,
  raftLogIndex,
  raftLogKey,
  raftLogRange,
} from "./local_keys.ts";

/** The changes of one `Ready`, written as one atomic engine batch. */
export class RaftWriteBatch {
  readonly ops: WriteOp[] = [];
  private readonly after: (() => void)[] = [];

  /** Runs `callback` once the batch is written (to update in-memory views). */
  onWritten(callback: () => void): void {
    this.after.push(callback);
  }

  get isEmpty(): boolean {
    return this.ops.length === 0;
  }

  /** Writes the batch (durably if `sync`), then runs the callbacks in order. */
  async write(engine: Engine, options: { readonly sync: boolean }): Promise<void> {
    if (this.ops.length > 0) await engine.write(this.ops, { sync: options.sync });
    for (const callback of this.after) callback();
  }
}

const emptyHardState: HardState = { term: 0, vote: null, commitIndex: 0 };
const emptyApplyState: ApplyState = {
  appliedIndex: 0,
  appliedTerm: 0,
  truncatedIndex: 0,
  truncatedTerm: 0,
  confState: emptyConfState,
};

/** The Raft storage of one shard peer on the engine. */
export class EngineRaftStorage implements Storage {
  readonly engine: Engine;
  readonly shardId: number;
  private hardState: HardState;
  private applyState: ApplyState;
  private last: number;

  /** Loads the persisted state of `shardId` (empty if none). */
  constructor(engine: Engine, shardId: number) {
    this.engine = engine;
    this.shardId = shardId;
    const hs = engine.get(hardStateKey(shardId));
    this.hardState = hs === undefined ? emptyHardState : decodeHardState(hs);
    const as = engine.get(applyStateKey(shardId));
    this.applyState = as === undefined ? emptyApplyState : decodeApplyState(as);
    const range = raftLogRange(shardId);
    let last = this.applyState.truncatedIndex;
    for (const { key } of engine.scan({ ...range, reverse: true, limit: 1 })) {
      last = Math.max(last, raftLogIndex(key));
    }
    this.last = last;
  }

  /**
   * Stages the founding state of a group member (TiKV's bootstrap; raft's
   * `MemoryStorage.bootstrap`): a snapshot at `bootstrapIndex` carrying `confState`.
   * `keepHardState` preserves a term and vote already promised by an uninitialized peer.
   */
  static stageBootstrap(
    batch: RaftWriteBatch,
    shardId: number,
    options: { readonly confState: ConfState; readonly keepHardState?: HardState },
  ): void {
    const kept = options.keepHardState ?? emptyHardState;
    const hardState: HardState =
      kept.term > bootstrapTerm
        ? { term: kept.term, vote: kept.vote, commitIndex: bootstrapIndex }
        : { term: bootstrapTerm, vote: kept.term === bootstrapTerm ? kept.vote : null,
            commitIndex: bootstrapIndex };
    batch.ops.push({ kind: "deleteRange", ...raftLogRange(shardId) });
    batch.ops.push({ kind: "put", key: hardStateKey(shardId), value: encodeHardState(hardState) });
    const applyState: ApplyState = {
      appliedIndex: bootstrapIndex,
      appliedTerm: bootstrapTerm,
      truncatedIndex: bootstrapIndex,
      truncatedTerm: bootstrapTerm,
      confState: options.confState,
    };
    const value = encodeApplyState(applyState);
    batch.ops.push({ kind: "put", key: applyStateKey(shardId), value });
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.applyState.confState };
  }

  /** The persisted apply state. */
  getApplyState(): ApplyState {
    return this.applyState;
  }

  /** The persisted hard state. */
  getHardState(): HardState {
    return this.hardState;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    assert(lo > this.applyState.truncatedIndex, `entries(${lo}) below firstIndex`);
    assert(hi <= this.last + 1, `entries(.., ${hi}) past lastIndex ${this.last}`);
    const out: Entry[] = [];
    if (lo >= hi) return out;
    let size = 0;
    const scan = this.engine.scan({
      start: raftLogKey(this.shardId, lo),
      end: raftLogKey(this.shardId, hi),
    });
    for (const { value } of scan) {
      const entry = decodeEntry(value);
      assert(entry.index === lo + out.length, `raft log gap at ${lo + out.length}`);
      size += entryBytes(entry);
      if (out.length > 0 && size > bytesMax) break;
      out.push(entry);
    }
    assert(out.length > 0, `raft log entry ${lo} missing`);
    return out;
  }

  term(index: number): number | null {
    const { truncatedIndex, truncatedTerm } = this.applyState;
    if (index < truncatedIndex) return null;
    if (index === truncatedIndex) return truncatedTerm;
    assert(index <= this.last, `term(${index}) past lastIndex ${this.last}`);
    const value = this.engine.get(raftLogKey(this.shardId, index));
    assert(value !== undefined, `raft log entry ${index} missing`);
    return decodeEntry(value).term;
  }

  firstIndex(): number {
    return this.applyState.truncatedIndex + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  /**
   * A snapshot of the shard as applied now: position, term and membership from the apply
   * state, and the shard's data, all read from one engine snapshot. `null` before the
   * peer holds any data.
   */
  snapshot(): Snapshot | null {
    const view = this.engine.snapshot();
    try {
      const as = view.get(applyStateKey(this.shardId));
      const ps = view.get(peerStateKey(this.shardId));
      if (as === undefined || ps === undefined) return null;
      const applyState = decodeApplyState(as);
      const peerState: PeerState = decodePeerState(ps);
      if (!peerState.initialized || applyState.appliedIndex === 0) return null;
      const pairs: Uint8Array[] = [];
      const shard = peerState.shard;
      for (const range of dataRanges(shard.startKey, shard.endKey)) {
        for (const { key, value } of view.scan(range)) pairs.push(key, value);
      }
      const payload: SnapshotPayload = {
        shard,
        pairs,
        ...(peerState.merging === undefined ? {} : { merging: peerState.merging }),
      };
      return {
        metadata: {
          index: applyState.appliedIndex,
          term: applyState.appliedTerm,
          confState: applyState.confState,
        },
        data: encode(payload),
      };
    } finally {
      view.release();
    }
  }

  /** Stages appending persisted entries, dropping any conflicting suffix of the log. */
  stageAppend(batch: RaftWriteBatch, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = (entries[0] as Entry).index;
    const lastNew = (entries[entries.length - 1] as Entry).index;
    assert(first > this.applyState.truncatedIndex, `append at ${first} below the log start`);
    assert(first <= this.last + 1, `append at ${first} leaves a gap after ${this.last}`);
    for (const entry of entries) {
      batch.ops.push({
        kind: "put",
        key: raftLogKey(this.shardId, entry.index),
        value: encodeEntry(entry),
      });
    }
    if (lastNew < this.last) {
      batch.ops.push({
        kind: "deleteRange",
        start: raftLogKey(this.shardId, lastNew + 1),
        end: raftLogKey(this.shardId, this.last + 1),
      });
    }
    batch.onWritten(() => {
      this.last = lastNew;
    });
  }

  /** Stages a new hard state. */
  stageHardState(batch: RaftWriteBatch, hardState: HardState): void {
    batch.ops.push({
      kind: "put",
      key: hardStateKey(this.shardId),
      value: encodeHardState(hardState),
    });
    batch.onWritten(() => {
      this.hardState = hardState;
    });
  }

  /** Stages a new apply state (applied position and membership, with the data it covers). */
  stageApplyState(batch: RaftWriteBatch, state: ApplyState): void {
    assert(state.truncatedIndex <= state.appliedIndex, "truncated past applied");
    const value = encodeApplyState(state);
    batch.ops.push({ kind: "put", key: applyStateKey(this.shardId), value });
    batch.onWritten(() => {
      this.applyState = state;
    });
  }

  /**
   * Stages replacing the whole log by a snapshot's position: the log restarts after it and
   * the state machine is at it. The caller stages the data install in the same batch.
   */
  stageSnapshot(batch: RaftWriteBatch, snapshot: Snapshot): void {
    const { index, term, confState } = snapshot.metadata;
    assert(index >= this.applyState.truncatedIndex, `snapshot at ${index} is stale`);
    batch.ops.push({ kind: "deleteRange", ...raftLogRange(this.shardId) });
    batch.onWritten(() => {
      this.last = index;
    });
    this.stageApplyState(batch, {
      appliedIndex: index,
      appliedTerm: term,
      truncatedIndex: index,
      truncatedTerm: term,
      confState,
    });
  }

  /**
   * Stages discarding entries up to and including `compactIndex` (at most the applied
   * position, whose state a snapshot can always be generated from). It rewrites the apply
   * state, so it goes in a batch of its own, never beside `stageApplyState`.
   */
  stageCompact(batch: RaftWriteBatch, compactIndex: number): void {
    const state = this.applyState;
    if (compactIndex <= state.truncatedIndex) return;
    assert(compactIndex <= state.appliedIndex, "compaction past the applied position");
    const term = this.term(compactIndex);
    assert(term !== null, "compaction position already compacted");
    batch.ops.push({
      kind: "deleteRange",
      start: raftLogKey(this.shardId, state.truncatedIndex + 1),
      end: raftLogKey(this.shardId, compactIndex + 1),
    });
    batch.ops.push({
      kind: "put",
      key: applyStateKey(this.shardId),
      value: encodeApplyState({ ...state, truncatedIndex: compactIndex, truncatedTerm: term }),
    });
    // Forgetting entries early is safe (the core then treats them as compacted), and it
    // keeps the core from reading an entry the batch is deleting while it is written.
    this.applyState = { ...state, truncatedIndex: compactIndex, truncatedTerm: term };
  }
}
