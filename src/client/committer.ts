/**
 * The commit of one transaction: chooses the commit path, prewrites, decides the commit
 * ts, and commits (or rolls back).
 *
 * Path choice, in order (each on by default, off by option):
 * - `onePc`: every key lives in one shard and the transaction is small (keys within
 *   `limits.txnAsyncCommitKeysMax`, bytes within `limits.txnOnePcBytesMax`): one prewrite
 *   with `tryOnePc` commits it; a store that cannot (the ts bound) falls back to 2PC.
 * - `asyncCommit`: the secondaries fit `limits.txnAsyncCommitKeysMax` and the key bytes
 *   `limits.txnAsyncCommitKeyBytesMax`: every prewrite carries `asyncCommit` (the primary's
 *   lists the secondaries); once all succeed the transaction is committed at the largest
 *   min commit ts a store returned, and the keys are committed in the background.
 * - `twoPc`: prewrite the primary and the secondaries in parallel by shard, take a commit
 *   ts from TSO, commit the primary (the commit point), then the secondaries in the
 *   background.
 * Linearizability (on by default, as TiDB's `tidb_guarantee_linearizability`): for 1PC and
 * async commit the min commit ts is a fresh TSO taken after the transaction's writes were
 * decided, so a transaction that starts after this one commits sees it. Turning it off
 * saves that TSO round: commits are then only causally ordered per shard.
 *
 * Failures: a prewrite key error rolls back every key and surfaces as a typed error
 * (`KV:Txn:WriteConflict`, `KV:Txn:AlreadyExist`, …); a lock in the way is resolved and
 * the prewrite retried (bounded). An outcome that cannot be known — the primary's commit
 * (2PC) or any prewrite (1PC, async commit, whose prewrites are the commit point) failed
 * with an ambiguous transport error — is `CLIENT:Txn:CommitResultUnknown`, ambiguous,
 * never success or failure.
 */
import {
  ErrorCode,
  TesseraError,
  type Timestamp,
  describeError,
  hasErrorCode,
  limits,
} from "../base/mod.ts";
import type { Env } from "../env/mod.ts";
import {
  type CommitReply,
  type KeyError,
  type KvReply,
  KvMethod,
  type LockInfo,
  type MutationInfo,
  type PrewriteReply,
} from "../proto/mod.ts";
import { Backoff } from "./backoff.ts";
import { type KvClient, groupKeysByShard } from "./kv_client.ts";
import { type LockResolver, keyErrorToError } from "./lock_resolver.ts";

/** The path a transaction's commit took. */
export type CommitPath = "onePc" | "asyncCommit" | "twoPc";

/** Commit options a transaction carries. */
export interface CommitOptions {
  readonly enableOnePc: boolean;
  readonly enableAsyncCommit: boolean;
  /** Fresh TSO min commit ts for 1PC and async commit. */
  readonly linearizable: boolean;
  readonly lockTtlMs: number;
  /** Give up the prewrite at once on a live lock (`TxnOptions.failOnLiveLocks`). */
  readonly failOnLiveLocks: boolean;
}

/** What the committer needs from its surroundings. */
export interface CommitterContext {
  readonly env: Pick<Env, "random" | "timers" | "buggify">;
  readonly kv: KvClient;
  readonly resolver: LockResolver;
  timestamp(): Promise<Timestamp>;
  /** Runs work after the caller was answered; failures are logged, never lost silently. */
  background(work: () => Promise<void>, what: string): void;
}

/** A transaction's writes, ready to commit. */
export interface CommitInput {
  readonly startTs: Timestamp;
  readonly primary: Uint8Array;
  /** Sorted by key; includes the primary. */
  readonly mutations: readonly MutationInfo[];
  /** Pessimistic transactions: the for-update ts and the keys holding our lock. */
  readonly pessimistic?: {
    readonly forUpdateTs: Timestamp;
    readonly isLocked: (key: Uint8Array) => boolean;
  };
  readonly options: CommitOptions;
  /** Called once the primary lock is written (to start the heartbeat). */
  readonly onPrimaryLocked?: () => void;
}

