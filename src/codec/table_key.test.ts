/**
 * Tests for the table key layout: TiDB's exact bytes for row and index keys, ordering of
 * handles (negatives first) and of index entries, prefixes that bound scans, metadata
 * keys, and refusal of corrupt keys.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ErrorCode, hasErrorCode, indexId, tableId } from "../base/mod.ts";
import { prefixNext } from "./bytes.ts";
import type { KeyDatum } from "./key.ts";
import { int64Max, int64Min } from "./number.ts";
import {
  decodeIndexKey,
  decodeMetaKey,
  decodeRowKey,
  encodeIndexKey,
  encodeMetaKey,
  encodeRowKey,
  indexPrefix,
  metaPrefix,
  recordPrefix,
  rowKeyBytes,
  tablePrefix,
} from "./table_key.ts";
import {
  bytewise,
  compareRows,
  decodedRowDatums,
  directions,
  modelRow,
  propertyRuns,
  rowDatums,
  schema,
  schemaAndTwoRows,
} from "./test_support.ts";

const timeout = 60_000;

const handle = fc.oneof(fc.bigInt({ min: int64Min, max: int64Max }), fc.bigInt(-3n, 3n));
const anyTableId = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map(tableId);
const anyIndexId = fc.integer({ min: 1, max: 1000 }).map(indexId);

function hex(value: Uint8Array): string {
  return Buffer.from(value).toString("hex");
}

function assertCorrupt(fn: () => unknown, label: string): void {
  assert.throws(fn, (error) => hasErrorCode(error, ErrorCode.CodecCorrupt), label);
}

test("encodeRowKey writes TiDB's t{tableId}_r{handle} bytes", { timeout }, () => {
  const key = encodeRowKey(tableId(1), 1n);
  assert.equal(hex(key), "74" + "8000000000000001" + "5f72" + "8000000000000001");
  assert.equal(key.length, rowKeyBytes);
  assert.equal(hex(encodeRowKey(tableId(2), -1n)).slice(-16), "7fffffffffffffff");
});

test("encodeIndexKey writes TiDB's t{tableId}_i{indexId}{values}[handle] bytes", {
  timeout,
}, () => {
  const nonUnique = encodeIndexKey({
    tableId: tableId(1),
    indexId: indexId(2),
    values: [{ kind: "int", value: 1n }],
    handle: 5n,
  });
  assert.equal(
    hex(nonUnique),
    "74" + "8000000000000001" + "5f69" + "8000000000000002" + "03" + "8000000000000001" +
      "03" + "8000000000000005",
  );
  const unique = encodeIndexKey({ tableId: tableId(1), indexId: indexId(2), values: [] });
  assert.deepEqual(unique, indexPrefix(tableId(1), indexId(2)));
});

test("encodeRowKey orders rows by handle, negative handles first", { timeout }, () => {
  const handles = [int64Min, -65536n, -1n, 0n, 1n, 255n, 256n, int64Max];
  for (let i = 1; i < handles.length; i++) {
    const previous = encodeRowKey(tableId(7), handles[i - 1]!);
    assert.equal(bytewise(previous, encodeRowKey(tableId(7), handles[i]!)), -1);
  }
  fc.assert(
    fc.property(anyTableId, handle, handle, (table, a, b) => {
      const order = bytewise(encodeRowKey(table, a), encodeRowKey(table, b));
      assert.equal(order, a < b ? -1 : a > b ? 1 : 0);
    }),
    propertyRuns,
  );
});

test("a table's rows and indexes stay inside its prefixes", { timeout }, () => {
  fc.assert(
    fc.property(anyTableId, anyIndexId, handle, handle, (table, index, h, other) => {
      const row = encodeRowKey(table, h);
      const entry = encodeIndexKey({ tableId: table, indexId: index, values: [], handle: h });
      const within = (key: Uint8Array, prefix: Uint8Array): boolean =>
        bytewise(prefix, key) <= 0 && bytewise(key, prefixNext(prefix)) < 0;
      assert.ok(within(row, recordPrefix(table)));
      assert.ok(within(row, tablePrefix(table)));
      assert.ok(within(entry, indexPrefix(table, index)));
      assert.ok(within(entry, tablePrefix(table)));
      // Index entries sort before rows ('_i' < '_r'); the next table sorts after both.
      assert.equal(bytewise(entry, encodeRowKey(table, other)), -1);
      if (table < Number.MAX_SAFE_INTEGER) {
        const next = tablePrefix(tableId(table + 1));
        assert.equal(bytewise(row, next), -1);
      }
      // Metadata sorts before all table data.
      assert.equal(bytewise(encodeMetaKey({ key: new Uint8Array(8).fill(0xff) }), row), -1);
      assert.equal(metaPrefix[0], "m".charCodeAt(0));
    }),
    propertyRuns,
  );
});

test("decodeRowKey reads back what encodeRowKey wrote", { timeout }, () => {
  fc.assert(
    fc.property(anyTableId, handle, (table, h) => {
      assert.deepEqual(decodeRowKey(encodeRowKey(table, h)), { tableId: table, handle: h });
    }),
    propertyRuns,
  );
});

test("encodeRowKey refuses a handle outside int64", { timeout }, () => {
  assert.throws(
    () => encodeRowKey(tableId(1), int64Max + 1n),
    (error) => hasErrorCode(error, ErrorCode.CodecOutOfRange),
  );
});

test("decodeRowKey refuses keys that are not row keys", { timeout }, () => {
  const good = encodeRowKey(tableId(3), 9n);
  const index = encodeIndexKey({ tableId: tableId(3), indexId: indexId(1), values: [] });
  const zeroTable = Uint8Array.from([0x74, 0x80, 0, 0, 0, 0, 0, 0, 0, ...good.subarray(9)]);
  const negativeTable = Uint8Array.from([0x74, 0x7f, ...new Array<number>(7).fill(0xff)]);
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["meta prefix", Uint8Array.from([0x6d, ...good.subarray(1)])],
    ["truncated", good.subarray(0, rowKeyBytes - 1)],
    ["trailing bytes", Uint8Array.from([...good, 0])],
    ["index key", index],
    ["table id 0", zeroTable],
    ["negative table id", Uint8Array.from([...negativeTable, ...good.subarray(9)])],
  ];
  for (const [label, key] of cases) assertCorrupt(() => decodeRowKey(key), label);
});

test("encodeIndexKey orders entries by values, then by handle", { timeout }, () => {
  fc.assert(
    fc.property(schemaAndTwoRows, handle, handle, ([columns, a, b], ha, hb) => {
      const entry = (values: KeyDatum[], h: bigint): Uint8Array =>
        encodeIndexKey({
          tableId: tableId(5),
          indexId: indexId(1),
          values,
          descending: directions(columns),
          handle: h,
        });
      const byValues = compareRows(columns, a, b);
      const expected = byValues !== 0 ? byValues : ha < hb ? -1 : ha > hb ? 1 : 0;
      const order = bytewise(entry(rowDatums(columns, a), ha), entry(rowDatums(columns, b), hb));
      assert.equal(order, expected);
    }),
    propertyRuns,
  );
});

test("decodeIndexKey reads back what encodeIndexKey wrote", { timeout }, () => {
  const entry = schema.chain((columns) =>
    fc.tuple(fc.constant(columns), modelRow(columns), fc.option(handle), anyTableId, anyIndexId),
  );
  fc.assert(
    fc.property(entry, ([columns, row, h, table, index]) => {
      const key = encodeIndexKey({
        tableId: table,
        indexId: index,
        values: rowDatums(columns, row),
        descending: directions(columns),
        ...(h === null ? {} : { handle: h }),
      });
      assert.deepEqual(decodeIndexKey(key, { columnCount: columns.length }), {
        tableId: table,
        indexId: index,
        values: decodedRowDatums(columns, row),
        descending: directions(columns),
        handle: h ?? undefined,
      });
    }),
    propertyRuns,
  );
});

test("decodeIndexKey refuses keys that do not match the index shape", { timeout }, () => {
  const base = { tableId: tableId(1), indexId: indexId(1) };
  const oneValue: KeyDatum[] = [{ kind: "bytes", value: Uint8Array.of(1) }];
  const withHandle = encodeIndexKey({ ...base, values: oneValue, handle: 3n });
  const descHandle = encodeIndexKey({
    ...base,
    values: [...oneValue, { kind: "int", value: 3n }],
    descending: [false, true],
  });
  const bytesHandle = encodeIndexKey({ ...base, values: [...oneValue, ...oneValue] });
  const cases: [string, Uint8Array, number][] = [
    ["too few values", withHandle, 3],
    ["two trailing values", withHandle, 0],
    ["descending handle", descHandle, 1],
    ["non-int handle", bytesHandle, 1],
    ["row key", encodeRowKey(tableId(1), 3n), 0],
    ["truncated value", withHandle.subarray(0, 25), 1],
    ["index id 0", Uint8Array.from([...withHandle.subarray(0, 11), 0x80, 0, 0, 0, 0, 0, 0, 0]), 0],
  ];
  for (const [label, key, columnCount] of cases) {
    assertCorrupt(() => decodeIndexKey(key, { columnCount }), label);
  }
});

test("encodeMetaKey writes TiDB's structure layout and decodes back", { timeout }, () => {
  const name = new TextEncoder().encode("DBs");
  assert.equal(
    hex(encodeMetaKey({ key: name })),
    "6d" + "4442730000000000fa" + "0000000000000073",
  );
  const field = new TextEncoder().encode("DB:1");
  assert.equal(
    hex(encodeMetaKey({ key: name, field })),
    "6d" + "4442730000000000fa" + "0000000000000068" + "44423a3100000000fb",
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 20 }), fc.option(fc.uint8Array()), (key, f) => {
      const meta = f === null ? { key } : { key, field: f };
      assert.deepEqual(decodeMetaKey(encodeMetaKey(meta)), meta);
    }),
    propertyRuns,
  );
});

test("decodeMetaKey refuses keys that are not meta keys", { timeout }, () => {
  const good = encodeMetaKey({ key: Uint8Array.of(1) });
  const badTag = Uint8Array.from([...good.subarray(0, good.length - 1), 0x78]);
  const cases: [string, Uint8Array][] = [
    ["table key", encodeRowKey(tableId(1), 1n)],
    ["truncated", good.subarray(0, good.length - 1)],
    ["unknown tag", badTag],
    ["trailing bytes", Uint8Array.from([...good, 0])],
  ];
  for (const [label, key] of cases) assertCorrupt(() => decodeMetaKey(key), label);
});

test("table key decoders refuse random bytes with Codec:Corrupt only", { timeout }, () => {
  const noise = fc.oneof(
    fc.uint8Array({ maxLength: 48 }),
    fc
      .tuple(fc.constantFrom(0x74, 0x6d), fc.uint8Array({ maxLength: 40 }))
      .map(([first, rest]) => Uint8Array.from([first, ...rest])),
    fc
      .tuple(fc.uint8Array({ maxLength: 30 }), fc.nat(40))
      .map(([tail, n]) => {
        const key = encodeIndexKey({ tableId: tableId(1), indexId: indexId(1), values: [] });
        return Uint8Array.from([...key, ...tail]).subarray(0, 19 + n);
      }),
  );
  const decoders = [
    decodeRowKey,
    decodeMetaKey,
    (key: Uint8Array) => decodeIndexKey(key, { columnCount: 1 }),
  ];
  fc.assert(
    fc.property(noise, (key) => {
      for (const decode of decoders) {
        try {
          decode(key);
        } catch (error) {
          assert.ok(hasErrorCode(error, ErrorCode.CodecCorrupt), String(error));
        }
      }
    }),
    { ...propertyRuns, numRuns: 2000 },
  );
});
