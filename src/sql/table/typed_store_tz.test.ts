/**
 * TIMESTAMP columns and the session time zone, and the tags stored values carry
 * (typed_store.ts): a TIMESTAMP is written from the session's zone into UTC (range and
 * daylight-saving gaps checked in UTC, as MySQL 8), ON UPDATE CURRENT_TIMESTAMP stores
 * the statement's instant, and values read from a row are tagged so that they compare
 * as MySQL compares them (ENUM index, SET bits, TIME, JSON, TIMESTAMP in UTC).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Value, resolveTimeZone, toText } from "../../expr/mod.ts";
import type { ColumnInfo, ColumnKind } from "../catalog/schema.ts";
import { MySqlError } from "../mysql_errors.ts";
import { readStoredValue, storeTypedValue, touchOnUpdateColumns } from "./typed_store.ts";

function column(kind: ColumnKind, scale = 0, members?: readonly string[],
  onUpdateNow = false): ColumnInfo {
  return { id: 1, name: "c", offset: 0, nullable: true, defaultText: null,
    autoIncrement: false, ...(onUpdateNow ? { onUpdateNow: true } : {}),
    type: { name: kind.toUpperCase(), kind, unsigned: false, length: null, scale,
      binaryCollation: false, ...(members ? { members } : {}) } };
}

const str = (value: string): Value => ({ kind: "string", value });

/** The stored value's text with `(utc)` when marked UTC, or `error <errno>`. */
function storedIn(zoneName: string, col: ColumnInfo, value: Value): string {
  const zone = resolveTimeZone(zoneName);
  assert.ok(zone !== undefined);
  try {
    const v = storeTypedValue(value as Exclude<Value, null>, col, 1, zone);
    const utc = v !== null && v.kind === "datetime" && v.utc === true;
    return `${toText(v) ?? "NULL"}${utc ? " (utc)" : ""}`;
  } catch (error: unknown) {
    if (!(error instanceof MySqlError)) throw error;
    return `error ${error.errno}`;
  }
}

describe("TIMESTAMP written in the session's zone", () => {
  const ts = column("timestamp", 3);
  const cases: readonly [string, Value, string][] = [
    // [zone, value, stored]
    ["SYSTEM", str("2024-01-01 08:00:00.125"), "2024-01-01 08:00:00.125 (utc)"],
    ["+08:00", str("2024-01-01 08:00:00.125"), "2024-01-01 00:00:00.125 (utc)"],
    ["-05:30", str("2024-01-01 00:00:00"), "2024-01-01 05:30:00.000 (utc)"],
    ["Europe/Berlin", str("2024-07-01 14:00:00"), "2024-07-01 12:00:00.000 (utc)"],
    ["America/New_York", str("2024-11-03 01:30:00"), "2024-11-03 05:30:00.000 (utc)"],
    ["America/New_York", str("2024-03-10 02:30:00"), "error 1292"],
    ["+08:00", str("1970-01-01 08:00:00"), "error 1292"],
    ["+08:00", str("1970-01-01 08:00:01"), "1970-01-01 00:00:01.000 (utc)"],
    ["-01:00", str("2038-01-19 02:14:07"), "2038-01-19 03:14:07.000 (utc)"],
    ["-01:00", str("2038-01-19 03:14:07"), "error 1292"],
    ["+08:00", { kind: "datetime", fsp: 0, utc: true, value: { year: 2024, month: 5, day: 6,
      hour: 7, minute: 8, second: 9, microsecond: 0 } }, "2024-05-06 07:08:09.000 (utc)"],
    ["+08:00", str("not a date"), "error 1292"],
  ];
  for (const [zone, value, expected] of cases) {
    it(`${zone}: ${toText(value)} → ${expected}`, () => {
      assert.equal(storedIn(zone, ts, value), expected);
    });
  }

  it("a DATETIME is never converted", () => {
    assert.equal(storedIn("+08:00", column("datetime"), str("2024-01-01 08:00:00")),
      "2024-01-01 08:00:00");
  });
});

describe("ON UPDATE CURRENT_TIMESTAMP", () => {
  it("stores the statement's instant in UTC for a TIMESTAMP, local for a DATETIME", () => {
    const zone = resolveTimeZone("+08:00");
    const ts = column("timestamp", 0, undefined, true);
    const dt = { ...column("datetime", 0, undefined, true), id: 2, offset: 1 };
    const values: Value[] = [null, null];
    touchOnUpdateColumns([ts, dt], values, new Set(), { timeZone: zone!,
      statementTime: { year: 2024, month: 1, day: 1, hour: 8, minute: 0, second: 0,
        microsecond: 500_000 } });
    assert.deepEqual(values.map(toText), ["2024-01-01 00:00:00", "2024-01-01 08:00:00"]);
    const first = values[0] ?? null;
    assert.equal(first !== null && first.kind === "datetime" && first.utc, true);
  });
});

describe("readStoredValue tags values by column type", () => {
  const cases: readonly [string, ColumnInfo, Value, Value][] = [
    ["ENUM: its index", column("enum", 0, ["z", "a"]), str("a"),
      { kind: "string", value: "a", tag: { kind: "enum", index: 2 } }],
    ["ENUM: the empty error value is 0", column("enum", 0, ["z", "a"]), str(""),
      { kind: "string", value: "", tag: { kind: "enum", index: 0 } }],
    ["SET: its bits", column("set", 0, ["x", "y", "z"]), str("x,z"),
      { kind: "string", value: "x,z", tag: { kind: "set", bits: 5n } }],
    ["SET: empty", column("set", 0, ["x"]), str(""),
      { kind: "string", value: "", tag: { kind: "set", bits: 0n } }],
    ["TIME", column("time"), str("-01:00:00"),
      { kind: "string", value: "-01:00:00", tag: { kind: "time" } }],
    ["JSON", column("json"), str("[1]"), { kind: "string", value: "[1]", tag: { kind: "json" } }],
    ["VARCHAR: as it is", column("string"), str("a"), str("a")],
    ["NULL", column("enum", 0, ["a"]), null, null],
  ];
  for (const [label, col, value, expected] of cases) {
    it(label, () => assert.deepEqual(readStoredValue(col, value), expected));
  }

  it("TIMESTAMP is marked UTC, DATE as a date", () => {
    const dt = { year: 2024, month: 1, day: 2, hour: 0, minute: 0, second: 0, microsecond: 0 };
    assert.deepEqual(readStoredValue(column("timestamp"), { kind: "datetime", fsp: 0,
      value: dt }), { kind: "datetime", fsp: 0, value: dt, utc: true });
    assert.deepEqual(readStoredValue(column("date"), { kind: "datetime", fsp: 0, value: dt }),
      { kind: "datetime", fsp: 0, value: dt, date: true });
  });
});
