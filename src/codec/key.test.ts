/**
 * Tests for the memcomparable key codec: byte order equals SQL order (per kind, across
 * columns, both directions), equal values encode identically, keys decode back, and
 * corrupt input is refused with `Codec:Corrupt` — checked on tables of cases and with
 * fast-check properties against the reference comparators in `test_support.ts`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ErrorCode, TesseraError, hasErrorCode, limits } from "../base/mod.ts";
import { binaryCollation, generalCiCollation } from "./collation.ts";
import { parseDecimal } from "./decimal.ts";
import type { KeyColumn, KeyDatum } from "./key.ts";
import { KeyReader, KeyWriter, decodeKey, encodeKey } from "./key.ts";
import { int64Max, int64Min, uint64Max } from "./number.ts";
import {
  bytewise,
  columnTypes,
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

const int = (value: bigint): KeyDatum => ({ kind: "int", value });
const uint = (value: bigint): KeyDatum => ({ kind: "uint", value });
const float = (value: number): KeyDatum => ({ kind: "float", value });
const bytes = (...value: number[]): KeyDatum => ({ kind: "bytes", value: Uint8Array.from(value) });
const utf8 = new TextEncoder();
const text = (value: string): KeyDatum => ({ kind: "bytes", value: utf8.encode(value) });
const decimal = (value: string): KeyDatum => ({ kind: "decimal", value: parseDecimal(value) });
const ci = (value: string): KeyDatum => ({ kind: "string", value, collation: generalCiCollation });
const nul: KeyDatum = { kind: "null" };

function hex(value: Uint8Array): string {
  return Buffer.from(value).toString("hex");
}

/** Asserts that each datum's single-column key sorts strictly after the previous one's. */
function assertStrictlyIncreasing(values: readonly KeyDatum[], label: string): void {
  for (let i = 1; i < values.length; i++) {
    const previous = encodeKey([values[i - 1]!]);
    const current = encodeKey([values[i]!]);
    assert.equal(bytewise(previous, current), -1, `${label}: item ${i - 1} < item ${i}`);
  }
}

function assertCorrupt(fn: () => unknown, label: string): void {
  assert.throws(fn, (error) => hasErrorCode(error, ErrorCode.CodecCorrupt), label);
}

test("encodeKey orders integers as numbers", { timeout }, () => {
  assertStrictlyIncreasing(
    [int64Min, int64Min + 1n, -256n, -1n, 0n, 1n, 255n, 256n, int64Max].map(int),
    "int",
  );
  assertStrictlyIncreasing([0n, 1n, 255n, 1n << 63n, uint64Max].map(uint), "uint");
});

test("encodeKey writes TiDB's bytes for ints, uints and NULL", { timeout }, () => {
  assert.equal(hex(encodeKey([int(1n)])), "038000000000000001");
  assert.equal(hex(encodeKey([int(-1n)])), "037fffffffffffffff");
  assert.equal(hex(encodeKey([uint(1n)])), "040000000000000001");
  assert.equal(hex(encodeKey([nul])), "00");
});

test("encodeKey refuses integers outside their 64-bit range", { timeout }, () => {
  for (const datum of [int(int64Max + 1n), int(int64Min - 1n), uint(-1n), uint(uint64Max + 1n)]) {
    assert.throws(
      () => encodeKey([datum]),
      (error) => hasErrorCode(error, ErrorCode.CodecOutOfRange),
    );
  }
});

test("encodeKey orders floats as numbers, infinities at the ends", { timeout }, () => {
  const values = [-Infinity, -1.7976931348623157e308, -1, -Number.MIN_VALUE, 0];
  const ordered = [...values, Number.MIN_VALUE, 0.5, 1, 1e308, Infinity];
  assertStrictlyIncreasing(ordered.map(float), "float");
});

test("encodeKey writes -0.0 and 0.0 identically and decodes both as 0", { timeout }, () => {
  assert.deepEqual(encodeKey([float(-0)]), encodeKey([float(0)]));
  const [decoded] = decodeKey(encodeKey([float(-0)]));
  assert.ok(decoded?.kind === "float" && Object.is(decoded.value, 0));
});

test("encodeKey refuses NaN with Codec:Unsupported", { timeout }, () => {
  assert.throws(
    () => encodeKey([float(NaN)]),
    (error) => hasErrorCode(error, ErrorCode.CodecUnsupported),
  );
});

