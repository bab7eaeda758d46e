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
