/**
 * TIMESTAMP constant DEFAULTs kept in UTC (timestamp_default.ts): read in the DDL session's
 * zone, the value rows take, shown back in another zone, left alone when no instant
 * (NULL, CURRENT_TIMESTAMP, zero date, other column types), 1067 out of range.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveTimeZone, toText } from "../../expr/mod.ts";
import type { ColumnInfo } from "../catalog/schema.ts";
import { MySqlError } from "../mysql_errors.ts";
import { columnInZone, defaultToUtc, tableInZone, utcDefaultValue }
  from "./timestamp_default.ts";

const opts = { timeout: 10_000 };

function column(kind: "timestamp" | "datetime", defaultText: string | null): ColumnInfo {
  return { id: 1, name: "ts", offset: 0, nullable: true, defaultText, autoIncrement: false,
    type: { name: kind.toUpperCase(), kind, unsigned: false, length: null, scale: 0,
      binaryCollation: false } };
}

function zone(name: string): NonNullable<ReturnType<typeof resolveTimeZone>> {
  const z = resolveTimeZone(name);
  assert.ok(z !== undefined, name);
  return z;
}

test("a TIMESTAMP default is read in the session's zone and kept in UTC", opts, () => {
  const utc = defaultToUtc(column("timestamp", "'2020-01-01 00:00:00'"), zone("+05:00"));
  assert.equal(utc.defaultText, "'2019-12-31 19:00:00'");
  assert.equal(utc.defaultUtc, true);
  // Converting again changes nothing; rows take the instant, marked as UTC.
  assert.equal(defaultToUtc(utc, zone("-03:00")), utc);
  const value = utcDefaultValue(utc);
  assert.ok(value !== null && value !== undefined && value.kind === "datetime");
  assert.equal(value.utc, true);
  assert.equal(toText(value), "2019-12-31 19:00:00");
  // Shown in the reader's zone, a named zone with daylight saving included.
  assert.equal(columnInZone(utc, zone("-03:00")).defaultText, "'2019-12-31 16:00:00'");
  assert.equal(columnInZone(utc, undefined).defaultText, "'2019-12-31 19:00:00'");
  const summer = defaultToUtc(column("timestamp", "'2021-07-01 12:00:00'"), zone("UTC"));
  assert.equal(columnInZone(summer, zone("Europe/Berlin")).defaultText,
    "'2021-07-01 14:00:00'");
  assert.equal(columnInZone(summer, zone("+00:00")).defaultUtc, undefined);
  // Integer literals are datetimes too.
  assert.equal(defaultToUtc(column("timestamp", "20200101000000"), zone("+01:00"))
    .defaultText, "'2019-12-31 23:00:00'");
});

test("defaults that are no instant stay as written; out of range is 1067", opts, () => {
  for (const text of [null, "NULL", "CURRENT_TIMESTAMP", "'0000-00-00 00:00:00'"]) {
    const c = column("timestamp", text);
    assert.equal(defaultToUtc(c, zone("+05:00")), c, String(text));
  }
  const datetime = column("datetime", "'2020-01-01 00:00:00'");
  assert.equal(defaultToUtc(datetime, zone("+05:00")), datetime);
  assert.equal(utcDefaultValue(datetime), undefined);
  assert.throws(() => defaultToUtc(column("timestamp", "'1960-01-01 00:00:00'"), zone("UTC")),
    (e: unknown) => e instanceof MySqlError && e.errno === 1067 &&
      e.message === "Invalid default value for 'ts'");
  const table = { id: 1, name: "t", dbId: 1, columns: [datetime], indexes: [],
    pkHandle: null };
  assert.equal(tableInZone(table, zone("+01:00")), table);
});
