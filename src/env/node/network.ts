/**
 * `NodeNetwork`: TCP and TLS over `node:net` and `node:tls`, held to the `Network` contract.
 *
 * A `NodeConnection` adapts one socket: Nagle is off (RPC frames are small and latency
 * matters more than packet count), `write` hands back the socket's backpressure signal,
 * and no `data` listener is attached until `setHandlers`, so bytes that arrive earlier wait
 * in the socket's own bounded buffer (and the kernel's) instead of being lost or piling up.
 * A close that happens before `setHandlers` is remembered and reported once handlers are
 * set. Handlers are always called from the event loop or a microtask, never from inside
 * the call that installed them. The connection owns its socket; the listener owns only
 * the listening socket, so closing a listener leaves accepted connections open.
 */
import * as net from "node:net";
import * as tls from "node:tls";

import { ErrorCode, TesseraError, describeError } from "../../base/mod.ts";
import type {
  ConnectOptions,
  Connection,
  ConnectionHandlers,
  Listener,
  ListenOptions,
  Network,
  TlsOptions,
} from "../env.ts";

/** `host:port`, with IPv6 hosts in brackets so the port stays unambiguous. */
function formatAddress(host: string | undefined, port: number | undefined): string {
  const shown = host === undefined ? "?" : host.includes(":") ? `[${host}]` : host;
  return `${shown}:${port ?? "?"}`;
}

