/**
 * MySQL's collation derivation rules (collation_derivation.ts) on their own: aggregation
 * of collations by coercibility, COLLATE name resolution and its errors, which calls
 * compare strings under which collation, and the result collation of string functions.
 * Expected values were checked against MariaDB 10.11 (see test/sql/collations.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { binaryCollation, generalCiCollation, utf8mb4BinCollation } from "../codec/mod.ts";
import {
  Coercibility,
  type CollationInfo,
  aggregateCollations,
  callCollation,
  collationImpl,
  compareCollationOf,
  resolveCollate,
  resultCollationOf,
} from "./collation_derivation.ts";
import { type FieldType, intType, nullType, stringType } from "./types.ts";

const str = (collation: string, coercibility: CollationInfo["coercibility"]): FieldType =>
  ({ ...stringType(10), collation, coercibility });
const bin = str("utf8mb4_bin", Coercibility.Implicit);
const ci = str("utf8mb4_general_ci", Coercibility.Implicit);
const explicitBin = str("utf8mb4_bin", Coercibility.Explicit);
const explicitCi = str("utf8mb4_general_ci", Coercibility.Explicit);
const literal = stringType(1);
const binary = str("binary", Coercibility.Implicit);
const sysconst = str("utf8mb3_general_ci", Coercibility.SysConst);

test("aggregation: the lower coercibility wins, ties go to _bin or fail", { timeout: 10_000 },
  () => {
    const agg = (types: FieldType[]): unknown =>
      compareCollationOf("in", types.map((type) => ({ type })));
    assert.deepEqual(agg([bin, literal]), { name: "utf8mb4_bin", coercibility: 2 });
    assert.deepEqual(agg([literal, explicitBin]), { name: "utf8mb4_bin", coercibility: 0 });
    assert.deepEqual(agg([ci, bin]), { name: "utf8mb4_bin", coercibility: 2 });
    assert.deepEqual(agg([ci, binary]), { name: "binary", coercibility: 2 });
    assert.deepEqual(agg([literal, sysconst]), { name: "utf8mb3_general_ci", coercibility: 3 });
    assert.deepEqual(agg([bin, sysconst]), { name: "utf8mb4_bin", coercibility: 2 });
    // Two EXPLICIT collations: 1267 with both items, 1270 with three, 1271 beyond.
    assert.deepEqual(agg([explicitBin, explicitCi]), { kind: "collationMix", operation: "in",
      items: [["utf8mb4_bin", "EXPLICIT"], ["utf8mb4_general_ci", "EXPLICIT"]] });
    const three = agg([explicitBin, explicitCi, literal]) as { items: unknown[] };
    assert.equal(three.items.length, 3);
  });

test("NONE: an error for comparisons, allowed for string results", { timeout: 10_000 }, () => {
  const unicode = str("utf8mb4_unicode_ci", Coercibility.Implicit);
  const infos = [ci, unicode].map((t) => ({ name: t.collation!, coercibility: 2 as const }));
  assert.deepEqual(aggregateCollations(infos, { operation: "=", forComparison: false }),
    { name: "utf8mb4_bin", coercibility: Coercibility.None });
  assert.equal("kind" in aggregateCollations(infos, { operation: "=", forComparison: true }),
    true);
});

test("numbers and NULL take no part; alone they give collation_connection", { timeout: 10_000 },
  () => {
    assert.equal(compareCollationOf("=", [{ type: intType({ length: 1 }) }, { type: bin }]),
      undefined);
    assert.deepEqual(compareCollationOf("like", [{ type: intType({ length: 1 }) },
      { type: bin }]), { name: "utf8mb4_bin", coercibility: 2 });
    assert.deepEqual(resultCollationOf("concat", [{ type: intType({ length: 1 }) },
      { type: nullType }], stringType(2)), { name: "utf8mb4_general_ci", coercibility: 4 });
    // `1 IN ('a' COLLATE bin, 'b' COLLATE ci)` compares numbers: no error.
    assert.equal(compareCollationOf("in", [{ type: intType({ length: 1 }) }, { type: explicitBin },
      { type: explicitCi }]), undefined);
  });

test("string results follow their string arguments", { timeout: 10_000 }, () => {
  const result = (fn: string, types: FieldType[]): unknown =>
    resultCollationOf(fn, types.map((type) => ({ type })), stringType(4));
  assert.deepEqual(result("concat", [literal, bin]), { name: "utf8mb4_bin", coercibility: 2 });
  assert.deepEqual(result("if", [explicitCi, literal, explicitBin]),
    { name: "utf8mb4_bin", coercibility: 0 });
  assert.deepEqual(result("case", [intType({ length: 1 }), explicitBin, literal]),
    { name: "utf8mb4_bin", coercibility: 0 });
  assert.deepEqual(result("repeat", [explicitBin, intType({ length: 1 })]),
    { name: "utf8mb4_bin", coercibility: 0 });
  assert.equal(result("hex", [explicitBin]), undefined);
  assert.equal((result("concat", [explicitBin, explicitCi]) as { kind: string }).kind,
    "collationMix");
});

test("COLLATE names: aliases, 1273 unknown, 1253 other character sets", { timeout: 10_000 },
  () => {
    assert.equal(resolveCollate("UTF8MB4_BIN", "utf8mb4"), "utf8mb4_bin");
    assert.equal(resolveCollate("utf8mb4_0900_ai_ci", "utf8mb4"), "utf8mb4_0900_ai_ci");
    assert.equal(collationImpl("utf8mb4_0900_ai_ci"), generalCiCollation);
    assert.equal(collationImpl("utf8mb4_0900_bin"), binaryCollation);
    assert.equal(collationImpl("utf8mb4_bin"), utf8mb4BinCollation);
    assert.deepEqual(resolveCollate("foo", "utf8mb4"), { kind: "unknownCollation", name: "foo" });
    assert.deepEqual(resolveCollate("utf8mb4_czech_ci", "utf8mb4"),
      { kind: "unknownCollation", name: "utf8mb4_czech_ci" });
    assert.deepEqual(resolveCollate("latin1_swedish_ci", "utf8mb4"),
      { kind: "collationCharsetMismatch", name: "latin1_swedish_ci", charset: "utf8mb4" });
    assert.deepEqual(resolveCollate("utf8_bin", "utf8mb4"),
      { kind: "collationCharsetMismatch", name: "utf8mb3_bin", charset: "utf8mb4" });
    assert.deepEqual(resolveCollate("utf8mb4_bin", "binary"),
      { kind: "collationCharsetMismatch", name: "utf8mb4_bin", charset: "binary" });
    assert.equal(resolveCollate("utf8mb3_bin", "utf8mb3"), "utf8mb3_bin");
  });

test("callCollation: the run-time collation of a comparison", { timeout: 10_000 }, () => {
  assert.equal(callCollation({ fn: "=", args: [{ type: bin }, { type: literal }] }),
    utf8mb4BinCollation);
  assert.equal(callCollation({ fn: "=", args: [{ type: literal }, { type: literal }] }),
    generalCiCollation);
  assert.equal(callCollation({ fn: "like", args: [{ type: binary }, { type: ci }] }),
    binaryCollation);
  assert.equal(callCollation({ fn: "+", args: [{ type: bin }, { type: bin }] }),
    generalCiCollation);
});
