/**
 * Tests of the row value codec: every value kind round-trips under its column id (fixed
 * fields read at their offsets in the row), `decodeRowInto` puts each into its slot and
 * skips columns without one, and a row cut short or with bytes after its last column is
 * refused as corrupt.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Value } from "./value.ts";
import { decodeRow, decodeRowInto, encodeRow } from "./row_codec.ts";

const opts = { timeout: 30_000 };

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ kind: "int", value: v })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ({ kind: "uint", value: v })),
  fc.double({ noNaN: true }).map((v) => ({ kind: "double", value: v })),
  fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 30 }))
    .map(([unscaled, scale]) => ({ kind: "decimal", unscaled, scale })),
  fc.string({ unit: "grapheme", maxLength: 40 }).map((v) => ({ kind: "string", value: v })),
  fc.record({ year: fc.integer({ min: 0, max: 9999 }), month: fc.integer({ min: 0, max: 12 }),
    day: fc.integer({ min: 0, max: 31 }), hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }), second: fc.integer({ min: 0, max: 59 }),
    microsecond: fc.integer({ min: 0, max: 999_999 }) }).chain((d) => fc.integer({ min: 0,
    max: 6 }).map((fsp) => ({ kind: "datetime", fsp, value: { ...d } }))),
) as fc.Arbitrary<Value>;

test("rows of every value kind round-trip by column id", opts, () => {
  fc.assert(fc.property(fc.array(valueArb, { maxLength: 12 }), (values) => {
    const ids = values.map((_, i) => i * 37 + 1);
    const bytes = encodeRow(ids, values);
    const decoded = decodeRow(bytes);
    assert.deepEqual([...decoded.keys()], ids);
    assert.deepEqual([...decoded.values()], values);
    // A row inside a larger buffer (an engine value is often a view) decodes the same.
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    assert.deepEqual(decodeRow(padded.subarray(3, 3 + bytes.length)), decoded);
  }), { seed: 4242, numRuns: 300 });
});

test("a truncated row or one with trailing bytes is corrupt", opts, () => {
  fc.assert(fc.property(fc.array(valueArb, { minLength: 1, maxLength: 6 }), fc.nat(),
    (values, cut) => {
      const bytes = encodeRow(values.map((_, i) => i), values);
      const short = bytes.subarray(0, cut % bytes.length);
      assert.throws(() => decodeRow(short), /corrupt row/);
      assert.throws(() => decodeRow(Uint8Array.of(...bytes, 0)), /corrupt row/);
    }), { seed: 4243, numRuns: 200 });
});

test("decodeRowInto fills the slots of known columns and leaves the others", opts, () => {
  fc.assert(fc.property(fc.array(valueArb, { minLength: 1, maxLength: 8 }), fc.nat(),
    (values, seed) => {
      const ids = values.map((_, i) => i + 1);
      const bytes = encodeRow(ids, values);
      // Slots for some ids (others were dropped), in another order, and one id the row lacks.
      const known = ids.filter((id) => (seed >> (id % 16)) % 2 === 0);
      const slots = new Map([...known.reverse(), 99].map((id, slot) => [id, slot]));
      const out: (Value | undefined)[] = new Array(slots.size).fill(undefined);
      decodeRowInto(bytes, slots, out);
      const want = [...slots.keys()].map((id) => (id === 99 ? undefined : values[id - 1]));
      assert.deepEqual(out, want);
    }), { seed: 4244, numRuns: 200 });
});

test("64-bit integers round-trip on both sides of ±2^53", opts, () => {
  const ints = [0n, -1n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), -(2n ** 53n) - 1n,
    2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n, -(2n ** 32n) - 1n];
  const uints = [0n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 32n + 5n];
  const values: Value[] = [...ints.map((v) => ({ kind: "int", value: v }) as Value),
    ...uints.map((v) => ({ kind: "uint", value: v }) as Value)];
  const decoded = decodeRow(encodeRow(values.map((_, i) => i), values));
  assert.deepEqual([...decoded.values()], values);
});
