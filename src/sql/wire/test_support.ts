/**
 * Test helpers for the MySQL wire server: a scripted `SessionFactory` whose answers are
 * fixed by the SQL text (so tests can ask for typed results, errors, long results, a
 * statement that waits to be killed, LOAD DATA LOCAL), and a raw protocol client over the
 * Env network for what `mysql2` cannot send (bad packets, COM_STMT_FETCH, DEPRECATE_EOF).
 *
 * Not production code: only `*.test.ts` files import it.
 */
import type { Connection, Env, TlsOptions } from "../../env/mod.ts";
import { ER, mysqlError, syntaxError } from "../mysql_errors.ts";
import { Capability, ColumnFlag, Command, MySqlType } from "./constants.ts";
import { type Packet, PacketDecoder, framePacket } from "./packet.ts";
import { PayloadReader, PayloadWriter } from "./payload.ts";
import type {
  BoundParam,
  ColumnDef,
  ErrorResult,
  OkResult,
  PreparedStatement,
  QueryContext,
  ResultSet,
  Session,
  SessionFactory,
  SessionOptions,
  SqlValue,
  StatementResult,
} from "./session.ts";

/** The columns and the one row of `SELECT typed`: every common type. */
export const typedColumns: readonly ColumnDef[] = [
  { name: "tiny", type: MySqlType.Tiny },
  { name: "short", type: MySqlType.Short },
  { name: "long", type: MySqlType.Long },
  { name: "longlong", type: MySqlType.LongLong },
  { name: "ulonglong", type: MySqlType.LongLong, flags: ColumnFlag.Unsigned | ColumnFlag.Num },
  { name: "float", type: MySqlType.Float },
  { name: "double", type: MySqlType.Double },
  { name: "decimal", type: MySqlType.NewDecimal, decimals: 2, length: 6 },
  { name: "text", type: MySqlType.VarString },
  { name: "blob", type: MySqlType.Blob },
  { name: "date", type: MySqlType.Date },
  { name: "datetime", type: MySqlType.DateTime, decimals: 6 },
  { name: "time", type: MySqlType.Time },
  { name: "year", type: MySqlType.Year },
  { name: "nothing", type: MySqlType.VarString },
  { name: "json", type: MySqlType.Json },
];

export const typedRow: readonly SqlValue[] = [
  -5,
  300,
  -70_000,
  2n ** 60n,
  2n ** 64n - 1n,
  1.5,
  3.25,
  "12.50",
  "héllo",
  new Uint8Array([0, 1, 2, 255]),
  { kind: "datetime", year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0,
    microsecond: 0 },
  { kind: "datetime", year: 2024, month: 2, day: 29, hour: 13, minute: 14, second: 15,
    microsecond: 123_456 },
  { kind: "time", negative: true, hours: 25, minutes: 1, seconds: 2, microseconds: 0 },
  2024,
  null,
  '{"a":1}',
];

function resultSet(columns: readonly ColumnDef[], rows: Iterable<readonly SqlValue[]> |
  AsyncIterable<readonly SqlValue[]>, warnings?: number): ResultSet {
  return warnings === undefined ? { kind: "resultSet", columns, rows }
    : { kind: "resultSet", columns, rows, warnings };
}

function* counting(count: number): Generator<readonly SqlValue[]> {
  for (let i = 1; i <= count; i++) yield [BigInt(i)];
}

/** A column of a parameter echoed back, typed as the client bound it. */
function paramColumn(param: BoundParam, index: number): ColumnDef {
  const column: ColumnDef = { name: `p${index}`, type: param.type };
  if (param.unsigned) return { ...column, flags: ColumnFlag.Unsigned };
  if (param.type === MySqlType.DateTime || param.type === MySqlType.Timestamp ||
    param.type === MySqlType.Time) {
    return { ...column, decimals: 6 };
  }
  return column;
}

/** What the scripted sessions observed, for assertions. */
export interface ScriptedLog {
  /** Contents of every LOAD DATA LOCAL file received. */
  readonly files: Uint8Array[];
  /** Parameters of every execute. */
  readonly executes: (readonly BoundParam[])[];
  /** Resolvers waiting for a `SLEEP` statement to start, by connection id. */
  readonly sleeping: Map<number, () => void>;
  /** Sessions closed so far. */
  closed: number;
  /** Connection ids of the sessions opened, in order. */
  readonly opened: number[];
}

