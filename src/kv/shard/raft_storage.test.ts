/**
 * Runs the Raft `Storage` contract against the raft package's `MemoryStorage` and the
 * engine-backed `EngineRaftStorage` (on `MemoryEngine` and on LMDB in a temp directory,
 * where the restart case reopens the engine).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConfState, MemoryStorage } from "../../raft/mod.ts";
import type { Engine } from "../engine/engine.ts";
import { LmdbEngine } from "../engine/lmdb_engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { EngineRaftStorage, RaftWriteBatch } from "./raft_storage.ts";
import { type StorageUnderTest, raftStorageConformance } from "./raft_storage_conformance.ts";

raftStorageConformance("MemoryStorage", (confState) => {
  const storage = MemoryStorage.bootstrap(confState);
  const s: StorageUnderTest = {
    storage,
    append: (entries) => Promise.resolve(storage.append(entries)),
    setHardState: (hs) => Promise.resolve(storage.setHardState(hs)),
    markApplied: (index, cs) => {
      storage.createSnapshot(index, cs, new Uint8Array(0));
      return Promise.resolve();
    },
    compact: (index) => Promise.resolve(storage.compact(index)),
    applySnapshot: (snap) => Promise.resolve(storage.applySnapshot(snap)),
    close: () => Promise.resolve(),
  };
  return Promise.resolve(s);
});

function engineUnderTest(
  engine: Engine,
  reopenEngine: (() => Promise<Engine>) | undefined,
  close: () => Promise<void>,
): StorageUnderTest {
  const storage = new EngineRaftStorage(engine, 7);
  const run = async (stage: (b: RaftWriteBatch) => void): Promise<void> => {
    const batch = new RaftWriteBatch();
    stage(batch);
    await batch.write(engine, { sync: true });
  };
  const s: StorageUnderTest = {
    storage,
    append: (entries) => run((b) => storage.stageAppend(b, entries)),
    setHardState: (hs) => run((b) => storage.stageHardState(b, hs)),
    markApplied: (index, confState) =>
      run((b) =>
        storage.stageApplyState(b, {
          ...storage.getApplyState(),
          appliedIndex: index,
          appliedTerm: storage.term(index) ?? 0,
          confState,
        }),
      ),
    compact: (index) => run((b) => storage.stageCompact(b, index)),
    applySnapshot: (snap) => run((b) => storage.stageSnapshot(b, snap)),
    close,
  };
  if (reopenEngine !== undefined) {
    s.reopen = async () => {
      await engine.close();
      const again = await reopenEngine();
      return engineUnderTest(again, undefined, async () => {
        await again.close();
        await close();
      });
    };
  }
  return s;
}

async function bootstrapOn(engine: Engine, confState: ConfState): Promise<void> {
  const batch = new RaftWriteBatch();
  EngineRaftStorage.stageBootstrap(batch, 7, { confState });
  await batch.write(engine, { sync: true });
}

raftStorageConformance("EngineRaftStorage on MemoryEngine", async (confState) => {
  const engine = new MemoryEngine();
  await bootstrapOn(engine, confState);
  return engineUnderTest(engine, undefined, () => engine.close());
});

raftStorageConformance("EngineRaftStorage on LmdbEngine", async (confState) => {
  const dir = await mkdtemp(join(tmpdir(), "tessera-raft-storage-"));
  const engine = await LmdbEngine.open(dir);
  await bootstrapOn(engine, confState);
  return engineUnderTest(engine, () => LmdbEngine.open(dir), async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });
}, { persistent: true });
