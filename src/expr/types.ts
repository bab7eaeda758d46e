/**
 * Result types of expressions: what kind of value an expression yields (its evaluation
 * kind) and how a MySQL result-set column describes it (type code, flags, length,
 * decimals). Every expression node carries a `FieldType` computed when it is built, so a
 * result set's column definitions are known before any row is evaluated.
 *
 * The type codes and flag bits are MySQL's own numbers (`enum_field_types`, `*_FLAG`),
 * repeated here because `expr` sits below `sql` and must not import the wire layer; the
 * SQL layer copies them into its column definitions unchanged.
 */

/** MySQL column type codes this evaluator produces. */
export const TypeCode = {
  Tiny: 0x01,
  Short: 0x02,
  Long: 0x03,
  Int24: 0x09,
  Double: 0x05,
  Null: 0x06,
  LongLong: 0x08,
  DateTime: 0x0c,
  Timestamp: 0x07,
  Date: 0x0a,
  Time: 0x0b,
  Year: 0x0d,
  Bit: 0x10,
  Json: 0xf5,
  String: 0xfe,
  NewDecimal: 0xf6,
  VarString: 0xfd,
} as const;

export type TypeCode = (typeof TypeCode)[keyof typeof TypeCode];

/** MySQL column flag bits (`NOT_NULL_FLAG`, `UNSIGNED_FLAG`, `BINARY_FLAG`, `NUM_FLAG`). */
export const FieldFlag = {
  NotNull: 0x1,
  Unsigned: 0x20,
  Binary: 0x80,
  Num: 0x8000,
} as const;

/**
 * How a value is represented while evaluating: `int` covers signed and unsigned BIGINT
 * (see `FieldType.unsigned`), `null` is the type of the NULL literal alone.
 */
export type EvalKind = "null" | "int" | "decimal" | "double" | "string" | "datetime";

/** The static type of an expression's result. */
export interface FieldType {
  readonly kind: EvalKind;
  /** MySQL type code of the result column. */
  readonly code: TypeCode;
  /** BIGINT UNSIGNED (only with kind `int`). */
  readonly unsigned: boolean;
  /** False when the expression can never be NULL (MySQL's NOT_NULL flag). */
  readonly nullable: boolean;
  /** Display length in characters, as MySQL reports it (`max_length`). */
  readonly length: number;
  /** Digits after the point: DECIMAL scale, fsp of DATETIME, 31 for an unfixed DOUBLE. */
  readonly decimals: number;
  /** DECIMAL precision (total digits); 0 for other kinds. */
  readonly precision: number;
  /**
   * The MySQL collation of the value (`utf8mb4_bin`, `binary` …); absent: the default
   * (collation_derivation.ts says how it is derived and what absent means for each kind).
   */
  readonly collation?: string;
  /** MySQL's coercibility of the collation (0 EXPLICIT … 6 IGNORABLE); absent: by kind. */
  readonly coercibility?: 0 | 1 | 2 | 3 | 4 | 5 | 6;
}

/** Largest DECIMAL precision and scale (MySQL's DECIMAL(65, 30)). */
export const decimalPrecisionMax = 65;
export const decimalScaleMax = 30;
/** `decimals` of a DOUBLE whose digits are not fixed (MySQL's NOT_FIXED_DEC). */
export const notFixedDecimals = 31;
/** Bytes per character of utf8mb4, which MySQL multiplies string lengths by. */
export const utf8mb4CharBytes = 4;

/** The type of the NULL literal. */
export const nullType: FieldType = {
  kind: "null", code: TypeCode.Null, unsigned: false, nullable: true, length: 0, decimals: 0,
  precision: 0,
};

/** A BIGINT type of display length `length`. */
export function intType(options: {
  readonly length: number;
  readonly unsigned?: boolean;
  readonly nullable?: boolean;
  /** A column's own code (TINYINT is Tiny …); absent: LongLong, as computed values are. */
  readonly code?: TypeCode;
}): FieldType {
  return {
    kind: "int", code: options.code ?? TypeCode.LongLong, unsigned: options.unsigned ?? false,
    nullable: options.nullable ?? true, length: options.length, decimals: 0, precision: 0,
  };
}

/** A DECIMAL(precision, scale) type; both are clamped to DECIMAL(65, 30). */
export function decimalType(
  precision: number,
  options: { readonly scale: number; readonly nullable?: boolean; readonly unsigned?: boolean },
): FieldType {
  const scale = Math.min(Math.max(options.scale, 0), decimalScaleMax);
  const digits = Math.min(Math.max(precision, scale, 1), decimalPrecisionMax);
  const unsigned = options.unsigned ?? false;
  return {
    kind: "decimal", code: TypeCode.NewDecimal, unsigned, nullable: options.nullable ?? true,
    length: digits + (scale > 0 ? 1 : 0) + (unsigned ? 0 : 1), decimals: scale,
    precision: digits,
  };
}

/** A DOUBLE type. */
export function doubleType(options: {
  readonly length?: number;
  readonly decimals?: number;
  readonly nullable?: boolean;
} = {}): FieldType {
  return {
    kind: "double", code: TypeCode.Double, unsigned: false, nullable: options.nullable ?? true,
    length: options.length ?? 22, decimals: options.decimals ?? notFixedDecimals, precision: 0,
  };
}

/** A VARCHAR type of at most `chars` characters (utf8mb4). */
export function stringType(
  chars: number,
  options: { readonly nullable?: boolean } = {},
): FieldType {
  return {
    kind: "string", code: TypeCode.VarString, unsigned: false,
    nullable: options.nullable ?? true, length: Math.max(chars, 0) * utf8mb4CharBytes,
    decimals: 0, precision: 0,
  };
}

/** A DATETIME type with `fsp` fractional second digits. */
export function dateTimeType(fsp: number, options: { readonly nullable?: boolean } = {}):
  FieldType {
  return {
    kind: "datetime", code: TypeCode.DateTime, unsigned: false,
    nullable: options.nullable ?? true, length: fsp > 0 ? 20 + fsp : 19, decimals: fsp,
    precision: 0,
  };
}

/** `type` with its nullability replaced. */
export function withNullable(type: FieldType, nullable: boolean): FieldType {
  return type.nullable === nullable ? type : { ...type, nullable };
}

/** The MySQL column flags of `type`. */
export function fieldFlags(type: FieldType): number {
  let flags = type.nullable ? 0 : FieldFlag.NotNull;
  // BIT is bytes to clients (no NUM flag: dump tools quote its values), as in MySQL.
  if (type.code === TypeCode.Bit) return flags | FieldFlag.Unsigned;
  switch (type.kind) {
    case "int":
    case "decimal":
    case "double":
      flags |= FieldFlag.Binary | FieldFlag.Num;
      if (type.unsigned) flags |= FieldFlag.Unsigned;
      break;
    case "null":
    case "datetime":
      flags |= FieldFlag.Binary;
      break;
    case "string":
      break;
  }
  return flags;
}

/** Characters a string needs for a value of `type` (CONCAT and CAST AS CHAR lengths). */
export function charsOf(type: FieldType): number {
  return type.kind === "string" ? Math.ceil(type.length / utf8mb4CharBytes) : type.length;
}
