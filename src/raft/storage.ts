/**
 * The durable side of a Raft peer, as the core reads it: the persisted log, hard state and
 * latest snapshot. `Storage` is read-only to the core; the host writes it when it persists
 * a `Ready` (see `RawNode.ready`). `MemoryStorage` keeps everything in arrays, for tests,
 * simulation and the benchmark; the KV node implements `Storage` on its engine.
 *
 * Invariants of every implementation: the log holds the contiguous positions
 * `[firstIndex(), lastIndex()]`; position `firstIndex() - 1` is the snapshot's last
 * position, whose term is still known; `lastIndex() >= firstIndex() - 1`.
 */
import { assert } from "../base/mod.ts";
import type { ConfState, Entry, HardState, Snapshot } from "./types.ts";

/** What a peer recovers on start. */
export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/** The persisted state of one Raft peer, read by the core. */
export interface Storage {
  /** Hard state and configuration as of the last persisted change. */
  initialState(): InitialState;
  /**
   * Entries in `[lo, hi)`, stopping early (but always returning at least one) once their
   * sizes (`entryBytes`) pass `bytesMax`. `lo >= firstIndex()` and `hi <= lastIndex() + 1`.
   */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  /**
   * The term at `index`, or `null` if it was compacted away (below `firstIndex() - 1`).
   * `index <= lastIndex()`.
   */
  term(index: number): number | null;
  /** The first position still held as an entry (the snapshot's index + 1). */
  firstIndex(): number;
  /** The last position held. */
  lastIndex(): number;
  /**
   * The most recent snapshot, or `null` if none is ready yet (the host is still building
   * one); the leader then retries later.
   */
  snapshot(): Snapshot | null;
}

/** The size of an entry as counted against message and uncommitted-log byte bounds. */
export function entryBytes(entry: Entry): number {
  // A fixed header (term, index, kind) plus the payload; conf changes are small.
  return entry.kind === "normal" ? 24 + entry.data.length : 64;
}

/** Position of the founding snapshot of a group (see `MemoryStorage.bootstrap`). */
export const bootstrapIndex = 1;
/** Term of the founding snapshot of a group. */
export const bootstrapTerm = 1;

/** An empty configuration: a peer that has not been told its group yet. */
export const emptyConfState: ConfState = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

/**
 * A `Storage` in memory. `entries[0]` is a dummy holding the snapshot's position and term,
 * so term lookups at the compaction boundary need no special case.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: null, commitIndex: 0 };
  private snap: Snapshot;
  private log: Entry[];

  /**
   * An empty storage: a peer created to join an existing group, which learns its
   * configuration from the snapshot the leader sends it.
   */
  constructor() {
    this.snap = {
      metadata: { index: 0, term: 0, confState: emptyConfState },
      data: new Uint8Array(0),
    };
    this.log = [{ kind: "normal", term: 0, index: 0, data: new Uint8Array(0) }];
  }

  /**
   * A storage for a founding member of a new group: the initial configuration is a
   * snapshot at position `bootstrapIndex`, so a peer added later (whose log is empty) can
   * never match the leader's log at position 0 and always starts from a snapshot that
   * carries the configuration, as in TiKV.
   */
  static bootstrap(confState: ConfState, data: Uint8Array = new Uint8Array(0)): MemoryStorage {
    const storage = new MemoryStorage();
    storage.applySnapshot({
      metadata: { index: bootstrapIndex, term: bootstrapTerm, confState },
      data,
    });
    storage.setHardState({ term: bootstrapTerm, vote: null, commitIndex: bootstrapIndex });
    return storage;
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  /** Records the hard state the core asked to persist. */
  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** The hard state last persisted. */
  getHardState(): HardState {
    return this.hardState;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    const offset = this.offset();
    assert(lo > offset, `entries(${lo}) below firstIndex ${offset + 1}`);
    assert(hi <= this.lastIndex() + 1, `entries(.., ${hi}) past lastIndex ${this.lastIndex()}`);
    return limitBytes(this.log.slice(lo - offset, hi - offset), bytesMax);
  }

  term(index: number): number | null {
    const offset = this.offset();
    if (index < offset) return null;
    assert(index <= this.lastIndex(), `term(${index}) past lastIndex ${this.lastIndex()}`);
    return (this.log[index - offset] as Entry).term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.log.length - 1;
  }

  snapshot(): Snapshot | null {
    return this.snap;
  }

  /**
   * Appends persisted entries, truncating any conflicting suffix first (a new leader may
   * overwrite uncommitted entries). Entries below `firstIndex()` are skipped.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = (entries[entries.length - 1] as Entry).index;
    if (lastNew < first) return;
    const start = (entries[0] as Entry).index;
    assert(start <= this.lastIndex() + 1, `append at ${start} leaves a gap`);
    const skip = Math.max(0, first - start);
    const keep = start + skip - this.offset();
    this.log.length = keep;
    for (let i = skip; i < entries.length; i++) this.log.push(entries[i] as Entry);
  }

  /** Replaces the whole log by an installed snapshot. */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    assert(index >= this.offset(), `snapshot at ${index} older than ${this.offset()}`);
    this.snap = snapshot;
    this.log = [{ kind: "normal", term, index, data: new Uint8Array(0) }];
  }

  /**
   * Records a snapshot of the applied state machine at `appliedIndex` (which must be in
   * the log), for sending to lagging followers. Does not compact; see `compact`.
   */
  createSnapshot(appliedIndex: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(appliedIndex > this.snap.metadata.index, `snapshot at ${appliedIndex} is stale`);
    assert(appliedIndex <= this.lastIndex(), `snapshot at ${appliedIndex} past the log`);
    const term = this.term(appliedIndex);
    assert(term !== null, "snapshot position compacted");
    this.snap = { metadata: { index: appliedIndex, term, confState }, data };
    return this.snap;
  }

  /**
   * Discards entries up to and including `compactIndex`, which must not pass the latest
   * snapshot (the host snapshots first, so lagging followers can still be caught up).
   */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) return;
    assert(compactIndex <= this.snap.metadata.index, "compaction past the snapshot");
    this.log = this.log.slice(compactIndex - offset);
  }

  private offset(): number {
    return (this.log[0] as Entry).index;
  }
}

/** The longest prefix of `entries` within `bytesMax`, but always at least one entry. */
export function limitBytes(entries: Entry[], bytesMax: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = entryBytes(entries[0] as Entry);
  let n = 1;
  while (n < entries.length) {
    size += entryBytes(entries[n] as Entry);
    if (size > bytesMax) break;
    n++;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}
