/**
 * The Raft log as one peer sees it: the persisted part in `Storage` followed by an
 * unstable tail (entries and possibly a snapshot) that the host has not yet persisted.
 *
 * Invariants: `appliedIndex <= commitIndex <= lastIndex()`; the unstable entries are
 * contiguous and start at `unstableOffset`; if an unstable snapshot exists it ends at
 * `unstableOffset - 1` and supersedes everything in storage. Only this class moves
 * `commitIndex` and `appliedIndex`, and `commitIndex` never decreases.
 */
import { assert } from "../base/mod.ts";
import { entryBytes, limitBytes } from "./storage.ts";
import type { Storage } from "./storage.ts";
import type { Entry, Snapshot } from "./types.ts";

/** The log of one peer: storage plus the unstable tail. */
export class RaftLog {
  readonly storage: Storage;
  /** Highest position known to be stored on a quorum. */
  commitIndex: number;
  /** Highest position the host has applied to its state machine. */
  appliedIndex: number;
  /** A received snapshot the host has not persisted yet. */
  unstableSnapshot: Snapshot | null = null;
  /** Entries the host has not persisted yet, starting at `unstableOffset`. */
  unstableEntries: Entry[] = [];
  unstableOffset: number;

  constructor(storage: Storage, appliedIndex: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    this.commitIndex = first - 1;
    this.appliedIndex = first - 1;
    this.unstableOffset = storage.lastIndex() + 1;
    const hard = storage.initialState().hardState;
    this.commitTo(hard.commitIndex);
    if (appliedIndex > this.appliedIndex) this.appliedTo(appliedIndex);
  }

