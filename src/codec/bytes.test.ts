/**
 * Tests for the byte helpers: `compareBytes` against the reference comparison, and
 * `prefixNext` as the exclusive end of a prefix scan.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { compareBytes, prefixNext } from "./bytes.ts";
import { bytewise, propertyRuns } from "./test_support.ts";

const timeout = 60_000;

test("compareBytes compares unsigned bytes, a prefix first", { timeout }, () => {
  const cases: [number[], number[], number][] = [
    [[], [], 0],
    [[], [0], -1],
    [[1], [0xff], -1],
    [[0xff], [1], 1],
    [[1, 2], [1, 2], 0],
    [[1, 2], [1, 2, 0], -1],
    [[1, 3], [1, 2, 9], 1],
  ];
  for (const [a, b, expected] of cases) {
    const order = Math.sign(compareBytes(Uint8Array.from(a), Uint8Array.from(b)));
    assert.equal(order, expected, `${a} vs ${b}`);
  }
});

test("compareBytes agrees with the reference comparison", { timeout }, () => {
  const small = fc.uint8Array({ maxLength: 6, min: 0, max: 3 });
  fc.assert(
    fc.property(small, small, (a, b) => {
      assert.equal(Math.sign(compareBytes(a, b)), bytewise(a, b));
    }),
    propertyRuns,
  );
});

test("prefixNext increments the last byte that is not 0xff", { timeout }, () => {
  const cases: [number[], number[]][] = [
    [[1, 2], [1, 3]],
    [[1, 0xff], [2]],
    [[0x74, 0xff, 0xff], [0x75]],
    [[0xff, 0xff], []],
    [[], []],
  ];
  for (const [prefix, expected] of cases) {
    assert.deepEqual(prefixNext(Uint8Array.from(prefix)), Uint8Array.from(expected), `${prefix}`);
  }
});

test("prefixNext sorts after every key with the prefix and before the rest", { timeout }, () => {
  const bytes = fc.uint8Array({ maxLength: 5 });
  const edgy = fc.uint8Array({ maxLength: 5, min: 0xfd, max: 0xff });
  fc.assert(
    fc.property(fc.oneof(bytes, edgy), bytes, fc.oneof(bytes, edgy), (prefix, suffix, other) => {
      const end = prefixNext(prefix);
      const key = Uint8Array.from([...prefix, ...suffix]);
      if (end.length > 0) assert.equal(bytewise(key, end), -1);
      const hasPrefix = bytewise(other.subarray(0, prefix.length), prefix) === 0;
      const belowEnd = end.length === 0 || bytewise(other, end) < 0;
      const inRange = bytewise(prefix, other) <= 0 && belowEnd;
      assert.equal(inRange, hasPrefix);
    }),
    propertyRuns,
  );
});
