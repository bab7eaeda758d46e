/**
 * `MySqlConnection`: one client connection of the MySQL wire server, from the handshake to
 * the close.
 *
 * It is the I/O shell around the pure pieces (packet decoder, payload codecs, auth checks):
 * bytes from the Env `Connection` go through a `PacketDecoder` into a small queue, and the
 * connection's single async loop pulls packets from it — the handshake, then one command
 * at a time, each answered in full before the next is read. Sub-exchanges inside a command
 * (caching_sha2 authentication rounds, LOAD DATA LOCAL file packets) pull from the same
 * queue, so there is exactly one reader and sequence ids are checked in one place.
 *
 * The connection owns its protocol state: negotiated capabilities, sequence id, prepared
 * statements (ids, bound parameter types, long data, open cursors), the running query's
 * AbortController and the write batch. The `Session` owns everything SQL. Responses are
 * queued as framed packets and written in batches; a full socket buffer makes the loop
 * wait for `onDrain`, and too many unread client packets pause reading.
 *
 * TLS (STARTTLS): when the server has a certificate and the client's first packet is an
 * SSLRequest, decoding stops right after that packet, because what follows is the TLS
 * ClientHello, not MySQL packets. The handshake then hands the undecoded bytes to
 * `Connection.startTls`, swaps in the TLS connection (same handlers, same sequence ids)
 * and reads the HandshakeResponse over it. A failed TLS handshake closes only this
 * connection; the TLS handshake counts against the handshake timeout.
 */
import {
  AssertionError,
  ErrorCode,
  assert,
  describeError,
  hasErrorCode,
  limits,
} from "../../base/mod.ts";
import type { Connection, ConnectionHandlers, Env, TlsOptions } from "../../env/mod.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import {
  type AuthCrypto,
  type AuthPluginName,
  type Sha2AuthCache,
  type UserAccount,
  type UserStore,
  cachingSha2Password,
  isAuthPluginName,
  makeScramble,
  nativePassword,
  verifyNativePassword,
  verifySha2Scramble,
  xorRotating,
} from "./auth.ts";
import {
  Capability,
  Collation,
  Command,
  CursorType,
  MySqlType,
  ServerStatus,
  SetOption,
  mySqlTypes,
  physicalPayloadBytesMax,
} from "./constants.ts";
import {
  commandByte,
  decodeHandshakeResponse,
  decodeSslRequest,
  encodeAuthMoreData,
  encodeAuthSwitch,
  encodeEnd,
  encodeEof,
  encodeErr,
  encodeHandshake,
  encodeOk,
  sslRequestBytes,
} from "./messages.ts";
import { PacketDecoder, framePacket } from "./packet.ts";
import { MalformedPacket, PayloadReader, PayloadWriter, decodeUtf8 } from "./payload.ts";
import type {
  BoundParam,
  ColumnDef,
  ConnectionInfo,
  ErrorResult,
  PreparedStatement,
  QueryContext,
  ResultSet,
  ServerServices,
  Session,
  SessionFactory,
  SqlValue,
  StatementResult,
} from "./session.ts";
import {
  encodeBinaryRow,
  encodeColumnDefinition,
  encodeTextRow,
  longDataValue,
  readBinaryParam,
  writeBinaryRow,
} from "./values.ts";

/** Starting size of a connection's outbox and row encoder. */
const outboxBytesInitial = 4096;

/** Settings shared by every connection of one server. */
export interface ConnectionConfig {
  readonly serverVersion: string;
  readonly capabilities: number;
  readonly maxPacketBytes: number;
  readonly idleTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly preparedStatementsMax: number;
  readonly defaultAuthPlugin: AuthPluginName;
  /** Certificate and key offered to clients that send an SSLRequest; none: no TLS. */
  readonly tls: TlsOptions | undefined;
}

/** What a connection needs from its server. */
export interface ConnectionDeps {
  readonly env: Env;
  readonly config: ConnectionConfig;
  readonly authCrypto: AuthCrypto;
  readonly users: UserStore;
  readonly sessions: SessionFactory;
  readonly authCache: Sha2AuthCache;
  /** The server's RSA key pair, made on first use. */
  readonly rsaKeyPair: () => { readonly publicKeyPem: string; readonly privateKeyPem: string };
  readonly services: ServerServices;
  /** Counts one client command (COM_STATISTICS's `Questions`). */
  readonly noteQuestion: () => void;
  /** The COM_STATISTICS text. */
  readonly statistics: () => string;
}

/** One packet read, or why none was. */
type ReadResult =
  | { readonly kind: "packet"; readonly payload: Uint8Array }
  | { readonly kind: "closed" }
  | { readonly kind: "timeout" }
  | { readonly kind: "tooLarge" }
  | { readonly kind: "outOfOrder" };

type Queued =
  | { readonly kind: "packet"; readonly sequenceId: number; readonly lastSequenceId: number;
    readonly payload: Uint8Array }
  | { readonly kind: "tooLarge"; readonly sequenceId: number }
  | { readonly kind: "outOfOrder" };

/** Thrown inside a command when the exchange cannot continue (closed, timeout, framing). */
class ExchangeBroken extends Error {
  override readonly name = "ExchangeBroken";
  readonly result: ReadResult;
  constructor(result: ReadResult) {
    super(`exchange broken: ${result.kind}`);
    this.result = result;
  }
}

