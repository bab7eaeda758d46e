/**
 * Time zones (temporal_tz.ts): resolving `time_zone` values as MySQL 8 accepts them,
 * UTC ↔ zone conversions with daylight-saving gaps and overlaps, and the zone-dependent
 * functions (UNIX_TIMESTAMP, FROM_UNIXTIME, CONVERT_TZ, UTC_*) evaluated under a context
 * with a zone. Table-driven; expected values are MySQL 8's with its time zone tables
 * loaded (IANA rules, which ICU carries too).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildCall } from "./build.ts";
import { evaluate } from "./evaluate.ts";
import { type EvalContext, type Expr, stringLiteral, integerLiteral, decimalLiteral }
  from "./expr.ts";
import { parseDateTimeText } from "./temporal.ts";
import { type TimeZone, convertZone, epochToZone, offsetAt, resolveTimeZone, sessionValue,
  utcToZone, zoneToEpochMs, zoneToUtc } from "./temporal_tz.ts";
import { type DateTime, formatDateTime, toText } from "./value.ts";

function dt(text: string): DateTime {
  const parsed = parseDateTimeText(text, 6);
  assert.ok(parsed !== null, text);
  return parsed;
}

function zone(name: string): TimeZone {
  const z = resolveTimeZone(name);
  assert.ok(z !== undefined, name);
  return z;
}

describe("resolveTimeZone", () => {
  const cases: readonly [string, string | undefined, number | null][] = [
    // [value, resolved name (undefined: 1298), fixed offset in seconds]
    ["SYSTEM", "SYSTEM", 0],
    ["system", "SYSTEM", 0],
    ["+00:00", "+00:00", 0],
    ["+08:00", "+08:00", 8 * 3600],
    ["+8:00", "+08:00", 8 * 3600],
    ["-05:30", "-05:30", -(5 * 3600 + 30 * 60)],
    ["+14:00", "+14:00", 14 * 3600],
    ["-13:59", "-13:59", -(13 * 3600 + 59 * 60)],
    ["+14:01", undefined, null],
    ["-14:00", undefined, null],
    ["+08:60", undefined, null],
    ["8:00", undefined, null],
    ["UTC", "UTC", null],
    ["Europe/Berlin", "Europe/Berlin", null],
    ["Asia/Shanghai", "Asia/Shanghai", null],
    ["America/New_York", "America/New_York", null],
    ["Mars/Base", undefined, null],
    ["", undefined, null],
    ["Europe/Berlin; DROP", undefined, null],
  ];
  for (const [text, name, offset] of cases) {
    it(`'${text}'`, () => {
      const z = resolveTimeZone(text);
      assert.equal(z?.name, name);
      if (z !== undefined) assert.equal(z.fixedOffsetSeconds, offset);
    });
  }
});

describe("conversions between UTC and a zone", () => {
  const cases: readonly [string, string, string][] = [
    // [zone, UTC, local]
    ["+08:00", "2024-01-01 00:00:00", "2024-01-01 08:00:00"],
    ["-05:30", "2024-01-01 02:00:00.5", "2023-12-31 20:30:00.5"],
    ["Asia/Shanghai", "2024-06-30 16:00:00", "2024-07-01 00:00:00"],
    ["Europe/Berlin", "2024-01-15 12:00:00", "2024-01-15 13:00:00"],
    ["Europe/Berlin", "2024-07-15 12:00:00", "2024-07-15 14:00:00"],
    ["America/New_York", "2024-01-01 00:00:00.123456", "2023-12-31 19:00:00.123456"],
    ["America/New_York", "2024-07-04 16:00:00", "2024-07-04 12:00:00"],
    ["UTC", "2038-01-19 03:14:07", "2038-01-19 03:14:07"],
  ];
  for (const [name, utc, local] of cases) {
    it(`${name}: ${utc} UTC is ${local}`, () => {
      const z = zone(name);
      assert.equal(formatDateTime(utcToZone(dt(utc), z), 6), formatDateTime(dt(local), 6));
      const back = zoneToUtc(dt(local), z);
      assert.equal(back.kind, "ok");
      if (back.kind === "ok") assert.equal(formatDateTime(back.utc, 6), formatDateTime(dt(utc), 6));
    });
  }

  it("a local time in a spring-forward gap does not exist; the gap's end is given", () => {
    // New York, 2024-03-10: 02:00 EST became 03:00 EDT (07:00 UTC).
    const r = zoneToUtc(dt("2024-03-10 02:30:00"), zone("America/New_York"));
    assert.equal(r.kind, "gap");
    if (r.kind === "gap") assert.equal(formatDateTime(r.gapEnd, 0), "2024-03-10 07:00:00");
    assert.equal(zoneToEpochMs(dt("2024-03-10 02:30:00"), zone("America/New_York")),
      zoneToEpochMs(dt("2024-03-10 03:00:00"), zone("America/New_York")));
  });

  it("a local time in a fall-back overlap is its earlier instant", () => {
    // New York, 2024-11-03: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST).
    const r = zoneToUtc(dt("2024-11-03 01:30:00"), zone("America/New_York"));
    assert.equal(r.kind, "ok");
    if (r.kind === "ok") assert.equal(formatDateTime(r.utc, 0), "2024-11-03 05:30:00");
  });

  it("offsets follow the zone's rules at each instant", () => {
    const berlin = zone("Europe/Berlin");
    assert.equal(offsetAt(berlin, Date.UTC(2024, 0, 1)), 3600);
    assert.equal(offsetAt(berlin, Date.UTC(2024, 6, 1)), 7200);
    assert.equal(offsetAt(zone("Asia/Kolkata"), 0), 19_800);
  });

  it("zero dates are not converted", () => {
    const zero: DateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0,
      microsecond: 0 };
    assert.deepEqual(utcToZone(zero, zone("+08:00")), zero);
    assert.deepEqual(zoneToUtc(zero, zone("+08:00")), { kind: "ok", utc: zero });
  });

  it("epochToZone and convertZone", () => {
    assert.equal(formatDateTime(epochToZone(1_700_000_000_123.5, zone("+01:00")), 6),
      "2023-11-14 23:13:20.123500");
    assert.equal(formatDateTime(convertZone(dt("2024-01-01 12:00:00"), zone("+00:00"),
      zone("Asia/Shanghai")), 0), "2024-01-01 20:00:00");
  });

  it("a stored TIMESTAMP (utc) reads in the session's zone; other values as they are", () => {
    const stored = { kind: "datetime" as const, fsp: 0, utc: true,
      value: dt("2024-01-01 00:00:00") };
    const read = sessionValue(stored, { timeZone: zone("+08:00") });
    assert.equal(toText(read), "2024-01-01 08:00:00");
    assert.equal(read !== null && read.kind === "datetime" && read.utc, undefined);
    const plain = { kind: "datetime" as const, fsp: 0, value: dt("2024-01-01 00:00:00") };
    assert.equal(sessionValue(plain, { timeZone: zone("+08:00") }), plain);
  });
});

/** A context at `epochMs` in `zoneName`. */
function context(zoneName: string, epochMs: number): EvalContext {
  const timeZone = zone(zoneName);
  return {
    warn: () => {},
    statementTime: epochToZone(epochMs, timeZone),
    statementEpochMs: epochMs,
    timeZone,
    database: null, user: "u@h", currentUser: "u@%", connectionId: 1, version: "8.0.11",
    lastInsertId: 0n, setLastInsertId: () => {}, setUserVariable: () => {},
  };
}

