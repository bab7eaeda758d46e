/**
 * Tests for the collation sort keys: which strings each collation treats as equal, how it
 * orders them, and that sort-key order matches the reference weight comparison.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Collation } from "./collation.ts";
import {
  binaryCollation,
  collationByName,
  generalCiCollation,
  generalCiKeyString,
  generalCiWeight,
  utf8mb4BinCollation,
} from "./collation.ts";
import {
  bytewise,
  collationString,
  collidingChars,
  compareGeneralCi,
  propertyRuns,
} from "./test_support.ts";

const timeout = 60_000;

function compareUnder(collation: Collation, a: string, b: string): number {
  return bytewise(collation.sortKey(a), collation.sortKey(b));
}

test("utf8mb4_general_ci treats case, Latin accents and trailing spaces as equal", {
  timeout,
}, () => {
  const groups = [
    ["abc", "ABC", "aBc", "abc  ", "ÁBÇ"],
    ["e", "E", "é", "É", "è", "ê", "Ë"],
    ["s", "S", "ß"],
    ["y", "Y", "ý", "ÿ", "Ÿ"],
    ["a", "ą", "Ą", "ā", "ạ"],
    ["æ", "Æ"],
    ["ø", "Ø"],
    ["µ", "μ", "Μ"],
    ["i", "I", "ı", "İ"],
    ["😀", "😁", "\u{10FFFF}", "\uFFFD"],
    ["", " ", "   "],
  ];
  for (const group of groups) {
    for (const value of group) {
      assert.equal(compareUnder(generalCiCollation, group[0]!, value), 0, `${group[0]} = ${value}`);
    }
  }
});

test("utf8mb4_general_ci orders strings by uppercase weight", { timeout }, () => {
  const ordered = ["", "\t", "A", "a b", "ab", "B", "c", "O", "Z", "Æ", "Ø", "Ω", "中"];
  for (let i = 1; i < ordered.length; i++) {
    assert.ok(
      compareUnder(generalCiCollation, ordered[i - 1]!, ordered[i]!) < 0,
      `${ordered[i - 1]} < ${ordered[i]}`,
    );
  }
  // Distinct letters stay distinct.
  for (const [a, b] of [["O", "Ø"], ["A", "Æ"], ["D", "Ð"], ["a", "b"]] as const) {
    assert.notEqual(compareUnder(generalCiCollation, a, b), 0, `${a} != ${b}`);
  }
});

test("utf8mb4_general_ci weighs characters as MariaDB's Latin-1 table does", { timeout }, () => {
  const cases: [string, number][] = [
    ["a", 0x41],
    ["A", 0x41],
    ["à", 0x41],
    ["ç", 0x43],
    ["ñ", 0x4e],
    ["ß", 0x53],
    ["ÿ", 0x59],
    ["×", 0xd7],
    ["÷", 0xf7],
    ["þ", 0xde],
    ["µ", 0x39c],
    ["я", 0x42f],
    ["😀", 0xfffd],
  ];
  for (const [char, weight] of cases) {
    assert.equal(generalCiWeight(char.codePointAt(0)!), weight, char);
  }
  assert.deepEqual(generalCiCollation.sortKey("aB "), Uint8Array.of(0, 0x41, 0, 0x42));
});

test("utf8mb4_general_ci documents where it differs from MariaDB's PAD SPACE", { timeout }, () => {
  // MariaDB pads 'a' to 'a ' and finds '\t' < ' ', so 'a\t' < 'a'; trimming sorts it after.
  assert.ok(compareUnder(generalCiCollation, "a", "a\t") < 0);
});

test("binary compares UTF-8 bytes with no padding", { timeout }, () => {
  assert.ok(compareUnder(binaryCollation, "A", "a") < 0);
  assert.ok(compareUnder(binaryCollation, "a", "a ") < 0);
  assert.ok(compareUnder(binaryCollation, "\uFFFF", "😀") < 0);
  assert.deepEqual(binaryCollation.sortKey("é"), Uint8Array.of(0xc3, 0xa9));
});

test("utf8mb4_bin ignores trailing spaces only", { timeout }, () => {
  assert.equal(compareUnder(utf8mb4BinCollation, "a", "a  "), 0);
  assert.ok(compareUnder(utf8mb4BinCollation, "a", " a") > 0);
  assert.ok(compareUnder(utf8mb4BinCollation, "A", "a") < 0);
});

test("collationByName finds collations case-insensitively", { timeout }, () => {
  assert.equal(collationByName("UTF8MB4_GENERAL_CI"), generalCiCollation);
  assert.equal(collationByName("utf8mb4_bin"), utf8mb4BinCollation);
  assert.equal(collationByName("binary"), binaryCollation);
  assert.equal(collationByName("latin1_swedish_ci"), undefined);
});

test("utf8mb4_general_ci sort keys order strings as their weight sequences", { timeout }, () => {
  fc.assert(
    fc.property(collationString, collationString, (a, b) => {
      assert.equal(compareUnder(generalCiCollation, a, b), compareGeneralCi(a, b));
    }),
    propertyRuns,
  );
});

/** `char` in upper or lower case when that is one code point (`ß` upper-cases to `SS`). */
function simpleCase(char: string, how: "upper" | "lower" | ""): string {
  const mapped = how === "upper" ? char.toUpperCase() : how === "lower" ? char.toLowerCase() : char;
  return [...mapped].length === 1 ? mapped : char;
}

test("utf8mb4_general_ci gives case variants and padded copies one sort key", { timeout }, () => {
  // Every character in `collidingChars` maps to itself, its upper and its lower case
  // under one weight; that is not true of all of Unicode (the Kelvin sign is not `k`).
  const variant = fc
    .array(fc.tuple(fc.constantFrom(...collidingChars), fc.constantFrom("upper", "lower", "")))
    .chain((chars) =>
      fc.tuple(fc.constant(chars), fc.integer({ min: 0, max: 3 })).map(([cs, spaces]) => {
        const original = cs.map(([c]) => c).join("");
        const changed = cs.map(([c, how]) => simpleCase(c, how)).join("");
        return [original, changed + " ".repeat(spaces)] as const;
      }),
    );
  fc.assert(
    fc.property(variant, ([original, changed]) => {
      assert.deepEqual(generalCiCollation.sortKey(changed), generalCiCollation.sortKey(original));
    }),
    propertyRuns,
  );
});

test("compare orders strings as their sort keys, and generalCiKeyString groups them", {
  timeout }, () => {
  // Lone surrogates (UTF-8 writes U+FFFD), trailing spaces and mixed case included.
  const text = fc.oneof(collationString, fc.string({ unit: "binary", maxLength: 6 }).map(
    (s) => `${s}${"\ud800 \udfff\ufffd\ue000 ".slice(s.length % 4)}`));
  fc.assert(
    fc.property(text, text, (a, b) => {
      for (const collation of [binaryCollation, utf8mb4BinCollation, generalCiCollation]) {
        assert.equal(collation.compare(a, b), compareUnder(collation, a, b), collation.name);
        assert.equal(collation.compare(a, a), 0);
      }
      assert.equal(generalCiKeyString(a) === generalCiKeyString(b),
        compareUnder(generalCiCollation, a, b) === 0);
      assert.equal(generalCiKeyString(`${a}  `), generalCiKeyString(a));
    }),
    propertyRuns,
  );
});