  firstIndex(): number {
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstableEntries.length > 0) {
      return this.unstableOffset + this.unstableEntries.length - 1;
    }
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== null, "last term unknown");
    return t;
  }

  /** The term at `index`: 0 past the end, `null` if compacted away. */
  term(index: number): number | null {
    if (index > this.lastIndex()) return 0;
    if (index >= this.unstableOffset && this.unstableEntries.length > 0) {
      return (this.unstableEntries[index - this.unstableOffset] as Entry).term;
    }
    const snap = this.unstableSnapshot;
    if (snap !== null) {
      if (index === snap.metadata.index) return snap.metadata.term;
      if (index < snap.metadata.index) return null;
    }
    if (index < this.storage.firstIndex() - 1) return null;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** True if a log ending at (`lastIndex`, `lastTerm`) is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in `[lo, lastIndex()]` within `bytesMax` and `countMax` (at least one), or
   * `null` if `lo` was compacted away.
   */
  entriesFrom(lo: number, bytesMax: number, countMax: number): Entry[] | null {
    const last = this.lastIndex();
    if (lo > last) return [];
    return this.slice(lo, Math.min(last + 1, lo + countMax), bytesMax);
  }

  /** Entries in `[lo, hi)` within `bytesMax` (at least one), or `null` if compacted. */
  slice(lo: number, hi: number, bytesMax: number): Entry[] | null {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) return null;
    assert(hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) past the log`);
    let out: Entry[] = [];
    if (lo < this.unstableOffset) {
      out = this.storage.entries(lo, Math.min(hi, this.unstableOffset), bytesMax);
      if (out.length < Math.min(hi, this.unstableOffset) - lo) return out;
    }
    if (hi > this.unstableOffset) {
      const from = Math.max(lo, this.unstableOffset) - this.unstableOffset;
      const tail = this.unstableEntries.slice(from, hi - this.unstableOffset);
      out = out.length === 0 ? tail : out.concat(tail);
    }
    return limitBytes(out, bytesMax);
  }

  /**
   * Appends a leader's entries after (`prevLogIndex`, `prevLogTerm`) if that position
   * matches, truncating a conflicting suffix. Returns the last new index, or `null` on a
   * mismatch. Moves `commitIndex` to `min(leaderCommit, last new index)`.
   */
  maybeAppend(
    prevLogIndex: number,
    prevLogTerm: number,
    leaderCommit: number,
    entries: readonly Entry[],
  ): number | null {
    if (!this.matchTerm(prevLogIndex, prevLogTerm)) return null;
    const lastNew = prevLogIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.commitIndex, `conflict at ${conflict} <= ${this.commitIndex}`);
      const first = (entries[0] as Entry).index;
      this.append(entries.slice(conflict - first));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** Appends entries that directly follow or overwrite the tail. Returns lastIndex. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = (entries[0] as Entry).index - 1;
    assert(after >= this.commitIndex, `append after ${after} below commit ${this.commitIndex}`);
    this.truncateAndAppend(entries);
    return this.lastIndex();
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const first = (entries[0] as Entry).index;
    const end = this.unstableOffset + this.unstableEntries.length;
    if (first === end) {
      for (const e of entries) this.unstableEntries.push(e);
    } else if (first <= this.unstableOffset) {
      // Replaces the whole unstable tail (and maybe persisted entries the host will
      // overwrite when it persists these).
      this.unstableOffset = first;
      this.unstableEntries = entries.slice();
    } else {
      this.unstableEntries = this.unstableEntries.slice(0, first - this.unstableOffset);
      for (const e of entries) this.unstableEntries.push(e);
    }
  }

  /** The first entry whose term differs from ours (or is new), 0 if all match. */
  private findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest position `<= index` whose term is `<= term` (0 when compacted below), with
   * that term: the follower's hint for fast backtracking, and the leader's use of it.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= 0; i--) {
      const t = this.term(i);
      if (t === null) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(commitIndex: number): void {
    if (commitIndex <= this.commitIndex) return;
    assert(
      commitIndex <= this.lastIndex(),
      `commitIndex ${commitIndex} past lastIndex ${this.lastIndex()}`,
    );
    this.commitIndex = commitIndex;
  }

  /** Commits `index` if a quorum matched it and its entry is from the leader's `term`. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.commitIndex && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(appliedIndex: number): void {
    assert(
      appliedIndex <= this.commitIndex && appliedIndex >= this.appliedIndex,
      `applied ${appliedIndex} outside [${this.appliedIndex}, ${this.commitIndex}]`,
    );
    this.appliedIndex = appliedIndex;
  }

  /** Committed entries not yet applied, within `bytesMax`. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    const lo = Math.max(this.appliedIndex + 1, this.firstIndex());
    if (this.commitIndex + 1 <= lo) return [];
    const out = this.slice(lo, this.commitIndex + 1, bytesMax);
    assert(out !== null, "committed entries compacted before being applied");
    return out;
  }

  hasNextCommittedEntries(): boolean {
    return this.commitIndex > Math.max(this.appliedIndex, this.firstIndex() - 1);
  }

  /** The newest snapshot: an unstable one, else the storage's. */
  snapshot(): Snapshot | null {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }

  /** Replaces the log by a snapshot (the host persists it with the next `Ready`). */
  restore(snapshot: Snapshot): void {
    const { index } = snapshot.metadata;
    this.commitIndex = index;
    this.unstableSnapshot = snapshot;
    this.unstableEntries = [];
    this.unstableOffset = index + 1;
  }

  /** The host persisted unstable entries up to (`index`, `term`). */
  stableTo(index: number, term: number): void {
    if (index < this.unstableOffset) return;
    const t = this.term(index);
    // A newer leader may have replaced the entries since the Ready was made.
    if (t !== term) return;
    const n = index + 1 - this.unstableOffset;
    if (n > this.unstableEntries.length) return;
    this.unstableEntries = this.unstableEntries.slice(n);
    this.unstableOffset = index + 1;
  }

  /** The host persisted the unstable snapshot at `index`. */
  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot !== null && this.unstableSnapshot.metadata.index === index) {
      this.unstableSnapshot = null;
    }
  }

  /** Bytes of the entries in `(commitIndex, lastIndex]` still unstable or persisted. */
  static bytesOf(entries: readonly Entry[]): number {
    let n = 0;
    for (const e of entries) n += entryBytes(e);
    return n;
  }
}
