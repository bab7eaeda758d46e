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

/** How a write batch reaches the disk. */
export interface WriteOptions {
  /**
   * When true the returned promise resolves only once the batch is durable (fsync'd);
   * when false it resolves once the batch is visible to readers and may be lost in a
   * machine crash (never half-applied).
   */
  readonly sync: boolean;
}

/** What an `ingest` applied. */
export interface IngestResult {
  /** Pairs written. */
  readonly keys: number;
  /** Sum of key and value lengths, in bytes. */
  readonly bytes: number;
}

/**
 * A local ordered key-value store. Reads are synchronous; writes are atomic batches
 * applied in submission order, each visible to readers once `write` resolves. Keys are
 * 1 to `limits.engineKeyBytesMax` bytes, values at most `limits.engineValueBytesMax`
 * bytes; longer ones are refused with `KV:Engine:KeyTooLarge` / `KV:Engine:ValueTooLarge`
 * and nothing of the batch is applied. Arrays passed in are copied; arrays returned are
 * the caller's to keep.
 */
export interface Engine extends EngineReader {
  /** A consistent read-only view of the engine now; later writes are not visible in it. */
  snapshot(): EngineSnapshot;
  /**
   * Applies `ops` in order, atomically: after a crash, all of them or none are present.
   * A batch whose write fails for a disk reason rejects with `KV:Engine:WriteFailed` and
   * stops the engine: every later write is refused with the same code.
   */
  write(ops: readonly WriteOp[], options: WriteOptions): Promise<void>;
  /** Resolves once every batch written before the call is durable. */
  sync(): Promise<void>;
  /**
   * Bytes (keys plus values) stored in `[start, end)`. Approximate by contract so an
   * implementation may estimate; it never decreases when pairs are only added.
   */
  approximateSize(start: Uint8Array, end: Uint8Array): number;
  /**
   * Writes the pairs of a sorted file (`sorted_file.ts` format) as one atomic, durable
   * batch. A file out of order, with a duplicate key, truncated or corrupted is refused
   * (`KV:Engine:IngestUnsorted`, `KV:Engine:IngestMalformed`) before anything is applied.
   */
  ingest(path: string): Promise<IngestResult>;
  /** Waits for in-flight syncs, then releases the engine's files. Idempotent. */
  close(): Promise<void>;
}
