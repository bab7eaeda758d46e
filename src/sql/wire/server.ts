/**
 * `createMySqlServer`: a MySQL protocol listener on an Env `Network`.
 *
 * The server owns the listener, the registry of open connections (ids, the connection
 * limit, KILL), the `caching_sha2_password` cache and the RSA key pair (made on first use).
 * Each accepted connection gets a `MySqlConnection` whose `run()` the server tracks, so
 * `close()` can stop accepting, drop every connection and wait until all are cleaned up.
 * Connection ids count up from 1 and are never reused while the server runs.
 *
 * With `tls` set the server offers CLIENT_SSL and upgrades a connection in place when the
 * client sends an SSLRequest (STARTTLS); the Env connection must then support `startTls`.
 */
import { AssertionError, limits } from "../../base/mod.ts";
import { createNodeAuthCrypto } from "../../env/mod.ts";
import type { Connection, Env, Listener, TlsOptions } from "../../env/mod.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import {
  type AuthCrypto,
  type AuthPluginName,
  InMemoryUserStore,
  Sha2AuthCache,
  type UserStore,
  cachingSha2Password,
} from "./auth.ts";
import { Capability } from "./constants.ts";
import { type ConnectionConfig, MySqlConnection } from "./connection.ts";
import type { ConnectionInfo, KillRequest, SessionFactory } from "./session.ts";

/** The version string clients see: MySQL 8.0.11 compatibility, then our own version. */
export const serverVersionDefault = "8.0.11-Tessera-0.1.0";

/** RSA modulus for `caching_sha2_password` key exchange (MySQL's default, 2048 bits). */
const rsaModulusBits = 2048;

/** Capabilities the server offers; a connection uses their intersection with the client's. */
export const serverCapabilities =
  Capability.LongPassword | Capability.FoundRows | Capability.LongFlag |
  Capability.ConnectWithDb | Capability.LocalFiles | Capability.IgnoreSpace |
  Capability.Protocol41 | Capability.Interactive | Capability.IgnoreSigpipe |
  Capability.Transactions | Capability.SecureConnection | Capability.MultiStatements |
  Capability.MultiResults | Capability.PsMultiResults | Capability.PluginAuth |
  Capability.ConnectAttrs | Capability.PluginAuthLenencClientData |
  Capability.DeprecateEof | Capability.SessionTrack;

export interface MySqlServerOptions {
  readonly env: Env;
  /** Address to listen on; tests use 127.0.0.1. */
  readonly host: string;
  /** 0 lets the system choose (see `MySqlServer.port`). */
  readonly port: number;
  /** Opens the SQL session of each authenticated connection. */
  readonly sessions: SessionFactory;
  /** Accounts; defaults to an in-memory store with `root` and an empty password. */
  readonly users?: UserStore;
  /** Hashing and RSA; defaults to the `node:crypto` implementation. */
  readonly authCrypto?: AuthCrypto;
  /** Announced in the handshake; defaults to `serverVersionDefault`. */
  readonly serverVersion?: string;
  /** Plugin announced in the handshake; defaults to `caching_sha2_password`. */
  readonly defaultAuthPlugin?: AuthPluginName;
  /** `max_connections`; defaults to `limits.mysqlConnectionsMax`. */
  readonly connectionsMax?: number;
  /** `max_allowed_packet` in bytes; defaults to `limits.mysqlPacketBytesMax`. */
  readonly packetBytesMax?: number;
  /** `wait_timeout` in milliseconds; defaults to `limits.mysqlIdleTimeoutMs`. */
  readonly idleTimeoutMs?: number;
  /** Time allowed for the handshake; defaults to `limits.mysqlHandshakeTimeoutMs`. */
  readonly handshakeTimeoutMs?: number;
  /** Prepared statements per connection; defaults to `limits.mysqlPreparedStatementsMax`. */
  readonly preparedStatementsMax?: number;
  /**
   * Certificate and key (PEM) for TLS. When set, CLIENT_SSL is offered and clients may
   * upgrade after the greeting; over TLS, `caching_sha2_password` takes the password in
   * cleartext. Unset, a client that asks for TLS gets error 1043 (Bad handshake).
   */
  readonly tls?: TlsOptions;
  /** A fixed RSA key pair (PEM); by default one is generated on first use. */
  readonly rsaKeyPair?: { readonly publicKeyPem: string; readonly privateKeyPem: string };
  /**
   * Called with an `AssertionError` (a bug) that ended a connection. By default it is
   * rethrown outside any promise, so the process's top-level handler sees it.
   */
  readonly onBug?: (error: AssertionError) => void;
}

