/**
 * Unit tests of MySQL packet framing: `framePacket` splits at 16 MiB - 1, and
 * `PacketDecoder` reassembles any chunking of the byte stream — every split point of a
 * stream of several packets — enforces its size bound before buffering, and reports
 * out-of-order continuation pieces.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { physicalPayloadBytesMax } from "./constants.ts";
import { PacketDecoder, type Packet, framePacket } from "./packet.ts";

const opts = { timeout: 30_000 };

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function drain(decoder: PacketDecoder): Packet[] {
  const out: Packet[] = [];
  for (;;) {
    const result = decoder.next();
    if (result.kind !== "packet") {
      assert.equal(result.kind, "incomplete");
      return out;
    }
    out.push(result.packet);
  }
}

function payloadOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

test("framePacket() writes a 3-byte length and the sequence id", opts, () => {
  const { frames, nextSequenceId } = framePacket(new Uint8Array([1, 2, 3]), 7);
  assert.deepEqual(frames.map((f) => [...f]), [[3, 0, 0, 7, 1, 2, 3]]);
  assert.equal(nextSequenceId, 8);
});

test("framePacket() wraps the sequence id at 256", opts, () => {
  assert.equal(framePacket(new Uint8Array(0), 255).nextSequenceId, 0);
});

test("framePacket() splits a payload of exactly 16 MiB - 1 with an empty trailer", opts, () => {
  const { frames, nextSequenceId } = framePacket(new Uint8Array(physicalPayloadBytesMax), 0);
  assert.deepEqual(frames.map((f) => f.length), [physicalPayloadBytesMax + 4, 4]);
  assert.deepEqual([...(frames[1] ?? [])], [0, 0, 0, 1]);
  assert.equal(nextSequenceId, 2);
});

test("the decoder joins a split payload larger than 16 MiB", opts, () => {
  const payload = payloadOf(physicalPayloadBytesMax * 2 + 10, 3);
  const { frames } = framePacket(payload, 5);
  assert.equal(frames.length, 3);
  const decoder = new PacketDecoder({ payloadBytesMax: 64 * 1024 * 1024 });
  for (const frame of frames) decoder.push(frame);
  const [packet] = drain(decoder);
  assert.ok(packet !== undefined);
  assert.equal(packet.sequenceId, 5);
  assert.equal(packet.lastSequenceId, 7);
  assert.equal(packet.payload.length, payload.length);
  assert.deepEqual(packet.payload.subarray(-100), payload.subarray(-100));
  assert.equal(decoder.bufferedBytes, 0);
});

test("the decoder yields the same packets for a stream split at every boundary", opts, () => {
  const payloads = [payloadOf(0, 1), payloadOf(1, 2), payloadOf(250, 3), payloadOf(7, 4)];
  const stream = concat(payloads.map((p, i) => concat(framePacket(p, i).frames)));
  for (let cut = 0; cut <= stream.length; cut++) {
    for (const second of [cut, Math.min(stream.length, cut + 3)]) {
      const decoder = new PacketDecoder({ payloadBytesMax: 1024 });
      const got: Packet[] = [];
      decoder.push(stream.subarray(0, cut));
      got.push(...drain(decoder));
      decoder.push(stream.subarray(cut, second));
      got.push(...drain(decoder));
      decoder.push(stream.subarray(second));
      got.push(...drain(decoder));
      assert.deepEqual(got.map((p) => [p.sequenceId, [...p.payload]]),
        payloads.map((p, i) => [i, [...p]]), `cut at ${cut}/${second}`);
    }
  }
});

test("the decoder yields the same packets when fed one byte at a time", opts, () => {
  const payload = payloadOf(300, 9);
  const stream = concat(framePacket(payload, 0).frames);
  const decoder = new PacketDecoder({ payloadBytesMax: 1024 });
  const got: Packet[] = [];
  for (let i = 0; i < stream.length; i++) {
    decoder.push(stream.subarray(i, i + 1));
    got.push(...drain(decoder));
    assert.equal(decoder.inProgress, i < stream.length - 1);
  }
  assert.deepEqual(got.map((p) => [...p.payload]), [[...payload]]);
});

test("the decoder refuses a packet over its bound from the header alone", opts, () => {
  const decoder = new PacketDecoder({ payloadBytesMax: 100 });
  decoder.push(new Uint8Array([101, 0, 0, 0]));
  assert.deepEqual(decoder.next(), { kind: "tooLarge", sequenceId: 0 });
  decoder.push(new Uint8Array([1, 0, 0, 1, 9]));
  assert.equal(decoder.next().kind, "tooLarge", "a failed decoder stays failed");
  assert.equal(decoder.bufferedBytes, 0);
});

test("the decoder counts every piece of a split packet against its bound", opts, () => {
  const decoder = new PacketDecoder({ payloadBytesMax: physicalPayloadBytesMax + 5 });
  const { frames } = framePacket(payloadOf(physicalPayloadBytesMax + 6, 1), 0);
  for (const frame of frames) decoder.push(frame);
  assert.equal(decoder.next().kind, "tooLarge");
});

test("the decoder reports a continuation piece with the wrong sequence id", opts, () => {
  const decoder = new PacketDecoder({ payloadBytesMax: 64 * 1024 * 1024 });
  const { frames } = framePacket(payloadOf(physicalPayloadBytesMax + 1, 1), 0);
  const second = frames[1];
  assert.ok(second !== undefined);
  second[3] = 9;
  for (const frame of frames) decoder.push(frame);
  assert.deepEqual(decoder.next(), { kind: "outOfOrder", sequenceId: 9 });
});

test("setPayloadBytesMax() raises the bound after the handshake", opts, () => {
  const decoder = new PacketDecoder({ payloadBytesMax: 10 });
  decoder.setPayloadBytesMax(20);
  decoder.push(concat(framePacket(payloadOf(20, 1), 0).frames));
  assert.equal(drain(decoder).length, 1);
});

test("takeRemaining() hands over the bytes after the last whole packet", opts, () => {
  const decoder = new PacketDecoder({ payloadBytesMax: 1024 });
  decoder.push(concat([...framePacket(payloadOf(32, 1), 1).frames, new Uint8Array([0x16, 3])]));
  assert.equal(drain(decoder).length, 1);
  assert.deepEqual([...decoder.takeRemaining()], [0x16, 3]);
  assert.equal(decoder.bufferedBytes, 0);
  assert.equal(decoder.inProgress, false);
});
