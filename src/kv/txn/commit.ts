/**
 * Commit: the second phase of Percolator on one key, and the commit half of resolving a
 * lock.
 *
 * With our lock on the key, it becomes a commit record at `commitTs` (refused below the
 * lock's min commit ts, which readers may have pushed). Without it, the transaction either
 * committed already (a retry: success) or was rolled back or never prewrote the key
 * (`txnLockNotFound`).
 */
import { type Timestamp, assert } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import { MvccWrites } from "../mvcc/mvcc_writes.ts";
import { MvccReader } from "../mvcc/reader.ts";
import { commitLock } from "./common.ts";
import { type ActionResult, fail } from "./failure.ts";

/** A committed key, or a retry that found the key already committed. */
export type CommitOutcome =
  | { readonly kind: "committed"; readonly commitTs: Timestamp }
  | { readonly kind: "alreadyCommitted"; readonly commitTs: Timestamp };

/** Commits `key` of transaction `startTs` at `commitTs`. */
export function commitKey(
  snapshot: EngineReader,
  key: Uint8Array,
  options: { startTs: Timestamp; commitTs: Timestamp },
): ActionResult<CommitOutcome> {
  const { startTs, commitTs } = options;
  assert(commitTs > startTs, "commit ts must be above start ts");
  const reader = new MvccReader(snapshot);
  const lock = reader.loadLock(key);
  if (lock !== undefined && lock.startTs === startTs) {
    // A pessimistic lock was never prewritten: there is nothing to commit.
    if (lock.kind === "pessimistic") return fail({ kind: "txnLockNotFound", key, startTs });
    if (commitTs < lock.minCommitTs) {
      return fail({
        kind: "commitTsExpired",
        key,
        startTs,
        commitTs,
        minCommitTs: lock.minCommitTs,
      });
    }
    const writes = new MvccWrites();
    commitLock(reader, writes, key, { lock, commitTs });
    return { outcome: { kind: "committed", commitTs }, writes: writes.ops };
  }
  const record = reader.getTxnCommitRecord(key, startTs);
  switch (record.kind) {
    case "committed":
      return { outcome: { kind: "alreadyCommitted", commitTs: record.commitTs }, writes: [] };
    case "rolledBack":
    case "none":
      return fail({ kind: "txnLockNotFound", key, startTs });
    default:
      return record satisfies never;
  }
}

/** Commits every key of one transaction at `commitTs`; the first failure wins. */
export function commitKeys(
  snapshot: EngineReader,
  keys: readonly Uint8Array[],
  options: { startTs: Timestamp; commitTs: Timestamp },
): ActionResult<CommitOutcome> {
  const writes: MvccWrites["ops"] = [];
  let outcome: CommitOutcome = { kind: "alreadyCommitted", commitTs: options.commitTs };
  for (const key of keys) {
    const result = commitKey(snapshot, key, options);
    if (result.outcome.kind !== "committed" && result.outcome.kind !== "alreadyCommitted") {
      return fail(result.outcome);
    }
    if (result.outcome.kind === "committed") outcome = result.outcome;
    writes.push(...result.writes);
  }
  return { outcome, writes };
}
