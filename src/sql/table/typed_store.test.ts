/**
 * Table-driven tests of the conversions into DATE, DATETIME, TIMESTAMP, TIME, YEAR, ENUM,
 * SET and JSON columns (temporal.ts, enum_set.ts, typed_store.ts, src/expr/json.ts), with the
 * values MySQL 8 stores and the errors it raises in strict mode.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Value, extractJson, normalizeJsonText, parseJson, parseJsonPath, printJson,
  toText } from "../../expr/mod.ts";
import type { ColumnInfo, ColumnKind } from "../catalog/schema.ts";
import { MySqlError } from "../mysql_errors.ts";
import { toEnumMember, toSetMembers } from "./enum_set.ts";
import { storeTypedValue } from "./typed_store.ts";

const opts = { timeout: 10_000 };

const str = (value: string): Value => ({ kind: "string", value });
const int = (value: number): Value => ({ kind: "int", value: BigInt(value) });
const dbl = (value: number): Value => ({ kind: "double", value });
const dec = (text: string): Value => {
  const [whole, fraction = ""] = text.split(".") as [string, string?];
  return { kind: "decimal", unscaled: BigInt(whole + fraction), scale: fraction.length };
};

function column(kind: ColumnKind, scale = 0, members?: readonly string[]): ColumnInfo {
  return { id: 1, name: "c", offset: 0, nullable: true, defaultText: null,
    autoIncrement: false, type: { name: kind.toUpperCase(), kind, unsigned: false,
      length: null, scale, binaryCollation: false, ...(members ? { members } : {}) } };
}

/** The stored text, or `error <errno>: <message>`. */
function stored(col: ColumnInfo, value: Value): string {
  try {
    return toText(storeTypedValue(value as Exclude<Value, null>, col, 1)) ?? "NULL";
  } catch (error: unknown) {
    if (!(error instanceof MySqlError)) throw error;
    return `error ${error.errno}: ${error.message}`;
  }
}

test("DATE, DATETIME(fsp) and TIMESTAMP(fsp) read texts and numbers as MySQL", opts, () => {
  const cases: [ColumnInfo, Value, string][] = [
    [column("date"), str("2024-02-29"), "2024-02-29"],
    [column("date"), str("2024-02-29 23:59:59"), "2024-02-29"],
    [column("date"), str("24/2/9"), "2024-02-09"],
    [column("date"), str("700101"), "1970-01-01"],
    [column("date"), int(20240229), "2024-02-29"],
    [column("date"), int(240229), "2024-02-29"],
    [column("date"), str("2023-02-29"),
      "error 1292: Incorrect date value: '2023-02-29' for column 'c' at row 1"],
    [column("date"), str("0000-00-00"),
      "error 1292: Incorrect date value: '0000-00-00' for column 'c' at row 1"],
    [column("date"), str("2024-13-01"),
      "error 1292: Incorrect date value: '2024-13-01' for column 'c' at row 1"],
    [column("datetime"), str("2024-02-29T10:11:12"), "2024-02-29 10:11:12"],
    [column("datetime"), str("2024-02-29 10:11:12.5"), "2024-02-29 10:11:13"],
    [column("datetime"), str("2024-12-31 23:59:59.5"), "2025-01-01 00:00:00"],
    [column("datetime", 3), str("2024-01-01 00:00:00.12345"), "2024-01-01 00:00:00.123"],
    [column("datetime", 6), str("20240101123456.5"), "2024-01-01 12:34:56.500000"],
    [column("datetime"), int(20240101123456), "2024-01-01 12:34:56"],
    [column("datetime"), dec("20240101123456.7"), "2024-01-01 12:34:57"],
    [column("datetime"), str("2024-01-01 24:00:00"),
      "error 1292: Incorrect datetime value: '2024-01-01 24:00:00' for column 'c' at row 1"],
    [column("datetime"), str("abc"),
      "error 1292: Incorrect datetime value: 'abc' for column 'c' at row 1"],
    [column("timestamp"), str("1970-01-01 00:00:01"), "1970-01-01 00:00:01"],
    [column("timestamp", 6), str("2038-01-19 03:14:07.999999"), "2038-01-19 03:14:07.999999"],
    [column("timestamp"), str("1970-01-01 00:00:00"),
      "error 1292: Incorrect datetime value: '1970-01-01 00:00:00' for column 'c' at row 1"],
    [column("timestamp"), str("2038-01-19 03:14:08"),
      "error 1292: Incorrect datetime value: '2038-01-19 03:14:08' for column 'c' at row 1"],
  ];
  for (const [col, value, expected] of cases) {
    assert.equal(stored(col, value), expected, `${col.type.kind} ${toText(value)}`);
  }
});

