/**
 * Encoding of values, rows and column definitions for the text and the binary protocol,
 * and decoding of the binary parameters of COM_STMT_EXECUTE.
 *
 * The column type decides the encoding, the JS value supplies the data (`SqlValue`): one
 * typed result feeds both protocols. A value that cannot be shown as its column's type
 * (a string of letters in a LONGLONG column) is a bug in the SQL layer, caught by an
 * assertion. Decoding is defensive instead: parameters come from the client, and a
 * malformed one raises `MalformedPacket`, which becomes error 1210.
 */
import { assert } from "../../base/mod.ts";
import { Collation, ColumnFlag, MySqlType } from "./constants.ts";
import { MalformedPacket, type PayloadReader, PayloadWriter, encodeUtf8 } from "./payload.ts";
import type { ColumnDef, DateTimeValue, SqlValue, TimeValue } from "./session.ts";

const integerTypes: ReadonlySet<number> = new Set([
  MySqlType.Tiny, MySqlType.Short, MySqlType.Int24, MySqlType.Long, MySqlType.LongLong,
  MySqlType.Year,
]);
const floatTypes: ReadonlySet<number> = new Set([MySqlType.Float, MySqlType.Double]);
const decimalTypes: ReadonlySet<number> = new Set([MySqlType.Decimal, MySqlType.NewDecimal]);
const temporalTypes: ReadonlySet<number> = new Set([
  MySqlType.Date, MySqlType.DateTime, MySqlType.Timestamp, MySqlType.Time, MySqlType.NewDate,
]);
const blobTypes: ReadonlySet<number> = new Set([
  MySqlType.TinyBlob, MySqlType.MediumBlob, MySqlType.LongBlob, MySqlType.Blob,
]);
/** Types whose values are text in the connection character set. */
const textTypes: ReadonlySet<number> = new Set([
  MySqlType.VarChar, MySqlType.VarString, MySqlType.String, MySqlType.Enum, MySqlType.Set,
  MySqlType.Json,
]);

/** Default display lengths (`column_length`) by type, as MySQL reports them. */
const defaultLengths: ReadonlyMap<number, number> = new Map<number, number>([
  [MySqlType.Tiny, 4], [MySqlType.Short, 6], [MySqlType.Int24, 9], [MySqlType.Long, 11],
  [MySqlType.LongLong, 20], [MySqlType.Float, 12], [MySqlType.Double, 22],
  [MySqlType.Decimal, 67], [MySqlType.NewDecimal, 67], [MySqlType.Null, 0],
  [MySqlType.Date, 10], [MySqlType.DateTime, 19], [MySqlType.Timestamp, 19],
  [MySqlType.Time, 10], [MySqlType.Year, 4], [MySqlType.Bit, 1],
  [MySqlType.TinyBlob, 255], [MySqlType.Blob, 65_535], [MySqlType.MediumBlob, 16_777_215],
  [MySqlType.LongBlob, 4_294_967_295], [MySqlType.Json, 4_294_967_295],
  [MySqlType.VarChar, 1_020], [MySqlType.VarString, 1_020], [MySqlType.String, 1_020],
  [MySqlType.Geometry, 4_294_967_295],
]);

/** True when values of `type` are text (so the column gets a text collation). */
export function isTextType(type: number): boolean {
  return textTypes.has(type);
}

/** `column` with every optional field filled with MySQL's default for its type. */
export function completeColumn(column: ColumnDef): Required<Omit<ColumnDef, "defaultValue">> {
  const type = column.type;
  const numeric = integerTypes.has(type) || floatTypes.has(type) || decimalTypes.has(type);
  let flags = 0;
  if (numeric) flags = ColumnFlag.Binary | ColumnFlag.Num;
  else if (temporalTypes.has(type) || type === MySqlType.Bit) flags = ColumnFlag.Binary;
  else if (blobTypes.has(type)) flags = ColumnFlag.Blob | ColumnFlag.Binary;
  const fsp = temporalTypes.has(type) && column.decimals !== undefined ? column.decimals : 0;
  const baseLength = defaultLengths.get(type) ?? 0;
  const length = fsp > 0 && type !== MySqlType.Date ? baseLength + 1 + fsp : baseLength;
  return {
    name: column.name,
    type,
    orgName: column.orgName ?? column.name,
    table: column.table ?? "",
    orgTable: column.orgTable ?? column.table ?? "",
    schema: column.schema ?? "",
    charset: column.charset ?? (isTextType(type) ? Collation.Utf8mb4 : Collation.Binary),
    length: column.length ?? length,
    decimals: column.decimals ?? (floatTypes.has(type) ? 31 : 0),
    flags: column.flags ?? flags,
  };
}

