/**
 * Unit tests of value encoding: text and binary rows per column type, column definition
 * defaults, binary parameter decoding (including malformed input) and the payload codec's
 * length-encoded integers at their boundaries.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Collation, ColumnFlag, MySqlType } from "./constants.ts";
import { MalformedPacket, PayloadReader, PayloadWriter } from "./payload.ts";
import type { ColumnDef, SqlValue } from "./session.ts";
import {
  completeColumn,
  encodeBinaryRow,
  encodeTextRow,
  readBinaryParam,
  textValue,
} from "./values.ts";

const opts = { timeout: 10_000 };
const text = (column: ColumnDef, value: Exclude<SqlValue, null>): string =>
  new TextDecoder().decode(textValue(column, value));

test("length-encoded integers round-trip at every width boundary", opts, () => {
  for (const n of [0, 250, 251, 0xffff, 0x10000, 0xffffff, 0x1000000, 2 ** 40]) {
    const bytes = new PayloadWriter().lenencInt(n).finish();
    assert.equal(new PayloadReader(bytes).lenencInt(), n);
  }
  assert.throws(() => new PayloadReader(new Uint8Array([0xfc, 1])).lenencInt(), MalformedPacket);
  assert.throws(() => new PayloadReader(new Uint8Array([0xff])).lenencInt(), MalformedPacket);
});

test("text values follow MySQL's formats for each type", opts, () => {
  const dt = { kind: "datetime", year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5,
    microsecond: 60 } as const;
  assert.equal(text({ name: "d", type: MySqlType.Date }, dt), "2024-01-02");
  assert.equal(text({ name: "d", type: MySqlType.DateTime }, dt), "2024-01-02 03:04:05");
  assert.equal(text({ name: "d", type: MySqlType.DateTime, decimals: 3 }, dt),
    "2024-01-02 03:04:05.000");
  assert.equal(text({ name: "t", type: MySqlType.Time, decimals: 6 },
    { kind: "time", negative: false, hours: 838, minutes: 59, seconds: 59,
      microseconds: 5 }), "838:59:59.000005");
  assert.equal(text({ name: "f", type: MySqlType.Float }, 0.1), "0.1");
  assert.equal(text({ name: "f", type: MySqlType.Double }, 1e21), "1e21");
  // Fixed decimals print every digit (PI() has 6, ROUND(1.5e0, 2) and DOUBLE(10,2) 2).
  assert.equal(text({ name: "f", type: MySqlType.Double, decimals: 6 }, Math.PI), "3.141593");
  assert.equal(text({ name: "f", type: MySqlType.Double, decimals: 2 }, 1.5), "1.50");
  assert.equal(text({ name: "f", type: MySqlType.Float, decimals: 3 }, 0.25), "0.250");
  assert.equal(text({ name: "f", type: MySqlType.Double, decimals: 31 }, 1.5), "1.5");
  assert.equal(text({ name: "y", type: MySqlType.Year }, 5), "0005");
  assert.equal(text({ name: "n", type: MySqlType.LongLong }, -(2n ** 63n)),
    "-9223372036854775808");
});

test("a text row encodes NULL as 0xfb", opts, () => {
  const columns: ColumnDef[] = [{ name: "a", type: MySqlType.VarString },
    { name: "b", type: MySqlType.Long }];
  assert.deepEqual([...encodeTextRow(columns, [null, 7])], [0xfb, 1, 0x37]);
});

test("a binary row has a NULL bitmap offset by 2 and fixed-width integers", opts, () => {
  const columns: ColumnDef[] = [
    { name: "a", type: MySqlType.Tiny }, { name: "b", type: MySqlType.VarString },
    { name: "c", type: MySqlType.Short }, { name: "d", type: MySqlType.LongLong,
      flags: ColumnFlag.Unsigned },
  ];
  const row = encodeBinaryRow(columns, [-1, null, 513, 2n ** 64n - 1n]);
  assert.deepEqual([...row], [0, 0b1000, 0xff, 1, 2, ...Array<number>(8).fill(0xff)]);
});

test("binary DATETIME and TIME use the shortest length form", opts, () => {
  const columns: ColumnDef[] = [{ name: "a", type: MySqlType.DateTime },
    { name: "b", type: MySqlType.Date }, { name: "c", type: MySqlType.Time }];
  const row = encodeBinaryRow(columns, [
    { kind: "datetime", year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0,
      microsecond: 0 },
    { kind: "datetime", year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0,
      microsecond: 0 },
    { kind: "time", negative: true, hours: 49, minutes: 2, seconds: 3, microseconds: 4 },
  ]);
  assert.deepEqual([...row], [0, 0, 4, 0xd0, 0x07, 1, 1, 0, 12, 1, 2, 0, 0, 0, 1, 2, 3,
    4, 0, 0, 0]);
});

test("binary parameters decode per type and read back what a row encodes", opts, () => {
  const cases: [number, boolean, SqlValue][] = [
    [MySqlType.Tiny, false, -3], [MySqlType.Tiny, true, 253], [MySqlType.Short, false, -300],
    [MySqlType.Long, true, 4_000_000_000], [MySqlType.LongLong, false, -(2n ** 62n)],
    [MySqlType.Double, false, 0.5], [MySqlType.Float, false, 0.25],
    [MySqlType.NewDecimal, false, "-1.50"], [MySqlType.VarString, false, "ü"],
    [MySqlType.Blob, false, new Uint8Array([0, 255])],
    [MySqlType.DateTime, false, { kind: "datetime", year: 2020, month: 12, day: 31, hour: 23,
      minute: 59, second: 58, microsecond: 999_999 }],
    [MySqlType.Time, false, { kind: "time", negative: false, hours: 30, minutes: 0,
      seconds: 1, microseconds: 0 }],
  ];
  for (const [type, unsigned, value] of cases) {
    const column: ColumnDef = { name: "x", type: type as ColumnDef["type"],
      flags: unsigned ? ColumnFlag.Unsigned : 0 };
    const row = encodeBinaryRow([column], [value]);
    const r = new PayloadReader(row, 2);
    assert.deepEqual(readBinaryParam(r, type, unsigned), value, `type ${type}`);
    assert.equal(r.remaining, 0);
  }
});

test("malformed binary parameters raise MalformedPacket", opts, () => {
  assert.throws(() => readBinaryParam(new PayloadReader(new Uint8Array([5])),
    MySqlType.DateTime, false), MalformedPacket);
  assert.throws(() => readBinaryParam(new PayloadReader(new Uint8Array([1, 2])),
    MySqlType.Long, false), MalformedPacket);
  assert.throws(() => readBinaryParam(new PayloadReader(new Uint8Array([0])), 0x42, false),
    MalformedPacket);
  assert.deepEqual(readBinaryParam(new PayloadReader(new Uint8Array([2, 0xff, 0xfe])),
    MySqlType.VarString, false), new Uint8Array([0xff, 0xfe]), "non-UTF-8 text stays bytes");
});

test("column definitions get MySQL's defaults for charset, length, decimals, flags",
  opts, () => {
    const text = completeColumn({ name: "s", type: MySqlType.VarString });
    assert.equal(text.charset, Collation.Utf8mb4);
    assert.equal(text.flags, 0);
    const num = completeColumn({ name: "n", type: MySqlType.LongLong });
    assert.deepEqual([num.charset, num.length, num.decimals, num.flags],
      [Collation.Binary, 20, 0, ColumnFlag.Binary | ColumnFlag.Num]);
    assert.equal(completeColumn({ name: "d", type: MySqlType.Double }).decimals, 31);
    assert.equal(completeColumn({ name: "t", type: MySqlType.DateTime, decimals: 3 }).length,
      23);
    assert.equal(completeColumn({ name: "b", type: MySqlType.Blob }).flags,
      ColumnFlag.Blob | ColumnFlag.Binary);
  });