/** PEM material as Node's TLS API takes it (it accepts strings and Buffers). */
function pem(value: string | Uint8Array | undefined): string | Buffer | undefined {
  if (value === undefined || typeof value === "string") return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** The TLS options shared by servers and clients, without `undefined` entries. */
function secureContextOptions(options: TlsOptions): tls.SecureContextOptions {
  const result: tls.SecureContextOptions = {};
  const cert = pem(options.cert);
  const key = pem(options.key);
  const ca = pem(options.ca);
  if (cert !== undefined) result.cert = cert;
  if (key !== undefined) result.key = key;
  if (ca !== undefined) result.ca = ca;
  return result;
}

/** One TCP or TLS socket as a `Connection`. */
class NodeConnection implements Connection {
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly secure: boolean;
  private readonly socket: net.Socket;
  private handlers: ConnectionHandlers | undefined;
  /** The first error the socket reported; passed to `onClose`. */
  private error: Error | undefined;
  /** Set when the socket closed before handlers were installed. */
  private closedEarly = false;
  private paused = false;
  /**
   * Set by `startTls`: the socket now belongs to a TLS upgrade. `abort` tears down an
   * upgrade still handshaking; once it settled, `abort` is undefined and nothing is left.
   */
  private upgrade: { abort: (() => void) | undefined } | undefined;
  private readonly onSocketError = (error: Error): void => {
    this.error ??= error;
  };
  private readonly onSocketClose = (): void => {
    if (this.handlers === undefined) {
      this.closedEarly = true;
      return;
    }
    this.handlers.onClose(this.error);
  };
  /** Set from the first write of an event-loop turn until `uncork` runs at its end. */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
  private readonly onSocketDrain = (): void => {
    this.handlers?.onDrain();
  };
  private readonly onSocketData = (chunk: Buffer): void => {
    this.handlers?.onData(chunk);
  };

  constructor(socket: net.Socket, addresses?: { remote: string; local: string }) {
    this.socket = socket;
    this.secure = socket instanceof tls.TLSSocket;
    this.remoteAddress = addresses?.remote ??
      formatAddress(socket.remoteAddress, socket.remotePort);
    this.localAddress = addresses?.local ?? formatAddress(socket.localAddress, socket.localPort);
    socket.setNoDelay(true);
    socket.on("error", this.onSocketError);
    socket.on("close", this.onSocketClose);
    socket.on("drain", this.onSocketDrain);
  }

  setHandlers(handlers: ConnectionHandlers): void {
    if (this.handlers !== undefined) throw new Error("Connection.setHandlers called twice");
    if (this.upgrade !== undefined) throw new Error("Connection.setHandlers after startTls");
    this.handlers = handlers;
    if (this.closedEarly) {
      queueMicrotask(() => handlers.onClose(this.error));
      return;
    }
    // Attaching the listener switches the socket to flowing mode; data it buffered while
    // paused is then emitted from the event loop, never synchronously from here.
    this.socket.on("data", this.onSocketData);
    if (this.paused) this.socket.pause();
  }

  write(chunk: Uint8Array): boolean {
    // Writing to a finished socket would raise an error event for bytes nobody can
    // receive; the owner learns of the close through `onClose` instead.
    if (this.upgrade !== undefined) return false;
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    // Writes made in one turn of the event loop leave as one writev when it ends: replies
    // and requests of many connections' callbacks share a system call (each costs ~20 µs
    // on loopback, most of a point select's CPU before this).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    return this.socket.write(chunk);
  }

  get bufferedBytes(): number {
    return this.upgrade === undefined ? this.socket.writableLength : 0;
  }

  pause(paused: boolean): void {
    if (this.upgrade !== undefined) return;
    this.paused = paused;
    if (this.handlers === undefined) return;
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  end(): void {
    if (this.upgrade !== undefined) return;
    this.socket.end();
  }

  destroy(error?: Error): void {
    if (this.upgrade !== undefined) {
      this.upgrade.abort?.();
      return;
    }
    if (error !== undefined) this.error ??= error;
    this.socket.destroy();
  }

  startTls(options: TlsOptions, buffered: Uint8Array): Promise<Connection> {
    if (this.upgrade !== undefined) throw new Error("Connection.startTls called twice");
    if (this.secure) throw new Error("Connection.startTls on a TLS connection");
    const socket = this.socket;
    const upgrade: { abort: (() => void) | undefined } = { abort: undefined };
    this.upgrade = upgrade;
    // Detach this wrapper: from now on the socket's events belong to the TLS layer.
    socket.off("data", this.onSocketData);
    socket.off("close", this.onSocketClose);
    socket.off("drain", this.onSocketDrain);
    socket.off("error", this.onSocketError);
    socket.pause();
    // Bytes the plain-text reader already took go back to the front of the socket's
    // buffer; `TLSSocket` feeds whatever the socket has buffered to TLS before it reads.
    if (buffered.length > 0) {
      socket.unshift(Buffer.from(buffered.buffer, buffered.byteOffset, buffered.byteLength));
    }
    const target = this.remoteAddress;
    const addresses = { remote: this.remoteAddress, local: this.localAddress };
    return new Promise((resolve, reject) => {
      if (socket.destroyed) {
        // A closed socket never emits another event: report it now rather than hang.
        upgrade.abort = undefined;
        reject(new TesseraError(ErrorCode.EnvTlsFailed,
          `TLS handshake with ${target} failed: the connection is closed`,
          { details: { remoteAddress: target } }));
        return;
      }
      const tlsSocket = new tls.TLSSocket(socket, {
        isServer: true,
        secureContext: tls.createSecureContext(secureContextOptions(options)),
      });
      const fail = (cause: Error | undefined): void => {
        if (upgrade.abort === undefined) return;
        upgrade.abort = undefined;
        tlsSocket.destroy();
        socket.destroy();
        const reason = cause === undefined ? "the connection closed" : describeError(cause);
        reject(new TesseraError(ErrorCode.EnvTlsFailed,
          `TLS handshake with ${target} failed: ${reason}`,
          { ...(cause === undefined ? {} : { cause }), details: { remoteAddress: target } }));
      };
      const onError = (error: Error): void => fail(error);
      const onClose = (): void => fail(undefined);
      upgrade.abort = () => fail(new Error("aborted by the owner"));
      // The TLS socket reports the raw socket's errors (to `fail`, later to the upgraded
      // connection's `onClose`); this listener only keeps a late duplicate on the raw
      // socket from being an unhandled 'error' event that would crash the process.
      socket.on("error", () => undefined);
      tlsSocket.on("error", onError);
      tlsSocket.once("close", onClose);
      tlsSocket.once("secure", () => {
        if (upgrade.abort === undefined) return;
        upgrade.abort = undefined;
        tlsSocket.off("error", onError);
        tlsSocket.off("close", onClose);
        resolve(new NodeConnection(tlsSocket, addresses));
      });
    });
  }
}

/** A listening `net.Server` or `tls.Server`. */
class NodeListener implements Listener {
  readonly host: string;
  readonly port: number;
  private readonly server: net.Server;
  private closing: Promise<void> | undefined;

  constructor(server: net.Server, host: string, port: number) {
    this.server = server;
    this.host = host;
    this.port = port;
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      // `net.Server.close` stops accepting at once (the listening socket is closed and its
      // port released), but its callback waits for every accepted connection to end, and
      // those are not ours to wait for. Resolve once the event loop has run the close.
      this.server.close();
      setImmediate(resolve);
    });
    return this.closing;
  }
}