/** Waits until `signal` aborts. */
function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(),
    { once: true }));
}

/**
 * A session that answers from a script:
 * `SELECT 1`, `SELECT typed`, `SELECT rows N`, `ECHO text`, `INSERT …` (OK with affected
 * rows 2, insert id 5, 1 warning), `SELECT * FROM missing` (1146), `SLEEP` (waits to be
 * killed), `LOAD DATA LOCAL INFILE 'f'`, `KILL [QUERY] n`, `BOOM` (throws a plain
 * Error); anything else is a 1064 syntax error. Statements split at `;`.
 */
class ScriptedSession implements Session {
  readonly inTransaction = false;
  readonly autocommit = true;
  private readonly options: SessionOptions;
  private readonly log: ScriptedLog;

  constructor(options: SessionOptions, log: ScriptedLog) {
    this.options = options;
    this.log = log;
  }

  async *query(sql: string, ctx: QueryContext): AsyncGenerator<StatementResult> {
    const statements = sql.split(";").map((s) => s.trim()).filter((s) => s !== "");
    if (statements.length === 0) {
      yield { kind: "error", error: mysqlError(ER.EMPTY_QUERY) };
      return;
    }
    if (statements.length > 1 && !ctx.multiStatements) {
      const second = sql.indexOf(";");
      yield { kind: "error", error: syntaxError(sql.slice(second + 1).trimStart(), 1) };
      return;
    }
    for (const statement of statements) {
      const result = await this.run(statement, ctx);
      yield result;
      if (result.kind === "error") return;
    }
  }

  private async run(statement: string, ctx: QueryContext): Promise<StatementResult> {
    const upper = statement.toUpperCase();
    if (upper === "SELECT 1") {
      return resultSet([{ name: "1", type: MySqlType.LongLong, flags: 0x8081 }], [[1n]]);
    }
    if (upper === "SELECT TYPED") return resultSet(typedColumns, [typedRow]);
    const rows = /^SELECT ROWS (\d+)$/.exec(upper);
    if (rows !== null) {
      return resultSet([{ name: "n", type: MySqlType.LongLong }], counting(Number(rows[1])), 3);
    }
    if (upper.startsWith("ECHO ")) {
      return resultSet([{ name: "echo", type: MySqlType.VarString }], [[statement.slice(5)]]);
    }
    if (upper.startsWith("INSERT")) {
      return { kind: "ok", affectedRows: 2, lastInsertId: 5, warnings: 1 };
    }
    if (upper.startsWith("UPDATE")) {
      return { kind: "ok", affectedRows: 1, info: "Rows matched: 1  Changed: 1  Warnings: 0" };
    }
    if (upper === "SELECT * FROM MISSING") {
      return { kind: "error", error: mysqlError(ER.NO_SUCH_TABLE, ["test", "missing"]) };
    }
    if (upper === "SLEEP") {
      this.log.sleeping.get(this.options.connectionId)?.();
      await untilAborted(ctx.signal);
      return { kind: "ok" };
    }
    if (upper === "BOOM") throw new Error("boom");
    const load = /^LOAD DATA LOCAL INFILE '([^']*)'/i.exec(statement);
    if (load !== null) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of ctx.readLocalFile(load[1] ?? "")) chunks.push(chunk.slice());
      const file = Buffer.concat(chunks);
      this.log.files.push(new Uint8Array(file));
      return { kind: "ok", affectedRows: file.length, info: `Records: ${file.length}` };
    }
    const kill = /^KILL( QUERY)? (\d+)$/.exec(upper);
    if (kill !== null) {
      const connectionId = Number(kill[2]);
      const found = this.options.server.kill({
        connectionId, queryOnly: kill[1] !== undefined, user: this.options.user });
      return found ? { kind: "ok" }
        : { kind: "error", error: mysqlError(ER.NO_SUCH_THREAD, [connectionId]) };
    }
    return { kind: "error", error: syntaxError(statement, 1) };
  }

  prepare(sql: string): Promise<PreparedStatement | ErrorResult> {
    const upper = sql.trim().toUpperCase();
    if (upper === "SELECT * FROM MISSING") {
      return Promise.resolve(
        { kind: "error", error: mysqlError(ER.NO_SUCH_TABLE, ["test", "missing"]) });
    }
    const paramCount = [...sql].filter((c) => c === "?").length;
    const log = this.log;
    const run = (statement: string, ctx: QueryContext): Promise<StatementResult> =>
      this.run(statement, ctx);
    const columns: readonly ColumnDef[] = upper === "SELECT TYPED" ? typedColumns
      : upper.startsWith("SELECT ROWS") ? [{ name: "n", type: MySqlType.LongLong }] : [];
    return Promise.resolve({
      paramCount,
      columns,
      async *execute(params: readonly BoundParam[], ctx: QueryContext):
        AsyncGenerator<StatementResult> {
        log.executes.push(params);
        if (paramCount > 0) {
          yield resultSet(params.map(paramColumn), [params.map((p) => p.value)]);
          return;
        }
        yield await run(sql.trim(), ctx);
      },
      close(): void {},
    });
  }

  initDb(database: string): Promise<OkResult | ErrorResult> {
    if (database === "missing") {
      return Promise.resolve({ kind: "error", error: mysqlError(ER.BAD_DB_ERROR, [database]) });
    }
    return Promise.resolve({ kind: "ok" });
  }

  fieldList(table: string, _wildcard: string): Promise<readonly ColumnDef[] | ErrorResult> {
    if (table !== "t") {
      return Promise.resolve(
        { kind: "error", error: mysqlError(ER.NO_SUCH_TABLE, ["test", table]) });
    }
    return Promise.resolve([
      { name: "id", type: MySqlType.Long, table: "t", defaultValue: "0" },
      { name: "name", type: MySqlType.VarString, table: "t" },
    ]);
  }

  reset(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.log.closed++;
    return Promise.resolve();
  }
}

