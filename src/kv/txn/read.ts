/**
 * Transactional reads on a store: the concurrency-manager steps around the MVCC snapshot
 * reads, in the order async commit needs (raise max read ts, check memory locks, then read
 * the engine snapshot).
 */
import type { Timestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import {
  type GetResult,
  type ReadOptions,
  type ScanOptions,
  type ScanResult,
  mvccGet,
  mvccScan,
} from "../mvcc/snapshot_read.ts";
import type { ConcurrencyManager } from "./concurrency_manager.ts";

/** Reads `key` at `readTs` (snapshot taken after the call's concurrency checks). */
export function readKey(
  cm: ConcurrencyManager,
  snapshot: EngineReader,
  options: { key: Uint8Array; readTs: Timestamp } & ReadOptions,
): GetResult {
  cm.updateMaxTs(options.readTs);
  const memory = cm.readKeyCheck(options.key, options.readTs, options);
  if (memory.kind === "locked") return memory;
  return mvccGet(snapshot, options.key, options.readTs, options);
}

/** Scans at `readTs` (snapshot taken after the call's concurrency checks). */
export function readRange(
  cm: ConcurrencyManager,
  snapshot: EngineReader,
  options: ScanOptions & { readTs: Timestamp },
): ScanResult {
  cm.updateMaxTs(options.readTs);
  const memory = cm.readRangeCheck(options, options.readTs, options);
  if (memory.kind === "locked") return memory;
  return mvccScan(snapshot, options.readTs, options);
}
