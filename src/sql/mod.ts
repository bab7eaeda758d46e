/**
 * `sql`: the SQL node — MySQL wire protocol server, parser, planner, executor and
 * sessions. Other components import only this file; each export is listed by name.
 */
export {
  ER,
  MySqlError,
  type MySqlErrorSpec,
  errorMessageBytesMax,
  formatMySqlMessage,
  mysqlError,
  syntaxError,
  syntaxErrorNearCharsMax,
} from "./mysql_errors.ts";
export {
  type MySqlServer,
  type MySqlServerOptions,
  createMySqlServer,
  serverCapabilities,
  serverVersionDefault,
} from "./wire/server.ts";
export {
  type AuthCrypto,
  type AuthPluginName,
  InMemoryUserStore,
  type UserAccount,
  type UserDefinition,
  type UserStore,
} from "./wire/auth.ts";
export {
  Capability,
  Collation,
  ColumnFlag,
  Command,
  CursorType,
  MySqlType,
  ServerStatus,
} from "./wire/constants.ts";
export type {
  BoundParam,
  ColumnDef,
  ConnectionInfo,
  DateTimeValue,
  ErrorResult,
  KillRequest,
  OkResult,
  PreparedStatement,
  QueryContext,
  ResultSet,
  ServerServices,
  Session,
  SessionFactory,
  SessionOptions,
  SqlValue,
  StatementResult,
  TimeValue,
} from "./wire/session.ts";
export {
  type SessionFactoryOptions,
  SqlSession,
  createSessionFactory,
  informationSchema,
} from "./session/session.ts";
export {
  type ParseExpressionResult,
  type ParseOptions,
  type ParseResult,
  parse,
  parseExpression,
} from "./parser/parse.ts";
export { SqlSyntaxError, syntaxErrorReason } from "./parser/syntax_error.ts";
export {
  formatDataType,
  formatExpr,
  formatIdent,
  formatQuery,
  formatStatement,
  formatString,
} from "./parser/format.ts";
export { type Digest, type DigestOptions, fnv1a64, normalizeDigest } from "./parser/digest.ts";
export type {
  AlterSpec,
  Assignment,
  BinaryOp,
  ColumnDefinition,
  ColumnOption,
  ColumnPosition,
  CompareOp,
  Cte,
  DataType,
  DeleteStatement,
  Expr,
  ExprKind,
  ForeignKeyReference,
  FrameBound,
  GrantLevel,
  IndexHint,
  IndexOption,
  IndexPart,
  InsertSource,
  InsertStatement,
  IsolationLevel,
  Limit,
  LoadDataStatement,
  LockClause,
  NamedWindow,
  OrderItem,
  ParenQuery,
  ParsedStatement,
  Privilege,
  Query,
  SelectField,
  SelectQuery,
  SetAssignment,
  SetOpQuery,
  ShowStatement,
  ShowTarget,
  Statement,
  StatementKind,
  TableConstraint,
  TableExpr,
  TableName,
  TableOption,
  TimeUnit,
  UnaryOp,
  UpdateStatement,
  UserAuth,
  UserSpec,
  ValuesQuery,
  WindowFrame,
  WindowSpec,
  With,
} from "./parser/ast.ts";
// Storage-backed SQL ([T8] part 1): catalog in KV, synchronous DDL, DML through a Transaction.
export {
  type ExecStats,
  type SqlStorage,
  type SqlStorageOptions,
  openSqlStorage,
} from "./exec/storage.ts";
export {
  AutoIdAllocator,
  Catalog,
  InfoSchema,
  bootstrapDatabases,
  schemaVersionKey,
} from "./catalog/catalog.ts";
// Online DDL ([T8]): job queue, DDL owner, schema leases, backfill (src/sql/ddl).
export {
  type DdlOptions,
  DdlService,
  ddlOptionsDefault,
} from "./ddl/worker.ts";
export { type DdlJob, type DdlJobArgs, type DdlJobState } from "./ddl/job.ts";
// Temp storage of sorts and aggregations that spill past tidb_mem_quota_query (T9).
export { SpillSpace, type SpillStats } from "./plan/spill_store.ts";
