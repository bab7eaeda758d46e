/**
 * Shared fast-check arbitraries and reference comparators for the codec tests; imported
 * only by `*.test.ts` files.
 *
 * Every comparator here works on a model of the value (a scaled bigint for DECIMAL, code
 * point arrays for strings), not on the codec's own representation, so the properties
 * "bytes order = value order" check the encoding against an independent definition.
 */
import fc from "fast-check";
import type { Collation } from "./collation.ts";
import {
  binaryCollation,
  generalCiCollation,
  generalCiWeight,
  utf8mb4BinCollation,
} from "./collation.ts";
import { parseDecimal } from "./decimal.ts";
import type { KeyDatum } from "./key.ts";
import { int64Max, int64Min, uint64Max } from "./number.ts";

/** The fixed fast-check settings every property uses, so CI runs are reproducible. */
export const propertyRuns = { seed: 42, numRuns: 500 } as const;

/** Reference bytewise comparison: unsigned bytes, a proper prefix first; -1, 0 or 1. */
export function bytewise(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

function compareNumbers<T extends number | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSequences(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

function codePoints(value: string): number[] {
  // Lone surrogates become U+FFFD, as UTF-8 encoding makes them.
  return Array.from(value, (char) => {
    const code = char.codePointAt(0)!;
    return code >= 0xd800 && code <= 0xdfff ? 0xfffd : code;
  });
}

function trimSpaces(value: string): string {
  return value.replace(/ +$/, "");
}

/** A decimal as the tests model it: `unscaled × 10^-scale`. */
export interface ScaledDecimal {
  readonly unscaled: bigint;
  readonly scale: number;
}

/** Compares two modelled decimals exactly, by scaling both to the larger scale. */
export function compareScaled(a: ScaledDecimal, b: ScaledDecimal): number {
  const scale = Math.max(a.scale, b.scale);
  const left = a.unscaled * 10n ** BigInt(scale - a.scale);
  const right = b.unscaled * 10n ** BigInt(scale - b.scale);
  return compareNumbers(left, right);
}

/** Redundant zeros to write around a decimal's digits. */
export interface DecimalPadding {
  readonly leading: number;
  readonly trailing: number;
}

/** Decimal text for `value`, padded with redundant leading and trailing zeros. */
export function scaledText(value: ScaledDecimal, padding: DecimalPadding): string {
  const negative = value.unscaled < 0n;
  const digits = (negative ? -value.unscaled : value.unscaled)
    .toString()
    .padStart(value.scale + 1, "0");
  const intPart = "0".repeat(padding.leading) + digits.slice(0, digits.length - value.scale);
  const fracPart = digits.slice(digits.length - value.scale) + "0".repeat(padding.trailing);
  return (negative ? "-" : "") + intPart + (fracPart === "" ? "" : `.${fracPart}`);
}

/** Decimals within DECIMAL(65, 30), often short ones so that ties and near-ties happen. */
export const scaledDecimal: fc.Arbitrary<ScaledDecimal> = fc
  .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 65 }))
  .chain(([scale, digitBudget]) => {
    const bound = 10n ** BigInt(Math.min(digitBudget, 65 - scale)) - 1n;
    const small = bound < 20n ? bound : 20n;
    return fc
      .oneof(fc.bigInt({ min: -bound, max: bound }), fc.bigInt({ min: -small, max: small }))
      .map((unscaled) => ({ unscaled, scale }));
  });

/** Up to three redundant zeros on either side. */
export const decimalPadding: fc.Arbitrary<DecimalPadding> = fc.record({
  leading: fc.integer({ min: 0, max: 3 }),
  trailing: fc.integer({ min: 0, max: 3 }),
});

/**
 * Characters with case and accent variants under `utf8mb4_general_ci`, spaces and a tab
 * (which sorts below a space), so that random strings collide and share prefixes.
 */
export const collidingChars = [
  "a", "A", "á", "Á", "b", "B", "e", "E", "é", "É", "s", "S", "ß", "y", "Y", "ÿ", "Ÿ",
  "ą", "Ą", "ø", "Ø", " ", "\t", "😀", "😁",
];

/** Strings that often collide under collations, or any Unicode string. */
export const collationString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...collidingChars), maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
);

/** Reference comparison for `utf8mb4_general_ci`: weight sequences after trimming spaces. */
export function compareGeneralCi(a: string, b: string): number {
  const weights = (value: string): number[] =>
    Array.from(trimSpaces(value), (char) => generalCiWeight(char.codePointAt(0)!));
  return compareSequences(weights(a), weights(b));
}

/** One kind of key column: how to generate values, compare them, and what decodes back. */
export interface ColumnType {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<unknown>;
  datum(model: unknown): KeyDatum;
  compare(a: unknown, b: unknown): number;
  /** The datum `decodeKey` returns for the value. */
  decoded(model: unknown): KeyDatum;
}

function columnType<M>(spec: {
  name: string;
  arbitrary: fc.Arbitrary<M>;
  datum(model: M): KeyDatum;
  compare(a: M, b: M): number;
  decoded?(model: M): KeyDatum;
}): ColumnType {
  const decoded = spec.decoded ?? spec.datum;
  return {
    name: spec.name,
    arbitrary: spec.arbitrary,
    datum: (model) => spec.datum(model as M),
    compare: (a, b) => spec.compare(a as M, b as M),
    decoded: (model) => decoded(model as M),
  };
}

