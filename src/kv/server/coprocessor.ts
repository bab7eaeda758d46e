/**
 * The coprocessor handler API: how pushed-down work (the SQL layer's DAG plans, [T9]) runs
 * on a shard's snapshot next to the data.
 *
 * A handler is registered under a name and gets a `CoprocessorInput`: the request's plan
 * bytes, its key ranges clipped to the shard, the read ts, and a `scan` that reads through
 * the concurrency manager exactly like `kv.Scan` (so async-commit locks are respected).
 * Handlers are synchronous and pure over that input — the snapshot is released when the
 * handler returns. A lock in the way is returned, not thrown, and the client resolves it.
 */
import { ErrorCode, TesseraError, type Timestamp } from "../../base/mod.ts";
import type { ShardMeta } from "../../proto/mod.ts";
import type { LockedKey, ScanResult } from "../mvcc/snapshot_read.ts";

/** One key range, clipped to the shard; `end` undefined is the shard's (open) end. */
export interface CoprocessorRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array | undefined;
}

/** What a handler is given. */
export interface CoprocessorInput {
  readonly shard: ShardMeta;
  readonly plan: Uint8Array;
  readonly ranges: readonly CoprocessorRange[];
  readonly startTs: Timestamp;
  /** Visible pairs of `range` at `startTs`, at most `limit`, or the first lock in the way. */
  scan(
    range: CoprocessorRange,
    options: { readonly limit: number; readonly reverse?: boolean },
  ): ScanResult;
}

/** A handler's result: its encoded output, or a lock the client must resolve first. */
export type CoprocessorOutput =
  | { readonly kind: "ok"; readonly data: Uint8Array }
  | ({ readonly kind: "locked" } & LockedKey);

/** Runs one kind of pushed-down request. */
export type CoprocessorHandler = (input: CoprocessorInput) => CoprocessorOutput;

/** Handlers by name; a store has one registry, filled at start-up. */
export class CoprocessorRegistry {
  private readonly handlers = new Map<string, CoprocessorHandler>();

  /** Registers `handler` under `name`; a name is registered once. */
  register(name: string, handler: CoprocessorHandler): void {
    if (this.handlers.has(name)) {
      throw new TesseraError(
        ErrorCode.KvRequestMalformed,
        `coprocessor handler ${name} is already registered`,
      );
    }
    this.handlers.set(name, handler);
  }

  /** The handler for `name`; `KV:Request:Unsupported` when there is none. */
  get(name: string): CoprocessorHandler {
    const handler = this.handlers.get(name);
    if (handler === undefined) {
      throw new TesseraError(
        ErrorCode.KvRequestUnsupported,
        `no coprocessor handler named ${name}`,
        { details: { handler: name } },
      );
    }
    return handler;
  }
}
