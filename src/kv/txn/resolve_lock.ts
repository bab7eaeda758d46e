/**
 * Resolve lock: once a transaction's fate is known (from its primary, or its secondaries
 * for async commit), commit or roll back its locks on other keys.
 *
 * `resolveLocks` takes the keys to resolve (found by `scanLocks` or in a read's
 * `keyIsLocked`) and touches only locks of transaction `startTs`; keys without its lock
 * are committed idempotently or get a rollback record, as `commitKey` and `rollbackKey`
 * would. Rollbacks here are unprotected: these are secondaries, and the primary's
 * protected rollback decides.
 */
import type { Timestamp } from "../../base/mod.ts";
import type { EngineReader, WriteOp } from "../engine/engine.ts";
import { commitKey } from "./commit.ts";
import { rollbackKey } from "./cleanup.ts";
import { type ActionResult, fail } from "./failure.ts";

/** How many keys were resolved. */
export interface ResolvedOutcome {
  readonly kind: "resolved";
  readonly keys: number;
}

/** Commits (commitTs > 0) or rolls back (commitTs = 0) transaction `startTs` on `keys`. */
export function resolveLocks(
  snapshot: EngineReader,
  keys: readonly Uint8Array[],
  options: { startTs: Timestamp; commitTs: Timestamp },
): ActionResult<ResolvedOutcome> {
  const { startTs, commitTs } = options;
  const writes: WriteOp[] = [];
  for (const key of keys) {
    if (commitTs === 0n) {
      const result = rollbackKey(snapshot, key, { startTs, isProtected: false });
      if (result.outcome.kind !== "rolledBack") return fail(result.outcome);
      writes.push(...result.writes);
    } else {
      const result = commitKey(snapshot, key, { startTs, commitTs });
      switch (result.outcome.kind) {
        case "committed":
        case "alreadyCommitted":
          writes.push(...result.writes);
          break;
        default:
          return fail(result.outcome);
      }
    }
  }
  return { outcome: { kind: "resolved", keys: keys.length }, writes };
}
