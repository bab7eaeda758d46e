/**
 * `RpcStream`: one side of a stream, with credit-based flow control.
 *
 * Each side that receives announces a window: how many data messages it will buffer for
 * its consumer (the client in `open`, the server in `accept`). A sender may have at most
 * `window` messages unacknowledged; past that `send` waits. The receiver acknowledges
 * messages once its consumer has taken them from the async iterator, in `credit` messages
 * of about half a window at a time, so a slow consumer bounds both the sender and the
 * receiver's buffer, and a fast one costs one credit message per half window.
 *
 * Roles: the client opens the stream; in a server stream only the server sends data, in
 * a bidirectional stream both do. `end` from the client half-closes (the server may keep
 * sending); `end` from the server finishes the whole call, as a gRPC status does. An
 * `error` message from either side fails the stream on both; cancelling is an error with
 * code `RPC:Stream:Cancelled`. Messages that arrived before a remote error or a lost
 * connection are still delivered, then the iterator throws; after a local cancel the
 * iterator throws at once.
 *
 * The stream owns its buffers and credit counters; its owner (client or server
 * connection) owns the id, routes incoming messages to `receive`, and forgets the stream
 * when told through `StreamTransport.finished`. Peer misbehaviour (data beyond the
 * window, credit for messages never sent) is returned as a reason, for the owner to close
 * the connection with.
 */
import { ErrorCode, TesseraError, assert, limits } from "../base/mod.ts";
import {
  MessageKind,
  type RpcMessage,
  type StreamMessage,
  StreamKind,
  errorMessage,
  remoteError,
} from "./messages.ts";

/** How a stream reaches its connection. */
export interface StreamTransport {
  /**
   * Sends a message to the peer; a no-op once the connection is gone. Throws a
   * `TesseraError` when the message cannot be encoded.
   */
  transmit(message: RpcMessage): void;
  /** The stream reached its final state: forget its id, cancel its timers. */
  finished(stream: RpcStream): void;
}

export interface RpcStreamOptions {
  readonly id: number;
  /** The client opened the stream; the server serves it. */
  readonly role: "client" | "server";
  readonly kind: StreamKind;
  readonly transport: StreamTransport;
  /** Data messages this side buffers for its consumer; announced to the peer. */
  readonly receiveWindowMessages: number;
  /** The peer's announced window, when already known; 0 until an `accept` says. */
  readonly sendWindowMessages: number;
}

/** The reading end of a stream, as a client or a bidirectional handler sees it. */
export interface StreamReader extends AsyncIterable<unknown> {
  /**
   * Ends the stream on both sides with `RPC:Stream:Cancelled`: pending and later sends
   * and reads fail with it. Leaving a `for await` loop early cancels too.
   */
  cancel(): void;
}

/** The writing end of a stream. */
export interface StreamWriter {
  /**
   * Sends one message, resolving once it is handed to the connection, which happens when
   * the peer has room for it (credit). Rejects with the stream's error if it failed, with
   * `RPC:Stream:Closed` after the sending side ended, and with `RPC:Call:TooManyInFlight`
   * when a window's worth of sends is already waiting.
   */
  send(body: unknown): Promise<void>;
  /** Messages sent that the peer's consumer has not yet acknowledged; at most the window. */
  readonly unacknowledgedMessages: number;
  /** The peer's window: `unacknowledgedMessages` never exceeds it. */
  readonly sendWindowMessages: number;
  cancel(): void;
}

interface PendingSend {
  readonly body: unknown;
  readonly resolve: () => void;
  readonly reject: (error: TesseraError) => void;
}

interface PendingRead {
  readonly resolve: (result: IteratorResult<unknown>) => void;
  readonly reject: (error: TesseraError) => void;
}

const done: IteratorResult<unknown> = { value: undefined, done: true };
const resolvedVoid = Promise.resolve();

/** One side of one stream. */
export class RpcStream implements StreamReader, StreamWriter, AsyncIterator<unknown> {
  readonly id: number;
  private readonly role: "client" | "server";
  private readonly transport: StreamTransport;
  private readonly canSend: boolean;
  private readonly canReceive: boolean;
  // Sending side.
  private sendWindow: number;
  private unacked = 0;
  private readonly sendQueue: PendingSend[] = [];
  private endRequested = false;
  private sendClosed = false;
  // Receiving side.
  private readonly receiveWindow: number;
  private readonly creditBatch: number;
  private readonly buffer: unknown[] = [];
  /** Data messages received and not yet acknowledged by a credit message. */
  private outstanding = 0;
  private consumedUncredited = 0;
  private remoteEnded: boolean;
  private readonly readers: PendingRead[] = [];
  // Both.
  private failureValue: TesseraError | undefined;
  private finishedFlag = false;

