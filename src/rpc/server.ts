/**
 * `RpcServer`: serves unary calls, server streams and bidirectional streams by method name.
 *
 * Handlers are registered before or after `listen`; each method has one kind. For every
 * accepted connection the server keeps a `ServerConnection`: its channel and the calls in
 * flight on it, by id. Outcomes map onto error replies with stable codes: an unregistered
 * method (or one of another kind) is `RPC:Call:UnknownMethod`; a handler that throws a
 * `TesseraError` sends that error's code, message, ambiguity and details; any other throw
 * is `RPC:Call:RemoteError` (and is logged). An `AssertionError` is also answered, so the
 * caller is not left waiting, and then rethrown: a broken invariant ends the process.
 *
 * Bounds: connections (past `connectionsMax` new ones are closed at once, with a warning),
 * calls in flight per connection (past `inFlightMax` calls get `RPC:Call:TooManyInFlight`),
 * and bytes queued for a connection: when its socket pushes back the server stops reading
 * that connection's requests until it drains, and a peer that lets more than
 * `limits.rpcWriteBufferBytesMax` pile up is disconnected. A connection that sends a bad
 * frame is closed with a logged error; other connections are unaffected.
 */
import {
  AssertionError,
  ErrorCode,
  TesseraError,
  assert,
  describeError,
  limits,
} from "../base/mod.ts";
import type { Connection, Listener, TlsOptions } from "../env/mod.ts";
import { RpcChannel } from "./channel.ts";
import {
  MessageKind,
  type OpenMessage,
  type RequestMessage,
  type RpcMessage,
  StreamKind,
  errorMessage,
  remoteError,
} from "./messages.ts";
import { ServerCall } from "./server_call.ts";
import { RpcStream, type StreamReader, type StreamTransport, type StreamWriter } from "./stream.ts";
import type { CallContext, RpcEnv, RpcLogger } from "./types.ts";

/** A server stream as its handler sees it: the call's context plus the writing end. */
export interface ServerStream extends CallContext, StreamWriter {}

/** A bidirectional stream as its handler sees it: context, writing and reading ends. */
export interface BidiServerStream extends ServerStream, StreamReader {}

/** Answers one unary call. The reply body is any msgpack-encodable value. */
export type UnaryHandler = (body: unknown, context: CallContext) => Promise<unknown>;

/**
 * Serves one server stream: sends messages with `stream.send`; resolving ends the stream,
 * throwing fails it with the error's code.
 */
export type ServerStreamHandler = (body: unknown, stream: ServerStream) => Promise<void>;

/** Serves one bidirectional stream: reads `stream` as an async iterable, sends, resolves. */
export type BidiStreamHandler = (body: unknown, stream: BidiServerStream) => Promise<void>;

type Registration =
  | { readonly kind: "unary"; readonly handler: UnaryHandler }
  | { readonly kind: "serverStream"; readonly handler: ServerStreamHandler }
  | { readonly kind: "bidiStream"; readonly handler: BidiStreamHandler };

export interface RpcServerOptions {
  readonly logger: RpcLogger;
  /** Serve TLS with this certificate and key. */
  readonly tls?: TlsOptions;
  /** Default `limits.rpcServerConnectionsMax`. */
  readonly connectionsMax?: number;
  /** Calls in flight per connection; default `limits.rpcInFlightMax`. */
  readonly inFlightMax?: number;
}

/** The address a server listens on. */
export interface RpcAddress {
  readonly host: string;
  readonly port: number;
}

/** Settings shared by all connections of one server. */
interface ServerShared {
  readonly env: RpcEnv;
  readonly logger: RpcLogger;
  readonly methods: ReadonlyMap<string, Registration>;
  readonly inFlightMax: number;
  readonly connections: Set<ServerConnection>;
}

/** An RPC server: method registry, listener and connections. */
export class RpcServer {
  private readonly shared: ServerShared;
  private readonly methods = new Map<string, Registration>();
  private readonly tls: TlsOptions | undefined;
  private readonly connectionsMax: number;
  private listener: Listener | undefined;
  private closed = false;

