/**
 * Coprocessor reads: work pushed down to the KV nodes (a registered handler, e.g. the SQL
 * layer's `dag`) over key ranges at a read ts, its results streamed back page by page.
 *
 * The ranges are split by the shards that hold them (the router's cache, as `Txn.scan`
 * uses), one task per shard with its ranges clipped to it. Tasks run with bounded
 * concurrency (`limits.clientCoprocessorConcurrencyMax`), at most
 * `limits.clientCoprocessorPagesAheadMax` pages buffered each, and only tasks within the
 * concurrency window after the one being read are started, so a slow reader bounds what
 * is buffered; pages are yielded in task order (key order, or reversed for `desc`).
 *
 * One task is a loop over its remaining ranges: each step routes its first key (its last
 * range's top shard for `desc`) through `KvClient.sendKey`, which retries route errors
 * (not leader, epoch not match, shard moved) with a refreshed route, and clips the ranges
 * to the shard it finally reached; what that shard answered is removed from the task's
 * remaining ranges, so a shard split or merged meanwhile only makes more steps. A page's
 * resume key (read from the handler's reply by the caller's `resumeKey`) says where the
 * shard stopped: the next step resumes there. `locked`: the lock is resolved through the
 * lock resolver (live ones waited out within `limits.clientLockWaitMsMax`) and the step
 * sent again, reading past transactions known to commit later (`bypassLocks`).
 *
 * The handler's bytes are opaque here: the caller decodes them (`decode`). Stopping the
 * iteration (a LIMIT that has its rows) stops sending: requests in flight are dropped.
 */
import { type Timestamp, assert, limits } from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";
import type { Env } from "../env/mod.ts";
import {
  type CoprocessorReply,
  KvMethod,
  type LockInfo,
  type ShardMeta,
} from "../proto/mod.ts";
import { Backoff } from "./backoff.ts";
import type { KvClient } from "./kv_client.ts";
import { type LockResolver, keyErrorToError, lockResolveTimeout } from "./lock_resolver.ts";

/** A key range `[start, end)`; an empty `end` is open (to the end of the key space). */
export interface CopRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

/** One coprocessor read. */
export interface CopRequest<T> {
  /** The registered handler on the KV nodes (`dag`). */
  readonly handler: string;
  /** The handler's encoded plan, sent with every request. */
  readonly plan: Uint8Array;
  /** Sorted, non-overlapping ranges. */
  readonly ranges: readonly CopRange[];
  /** Shards in descending key order, and a resume key is an exclusive upper bound. */
  readonly desc?: boolean;
  /** Shard requests in flight at most; default `limits.clientCoprocessorConcurrencyMax`. */
  readonly concurrency?: number;
  /** The handler's reply decoded. */
  decode(data: Uint8Array): T;
  /**
   * Where the shard stopped (forward: the first key not read; `desc`: the last key not
   * read, exclusive), or null when it read all it was sent.
   */
  resumeKey(page: T): Uint8Array | null;
  /** Called for every request sent (metrics). */
  onRequest?(): void;
  /**
   * Called for every reply with its task's number (in `runCoprocessor`'s task order) and
   * its round trip in ms by the client's clock (EXPLAIN ANALYZE's `cop_task`).
   */
  onReply?(task: number, ms: number): void;
}

/** One reply of one shard. */
export interface CopPage<T> {
  readonly value: T;
  readonly shard: ShardMeta;
}

/** What a coprocessor read needs from its client (a transaction's context fits). */
export interface CopContext {
  readonly env: Pick<Env, "random" | "timers" | "clock">;
  readonly kv: KvClient;
  readonly resolver: LockResolver;
  checkSafePoint(ts: Timestamp): Promise<void>;
}

/** `a < b` for range ends, where empty is +infinity. */
function endBelow(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === 0) return false;
  if (b.length === 0) return true;
  return compareBytes(a, b) < 0;
}

function maxStart(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) >= 0 ? a : b;
}

function minEnd(a: Uint8Array, b: Uint8Array): Uint8Array {
  return endBelow(a, b) || b.length === 0 ? a : b;
}

