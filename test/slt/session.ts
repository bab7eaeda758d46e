/**
 * The runner's view of a SQL server: sessions that execute one SQL text and return an
 * outcome, never throw. `mysqlServer` implements it over the MySQL protocol with mysql2
 * (text protocol, one connection per session); tests implement it with fakes.
 *
 * Cells come back as byte strings (the wire bytes decoded as latin1) so that formatting
 * sees exactly what the server sent, whatever the column's character set.
 */
import mysql from "mysql2/promise";
import type { Cell } from "./result_format.ts";

/** What one SQL text did on the server. */
export type Outcome =
  | { readonly kind: "rows"; readonly columnCount: number; readonly rows: readonly Cell[][] }
  | { readonly kind: "ok"; readonly affectedRows: number }
  | {
      readonly kind: "error";
      /** Server error number (e.g. 1064) or 0 for a client-side error. */
      readonly errno: number;
      readonly message: string;
      /** The connection is unusable afterwards. */
      readonly fatal: boolean;
    };

/** One connection. `run` resolves with an outcome and never rejects. */
export interface SqlSession {
  /** The server's id for this connection (for `KILL`), when known. */
  readonly connectionId: number | null;
  run(sql: string): Promise<Outcome>;
  /** Drops the connection at once, abandoning a statement in flight. */
  destroy(): void;
  /** Closes the connection politely. */
  close(): Promise<void>;
}

/** Something the runner can open sessions on. */
export interface SqlServer {
  /** For reports: where the server is. */
  readonly description: string;
  connect(): Promise<SqlSession>;
  /** Best effort: stops the statement running on another connection (`KILL`). */
  cancel(connectionId: number): Promise<void>;
}

/** Where a MySQL-protocol server listens. */
export interface MysqlAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** A `SqlServer` reached over the MySQL protocol through mysql2. */
export function mysqlServer(address: MysqlAddress): SqlServer {
  const connect = async (): Promise<mysql.Connection> =>
    mysql.createConnection({
      host: address.host,
      port: address.port,
      user: address.user,
      password: address.password,
      connectTimeout: 10_000,
      multipleStatements: false,
      // Raw bytes as latin1 (a 1:1 byte mapping); the runner formats them itself.
      typeCast: (field) => field.string("latin1"),
    });
  return {
    description: `mysql://${address.user}@${address.host}:${address.port}`,
    async connect(): Promise<SqlSession> {
      return new MysqlSession(await connect());
    },
    async cancel(connectionId: number): Promise<void> {
      const admin = await connect();
      try {
        await admin.query(`KILL ${connectionId}`);
      } finally {
        await admin.end();
      }
    },
  };
}

class MysqlSession implements SqlSession {
  private readonly connection: mysql.Connection;
  readonly connectionId: number | null;
  /** Set when the connection failed outside a query; every later `run` reports it. */
  private brokenBy: string | null = null;

  constructor(connection: mysql.Connection) {
    this.connection = connection;
    this.connectionId = connection.threadId;
    // A connection error outside a query (server gone) must not crash the process; the
    // next `run` reports it as a fatal outcome.
    connection.on("error", (error: unknown) => {
      this.brokenBy = String(error);
    });
  }

  async run(sql: string): Promise<Outcome> {
    if (this.brokenBy !== null) {
      return { kind: "error", errno: 0, message: this.brokenBy, fatal: true };
    }
    try {
      const [result, fields] = await this.connection.query({ sql, rowsAsArray: true });
      if (Array.isArray(result)) {
        return {
          kind: "rows",
          columnCount: fields?.length ?? 0,
          rows: result as unknown as Cell[][],
        };
      }
      return { kind: "ok", affectedRows: (result as mysql.ResultSetHeader).affectedRows };
    } catch (error: unknown) {
      return errorOutcome(error);
    }
  }

  destroy(): void {
    this.connection.destroy();
  }

  async close(): Promise<void> {
    try {
      await this.connection.end();
    } catch (error: unknown) {
      // Closing an already broken connection: nothing left to release.
      this.connection.destroy();
      if (!isConnectionGone(error)) throw error;
    }
  }
}

function errorOutcome(error: unknown): Outcome {
  const e = error as { errno?: unknown; message?: unknown; fatal?: unknown; sqlState?: unknown };
  const errno = typeof e.errno === "number" ? e.errno : 0;
  const message = typeof e.message === "string" ? e.message : String(error);
  return { kind: "error", errno, message, fatal: e.fatal === true };
}

function isConnectionGone(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === "PROTOCOL_CONNECTION_LOST" ||
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    (error as { fatal?: unknown }).fatal === true
  );
}