  constructor(env: RpcEnv, options: RpcServerOptions) {
    this.tls = options.tls;
    this.connectionsMax = options.connectionsMax ?? limits.rpcServerConnectionsMax;
    this.shared = {
      env,
      logger: options.logger,
      methods: this.methods,
      inFlightMax: options.inFlightMax ?? limits.rpcInFlightMax,
      connections: new Set(),
    };
  }

  /** Serves `method` as a unary call. */
  handleUnary(method: string, handler: UnaryHandler): void {
    this.register(method, { kind: "unary", handler });
  }

  /** Serves `method` as a server stream. */
  handleServerStream(method: string, handler: ServerStreamHandler): void {
    this.register(method, { kind: "serverStream", handler });
  }

  /** Serves `method` as a bidirectional stream. */
  handleBidiStream(method: string, handler: BidiStreamHandler): void {
    this.register(method, { kind: "bidiStream", handler });
  }

  /** Starts listening; port 0 picks a free port. Resolves with the bound address. */
  async listen(address: RpcAddress): Promise<RpcAddress> {
    assert(!this.closed && this.listener === undefined, "RpcServer.listen called twice");
    this.listener = await this.shared.env.net.listen({
      host: address.host,
      port: address.port,
      ...(this.tls === undefined ? {} : { tls: this.tls }),
      onConnection: (connection) => this.accept(connection),
    });
    return { host: this.listener.host, port: this.listener.port };
  }

  /** The bound address, once listening. */
  get address(): RpcAddress | undefined {
    if (this.listener === undefined) return undefined;
    return { host: this.listener.host, port: this.listener.port };
  }

  /** Connections currently open. */
  get connectionCount(): number {
    return this.shared.connections.size;
  }

  /**
   * Stops listening and closes every connection; handlers still running see their signal
   * abort with `RPC:Connection:Closed`. Resolves once the listener is closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [...this.shared.connections]) connection.close();
    await this.listener?.close();
  }

  private register(method: string, registration: Registration): void {
    assert(!this.methods.has(method), `RPC method ${method} registered twice`);
    this.methods.set(method, registration);
  }

  private accept(connection: Connection): void {
    if (this.closed) {
      connection.destroy();
      return;
    }
    if (this.shared.connections.size >= this.connectionsMax) {
      this.shared.logger.warn(
        { remoteAddress: connection.remoteAddress, connectionsMax: this.connectionsMax },
        "refusing RPC connection: too many connections",
      );
      connection.destroy();
      return;
    }
    this.shared.connections.add(new ServerConnection(this.shared, connection));
  }
}

/** A stream being served, with the context its handler sees. */
interface StreamEntry {
  readonly stream: RpcStream;
  readonly call: ServerCall;
}

/** The error reply for anything a handler threw. */
function replyError(error: unknown): TesseraError {
  if (error instanceof TesseraError) return error;
  return new TesseraError(ErrorCode.RpcRemoteError, `handler failed: ${describeError(error)}`);
}

/** One accepted connection and the calls in flight on it. */
class ServerConnection {
  private readonly shared: ServerShared;
  private readonly channel: RpcChannel;
  private readonly calls = new Map<number, ServerCall | StreamEntry>();
  private readonly transport: StreamTransport;

  constructor(shared: ServerShared, connection: Connection) {
    this.shared = shared;
    this.channel = new RpcChannel(
      connection,
      {
        onMessage: (message) => this.onMessage(message),
        onClose: (error) => this.onClose(error),
        onWriteBlocked: () => this.channel.pause(true),
        onDrain: () => this.channel.pause(false),
      },
      {
        logger: shared.logger,
        frameBytesMax: limits.rpcFrameBytesMax,
        batchBytesMax: limits.rpcBatchBytesMax,
      },
    );
    this.transport = {
      transmit: (message) => this.send(message),
      finished: (stream) => this.onStreamFinished(stream),
    };
  }

  close(): void {
    this.channel.close(new TesseraError(ErrorCode.RpcConnectionClosed, "RPC server closing"));
  }

