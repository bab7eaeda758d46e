/**
 * Aggregate functions of grouped queries (COUNT, SUM, AVG, MIN, MAX, with DISTINCT): their
 * result types and accumulators, and the key that puts equal values in one group (or
 * one DISTINCT / UNION row): strings by their utf8mb4_general_ci weight, so `'a'` and
 * `'A'` group together as in MySQL; other values by kind and text.
 */
import {
  type EvalContext,
  type Expr as ValueExpr,
  type FieldType,
  type Value,
  compareValues,
  decimalType,
  doubleType,
  intType,
  toDouble,
  toText,
} from "../../expr/mod.ts";
import { generalCiCollation } from "../../codec/mod.ts";

export const aggregateNames: ReadonlySet<string> = new Set(["count", "sum", "avg", "min",
  "max"]);

/** A key equal for values that group together. */
export function valueKey(v: Value): string {
  if (v === null) return "\u0000";
  if (v.kind === "string") {
    return `s:${String.fromCharCode(...generalCiCollation.sortKey(v.value))}`;
  }
  if (v.kind === "int" || v.kind === "uint") return `n:${v.value}`;
  return `${v.kind}:${toText(v)}`;
}

/** The key of a row of values. */
export function rowKey(values: readonly Value[]): string {
  let key = "";
  for (const v of values) key += `${valueKey(v)}\u0001`;
  return key;
}

/** An aggregate call of a query. */
export interface AggSpec {
  readonly name: string;
  /** Null for COUNT(*). */
  readonly arg: ValueExpr | null;
  readonly distinct: boolean;
  readonly type: FieldType;
  readonly text: string;
}

export function aggregateType(name: string, arg: ValueExpr | null): FieldType {
  const t = arg?.type;
  switch (name) {
    case "count":
      return intType({ length: 21, nullable: false });
    case "sum":
    case "avg": {
      if (t === undefined || t.kind === "double" || t.kind === "string") return doubleType({});
      const scale = (t.kind === "decimal" ? t.decimals : 0) + (name === "avg" ? 4 : 0);
      return decimalType(65, { scale: Math.min(scale, 30) });
    }
    default:
      return t === undefined ? intType({ length: 21 }) : { ...t, nullable: true };
  }
}

/** The running state of one aggregate over one group. */
export class Accumulator {
  private count = 0n;
  private sumDecimal: { unscaled: bigint; scale: number } | null = null;
  private sumDouble: number | null = null;
  private best: Value = null;
  private readonly seen = new Set<string>();
  private readonly spec: AggSpec;

  constructor(spec: AggSpec) {
    this.spec = spec;
  }

  /** Adds the argument's value for one row (anything for COUNT(*)). */
  add(v: Value, ctx: EvalContext): void {
    const spec = this.spec;
    if (spec.arg === null) {
      this.count++;
      return;
    }
    if (v === null) return;
    if (spec.distinct) {
      const key = valueKey(v);
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    this.count++;
    switch (spec.name) {
      case "sum":
      case "avg":
        if (spec.type.kind === "double") {
          this.sumDouble = (this.sumDouble ?? 0) + (toDouble(v, ctx.warn) ?? 0);
        } else {
          const d = v.kind === "decimal" ? { unscaled: v.unscaled, scale: v.scale }
            : { unscaled: v.kind === "int" || v.kind === "uint" ? v.value : 0n, scale: 0 };
          const s = this.sumDecimal ?? { unscaled: 0n, scale: d.scale };
          const scale = Math.max(s.scale, d.scale);
          this.sumDecimal = { unscaled: s.unscaled * 10n ** BigInt(scale - s.scale) +
            d.unscaled * 10n ** BigInt(scale - d.scale), scale };
        }
        break;
      case "min":
      case "max": {
        const order = this.best === null ? null : compareValues(v, this.best, { warn: ctx.warn });
        if (this.best === null || (order !== null &&
          (spec.name === "min" ? order < 0 : order > 0))) this.best = v;
        break;
      }
      default:
        break;
    }
  }

  result(): Value {
    const spec = this.spec;
    switch (spec.name) {
      case "count":
        return { kind: "int", value: this.count };
      case "min":
      case "max":
        return this.best;
      case "sum":
        if (this.count === 0n) return null;
        return this.sumDouble !== null ? { kind: "double", value: this.sumDouble }
          : { kind: "decimal", ...this.sumDecimal! };
      default: {
        if (this.count === 0n) return null;
        if (this.sumDouble !== null) {
          return { kind: "double", value: this.sumDouble / Number(this.count) };
        }
        const sum = this.sumDecimal!;
        const scale = spec.type.decimals;
        const scaled = sum.unscaled * 10n ** BigInt(scale - sum.scale);
        const twice = (scaled * 2n) / this.count;
        const rounded = twice >= 0n ? (twice + 1n) / 2n : (twice - 1n) / 2n;
        return { kind: "decimal", unscaled: rounded, scale };
      }
    }
  }
}
