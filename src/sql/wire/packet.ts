/**
 * MySQL packet framing: a 3-byte little-endian payload length and a 1-byte sequence id
 * before every payload. A payload of 0xffffff bytes or more is split into pieces of
 * exactly 0xffffff bytes followed by a shorter last piece (possibly empty), each with the
 * next sequence id.
 *
 * `PacketDecoder` is pure and incremental: bytes go in as they arrive, in any chunking, and
 * whole logical packets (pieces joined) come out. It never holds more than one packet in
 * progress, and refuses, before buffering it, a packet whose joined payload would exceed
 * its maximum. After it reports an error it stays failed: the stream is not resynchronised.
 */
import { physicalPayloadBytesMax } from "./constants.ts";

/** One logical packet, its pieces joined. */
export interface Packet {
  /** Sequence id of the first piece. */
  readonly sequenceId: number;
  /** Sequence id of the last piece (equals `sequenceId` unless the packet was split). */
  readonly lastSequenceId: number;
  readonly payload: Uint8Array;
}

/** What `PacketDecoder.next()` yields. */
export type DecodeResult =
  | { readonly kind: "packet"; readonly packet: Packet }
  /** More bytes are needed. */
  | { readonly kind: "incomplete" }
  /** The joined payload would exceed the maximum; the decoder is now failed. */
  | { readonly kind: "tooLarge"; readonly sequenceId: number }
  /** A continuation piece did not carry the next sequence id; the decoder is now failed. */
  | { readonly kind: "outOfOrder"; readonly sequenceId: number };

export interface PacketDecoderOptions {
  /** Largest joined payload accepted, in bytes. */
  readonly payloadBytesMax: number;
}

const headerBytes = 4;

/** Splits a byte stream into logical MySQL packets. */
export class PacketDecoder {
  private payloadBytesMax: number;
  /** Received chunks not yet consumed; `head` is the read offset into the first. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private buffered = 0;
  /** Pieces of the logical packet in progress (all but its last). */
  private pieces: Uint8Array[] = [];
  private piecesBytes = 0;
  private firstSequenceId = 0;
  private previousSequenceId = 0;
  private failed: DecodeResult | undefined;

  constructor(options: PacketDecoderOptions) {
    this.payloadBytesMax = options.payloadBytesMax;
  }

  /** Changes the maximum, e.g. from the handshake bound to the session's after login. */
  setPayloadBytesMax(bytesMax: number): void {
    this.payloadBytesMax = bytesMax;
  }

  /** Bytes received and not yet returned as part of a packet. */
  get bufferedBytes(): number {
    return this.buffered + this.piecesBytes;
  }

  /** True when a packet has started but not finished arriving. */
  get inProgress(): boolean {
    return this.buffered > 0 || this.pieces.length > 0;
  }

  /**
   * Removes and returns the bytes received after the last whole packet, e.g. the start of
   * a TLS ClientHello that followed an SSLRequest, for whoever takes over the stream.
   */
  takeRemaining(): Uint8Array {
    const out = this.take(this.buffered);
    this.chunks = [];
    this.head = 0;
    return out;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.failed !== undefined) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next whole packet, or why there is none. */
  next(): DecodeResult {
    if (this.failed !== undefined) return this.failed;
    for (;;) {
      if (this.buffered < headerBytes) return { kind: "incomplete" };
      const header = this.peek(headerBytes);
      const length = (header[0] ?? 0) | ((header[1] ?? 0) << 8) | ((header[2] ?? 0) << 16);
      const sequenceId = header[3] ?? 0;
      if (this.pieces.length === 0) {
        this.firstSequenceId = sequenceId;
      } else if (sequenceId !== ((this.previousSequenceId + 1) & 0xff)) {
        return this.fail({ kind: "outOfOrder", sequenceId });
      }
      if (this.piecesBytes + length > this.payloadBytesMax) {
        return this.fail({ kind: "tooLarge", sequenceId: this.firstSequenceId });
      }
      if (this.buffered < headerBytes + length) return { kind: "incomplete" };
      this.consume(headerBytes);
      const piece = this.take(length);
      this.previousSequenceId = sequenceId;
      if (length === physicalPayloadBytesMax) {
        this.pieces.push(piece);
        this.piecesBytes += length;
        continue;
      }
      let payload = piece;
      if (this.pieces.length > 0) {
        this.pieces.push(piece);
        payload = concat(this.pieces, this.piecesBytes + length);
        this.pieces = [];
        this.piecesBytes = 0;
      }
      return {
        kind: "packet",
        packet: { sequenceId: this.firstSequenceId, lastSequenceId: sequenceId, payload },
      };
    }
  }

  private fail(result: DecodeResult): DecodeResult {
    this.failed = result;
    this.chunks = [];
    this.pieces = [];
    this.buffered = 0;
    this.piecesBytes = 0;
    this.head = 0;
    return result;
  }

  /** A copy of the first `length` buffered bytes, not consumed. */
  private peek(length: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= length) {
      return first.subarray(this.head, this.head + length);
    }
    const out = new Uint8Array(length);
    let filled = 0;
    let offset = this.head;
    for (const chunk of this.chunks) {
      const n = Math.min(length - filled, chunk.length - offset);
      out.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset = 0;
      if (filled === length) break;
    }
    return out;
  }

  private consume(length: number): void {
    this.take(length);
  }

  /** Removes and returns the first `length` buffered bytes (a view when contiguous). */
  private take(length: number): Uint8Array {
    this.buffered -= length;
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= length) {
      const out = first.subarray(this.head, this.head + length);
      this.head += length;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0];
      if (chunk === undefined) break;
      const n = Math.min(length - filled, chunk.length - this.head);
      out.set(chunk.subarray(this.head, this.head + n), filled);
      filled += n;
      this.head += n;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The physical packets carrying `payload`, starting at `sequenceId`, each with its header;
 * `nextSequenceId` is the id the following packet must carry.
 */
export function framePacket(
  payload: Uint8Array,
  sequenceId: number,
): { readonly frames: Uint8Array[]; readonly nextSequenceId: number } {
  const frames: Uint8Array[] = [];
  let sequence = sequenceId & 0xff;
  let offset = 0;
  for (;;) {
    const length = Math.min(physicalPayloadBytesMax, payload.length - offset);
    const frame = new Uint8Array(headerBytes + length);
    frame[0] = length & 0xff;
    frame[1] = (length >>> 8) & 0xff;
    frame[2] = (length >>> 16) & 0xff;
    frame[3] = sequence;
    frame.set(payload.subarray(offset, offset + length), headerBytes);
    frames.push(frame);
    sequence = (sequence + 1) & 0xff;
    offset += length;
    if (length < physicalPayloadBytesMax) break;
  }
  return { frames, nextSequenceId: sequence };
}
