/**
 * The RPC wire messages and their encoding.
 *
 * Every frame body is one msgpack array whose first element is the message kind and whose
 * second is the call id; arrays rather than maps keep frames small and decoding cheap. The
 * client picks ids (never reusing one on a connection), so one connection multiplexes any
 * number of unary calls and streams. Bodies are any msgpack value: bigints round-trip
 * exactly as 64-bit integers (TSO timestamps), and larger ones through an extension;
 * numbers stay numbers; byte arrays decode as `Uint8Array`s that view the frame.
 *
 * | kind | shape | sent by |
 * | --- | --- | --- |
 * | request | `[0, id, method, body, deadlineMs]` | client: a unary call |
 * | reply | `[1, id, body]` | server: a unary call's result |
 * | error | `[2, id, code, message, ambiguous, details]` | either: ends a call or stream |
 * | open | `[3, id, method, body, deadlineMs, streamKind, windowMessages]` | client |
 * | data | `[4, id, body]` | either: one stream message |
 * | credit | `[5, id, messages]` | either: the receiver consumed `messages` more |
 * | end | `[6, id]` | either: sender is done (from the server: the call is done) |
 * | accept | `[7, id, windowMessages]` | server: opens its receiving side of a bidi stream |
 *
 * `deadlineMs` is the time the caller has left when sending (0: none), relative because
 * the two processes' monotonic clocks share no origin. `windowMessages` is how many
 * unacknowledged data messages the announcing side will buffer.
 *
 * `decodeMessage` is the only place untrusted bytes become values: it returns a reason
 * string for anything that is not exactly one well-formed message.
 */
import { Packr, RESERVE_START_SPACE } from "msgpackr";

import { ErrorCode, TesseraError, describeError } from "../base/mod.ts";
import { frameHeaderBytes } from "./frame_decoder.ts";

/** Message kinds, the first element of every message. */
export const MessageKind = {
  request: 0,
  reply: 1,
  error: 2,
  open: 3,
  data: 4,
  credit: 5,
  end: 6,
  accept: 7,
} as const;

/** Which way a stream's data flows, carried in `open`. */
export const StreamKind = {
  /** The client sends the opening body; the server sends many messages. */
  server: 0,
  /** Both sides send many messages. */
  bidi: 1,
} as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

export type RequestMessage = readonly [
  kind: typeof MessageKind.request,
  id: number,
  method: string,
  body: unknown,
  deadlineMs: number,
];
export type ReplyMessage = readonly [kind: typeof MessageKind.reply, id: number, body: unknown];
export type ErrorMessage = readonly [
  kind: typeof MessageKind.error,
  id: number,
  code: string,
  message: string,
  ambiguous: boolean,
  details: Readonly<Record<string, unknown>>,
];
export type OpenMessage = readonly [
  kind: typeof MessageKind.open,
  id: number,
  method: string,
  body: unknown,
  deadlineMs: number,
  streamKind: StreamKind,
  windowMessages: number,
];
export type DataMessage = readonly [kind: typeof MessageKind.data, id: number, body: unknown];
export type CreditMessage = readonly [
  kind: typeof MessageKind.credit,
  id: number,
  messages: number,
];
export type EndMessage = readonly [kind: typeof MessageKind.end, id: number];
export type AcceptMessage = readonly [
  kind: typeof MessageKind.accept,
  id: number,
  windowMessages: number,
];

/** Any message on the wire. */
export type RpcMessage =
  | RequestMessage
  | ReplyMessage
  | ErrorMessage
  | OpenMessage
  | DataMessage
  | CreditMessage
  | EndMessage
  | AcceptMessage;

/** Messages about a stream, as routed to its `RpcStream`. */
export type StreamMessage = ErrorMessage | DataMessage | CreditMessage | EndMessage | AcceptMessage;

/**
 * The one encoder/decoder. `useRecords: false` keeps msgpackr's record extension (shared
 * structures between frames) off: every frame decodes on its own. Bigints within 64 bits
 * use msgpack int64/uint64 and decode as bigints; larger ones use msgpackr's bigint
 * extension rather than losing precision as floats.
 */
const packr = new Packr({
  useRecords: false,
  int64AsType: "bigint",
  largeBigIntToFloat: false,
  useBigIntExtension: true,
});

/** Frame bodies longer than this are refused when encoding. */
export interface EncodeOptions {
  readonly frameBytesMax: number;
}

/**
 * Encodes one message as a complete frame (length prefix included). Throws a
 * `TesseraError`: `RPC:Frame:TooLarge` past `frameBytesMax`, `RPC:Frame:Malformed` for a
 * value msgpack cannot carry.
 */