function stringColumn(collation: Collation, compare: (a: string, b: string) => number) {
  return columnType<string>({
    name: `string ${collation.name}`,
    arbitrary: collationString,
    datum: (value) => ({ kind: "string", value, collation }),
    compare,
    decoded: (value) => ({ kind: "bytes", value: collation.sortKey(value) }),
  });
}

/** A decimal model plus the (padded) text it is written as. */
interface DecimalCell {
  readonly value: ScaledDecimal;
  readonly text: string;
}

/** Every column type the key codec supports. */
export const columnTypes: readonly ColumnType[] = [
  columnType<bigint>({
    name: "int",
    arbitrary: fc.oneof(fc.bigInt({ min: int64Min, max: int64Max }), fc.bigInt(-3n, 3n)),
    datum: (value) => ({ kind: "int", value }),
    compare: compareNumbers,
  }),
  columnType<bigint>({
    name: "uint",
    arbitrary: fc.oneof(fc.bigInt({ min: 0n, max: uint64Max }), fc.bigInt(0n, 3n)),
    datum: (value) => ({ kind: "uint", value }),
    compare: compareNumbers,
  }),
  columnType<number>({
    name: "float",
    arbitrary: fc.oneof(
      fc.double({ noNaN: true }),
      fc.constantFrom(0, -0, 1, -1, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE),
    ),
    datum: (value) => ({ kind: "float", value }),
    compare: compareNumbers,
    // -0 is 0 in SQL and decodes as +0.
    decoded: (value) => ({ kind: "float", value: value === 0 ? 0 : value }),
  }),
  columnType<Uint8Array>({
    name: "bytes",
    arbitrary: fc.oneof(
      fc.uint8Array({ maxLength: 20 }),
      fc.uint8Array({ min: 0, max: 1, maxLength: 20 }),
      fc.uint8Array({ min: 0xfe, max: 0xff, maxLength: 20 }),
    ),
    datum: (value) => ({ kind: "bytes", value }),
    compare: bytewise,
  }),
  stringColumn(binaryCollation, (a, b) => compareSequences(codePoints(a), codePoints(b))),
  stringColumn(utf8mb4BinCollation, (a, b) =>
    compareSequences(codePoints(trimSpaces(a)), codePoints(trimSpaces(b))),
  ),
  stringColumn(generalCiCollation, compareGeneralCi),
  columnType<DecimalCell>({
    name: "decimal",
    arbitrary: fc
      .tuple(scaledDecimal, decimalPadding)
      .map(([value, padding]) => ({ value, text: scaledText(value, padding) })),
    datum: (cell) => ({ kind: "decimal", value: parseDecimal(cell.text) }),
    compare: (a, b) => compareScaled(a.value, b.value),
  }),
];

/** A key column: its type and direction. */
export interface ColumnSpec {
  readonly type: ColumnType;
  readonly descending: boolean;
}

/** A row of modelled values; `null` is SQL NULL. */
export type ModelRow = readonly unknown[];

/** Schemas of one to four columns of any types and directions. */
export const schema: fc.Arbitrary<ColumnSpec[]> = fc.array(
  fc.record({ type: fc.constantFrom(...columnTypes), descending: fc.boolean() }),
  { minLength: 1, maxLength: 4 },
);

/** Rows for `columns`, each value NULL about one time in six. */
export function modelRow(columns: readonly ColumnSpec[]): fc.Arbitrary<ModelRow> {
  return fc.tuple(...columns.map((c) => fc.option(c.type.arbitrary, { freq: 6 })));
}

/**
 * A schema and two rows of it that agree on a random number of leading columns, so that
 * later columns (and equal keys) decide the order often.
 */
export const schemaAndTwoRows: fc.Arbitrary<[ColumnSpec[], ModelRow, ModelRow]> = schema.chain(
  (columns) =>
    fc
      .tuple(modelRow(columns), modelRow(columns), fc.integer({ min: 0, max: columns.length }))
      .map(([a, b, shared]): [ColumnSpec[], ModelRow, ModelRow] => [
        columns,
        a,
        [...a.slice(0, shared), ...b.slice(shared)],
      ]),
);

/** Reference row order: column by column, NULL first, descending columns reversed. */
export function compareRows(columns: readonly ColumnSpec[], a: ModelRow, b: ModelRow): number {
  for (let i = 0; i < columns.length; i++) {
    const { type, descending } = columns[i]!;
    const left = a[i];
    const right = b[i];
    let order: number;
    if (left === null || right === null) order = (left === null ? 0 : 1) - (right === null ? 0 : 1);
    else order = Math.sign(type.compare(left, right));
    if (order !== 0) return descending ? -order : order;
  }
  return 0;
}

/** The key datums of a modelled row. */
export function rowDatums(columns: readonly ColumnSpec[], row: ModelRow): KeyDatum[] {
  return columns.map((c, i) => (row[i] === null ? { kind: "null" } : c.type.datum(row[i])));
}

/** The datums `decodeKey` returns for a modelled row. */
export function decodedRowDatums(columns: readonly ColumnSpec[], row: ModelRow): KeyDatum[] {
  return columns.map((c, i) => (row[i] === null ? { kind: "null" } : c.type.decoded(row[i])));
}

/** The direction flags of a schema. */
export function directions(columns: readonly ColumnSpec[]): boolean[] {
  return columns.map((c) => c.descending);
}
