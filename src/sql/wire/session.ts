/**
 * The contract between the MySQL wire server and the SQL layer behind it.
 *
 * The wire server owns the socket, the protocol state (sequence ids, capabilities,
 * prepared statement ids, cursors) and the encoding of values; the SQL layer owns
 * parsing, planning, execution and session state. For every accepted and authenticated
 * connection the server asks a `SessionFactory` for a `Session` and then turns each client
 * command into one call on it. Results come back as typed values (`SqlValue` with the
 * `ColumnDef` type), so one result feeds both the text and the binary protocol.
 *
 * Calls on one session never overlap: the server awaits each before reading the next
 * command. Expected failures are returned as `ErrorResult`s (a thrown `MySqlError` is
 * treated the same way; any other thrown error becomes 1105 Unknown error).
 */
import type { MySqlError } from "../mysql_errors.ts";
import type { MySqlType } from "./constants.ts";

/** A DATE, DATETIME or TIMESTAMP value. DATE columns ignore the time fields. */
export interface DateTimeValue {
  readonly kind: "datetime";
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
}

/** A TIME value: a signed duration, `hours` may exceed 24 (MySQL allows ±838 hours). */
export interface TimeValue {
  readonly kind: "time";
  readonly negative: boolean;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
  readonly microseconds: number;
}

/**
 * One value of a row or a parameter; its meaning comes from the column or parameter type.
 * - `null`: SQL NULL.
 * - `bigint` / `number`: integers (any integer type, YEAR) and FLOAT / DOUBLE.
 * - `string`: text, DECIMAL digits (`"-12.50"`), JSON text, ENUM / SET labels.
 * - `Uint8Array`: byte strings (BLOB, BINARY, BIT, GEOMETRY) and text that is not UTF-8.
 * - `DateTimeValue` / `TimeValue`: temporal types.
 */
export type SqlValue = null | bigint | number | string | Uint8Array | DateTimeValue | TimeValue;

/** One column of a result set (a `Protocol::ColumnDefinition41`). */
export interface ColumnDef {
  /** The name shown to the client (the alias, if any). */
  readonly name: string;
  readonly type: MySqlType;
  /** The underlying column name; defaults to `name`. */
  readonly orgName?: string;
  /** The table alias; defaults to empty. */
  readonly table?: string;
  readonly orgTable?: string;
  /** The database; defaults to empty. */
  readonly schema?: string;
  /** Collation id: defaults to 255 (utf8mb4) for text types, 63 (binary) otherwise. */
  readonly charset?: number;
  /** Maximum display length in bytes; defaults by type. */
  readonly length?: number;
  /** Fractional digits: DECIMAL scale, fsp of temporal types, 31 for unspecified floats. */
  readonly decimals?: number;
  /** `ColumnFlag` bits; `Unsigned` changes how integers are encoded. Defaults by type. */
  readonly flags?: number;
  /** Default value shown by COM_FIELD_LIST only. */
  readonly defaultValue?: string;
}

/** A result set: columns and their rows, which may be produced lazily. */
export interface ResultSet {
  readonly kind: "resultSet";
  readonly columns: readonly ColumnDef[];
  /** Rows in order; each has one value per column. Consumed once. */
  readonly rows: Iterable<readonly SqlValue[]> | AsyncIterable<readonly SqlValue[]>;
  /** Warnings raised while producing the rows, reported in the final EOF / OK. */
  readonly warnings?: number;
}

/** A statement that succeeded without a result set. */
export interface OkResult {
  readonly kind: "ok";
  readonly affectedRows?: number | bigint;
  readonly lastInsertId?: number | bigint;
  readonly warnings?: number;
  /** Human-readable info, e.g. `Records: 3  Duplicates: 0  Warnings: 0`. */
  readonly info?: string;
}

/** A statement that failed; ends a multi-statement batch. */
export interface ErrorResult {
  readonly kind: "error";
  readonly error: MySqlError;
}

/** The outcome of one statement. */
export type StatementResult = ResultSet | OkResult | ErrorResult;

