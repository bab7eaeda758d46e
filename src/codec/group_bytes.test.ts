/**
 * Tests for the group byte encoding: round trips at any offset, and `decodeGroupBytes`
 * (a direct loop) agreeing with the reader-based `readGroupBytes` on every input, valid,
 * truncated or corrupt — same value and end, or the same `Codec:Corrupt` error.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ByteReader } from "./bytes.ts";
import { decodeGroupBytes, encodeGroupBytes, readGroupBytes } from "./group_bytes.ts";
import { propertyRuns } from "./test_support.ts";

const timeout = 60_000;

function outcome(run: () => { value: Uint8Array; next: number }): unknown {
  try {
    const { value, next } = run();
    return { value: [...value], next };
  } catch (error: unknown) {
    return { error: String(error) };
  }
}

test("decodeGroupBytes reverses encodeGroupBytes at any offset", { timeout }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 5 }),
      fc.uint8Array({ maxLength: 5 }), (value, before, after) => {
        const encoded = encodeGroupBytes(value);
        const data = Uint8Array.from([...before, ...encoded, ...after]);
        assert.deepEqual(decodeGroupBytes(data, before.length),
          { value, next: before.length + encoded.length });
      }),
    propertyRuns,
  );
});

test("decodeGroupBytes agrees with readGroupBytes on any bytes", { timeout }, () => {
  // Mostly near-valid input: an encoding with a byte changed, cut short, or random bytes.
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 30 }),
    fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([v, at, byte]) => {
        const e = encodeGroupBytes(v);
        e[at % e.length] = byte;
        return e;
      }),
    fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.nat())
      .map(([v, cut]) => {
        const e = encodeGroupBytes(v);
        return e.subarray(0, cut % (e.length + 1));
      }),
  );
  fc.assert(
    fc.property(input, (data) => {
      const expected = outcome(() => {
        const reader = new ByteReader(data, 0);
        const value = readGroupBytes(reader);
        return { value, next: reader.offset };
      });
      assert.deepEqual(outcome(() => decodeGroupBytes(data, 0)), expected);
    }),
    propertyRuns,
  );
});