/** A running MySQL protocol server. */
export interface MySqlServer {
  readonly host: string;
  /** The bound port (the chosen one when 0 was asked for). */
  readonly port: number;
  /** Connections currently open. */
  readonly connectionCount: number;
  /** Stops accepting, drops every connection and waits for their clean-up. */
  close(): Promise<void>;
}

function rethrowBug(error: AssertionError): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** Starts a MySQL protocol server; resolves once it is listening. */
export async function createMySqlServer(options: MySqlServerOptions): Promise<MySqlServer> {
  const env = options.env;
  const authCrypto = options.authCrypto ?? createNodeAuthCrypto();
  const users = options.users ?? new InMemoryUserStore(authCrypto);
  const connectionsMax = options.connectionsMax ?? limits.mysqlConnectionsMax;
  const onBug = options.onBug ?? rethrowBug;
  const config: ConnectionConfig = {
    serverVersion: options.serverVersion ?? serverVersionDefault,
    capabilities: options.tls === undefined ? serverCapabilities
      : serverCapabilities | Capability.Ssl,
    maxPacketBytes: options.packetBytesMax ?? limits.mysqlPacketBytesMax,
    idleTimeoutMs: options.idleTimeoutMs ?? limits.mysqlIdleTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? limits.mysqlHandshakeTimeoutMs,
    readTimeoutMs: limits.mysqlReadTimeoutMs,
    preparedStatementsMax: options.preparedStatementsMax ?? limits.mysqlPreparedStatementsMax,
    defaultAuthPlugin: options.defaultAuthPlugin ?? cachingSha2Password,
    tls: options.tls,
  };
  const authCache = new Sha2AuthCache();
  let rsaKeyPair = options.rsaKeyPair;
  const connections = new Map<number, MySqlConnection>();
  const running = new Set<Promise<void>>();
  let nextConnectionId = 1;
  let closing = false;
  const startedMs = env.clock.monotonicMs();
  let questions = 0;

  const services = {
    kill(request: KillRequest): boolean {
      const target = connections.get(request.connectionId);
      if (target === undefined) return false;
      if (request.queryOnly) target.killQuery();
      else target.kill();
      return true;
    },
    connections(): readonly ConnectionInfo[] {
      return [...connections.values()].map((c) => c.info());
    },
  };

  const deps = {
    env,
    config,
    authCrypto,
    users,
    sessions: options.sessions,
    authCache,
    rsaKeyPair: () => {
      rsaKeyPair ??= authCrypto.generateRsaKeyPair(rsaModulusBits);
      return rsaKeyPair;
    },
    services,
    noteQuestion: (): void => {
      questions++;
    },
    statistics: (): string => {
      const uptimeS = Math.floor((env.clock.monotonicMs() - startedMs) / 1000);
      const qps = uptimeS > 0 ? (questions / uptimeS).toFixed(3) : questions.toFixed(3);
      return `Uptime: ${uptimeS}  Threads: ${connections.size}  Questions: ${questions}  ` +
        `Slow queries: 0  Opens: 0  Flush tables: 0  Open tables: 0  ` +
        `Queries per second avg: ${qps}`;
    },
  };

  const track = (promise: Promise<void>): void => {
    const tracked = promise.catch((error: unknown) => {
      if (error instanceof AssertionError) onBug(error);
      // Any other error ended one connection on an I/O path that already closed it; the
      // server keeps serving the others.
    }).finally(() => {
      running.delete(tracked);
    });
    running.add(tracked);
  };

  const onConnection = (conn: Connection): void => {
    const connectionId = nextConnectionId;
    nextConnectionId = nextConnectionId >= 0xffffffff ? 1 : nextConnectionId + 1;
    const connection = new MySqlConnection(connectionId, conn, deps);
    if (closing || connections.size >= connectionsMax) {
      track(connection.refuse(mysqlError(ER.CON_COUNT_ERROR)));
      return;
    }
    connections.set(connectionId, connection);
    track(connection.run().finally(() => {
      connections.delete(connectionId);
    }));
  };

  const listener: Listener = await env.net.listen({
    host: options.host,
    port: options.port,
    onConnection,
  });

  return {
    host: listener.host,
    port: listener.port,
    get connectionCount(): number {
      return connections.size;
    },
    async close(): Promise<void> {
      closing = true;
      await listener.close();
      for (const connection of connections.values()) connection.kill();
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