/** A finished commit. */
export interface CommitOutcome {
  readonly path: CommitPath;
  readonly commitTs: Timestamp;
}

function hexOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function bytesOf(m: MutationInfo): number {
  return m.key.length + (m.kind === "put" || m.kind === "insert" ? m.value.length : 0);
}

/** The typed error of a commit whose outcome cannot be known. */
export function commitResultUnknown(startTs: Timestamp, cause: unknown): TesseraError {
  return new TesseraError(
    ErrorCode.ClientTxnCommitResultUnknown,
    `the commit of transaction ${startTs} may or may not have happened: ${describeError(cause)}`,
    { cause, ambiguous: true, details: { startTs: String(startTs) } },
  );
}

/** Commits one transaction; see the file comment. */
export async function commitTransaction(
  ctx: CommitterContext,
  input: CommitInput,
): Promise<CommitOutcome> {
  const { mutations, options } = input;
  const keys = mutations.map((m) => m.key);
  const groups = await groupKeysByShard(keys, (k) => ctx.kv.shardOf(k));
  const shardCount = Array.isArray(groups) ? groups.length : Infinity;
  const totalBytes = mutations.reduce((n, m) => n + bytesOf(m), 0);
  const keyBytes = keys.reduce((n, k) => n + k.length, 0);
  let path: CommitPath = "twoPc";
  if (
    options.enableOnePc &&
    shardCount === 1 &&
    mutations.length <= limits.txnAsyncCommitKeysMax &&
    totalBytes <= limits.txnOnePcBytesMax
  ) {
    path = "onePc";
  } else if (
    options.enableAsyncCommit &&
    mutations.length - 1 <= limits.txnAsyncCommitKeysMax &&
    keyBytes <= limits.txnAsyncCommitKeyBytesMax
  ) {
    path = "asyncCommit";
  }
  let minCommitTs: Timestamp | undefined;
  if (path !== "twoPc" && options.linearizable) minCommitTs = await ctx.timestamp();
  // Fault point (simulation only): readers get timestamps between min commit ts and locks.
  if (ctx.env.buggify?.("client.commit.delayBeforePrewrite", 0.1) === true) {
    await ctx.env.timers.sleep(ctx.env.random.int(300));
  }

  const prewritten = await prewrite(ctx, input, path, minCommitTs);
  if (prewritten.kind === "failed") {
    rollbackInBackground(ctx, input, keys);
    throw prewritten.error;
  }
  if (prewritten.kind === "unknown") throw commitResultUnknown(input.startTs, prewritten.cause);
  if (path === "onePc" && prewritten.onePcCommitTs !== 0n) {
    return { path: "onePc", commitTs: prewritten.onePcCommitTs };
  }
  if (path === "asyncCommit" && !prewritten.fellBack) {
    const commitTs = prewritten.minCommitTs;
    ctx.background(() => commitKeys(ctx, input, keys, commitTs), "async commit of keys");
    return { path: "asyncCommit", commitTs };
  }
  // Fault point (simulation only): a slow committer, whose locks others meet and resolve.
  if (ctx.env.buggify?.("client.commit.delayBeforePrimary", 0.1) === true) {
    await ctx.env.timers.sleep(ctx.env.random.int(2_000));
  }
  // 2PC, chosen or fallen back to: the primary's commit is the commit point.
  const commitTs = await commitPrimary(ctx, input, prewritten.minCommitTs);
  const secondaries = keys.filter((k) => !sameKey(k, input.primary));
  if (secondaries.length > 0) {
    ctx.background(() => commitKeys(ctx, input, secondaries, commitTs), "commit of secondaries");
  }
  return { path: "twoPc", commitTs };
}

type Prewritten =
  | {
      readonly kind: "ok";
      readonly minCommitTs: Timestamp;
      readonly onePcCommitTs: Timestamp;
      readonly fellBack: boolean;
    }
  | { readonly kind: "failed"; readonly error: TesseraError }
  | { readonly kind: "unknown"; readonly cause: unknown };

