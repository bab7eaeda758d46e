/**
 * `RpcChannel`: one `Connection` speaking RPC messages, used by both client and server.
 *
 * Receiving: chunks go through a `FrameDecoder`; each body is decoded into a message and
 * handed to the owner in arrival order. A frame over the size limit, a body that is not
 * msgpack, or a message of the wrong shape means the peer is broken or hostile: the
 * channel logs an error and closes the connection, and the owner hears about it through
 * `onClose` like any other close. The owner may close the channel the same way for
 * protocol violations it detects (`fail`).
 *
 * Sending: `send` encodes a message straight into a frame and appends it to the current
 * batch. The batch is written as one socket write from a microtask, so every frame
 * produced in one turn of the event loop (a burst of calls, the replies to a burst of
 * requests) shares a write, with no timer and no added latency; a batch that reaches
 * `batchBytesMax` is written at once. The channel reports write backpressure
 * (`onWriteBlocked`, `onDrain`) and the bytes it holds (`bufferedBytes`); bounding them is
 * the owner's policy.
 */
import { ErrorCode, TesseraError } from "../base/mod.ts";
import type { Connection } from "../env/mod.ts";
import { FrameDecoder } from "./frame_decoder.ts";
import { type RpcMessage, decodeMessage, encodeFrame } from "./messages.ts";
import type { RpcLogger } from "./types.ts";

/** What the owner of a channel hears. */
export interface ChannelHandlers {
  /** A well-formed message arrived. */
  onMessage(message: RpcMessage): void;
  /** The connection closed; `error` says why, unless the peer closed it cleanly. */
  onClose(error: Error | undefined): void;
  /** A write reported backpressure: the socket's buffer is above its high-water mark. */
  onWriteBlocked(): void;
  /** The socket's buffer drained after `onWriteBlocked`. */
  onDrain(): void;
}

export interface ChannelOptions {
  readonly logger: RpcLogger;
  /** Largest frame body sent or accepted. */
  readonly frameBytesMax: number;
  /** Batches are written once they reach this many bytes. */
  readonly batchBytesMax: number;
}

/** A connection carrying framed RPC messages, with write batching. */
export class RpcChannel {
  readonly remoteAddress: string;
  private readonly connection: Connection;
  private readonly handlers: ChannelHandlers;
  private readonly logger: RpcLogger;
  private readonly decoder: FrameDecoder;
  private readonly encodeOptions: { readonly frameBytesMax: number };
  private readonly batchBytesMax: number;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private flushQueued = false;
  private closedFlag = false;
  private writeBlockedFlag = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(connection: Connection, handlers: ChannelHandlers, options: ChannelOptions) {
    this.connection = connection;
    this.remoteAddress = connection.remoteAddress;
    this.handlers = handlers;
    this.logger = options.logger;
    this.decoder = new FrameDecoder({ frameBytesMax: options.frameBytesMax });
    this.encodeOptions = { frameBytesMax: options.frameBytesMax };
    this.batchBytesMax = options.batchBytesMax;
    connection.setHandlers({
      onData: (chunk) => this.receive(chunk),
      onDrain: () => {
        if (!this.writeBlockedFlag) return;
        this.writeBlockedFlag = false;
        this.handlers.onDrain();
      },
      onClose: (error) => {
        this.closedFlag = true;
        this.batch = [];
        this.batchBytes = 0;
        this.handlers.onClose(error);
      },
    });
  }

  /** True once the channel was closed by either side; sends are then dropped. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Bytes accepted by `send` and not yet handed to the operating system. */
  get bufferedBytes(): number {
    return this.connection.bufferedBytes + this.batchBytes;
  }

  /**
   * Queues `message` for sending. Throws a `TesseraError` (`RPC:Frame:TooLarge`,
   * `RPC:Frame:Malformed`) when it cannot be encoded; nothing is queued then. Does nothing
   * once the channel is closed: the owner learns of the close through `onClose`.
   */
  send(message: RpcMessage): void {
    if (this.closedFlag) return;
    const frame = encodeFrame(message, this.encodeOptions);
    if (this.batchBytes > 0 && this.batchBytes + frame.length > this.batchBytesMax) this.flush();
    this.batch.push(frame);
    this.batchBytes += frame.length;
    if (this.batchBytes >= this.batchBytesMax) {
      this.flush();
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** Stops (`true`) or resumes (`false`) reading from the peer. */
  pause(paused: boolean): void {
    this.connection.pause(paused);
  }

  /**
   * Closes the connection because the peer broke the protocol: logs `reason` as an error
   * and destroys the connection with a `TesseraError` carrying `code`.
   */
  fail(code: ErrorCode, reason: string): void {
    if (this.closedFlag) return;
    this.logger.error(
      { remoteAddress: this.remoteAddress, code, reason },
      "closing RPC connection: peer broke the protocol",
    );
    this.close(new TesseraError(code, `RPC connection closed: ${reason}`));
  }

  /** Closes at once, dropping unsent frames. `onClose` follows asynchronously. */
  close(error?: Error): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.batch = [];
    this.batchBytes = 0;
    this.connection.destroy(error);
  }

  private flush(): void {
    if (this.batchBytes === 0 || this.closedFlag) return;
    const frames = this.batch;
    let chunk: Uint8Array;
    if (frames.length === 1) {
      chunk = frames[0]!;
    } else {
      // One copy per batch (not per frame) buys one write for many frames.
      chunk = Buffer.allocUnsafe(this.batchBytes);
      let at = 0;
      for (const frame of frames) {
        chunk.set(frame, at);
        at += frame.length;
      }
    }
    this.batch = [];
    this.batchBytes = 0;
    if (!this.connection.write(chunk) && !this.writeBlockedFlag) {
      this.writeBlockedFlag = true;
      this.handlers.onWriteBlocked();
    }
  }

  private receive(chunk: Uint8Array): void {
    if (this.closedFlag) return;
    this.decoder.push(chunk);
    for (;;) {
      const step = this.decoder.next();
      switch (step.kind) {
        case "needMore":
          return;
        case "tooLarge":
          this.fail(
            ErrorCode.RpcFrameTooLarge,
            `frame of ${step.bodyBytes} bytes exceeds the limit of ` +
              `${this.encodeOptions.frameBytesMax}`,
          );
          return;
        case "frame": {
          const message = decodeMessage(step.body);
          if (typeof message === "string") {
            this.fail(ErrorCode.RpcFrameMalformed, message);
            return;
          }
          this.handlers.onMessage(message);
          if (this.closedFlag) return;
          break;
        }
      }
    }
  }
}
