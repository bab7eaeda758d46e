/**
 * The Raft `Storage` contract as a test suite: every implementation (the raft package's
 * `MemoryStorage`, the engine-backed `EngineRaftStorage`) registers it with a factory
 * that adapts its way of persisting (the core never writes storage; the host does).
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { PeerId } from "../../base/mod.ts";
import type { ConfState, Entry, HardState, Snapshot, Storage } from "../../raft/mod.ts";

/** A storage under test and the host-side operations that change it. */
export interface StorageUnderTest {
  readonly storage: Storage;
  append(entries: readonly Entry[]): Promise<void>;
  setHardState(hardState: HardState): Promise<void>;
  /** The state machine applied everything up to `index` (a snapshot may be taken there). */
  markApplied(index: number, confState: ConfState): Promise<void>;
  /** Discards the log up to and including `index` (after `markApplied` covered it). */
  compact(index: number): Promise<void>;
  applySnapshot(snapshot: Snapshot): Promise<void>;
  /** The same storage as a restarted process reads it, if it persists anything. */
  reopen?(): Promise<StorageUnderTest>;
  close(): Promise<void>;
}

const timeout = { timeout: 10_000 };

function entry(index: number, term: number): Entry {
  return { kind: "normal", index, term, data: Uint8Array.of(index & 0xff, term & 0xff) };
}

function range(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

const conf: ConfState = {
  voters: [1, 2, 3] as PeerId[],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

/**
 * Registers the contract tests for one implementation; `bootstrap` founds a group.
 * `persistent` implementations (whose `StorageUnderTest` has `reopen`) also get the restart
 * test; for in-memory ones that test does not exist rather than being skipped.
 */
export function raftStorageConformance(
  name: string,
  bootstrap: (confState: ConfState) => Promise<StorageUnderTest>,
  options: { readonly persistent: boolean } = { persistent: false },
): void {
  test(`${name}: a founding member starts from the bootstrap snapshot at index 1`, timeout,
    async () => {
      const s = await bootstrap(conf);
      try {
        assert.equal(s.storage.firstIndex(), 2);
        assert.equal(s.storage.lastIndex(), 1);
        assert.equal(s.storage.term(1), 1);
        assert.equal(s.storage.term(0), null);
        const init = s.storage.initialState();
        assert.deepEqual(init.confState.voters, [1, 2, 3]);
        assert.equal(init.hardState.term, 1);
        assert.equal(init.hardState.commitIndex, 1);
      } finally {
        await s.close();
      }
    });

  test(`${name}: appended entries read back in order with their terms`, timeout, async () => {
    const s = await bootstrap(conf);
    try {
      await s.append(range(2, 6, 2));
      assert.equal(s.storage.lastIndex(), 6);
      const got = s.storage.entries(2, 7, Number.MAX_SAFE_INTEGER);
      assert.deepEqual(got.map((e) => [e.index, e.term]), [[2, 2], [3, 2], [4, 2], [5, 2], [6, 2]]);
      assert.deepEqual([...(got[0] as { data: Uint8Array }).data], [2, 2]);
      assert.equal(s.storage.term(6), 2);
    } finally {
      await s.close();
    }
  });

  test(`${name}: an append overwrites the conflicting suffix`, timeout, async () => {
    const s = await bootstrap(conf);
    try {
      await s.append(range(2, 6, 2));
      await s.append(range(4, 4, 3));
      assert.equal(s.storage.lastIndex(), 4);
      assert.equal(s.storage.term(3), 2);
      assert.equal(s.storage.term(4), 3);
      await s.append(range(5, 7, 3));
      assert.equal(s.storage.lastIndex(), 7);
      assert.deepEqual(s.storage.entries(2, 8, Infinity).map((e) => e.term), [2, 2, 3, 3, 3, 3]);
    } finally {
      await s.close();
    }
  });

  test(`${name}: entries() stops at bytesMax but returns at least one`, timeout, async () => {
    const s = await bootstrap(conf);
    try {
      await s.append(range(2, 9, 2));
      assert.equal(s.storage.entries(2, 10, 1).length, 1);
      const two = s.storage.entries(2, 10, 60);
      assert.equal(two.length, 2);
    } finally {
      await s.close();
    }
  });

  test(`${name}: compaction moves firstIndex and keeps the boundary term`, timeout, async () => {
    const s = await bootstrap(conf);
    try {
      await s.append([...range(2, 4, 2), ...range(5, 8, 3)]);
      await s.markApplied(5, conf);
      await s.compact(5);
      assert.equal(s.storage.firstIndex(), 6);
      assert.equal(s.storage.lastIndex(), 8);
      assert.equal(s.storage.term(5), 3);
      assert.equal(s.storage.term(4), null);
      assert.deepEqual(s.storage.entries(6, 9, Infinity).map((e) => e.index), [6, 7, 8]);
    } finally {
      await s.close();
    }
  });

  test(`${name}: an installed snapshot replaces the log`, timeout, async () => {
    const s = await bootstrap(conf);
    try {
      await s.append(range(2, 4, 2));
      await s.applySnapshot({
        metadata: { index: 10, term: 4, confState: conf },
        data: new Uint8Array(0),
      });
      assert.equal(s.storage.firstIndex(), 11);
      assert.equal(s.storage.lastIndex(), 10);
      assert.equal(s.storage.term(10), 4);
      assert.equal(s.storage.term(9), null);
      await s.append(range(11, 12, 4));
      assert.equal(s.storage.lastIndex(), 12);
    } finally {
      await s.close();
    }
  });

  if (!options.persistent) return;
  test(`${name}: a restart reads back the log, hard state and compaction`, timeout,
    async () => {
      const s = await bootstrap(conf);
      assert.ok(s.reopen !== undefined, "a persistent storage under test must offer reopen");
      await s.append(range(2, 7, 2));
      await s.setHardState({ term: 2, vote: 1 as PeerId, commitIndex: 6 });
      await s.markApplied(4, conf);
      await s.compact(3);
      const r = await s.reopen();
      try {
        assert.equal(r.storage.firstIndex(), 4);
        assert.equal(r.storage.lastIndex(), 7);
        assert.equal(r.storage.term(3), 2);
        assert.deepEqual(r.storage.initialState().hardState, { term: 2, vote: 1, commitIndex: 6 });
        assert.deepEqual(r.storage.entries(4, 8, Infinity).map((e) => e.index), [4, 5, 6, 7]);
      } finally {
        await r.close();
      }
    });
}
