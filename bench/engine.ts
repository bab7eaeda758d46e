/**
 * Engine benchmark (`npm run bench:engine`): point gets/s, 100-key batch writes/s with and
 * without sync, and scanned keys/s, for `MemoryEngine` and `LmdbEngine` (in a temporary
 * directory, removed afterwards). Each measurement runs for a fixed wall-clock budget and
 * prints one table; numbers vary with the machine's disk and CPU.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine, WriteOp } from "../src/kv/engine/engine.ts";
import { LmdbEngine } from "../src/kv/engine/lmdb_engine.ts";
import { MemoryEngine } from "../src/kv/engine/memory_engine.ts";

const budgetMs = 1_000;
const preloadKeys = 100_000;
const batchKeys = 100;
const value = new Uint8Array(100).fill(0x61);
const enc = new TextEncoder();
const keyOf = (i: number): Uint8Array => enc.encode(`user${String(i).padStart(10, "0")}`);

/** Runs `step` (one unit of `units` items) until the budget is spent; returns items/s. */
async function rate(units: number, step: () => unknown): Promise<number> {
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    await step();
    done += units;
    elapsed = performance.now() - start;
  }
  return (done * 1000) / elapsed;
}

async function measure(engine: Engine): Promise<Record<string, number>> {
  for (let i = 0; i < preloadKeys; i += 1000) {
    const ops: WriteOp[] = [];
    for (let j = i; j < i + 1000; j++) ops.push({ kind: "put", key: keyOf(j), value });
    await engine.write(ops, { sync: false });
  }
  let next = 0;
  const gets = await rate(1000, () => {
    for (let j = 0; j < 1000; j++) engine.get(keyOf((next = (next * 7919 + 1) % preloadKeys)));
  });
  let fresh = preloadKeys;
  const batch = (): WriteOp[] => {
    const ops: WriteOp[] = [];
    for (let j = 0; j < batchKeys; j++) ops.push({ kind: "put", key: keyOf(fresh++), value });
    return ops;
  };
  const batchesNoSync = await rate(1, () => engine.write(batch(), { sync: false }));
  const batchesSync = await rate(1, () => engine.write(batch(), { sync: true }));
  const scanned = await rate(10_000, () => {
    let n = 0;
    const start = keyOf((next = (next * 7919 + 1) % (preloadKeys - 10_000)));
    for (const kv of engine.scan({ start, limit: 10_000 })) n += kv.key.length > 0 ? 1 : 0;
    return n;
  });
  return {
    "point gets/s": gets,
    "100-key batches/s (no sync)": batchesNoSync,
    "100-key batches/s (sync)": batchesSync,
    "scanned keys/s": scanned,
  };
}

const dir = mkdtempSync(join(tmpdir(), "tessera-bench-engine-"));
try {
  const memory = new MemoryEngine();
  const memoryResults = await measure(memory);
  await memory.close();
  const lmdb = await LmdbEngine.open(join(dir, "lmdb"));
  const lmdbResults = await measure(lmdb);
  await lmdb.close();
  const rows = Object.keys(memoryResults).map((metric) => ({
    metric,
    MemoryEngine: Math.round(memoryResults[metric] ?? 0),
    LmdbEngine: Math.round(lmdbResults[metric] ?? 0),
  }));
  console.log(`engine bench: ${preloadKeys} keys preloaded, 100-byte values, ${budgetMs} ms each`);
  console.table(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
