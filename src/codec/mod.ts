/**
 * `codec`: memcomparable keys — SQL values encoded so that bytewise key order is SQL order
 * (collation-aware for strings) — and TiDB's layout of rows, indexes and metadata in the
 * one ordered key space. Pure: no I/O, no clocks, no randomness.
 */
export { compareBytes, prefixNext } from "./bytes.ts";
export { decodeGroupBytes, encodeGroupBytes } from "./group_bytes.ts";
export {
  type Collation,
  binaryCollation,
  collationByName,
  collationKeyString,
  generalCiCollation,
  generalCiKeyString,
  utf8mb4BinCollation,
} from "./collation.ts";
export {
  type Decimal,
  type DecimalParts,
  compareDecimals,
  decimalFromBigInt,
  decimalZero,
  formatDecimal,
  parseDecimal,
} from "./decimal.ts";
export {
  type KeyColumn,
  type KeyDatum,
  type KeyDatumKind,
  KeyReader,
  KeyWriter,
  decodeKey,
  encodeKey,
  keyFlag,
  nullDatum,
} from "./key.ts";
export { int64Max, int64Min, uint64Max } from "./number.ts";
export {
  type DecodedIndexKey,
  type IndexKey,
  type MetaKey,
  type RowKey,
  decodeIndexKey,
  decodeMetaKey,
  decodeRowKey,
  encodeIndexKey,
  encodeMetaKey,
  encodeRowKey,
  handleOfRowKey,
  indexPrefix,
  indexPrefixBytes,
  metaPrefix,
  recordPrefix,
  rowKeyBytes,
  tablePrefix,
} from "./table_key.ts";
