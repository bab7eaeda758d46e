/**
 * Tests of result formatting, sorting and hashing against what SQLite's reference runner
 * prints: integer coercion, `%.3f` with glibc's rounding, the printable-character rule,
 * NULL and empty strings, strcmp ordering, and the MD5 of value lines. Expected reals and
 * hashes were computed with C-compatible tools (Python's `%` formatting, hashlib).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatCell,
  formatInteger,
  formatReal,
  formatText,
  hashValues,
  resultLines,
  sortValues,
  toDouble,
} from "./result_format.ts";

const opts = { timeout: 5_000 };

test("formatCell() prints NULL as NULL whatever the column type", opts, () => {
  assert.equal(formatCell(null, "I"), "NULL");
  assert.equal(formatCell(null, "R"), "NULL");
  assert.equal(formatCell(null, "T"), "NULL");
});

test("formatInteger() prints integer text canonically and clamps to 64 bits", opts, () => {
  assert.equal(formatInteger("123"), "123");
  assert.equal(formatInteger("-0"), "0");
  assert.equal(formatInteger("+7"), "7");
  assert.equal(formatInteger("007"), "7");
  assert.equal(formatInteger("9223372036854775807"), "9223372036854775807");
  assert.equal(formatInteger("99999999999999999999"), "9223372036854775807");
  assert.equal(formatInteger("-99999999999999999999"), "-9223372036854775808");
});

test("formatInteger() truncates decimal and float text toward zero", opts, () => {
  assert.equal(formatInteger("12.9000"), "12");
  assert.equal(formatInteger("-12.9000"), "-12");
  assert.equal(formatInteger("-0.5000"), "0");
  assert.equal(formatInteger(".5"), "0");
  assert.equal(formatInteger("1e3"), "1000");
  assert.equal(formatInteger("-2.5e1"), "-25");
  assert.equal(formatInteger("12345678901234567890.5"), "9223372036854775807");
  assert.equal(formatInteger("1234567890123456789.99"), "1234567890123456789");
});

test("formatInteger() reads the numeric prefix of text, or 0", opts, () => {
  assert.equal(formatInteger("12abc"), "12");
  assert.equal(formatInteger("abc"), "0");
  assert.equal(formatInteger(""), "0");
  assert.equal(formatInteger(" 42"), "42");
});

test("formatReal() prints %.3f with glibc's correct rounding", opts, () => {
  const cases: [number, string][] = [
    [0, "0.000"],
    [5, "5.000"],
    [1.0005, "1.000"], // binary value just below the tie
    [0.0005, "0.001"], // binary value just above the tie
    [1234.5675, "1234.568"],
    [-3.14159, "-3.142"],
    [1e22, "10000000000000000000000.000"],
  ];
  for (const [x, want] of cases) assert.equal(formatReal(x), want, String(x));
});

test("formatReal() rounds exact ties half to even, as printf does", opts, () => {
  assert.equal(formatReal(0.0625), "0.062");
  assert.equal(formatReal(0.1875), "0.188");
  assert.equal(formatReal(0.3125), "0.312");
  assert.equal(formatReal(-0.0625), "-0.062");
  assert.equal(formatReal(123456789.0625), "123456789.062");
});

test("formatReal() keeps the sign of negative zero and of values rounding to zero", opts, () => {
  assert.equal(formatReal(-0), "-0.000");
  assert.equal(formatReal(-0.0001), "-0.000");
});

test("formatCell() prints R columns from integer, decimal and text values", opts, () => {
  assert.equal(formatCell("7", "R"), "7.000");
  assert.equal(formatCell("-12.34567", "R"), "-12.346");
  assert.equal(formatCell("abc", "R"), "0.000");
  assert.equal(toDouble("3.5xyz"), 3.5);
});

test("formatText() prints (empty) and replaces non-printable bytes with @", opts, () => {
  assert.equal(formatText(""), "(empty)");
  assert.equal(formatText("a b~"), "a b~");
  assert.equal(formatText("a\tb\n"), "a@b@");
  // "é" in UTF-8 is two bytes; cells are byte strings, so it prints as two @.
  assert.equal(formatText("\u00c3\u00a9"), "@@");
  assert.equal(formatText("\u007f"), "@");
});

test("formatCell() prints T columns of numbers as the server's text", opts, () => {
  assert.equal(formatCell("1.50", "T"), "1.50");
  assert.equal(formatCell("NULL", "T"), "NULL");
});

test("sortValues() keeps order for nosort and compares rows column by column", opts, () => {
  const rows = [
    ["9", "b"],
    ["10", "a"],
    ["10", "Z"],
  ];
  assert.deepEqual(sortValues(rows, "nosort"), ["9", "b", "10", "a", "10", "Z"]);
  // strcmp order: "10" < "9", and "Z" < "a".
  assert.deepEqual(sortValues(rows, "rowsort"), ["10", "Z", "10", "a", "9", "b"]);
  assert.deepEqual(sortValues(rows, "valuesort"), ["10", "10", "9", "Z", "a", "b"]);
});

test("sortValues() rowsort puts NULL and (empty) where strcmp does", opts, () => {
  const rows = [["a"], ["NULL"], ["(empty)"], ["-1"], ["1"]];
  assert.deepEqual(sortValues(rows, "rowsort"), ["(empty)", "-1", "1", "NULL", "a"]);
});

test("hashValues() is the MD5 of every value followed by a newline", opts, () => {
  assert.equal(hashValues(["1", "2", "NULL"]), "947ac7611a144a747fd1ba4cb9205642");
  assert.equal(hashValues([]), "d41d8cd98f00b204e9800998ecf8427e");
});

test("resultLines() hashes only above the threshold, and never with threshold 0", opts, () => {
  const values = ["1", "2", "NULL"];
  assert.deepEqual(resultLines(values, 3), values);
  assert.deepEqual(resultLines(values, 2), [
    "3 values hashing to 947ac7611a144a747fd1ba4cb9205642",
  ]);
  assert.deepEqual(resultLines(values, 0), values);
});