test("TIME(fsp) reads texts and numbers within ±838:59:59", opts, () => {
  const cases: [ColumnInfo, Value, string][] = [
    [column("time"), str("12:34:56"), "12:34:56"],
    [column("time"), str("12:34"), "12:34:00"],
    [column("time"), str("1 02:03:04"), "26:03:04"],
    [column("time"), str("123456"), "12:34:56"],
    [column("time"), str("3456"), "00:34:56"],
    [column("time"), int(123456), "12:34:56"],
    [column("time"), int(-1), "-00:00:01"],
    [column("time"), str("12:34:56.5"), "12:34:57"],
    [column("time", 1), str("12:34:56.54"), "12:34:56.5"],
    [column("time", 2), dbl(1.255), "00:00:01.26"],
    [column("time"), str("-838:59:59"), "-838:59:59"],
    [column("time"), str("2024-01-01 07:08:09"), "07:08:09"],
    [column("time"), str("839:00:00"), "error 1264: Out of range value for column 'c' at row 1"],
    [column("time"), str("838:59:59.5"),
      "error 1264: Out of range value for column 'c' at row 1"],
    [column("time"), str("12:61:00"),
      "error 1292: Incorrect time value: '12:61:00' for column 'c' at row 1"],
    [column("time"), str("ab"), "error 1292: Incorrect time value: 'ab' for column 'c' at row 1"],
  ];
  for (const [col, value, expected] of cases) {
    assert.equal(stored(col, value), expected, `${col.type.kind} ${toText(value)}`);
  }
});

test("YEAR takes 1901–2155 and 0, with two-digit years", opts, () => {
  const cases: [Value, string][] = [
    [int(2024), "2024"], [int(0), "0"], [str("0"), "2000"], [str("00"), "2000"],
    [int(1), "2001"], [int(69), "2069"], [int(70), "1970"], [int(99), "1999"],
    [str("69"), "2069"], [str("1901"), "1901"], [dbl(2155.4), "2155"],
    [int(1900), "error 1264: Out of range value for column 'c' at row 1"],
    [int(2156), "error 1264: Out of range value for column 'c' at row 1"],
    [str("x1"), "error 1366: Incorrect integer value: 'x1' for column 'c' at row 1"],
  ];
  for (const [value, expected] of cases) {
    assert.equal(stored(column("year"), value), expected, `${toText(value)}`);
  }
});

test("BIT(n) takes integers and byte strings up to n bits", opts, () => {
  const bit = (n: number): ColumnInfo => ({ ...column("bit"), type: { ...column("bit").type,
    length: n } });
  const cases: [number, Value, string][] = [
    [10, int(1023), "1023"], [10, str("a"), "97"], [1, int(1), "1"], [64, int(-1),
      "18446744073709551615"], [8, dbl(2.5), "3"],
    [10, int(1024), "error 1406: Data too long for column 'c' at row 1"],
    [8, str("ab"), "error 1406: Data too long for column 'c' at row 1"],
    [8, dbl(-1), "error 1406: Data too long for column 'c' at row 1"],
  ];
  for (const [n, value, expected] of cases) {
    assert.equal(stored(bit(n), value), expected, `BIT(${n}) ${toText(value)}`);
  }
});

