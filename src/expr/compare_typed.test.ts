/**
 * Comparisons of tagged values (compare.ts, json_compare.ts): TIME as durations, ENUM and
 * SET by index / bits against numbers and in ORDER BY (but by text against strings and
 * for MIN/MAX), JSON by MySQL 8's JSON rules, and the numeric value of tagged strings
 * (value.ts). Table-driven; expected results are MySQL 8's.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareForSort, compareValues } from "./compare.ts";
import { type StringTag, type Value, toDouble, toInteger, toScaled, isTrue, formatScaled }
  from "./value.ts";

const warn = (): void => {};

function tagged(value: string, tag: StringTag): Value {
  return { kind: "string", value, tag };
}
const time = (text: string): Value => tagged(text, { kind: "time" });
const json = (text: string): Value => tagged(text, { kind: "json" });
const members = ["z", "a", "m"];
const enumOf = (text: string): Value => tagged(text, { kind: "enum",
  index: members.indexOf(text) + 1 });
const setOf = (text: string, bits: bigint): Value => tagged(text, { kind: "set", bits });
const str = (value: string): Value => ({ kind: "string", value });
const int = (value: bigint): Value => ({ kind: "int", value });
const dbl = (value: number): Value => ({ kind: "double", value });
const dec = (unscaled: bigint, scale: number): Value => ({ kind: "decimal", unscaled, scale });

describe("compareValues with tags", () => {
  const cases: readonly [string, Value, Value, number][] = [
    // TIME: durations, against TIME or strings.
    ["-01:00:00 < 00:30:00", time("-01:00:00"), time("00:30:00"), -1],
    ["100:00:00 > 99:00:00", time("100:00:00"), time("99:00:00"), 1],
    ["10:00:00 = '10:00'", time("10:00:00"), str("10:00"), 0],
    ["09:00:00 < '10:00:00'", str("09:00:00"), time("10:00:00"), -1],
    ["'9:00:00' < 10:00:00 (as times, not text)", str("9:00:00"), time("10:00:00"), -1],
    ["10:00:00.5 > 10:00:00", time("10:00:00.5"), time("10:00:00"), 1],
    ["838:59:59 > -838:59:59", time("838:59:59"), time("-838:59:59"), 1],
    ["10:00:00 = 100000 (numeric)", time("10:00:00"), int(100_000n), 0],
    ["-00:00:01 < 0 (numeric)", time("-00:00:01"), int(0n), -1],
    // ENUM: its index against numbers, its text against strings.
    ["enum 'z' = 1", enumOf("z"), int(1n), 0],
    ["enum 'a' > 1", enumOf("a"), int(1n), 1],
    ["enum 'm' = 3.0", enumOf("m"), dbl(3), 0],
    ["enum 'a' = 'A' (text, case-insensitive)", enumOf("a"), str("A"), 0],
    ["enum 'a' < 'z' (text)", enumOf("a"), str("z"), -1],
    ["enum 'a' < enum 'z' as text", enumOf("a"), enumOf("z"), -1],
    // SET: bits against numbers.
    ["set 'x,y' = 3", setOf("x,y", 3n), int(3n), 0],
    ["set 'z' > 3", setOf("z", 4n), int(3n), 1],
    ["set 'x,y' = 'x,y'", setOf("x,y", 3n), str("x,y"), 0],
    // JSON against JSON.
    ["json 1 = 1.0", json("1"), json("1.0"), 0],
    ["json 2 > 10? no", json("2"), json("10"), -1],
    ["json \"b\" > \"ab\"", json("\"b\""), json("\"ab\""), 1],
    ["json \"A\" < \"a\" (binary)", json("\"A\""), json("\"a\""), -1],
    ["json \"a\" < \"ab\"", json("\"a\""), json("\"ab\""), -1],
    ["json null < 0", json("null"), json("0"), -1],
    ["json number < string", json("99"), json("\"1\""), -1],
    ["json string < object", json("\"z\""), json("{}"), -1],
    ["json object < array", json("{\"a\": 1}"), json("[]"), -1],
    ["json array < boolean", json("[1, 2]"), json("false"), -1],
    ["json false < true", json("false"), json("true"), -1],
    ["json [] < [\"a\"]", json("[]"), json("[\"a\"]"), -1],
    ["json [\"ab\", \"cd\", \"ef\"] < [\"ab\", \"ef\"]", json("[\"ab\", \"cd\", \"ef\"]"),
      json("[\"ab\", \"ef\"]"), -1],
    ["json {\"a\": 1, \"b\": 2} = {\"b\": 2, \"a\": 1}", json("{\"a\": 1, \"b\": 2}"),
      json("{\"b\": 2, \"a\": 1}"), 0],
    ["json {\"a\": 1} <> {\"a\": 2}", json("{\"a\": 1}"), json("{\"a\": 2}"), -1],
    ["json big integers exactly", json("9007199254740993"), json("9007199254740992"), 1],
    // JSON against SQL values: strings are JSON strings, numbers JSON numbers.
    ["json \"x\" = 'x'", json("\"x\""), str("x"), 0],
    ["json {\"a\": 1} <> '{\"a\": 1}' (a string)", json("{\"a\": 1}"), str("{\"a\": 1}"), 1],
    ["json 1 = 1", json("1"), int(1n), 0],
    ["json 2.5 = 2.50", json("2.5"), dec(250n, 2), 0],
    ["json \"1\" <> 1", json("\"1\""), int(1n), 1],
    ["json true > 1 (boolean outranks numbers)", json("true"), int(1n), 1],
    ["'x' = json \"x\"", str("x"), json("\"x\""), 0],
    ["a DATETIME outranks JSON", { kind: "datetime", fsp: 0, value: { year: 2024, month: 1,
      day: 1, hour: 0, minute: 0, second: 0, microsecond: 0 } }, json("[1]"), 1],
  ];
  for (const [label, a, b, expected] of cases) {
    it(label, () => {
      assert.equal(compareValues(a, b, { warn }), expected);
      assert.equal(compareValues(b, a, { warn }), -expected || 0);
    });
  }

  it("NULL against a tagged value is NULL", () => {
    assert.equal(compareValues(json("null"), null, { warn }), null);
    assert.equal(compareValues(null, time("00:00:00"), { warn }), null);
  });
});

describe("compareForSort (ORDER BY)", () => {
  const cases: readonly [string, Value, Value, number][] = [
    ["enum sorts by index: 'z'(1) < 'a'(2)", enumOf("z"), enumOf("a"), -1],
    ["enum sorts by index: 'm'(3) > 'a'(2)", enumOf("m"), enumOf("a"), 1],
    ["the empty error value (0) first", tagged("", { kind: "enum", index: 0 }), enumOf("z"),
      -1],
    ["set sorts by bits: 'z'(4) > 'x,y'(3)", setOf("z", 4n), setOf("x,y", 3n), 1],
    ["time as durations", time("-10:00:00"), time("-09:00:00"), -1],
    ["json by JSON rules", json("10"), json("9"), 1],
    ["plain strings by collation", str("B"), str("a"), 1],
  ];
  for (const [label, a, b, expected] of cases) {
    it(label, () => assert.equal(compareForSort(a, b, { warn }), expected));
  }
});

describe("tagged strings in numeric context", () => {
  const cases: readonly [string, Value, string][] = [
    ["enum 'a' + 0 is its index", enumOf("a"), "2"],
    ["set 'x,y' + 0 is its bits", setOf("x,y", 3n), "3"],
    ["time 10:11:12 is 101112", time("10:11:12"), "101112"],
    ["time -01:00:00.50 is -10000.50", time("-01:00:00.50"), "-10000.50"],
    ["time 100:00:00 is 1000000", time("100:00:00"), "1000000"],
  ];
  for (const [label, value, expected] of cases) {
    it(label, () => {
      const scaled = toScaled(value, warn);
      assert.ok(scaled !== null && scaled !== undefined);
      assert.equal(formatScaled(scaled.unscaled, scaled.scale), expected);
      assert.equal(toDouble(value, warn), Number(expected));
      // Rounded half away from zero, as MySQL rounds: -10000.5 is -10001.
      const n = Number(expected);
      assert.equal(toInteger(value, warn), BigInt(Math.sign(n) * Math.round(Math.abs(n))));
      assert.equal(isTrue(value, warn), Number(expected) !== 0);
    });
  }

  it("an untagged string keeps its numeric prefix", () => {
    let warned = 0;
    assert.equal(toDouble(str("10:11:12"), () => warned++), 10);
    assert.equal(warned, 1);
  });
});