test("encodeKey writes TiDB's group encoding for bytes", { timeout }, () => {
  // Vectors from TiDB's util/codec bytes tests, after our 0x01 flag.
  const cases: [number[], string][] = [
    [[], "01" + "0000000000000000f7"],
    [[0], "01" + "0000000000000000f8"],
    [[1, 2, 3], "01" + "0102030000000000fa"],
    [[1, 2, 3, 0], "01" + "0102030000000000fb"],
    [[1, 2, 3, 4, 5, 6, 7, 8], "01" + "0102030405060708ff" + "0000000000000000f7"],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9], "01" + "0102030405060708ff" + "0900000000000000f8"],
  ];
  for (const [value, expected] of cases) {
    assert.equal(hex(encodeKey([bytes(...value)])), expected, `[${value.join(",")}]`);
  }
});

test("encodeKey orders byte strings so that a prefix sorts first", { timeout }, () => {
  const ordered = ["", "\0", "\0\0", "a", "a\0", "ab", "abcdefg", "abcdefgh", "abcdefgh\0"];
  const all = [...ordered, "abcdefghi", "abcdefgi", "b", "\xfe", "\xff", "\xff\0"];
  // One byte per character, so "\xff" is the byte 0xff.
  const latin1 = (s: string): KeyDatum => bytes(...Array.from(s, (c) => c.charCodeAt(0)));
  assertStrictlyIncreasing(all.map(latin1), "bytes");
});

test("encodeKey orders DECIMAL values as numbers", { timeout }, () => {
  const tiny = `0.${"0".repeat(29)}1`;
  const ordered = [
    `-${"9".repeat(65)}`,
    "-1e40",
    "-100",
    "-12.5",
    "-12.34",
    "-12.3",
    "-10",
    "-9.99",
    "-1",
    "-0.5",
    "-0.05",
    `-${tiny}`,
    "0",
    tiny,
    "0.05",
    "0.5",
    "0.55",
    "1",
    "1.000000000000000000000000000001",
    "1.5",
    "9.99",
    "10",
    "12.3",
    "12.34",
    "100",
    "1e40",
    "9".repeat(65),
  ];
  assertStrictlyIncreasing(ordered.map(decimal), "decimal");
});

test("encodeKey writes equal DECIMAL values identically", { timeout }, () => {
  const groups = [
    ["1", "1.0", "1.00", "01.000"],
    ["0", "-0.0", "0.000", "+0"],
    ["-12.34", "-12.3400", "-012.34"],
    ["100", "1e2", "100.00"],
  ];
  for (const group of groups) {
    const first = hex(encodeKey([decimal(group[0]!)]));
    for (const value of group) assert.equal(hex(encodeKey([decimal(value)])), first, value);
  }
});

test("encodeKey sorts NULL before every value, and after it when descending", { timeout }, () => {
  const values = [
    int(int64Min),
    uint(0n),
    float(-Infinity),
    bytes(),
    decimal(`-${"9".repeat(65)}`),
    ci(""),
  ];
  for (const value of values) {
    assert.equal(bytewise(encodeKey([nul]), encodeKey([value])), -1, value.kind);
    const desc = { descending: [true] };
    assert.equal(bytewise(encodeKey([nul], desc), encodeKey([value], desc)), 1, value.kind);
  }
});

test("encodeKey reverses the order of a descending column", { timeout }, () => {
  const desc = { descending: [true] };
  assert.equal(bytewise(encodeKey([int(1n)], desc), encodeKey([int(2n)], desc)), 1);
  assert.equal(bytewise(encodeKey([text("a")], desc), encodeKey([text("ab")], desc)), 1);
  assert.equal(bytewise(encodeKey([decimal("-1")], desc), encodeKey([decimal("1")], desc)), 1);
});

test("encodeKey lets the first differing column decide, whatever the lengths", { timeout }, () => {
  // ("a", 99) < ("ab", 1): the shorter string wins before the int is looked at.
  const short = encodeKey([text("a"), int(99n)]);
  const long = encodeKey([text("ab"), int(1n)]);
  assert.equal(bytewise(short, long), -1);
  // A key is a byte prefix of every longer key that extends its values.
  const prefix = encodeKey([text("abcdefgh"), nul]);
  const extended = encodeKey([text("abcdefgh"), nul, decimal("5")]);
  assert.deepEqual(extended.subarray(0, prefix.length), prefix);
});