/** Per-command context handed to the session. */
export interface QueryContext {
  /**
   * Aborted when the query is killed (`KILL QUERY`, or `KILL` of its connection). The
   * session should stop and return; the server then reports 1317 to the client.
   */
  readonly signal: AbortSignal;
  /**
   * True when the client allows several statements in one COM_QUERY
   * (CLIENT_MULTI_STATEMENTS, or COM_SET_OPTION). When false, a second statement is a
   * syntax error the session must report.
   */
  readonly multiStatements: boolean;
  /**
   * Runs the `LOAD DATA LOCAL INFILE` exchange: asks the client for `fileName` and yields
   * its contents in chunks as they arrive (nothing if the client sends no file). Throws
   * a `MySqlError` (3948) when the client did not enable local files. The session must
   * call it at most once per statement and should read it to the end; the server drains
   * whatever is left.
   */
  readLocalFile(fileName: string): AsyncIterable<Uint8Array>;
}

/** A parameter bound by COM_STMT_EXECUTE, decoded from the binary protocol. */
export interface BoundParam {
  /** The type the client sent. */
  readonly type: MySqlType;
  /** The client's unsigned flag for integer types. */
  readonly unsigned: boolean;
  /**
   * The value: integers as `number` (`bigint` for LONGLONG), floats as `number`, DECIMAL
   * as its digits, text as `string` (bytes when not valid UTF-8), blobs and long data as
   * `Uint8Array`, temporal types as `DateTimeValue` / `TimeValue`.
   */
  readonly value: SqlValue;
}

/** A statement prepared by COM_STMT_PREPARE. The server assigns its id. */
export interface PreparedStatement {
  /** Number of `?` placeholders. */
  readonly paramCount: number;
  /** Columns of its result set (empty when it returns none or they are unknown). */
  readonly columns: readonly ColumnDef[];
  /** Runs it with `params` (one per placeholder). */
  execute(params: readonly BoundParam[], ctx: QueryContext): AsyncIterable<StatementResult>;
  /** Releases it (COM_STMT_CLOSE, or the connection closed). */
  close(): void;
}

/** What KILL asked for. */
export interface KillRequest {
  readonly connectionId: number;
  /** `KILL QUERY`: abort the running statement only; otherwise close the connection. */
  readonly queryOnly: boolean;
  /** The user asking, for a permission check. */
  readonly user: string;
}

/** The server-wide services a session may use. */
export interface ServerServices {
  /** Kills a connection or its query; false when no such connection exists. */
  kill(request: KillRequest): boolean;
  /** Ids and users of the open connections (SHOW PROCESSLIST). */
  connections(): readonly ConnectionInfo[];
}

/** One open connection, as SHOW PROCESSLIST shows it. */
export interface ConnectionInfo {
  readonly connectionId: number;
  readonly user: string;
  readonly host: string;
  readonly database: string | undefined;
  /** The text of the running command, or undefined when idle. */
  readonly command: string | undefined;
}

/** Facts about a new, authenticated connection. */
export interface SessionOptions {
  readonly connectionId: number;
  readonly user: string;
  /** The client's address (`host:port`). */
  readonly remoteAddress: string;
  /** The database named in the handshake, if any (already checked by `initDb`). */
  readonly database: string | undefined;
  /** Collation id the client asked for. */
  readonly collationId: number;
  /** Negotiated capability bits. */
  readonly capabilities: number;
  /** Connection attributes the client sent (`_client_name` …). */
  readonly attributes: ReadonlyMap<string, string>;
  readonly server: ServerServices;
}

/** The SQL side of one client connection. */
export interface Session {
  /** COM_QUERY: one result per statement, in order. */
  query(sql: string, ctx: QueryContext): AsyncIterable<StatementResult>;
  /** COM_STMT_PREPARE. */
  prepare(sql: string): Promise<PreparedStatement | ErrorResult>;
  /** COM_INIT_DB (and the handshake's database): switch the current database. */
  initDb(database: string): Promise<OkResult | ErrorResult>;
  /** COM_FIELD_LIST: the columns of `table` whose names match `wildcard` (LIKE pattern). */
  fieldList(table: string, wildcard: string): Promise<readonly ColumnDef[] | ErrorResult>;
  /** COM_RESET_CONNECTION: back to a fresh session state. */
  reset(): Promise<void>;
  /** True inside an explicit transaction (SERVER_STATUS_IN_TRANS). */
  readonly inTransaction: boolean;
  /** The autocommit setting (SERVER_STATUS_AUTOCOMMIT). */
  readonly autocommit: boolean;
  /** The current database (after `USE`), for SHOW PROCESSLIST; absent: not tracked. */
  readonly currentDatabase?: string | null;
  /** The connection closed; release everything. Called exactly once. */
  close(): Promise<void>;
}

/** Opens a session for every authenticated connection. */
export interface SessionFactory {
  open(options: SessionOptions): Promise<Session>;
}
