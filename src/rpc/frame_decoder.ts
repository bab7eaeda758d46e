/**
 * `FrameDecoder`: splits a byte stream into length-prefixed frames, incrementally.
 *
 * A frame is a 4-byte big-endian body length followed by that many body bytes. Chunks go
 * in with `push` as they arrive, in any sizes; `next` hands back complete bodies one at a
 * time. A body that lies inside one chunk is returned as a view of it (no copy); a body
 * split across chunks is copied once into a fresh buffer, so the cost is linear in the
 * bytes received whatever the chunking. Returned bodies never alias memory the decoder
 * writes to again.
 *
 * A length above `frameBytesMax` is reported as soon as the 4 length bytes are in, before
 * any of the body is buffered, and the decoder then stays failed: the stream has lost
 * framing and its owner must close the connection. Pure: no I/O, no clocks.
 */
import { assert } from "../base/mod.ts";

/** Bytes of the length prefix. */
export const frameHeaderBytes = 4;

/** One step of decoding. */
export type FrameStep =
  /** A complete frame body. */
  | { readonly kind: "frame"; readonly body: Uint8Array }
  /** No complete frame is buffered; push more bytes. */
  | { readonly kind: "needMore" }
  /** The next frame declares a body longer than allowed; the decoder is now failed. */
  | { readonly kind: "tooLarge"; readonly bodyBytes: number };

const needMore: FrameStep = { kind: "needMore" };

/** Incremental decoder of length-prefixed frames. Owned by one connection. */
export class FrameDecoder {
  private readonly frameBytesMax: number;
  /** Unconsumed chunks; those before `head` are consumed and waiting to be dropped. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Bytes of `chunks[head]` already consumed. */
  private offset = 0;
  /** Unconsumed bytes over all chunks. */
  private buffered = 0;
  private failure: FrameStep | undefined;

  constructor(options: { readonly frameBytesMax: number }) {
    assert(
      Number.isSafeInteger(options.frameBytesMax) &&
        options.frameBytesMax >= 0 &&
        options.frameBytesMax <= 0xffff_ffff,
      `FrameDecoder: frameBytesMax must fit in 32 bits, got ${options.frameBytesMax}`,
    );
    this.frameBytesMax = options.frameBytesMax;
  }

  /** Bytes received but not yet returned as frames (length prefixes included). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Appends received bytes. The decoder keeps a reference; the caller must not reuse them. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.failure !== undefined) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame, or why there is none. */
  next(): FrameStep {
    if (this.failure !== undefined) return this.failure;
    if (this.buffered < frameHeaderBytes) return needMore;
    const bodyBytes = this.peekLength();
    if (bodyBytes > this.frameBytesMax) {
      this.failure = { kind: "tooLarge", bodyBytes };
      this.chunks = [];
      this.head = 0;
      this.offset = 0;
      this.buffered = 0;
      return this.failure;
    }
    if (this.buffered < frameHeaderBytes + bodyBytes) return needMore;
    this.skip(frameHeaderBytes);
    return { kind: "frame", body: this.take(bodyBytes) };
  }

  /** Reads the 4-byte length at the read position without consuming it. */
  private peekLength(): number {
    const first = this.chunks[this.head];
    assert(first !== undefined, "FrameDecoder: buffered bytes without a chunk");
    if (first.length - this.offset >= frameHeaderBytes) {
      const at = this.offset;
      return (
        ((first[at]! << 24) | (first[at + 1]! << 16) | (first[at + 2]! << 8) | first[at + 3]!) >>>
        0
      );
    }
    let length = 0;
    let chunkIndex = this.head;
    let at = this.offset;
    for (let i = 0; i < frameHeaderBytes; i++) {
      let chunk = this.chunks[chunkIndex]!;
      while (at >= chunk.length) {
        chunkIndex += 1;
        at = 0;
        chunk = this.chunks[chunkIndex]!;
      }
      length = length * 256 + chunk[at]!;
      at += 1;
    }
    return length;
  }

  /** Consumes `bytes` bytes without copying them. */
  private skip(bytes: number): void {
    let remaining = bytes;
    while (remaining > 0) {
      const chunk = this.chunks[this.head]!;
      const available = chunk.length - this.offset;
      if (available > remaining) {
        this.offset += remaining;
        break;
      }
      remaining -= available;
      this.dropHead();
    }
    this.buffered -= bytes;
  }

  /** Consumes `bytes` bytes and returns them: a view when contiguous, else one copy. */
  private take(bytes: number): Uint8Array {
    const first = this.chunks[this.head];
    if (bytes === 0 || first === undefined) return new Uint8Array(0);
    if (first.length - this.offset >= bytes) {
      const body = first.subarray(this.offset, this.offset + bytes);
      this.skip(bytes);
      return body;
    }
    const body = new Uint8Array(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.chunks[this.head]!;
      const count = Math.min(chunk.length - this.offset, bytes - filled);
      body.set(chunk.subarray(this.offset, this.offset + count), filled);
      filled += count;
      if (this.offset + count === chunk.length) this.dropHead();
      else this.offset += count;
    }
    this.buffered -= bytes;
    return body;
  }

  /** Releases the fully consumed first chunk, compacting the array now and then. */
  private dropHead(): void {
    this.chunks[this.head] = emptyChunk;
    this.head += 1;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const emptyChunk = new Uint8Array(0);
