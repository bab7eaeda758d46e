/**
 * Txn heartbeat: a long transaction's coordinator extends its primary lock's TTL so that
 * readers do not resolve it as dead. The TTL only grows; a transaction whose primary lock
 * is gone gets `txnLockNotFound` and must abort.
 */
import type { Timestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import { MvccWrites } from "../mvcc/mvcc_writes.ts";
import { MvccReader } from "../mvcc/reader.ts";
import { type ActionResult, fail } from "./failure.ts";

/** The primary lock's TTL after the heartbeat. */
export interface HeartbeatOutcome {
  readonly kind: "alive";
  readonly ttlMs: number;
}

/** Raises the TTL of transaction `startTs`'s lock on `primary` to `adviseTtlMs`. */
export function txnHeartbeat(
  snapshot: EngineReader,
  primary: Uint8Array,
  options: { startTs: Timestamp; adviseTtlMs: number },
): ActionResult<HeartbeatOutcome> {
  const reader = new MvccReader(snapshot);
  const lock = reader.loadLock(primary);
  if (lock === undefined || lock.startTs !== options.startTs) {
    return fail({ kind: "txnLockNotFound", key: primary, startTs: options.startTs });
  }
  if (lock.ttlMs >= options.adviseTtlMs) {
    return { outcome: { kind: "alive", ttlMs: lock.ttlMs }, writes: [] };
  }
  const writes = new MvccWrites();
  writes.putLock(primary, { ...lock, ttlMs: options.adviseTtlMs });
  return { outcome: { kind: "alive", ttlMs: options.adviseTtlMs }, writes: writes.ops };
}