/** A factory of scripted sessions sharing one log. */
export function scriptedSessions(): { sessions: SessionFactory; log: ScriptedLog } {
  const log: ScriptedLog = { files: [], executes: [], sleeping: new Map(), closed: 0,
    opened: [] };
  return {
    log,
    sessions: {
      open(options: SessionOptions): Promise<Session> {
        log.opened.push(options.connectionId);
        return Promise.resolve(new ScriptedSession(options, log));
      },
    },
  };
}

/** A raw protocol client: packets in, packets out, nothing interpreted. */
export class RawClient {
  private readonly conn: Connection;
  private readonly decoder = new PacketDecoder({ payloadBytesMax: 1 << 30 });
  private readonly packets: Packet[] = [];
  private waiter: (() => void) | undefined;
  private closedFlag = false;
  /** Resolves when the server (or we) closed the connection. */
  readonly closed: Promise<void>;

  private constructor(conn: Connection) {
    this.conn = conn;
    let markClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => {
      markClosed = resolve;
    });
    conn.setHandlers({
      onData: (chunk) => {
        this.decoder.push(chunk);
        for (;;) {
          const result = this.decoder.next();
          if (result.kind !== "packet") break;
          this.packets.push(result.packet);
        }
        this.waiter?.();
      },
      onDrain: () => undefined,
      onClose: () => {
        this.closedFlag = true;
        markClosed();
        this.waiter?.();
      },
    });
  }

  static async connect(env: Env, port: number): Promise<RawClient> {
    return new RawClient(await env.net.connect({ host: "127.0.0.1", port }));
  }

  /** The next packet, or undefined once the connection is closed and drained. */
  async read(): Promise<Packet | undefined> {
    while (this.packets.length === 0 && !this.closedFlag) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
    return this.packets.shift();
  }

  /** Every packet until the server closes the connection. */
  async readUntilClosed(): Promise<Packet[]> {
    const out: Packet[] = [];
    for (;;) {
      const packet = await this.read();
      if (packet === undefined) return out;
      out.push(packet);
    }
  }

  send(payload: Uint8Array, sequenceId: number): void {
    for (const frame of framePacket(payload, sequenceId).frames) this.conn.write(frame);
  }

  sendBytes(bytes: Uint8Array): void {
    this.conn.write(bytes);
  }

  end(): void {
    this.conn.end();
  }

  destroy(): void {
    this.conn.destroy();
  }
}