/** A prepared statement as the connection tracks it. */
interface StatementState {
  readonly id: number;
  readonly statement: PreparedStatement;
  /** Types from the last execute that sent them (`new-params-bound` = 1). */
  paramTypes: { readonly type: number; readonly unsigned: boolean }[] | undefined;
  /** COM_STMT_SEND_LONG_DATA chunks by parameter index, and their total size. */
  readonly longData: Map<number, Uint8Array[]>;
  longDataBytes: number;
  /** Set when long data exceeded the packet bound; the next execute fails with 1210. */
  longDataFailed: boolean;
  cursor: CursorState | undefined;
}

/** An open read-only cursor: the rest of a result set, fetched in pieces. */
interface CursorState {
  readonly columns: readonly ColumnDef[];
  readonly rows: AsyncIterator<readonly SqlValue[]>;
  readonly results: AsyncIterator<StatementResult>;
  readonly resultSet: ResultSet;
}

const emptyAttributes: ReadonlyMap<string, string> = new Map();

/** Bytes of an RSA-2048 ciphertext: shorter replies cannot be encrypted passwords. */
const rsaCiphertextBytes = 256;

/** True for an address of the loopback interface (127.0.0.0/8, ::1). */
export function isLoopback(host: string): boolean {
  return host === "::1" || host.startsWith("127.") || host.startsWith("::ffff:127.");
}

/** True for an `SSLRequest`: exactly the 32-byte prefix, with CLIENT_SSL set. */
function isSslRequest(payload: Uint8Array): boolean {
  return payload.length === sslRequestBytes &&
    (decodeSslRequest(payload).capabilities & Capability.Ssl) !== 0;
}

/** The host part of `host:port` (IPv6 hosts lose their brackets). */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(":");
  const host = colon < 0 ? address : address.slice(0, colon);
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function toAsyncIterator<T>(source: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const sync = source[Symbol.iterator]();
  return {
    next: () => Promise.resolve(sync.next()),
    return: (value?: unknown) => Promise.resolve(sync.return?.(value) ?? { done: true, value }),
  } as AsyncIterator<T>;
}

/** The server side of one MySQL client connection. */
export class MySqlConnection {
  readonly connectionId: number;
  /** The client's byte stream; replaced by its TLS upgrade after an SSLRequest. */
  private conn: Connection;
  private readonly handlers: ConnectionHandlers;
  private readonly deps: ConnectionDeps;
  private readonly config: ConnectionConfig;
  private readonly decoder: PacketDecoder;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private paused = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private drainWaiter: (() => void) | undefined;
  /**
   * Framed packets waiting for one batched write, back to back in one buffer (kept between
   * writes, replaced by a small one after a large batch).
   */
  private outbox = new Uint8Array(outboxBytesInitial);
  private outboxBytes = 0;
  /** Reused to encode result rows (`send` copies them into the outbox). */
  private readonly rowWriter = new PayloadWriter(outboxBytesInitial);
  /** Sequence id the next packet (either direction) must carry. */
  private sequenceId = 0;
  private capabilities = 0;
  private multiStatements = false;
  private session: Session | undefined;
  private user = "";
  private database: string | undefined;
  private command: string | undefined;
  private readonly statements = new Map<number, StatementState>();
  private nextStatementId = 1;
  private queryAbort: AbortController | undefined;
  /** True while a LOAD DATA LOCAL file is being received and not yet fully read. */
  private infilePending = false;
  /** No packet has been decoded yet: the next one may be an SSLRequest. */
  private awaitingFirstPacket = true;
  /**
   * Set after an SSLRequest: bytes are kept in the decoder undecoded (they are TLS) until
   * the handshake hands them to `startTls`.
   */
  private holdingForTls = false;

  constructor(connectionId: number, conn: Connection, deps: ConnectionDeps) {
    this.connectionId = connectionId;
    this.conn = conn;
    this.deps = deps;
    this.config = deps.config;
    this.decoder = new PacketDecoder({
      payloadBytesMax: Math.min(limits.mysqlHandshakePacketBytesMax, deps.config.maxPacketBytes),
    });
    this.handlers = {
      onData: (chunk) => this.onData(chunk),
      onDrain: () => this.releaseDrain(),
      onClose: () => this.onClosed(),
    };
    conn.setHandlers(this.handlers);
  }

  /** What SHOW PROCESSLIST shows for this connection. */
  info(): ConnectionInfo {
    return {
      connectionId: this.connectionId,
      user: this.user,
      host: this.conn.remoteAddress,
      database: this.session?.currentDatabase === undefined ? this.database
        : this.session.currentDatabase ?? undefined,
      command: this.command,
    };
  }

  /** Aborts the running query, if any (KILL QUERY). */
  killQuery(): void {
    this.queryAbort?.abort(mysqlError(ER.QUERY_INTERRUPTED));
  }

  /** Aborts the running query and drops the connection (KILL, or server shutdown). */
  kill(): void {
    this.killQuery();
    this.conn.destroy();
  }

  /**
   * Sends an error as the first packet and closes: the reply to a connection the server
   * refuses before the handshake (too many connections).
   */
  async refuse(error: MySqlError): Promise<void> {
    this.send(encodeErr({ ...error, message: error.message }));
    await this.flush();
    this.conn.end();
  }

  /** Runs the connection to its end. Resolves once it is closed and cleaned up. */
  async run(): Promise<void> {
    try {
      if (await this.handshake()) await this.commandLoop();
    } finally {
      await this.cleanUp();
    }
  }