/** Prewrites every key, resolving locks in the way; see the file comment. */
async function prewrite(
  ctx: CommitterContext,
  input: CommitInput,
  path: CommitPath,
  minCommitTs: Timestamp | undefined,
): Promise<Prewritten> {
  const byKey = new Map(input.mutations.map((m) => [hexOf(m.key), m]));
  const secondaries = input.mutations
    .filter((m) => !sameKey(m.key, input.primary))
    .map((m) => m.key);
  let pending = input.mutations.map((m) => m.key);
  let maxMinCommitTs = 0n as Timestamp;
  let onePcCommitTs = 0n as Timestamp;
  let fellBack = false;
  const backoff = new Backoff(ctx.env.random, {
    baseMs: 10,
    capMs: 1_000,
    attemptsMax: limits.txnLockConflictAttemptsMax,
  });
  for (;;) {
    let replies;
    try {
      replies = await ctx.kv.sendKeys<PrewriteReply>(
        pending,
        KvMethod.prewrite,
        (keys) => {
          const hasPrimary = keys.some((k) => sameKey(k, input.primary));
          const pessimistic = input.pessimistic;
          return {
            mutations: keys.map((k) => byKey.get(hexOf(k)) as MutationInfo),
            primary: input.primary,
            startTs: input.startTs,
            lockTtlMs: input.options.lockTtlMs,
            txnSize: input.mutations.length,
            ...(minCommitTs === undefined ? {} : { minCommitTs }),
            ...(pessimistic === undefined
              ? {}
              : {
                  pessimistic: {
                    forUpdateTs: pessimistic.forUpdateTs,
                    locked: keys.map((k) => pessimistic.isLocked(k)),
                  },
                }),
            ...(path === "asyncCommit"
              ? {
                  asyncCommit: {
                    secondaries: hasPrimary ? secondaries : [],
                    maxCommitTs: 0n,
                  },
                }
              : {}),
            ...(path === "onePc" ? { tryOnePc: { maxCommitTs: 0n } } : {}),
          };
        },
      );
    } catch (error) {
      // Async commit and 1PC commit in the prewrite: a lost reply leaves the outcome open.
      if (path !== "twoPc" && error instanceof TesseraError && error.ambiguous) {
        return { kind: "unknown", cause: error };
      }
      if (error instanceof TesseraError) return { kind: "failed", error };
      throw error;
    }
    const locks: LockInfo[] = [];
    const retry: Uint8Array[] = [];
    for (const { keys, reply } of replies) {
      if (keys.some((k) => sameKey(k, input.primary)) && reply.keyError === undefined) {
        input.onPrimaryLocked?.();
      }
      const keyError = reply.keyError;
      if (keyError !== undefined) {
        if (keyError.kind === "keyIsLocked") {
          locks.push(keyError.lock);
          retry.push(...keys);
          continue;
        }
        if (
          keyError.kind === "writeConflict" &&
          keyError.reason !== "selfRolledBack" &&
          keyError.conflictStartTs === input.startTs
        ) {
          // Our own commit record: the KV client resent a prewrite whose reply was lost and
          // the first one had committed (1PC; async commit once resolved). Never a failure.
          // Stores now answer such a retry with the record's commit ts (`prewrite.ts`);
          // this keeps a store that reports it as a conflict from failing the commit.
          if (path === "onePc") {
            return {
              kind: "ok",
              minCommitTs: keyError.conflictCommitTs,
              onePcCommitTs: keyError.conflictCommitTs,
              fellBack: false,
            };
          }
          return { kind: "unknown", cause: keyErrorToError(keyError, "prewrite") };
        }
        return { kind: "failed", error: keyErrorToError(keyError, "prewrite") };
      }
      if (reply.minCommitTs > maxMinCommitTs) maxMinCommitTs = reply.minCommitTs;
      if (reply.onePcCommitTs !== 0n) onePcCommitTs = reply.onePcCommitTs;
      if (reply.fellBackFrom !== undefined) fellBack = true;
    }
    if (retry.length === 0) {
      return { kind: "ok", minCommitTs: maxMinCommitTs, onePcCommitTs, fellBack };
    }
    const resolved = await ctx.resolver.resolve(locks, 0n as Timestamp);
    const delay = input.options.failOnLiveLocks && resolved.msBeforeExpired > 0 ? null
      : backoff.next();
    if (delay === null) {
      return {
        kind: "failed",
        error: keyErrorToError(
          { kind: "keyIsLocked", lock: locks[0] as LockInfo } as KeyError,
          "prewrite kept meeting locks",
        ),
      };
    }
    if (resolved.msBeforeExpired > 0) {
      await ctx.env.timers.sleep(Math.min(delay, resolved.msBeforeExpired));
    }
    pending = retry;
  }
}