/** A `Protocol::ColumnDefinition41` payload; with `fieldList`, COM_FIELD_LIST's variant. */
export function encodeColumnDefinition(column: ColumnDef, fieldList = false): Uint8Array {
  const c = completeColumn(column);
  const w = new PayloadWriter(64 + c.name.length * 2);
  w.lenencString("def").lenencString(c.schema).lenencString(c.table)
    .lenencString(c.orgTable).lenencString(c.name).lenencString(c.orgName)
    .lenencInt(0x0c).uint16(c.charset).uint32(c.length).uint8(c.type)
    .uint16(c.flags).uint8(c.decimals).zeros(2);
  if (fieldList) {
    if (column.defaultValue === undefined) w.uint8(0xfb);
    else w.lenencString(column.defaultValue);
  }
  return w.finish();
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function fraction(microseconds: number, decimals: number): string {
  if (decimals <= 0) return "";
  return "." + pad(microseconds, 6).slice(0, Math.min(decimals, 6));
}

function formatDate(v: DateTimeValue): string {
  return `${pad(v.year, 4)}-${pad(v.month, 2)}-${pad(v.day, 2)}`;
}

function formatDateTime(v: DateTimeValue, decimals: number): string {
  return `${formatDate(v)} ${pad(v.hour, 2)}:${pad(v.minute, 2)}:${pad(v.second, 2)}` +
    fraction(v.microsecond, decimals);
}

function formatTime(v: TimeValue, decimals: number): string {
  return `${v.negative ? "-" : ""}${pad(v.hours, 2)}:${pad(v.minutes, 2)}:` +
    `${pad(v.seconds, 2)}${fraction(v.microseconds, decimals)}`;
}

/** The shortest decimal text that reads back as the same FLOAT (single precision). */
function formatFloat32(value: number): string {
  const target = Math.fround(value);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(target.toPrecision(precision));
    if (Math.fround(candidate) === target) return formatDouble(candidate);
  }
  return formatDouble(target);
}

/** A DOUBLE as MySQL prints it: shortest round-trip digits, exponent without `+`. */
function formatDouble(value: number): string {
  assert(Number.isFinite(value), `non-finite DOUBLE ${value}`);
  if (Object.is(value, -0)) return "-0";
  return String(value).replace("e+", "e");
}

function isDateTime(value: SqlValue): value is DateTimeValue {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array) &&
    value.kind === "datetime";
}

function isTime(value: SqlValue): value is TimeValue {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array) &&
    value.kind === "time";
}

/** The text-protocol bytes of a non-NULL value in `column`. */
export function textValue(column: ColumnDef, value: Exclude<SqlValue, null>): Uint8Array {
  if (value instanceof Uint8Array) return value;
  const type = column.type;
  const decimals = column.decimals ?? 0;
  if (isDateTime(value)) {
    if (type === MySqlType.Date || type === MySqlType.NewDate) {
      return encodeUtf8(formatDate(value));
    }
    return encodeUtf8(formatDateTime(value, decimals === 31 ? 6 : decimals));
  }
  if (isTime(value)) return encodeUtf8(formatTime(value, decimals === 31 ? 6 : decimals));
  if (typeof value === "number") {
    if (type === MySqlType.Year) return encodeUtf8(pad(value, 4));
    // A FLOAT/DOUBLE with fixed decimals (DOUBLE(10,2) columns, ROUND(x, 2), PI()) prints
    // them all, as MySQL's my_fcvt; 31 (not fixed) prints the shortest round-trip form.
    const fixed = column.decimals ?? 31;
    if (fixed < 31 && Math.abs(value) < 1e21) return encodeUtf8(value.toFixed(fixed));
    if (type === MySqlType.Float) return encodeUtf8(formatFloat32(value));
    return encodeUtf8(formatDouble(value));
  }
  if (typeof value === "bigint") return encodeUtf8(value.toString());
  return encodeUtf8(value);
}

/** A text-protocol row (`ProtocolText::ResultsetRow`). */
export function encodeTextRow(
  columns: readonly ColumnDef[],
  row: readonly SqlValue[],
): Uint8Array {
  assert(row.length === columns.length,
    `row has ${row.length} values for ${columns.length} columns`);
  const w = new PayloadWriter(16 * columns.length + 16);
  for (let i = 0; i < row.length; i++) {
    const value = row[i] ?? null;
    const column = columns[i];
    assert(column !== undefined, "column missing");
    if (value === null) w.uint8(0xfb);
    else w.lenencBytes(textValue(column, value));
  }
  return w.finish();
}

