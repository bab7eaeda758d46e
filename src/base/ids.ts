/**
 * Branded identifiers, so that a `ShardId` cannot be passed where a `StoreId` is expected.
 *
 * Ids are allocated by PD and are positive safe integers. The brands exist only in the
 * type system; at run time they are plain numbers (cheap to encode and compare).
 */

declare const brand: unique symbol;

/** A nominal type: `T` that only values passed through a constructor function carry. */
export type Brand<T, Name extends string> = T & { readonly [brand]: Name };

/** One KV node's storage. */
export type StoreId = Brand<number, "StoreId">;
/** A contiguous key range replicated by one Raft group. */
export type ShardId = Brand<number, "ShardId">;
/** One replica of a shard on one store. */
export type PeerId = Brand<number, "PeerId">;
/** A table in the catalog. */
export type TableId = Brand<number, "TableId">;
/** An index of a table. */
export type IndexId = Brand<number, "IndexId">;

function checkId(value: number, kind: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${kind} must be a positive safe integer, got ${value}`);
  }
}

/** Makes a `StoreId`, checking it is a positive safe integer. */
export function storeId(value: number): StoreId {
  checkId(value, "StoreId");
  return value as StoreId;
}

/** Makes a `ShardId`, checking it is a positive safe integer. */
export function shardId(value: number): ShardId {
  checkId(value, "ShardId");
  return value as ShardId;
}

/** Makes a `PeerId`, checking it is a positive safe integer. */
export function peerId(value: number): PeerId {
  checkId(value, "PeerId");
  return value as PeerId;
}

/** Makes a `TableId`, checking it is a positive safe integer. */
export function tableId(value: number): TableId {
  checkId(value, "TableId");
  return value as TableId;
}

/** Makes an `IndexId`, checking it is a positive safe integer. */
export function indexId(value: number): IndexId {
  checkId(value, "IndexId");
  return value as IndexId;
}
