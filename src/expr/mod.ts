/**
 * `expr`: typed expressions with MySQL semantics — values (NULL, signed and unsigned
 * BIGINT, exact DECIMAL, DOUBLE, utf8mb4 strings, DATETIME), result-type inference, and
 * an evaluator for the built-in operators and functions. Shared by the SQL executor and
 * (later) the KV coprocessor, so both compute the same answers. Pure: no I/O, no clocks;
 * the statement time and session facts come in through `EvalContext`.
 */
export {
  type BuildResult,
  type CastTarget,
  buildCall,
  buildCast,
  builtinName,
} from "./build.ts";
export { compareForSort, compareStrings, compareValues, defaultCollation, likeMatch }
  from "./compare.ts";
export {
  Coercibility,
  type CollationInfo,
  callCollation,
  charsetOfType,
  collationImpl,
  collationInfoOf,
  compareCollationOf,
  hasDefaultCollation,
  resolveCollate,
  typeCollation,
  withCollation,
} from "./collation_derivation.ts";
export {
  type BuildErrorReason,
  ExprError,
  type ExprErrorReason,
  type ExprWarning,
  type RegexpError,
} from "./errors.ts";
export { evaluate, tryEvaluate } from "./evaluate.ts";
export {
  type BuildOptions,
  type EvalContext,
  type Expr,
  boolLiteral,
  columnRef,
  constant,
  decimalLiteral,
  defaultBuildOptions,
  doubleLiteral,
  exprText,
  integerLiteral,
  nullLiteral,
  stringLiteral,
  valueConstant,
} from "./expr.ts";
export { aggregateTypes, coerce } from "./functions.ts";
export {
  type EvalKind,
  type FieldType,
  FieldFlag,
  TypeCode,
  charsOf,
  dateTimeType,
  decimalType,
  doubleType,
  fieldFlags,
  intType,
  nullType,
  stringType,
} from "./types.ts";
export {
  type DateTime,
  type StringTag,
  type Value,
  type WarningSink,
  formatDateTime,
  formatDouble,
  formatScaled,
  int64Max,
  int64Min,
  isTrue,
  toCodecDecimal,
  toDouble,
  toInteger,
  toScaled,
  toText,
  uint64Max,
} from "./value.ts";
export {
  type JsonNode,
  type JsonPathLeg,
  type JsonTextError,
  extractJson,
  formatJsonDouble,
  isWildcardPath,
  jsonTypeName,
  normalizeJsonText,
  parseJson,
  parseJsonPath,
  printJson,
} from "./json.ts";
export { jsonNodeOfValue } from "./json_functions.ts";
export {
  type TemporalResult,
  clippedTime,
  formatTime,
  parseDateTimeText,
  parseTimeText,
  toDateTimeColumn,
  toTimeColumn,
  toYearColumn,
  typedImplicitDefault,
} from "./temporal.ts";
export {
  type LocalInstant,
  type TimeZone,
  convertZone,
  epochToZone,
  resolveTimeZone,
  sessionValue,
  utcTimeZone,
  utcToZone,
  zoneToEpochMs,
  zoneToUtc,
} from "./temporal_tz.ts";
export {
  type DagAggregate,
  type DagAggregateFn,
  type DagAggregation,
  type DagColumn,
  type DagColumnType,
  type DagContext,
  type DagOrderKey,
  type DagRequest,
  type DagResponse,
  type DagScan,
  type DagTopN,
  decodableFromKey,
  decodeDagRequest,
  decodeDagResponse,
  defaultDagContext,
  encodeDagRequest,
  encodeDagResponse,
  isPushable,
  isPushableAggregate,
  validateDagRequest,
} from "./dag.ts";
export { decodeRow, decodeRowInto, encodeRow } from "./row_codec.ts";
export {
  type DagPair,
  type DagRange,
  type DagRunResult,
  type DagScanner,
  dagValueKey,
  liveRanges,
  rangesAfterResume,
  readStoredDagValue,
  runDag,
  sortedPairsScanner,
} from "./dag_exec.ts";
export {
  MySqlRandom,
  NodeFunctions,
  type SessionFunctions,
  SessionFunctionState,
} from "./session_functions.ts";
export {
  type DagExecutorKind,
  dagExecutor,
  runDagBatch,
  runDagConfigured,
  setDagExecutor,
} from "./batch/batch_exec.ts";
export { Chunk, Column, Tag } from "./batch/chunk.ts";
export { VecAbort, type VecEnv, abortOnWarning, evalVec, truthAt } from "./batch/vec_eval.ts";