/** The parts of `ranges` inside `[lo, hi)` (empty hi: open). */
export function clipRanges(ranges: readonly CopRange[], lo: Uint8Array, hi: Uint8Array):
  CopRange[] {
  const out: CopRange[] = [];
  for (const r of ranges) {
    const start = maxStart(r.start, lo);
    const end = minEnd(r.end, hi);
    if (end.length > 0 && compareBytes(start, end) >= 0) continue;
    out.push({ start, end });
  }
  return out;
}

/** `ranges` without `[lo, hi)` (empty hi: open). */
export function subtractRange(ranges: readonly CopRange[], lo: Uint8Array, hi: Uint8Array):
  CopRange[] {
  const out: CopRange[] = [];
  for (const r of ranges) {
    // The part below lo.
    if (compareBytes(r.start, lo) < 0) out.push({ start: r.start, end: minEnd(r.end, lo) });
    // The part at or above hi.
    if (hi.length > 0 && endBelow(hi, r.end)) {
      out.push({ start: maxStart(r.start, hi), end: r.end });
    }
  }
  return out.filter((r) => r.end.length === 0 || compareBytes(r.start, r.end) < 0);
}

/** Runs one task's steps, pushing pages; see the file comment. */
async function runTask<T>(
  ctx: CopContext,
  request: CopRequest<T>,
  readTs: Timestamp,
  initial: readonly CopRange[],
  push: (page: CopPage<T>) => Promise<boolean>,
  task: number,
): Promise<void> {
  const desc = request.desc ?? false;
  let remaining: CopRange[] = [...initial];
  const bypass: Timestamp[] = [];
  let lockWaitStartMs: number | undefined;
  const lockBackoff = new Backoff(ctx.env.random, {
    baseMs: 5,
    capMs: 500,
    attemptsMax: limits.txnLockConflictAttemptsMax * 4,
  });
  while (remaining.length > 0) {
    let anchor = (remaining[0] as CopRange).start;
    const top = remaining[remaining.length - 1] as CopRange;
    if (desc) {
      const routes = await ctx.kv.shardsInRange(top.start, top.end);
      const last = routes[routes.length - 1];
      anchor = last === undefined ? top.start : maxStart(top.start, last.shard.startKey);
    }
    const sent = remaining;
    request.onRequest?.();
    const sentAtMs = ctx.env.clock.monotonicMs();
    const { reply, shard } = await ctx.kv.sendKey<CoprocessorReply>(
      anchor,
      KvMethod.coprocessor,
      (s) => ({
        handler: request.handler,
        plan: request.plan,
        ranges: clipRanges(sent, s.startKey, s.endKey),
        startTs: readTs,
        ...(bypass.length > 0 ? { bypassLocks: [...bypass] } : {}),
      }),
    );
    request.onReply?.(task, ctx.env.clock.monotonicMs() - sentAtMs);
    const keyError = reply.keyError;
    if (keyError !== undefined) {
      if (keyError.kind !== "keyIsLocked") throw keyErrorToError(keyError, "coprocessor");
      const lock: LockInfo = keyError.lock;
      lockWaitStartMs ??= ctx.env.clock.monotonicMs();
      const result = await ctx.resolver.resolve([lock], readTs);
      bypass.push(...result.bypass);
      if (result.msBeforeExpired === 0) continue;
      const waited = ctx.env.clock.monotonicMs() - lockWaitStartMs;
      const delay = lockBackoff.next();
      if (delay === null || waited >= limits.clientLockWaitMsMax) {
        throw lockResolveTimeout(lock, waited);
      }
      await ctx.env.timers.sleep(
        Math.min(delay, result.msBeforeExpired, limits.clientLockWaitMsMax - waited),
      );
      continue;
    }
    // A desc step must read the top of what remains: a shard that ends below it (split
    // between listing and sending) answered out of order; list again.
    if (desc && endBelow(shard.endKey, top.end)) continue;
    const value = request.decode(reply.data);
    const resume = request.resumeKey(value);
    // A page that resumes where it began would be sent again forever: a handler's bug.
    if (resume !== null) {
      assert(desc ? top.end.length === 0 || compareBytes(resume, top.end) < 0
        : compareBytes(resume, anchor) > 0, "a coprocessor page made no progress");
    }
    if (resume === null) remaining = subtractRange(remaining, shard.startKey, shard.endKey);
    else if (desc) remaining = subtractRange(remaining, resume, shard.endKey);
    else remaining = subtractRange(remaining, shard.startKey, resume);
    if (!(await push({ value, shard }))) return;
  }
}

