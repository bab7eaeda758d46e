/**
 * The `Engine` interface: the local, ordered, durable key-value store under a KV node.
 *
 * Keys are byte strings ordered bytewise. Reads are synchronous (the production engine is
 * LMDB, whose reads are synchronous and cheap), so the pure MVCC and Percolator actions can
 * run against a snapshot without awaiting. Writes are atomic batches; a batch written with
 * `sync: true` is durable on disk when the returned promise resolves, and not before.
 * Implementations: `MemoryEngine` (tests, simulation) and `LmdbEngine` (production); both
 * pass the conformance suite in `engine_conformance.ts`.
 */

/** One key and its value, as returned by scans. */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** A bounded ordered scan. Bounds are `[start, end)`; an absent bound is open. */
export interface ScanOptions {
  readonly start?: Uint8Array;
  readonly end?: Uint8Array;
  /** Iterate from the largest key below `end` down to `start`. */
  readonly reverse?: boolean;
  /** Stop after this many pairs. */
  readonly limit?: number;
}

/** Synchronous reads, on the live engine or on a snapshot. */
export interface EngineReader {
  /** The value at `key`, or `undefined` if absent. */
  get(key: Uint8Array): Uint8Array | undefined;
  /** Pairs in key order (or reverse order) within the bounds. */
  scan(options: ScanOptions): IterableIterator<KeyValue>;
}

/** A consistent, read-only view at one moment. Must be released: it pins old data. */
export interface EngineSnapshot extends EngineReader {
  release(): void;
}

/** One mutation in an atomic write batch. */
export type WriteOp =
  | { readonly kind: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: "delete"; readonly key: Uint8Array }
  /** Deletes every key in `[start, end)`. */
  | { readonly kind: "deleteRange"; readonly start: Uint8Array; readonly end: Uint8Array };
