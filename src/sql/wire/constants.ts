/**
 * Numbers of the MySQL client/server protocol: capability flags, command bytes, server
 * status bits, column types and flags, cursor flags and the character sets we announce.
 *
 * Values are MySQL's own (`include/mysql_com.h`, `include/field_types.h`); names follow
 * MySQL's without the `CLIENT_` / `SERVER_` / `MYSQL_TYPE_` prefixes so they stay greppable
 * against the reference manual. This file holds data only.
 */

/** Capability flags exchanged in the handshake (`CLIENT_*`). */
export const Capability = {
  LongPassword: 0x1,
  FoundRows: 0x2,
  LongFlag: 0x4,
  ConnectWithDb: 0x8,
  NoSchema: 0x10,
  Compress: 0x20,
  Odbc: 0x40,
  LocalFiles: 0x80,
  IgnoreSpace: 0x100,
  Protocol41: 0x200,
  Interactive: 0x400,
  Ssl: 0x800,
  IgnoreSigpipe: 0x1000,
  Transactions: 0x2000,
  Reserved: 0x4000,
  SecureConnection: 0x8000,
  MultiStatements: 0x10000,
  MultiResults: 0x20000,
  PsMultiResults: 0x40000,
  PluginAuth: 0x80000,
  ConnectAttrs: 0x100000,
  PluginAuthLenencClientData: 0x200000,
  CanHandleExpiredPasswords: 0x400000,
  SessionTrack: 0x800000,
  DeprecateEof: 0x1000000,
  OptionalResultsetMetadata: 0x2000000,
  ZstdCompression: 0x4000000,
  QueryAttributes: 0x8000000,
} as const;

/** Command bytes: the first byte of every packet a client sends after the handshake. */
export const Command = {
  Sleep: 0x00,
  Quit: 0x01,
  InitDb: 0x02,
  Query: 0x03,
  FieldList: 0x04,
  CreateDb: 0x05,
  DropDb: 0x06,
  Refresh: 0x07,
  Shutdown: 0x08,
  Statistics: 0x09,
  ProcessInfo: 0x0a,
  Connect: 0x0b,
  ProcessKill: 0x0c,
  Debug: 0x0d,
  Ping: 0x0e,
  Time: 0x0f,
  DelayedInsert: 0x10,
  ChangeUser: 0x11,
  BinlogDump: 0x12,
  TableDump: 0x13,
  ConnectOut: 0x14,
  RegisterSlave: 0x15,
  StmtPrepare: 0x16,
  StmtExecute: 0x17,
  StmtSendLongData: 0x18,
  StmtClose: 0x19,
  StmtReset: 0x1a,
  SetOption: 0x1b,
  StmtFetch: 0x1c,
  Daemon: 0x1d,
  BinlogDumpGtid: 0x1e,
  ResetConnection: 0x1f,
} as const;

/** Server status bits carried by OK and EOF packets (`SERVER_*`). */
export const ServerStatus = {
  InTrans: 0x1,
  Autocommit: 0x2,
  MoreResultsExists: 0x8,
  NoGoodIndexUsed: 0x10,
  NoIndexUsed: 0x20,
  CursorExists: 0x40,
  LastRowSent: 0x80,
  DbDropped: 0x100,
  NoBackslashEscapes: 0x200,
  MetadataChanged: 0x400,
  QueryWasSlow: 0x800,
  PsOutParams: 0x1000,
  InTransReadonly: 0x2000,
  SessionStateChanged: 0x4000,
} as const;

/** Column (and parameter) types on the wire (`enum_field_types`). */
export const MySqlType = {
  Decimal: 0x00,
  Tiny: 0x01,
  Short: 0x02,
  Long: 0x03,
  Float: 0x04,
  Double: 0x05,
  Null: 0x06,
  Timestamp: 0x07,
  LongLong: 0x08,
  Int24: 0x09,
  Date: 0x0a,
  Time: 0x0b,
  DateTime: 0x0c,
  Year: 0x0d,
  NewDate: 0x0e,
  VarChar: 0x0f,
  Bit: 0x10,
  Json: 0xf5,
  NewDecimal: 0xf6,
  Enum: 0xf7,
  Set: 0xf8,
  TinyBlob: 0xf9,
  MediumBlob: 0xfa,
  LongBlob: 0xfb,
  Blob: 0xfc,
  VarString: 0xfd,
  String: 0xfe,
  Geometry: 0xff,
} as const;

export type MySqlType = (typeof MySqlType)[keyof typeof MySqlType];

/** Every type byte above, for validating what a client sends. */
export const mySqlTypes: ReadonlySet<number> = new Set(Object.values(MySqlType));

/** Column definition flags (`*_FLAG`). */
export const ColumnFlag = {
  NotNull: 0x1,
  PrimaryKey: 0x2,
  UniqueKey: 0x4,
  MultipleKey: 0x8,
  Blob: 0x10,
  Unsigned: 0x20,
  Zerofill: 0x40,
  Binary: 0x80,
  Enum: 0x100,
  AutoIncrement: 0x200,
  Timestamp: 0x400,
  Set: 0x800,
  NoDefaultValue: 0x1000,
  OnUpdateNow: 0x2000,
  Num: 0x8000,
} as const;

/** `COM_STMT_EXECUTE` flags byte. */
export const CursorType = {
  NoCursor: 0x0,
  ReadOnly: 0x1,
  ForUpdate: 0x2,
  Scrollable: 0x4,
} as const;

/** Collation ids used by default: utf8mb4 text and the `binary` pseudo charset. */
export const Collation = {
  /** `utf8mb4_0900_ai_ci`, what MySQL 8 announces for utf8mb4 text. */
  Utf8mb4: 255,
  /** `utf8mb4_general_ci`, Tessera's default collation (as MariaDB's). */
  Utf8mb4GeneralCi: 45,
  /** `binary`: numbers, temporal values and byte strings. */
  Binary: 63,
} as const;

/** `COM_SET_OPTION` values. */
export const SetOption = {
  MultiStatementsOn: 0,
  MultiStatementsOff: 1,
} as const;

/** Largest payload of one physical packet; a payload this long continues in the next. */
export const physicalPayloadBytesMax = 0xffffff;
