/**
 * `RpcClient`: calls and streams to one server address over one multiplexed connection.
 *
 * Connection: made on first use; calls made while it is being made wait for it. A failed
 * attempt fails the calls that were waiting with `RPC:Connection:ConnectFailed` (they were
 * never sent, so it is not ambiguous) and starts a backoff: the next attempt, triggered by
 * the next call, waits `limits.rpcReconnectBackoffMsMin` ms, doubling per failure up to
 * `limits.rpcReconnectBackoffMsMax`. A connection that closes before anything was received
 * on it counts as a failure too; one that carried traffic resets the backoff, and the
 * next call reconnects at once. Timers come from the `Env`.
 *
 * Calls: every call has a deadline (`limits.rpcDeadlineMsDefault` unless given) that
 * covers connecting, sending and waiting; past it the call fails with
 * `RPC:Call:DeadlineExceeded` and the server is told to abort it. When the connection
 * drops, calls already sent fail with `RPC:Connection:Closed` and `ambiguous: true`: the
 * server may or may not have acted on them. The same holds for a deadline that passes
 * after sending. Errors a handler threw arrive with their own code.
 *
 * Bounds: at most `inFlightMax` calls and streams at once (`RPC:Call:TooManyInFlight`,
 * immediately), and no new calls while more than `limits.rpcWriteBufferBytesMax` bytes
 * wait to be written (`RPC:Connection:WriteBufferFull`). `close` fails everything pending
 * with `RPC:Client:Closed`.
 */
import { ErrorCode, TesseraError, assert, describeError, limits } from "../base/mod.ts";
import type { Connection, Timer, TlsOptions } from "../env/mod.ts";
import { RpcChannel } from "./channel.ts";
import {
  MessageKind,
  type RpcMessage,
  StreamKind,
  errorMessage,
  remoteError,
} from "./messages.ts";
import { RpcStream, type StreamReader, type StreamTransport, type StreamWriter } from "./stream.ts";
import type { RpcEnv, RpcLogger } from "./types.ts";

export interface RpcClientOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: RpcLogger;
  /** Connect with TLS; give `ca` and `serverName` to verify the server. */
  readonly tls?: TlsOptions;
  /** Default `limits.rpcInFlightMax`. */
  readonly inFlightMax?: number;
  /** Default `limits.rpcDeadlineMsDefault`. */
  readonly deadlineMsDefault?: number;
  /** Default `limits.rpcConnectTimeoutMs`. */
  readonly connectTimeoutMs?: number;
}

export interface CallOptions {
  /** Milliseconds from now until the call fails with `RPC:Call:DeadlineExceeded`. */
  readonly deadlineMs?: number;
}

export interface StreamOptions {
  /**
   * Milliseconds from now until the stream fails
   * (`RPC:Call:DeadlineExceeded`); streams have no deadline unless given one.
   */
  readonly deadlineMs?: number;
}

/** A server stream as its client sees it: messages to read, and `cancel`. */
export type ClientServerStream = StreamReader;

/** A bidirectional stream as its client sees it. */
export interface ClientBidiStream extends StreamReader, StreamWriter {
  /** No more messages from this side; the server may keep sending. */
  end(): void;
}

interface PendingCall {
  readonly kind: "call";
  readonly id: number;
  readonly method: string;
  readonly body: unknown;
  readonly deadlineAtMs: number;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: TesseraError) => void;
  timer: Timer | undefined;
  sent: boolean;
}

interface PendingStream {
  readonly kind: "stream";
  readonly id: number;
  readonly method: string;
  readonly body: unknown;
  readonly streamKind: StreamKind;
  readonly deadlineAtMs: number;
  readonly stream: RpcStream;
  timer: Timer | undefined;
  sent: boolean;
}

type Pending = PendingCall | PendingStream;

/** A client of one RPC server. */
export class RpcClient {
  private readonly env: RpcEnv;
  private readonly host: string;
  private readonly port: number;
  private readonly target: string;
  private readonly logger: RpcLogger;
  private readonly tls: TlsOptions | undefined;
  private readonly inFlightMax: number;
  private readonly deadlineMsDefault: number;
  private readonly connectTimeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  /** Calls and streams waiting for a connection, in order; all of them still pending. */
  private waiting: Pending[] = [];
  private readonly transport: StreamTransport;
  private channel: RpcChannel | undefined;
  /** True once the current connection delivered a message: the server is really there. */
  private channelHealthy = false;
  private connecting = false;
  private nextId = 1;
  private backoffMs: number = limits.rpcReconnectBackoffMsMin;
  private nextAttemptAtMs = 0;
  private attemptTimer: Timer | undefined;
  private closed = false;
  private closedChannel: Promise<void> | undefined;
  private onChannelGone: (() => void) | undefined;