test("encodeKey writes strings as their collation sort key", { timeout }, () => {
  const sameUnderCi = ["abc", "ABC", "Abc  ", "ÁBC"].map((v) => hex(encodeKey([ci(v)])));
  assert.equal(new Set(sameUnderCi).size, 1);
  const asBinary = (value: string): KeyDatum => ({
    kind: "string",
    value,
    collation: binaryCollation,
  });
  assert.notEqual(hex(encodeKey([asBinary("abc")])), hex(encodeKey([asBinary("ABC")])));
  assert.equal(hex(encodeKey([asBinary("abc")])), hex(encodeKey([text("abc")])));
});

test("encodeKey refuses keys longer than limits.keyBytesMax", { timeout }, () => {
  const tooLong = { kind: "bytes", value: new Uint8Array(limits.keyBytesMax) } as const;
  assert.throws(
    () => encodeKey([tooLong]),
    (error) => hasErrorCode(error, ErrorCode.CodecKeyTooLarge),
  );
  const fits = { kind: "bytes", value: new Uint8Array(7000) } as const;
  assert.ok(encodeKey([fits]).length <= limits.keyBytesMax);
  const wide = { kind: "string", value: "x".repeat(4096), collation: generalCiCollation } as const;
  assert.throws(
    () => encodeKey([wide]),
    (error) => hasErrorCode(error, ErrorCode.CodecKeyTooLarge),
  );
});

test("KeyWriter and KeyReader stream values and their directions", { timeout }, () => {
  const key = new KeyWriter()
    .write(int(-5n))
    .write(text("hello"), { descending: true })
    .write(nul, { descending: true })
    .write(decimal("-0.25"))
    .finish();
  const reader = new KeyReader(key);
  const columns: KeyColumn[] = [];
  while (!reader.done) columns.push(reader.read());
  assert.deepEqual(columns, [
    { datum: int(-5n), descending: false },
    { datum: text("hello"), descending: true },
    { datum: nul, descending: true },
    { datum: decimal("-0.25"), descending: false },
  ]);
  assert.equal(reader.offset, key.length);
});

test("KeyReader starts at the given offset", { timeout }, () => {
  const prefix = Uint8Array.of(0x74, 0x01);
  const key = new KeyWriter().writeRaw(prefix).write(uint(7n)).finish();
  assert.deepEqual(new KeyReader(key, { offset: 2 }).read().datum, uint(7n));
});