  private onMessage(message: RpcMessage): void {
    switch (message[0]) {
      case MessageKind.request:
        this.onRequest(message);
        return;
      case MessageKind.open:
        this.onOpen(message);
        return;
      case MessageKind.data:
      case MessageKind.credit:
      case MessageKind.end:
      case MessageKind.error: {
        const entry = this.calls.get(message[1]);
        // Messages for calls that already finished are normal races; drop them.
        if (entry === undefined) return;
        if (entry instanceof ServerCall) {
          if (message[0] !== MessageKind.error) {
            this.channel.fail(ErrorCode.RpcFrameMalformed, "stream message for a unary call");
            return;
          }
          entry.abort(remoteError(message));
          return;
        }
        const violation = entry.stream.receive(message);
        if (violation !== undefined) this.channel.fail(ErrorCode.RpcFrameMalformed, violation);
        return;
      }
      case MessageKind.reply:
      case MessageKind.accept:
        this.channel.fail(ErrorCode.RpcFrameMalformed, "client sent a server-only message");
        return;
    }
  }

  /** Checks a new call id and the in-flight bound; false if the call must not start. */
  private admit(id: number, method: string, expected: Registration["kind"]): boolean {
    if (this.calls.has(id)) {
      this.channel.fail(ErrorCode.RpcFrameMalformed, `call id ${id} reused while in flight`);
      return false;
    }
    const registration = this.shared.methods.get(method);
    if (registration?.kind !== expected) {
      const known = registration === undefined ? "" : ` (it is a ${registration.kind} method)`;
      this.sendError(
        id,
        new TesseraError(
          ErrorCode.RpcUnknownMethod,
          `unknown ${expected} method ${method}${known}`,
        ),
      );
      return false;
    }
    if (this.calls.size >= this.shared.inFlightMax) {
      this.sendError(
        id,
        new TesseraError(
          ErrorCode.RpcTooManyInFlight,
          `${this.calls.size} calls already in flight on this connection`,
          { details: { limit: "rpcInFlightMax" } },
        ),
      );
      return false;
    }
    return true;
  }

  private newCall(method: string, deadlineMs: number): ServerCall {
    const env = this.shared.env;
    return new ServerCall(env, {
      method,
      remoteAddress: this.channel.remoteAddress,
      deadlineAtMs: deadlineMs > 0 ? env.clock.monotonicMs() + deadlineMs : Infinity,
    });
  }

  private onRequest(message: RequestMessage): void {
    const [, id, method, body, deadlineMs] = message;
    if (!this.admit(id, method, "unary")) return;
    const registration = this.shared.methods.get(method);
    assert(registration?.kind === "unary", "admit() checked the method kind");
    const call = this.newCall(method, deadlineMs);
    this.calls.set(id, call);
    let result: Promise<unknown>;
    // Fault point (simulation only): the request is handled late, as under a loaded node.
    const buggify = this.shared.env.buggify;
    if (buggify?.("rpc.server.delayRequest", 0.02) === true) {
      const delayMs = buggify("rpc.server.longDelay", 0.2) ? 500 : 20;
      result = this.shared.env.timers.sleep(delayMs).then(() => registration.handler(body, call));
    } else {
      try {
        result = registration.handler(body, call);
      } catch (error) {
        result = Promise.reject(error);
      }
    }
    void result.then(
      (reply) => {
        if (!this.endCall(id, call)) return;
        try {
          this.channel.send([MessageKind.reply, id, reply]);
        } catch (error) {
          this.sendError(id, replyError(error));
          return;
        }
        this.checkBuffered();
      },
      (error: unknown) => {
        if (this.endCall(id, call)) this.sendError(id, replyError(error));
        this.reportHandlerError(method, error);
      },
    );
  }

  private onOpen(message: OpenMessage): void {
    const [, id, method, body, deadlineMs, streamKind, windowMessages] = message;
    const bidi = streamKind === StreamKind.bidi;
    if (!this.admit(id, method, bidi ? "bidiStream" : "serverStream")) return;
    const registration = this.shared.methods.get(method);
    assert(
      registration !== undefined && registration.kind !== "unary",
      "admit() checked the method kind",
    );
    const call = this.newCall(method, deadlineMs);
    const stream = new RpcStream({
      id,
      role: "server",
      kind: streamKind,
      transport: this.transport,
      receiveWindowMessages: limits.rpcStreamWindowMessages,
      sendWindowMessages: windowMessages,
    });
    this.calls.set(id, { stream, call });
    if (bidi) this.send([MessageKind.accept, id, limits.rpcStreamWindowMessages]);
    const handle = new ServerStreamHandle(stream, call);
    let result: Promise<void>;
    try {
      result = registration.handler(body, handle);
    } catch (error) {
      result = Promise.reject(error);
    }
    void result.then(
      () => stream.end(),
      (error: unknown) => {
        stream.abort(replyError(error));
        this.reportHandlerError(method, error);
      },
    );
  }

