/**
 * Unit tests for `FrameDecoder`: frames come out whole and in order however the byte
 * stream is chunked, contiguous bodies are views rather than copies, and an oversized
 * length fails the decoder as soon as the length prefix is in.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { FrameDecoder, type FrameStep } from "./frame_decoder.ts";

const timeout = 10_000;

/** A frame: 4-byte big-endian length, then the body. */
function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Pushes `chunks` one by one and drains every complete frame after each. */
function decodeAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): FrameStep[] {
  const steps: FrameStep[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (;;) {
      const step = decoder.next();
      if (step.kind === "needMore") break;
      steps.push(step);
      if (step.kind === "tooLarge") return steps;
    }
  }
  return steps;
}

function bodies(steps: readonly FrameStep[]): number[][] {
  return steps.map((step) => {
    assert.equal(step.kind, "frame");
    return Array.from(step.kind === "frame" ? step.body : []);
  });
}

const sampleBodies = [
  new Uint8Array([1, 2, 3]),
  new Uint8Array(0),
  new Uint8Array([9]),
  Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  new Uint8Array([0, 0, 0, 0]),
];
const sampleStream = concat(sampleBodies.map(frame));
const expectedBodies = sampleBodies.map((body) => Array.from(body));

describe("FrameDecoder", () => {
  it("returns a frame inside one chunk as a view of that chunk", { timeout }, () => {
    const decoder = new FrameDecoder({ frameBytesMax: 1024 });
    const chunk = frame(new Uint8Array([7, 8, 9]));
    decoder.push(chunk);
    const step = decoder.next();
    assert.equal(step.kind, "frame");
    assert.ok(step.kind === "frame" && step.body.buffer === chunk.buffer);
    assert.deepEqual(decoder.next(), { kind: "needMore" });
    assert.equal(decoder.bufferedBytes, 0);
  });

  it("yields the same frames when the stream is split at every boundary", { timeout }, () => {
    for (let split = 0; split <= sampleStream.length; split++) {
      const decoder = new FrameDecoder({ frameBytesMax: 1024 });
      const steps = decodeAll(decoder, [
        sampleStream.subarray(0, split),
        sampleStream.subarray(split),
      ]);
      assert.deepEqual(bodies(steps), expectedBodies, `split at ${split}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });

  it("yields the same frames when split at every pair of boundaries", { timeout }, () => {
    const stream = concat(sampleBodies.slice(0, 3).map(frame));
    for (let first = 0; first <= stream.length; first++) {
      for (let second = first; second <= stream.length; second++) {
        const decoder = new FrameDecoder({ frameBytesMax: 1024 });
        const steps = decodeAll(decoder, [
          stream.subarray(0, first),
          stream.subarray(first, second),
          stream.subarray(second),
        ]);
        assert.deepEqual(bodies(steps), expectedBodies.slice(0, 3), `${first}/${second}`);
      }
    }
  });

  it("yields the same frames when fed one byte at a time", { timeout }, () => {
    const decoder = new FrameDecoder({ frameBytesMax: 1024 });
    const chunks = Array.from(sampleStream, (byte) => new Uint8Array([byte]));
    assert.deepEqual(bodies(decodeAll(decoder, chunks)), expectedBodies);
  });

  it("yields every frame for any chunking of any frames", { timeout }, () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }),
        fc.array(fc.nat({ max: 5000 }), { maxLength: 30 }),
        (frameBodies, cuts) => {
          const stream = concat(frameBodies.map(frame));
          const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: Uint8Array[] = [];
          let previous = 0;
          for (const point of [...points, stream.length]) {
            chunks.push(stream.subarray(previous, point));
            previous = point;
          }
          const decoder = new FrameDecoder({ frameBytesMax: 200 });
          const got = bodies(decodeAll(decoder, chunks));
          assert.deepEqual(
            got,
            frameBodies.map((body) => Array.from(body)),
          );
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
      { seed: 20240601, numRuns: 300 },
    );
  });

  it("accepts a body of exactly frameBytesMax", { timeout }, () => {
    const decoder = new FrameDecoder({ frameBytesMax: 16 });
    const steps = decodeAll(decoder, [frame(new Uint8Array(16))]);
    assert.equal(steps.length, 1);
    assert.equal(steps[0]?.kind, "frame");
  });

  it("reports a too-large length as soon as the prefix arrives, and stays failed", {
    timeout,
  }, () => {
    const decoder = new FrameDecoder({ frameBytesMax: 16 });
    decoder.push(new Uint8Array([0, 0]));
    assert.deepEqual(decoder.next(), { kind: "needMore" });
    decoder.push(new Uint8Array([0, 17]));
    assert.deepEqual(decoder.next(), { kind: "tooLarge", bodyBytes: 17 });
    decoder.push(frame(new Uint8Array([1])));
    assert.deepEqual(decoder.next(), { kind: "tooLarge", bodyBytes: 17 });
    assert.equal(decoder.bufferedBytes, 0);
  });

  it("reads lengths above 2^31 as unsigned", { timeout }, () => {
    const decoder = new FrameDecoder({ frameBytesMax: 1024 });
    decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    assert.deepEqual(decoder.next(), { kind: "tooLarge", bodyBytes: 0xffff_ffff });
  });

  it("keeps frames that follow a partial one in the same chunk", { timeout }, () => {
    const decoder = new FrameDecoder({ frameBytesMax: 1024 });
    const first = frame(new Uint8Array([1, 2, 3, 4, 5]));
    const second = frame(new Uint8Array([6]));
    const steps = decodeAll(decoder, [
      first.subarray(0, 6),
      concat([first.subarray(6), second]),
    ]);
    assert.deepEqual(bodies(steps), [[1, 2, 3, 4, 5], [6]]);
  });
});