/** Commits the primary at a fresh TSO (retrying if a reader pushed its min commit ts). */
async function commitPrimary(
  ctx: CommitterContext,
  input: CommitInput,
  atLeast: Timestamp,
): Promise<Timestamp> {
  for (let attempt = 0; attempt < limits.txnLockConflictAttemptsMax; attempt++) {
    let commitTs = await ctx.timestamp();
    if (commitTs <= atLeast) commitTs = (atLeast + 1n) as Timestamp;
    let reply: CommitReply;
    try {
      ({ reply } = await ctx.kv.sendKey<CommitReply>(input.primary, KvMethod.commit, () => ({
        keys: [input.primary],
        startTs: input.startTs,
        commitTs,
      })));
    } catch (error) {
      if (
        hasErrorCode(error, ErrorCode.ClientRouteRetriesExhausted) &&
        !error.ambiguous
      ) {
        // No attempt reached a store: the primary is still only prewritten.
        rollbackInBackground(ctx, input, input.mutations.map((m) => m.key));
        throw error;
      }
      throw commitResultUnknown(input.startTs, error);
    }
    const keyError = reply.keyError;
    if (keyError === undefined) return reply.commitTs === 0n ? commitTs : reply.commitTs;
    if (keyError.kind === "commitTsExpired") continue;
    rollbackInBackground(ctx, input, input.mutations.map((m) => m.key));
    throw keyErrorToError(keyError, "commit of the primary");
  }
  throw commitResultUnknown(input.startTs, new Error("commit ts kept expiring"));
}

/** Commits `keys` at `commitTs` (after the commit point: failures only delay readers). */
async function commitKeys(
  ctx: CommitterContext,
  input: CommitInput,
  keys: readonly Uint8Array[],
  commitTs: Timestamp,
): Promise<void> {
  const replies = await ctx.kv.sendKeys<CommitReply>(keys, KvMethod.commit, (group) => ({
    keys: group,
    startTs: input.startTs,
    commitTs,
  }));
  for (const { reply } of replies) {
    if (reply.keyError !== undefined) throw keyErrorToError(reply.keyError, "commit");
  }
}

/** Rolls back `keys` after the caller was answered (a failure only delays other writers). */
function rollbackInBackground(
  ctx: CommitterContext,
  input: Pick<CommitInput, "startTs">,
  keys: readonly Uint8Array[],
): void {
  ctx.background(() => rollback(ctx, input, keys), "rollback after a failed commit");
}

/** Rolls back every key of a transaction that will not commit. */
export async function rollback(
  ctx: CommitterContext,
  input: Pick<CommitInput, "startTs">,
  keys: readonly Uint8Array[],
): Promise<void> {
  const replies = await ctx.kv.sendKeys<KvReply>(keys, KvMethod.rollback, (group) => ({
    keys: group,
    startTs: input.startTs,
  }));
  for (const { reply } of replies) {
    if (reply.keyError !== undefined) throw keyErrorToError(reply.keyError, "rollback");
  }
}