function call(name: string, args: readonly Expr[]): Expr {
  const built = buildCall(name, args);
  assert.equal(built.kind, "ok", name);
  return (built as { expr: Expr }).expr;
}

describe("zone-dependent functions", () => {
  const at = Date.UTC(2024, 0, 1, 0, 0, 0, 500);
  const cases: readonly [string, string, Expr, string | null][] = [
    // [zone, label, expression, text of the result]
    ["+08:00", "UNIX_TIMESTAMP()", call("unix_timestamp", []), "1704067200"],
    ["+08:00", "UNIX_TIMESTAMP('2024-01-01 08:00:00')",
      call("unix_timestamp", [stringLiteral("2024-01-01 08:00:00")]), "1704067200"],
    ["UTC", "UNIX_TIMESTAMP('2024-01-01 00:00:00.25')",
      call("unix_timestamp", [stringLiteral("2024-01-01 00:00:00.25")]), "1704067200.25"],
    ["UTC", "UNIX_TIMESTAMP('1969-12-31 23:59:59')",
      call("unix_timestamp", [stringLiteral("1969-12-31 23:59:59")]), "0"],
    ["UTC", "UNIX_TIMESTAMP('nonsense')",
      call("unix_timestamp", [stringLiteral("nonsense")]), null],
    ["+08:00", "FROM_UNIXTIME(0)", call("from_unixtime", [integerLiteral("0")]),
      "1970-01-01 08:00:00"],
    ["Europe/Berlin", "FROM_UNIXTIME(1720000000.5)",
      call("from_unixtime", [decimalLiteral("1720000000.5")]), "2024-07-03 11:46:40.5"],
    ["UTC", "FROM_UNIXTIME(32536771200)",
      call("from_unixtime", [integerLiteral("32536771200")]), null],
    ["UTC", "CONVERT_TZ('2024-01-01 12:00:00', '+00:00', '+10:00')",
      call("convert_tz", [stringLiteral("2024-01-01 12:00:00"), stringLiteral("+00:00"),
        stringLiteral("+10:00")]), "2024-01-01 22:00:00"],
    ["UTC", "CONVERT_TZ('2024-07-01 12:00:00', 'Europe/Berlin', 'America/New_York')",
      call("convert_tz", [stringLiteral("2024-07-01 12:00:00"), stringLiteral("Europe/Berlin"),
        stringLiteral("America/New_York")]), "2024-07-01 06:00:00"],
    ["UTC", "CONVERT_TZ(…, 'Mars/Base', …) is NULL",
      call("convert_tz", [stringLiteral("2024-07-01 12:00:00"), stringLiteral("Mars/Base"),
        stringLiteral("UTC")]), null],
    ["UTC", "CONVERT_TZ outside the TIMESTAMP range is unchanged",
      call("convert_tz", [stringLiteral("1960-01-01 00:00:00"), stringLiteral("+00:00"),
        stringLiteral("+05:00")]), "1960-01-01 00:00:00"],
    ["+08:00", "UTC_TIMESTAMP()", call("utc_timestamp", []), "2024-01-01 00:00:00"],
    ["-05:00", "UTC_DATE()", call("utc_date", []), "2024-01-01"],
    ["+08:00", "UTC_TIME(1)", call("utc_time", [integerLiteral("1")]), "00:00:00.5"],
    ["+08:00", "NOW()", call("now", []), "2024-01-01 08:00:00"],
    ["-05:00", "NOW()", call("now", []), "2023-12-31 19:00:00"],
  ];
  for (const [zoneName, label, expr, expected] of cases) {
    it(`${label} at ${zoneName}`, () => {
      assert.equal(toText(evaluate(expr, context(zoneName, at))), expected);
    });
  }
});