  // ---- reading -------------------------------------------------------------------------

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.decoder.push(chunk);
    while (!this.holdingForTls) {
      const result = this.decoder.next();
      if (result.kind === "incomplete") break;
      if (result.kind === "packet") {
        const { sequenceId, lastSequenceId, payload } = result.packet;
        this.queue.push({ kind: "packet", sequenceId, lastSequenceId, payload });
        this.queuedBytes += payload.length;
        if (this.awaitingFirstPacket) {
          this.awaitingFirstPacket = false;
          this.holdingForTls = this.config.tls !== undefined && isSslRequest(payload);
        }
        continue;
      }
      this.queue.push(result.kind === "tooLarge"
        ? { kind: "tooLarge", sequenceId: result.sequenceId }
        : { kind: "outOfOrder" });
      break;
    }
    if (!this.paused && (this.queue.length >= limits.mysqlPendingPacketsMax ||
      this.queuedBytes > this.config.maxPacketBytes)) {
      this.paused = true;
      this.conn.pause(true);
    }
    this.wake?.();
  }

  private onClosed(): void {
    this.closed = true;
    this.queryAbort?.abort(mysqlError(ER.QUERY_INTERRUPTED));
    this.wake?.();
    this.releaseDrain();
  }

  private releaseDrain(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
  }

  /**
   * The next packet, checked to carry the expected sequence id; `timeoutMs` bounds the
   * wait (Env timers, so simulated time works).
   */
  private async readPacket(timeoutMs: number): Promise<ReadResult> {
    if (this.queue.length === 0 && !this.closed) {
      let timedOut = false;
      const timer = this.deps.env.timers.setTimeout(timeoutMs, () => {
        timedOut = true;
        this.wake?.();
      });
      try {
        while (this.queue.length === 0 && !this.closed && !timedOut) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
        }
      } finally {
        timer.cancel();
      }
    }
    const item = this.queue.shift();
    if (item === undefined) return this.closed ? { kind: "closed" } : { kind: "timeout" };
    if (item.kind === "tooLarge") {
      // The reply follows the refused packet's first piece, as the client expects.
      this.sequenceId = (item.sequenceId + 1) & 0xff;
      return { kind: "tooLarge" };
    }
    if (item.kind !== "packet") return item;
    this.queuedBytes -= item.payload.length;
    if (this.paused && this.queue.length < limits.mysqlPendingPacketsMax / 2 &&
      this.queuedBytes <= this.config.maxPacketBytes / 2) {
      this.paused = false;
      this.conn.pause(false);
    }
    if (item.sequenceId !== this.sequenceId) return { kind: "outOfOrder" };
    this.sequenceId = (item.lastSequenceId + 1) & 0xff;
    return { kind: "packet", payload: item.payload };
  }

  /** A packet inside an exchange that has begun; anything else breaks the exchange. */
  private async readExchangePacket(timeoutMs: number): Promise<Uint8Array> {
    const result = await this.readPacket(timeoutMs);
    if (result.kind !== "packet") throw new ExchangeBroken(result);
    return result.payload;
  }

  // ---- writing -------------------------------------------------------------------------

  /** Queues `payload` as packets (copied: the caller may reuse it). */
  private send(payload: Uint8Array): void {
    if (payload.length < physicalPayloadBytesMax) {
      // One packet: its header, then the payload.
      const length = payload.length;
      const at = this.reserveOutbox(4 + length);
      const out = this.outbox;
      out[at] = length & 0xff;
      out[at + 1] = (length >>> 8) & 0xff;
      out[at + 2] = length >>> 16;
      out[at + 3] = this.sequenceId & 0xff;
      out.set(payload, at + 4);
      this.sequenceId = (this.sequenceId + 1) & 0xff;
      return;
    }
    const { frames, nextSequenceId } = framePacket(payload, this.sequenceId);
    this.sequenceId = nextSequenceId;
    for (const frame of frames) {
      const at = this.reserveOutbox(frame.length);
      this.outbox.set(frame, at);
    }
  }

  /** Makes room for `bytes` more in the outbox; returns where they go. */
  private reserveOutbox(bytes: number): number {
    const at = this.outboxBytes;
    const needed = at + bytes;
    if (needed > this.outbox.length) {
      let capacity = this.outbox.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.outbox.subarray(0, at));
      this.outbox = grown;
    }
    this.outboxBytes = needed;
    return at;
  }

  private sendError(error: MySqlError): void {
    this.send(encodeErr(error, (this.capabilities & Capability.Protocol41) !== 0 ||
      this.session === undefined));
  }

  /** Writes what is queued; waits while the socket's buffer is full. */
  private async flush(): Promise<void> {
    if (this.outboxBytes === 0) return;
    // The socket keeps what it is given until written: a copy, so the outbox is reused.
    const data = this.outbox.slice(0, this.outboxBytes);
    this.outboxBytes = 0;
    if (this.outbox.length > 2 * limits.mysqlWriteBatchBytes) {
      this.outbox = new Uint8Array(outboxBytesInitial);
    }
    if (this.closed) return;
    if (!this.conn.write(data) && !this.closed) {
      await new Promise<void>((resolve) => {
        this.drainWaiter = resolve;
      });
    }
  }

  /** Flushes when the batch is full: called between rows. */
  private async flushIfFull(): Promise<void> {
    if (this.outboxBytes >= limits.mysqlWriteBatchBytes) await this.flush();
  }

  private status(extra = 0): number {
    const session = this.session;
    let status = extra;
    if (session === undefined || session.autocommit) status |= ServerStatus.Autocommit;
    if (session?.inTransaction === true) status |= ServerStatus.InTrans;
    return status;
  }

  private has(capability: number): boolean {
    return (this.capabilities & capability) !== 0;
  }

  /** Ends a list of column (or parameter) definitions: EOF unless CLIENT_DEPRECATE_EOF. */
  private sendColumnsEnd(status: number): void {
    if (!this.has(Capability.DeprecateEof)) this.send(encodeEof(status));
  }

  // ---- handshake -----------------------------------------------------------------------

  /** Runs the handshake; true when the client is authenticated and has a session. */
  private async handshake(): Promise<boolean> {
    const { env, config } = this.deps;
    const scramble = makeScramble(env.random.bytes(20));
    this.sequenceId = 0;
    this.send(encodeHandshake({
      serverVersion: config.serverVersion,
      connectionId: this.connectionId,
      scramble,
      capabilities: config.capabilities,
      collationId: Collation.Utf8mb4GeneralCi,
      status: ServerStatus.Autocommit,
      authPlugin: config.defaultAuthPlugin,
    }));
    await this.flush();
    const deadlineMs = env.clock.monotonicMs() + config.handshakeTimeoutMs;
    const remainingMs = (): number => Math.max(0, deadlineMs - env.clock.monotonicMs());
    let response = await this.readPacket(config.handshakeTimeoutMs);
    if (response.kind !== "packet") return this.failHandshake(response);
    if (this.holdingForTls) {
      if (!await this.startTls(remainingMs())) return false;
      // The HandshakeResponse follows over TLS, at the next sequence id (2).
      response = await this.readPacket(remainingMs());
      if (response.kind !== "packet") return this.failHandshake(response);
    }
    try {
      return await this.authenticate(response.payload, scramble);
    } catch (error: unknown) {
      if (error instanceof ExchangeBroken) return this.failHandshake(error.result);
      if (error instanceof AssertionError) throw error;
      this.sendError(error instanceof MalformedPacket ? mysqlError(ER.HANDSHAKE_ERROR)
        : this.toMySqlError(error));
      await this.flush();
      return false;
    }
  }

  /**
   * Upgrades the connection to TLS after an SSLRequest; false when the TLS handshake failed
   * or did not finish within `timeoutMs` (the connection is then closed).
   */
  private async startTls(timeoutMs: number): Promise<boolean> {
    const plain = this.conn;
    const tls = this.config.tls;
    assert(tls !== undefined, "holding for TLS without a certificate");
    this.holdingForTls = false;
    if (this.closed) return false;
    if (plain.startTls === undefined) {
      // The Env's network cannot do TLS (the simulator): refuse as if TLS were not offered.
      this.sendError(mysqlError(ER.HANDSHAKE_ERROR));
      await this.flush();
      return false;
    }
    // Taken and handed over in one synchronous step, so no byte falls between the two.
    const buffered = this.decoder.takeRemaining();
    const upgrade = plain.startTls(tls, buffered);
    const timer = this.deps.env.timers.setTimeout(timeoutMs, () => plain.destroy());
    try {
      this.conn = await upgrade;
    } catch (error: unknown) {
      if (!hasErrorCode(error, ErrorCode.EnvTlsFailed)) throw error;
      this.closed = true;
      return false;
    } finally {
      timer.cancel();
    }
    this.conn.setHandlers(this.handlers);
    if (this.paused) this.conn.pause(true);
    return true;
  }

  private async failHandshake(result: ReadResult): Promise<false> {
    if (result.kind === "tooLarge") this.sendError(mysqlError(ER.NET_PACKET_TOO_LARGE));
    else if (result.kind === "outOfOrder") this.sendError(mysqlError(ER.HANDSHAKE_ERROR));
    await this.flush();
    return false;
  }

  private async authenticate(payload: Uint8Array, scramble: Uint8Array): Promise<boolean> {
    const { config, users } = this.deps;
    if (payload.length < sslRequestBytes) throw new MalformedPacket("short handshake response");
    const prefix = decodeSslRequest(payload);
    if ((prefix.capabilities & Capability.Protocol41) === 0 ||
      ((prefix.capabilities & Capability.Ssl) !== 0 && !this.conn.secure)) {
      // Pre-4.1 clients are not supported, and a client that asks for TLS where it is not
      // offered (or claims it without having upgraded) gets a handshake error rather than
      // a session in plain text.
      throw new MalformedPacket("unsupported client capabilities");
    }
    const response = decodeHandshakeResponse(payload, config.capabilities);
    this.capabilities = response.capabilities;
    this.multiStatements = this.has(Capability.MultiStatements);
    this.user = response.user;
    const host = hostOf(this.conn.remoteAddress);
    const account = await users.lookup(response.user, host);
    const plugin = account?.plugin ?? config.defaultAuthPlugin;
    let authData = response.authResponse;
    const clientPlugin = response.authPlugin ?? nativePassword;
    if (!isAuthPluginName(clientPlugin) || clientPlugin !== plugin) {
      this.send(encodeAuthSwitch(plugin, scramble));
      await this.flush();
      authData = await this.readExchangePacket(config.readTimeoutMs);
    }
    const verified = account !== undefined &&
      await this.verify(plugin, account, scramble, authData);
    if (!verified) {
      this.sendError(mysqlError(ER.ACCESS_DENIED_ERROR,
        [response.user, host, authData.length > 0 ? "YES" : "NO"]));
      await this.flush();
      return false;
    }
    this.session = await this.deps.sessions.open({
      connectionId: this.connectionId,
      user: response.user,
      remoteAddress: this.conn.remoteAddress,
      database: response.database,
      collationId: response.collationId,
      capabilities: this.capabilities,
      attributes: response.attributes.size > 0 ? response.attributes : emptyAttributes,
      server: this.deps.services,
    });
    if (response.database !== undefined) {
      const result = await this.callSession(() => this.requireSession().initDb(
        response.database ?? ""));
      if (result.kind === "error") {
        this.sendError(result.error);
        await this.flush();
        return false;
      }
      this.database = response.database;
    }
    this.decoder.setPayloadBytesMax(config.maxPacketBytes);
    this.send(encodeOk({ status: this.status() }));
    await this.flush();
    return true;
  }

  private async verify(
    plugin: AuthPluginName,
    account: UserAccount,
    scramble: Uint8Array,
    authData: Uint8Array,
  ): Promise<boolean> {
    const crypto = this.deps.authCrypto;
    if (!account.hasPassword) return authData.length === 0;
    if (authData.length === 0) return false;
    if (plugin === nativePassword) {
      if (account.nativeHash === undefined) return false;
      return verifyNativePassword(crypto,
        { scramble, response: authData, nativeHash: account.nativeHash });
    }
    assert(plugin === cachingSha2Password, `unknown plugin ${plugin}`);
    const cached = this.deps.authCache.get(account.user);
    if (cached !== undefined &&
      verifySha2Scramble(crypto, { scramble, response: authData, sha2Hash: cached })) {
      this.send(encodeAuthMoreData(new Uint8Array([0x03])));
      await this.flush();
      return true;
    }
    // Not in the cache (or the password changed): ask for the password itself. Over TLS
    // the client sends it in cleartext; without, it must encrypt it with our RSA public
    // key, which it may ask for first.
    this.send(encodeAuthMoreData(new Uint8Array([0x04])));
    await this.flush();
    let reply = await this.readExchangePacket(this.config.readTimeoutMs);
    if (reply.length === 1 && reply[0] === 0x02) {
      const keys = this.deps.rsaKeyPair();
      this.send(encodeAuthMoreData(keys.publicKeyPem));
      await this.flush();
      reply = await this.readExchangePacket(this.config.readTimeoutMs);
    }
    let password: Uint8Array;
    if (this.conn.secure && reply.at(-1) === 0) {
      // TLS protects the NUL-terminated cleartext password, whatever its length.
      password = reply.subarray(0, reply.length - 1);
    } else if (isLoopback(hostOf(this.conn.remoteAddress)) && reply.at(-1) === 0 &&
      reply.length < rsaCiphertextBytes) {
      // A client on the loopback interface counts the connection as secure (as MySQL
      // does a Unix socket; MariaDB Connector/C does so for 127.0.0.1) and may send the
      // NUL-terminated password itself: no third party can read loopback traffic.
      password = reply.subarray(0, reply.length - 1);
    } else {
      const decrypted = crypto.rsaDecryptOaep(this.deps.rsaKeyPair().privateKeyPem, reply);
      if (decrypted === undefined) return false;
      password = xorRotating(decrypted, scramble);
      if (password.length > 0 && password[password.length - 1] === 0) {
        password = password.subarray(0, password.length - 1);
      }
    }
    if (!account.verifyPassword(password)) return false;
    this.deps.authCache.remember(crypto, account.user, password);
    return true;
  }

  // ---- commands ------------------------------------------------------------------------

  private requireSession(): Session {
    const session = this.session;
    assert(session !== undefined, "command before the session was opened");
    return session;
  }

  private async commandLoop(): Promise<void> {
    for (;;) {
      this.sequenceId = 0;
      const read = await this.readPacket(this.config.idleTimeoutMs);
      if (read.kind !== "packet") {
        await this.reportBrokenRead(read);
        return;
      }
      let keepGoing = true;
      try {
        keepGoing = await this.dispatch(read.payload);
      } catch (error: unknown) {
        if (error instanceof ExchangeBroken) {
          await this.reportBrokenRead(error.result);
          return;
        }
        if (error instanceof AssertionError) throw error;
        this.sendError(this.toMySqlError(error));
      } finally {
        this.command = undefined;
        this.queryAbort = undefined;
      }
      await this.flush();
      if (!keepGoing || this.closed) return;
    }
  }

  /** Tells the client why its connection ends, where the protocol allows it. */
  private async reportBrokenRead(result: ReadResult): Promise<void> {
    switch (result.kind) {
      case "tooLarge":
        this.sendError(mysqlError(ER.NET_PACKET_TOO_LARGE));
        break;
      case "outOfOrder":
        this.sendError(mysqlError(ER.NET_PACKETS_OUT_OF_ORDER));
        break;
      case "timeout":
        this.sequenceId = 0;
        this.sendError(mysqlError(ER.CLIENT_INTERACTION_TIMEOUT));
        break;
      case "closed":
      case "packet":
        break;
    }
    await this.flush();
  }

  /** Any failure of a command as the error the client sees. */
  private toMySqlError(error: unknown): MySqlError {
    if (this.queryAbort?.signal.aborted === true) return mysqlError(ER.QUERY_INTERRUPTED);
    if (error instanceof MySqlError) return error;
    if (error instanceof MalformedPacket) return mysqlError(ER.MALFORMED_PACKET);
    return new MySqlError(ER.UNKNOWN_ERROR, describeError(error));
  }

  /** Calls the session, turning a thrown `MySqlError` into an `ErrorResult`. */
  private async callSession<T>(call: () => Promise<T>): Promise<T | ErrorResult> {
    try {
      return await call();
    } catch (error: unknown) {
      if (error instanceof MySqlError) return { kind: "error", error };
      throw error;
    }
  }

  /** Handles one command; false when the connection should close (COM_QUIT). */
  private async dispatch(payload: Uint8Array): Promise<boolean> {
    const command = commandByte(payload);
    this.deps.noteQuestion();
    switch (command) {
      case Command.Quit:
        return false;
      case Command.Ping:
        this.send(encodeOk({ status: this.status() }));
        return true;
      case Command.Query:
        await this.onQuery(decodeUtf8(payload.subarray(1)));
        return true;
      case Command.InitDb:
        await this.onInitDb(decodeUtf8(payload.subarray(1)));
        return true;
      case Command.FieldList:
        await this.onFieldList(payload);
        return true;
      case Command.Statistics:
        this.send(new PayloadWriter().string(this.deps.statistics()).finish());
        return true;
      case Command.ProcessKill:
        this.onProcessKill(payload);
        return true;
      case Command.SetOption:
        this.onSetOption(payload);
        return true;
      case Command.ResetConnection:
        await this.closeAllStatements();
        await this.requireSession().reset();
        this.send(encodeOk({ status: this.status() }));
        return true;
      case Command.StmtPrepare:
        await this.onPrepare(decodeUtf8(payload.subarray(1)));
        return true;
      case Command.StmtExecute:
        await this.onExecute(payload);
        return true;
      case Command.StmtFetch:
        await this.onFetch(payload);
        return true;
      case Command.StmtClose:
        await this.onStmtClose(payload);
        return true;
      case Command.StmtReset:
        await this.onStmtReset(payload);
        return true;
      case Command.StmtSendLongData:
        this.onSendLongData(payload);
        return true;
      default:
        this.sendError(mysqlError(ER.UNKNOWN_COM_ERROR));
        return true;
    }
  }

  private async onInitDb(database: string): Promise<void> {
    const result = await this.callSession(() => this.requireSession().initDb(database));
    if (result.kind === "error") {
      this.sendError(result.error);
      return;
    }
    this.database = database;
    this.sendOk(result);
  }

  private sendOk(
    ok: { readonly affectedRows?: number | bigint; readonly lastInsertId?: number | bigint;
      readonly warnings?: number; readonly info?: string },
    extraStatus = 0,
  ): void {
    this.send(encodeOk({ ...ok, status: this.status(extraStatus) }));
  }

  private async onFieldList(payload: Uint8Array): Promise<void> {
    const r = new PayloadReader(payload, 1);
    const table = r.nulString();
    const wildcard = r.restString();
    const result = await this.callSession(() => this.requireSession().fieldList(table, wildcard));
    if ("kind" in result) {
      this.sendError(result.error);
      return;
    }
    for (const column of result) this.send(encodeColumnDefinition(column, true));
    this.send(encodeEnd(this.capabilities, this.status()));
  }

  private onProcessKill(payload: Uint8Array): void {
    const id = new PayloadReader(payload, 1).uint32();
    const killed = this.deps.services.kill({ connectionId: id, queryOnly: false, user: this.user });
    if (killed) this.sendOk({});
    else this.sendError(mysqlError(ER.NO_SUCH_THREAD, [id]));
  }

  private onSetOption(payload: Uint8Array): void {
    const option = new PayloadReader(payload, 1).uint16();
    if (option === SetOption.MultiStatementsOn) this.multiStatements = true;
    else if (option === SetOption.MultiStatementsOff) this.multiStatements = false;
    else {
      this.sendError(mysqlError(ER.UNKNOWN_COM_ERROR));
      return;
    }
    this.send(encodeEnd(this.capabilities, this.status()));
  }

  private newQueryContext(): QueryContext {
    const abort = new AbortController();
    this.queryAbort = abort;
    if (this.closed) abort.abort(mysqlError(ER.QUERY_INTERRUPTED));
    return {
      signal: abort.signal,
      multiStatements: this.multiStatements,
      readLocalFile: (fileName) => this.readLocalFile(fileName),
    };
  }

  private async onQuery(sql: string): Promise<void> {
    this.command = sql;
    const ctx = this.newQueryContext();
    const results = this.requireSession().query(sql, ctx)[Symbol.asyncIterator]();
    await this.sendResults(results, ctx, { binary: false });
  }

  /** The next result, or the 1317 error if the query was killed meanwhile. */
  private async nextResult(
    results: AsyncIterator<StatementResult>,
    ctx: QueryContext,
  ): Promise<IteratorResult<StatementResult>> {
    if (ctx.signal.aborted) throw mysqlError(ER.QUERY_INTERRUPTED);
    const next = await results.next();
    if (this.infilePending) await this.drainLocalFile();
    if (ctx.signal.aborted) throw mysqlError(ER.QUERY_INTERRUPTED);
    return next;
  }

  /**
   * Sends every result of a command (text or binary protocol), setting
   * SERVER_MORE_RESULTS_EXISTS on all but the last; an error ends the batch.
   */
  private async sendResults(
    results: AsyncIterator<StatementResult>,
    ctx: QueryContext,
    options: { readonly binary: boolean },
  ): Promise<void> {
    let finished = false;
    try {
      let next = await this.nextResult(results, ctx);
      if (next.done === true) {
        finished = true;
        this.sendOk({});
        return;
      }
      for (;;) {
        const result: StatementResult = next.value;
        if (result.kind === "error") {
          this.sendError(result.error);
          return;
        }
        let warnings = result.warnings ?? 0;
        if (result.kind === "resultSet") {
          this.sendColumns(result.columns);
          await this.sendRows(result, ctx, options.binary);
          warnings = result.warnings ?? 0;
        }
        const following = await this.nextResult(results, ctx);
        const more = following.done === true ? 0 : ServerStatus.MoreResultsExists;
        if (result.kind === "resultSet") {
          this.send(encodeEnd(this.capabilities, this.status(more), warnings));
        } else {
          this.sendOk(result, more);
        }
        await this.flushIfFull();
        if (following.done === true) {
          finished = true;
          return;
        }
        next = following;
      }
    } finally {
      if (!finished) await results.return?.();
    }
  }

  private sendColumns(columns: readonly ColumnDef[]): void {
    this.send(new PayloadWriter(9).lenencInt(columns.length).finish());
    for (const column of columns) this.send(encodeColumnDefinition(column));
    this.sendColumnsEnd(this.status());
  }

  private async sendRows(result: ResultSet, ctx: QueryContext, binary: boolean): Promise<void> {
    const rows = toAsyncIterator(result.rows);
    let finished = false;
    try {
      for (;;) {
        if (ctx.signal.aborted) throw mysqlError(ER.QUERY_INTERRUPTED);
        const next = await rows.next();
        if (next.done === true) {
          finished = true;
          return;
        }
        if (binary) {
          writeBinaryRow(this.rowWriter.reset(), result.columns, next.value);
          this.send(this.rowWriter.finish());
        } else {
          this.send(encodeTextRow(result.columns, next.value));
        }
        await this.flushIfFull();
      }
    } finally {
      if (!finished) await rows.return?.();
    }
  }

  // ---- LOAD DATA LOCAL INFILE ----------------------------------------------------------

  private async *readLocalFile(fileName: string): AsyncGenerator<Uint8Array> {
    if (!this.has(Capability.LocalFiles)) throw mysqlError(ER.CLIENT_LOCAL_FILES_DISABLED);
    if (this.infilePending) throw mysqlError(ER.NOT_ALLOWED_COMMAND);
    this.send(new PayloadWriter(fileName.length + 1).uint8(0xfb).string(fileName).finish());
    await this.flush();
    this.infilePending = true;
    try {
      for (;;) {
        const chunk = await this.readExchangePacket(this.config.readTimeoutMs);
        if (chunk.length === 0) {
          this.infilePending = false;
          return;
        }
        yield chunk;
      }
    } finally {
      if (this.infilePending) await this.drainLocalFile();
    }
  }

  /** Reads and drops file packets the session left unread, up to the empty one. */
  private async drainLocalFile(): Promise<void> {
    while (this.infilePending) {
      const chunk = await this.readExchangePacket(this.config.readTimeoutMs);
      if (chunk.length === 0) this.infilePending = false;
    }
  }

  // ---- prepared statements -------------------------------------------------------------

  private async onPrepare(sql: string): Promise<void> {
    this.command = sql;
    if (this.statements.size >= this.config.preparedStatementsMax) {
      this.sendError(mysqlError(ER.MAX_PREPARED_STMT_COUNT_REACHED,
        [this.config.preparedStatementsMax]));
      return;
    }
    const prepared = await this.callSession(() => this.requireSession().prepare(sql));
    if ("kind" in prepared) {
      this.sendError(prepared.error);
      return;
    }
    const id = this.nextStatementId;
    this.nextStatementId = (this.nextStatementId % 0xffffffff) + 1;
    this.statements.set(id, {
      id,
      statement: prepared,
      paramTypes: undefined,
      longData: new Map(),
      longDataBytes: 0,
      longDataFailed: false,
      cursor: undefined,
    });
    this.send(new PayloadWriter(12).uint8(0).uint32(id).uint16(prepared.columns.length)
      .uint16(prepared.paramCount).uint8(0).uint16(0).finish());
    if (prepared.paramCount > 0) {
      const param: ColumnDef = { name: "?", type: MySqlType.VarString, charset: Collation.Binary };
      for (let i = 0; i < prepared.paramCount; i++) this.send(encodeColumnDefinition(param));
      this.sendColumnsEnd(this.status());
    }
    if (prepared.columns.length > 0) {
      for (const column of prepared.columns) this.send(encodeColumnDefinition(column));
      this.sendColumnsEnd(this.status());
    }
  }

  private statementFor(id: number, command: string): StatementState {
    const state = this.statements.get(id);
    if (state === undefined) throw mysqlError(ER.UNKNOWN_STMT_HANDLER, [id, command]);
    return state;
  }

  /** Decodes the parameters of a COM_STMT_EXECUTE whose reader is past the header. */
  private readParams(state: StatementState, r: PayloadReader): BoundParam[] {
    const count = state.statement.paramCount;
    if (state.longDataFailed) throw new MalformedPacket("long data exceeded the packet bound");
    if (count === 0) return [];
    const nullBitmap = r.bytesOf(Math.floor((count + 7) / 8));
    if (r.uint8() === 1) {
      const types: { type: number; unsigned: boolean }[] = [];
      for (let i = 0; i < count; i++) {
        const type = r.uint8();
        const flags = r.uint8();
        if (!mySqlTypes.has(type)) throw new MalformedPacket(`bad parameter type ${type}`);
        types.push({ type, unsigned: (flags & 0x80) !== 0 });
      }
      state.paramTypes = types;
    }
    const types = state.paramTypes;
    if (types === undefined) throw new MalformedPacket("parameter types never sent");
    const params: BoundParam[] = [];
    for (let i = 0; i < count; i++) {
      const bound = types[i];
      assert(bound !== undefined, "parameter type missing");
      const type = bound.type as BoundParam["type"];
      const long = state.longData.get(i);
      let value: SqlValue;
      if (long !== undefined) {
        value = longDataValue(type, concatChunks(long));
      } else if (((nullBitmap[i >> 3] ?? 0) & (1 << (i & 7))) !== 0) {
        value = null;
      } else {
        value = readBinaryParam(r, type, bound.unsigned);
      }
      params.push({ type, unsigned: bound.unsigned, value });
    }
    return params;
  }

  private async onExecute(payload: Uint8Array): Promise<void> {
    const r = new PayloadReader(payload, 1);
    const state = this.statementFor(r.uint32(), "mysqld_stmt_execute");
    const flags = r.uint8();
    r.uint32();
    let params: BoundParam[];
    try {
      params = this.readParams(state, r);
    } catch (error: unknown) {
      if (!(error instanceof MalformedPacket)) throw error;
      this.sendError(mysqlError(ER.WRONG_ARGUMENTS, ["mysqld_stmt_execute"]));
      return;
    } finally {
      state.longData.clear();
      state.longDataBytes = 0;
      state.longDataFailed = false;
    }
    await this.closeCursor(state);
    const ctx = this.newQueryContext();
    const results = state.statement.execute(params, ctx)[Symbol.asyncIterator]();
    if ((flags & CursorType.ReadOnly) === 0) {
      await this.sendResults(results, ctx, { binary: true });
      return;
    }
    // A cursor: send the column definitions now, rows on COM_STMT_FETCH.
    let keep = false;
    try {
      const first = await this.nextResult(results, ctx);
      if (first.done === true) {
        this.sendOk({});
        return;
      }
      const result = first.value;
      if (result.kind !== "resultSet") {
        if (result.kind === "error") this.sendError(result.error);
        else this.sendOk(result);
        return;
      }
      this.send(new PayloadWriter(9).lenencInt(result.columns.length).finish());
      for (const column of result.columns) this.send(encodeColumnDefinition(column));
      this.send(encodeEnd(this.capabilities, this.status(ServerStatus.CursorExists)));
      state.cursor = {
        columns: result.columns,
        rows: toAsyncIterator(result.rows),
        results,
        resultSet: result,
      };
      keep = true;
    } finally {
      if (!keep) await results.return?.();
    }
  }

  private async onFetch(payload: Uint8Array): Promise<void> {
    const r = new PayloadReader(payload, 1);
    const id = r.uint32();
    const count = r.uint32();
    const state = this.statementFor(id, "mysqld_stmt_fetch");
    const cursor = state.cursor;
    if (cursor === undefined) {
      this.sendError(mysqlError(ER.STMT_HAS_NO_OPEN_CURSOR, [id]));
      return;
    }
    const ctx = this.newQueryContext();
    let sent = 0;
    let exhausted = false;
    try {
      while (sent < Math.max(count, 1)) {
        if (ctx.signal.aborted) throw mysqlError(ER.QUERY_INTERRUPTED);
        const next = await cursor.rows.next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        this.send(encodeBinaryRow(cursor.columns, next.value));
        sent++;
        await this.flushIfFull();
      }
    } catch (error: unknown) {
      await this.closeCursor(state);
      throw error;
    }
    if (exhausted) {
      await this.closeCursor(state);
      this.send(encodeEnd(this.capabilities, this.status(ServerStatus.LastRowSent),
        cursor.resultSet.warnings ?? 0));
    } else {
      this.send(encodeEnd(this.capabilities, this.status(ServerStatus.CursorExists)));
    }
  }

  private async closeCursor(state: StatementState): Promise<void> {
    const cursor = state.cursor;
    if (cursor === undefined) return;
    state.cursor = undefined;
    await cursor.rows.return?.();
    await cursor.results.return?.();
  }

  /** COM_STMT_CLOSE has no reply, not even for a malformed packet. */
  private async onStmtClose(payload: Uint8Array): Promise<void> {
    if (payload.length < 5) return;
    const id = new PayloadReader(payload, 1).uint32();
    const state = this.statements.get(id);
    if (state === undefined) return;
    this.statements.delete(id);
    await this.closeCursor(state);
    state.statement.close();
  }

  private async onStmtReset(payload: Uint8Array): Promise<void> {
    const state = this.statementFor(new PayloadReader(payload, 1).uint32(), "mysqld_stmt_reset");
    state.longData.clear();
    state.longDataBytes = 0;
    state.longDataFailed = false;
    await this.closeCursor(state);
    this.sendOk({});
  }

  /** COM_STMT_SEND_LONG_DATA has no reply; problems surface at the next execute. */
  private onSendLongData(payload: Uint8Array): void {
    if (payload.length < 7) return;
    const r = new PayloadReader(payload, 1);
    const state = this.statements.get(r.uint32());
    const index = r.uint16();
    const data = r.rest();
    if (state === undefined || index >= state.statement.paramCount) return;
    if (state.longDataBytes + data.length > this.config.maxPacketBytes) {
      // Remembered: the execute that follows gets error 1210.
      state.longDataFailed = true;
      state.longData.clear();
      state.longDataBytes = 0;
      return;
    }
    const chunks = state.longData.get(index) ?? [];
    chunks.push(new Uint8Array(data));
    state.longData.set(index, chunks);
    state.longDataBytes += data.length;
  }

  private async closeAllStatements(): Promise<void> {
    const states = [...this.statements.values()];
    this.statements.clear();
    for (const state of states) {
      await this.closeCursor(state);
      state.statement.close();
    }
  }

  private async cleanUp(): Promise<void> {
    try {
      await this.flush();
      await this.closeAllStatements();
      await this.session?.close();
    } finally {
      this.closed = true;
      this.conn.end();
    }
  }
}

function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
