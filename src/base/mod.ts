/**
 * `base`: the pure foundation every component uses — invariants, typed errors, limits,
 * seeded randomness, branded ids and TSO timestamps. No I/O, no clocks, no dependencies.
 */
export { AssertionError, assert, unreachable } from "./assert.ts";
export {
  ErrorCode,
  TesseraError,
  type TesseraErrorOptions,
  describeError,
  hasErrorCode,
} from "./errors.ts";
export { limits, type Limits } from "./limits.ts";
export { Prng } from "./prng.ts";
export {
  type Brand,
  type IndexId,
  type PeerId,
  type ShardId,
  type StoreId,
  type TableId,
  indexId,
  peerId,
  shardId,
  storeId,
  tableId,
} from "./ids.ts";
export {
  type Timestamp,
  asTimestamp,
  composeTimestamp,
  decomposeTimestamp,
  formatTimestamp,
  logicalBits,
  logicalMax,
  maxOfTimestamps,
  maxTimestamp,
  physicalMsMax,
  zeroTimestamp,
} from "./timestamp.ts";