/** One task's state between its producer and the reader. */
interface TaskState<T> {
  readonly ranges: readonly CopRange[];
  readonly pages: CopPage<T>[];
  started: boolean;
  done: boolean;
  failed: { readonly error: unknown } | null;
  /** The reader waits for a page or the end. */
  onData: (() => void) | null;
  /** The producer waits for room. */
  onRoom: (() => void) | null;
}

/**
 * Sends `request` over its ranges at `readTs` and yields the shards' pages; see the file
 * comment.
 */
export async function* runCoprocessor<T>(
  ctx: CopContext,
  request: CopRequest<T>,
  readTs: Timestamp,
): AsyncGenerator<CopPage<T>> {
  if (request.ranges.length === 0) return;
  for (let i = 1; i < request.ranges.length; i++) {
    const prev = request.ranges[i - 1] as CopRange;
    const next = request.ranges[i] as CopRange;
    assert(prev.end.length > 0 && compareBytes(prev.end, next.start) <= 0,
      "coprocessor ranges must be sorted and must not overlap");
  }
  await ctx.checkSafePoint(readTs);
  const first = request.ranges[0] as CopRange;
  const last = request.ranges[request.ranges.length - 1] as CopRange;
  const routes = await ctx.kv.shardsInRange(first.start, last.end);
  const tasks: TaskState<T>[] = [];
  for (const route of routes) {
    const ranges = clipRanges(request.ranges, route.shard.startKey, route.shard.endKey);
    if (ranges.length === 0) continue;
    tasks.push({ ranges, pages: [], started: false, done: false, failed: null, onData: null,
      onRoom: null });
  }
  // No route known (PD answered nothing): one task; the KV client finds the shards.
  if (tasks.length === 0) {
    tasks.push({ ranges: [...request.ranges], pages: [], started: false, done: false,
      failed: null, onData: null, onRoom: null });
  }
  if (request.desc === true) tasks.reverse();
  const concurrency = Math.max(1,
    request.concurrency ?? limits.clientCoprocessorConcurrencyMax);
  const ahead = limits.clientCoprocessorPagesAheadMax;
  let stopped = false;
  const wakeData = (task: TaskState<T>): void => {
    const wake = task.onData;
    task.onData = null;
    wake?.();
  };
  const start = (task: TaskState<T>, index: number): void => {
    task.started = true;
    const push = async (page: CopPage<T>): Promise<boolean> => {
      if (stopped) return false;
      task.pages.push(page);
      wakeData(task);
      while (task.pages.length >= ahead && !stopped) {
        await new Promise<void>((resolve) => {
          task.onRoom = resolve;
        });
      }
      return !stopped;
    };
    runTask(ctx, request, readTs, task.ranges, push, index).then(
      () => {
        task.done = true;
        wakeData(task);
      },
      (error: unknown) => {
        task.failed = { error };
        task.done = true;
        wakeData(task);
      },
    );
  };
  try {
    for (let i = 0; i < tasks.length; i++) {
      for (let k = i; k < Math.min(tasks.length, i + concurrency); k++) {
        const t = tasks[k] as TaskState<T>;
        if (!t.started) start(t, k);
      }
      const task = tasks[i] as TaskState<T>;
      for (;;) {
        const page = task.pages.shift();
        if (page !== undefined) {
          const room = task.onRoom;
          task.onRoom = null;
          room?.();
          yield page;
          continue;
        }
        if (task.failed !== null) throw task.failed.error;
        if (task.done) break;
        await new Promise<void>((resolve) => {
          task.onData = resolve;
        });
      }
    }
  } finally {
    stopped = true;
    for (const t of tasks) {
      const room = t.onRoom;
      t.onRoom = null;
      room?.();
    }
  }
}