  constructor(options: RpcStreamOptions) {
    assert(
      Number.isSafeInteger(options.receiveWindowMessages) && options.receiveWindowMessages > 0,
      `RpcStream: receive window must be a positive integer, got ${options.receiveWindowMessages}`,
    );
    this.id = options.id;
    this.role = options.role;
    this.transport = options.transport;
    const bidi = options.kind === StreamKind.bidi;
    this.canSend = bidi || options.role === "server";
    this.canReceive = bidi || options.role === "client";
    this.sendWindow = options.sendWindowMessages;
    this.receiveWindow = options.receiveWindowMessages;
    this.creditBatch = Math.max(1, Math.floor(options.receiveWindowMessages / 2));
    this.remoteEnded = !this.canReceive;
    this.sendClosed = !this.canSend;
  }

  get unacknowledgedMessages(): number {
    return this.unacked;
  }

  get sendWindowMessages(): number {
    return this.sendWindow;
  }

  /** The error that ended the stream, if one did. */
  get failure(): TesseraError | undefined {
    return this.failureValue;
  }

  /** True once the stream reached its final state. */
  get finished(): boolean {
    return this.finishedFlag;
  }

  send(body: unknown): Promise<void> {
    assert(this.canSend, "RpcStream.send on a stream this side cannot send on");
    if (this.failureValue !== undefined) return Promise.reject(this.failureValue);
    if (this.endRequested || this.sendClosed) {
      return Promise.reject(
        new TesseraError(ErrorCode.RpcStreamClosed, "stream is closed for sending"),
      );
    }
    if (this.sendQueue.length === 0 && this.unacked < this.sendWindow) {
      const error = this.transmitData(body);
      return error === undefined ? resolvedVoid : Promise.reject(error);
    }
    if (this.sendQueue.length >= limits.rpcStreamWindowMessages) {
      return Promise.reject(
        new TesseraError(
          ErrorCode.RpcTooManyInFlight,
          `${this.sendQueue.length} stream sends already wait for credit`,
          { details: { limit: "rpcStreamWindowMessages" } },
        ),
      );
    }
    return new Promise((resolve, reject) => this.sendQueue.push({ body, resolve, reject }));
  }

  /**
   * Ends this side's sending once queued sends are out. From the server this finishes the
   * call; from the client it is a half-close. Does nothing if already ended or failed.
   */
  end(): void {
    if (!this.canSend || this.failureValue !== undefined || this.endRequested) return;
    if (this.sendClosed) return;
    this.endRequested = true;
    this.pump();
  }

  cancel(): void {
    this.abort(new TesseraError(ErrorCode.RpcStreamCancelled, "stream cancelled"));
  }

  /** Fails the stream with `error` on both sides (cancel, deadline, handler failure). */
  abort(error: TesseraError): void {
    if (this.finishedFlag) return;
    try {
      this.transport.transmit(errorMessage(this.id, error));
    } catch (encodeError) {
      // The details could not be encoded; the code and message still tell the peer.
      assert(encodeError instanceof TesseraError, `unexpected encode failure: ${encodeError}`);
      this.transport.transmit(
        errorMessage(
          this.id,
          new TesseraError(error.code, error.message, { ambiguous: error.ambiguous }),
        ),
      );
    }
    this.buffer.length = 0;
    this.fail(error);
  }

  /** Fails the stream on this side only: the connection is gone or was never usable. */
  failLocally(error: TesseraError): void {
    this.fail(error);
  }