  /** Removes a finished unary call; false if it had already gone (connection closed). */
  private endCall(id: number, call: ServerCall): boolean {
    if (this.calls.get(id) !== call) return false;
    this.calls.delete(id);
    call.finish();
    return true;
  }

  private onStreamFinished(stream: RpcStream): void {
    const entry = this.calls.get(stream.id);
    if (entry === undefined || entry instanceof ServerCall || entry.stream !== stream) return;
    this.calls.delete(stream.id);
    if (stream.failure !== undefined) entry.call.abort(stream.failure);
    entry.call.finish();
  }

  private send(message: RpcMessage): void {
    this.channel.send(message);
    this.checkBuffered();
  }

  private sendError(id: number, error: TesseraError): void {
    try {
      this.channel.send(errorMessage(id, error));
    } catch (encodeError) {
      // Unencodable details; the code, message and ambiguity still go through.
      assert(encodeError instanceof TesseraError, `unexpected encode failure: ${encodeError}`);
      const bare = new TesseraError(error.code, error.message, { ambiguous: error.ambiguous });
      this.channel.send(errorMessage(id, bare));
    }
    this.checkBuffered();
  }

  /** Disconnects a peer that lets replies pile up past the write buffer bound. */
  private checkBuffered(): void {
    if (this.channel.closed || this.channel.bufferedBytes <= limits.rpcWriteBufferBytesMax) return;
    this.shared.logger.warn(
      { remoteAddress: this.channel.remoteAddress, bufferedBytes: this.channel.bufferedBytes },
      "closing RPC connection: peer is not reading its replies",
    );
    this.channel.close(
      new TesseraError(ErrorCode.RpcWriteBufferFull, "peer is not reading its replies"),
    );
  }

  private reportHandlerError(method: string, error: unknown): void {
    if (error instanceof TesseraError) return;
    this.shared.logger.error(
      { method, remoteAddress: this.channel.remoteAddress, error: describeError(error) },
      "RPC handler failed",
    );
    // A broken invariant is a bug: let it reach the process's top-level handler.
    if (error instanceof AssertionError) throw error;
  }

  private onClose(error: Error | undefined): void {
    this.shared.connections.delete(this);
    const suffix = error === undefined ? "" : `: ${describeError(error)}`;
    const reason = new TesseraError(
      ErrorCode.RpcConnectionClosed,
      `connection from ${this.channel.remoteAddress} closed${suffix}`,
      { cause: error },
    );
    const entries = [...this.calls.values()];
    this.calls.clear();
    for (const entry of entries) {
      if (entry instanceof ServerCall) {
        entry.abort(reason);
        entry.finish();
      } else {
        entry.stream.failLocally(reason);
        entry.call.abort(reason);
        entry.call.finish();
      }
    }
  }
}

/** What a stream handler holds: the stream's ends and its call's context. */
class ServerStreamHandle implements BidiServerStream {
  private readonly stream: RpcStream;
  private readonly call: ServerCall;

  constructor(stream: RpcStream, call: ServerCall) {
    this.stream = stream;
    this.call = call;
  }

  get method(): string {
    return this.call.method;
  }

  get remoteAddress(): string {
    return this.call.remoteAddress;
  }

  get deadlineAtMs(): number {
    return this.call.deadlineAtMs;
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  get unacknowledgedMessages(): number {
    return this.stream.unacknowledgedMessages;
  }

  get sendWindowMessages(): number {
    return this.stream.sendWindowMessages;
  }

  send(body: unknown): Promise<void> {
    return this.stream.send(body);
  }

  cancel(): void {
    this.stream.cancel();
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.stream;
  }
}
