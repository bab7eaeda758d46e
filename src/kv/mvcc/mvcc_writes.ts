/**
 * `MvccWrites`: collects the engine writes of one action, in column-family terms.
 *
 * Actions read from a snapshot and describe their effect through this builder; the caller
 * applies `ops` as one atomic batch (through Raft, on a real store). The builder never
 * reads, so an action sees the snapshot, not its own pending writes: actions touch each
 * key at most once per request, which keeps that sound.
 */
import type { Timestamp } from "../../base/mod.ts";
import type { WriteOp } from "../engine/engine.ts";
import { dataKey, lockKey, writeKey } from "./keys.ts";
import { type Lock, encodeLock } from "./lock.ts";
import { type Write, encodeWrite } from "./write.ts";

/** A growing batch of MVCC writes. */
export class MvccWrites {
  readonly ops: WriteOp[] = [];

  putLock(key: Uint8Array, lock: Lock): void {
    this.ops.push({ kind: "put", key: lockKey(key), value: encodeLock(lock) });
  }

  deleteLock(key: Uint8Array): void {
    this.ops.push({ kind: "delete", key: lockKey(key) });
  }

  putWrite(key: Uint8Array, commitTs: Timestamp, write: Write): void {
    this.ops.push({ kind: "put", key: writeKey(key, commitTs), value: encodeWrite(write) });
  }

  deleteWrite(key: Uint8Array, commitTs: Timestamp): void {
    this.ops.push({ kind: "delete", key: writeKey(key, commitTs) });
  }

  putValue(key: Uint8Array, startTs: Timestamp, value: Uint8Array): void {
    this.ops.push({ kind: "put", key: dataKey(key, startTs), value });
  }

  deleteValue(key: Uint8Array, startTs: Timestamp): void {
    this.ops.push({ kind: "delete", key: dataKey(key, startTs) });
  }
}