/** TCP and TLS networking on the real machine. */
export class NodeNetwork implements Network {
  listen(options: ListenOptions): Promise<Listener> {
    const onSocket = (socket: net.Socket): void => {
      options.onConnection(new NodeConnection(socket));
    };
    const server =
      options.tls === undefined
        ? net.createServer(onSocket)
        : tls.createServer(secureContextOptions(options.tls), onSocket);
    return new Promise((resolve, reject) => {
      const onListenError = (error: NodeJS.ErrnoException): void => {
        const where = `${options.host}:${options.port}`;
        reject(new TesseraError(ErrorCode.EnvListenFailed,
          `cannot listen on ${where}: ${error.code ?? error.message}`,
          { cause: error, details: { address: where, errno: error.code } }));
      };
      server.once("error", onListenError);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off("error", onListenError);
        // Errors after listening (a failed accept, such as EMFILE) do not stop the server;
        // they must not crash the process either, so they become process warnings.
        server.on("error", (error: Error) => {
          process.emitWarning(`listener ${options.host}: ${describeError(error)}`);
        });
        const address = server.address();
        if (address === null || typeof address === "string") {
          server.close();
          reject(new Error(`listener has no TCP address: ${String(address)}`));
          return;
        }
        resolve(new NodeListener(server, address.address, address.port));
      });
    });
  }

  connect(options: ConnectOptions): Promise<Connection> {
    const target = formatAddress(options.host, options.port);
    return new Promise((resolve, reject) => {
      const socket =
        options.tls === undefined
          ? net.connect({ host: options.host, port: options.port })
          : tls.connect({
              host: options.host,
              port: options.port,
              ...secureContextOptions(options.tls),
              ...(options.tls.serverName === undefined
                ? {}
                : { servername: options.tls.serverName }),
              rejectUnauthorized: options.tls.rejectUnauthorized ?? true,
            });
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      // `fail` stays the socket's error listener after settling, so a late error from a
      // socket being torn down has a listener (and has already been reported as the cause).
      const fail = (cause: Error): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        socket.destroy();
        reject(
          new TesseraError(
            ErrorCode.RpcConnectFailed,
            `connect to ${target} failed: ${describeError(cause)}`,
            { cause, details: { host: options.host, port: options.port } },
          ),
        );
      };
      const onReady = (): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        const connection = new NodeConnection(socket);
        socket.off("error", fail);
        resolve(connection);
      };
      socket.on("error", fail);
      socket.once(options.tls === undefined ? "connect" : "secureConnect", onReady);
      if (options.timeoutMs !== undefined) {
        const timeoutMs = options.timeoutMs;
        timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }
    });
  }
}