test("decodeKey refuses corrupt input with Codec:Corrupt", { timeout }, () => {
  const group = (...b: number[]): number[] => [0x01, ...b];
  const cases: [string, number[]][] = [
    ["unknown flag", [0x07]],
    ["compact-bytes flag", [0x02]],
    ["unknown inverted flag", [0xf8]],
    ["truncated int", [0x03, 1, 2]],
    ["truncated uint", [0x04]],
    ["truncated float", [0x05, 0x80]],
    ["NaN float", [0x05, 0xff, 0xf8, 0, 0, 0, 0, 0, 0]],
    ["inverted negative zero", [0x05, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ["truncated group", group(1, 2, 3)],
    ["missing final group", group(1, 2, 3, 4, 5, 6, 7, 8, 0xff)],
    ["bad group marker", group(0, 0, 0, 0, 0, 0, 0, 0, 0xf6)],
    ["non-zero padding", group(1, 0, 0, 0, 0, 0, 0, 1, 0xf9)],
    ["bad decimal sign", [0x06, 0x03]],
    ["truncated decimal", [0x06, 0x02, 0x81]],
    ["decimal without digits", [0x06, 0x02, 0x81, 0x00]],
    ["decimal leading zero", [0x06, 0x02, 0x81, 0x02, 0x00]],
    ["decimal trailing zero", [0x06, 0x02, 0x82, 0x0c, 0x01, 0x00]],
    ["decimal digit pair over 99", [0x06, 0x02, 0x81, 0x66, 0x00]],
    ["decimal exponent too large", [0x06, 0x02, 0xff, 0x0c, 0x00]],
    ["decimal exponent too small", [0x06, 0x02, 0x00, 0x0c, 0x00]],
    ["decimal with 66 digits", [0x06, 0x02, 0x81 + 65, ...new Array<number>(33).fill(0x64), 0x00]],
  ];
  for (const [label, input] of cases) assertCorrupt(() => decodeKey(Uint8Array.from(input)), label);
});

test("encodeKey byte order equals value order for random multi-column rows", { timeout }, () => {
  fc.assert(
    fc.property(schemaAndTwoRows, ([columns, a, b]) => {
      const options = { descending: directions(columns) };
      const left = encodeKey(rowDatums(columns, a), options);
      const right = encodeKey(rowDatums(columns, b), options);
      assert.equal(bytewise(left, right), compareRows(columns, a, b));
    }),
    propertyRuns,
  );
});

test("encodeKey sorts a batch of rows as the reference comparator does", { timeout }, () => {
  const batch = schema.chain((columns) =>
    fc.tuple(fc.constant(columns), fc.array(modelRow(columns), { minLength: 2, maxLength: 12 })),
  );
  fc.assert(
    fc.property(batch, ([columns, rows]) => {
      const options = { descending: directions(columns) };
      const sorted = rows
        .map((row) => ({ row, key: encodeKey(rowDatums(columns, row), options) }))
        .sort((x, y) => bytewise(x.key, y.key));
      for (let i = 1; i < sorted.length; i++) {
        assert.ok(compareRows(columns, sorted[i - 1]!.row, sorted[i]!.row) <= 0);
      }
    }),
    { ...propertyRuns, numRuns: 200 },
  );
});

test("encodeKey writes equal values of every type identically", { timeout }, () => {
  // Two independently generated values of one type: equal keys exactly when equal values.
  const pair = fc
    .constantFrom(...columnTypes)
    .chain((type) => fc.tuple(fc.constant(type), type.arbitrary, type.arbitrary));
  fc.assert(
    fc.property(pair, ([type, a, b]) => {
      const same = type.compare(a, b) === 0;
      const keysEqual = bytewise(encodeKey([type.datum(a)]), encodeKey([type.datum(b)])) === 0;
      assert.equal(keysEqual, same, type.name);
    }),
    { ...propertyRuns, numRuns: 2000 },
  );
});

test("decodeKey(encodeKey(x)) gives x back, directions included", { timeout }, () => {
  fc.assert(
    fc.property(schema.chain((c) => fc.tuple(fc.constant(c), modelRow(c))), ([columns, row]) => {
      const key = encodeKey(rowDatums(columns, row), { descending: directions(columns) });
      assert.deepEqual(decodeKey(key), decodedRowDatums(columns, row));
      const reader = new KeyReader(key);
      const read: boolean[] = [];
      while (!reader.done) read.push(reader.read().descending);
      assert.deepEqual(read, directions(columns));
    }),
    propertyRuns,
  );
});

/** Decodes `input`, and if it is a key, checks it is the one encoding of what it holds. */
function decodeOrRefuse(input: Uint8Array): void {
  let columns: KeyColumn[];
  try {
    const reader = new KeyReader(input);
    columns = [];
    while (!reader.done) columns.push(reader.read());
  } catch (error) {
    if (error instanceof TesseraError && error.code === ErrorCode.CodecCorrupt) return;
    throw error;
  }
  const again = encodeKey(
    columns.map((c) => c.datum),
    { descending: columns.map((c) => c.descending) },
  );
  assert.equal(hex(again), hex(input));
}

test("decodeKey refuses random bytes with Codec:Corrupt or decodes them canonically", {
  timeout,
}, () => {
  const noise = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.uint8Array({ min: 0, max: 6, maxLength: 24 }),
    fc.uint8Array({ min: 0xf7, max: 0xff, maxLength: 24 }),
  );
  fc.assert(fc.property(noise, decodeOrRefuse), { ...propertyRuns, numRuns: 2000 });
});

test("decodeKey refuses mutated keys with Codec:Corrupt or decodes them canonically", {
  timeout,
}, () => {
  const mutation = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom("truncate", "flip", "insert", "delete"),
    byte: fc.integer({ min: 0, max: 255 }),
  });
  const validKey = schema.chain((columns) =>
    modelRow(columns).map((row) =>
      encodeKey(rowDatums(columns, row), { descending: directions(columns) }),
    ),
  );
  fc.assert(
    fc.property(validKey, fc.array(mutation, { minLength: 1, maxLength: 3 }), (key, edits) => {
      let bytes = Array.from(key);
      for (const edit of edits) {
        const at = bytes.length === 0 ? 0 : edit.at % bytes.length;
        if (edit.kind === "truncate") bytes = bytes.slice(0, at);
        else if (edit.kind === "flip" && bytes.length > 0) bytes[at] = bytes[at]! ^ edit.byte;
        else if (edit.kind === "insert") bytes.splice(at, 0, edit.byte);
        else if (edit.kind === "delete") bytes.splice(at, 1);
      }
      decodeOrRefuse(Uint8Array.from(bytes));
    }),
    { ...propertyRuns, numRuns: 2000 },
  );
});