function toBigInt(column: ColumnDef, value: Exclude<SqlValue, null>): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    assert(Number.isFinite(value), `column ${column.name}: non-finite integer ${value}`);
    return BigInt(Math.trunc(value));
  }
  if (typeof value === "string" && /^\s*[-+]?\d+\s*$/.test(value)) return BigInt(value.trim());
  assert(false, `column ${column.name} of type ${column.type}: not an integer: ${String(value)}`);
}

function toNumber(column: ColumnDef, value: Exclude<SqlValue, null>): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string") {
    const n = Number(value);
    if (value.trim() !== "" && !Number.isNaN(n)) return n;
  }
  assert(false, `column ${column.name} of type ${column.type}: not a number: ${String(value)}`);
}

function writeDateTime(w: PayloadWriter, v: DateTimeValue, dateOnly: boolean): void {
  const hasTime = !dateOnly && (v.hour !== 0 || v.minute !== 0 || v.second !== 0);
  const hasMicros = !dateOnly && v.microsecond !== 0;
  if (v.year === 0 && v.month === 0 && v.day === 0 && !hasTime && !hasMicros) {
    w.uint8(0);
    return;
  }
  w.uint8(hasMicros ? 11 : hasTime ? 7 : 4).uint16(v.year).uint8(v.month).uint8(v.day);
  if (hasTime || hasMicros) w.uint8(v.hour).uint8(v.minute).uint8(v.second);
  if (hasMicros) w.uint32(v.microsecond);
}

function writeTime(w: PayloadWriter, v: TimeValue): void {
  if (v.hours === 0 && v.minutes === 0 && v.seconds === 0 && v.microseconds === 0) {
    w.uint8(0);
    return;
  }
  const days = Math.floor(v.hours / 24);
  w.uint8(v.microseconds !== 0 ? 12 : 8).uint8(v.negative ? 1 : 0).uint32(days)
    .uint8(v.hours % 24).uint8(v.minutes).uint8(v.seconds);
  if (v.microseconds !== 0) w.uint32(v.microseconds);
}

/** Appends the binary-protocol encoding of a non-NULL value in `column`. */
function writeBinaryValue(
  w: PayloadWriter,
  column: ColumnDef,
  value: Exclude<SqlValue, null>,
): void {
  const type = column.type;
  const unsigned = ((column.flags ?? 0) & ColumnFlag.Unsigned) !== 0;
  switch (type) {
    case MySqlType.Tiny:
      w.uint8(Number(BigInt.asUintN(8, toBigInt(column, value))));
      return;
    case MySqlType.Short:
    case MySqlType.Year:
      w.uint16(Number(BigInt.asUintN(16, toBigInt(column, value))));
      return;
    case MySqlType.Int24:
    case MySqlType.Long:
      w.uint32(Number(BigInt.asUintN(32, toBigInt(column, value))));
      return;
    case MySqlType.LongLong:
      if (unsigned) w.uint64(toBigInt(column, value));
      else w.int64(toBigInt(column, value));
      return;
    case MySqlType.Float:
      w.float32(toNumber(column, value));
      return;
    case MySqlType.Double:
      w.float64(toNumber(column, value));
      return;
    case MySqlType.Date:
    case MySqlType.NewDate:
    case MySqlType.DateTime:
    case MySqlType.Timestamp:
      assert(isDateTime(value), `column ${column.name}: not a datetime value`);
      writeDateTime(w, value, type === MySqlType.Date || type === MySqlType.NewDate);
      return;
    case MySqlType.Time:
      assert(isTime(value), `column ${column.name}: not a time value`);
      writeTime(w, value);
      return;
    case MySqlType.Null:
      assert(false, `column ${column.name} of type NULL holds a value`);
      return;
    default:
      if (typeof value === "string") w.lenencUtf8(value);
      else w.lenencBytes(textValue(column, value));
  }
}

/** A binary-protocol row (`ProtocolBinary::ResultsetRow`): header, NULL bitmap, values. */
export function encodeBinaryRow(
  columns: readonly ColumnDef[],
  row: readonly SqlValue[],
): Uint8Array {
  const w = new PayloadWriter(1 + Math.floor((columns.length + 9) / 8) + 16 * columns.length);
  writeBinaryRow(w, columns, row);
  return w.finish();
}

