/**
 * Unit tests for the wire messages: frames carry a correct length prefix, bigints (TSO
 * timestamps) round-trip exactly while numbers stay numbers, every malformed shape is
 * refused with a reason, and remote error codes map back onto `TesseraError`s.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { ErrorCode, TesseraError, hasErrorCode, maxTimestamp } from "../base/mod.ts";
import {
  type ErrorMessage,
  MessageKind,
  type RpcMessage,
  decodeMessage,
  decodeValue,
  encodeFrame,
  encodeValue,
  errorMessage,
  remoteError,
} from "./messages.ts";

const timeout = 10_000;
const encodeOptions = { frameBytesMax: 1024 * 1024 };

/** Encodes `message` as a frame and decodes its body again. */
function roundTrip(message: RpcMessage): RpcMessage | string {
  const frame = encodeFrame(message, encodeOptions);
  const length = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
  assert.equal(length, frame.length - 4);
  return decodeMessage(frame.subarray(4));
}

describe("RPC messages", () => {
  it("round-trip bigints exactly, including the full unsigned 64-bit range", { timeout }, () => {
    const values = [
      0n,
      1n,
      -1n,
      2n ** 53n + 1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 63n,
      maxTimestamp,
      2n ** 100n + 7n,
      -(2n ** 90n),
    ];
    const decoded = roundTrip([MessageKind.reply, 1, { values, ts: maxTimestamp }]);
    assert.ok(typeof decoded !== "string");
    assert.deepEqual(decoded, [MessageKind.reply, 1, { values, ts: maxTimestamp }]);
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (value) => {
        assert.equal(decodeValue(encodeValue(value)), value);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it("keep numbers as numbers, large or fractional", { timeout }, () => {
    const numbers = [0, 1, -1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53), 1.5, Number.MAX_VALUE];
    const decoded = decodeValue(encodeValue(numbers));
    assert.deepEqual(decoded, numbers);
  });

  it("carry byte arrays as byte arrays", { timeout }, () => {
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const decoded = decodeValue(encodeValue({ key: bytes }));
    assert.ok(typeof decoded === "object" && decoded !== null && "key" in decoded);
    assert.ok(decoded.key instanceof Uint8Array);
    assert.deepEqual(Array.from(decoded.key), [0, 1, 254, 255]);
  });

  it("round-trip every message kind", { timeout }, () => {
    const messages: RpcMessage[] = [
      [MessageKind.request, 1, "Echo", { a: 1 }, 20_000],
      [MessageKind.reply, 2, null],
      [MessageKind.error, 3, ErrorCode.RpcRemoteError, "boom", true, { key: "k" }],
      [MessageKind.open, 4, "Watch", "x", 0, 1, 64],
      [MessageKind.data, 5, [1, 2, 3]],
      [MessageKind.credit, 6, 32],
      [MessageKind.end, 7],
      [MessageKind.accept, 8, 64],
    ];
    for (const message of messages) assert.deepEqual(roundTrip(message), message);
  });

  it("refuse to encode a body over frameBytesMax with RPC:Frame:TooLarge", { timeout }, () => {
    assert.throws(
      () => encodeFrame([MessageKind.reply, 1, new Uint8Array(2000)], { frameBytesMax: 1000 }),
      (error) => hasErrorCode(error, ErrorCode.RpcFrameTooLarge),
    );
  });

  it("refuse malformed bodies with a reason", { timeout }, () => {
    const cases: [string, unknown][] = [
      ["not an array", { kind: 0 }],
      ["negative id", [MessageKind.reply, -1, null]],
      ["fractional id", [MessageKind.reply, 1.5, null]],
      ["string id", [MessageKind.reply, "1", null]],
      ["unknown kind", [99, 1]],
      ["short request", [MessageKind.request, 1, "Echo", null]],
      ["request method not a string", [MessageKind.request, 1, 5, null, 0]],
      ["negative deadline", [MessageKind.request, 1, "Echo", null, -1]],
      ["reply with extra element", [MessageKind.reply, 1, null, null]],
      ["error code not a string", [MessageKind.error, 1, 5, "m", false, {}]],
      ["error ambiguity not a boolean", [MessageKind.error, 1, "c", "m", 0, {}]],
      ["error details not a map", [MessageKind.error, 1, "c", "m", false, []]],
      ["open with unknown stream kind", [MessageKind.open, 1, "W", null, 0, 2, 64]],
      ["open with zero window", [MessageKind.open, 1, "W", null, 0, 1, 0]],
      ["credit of zero", [MessageKind.credit, 1, 0]],
      ["credit not an integer", [MessageKind.credit, 1, 1.5]],
      ["end with body", [MessageKind.end, 1, null]],
      ["accept with negative window", [MessageKind.accept, 1, -3]],
    ];
    for (const [name, value] of cases) {
      const result = decodeMessage(encodeValue(value));
      assert.equal(typeof result, "string", name);
    }
    assert.equal(typeof decodeMessage(new Uint8Array([0xc1])), "string");
    assert.equal(typeof decodeMessage(new Uint8Array([0x92, 1])), "string");
    assert.equal(typeof decodeMessage(new Uint8Array(0)), "string");
    const trailing = new Uint8Array([...encodeValue([MessageKind.end, 1]), 0]);
    assert.equal(typeof decodeMessage(trailing), "string");
  });

  it("map a remote error back onto its code, ambiguity and details", { timeout }, () => {
    const original = new TesseraError(ErrorCode.RpcStreamCancelled, "gone", {
      ambiguous: true,
      details: { at: 5n },
    });
    const message = roundTrip(errorMessage(9, original));
    assert.ok(typeof message !== "string" && message[0] === MessageKind.error);
    const error = remoteError(message);
    assert.equal(error.code, ErrorCode.RpcStreamCancelled);
    assert.equal(error.message, "gone");
    assert.equal(error.ambiguous, true);
    assert.deepEqual(error.details, { at: 5n });
  });

  it("map an unknown remote code to RPC:Call:RemoteError, keeping the code", { timeout }, () => {
    const message: ErrorMessage = [MessageKind.error, 1, "Future:Thing", "new", false, {}];
    const error = remoteError(message);
    assert.equal(error.code, ErrorCode.RpcRemoteError);
    assert.equal(error.details["remoteCode"], "Future:Thing");
  });
});