export function encodeFrame(message: RpcMessage, options: EncodeOptions): Uint8Array {
  let frame: Uint8Array;
  try {
    // Reserving the header space lets msgpackr write the body right after it: no copy.
    frame = packr.pack(message, RESERVE_START_SPACE | frameHeaderBytes);
  } catch (error) {
    throw new TesseraError(
      ErrorCode.RpcFrameMalformed,
      `cannot encode RPC message: ${describeError(error)}`,
      { cause: error },
    );
  }
  const bodyBytes = frame.length - frameHeaderBytes;
  if (bodyBytes > options.frameBytesMax) {
    throw new TesseraError(
      ErrorCode.RpcFrameTooLarge,
      `RPC message of ${bodyBytes} bytes exceeds the frame limit of ${options.frameBytesMax}`,
      { details: { bodyBytes, frameBytesMax: options.frameBytesMax } },
    );
  }
  frame[0] = bodyBytes >>> 24;
  frame[1] = (bodyBytes >>> 16) & 0xff;
  frame[2] = (bodyBytes >>> 8) & 0xff;
  frame[3] = bodyBytes & 0xff;
  return frame;
}

/** Encodes a bare value (no frame); for tests of the value encoding. */
export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes a bare value encoded by `encodeValue`. */
export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function isDeadline(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** Decodes one frame body into a message, or returns why it is not one. */
export function decodeMessage(body: Uint8Array): RpcMessage | string {
  let value: unknown;
  try {
    value = packr.unpack(body);
  } catch (error) {
    return `undecodable msgpack: ${describeError(error)}`;
  }
  if (!Array.isArray(value)) return "message is not an array";
  const m: unknown[] = value;
  if (!isId(m[1])) return "message id is not a non-negative integer";
  switch (m[0]) {
    case MessageKind.request:
      if (m.length !== 5) return "request must have 5 elements";
      if (typeof m[2] !== "string") return "request method is not a string";
      if (!isDeadline(m[4])) return "request deadline is not a non-negative number";
      return value as unknown as RequestMessage;
    case MessageKind.reply:
      if (m.length !== 3) return "reply must have 3 elements";
      return value as unknown as ReplyMessage;
    case MessageKind.error:
      if (m.length !== 6) return "error must have 6 elements";
      if (typeof m[2] !== "string" || typeof m[3] !== "string") {
        return "error code and message must be strings";
      }
      if (typeof m[4] !== "boolean") return "error ambiguity is not a boolean";
      if (typeof m[5] !== "object" || m[5] === null || Array.isArray(m[5])) {
        return "error details are not a map";
      }
      return value as unknown as ErrorMessage;
    case MessageKind.open:
      if (m.length !== 7) return "open must have 7 elements";
      if (typeof m[2] !== "string") return "open method is not a string";
      if (!isDeadline(m[4])) return "open deadline is not a non-negative number";
      if (m[5] !== StreamKind.server && m[5] !== StreamKind.bidi) return "unknown stream kind";
      if (!isCount(m[6])) return "open window is not a positive integer";
      return value as unknown as OpenMessage;
    case MessageKind.data:
      if (m.length !== 3) return "data must have 3 elements";
      return value as unknown as DataMessage;
    case MessageKind.credit:
      if (m.length !== 3) return "credit must have 3 elements";
      if (!isCount(m[2])) return "credit is not a positive integer";
      return value as unknown as CreditMessage;
    case MessageKind.end:
      if (m.length !== 2) return "end must have 2 elements";
      return value as unknown as EndMessage;
    case MessageKind.accept:
      if (m.length !== 3) return "accept must have 3 elements";
      if (!isCount(m[2])) return "accept window is not a positive integer";
      return value as unknown as AcceptMessage;
    default:
      return `unknown message kind ${String(m[0])}`;
  }
}

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The error message that carries `error` to the peer for call or stream `id`. */
export function errorMessage(id: number, error: TesseraError): ErrorMessage {
  return [MessageKind.error, id, error.code, error.message, error.ambiguous, error.details];
}

/**
 * The error a peer reported, as a `TesseraError` with its code, ambiguity and details.
 * Codes this build does not know (a newer peer) become `RPC:Call:RemoteError` with the
 * original code in `details.remoteCode`.
 */
export function remoteError(message: ErrorMessage): TesseraError {
  const [, , code, text, ambiguous, details] = message;
  if (knownCodes.has(code)) {
    return new TesseraError(code as ErrorCode, text, { ambiguous, details });
  }
  return new TesseraError(ErrorCode.RpcRemoteError, text, {
    ambiguous,
    details: { ...details, remoteCode: code },
  });
}