/** `encodeBinaryRow` into `w` (a reused writer). */
export function writeBinaryRow(
  w: PayloadWriter,
  columns: readonly ColumnDef[],
  row: readonly SqlValue[],
): void {
  assert(row.length === columns.length,
    `row has ${row.length} values for ${columns.length} columns`);
  w.uint8(0x00);
  // The NULL bitmap: bit 2 + i for column i, (columns + 9) / 8 bytes.
  let bits = 0;
  for (let i = 0; i < row.length + 2; i++) {
    if (i >= 2 && (row[i - 2] === null || row[i - 2] === undefined)) bits |= 1 << (i & 7);
    if ((i & 7) === 7 || i === row.length + 1) {
      w.uint8(bits);
      bits = 0;
    }
  }
  for (let i = 0; i < row.length; i++) {
    const value = row[i] ?? null;
    const column = columns[i];
    assert(column !== undefined, "column missing");
    if (value !== null) writeBinaryValue(w, column, value);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function textOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return strictUtf8.decode(bytes);
  } catch (error: unknown) {
    // Not UTF-8: the client sent bytes (a BINARY value as a string type); keep them.
    if (error instanceof TypeError) return new Uint8Array(bytes);
    throw error;
  }
}

function readDateTime(r: PayloadReader): DateTimeValue {
  const length = r.uint8();
  if (length !== 0 && length !== 4 && length !== 7 && length !== 11) {
    throw new MalformedPacket(`bad DATETIME length ${length}`);
  }
  const year = length >= 4 ? r.uint16() : 0;
  const month = length >= 4 ? r.uint8() : 0;
  const day = length >= 4 ? r.uint8() : 0;
  const hour = length >= 7 ? r.uint8() : 0;
  const minute = length >= 7 ? r.uint8() : 0;
  const second = length >= 7 ? r.uint8() : 0;
  const microsecond = length === 11 ? r.uint32() : 0;
  return { kind: "datetime", year, month, day, hour, minute, second, microsecond };
}

function readTime(r: PayloadReader): TimeValue {
  const length = r.uint8();
  if (length === 0) {
    return { kind: "time", negative: false, hours: 0, minutes: 0, seconds: 0, microseconds: 0 };
  }
  if (length !== 8 && length !== 12) throw new MalformedPacket(`bad TIME length ${length}`);
  const negative = r.uint8() === 1;
  const days = r.uint32();
  const hours = days * 24 + r.uint8();
  const minutes = r.uint8();
  const seconds = r.uint8();
  const microseconds = length === 12 ? r.uint32() : 0;
  return { kind: "time", negative, hours, minutes, seconds, microseconds };
}

/** Reads one binary-protocol parameter value of `type`. */
export function readBinaryParam(r: PayloadReader, type: number, unsigned: boolean): SqlValue {
  switch (type) {
    case MySqlType.Null:
      return null;
    case MySqlType.Tiny:
      return unsigned ? r.uint8() : r.int8();
    case MySqlType.Short:
    case MySqlType.Year:
      return unsigned ? r.uint16() : r.int16();
    case MySqlType.Int24:
    case MySqlType.Long:
      return unsigned ? r.uint32() : r.int32();
    case MySqlType.LongLong:
      return unsigned ? r.uint64() : r.int64();
    case MySqlType.Float:
      return r.float32();
    case MySqlType.Double:
      return r.float64();
    case MySqlType.Date:
    case MySqlType.DateTime:
    case MySqlType.Timestamp:
      return readDateTime(r);
    case MySqlType.Time:
      return readTime(r);
    case MySqlType.Decimal:
    case MySqlType.NewDecimal:
      return r.lenencString();
    case MySqlType.VarChar:
    case MySqlType.VarString:
    case MySqlType.String:
    case MySqlType.Enum:
    case MySqlType.Set:
    case MySqlType.Json:
      return textOrBytes(r.lenencBytes());
    case MySqlType.TinyBlob:
    case MySqlType.MediumBlob:
    case MySqlType.LongBlob:
    case MySqlType.Blob:
    case MySqlType.Bit:
    case MySqlType.Geometry:
      return new Uint8Array(r.lenencBytes());
    default:
      throw new MalformedPacket(`unsupported parameter type 0x${type.toString(16)}`);
  }
}

/** Decodes long data sent with COM_STMT_SEND_LONG_DATA according to the bound type. */
export function longDataValue(type: number, bytes: Uint8Array): SqlValue {
  if (textTypes.has(type) || decimalTypes.has(type)) return textOrBytes(bytes);
  return bytes;
}
