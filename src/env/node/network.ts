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
  private readonly socket: net.Socket;
  private handlers: ConnectionHandlers | undefined;
  /** The first error the socket reported; passed to `onClose`. */
  private error: Error | undefined;
  /** Set when the socket closed before handlers were installed. */
  private closedEarly = false;
  private paused = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.localAddress = formatAddress(socket.localAddress, socket.localPort);
    socket.setNoDelay(true);
    socket.on("error", (error: Error) => {
      this.error ??= error;
    });
    socket.on("close", () => {
      if (this.handlers === undefined) {
        this.closedEarly = true;
        return;
      }
      this.handlers.onClose(this.error);
    });
    socket.on("drain", () => {
      this.handlers?.onDrain();
    });
  }

  setHandlers(handlers: ConnectionHandlers): void {
    if (this.handlers !== undefined) throw new Error("Connection.setHandlers called twice");
    this.handlers = handlers;
    if (this.closedEarly) {
      queueMicrotask(() => handlers.onClose(this.error));
      return;
    }
    // Attaching the listener switches the socket to flowing mode; data it buffered while
    // paused is then emitted from the event loop, never synchronously from here.
    this.socket.on("data", (chunk: Buffer) => handlers.onData(chunk));
    if (this.paused) this.socket.pause();
  }

  write(chunk: Uint8Array): boolean {
    // Writing to a finished socket would raise an error event for bytes nobody can
    // receive; the owner learns of the close through `onClose` instead.
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return this.socket.write(chunk);
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  pause(paused: boolean): void {
    this.paused = paused;
    if (this.handlers === undefined) return;
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(error?: Error): void {
    if (error !== undefined) this.error ??= error;
    this.socket.destroy();
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
      const onListenError = (error: Error): void => reject(error);
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