  /** Handles a message the peer sent for this stream; returns a reason if it is illegal. */
  receive(message: StreamMessage): string | undefined {
    if (this.finishedFlag) return undefined;
    switch (message[0]) {
      case MessageKind.data: {
        if (this.remoteEnded) return "stream data where the peer may not send";
        if (this.outstanding >= this.receiveWindow) return "stream data beyond the window";
        this.outstanding += 1;
        const reader = this.readers.shift();
        if (reader === undefined) {
          this.buffer.push(message[2]);
        } else {
          this.consumed();
          reader.resolve({ value: message[2], done: false });
        }
        return undefined;
      }
      case MessageKind.credit:
        if (!this.canSend) return "stream credit where this side does not send";
        if (message[2] > this.unacked) return "stream credit for messages never sent";
        this.unacked -= message[2];
        this.pump();
        return undefined;
      case MessageKind.accept:
        if (!this.canSend || this.role !== "client" || this.sendWindow !== 0) {
          return "unexpected stream accept";
        }
        this.sendWindow = message[2];
        this.pump();
        return undefined;
      case MessageKind.end:
        if (this.role === "server") {
          if (this.remoteEnded) return "stream end where the peer may not send";
          this.remoteEnded = true;
          this.wakeReadersAtEnd();
          return undefined;
        }
        // From the server, `end` finishes the call: the client may not send any more.
        this.remoteEnded = true;
        if (!this.sendClosed) {
          this.sendClosed = true;
          const closed = new TesseraError(ErrorCode.RpcStreamClosed, "server finished the stream");
          for (const pending of this.sendQueue.splice(0)) pending.reject(closed);
        }
        this.wakeReadersAtEnd();
        this.finish();
        return undefined;
      case MessageKind.error:
        this.fail(remoteError(message));
        return undefined;
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.buffer.length > 0) {
      const value = this.buffer.shift();
      this.consumed();
      return Promise.resolve({ value, done: false });
    }
    if (this.failureValue !== undefined) return Promise.reject(this.failureValue);
    if (this.remoteEnded) return Promise.resolve(done);
    if (this.readers.length >= this.receiveWindow) {
      return Promise.reject(
        new TesseraError(ErrorCode.RpcTooManyInFlight, "too many concurrent stream reads"),
      );
    }
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Called when a `for await` loop is left early: cancels unless the stream is over. */
  return(): Promise<IteratorResult<unknown>> {
    if (!this.finishedFlag && !this.remoteEnded) this.cancel();
    return Promise.resolve(done);
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this;
  }

  /** Sends one data message now; returns the encode error if it could not be sent. */
  private transmitData(body: unknown): TesseraError | undefined {
    try {
      this.transport.transmit([MessageKind.data, this.id, body]);
    } catch (error) {
      if (error instanceof TesseraError) return error;
      throw error;
    }
    this.unacked += 1;
    return undefined;
  }

  /** Sends queued messages while there is credit, then `end` if it was asked for. */
  private pump(): void {
    while (
      this.sendQueue.length > 0 &&
      this.unacked < this.sendWindow &&
      this.failureValue === undefined
    ) {
      const pending = this.sendQueue.shift()!;
      const error = this.transmitData(pending.body);
      if (error === undefined) pending.resolve();
      else pending.reject(error);
    }
    if (
      this.endRequested &&
      !this.sendClosed &&
      this.sendQueue.length === 0 &&
      this.failureValue === undefined
    ) {
      this.sendClosed = true;
      this.transport.transmit([MessageKind.end, this.id]);
      if (this.role === "server") this.finish();
    }
  }

  /** The consumer took one message: acknowledge in batches of `creditBatch`. */
  private consumed(): void {
    this.consumedUncredited += 1;
    if (this.consumedUncredited < this.creditBatch || this.remoteEnded || this.finishedFlag) {
      return;
    }
    const messages = this.consumedUncredited;
    this.consumedUncredited = 0;
    this.outstanding -= messages;
    this.transport.transmit([MessageKind.credit, this.id, messages]);
  }

  /** The peer ended: readers waiting (so the buffer is empty) learn the stream is done. */
  private wakeReadersAtEnd(): void {
    if (this.buffer.length === 0) for (const reader of this.readers.splice(0)) reader.resolve(done);
  }

  private fail(error: TesseraError): void {
    if (this.finishedFlag) return;
    this.failureValue = error;
    for (const pending of this.sendQueue.splice(0)) pending.reject(error);
    if (this.buffer.length === 0) for (const reader of this.readers.splice(0)) reader.reject(error);
    this.finish();
  }

  private finish(): void {
    if (this.finishedFlag) return;
    this.finishedFlag = true;
    this.transport.finished(this);
  }
}
