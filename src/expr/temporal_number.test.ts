/**
 * Temporal values in numeric context, as MySQL 8 reads them: a DATE is `YYYYMMDD`, a
 * DATETIME/TIMESTAMP `YYYYMMDDhhmmss` with the fractional seconds its fsp keeps. SUM, AVG,
 * arithmetic and CAST to a number all go through these conversions (they used to read a
 * DATE as `YYYYMMDD000000` and drop fractions).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Value, formatScaled, toDouble, toInteger, toScaled } from "./mod.ts";

const at = { year: 2020, month: 1, day: 2, hour: 3, minute: 4, second: 5,
  microsecond: 567_890 };
const date: Value = { kind: "datetime", value: { ...at, hour: 0, minute: 0, second: 0,
  microsecond: 0 }, fsp: 0, date: true };
const dt0: Value = { kind: "datetime", value: { ...at, microsecond: 0 }, fsp: 0 };
const dt2: Value = { kind: "datetime", value: at, fsp: 2 };
const dt6: Value = { kind: "datetime", value: at, fsp: 6 };

test("DATE and DATETIME(fsp) as numbers: exact, double and integer", { timeout: 10_000 }, () => {
  const warn = (): void => {};
  const cases: [Value, string, bigint][] = [
    [date, "20200102", 20200102n],
    [dt0, "20200102030405", 20200102030405n],
    // Fractions are cut to the fsp (as stored), then integers round half away from zero.
    [dt2, "20200102030405.56", 20200102030406n],
    [dt6, "20200102030405.567890", 20200102030406n],
  ];
  for (const [value, exact, integer] of cases) {
    const scaled = toScaled(value, warn)!;
    assert.equal(formatScaled(scaled.unscaled, scaled.scale), exact);
    // The double nearest the exact number.
    assert.equal(toDouble(value, warn), Number(exact));
    assert.equal(toInteger(value, warn), integer);
  }
});