  constructor(env: RpcEnv, options: RpcClientOptions) {
    this.env = env;
    this.host = options.host;
    this.port = options.port;
    this.target = `${options.host}:${options.port}`;
    this.logger = options.logger;
    this.tls = options.tls;
    this.inFlightMax = options.inFlightMax ?? limits.rpcInFlightMax;
    this.deadlineMsDefault = options.deadlineMsDefault ?? limits.rpcDeadlineMsDefault;
    this.connectTimeoutMs = options.connectTimeoutMs ?? limits.rpcConnectTimeoutMs;
    this.transport = {
      transmit: (message) => this.channel?.send(message),
      finished: (stream) => this.onStreamFinished(stream),
    };
  }

  /** Calls and streams in flight (waiting for a connection included). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Calls `method` with `body`; resolves with the reply body. */
  call(method: string, body: unknown, options: CallOptions = {}): Promise<unknown> {
    const refusal = this.admit();
    if (refusal !== undefined) return Promise.reject(refusal);
    const deadlineMs = options.deadlineMs ?? this.deadlineMsDefault;
    assert(Number.isFinite(deadlineMs) && deadlineMs >= 0, `bad deadline ${deadlineMs} ms`);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const call: PendingCall = {
        kind: "call",
        id,
        method,
        body,
        deadlineAtMs: this.env.clock.monotonicMs() + deadlineMs,
        resolve,
        reject,
        timer: undefined,
        sent: false,
      };
      call.timer = this.env.timers.setTimeout(deadlineMs, () => this.expire(call));
      this.pending.set(id, call);
      if (this.usableChannel() === undefined) {
        this.waiting.push(call);
        this.connect();
      } else {
        this.sendCall(call, deadlineMs);
      }
    });
  }

  /** Opens a server stream: `body` goes to the server, which answers with many messages. */
  openServerStream(method: string, body: unknown, options: StreamOptions = {}): ClientServerStream {
    return this.openStream(method, body, { kind: StreamKind.server, ...options });
  }

  /** Opens a bidirectional stream; `body` is the opening message the handler receives. */
  openBidiStream(method: string, body: unknown, options: StreamOptions = {}): ClientBidiStream {
    return this.openStream(method, body, { kind: StreamKind.bidi, ...options });
  }

  /**
   * Fails every pending call and stream with `RPC:Client:Closed` (ambiguous for those
   * already sent) and closes the connection. Later calls fail the same way.
   */
  close(): Promise<void> {
    if (this.closed) return this.closedChannel ?? Promise.resolve();
    this.closed = true;
    this.attemptTimer?.cancel();
    this.attemptTimer = undefined;
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.waiting = [];
    for (const entry of entries) {
      entry.timer?.cancel();
      const error = new TesseraError(ErrorCode.RpcClientClosed, "RPC client closed", {
        ambiguous: entry.sent,
      });
      if (entry.kind === "call") entry.reject(error);
      else entry.stream.failLocally(error);
    }
    const channel = this.channel;
    if (channel === undefined) {
      this.closedChannel = Promise.resolve();
    } else {
      this.closedChannel = new Promise((resolve) => {
        this.onChannelGone = resolve;
      });
      channel.close();
    }
    return this.closedChannel;
  }

  private admit(): TesseraError | undefined {
    if (this.closed) return new TesseraError(ErrorCode.RpcClientClosed, "RPC client closed");
    if (this.pending.size >= this.inFlightMax) {
      return new TesseraError(
        ErrorCode.RpcTooManyInFlight,
        `${this.pending.size} calls already in flight to ${this.target}`,
        { details: { limit: "rpcInFlightMax", inFlightMax: this.inFlightMax } },
      );
    }
    const channel = this.channel;
    if (channel !== undefined && channel.bufferedBytes > limits.rpcWriteBufferBytesMax) {
      return new TesseraError(
        ErrorCode.RpcWriteBufferFull,
        `${channel.bufferedBytes} bytes already wait to be written to ${this.target}`,
        { details: { limit: "rpcWriteBufferBytesMax" } },
      );
    }
    return undefined;
  }

  private openStream(
    method: string,
    body: unknown,
    options: StreamOptions & { readonly kind: StreamKind },
  ): RpcStream {
    const id = this.nextId++;
    const stream = new RpcStream({
      id,
      role: "client",
      kind: options.kind,
      transport: this.transport,
      receiveWindowMessages: limits.rpcStreamWindowMessages,
      sendWindowMessages: 0,
    });
    const refusal = this.admit();
    if (refusal !== undefined) {
      stream.failLocally(refusal);
      return stream;
    }
    const deadlineMs = options.deadlineMs;
    assert(
      deadlineMs === undefined || (Number.isFinite(deadlineMs) && deadlineMs >= 0),
      `bad deadline ${deadlineMs} ms`,
    );
    const entry: PendingStream = {
      kind: "stream",
      id,
      method,
      body,
      streamKind: options.kind,
      deadlineAtMs:
        deadlineMs === undefined ? Infinity : this.env.clock.monotonicMs() + deadlineMs,
      stream,
      timer: undefined,
      sent: false,
    };
    if (deadlineMs !== undefined) {
      entry.timer = this.env.timers.setTimeout(deadlineMs, () => {
        entry.timer = undefined;
        stream.abort(
          new TesseraError(
            ErrorCode.RpcDeadlineExceeded,
            `stream ${method} to ${this.target} passed its deadline of ${deadlineMs} ms`,
            { ambiguous: entry.sent },
          ),
        );
      });
    }
    this.pending.set(id, entry);
    if (this.usableChannel() === undefined) {
      this.waiting.push(entry);
      this.connect();
    } else {
      this.sendOpen(entry);
    }
    return stream;
  }

  /** The connection new calls go out on, unless there is none or it is closing. */
  private usableChannel(): RpcChannel | undefined {
    const channel = this.channel;
    return channel !== undefined && !channel.closed ? channel : undefined;
  }

  /** Sends a call on the current connection, with the time it has left. */
  private sendCall(call: PendingCall, remainingMs: number): void {
    const channel = this.channel;
    assert(channel !== undefined, "RpcClient.sendCall without a connection");
    try {
      channel.send([
        MessageKind.request,
        call.id,
        call.method,
        call.body,
        Math.max(1, Math.ceil(remainingMs)),
      ]);
    } catch (error) {
      if (!(error instanceof TesseraError)) throw error;
      this.settle(call);
      call.reject(error);
      return;
    }
    call.sent = true;
  }

  /** Opens a stream on the current connection. */
  private sendOpen(entry: PendingStream): void {
    const channel = this.channel;
    assert(channel !== undefined, "RpcClient.sendOpen without a connection");
    const remainingMs = entry.deadlineAtMs - this.env.clock.monotonicMs();
    try {
      channel.send([
        MessageKind.open,
        entry.id,
        entry.method,
        entry.body,
        Number.isFinite(remainingMs) ? Math.max(1, Math.ceil(remainingMs)) : 0,
        entry.streamKind,
        limits.rpcStreamWindowMessages,
      ]);
    } catch (error) {
      if (!(error instanceof TesseraError)) throw error;
      entry.stream.failLocally(error);
      return;
    }
    entry.sent = true;
  }

  /** Forgets a call that got its outcome. */
  private settle(call: PendingCall): void {
    this.pending.delete(call.id);
    call.timer?.cancel();
    call.timer = undefined;
  }

  private expire(call: PendingCall): void {
    call.timer = undefined;
    if (this.pending.get(call.id) !== call) return;
    this.pending.delete(call.id);
    if (!call.sent) this.forgetWaiting(call);
    const error = new TesseraError(
      ErrorCode.RpcDeadlineExceeded,
      `call ${call.method} to ${this.target} passed its deadline`,
      { ambiguous: call.sent },
    );
    // Tell the server, so a handler that watches its signal can stop working for nobody.
    if (call.sent) this.channel?.send(errorMessage(call.id, error));
    call.reject(error);
  }

  private onStreamFinished(stream: RpcStream): void {
    const entry = this.pending.get(stream.id);
    if (entry === undefined || entry.kind !== "stream" || entry.stream !== stream) return;
    this.pending.delete(stream.id);
    entry.timer?.cancel();
    entry.timer = undefined;
    if (!entry.sent) this.forgetWaiting(entry);
  }

  /** Drops an entry that ended before its connection came up, so `waiting` stays bounded. */
  private forgetWaiting(entry: Pending): void {
    const index = this.waiting.indexOf(entry);
    if (index !== -1) this.waiting.splice(index, 1);
  }

  private connect(): void {
    if (this.channel !== undefined || this.connecting || this.closed) return;
    const nowMs = this.env.clock.monotonicMs();
    if (nowMs < this.nextAttemptAtMs) {
      this.attemptTimer ??= this.env.timers.setTimeout(this.nextAttemptAtMs - nowMs, () => {
        this.attemptTimer = undefined;
        this.connect();
      });
      return;
    }
    this.connecting = true;
    void this.env.net
      .connect({
        host: this.host,
        port: this.port,
        timeoutMs: this.connectTimeoutMs,
        ...(this.tls === undefined ? {} : { tls: this.tls }),
      })
      .then(
        (connection) => this.onConnected(connection),
        (error: unknown) => this.onConnectFailed(error),
      );
  }

  private onConnected(connection: Connection): void {
    this.connecting = false;
    if (this.closed) {
      connection.destroy();
      return;
    }
    const channel = new RpcChannel(
      connection,
      {
        onMessage: (message) => this.onMessage(channel, message),
        onClose: (error) => this.onClose(channel, error),
        onWriteBlocked: () => undefined,
        onDrain: () => undefined,
      },
      {
        logger: this.logger,
        frameBytesMax: limits.rpcFrameBytesMax,
        batchBytesMax: limits.rpcBatchBytesMax,
      },
    );
    this.channel = channel;
    this.channelHealthy = false;
    const waiting = this.waiting;
    this.waiting = [];
    const nowMs = this.env.clock.monotonicMs();
    for (const entry of waiting) {
      if (this.pending.get(entry.id) !== entry) continue;
      if (entry.kind === "call") this.sendCall(entry, entry.deadlineAtMs - nowMs);
      else this.sendOpen(entry);
    }
  }

  private onConnectFailed(error: unknown): void {
    this.connecting = false;
    this.backOff();
    const failure =
      error instanceof TesseraError
        ? error
        : new TesseraError(
            ErrorCode.RpcConnectFailed,
            `connect to ${this.target} failed: ${describeError(error)}`,
            { cause: error },
          );
    const waiting = this.waiting;
    this.waiting = [];
    for (const entry of waiting) {
      if (this.pending.get(entry.id) !== entry) continue;
      if (entry.kind === "call") {
        this.settle(entry);
        entry.reject(failure);
      } else {
        entry.stream.failLocally(failure);
      }
    }
    if (!this.closed) {
      this.logger.warn(
        { target: this.target, error: describeError(error), retryInMs: this.backoffMs },
        "RPC connect failed",
      );
    }
  }

  /** Schedules the next connection attempt after the current backoff, and doubles it. */
  private backOff(): void {
    this.nextAttemptAtMs = this.env.clock.monotonicMs() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, limits.rpcReconnectBackoffMsMax);
  }

  private onMessage(channel: RpcChannel, message: RpcMessage): void {
    this.channelHealthy = true;
    switch (message[0]) {
      case MessageKind.reply: {
        const entry = this.pending.get(message[1]);
        // Replies to calls that already timed out are normal races; drop them.
        if (entry === undefined) return;
        if (entry.kind !== "call") {
          channel.fail(ErrorCode.RpcFrameMalformed, "unary reply for a stream");
          return;
        }
        this.settle(entry);
        entry.resolve(message[2]);
        return;
      }
      case MessageKind.error: {
        const entry = this.pending.get(message[1]);
        if (entry === undefined) return;
        if (entry.kind === "call") {
          this.settle(entry);
          entry.reject(remoteError(message));
        } else {
          entry.stream.receive(message);
        }
        return;
      }
      case MessageKind.data:
      case MessageKind.credit:
      case MessageKind.end:
      case MessageKind.accept: {
        const entry = this.pending.get(message[1]);
        if (entry === undefined) return;
        if (entry.kind !== "stream") {
          channel.fail(ErrorCode.RpcFrameMalformed, "stream message for a unary call");
          return;
        }
        const violation = entry.stream.receive(message);
        if (violation !== undefined) channel.fail(ErrorCode.RpcFrameMalformed, violation);
        return;
      }
      case MessageKind.request:
      case MessageKind.open:
        channel.fail(ErrorCode.RpcFrameMalformed, "server sent a client-only message");
        return;
    }
  }

  private onClose(channel: RpcChannel, error: Error | undefined): void {
    if (this.channel === channel) this.channel = undefined;
    this.onChannelGone?.();
    this.onChannelGone = undefined;
    if (this.channelHealthy) {
      this.backoffMs = limits.rpcReconnectBackoffMsMin;
      this.nextAttemptAtMs = 0;
    } else {
      this.backOff();
    }
    const suffix = error === undefined ? "" : `: ${describeError(error)}`;
    const reason = new TesseraError(
      ErrorCode.RpcConnectionClosed,
      `connection to ${this.target} closed${suffix}`,
      { cause: error, ambiguous: true },
    );
    for (const entry of [...this.pending.values()]) {
      if (!entry.sent) continue;
      if (entry.kind === "call") {
        this.settle(entry);
        entry.reject(reason);
      } else {
        entry.stream.failLocally(reason);
      }
    }
    if (error !== undefined && !this.closed) {
      this.logger.warn({ target: this.target, error: describeError(error) }, "RPC connection lost");
    }
    if (this.waiting.length > 0) this.connect();
  }
}
