/**
 * Tests for DECIMAL parsing, normalization, formatting and comparison. The reference
 * model is a scaled bigint (`unscaled × 10^-scale`), independent of the string-digit
 * arithmetic in `decimal.ts`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ErrorCode, hasErrorCode } from "../base/mod.ts";
import {
  compareDecimals,
  decimalFromBigInt,
  decimalZero,
  formatDecimal,
  parseDecimal,
} from "./decimal.ts";
import { compareScaled, decimalPadding, scaledDecimal, scaledText } from "./test_support.ts";

const timeout = 60_000;

test("parseDecimal normalizes away leading and trailing zeros", { timeout }, () => {
  const cases: [string, string][] = [
    ["-12.3400", "-12.34"],
    ["1.0", "1"],
    ["01.000", "1"],
    ["0.0500", "0.05"],
    [".5", "0.5"],
    ["5.", "5"],
    ["+7", "7"],
    ["-0", "0"],
    ["-0.000", "0"],
    ["1e3", "1000"],
    ["1.5E-3", "0.0015"],
    ["12300", "12300"],
    ["0e999999999999", "0"],
    ["0.000000000000000000000000000001", "0.000000000000000000000000000001"],
  ];
  for (const [text, expected] of cases) {
    assert.equal(formatDecimal(parseDecimal(text)), expected, text);
  }
});

test("parseDecimal gives equal values one representation", { timeout }, () => {
  const groups = [
    ["1", "1.0", "1.00", "01.000", "+1", "1e0", "0.1e1"],
    ["0", "-0", "0.0", "-0.0", "000", ".0", "0e5"],
    ["-12.34", "-12.3400", "-0012.34", "-1234e-2"],
  ];
  for (const group of groups) {
    const first = parseDecimal(group[0]!);
    for (const text of group) assert.deepEqual(parseDecimal(text), first, text);
  }
  assert.deepEqual(parseDecimal("-0.0"), decimalZero);
});

test("parseDecimal rejects text that is not a decimal number", { timeout }, () => {
  const bad = ["", ".", "+", "-", "1e", "1e+", "abc", "1.2.3", " 1", "1 ", "--1", "0x10", "NaN"];
  for (const text of bad) {
    assert.throws(
      () => parseDecimal(text),
      (error) => hasErrorCode(error, ErrorCode.CodecDecimalSyntax),
      JSON.stringify(text),
    );
  }
});

test("parseDecimal rejects values beyond DECIMAL(65, 30)", { timeout }, () => {
  const tooBig = [
    "9".repeat(66),
    "1e65",
    "1e-31",
    `0.${"0".repeat(30)}1`,
    `${"9".repeat(36)}.${"9".repeat(30)}`,
    "1e999999999999",
    "1e-999999999999",
  ];
  for (const text of tooBig) {
    assert.throws(
      () => parseDecimal(text),
      (error) => hasErrorCode(error, ErrorCode.CodecOutOfRange),
      text,
    );
  }
  const fits = ["9".repeat(65), "1e64", "1e-30", `${"9".repeat(35)}.${"9".repeat(30)}`];
  for (const text of fits) assert.doesNotThrow(() => parseDecimal(text), text);
  // Redundant zeros do not count against the limits: the value is what is bounded.
  assert.equal(formatDecimal(parseDecimal(`1.${"0".repeat(40)}`)), "1");
});

test("decimalFromBigInt scales an unscaled integer", { timeout }, () => {
  assert.equal(formatDecimal(decimalFromBigInt(-1234n, { scale: 2 })), "-12.34");
  assert.equal(formatDecimal(decimalFromBigInt(1200n)), "1200");
  assert.equal(formatDecimal(decimalFromBigInt(5n, { scale: 30 })), `0.${"0".repeat(29)}5`);
  assert.deepEqual(decimalFromBigInt(0n, { scale: 7 }), decimalZero);
  assert.throws(
    () => decimalFromBigInt(1n, { scale: 31 }),
    (error) => hasErrorCode(error, ErrorCode.CodecOutOfRange),
  );
});

test("parseDecimal and formatDecimal agree with the scaled-bigint model", { timeout }, () => {
  fc.assert(
    fc.property(scaledDecimal, decimalPadding, (value, pad) => {
      const parsed = parseDecimal(scaledText(value, pad));
      assert.deepEqual(parsed, decimalFromBigInt(value.unscaled, { scale: value.scale }));
      // Formatting gives the shortest text of the same value, which parses back to it.
      const canonical = formatDecimal(parsed);
      assert.deepEqual(parseDecimal(canonical), parsed);
      assert.ok(canonical.length <= scaledText(value, { leading: 0, trailing: 0 }).length);
    }),
    { seed: 42, numRuns: 500 },
  );
});

test("compareDecimals orders decimals as numbers", { timeout }, () => {
  fc.assert(
    fc.property(scaledDecimal, scaledDecimal, decimalPadding, (a, b, pad) => {
      const actual = compareDecimals(
        parseDecimal(scaledText(a, pad)),
        parseDecimal(scaledText(b, { leading: 0, trailing: 0 })),
      );
      assert.equal(Math.sign(actual), compareScaled(a, b));
    }),
    { seed: 42, numRuns: 500 },
  );
});