/** Client capabilities of the raw client's login (PROTOCOL_41 and friends). */
export const rawClientCapabilities =
  Capability.Protocol41 | Capability.SecureConnection | Capability.PluginAuth |
  Capability.PluginAuthLenencClientData | Capability.LongPassword | Capability.Transactions |
  Capability.MultiResults | Capability.MultiStatements | Capability.LocalFiles;

/**
 * Logs in as `root` with an empty password, with `capabilities` (plus `extra`); resolves
 * with the server's connection id once the OK arrives.
 */
export async function rawLogin(
  client: RawClient,
  options: { readonly extraCapabilities?: number; readonly user?: string } = {},
): Promise<number> {
  const handshake = await client.read();
  if (handshake === undefined) throw new Error("closed before the handshake");
  const r = new PayloadReader(handshake.payload);
  r.uint8();
  r.nulString();
  const connectionId = r.uint32();
  const w = new PayloadWriter()
    .uint32(rawClientCapabilities | (options.extraCapabilities ?? 0))
    .uint32(1 << 24).uint8(45).zeros(23)
    .nulString(options.user ?? "root").lenencInt(0).nulString("caching_sha2_password");
  client.send(w.finish(), 1);
  const ok = await client.read();
  if (ok?.payload[0] !== 0x00) {
    throw new Error(`login failed: ${Buffer.from(ok?.payload ?? []).toString("latin1")}`);
  }
  return connectionId;
}

/** A command packet: the command byte, then `body`. */
export function commandPacket(command: number, body: Uint8Array | string = ""): Uint8Array {
  const w = new PayloadWriter().uint8(command);
  if (typeof body === "string") w.string(body);
  else w.bytes(body);
  return w.finish();
}

/** The errno and message of an ERR packet, or undefined for another packet. */
export function parseErr(
  payload: Uint8Array,
): { errno: number; sqlState: string; message: string } | undefined {
  if (payload[0] !== 0xff) return undefined;
  const r = new PayloadReader(payload, 1);
  const errno = r.uint16();
  let sqlState = "";
  if (payload[3] === 0x23) {
    r.uint8();
    sqlState = new TextDecoder().decode(r.bytesOf(5));
  }
  return { errno, sqlState, message: r.restString() };
}

export { Command };

/** What `observedEnv` saw: TLS upgrades that succeeded and that failed. */
export interface TlsObservations {
  upgraded: number;
  failed: number;
}

/**
 * `env` with a network whose accepted connections claim to come from `remoteHost` (to
 * test what a non-loopback client gets without leaving 127.0.0.1) and count TLS upgrades.
 */
export function observedEnv(
  env: Env,
  options: { readonly remoteHost?: string } = {},
): { env: Env; tls: TlsObservations } {
  const observed: TlsObservations = { upgraded: 0, failed: 0 };
  const wrap = (conn: Connection): Connection => {
    const remoteAddress = options.remoteHost === undefined ? conn.remoteAddress
      : `${options.remoteHost}:40000`;
    const startTls = conn.startTls?.bind(conn);
    return {
      remoteAddress,
      localAddress: conn.localAddress,
      get secure() {
        return conn.secure;
      },
      get bufferedBytes() {
        return conn.bufferedBytes;
      },
      setHandlers: (handlers) => conn.setHandlers(handlers),
      write: (chunk) => conn.write(chunk),
      pause: (paused) => conn.pause(paused),
      end: () => conn.end(),
      destroy: (error) => conn.destroy(error),
      ...(startTls === undefined ? {} : {
        startTls: async (tlsOptions: TlsOptions, buffered: Uint8Array) => {
          try {
            const upgraded = wrap(await startTls(tlsOptions, buffered));
            observed.upgraded++;
            return upgraded;
          } catch (error: unknown) {
            observed.failed++;
            throw error;
          }
        },
      }),
    };
  };
  const net: Env["net"] = {
    listen: (listenOptions) => env.net.listen({
      ...listenOptions,
      onConnection: (conn) => listenOptions.onConnection(wrap(conn)),
    }),
    connect: (connectOptions) => env.net.connect(connectOptions),
  };
  return {
    env: { clock: env.clock, timers: env.timers, random: env.random, fs: env.fs,
      crypto: env.crypto, net },
    tls: observed,
  };
}