test("ENUM and SET name members by text, index or bitmask", opts, () => {
  const members = ["a", "B", "c "];
  const enums: [Value, string | null][] = [
    [str("a"), "a"], [str("b"), "B"], [str("c"), "c "], [str("B  "), "B"], [int(2), "B"],
    [str("3"), "c "], [int(0), null], [int(4), null], [str("d"), null], [str(""), null],
  ];
  for (const [value, expected] of enums) {
    assert.equal(toEnumMember(value as Exclude<Value, null>, members), expected,
      `enum ${toText(value)}`);
  }
  const sets: [Value, string | null][] = [
    [str("a"), "a"], [str("c,a,A"), "a,c "], [str(""), ""], [int(0), ""], [int(7), "a,B,c "],
    [int(5), "a,c "], [int(8), null], [str("a,d"), null], [str("3"), "a,B"],
  ];
  for (const [value, expected] of sets) {
    assert.equal(toSetMembers(value as Exclude<Value, null>, members), expected,
      `set ${toText(value)}`);
  }
  assert.equal(stored(column("enum", 0, members), str("x")),
    "error 1265: Data truncated for column 'c' at row 1");
  assert.equal(stored(column("set", 0, members), str("a,x")),
    "error 1265: Data truncated for column 'c' at row 1");
});

test("JSON is normalized as MySQL prints it and invalid text is 3140", opts, () => {
  const valid: [string, string][] = [
    ['{"b": 1, "a": 2}', '{"a": 2, "b": 1}'],
    ['{"bb":1,"a":[1,{"y":null,"x":false}]}', '{"a": [1, {"x": false, "y": null}], "bb": 1}'],
    ['{"a":1,"a":2}', '{"a": 2}'],
    ["[]", "[]"], ["{}", "{}"], [" 1 ", "1"], ["1.50", "1.5"], ["1e2", "100.0"],
    ["-0.0", "-0.0"], ["1E300", "1e300"], ["18446744073709551615", "18446744073709551615"],
    ['"a\\u00e9\\n"', '"aé\\n"'], ["true", "true"], ["null", "null"],
  ];
  for (const [text, expected] of valid) {
    assert.deepEqual(normalizeJsonText(text), { ok: true, text: expected }, text);
  }
  const invalid: [string, string, number][] = [
    ["", "The document is empty.", 0],
    ["abc", "Invalid value.", 0],
    ['{"a":}', "Invalid value.", 5],
    ["[1,2", "Missing a comma or ']' after an array element.", 4],
    ['{"a":1', "Missing a comma or '}' after an object member.", 6],
    ["{a:1}", "Missing a name for object member.", 1],
    ['{"a" 1}', "Missing a colon after a name of object member.", 5],
    ["1 2", "The document root must not be followed by other values.", 2],
    ['"abc', "Missing a closing quotation mark in string.", 4],
    ["1.", "Missing fraction part in number.", 2],
  ];
  for (const [text, message, position] of invalid) {
    assert.deepEqual(normalizeJsonText(text), { ok: false, error: { message, position } },
      text);
  }
  assert.equal(stored(column("json"), str("[1,")),
    "error 3140: Invalid JSON text: \"Invalid value.\" at position 3 in value for column 'c'.");
  assert.equal(stored(column("json"), str('{"k": [1, 2]}')), '{"k": [1, 2]}');
});

test("JSON paths select members, elements and wildcards", opts, () => {
  const doc = parseJson('{"a": {"b": [10, 20], "c d": 3}, "x": 1}');
  assert.ok(doc.ok);
  const cases: [string, string[] | null][] = [
    ["$", ['{"a": {"b": [10, 20], "c d": 3}, "x": 1}']],
    ["$.a.b[1]", ["20"]], ["$.a.b[2]", []], ["$.a.\"c d\"", ["3"]], ["$.x[0]", ["1"]],
    ["$.a.b[*]", ["10", "20"]], ["$.*", ['{"b": [10, 20], "c d": 3}', "1"]],
    ["$ . a . b", ["[10, 20]"]], ["a", null], ["$.", null], ["$[x]", null],
  ];
  for (const [path, expected] of cases) {
    const legs = parseJsonPath(path);
    assert.deepEqual(legs === null ? null : extractJson(doc.node, legs).map(printJson),
      expected, path);
  }
});
