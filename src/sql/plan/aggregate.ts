/**
 * Aggregate functions of grouped queries and windows: COUNT (also `COUNT(DISTINCT a, b)`),
 * SUM, AVG, MIN, MAX, BIT_AND / BIT_OR / BIT_XOR, the variance family (STD, STDDEV,
 * STDDEV_POP, STDDEV_SAMP, VARIANCE, VAR_POP, VAR_SAMP), JSON_ARRAYAGG, JSON_OBJECTAGG
 * and GROUP_CONCAT([DISTINCT] … [ORDER BY …] [SEPARATOR s]): their result types and
 * accumulators, the grouping loop, and the key that puts equal values in one group (or
 * one DISTINCT / UNION row): strings by their utf8mb4_general_ci weight, so `'a'` and
 * `'A'` group together as in MySQL; other values by kind and text.
 *
 * MySQL semantics kept here: NULL arguments are skipped (a row with any NULL argument
 * for COUNT and GROUP_CONCAT), except by JSON_ARRAYAGG / JSON_OBJECTAGG values, which
 * become JSON `null`; over no rows COUNT is 0, BIT_AND is 2^64-1, BIT_OR / BIT_XOR are
 * 0 and the others NULL. Variances use MySQL's running-mean recurrence, so digits match.
 * GROUP_CONCAT's result is cut to `group_concat_max_len` bytes (never inside a
 * character) with warning 1260 naming the row that overflowed. WITH ROLLUP (`rollupRows`)
 * adds the super-aggregate rows of every GROUP BY prefix.
 */
import {
  type EvalContext,
  type Expr as ValueExpr,
  type FieldType,
  type JsonNode,
  type Value,
  TypeCode,
  compareForSort,
  compareValues,
  decimalType,
  doubleType,
  intType,
  jsonNodeOfValue,
  printJson,
  stringType,
  toDouble,
  toInteger,
  toScaled,
  toText,
  typeCollation,
} from "../../expr/mod.ts";
import { type Collation, collationKeyString, generalCiKeyString } from "../../codec/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { type Compiled, evalCompiled } from "./compile.ts";
import { batchProjection } from "./vec_filter.ts";
import { type MemoryAccount, entryOverheadBytes, keyBytes, noMemoryAccount, rowBytes }
  from "./memory_tracker.ts";

/** Aggregates whose state keeps something of every row (charged to the query's memory). */
export const bufferingNames: ReadonlySet<string> = new Set(["group_concat", "json_arrayagg",
  "json_objectagg"]);

/** Names of the aggregate functions (GROUP_CONCAT has an AST node of its own). */
export const aggregateNames: ReadonlySet<string> = new Set(["count", "sum", "avg", "min",
  "max", "bit_and", "bit_or", "bit_xor", "std", "stddev", "stddev_pop", "stddev_samp",
  "variance", "var_pop", "var_samp", "json_arrayagg", "json_objectagg"]);

/** Whether `e` is an aggregate call (not a window function). */
export function isAggregateCall(e: AstExpr): boolean {
  return (e.kind === "func" && aggregateNames.has(e.name) && e.over === null) ||
    e.kind === "groupConcat";
}

/** A key equal for values that group together (strings under `collation`, default ci). */
export function valueKey(v: Value, collation?: Collation): string {
  if (v === null) return "\u0000";
  if (v.kind === "string") {
    return `s:${collation === undefined ? generalCiKeyString(v.value)
      : collationKeyString(collation, v.value)}`;
  }
  if (v.kind === "int" || v.kind === "uint") return `n:${v.value}`;
  return `${v.kind}:${toText(v)}`;
}

/** The key of a row of values; `collations[i]` is value i's (keyCollations). */
export function rowKey(values: readonly Value[],
  collations?: readonly (Collation | undefined)[]): string {
  let key = "";
  for (let i = 0; i < values.length; i++) {
    key += `${valueKey(values[i]!, collations?.[i])}\u0001`;
  }
  return key;
}

/** The collations values of `types` group, dedupe and sort under (rowKey, keyOrder). */
export function keyCollations(types: readonly FieldType[]): Collation[] {
  return types.map(typeCollation);
}

/** An aggregate call of a query. */
export interface AggSpec {
  readonly name: string;
  /** The arguments; empty for COUNT(*). */
  readonly args: readonly ValueExpr[];
  readonly distinct: boolean;
  readonly type: FieldType;
  readonly text: string;
  /** GROUP_CONCAT: directions of its ORDER BY keys. */
  readonly orderDesc?: readonly boolean[];
  /** GROUP_CONCAT: the collations of its ORDER BY keys (absent: the default). */
  readonly orderCollations?: readonly Collation[];
  /** GROUP_CONCAT: the separator (default `,`) and `group_concat_max_len` in bytes. */
  readonly separator?: string;
  readonly maxBytes?: number;
}

const varianceNames = new Set(["std", "stddev", "stddev_pop", "stddev_samp", "variance",
  "var_pop", "var_samp"]);

/** The type of a JSON document result (MySQL's JSON column type). */
function jsonType(): FieldType {
  return { ...stringType(1_073_741_823, { nullable: true }), code: TypeCode.Json };
}

/** The result type of aggregate `name` over `args`. */
export function aggregateType(name: string, args: readonly ValueExpr[],
  options: { readonly maxBytes?: number } = {}): FieldType {
  const t = args[0]?.type;
  switch (name) {
    case "count":
      return intType({ length: 21, nullable: false });
    case "sum":
    case "avg": {
      if (t === undefined || t.kind === "double" || t.kind === "string") return doubleType({});
      const scale = (t.kind === "decimal" || t.kind === "datetime" ? t.decimals : 0) +
        (name === "avg" ? 4 : 0);
      return decimalType(65, { scale: Math.min(scale, 30) });
    }
    case "bit_and":
    case "bit_or":
    case "bit_xor":
      return intType({ length: 21, unsigned: true, nullable: false });
    case "json_arrayagg":
    case "json_objectagg":
      return jsonType();
    case "group_concat":
      return { ...stringType(0), length: Math.min(options.maxBytes ?? 1024, 4_294_967_295) };
    default:
      if (varianceNames.has(name)) return doubleType({});
      return t === undefined ? intType({ length: 21 }) : { ...t, nullable: true };
  }
}

const utf8 = new TextEncoder();

/** `text` cut to at most `bytes` UTF-8 bytes, never inside a character. */
function cutUtf8(text: string, bytes: number): string {
  let used = 0;
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (used + size > bytes) break;
    used += size;
    out += ch;
  }
  return out;
}

/** The running state of one aggregate over one group (or one window frame). */
export class Accumulator {
  private count = 0n;
  private sumDecimal: { unscaled: bigint; scale: number } | null = null;
  private sumDouble: number | null = null;
  private best: Value = null;
  private bits: bigint;
  /** Variance: running mean and sum of squared differences (MySQL's recurrence). */
  private mean = 0;
  private squares = 0;
  private readonly items: JsonNode[] = [];
  private readonly members = new Map<string, JsonNode>();
  private readonly pieces: { text: string; keys: readonly Value[] }[] = [];
  /** GROUP_CONCAT without ORDER BY: bytes so far, and whether past the limit. */
  private concatBytes = 0;
  private full = false;
  private seen: Set<string> | null = null;
  private readonly spec: AggSpec;

  constructor(spec: AggSpec) {
    this.spec = spec;
    this.bits = spec.name === "bit_and" ? 2n ** 64n - 1n : 0n;
  }

  /** Adds one row: its argument values and (GROUP_CONCAT) ORDER BY key values. */
  add(args: readonly Value[], ctx: EvalContext, orderKeys: readonly Value[] = []): void {
    const spec = this.spec;
    if (spec.args.length === 0) {
      this.count++;
      return;
    }
    const name = spec.name;
    if (name === "json_arrayagg") {
      this.count++;
      this.items.push(jsonNodeOfValue(spec.args[0]?.type, args[0] ?? null));
      return;
    }
    if (name === "json_objectagg") {
      const key = toText(args[0] ?? null);
      if (key === null) throw mysqlError(ER.JSON_DOCUMENT_NULL_KEY);
      this.count++;
      this.members.delete(key);
      this.members.set(key, jsonNodeOfValue(spec.args[1]?.type, args[1] ?? null));
      return;
    }
    if (args.some((v) => v === null)) return;
    if (spec.distinct) {
      const key = rowKey(args, keyCollations(spec.args.map((a) => a.type)));
      this.seen ??= new Set();
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    this.count++;
    const v = args[0]!;
    switch (name) {
      case "sum":
      case "avg":
        if (spec.type.kind === "double") {
          this.sumDouble = (this.sumDouble ?? 0) + (toDouble(v, ctx.warn) ?? 0);
        } else {
          // Integers, decimals and temporal values (as their numbers, YYYYMMDDhhmmss).
          const d = toScaled(v, ctx.warn) ?? { unscaled: 0n, scale: 0 };
          const s = this.sumDecimal ?? { unscaled: 0n, scale: d.scale };
          const scale = Math.max(s.scale, d.scale);
          this.sumDecimal = { unscaled: s.unscaled * 10n ** BigInt(scale - s.scale) +
            d.unscaled * 10n ** BigInt(scale - d.scale), scale };
        }
        break;
      case "min":
      case "max": {
        const order = this.best === null ? null : compareValues(v, this.best, { warn: ctx.warn,
          collation: spec.args[0] === undefined ? undefined : typeCollation(spec.args[0].type) });
        if (this.best === null || (order !== null &&
          (name === "min" ? order < 0 : order > 0))) this.best = v;
        break;
      }
      case "bit_and":
      case "bit_or":
      case "bit_xor": {
        const n = BigInt.asUintN(64, toInteger(v, ctx.warn) ?? 0n);
        this.bits = name === "bit_and" ? this.bits & n : name === "bit_or" ? this.bits | n
          : this.bits ^ n;
        break;
      }
      case "group_concat": {
        // Unordered, the rows after the one that overflows the limit cannot show: not kept.
        if (this.full) break;
        const text = args.map((a) => toText(a)).join("");
        this.pieces.push({ text, keys: orderKeys });
        if ((spec.orderDesc ?? []).length === 0) {
          this.concatBytes += utf8.encode(text).length + (this.pieces.length > 1
            ? utf8.encode(spec.separator ?? ",").length : 0);
          this.full = this.concatBytes > (spec.maxBytes ?? 1024);
        }
        break;
      }
      default:
        if (varianceNames.has(name)) {
          const x = toDouble(v, ctx.warn) ?? 0;
          if (this.count === 1n) {
            this.mean = x;
            this.squares = 0;
          } else {
            const previous = this.mean;
            this.mean = previous + (x - previous) / Number(this.count);
            this.squares += (x - previous) * (x - this.mean);
          }
        }
        break;
    }
  }

  /** The aggregate's value; `warn` receives GROUP_CONCAT's 1260. */
  result(ctx: EvalContext, warn?: (w: MySqlError) => void): Value {
    const spec = this.spec;
    switch (spec.name) {
      case "count":
        return { kind: "int", value: this.count };
      case "min":
      case "max":
        return this.best;
      case "bit_and":
      case "bit_or":
      case "bit_xor":
        return { kind: "uint", value: this.bits };
      case "json_arrayagg":
        return this.count === 0n ? null
          : { kind: "string", value: printJson({ kind: "array", items: this.items }) };
      case "json_objectagg":
        return this.count === 0n ? null
          : { kind: "string", value: printJson({ kind: "object", members: this.members }) };
      case "group_concat":
        return this.concatenated(ctx, warn);
      case "sum":
        if (this.count === 0n) return null;
        return this.sumDouble !== null ? { kind: "double", value: this.sumDouble }
          : { kind: "decimal", ...this.sumDecimal! };
      case "avg": {
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
      default: {
        const sample = spec.name === "stddev_samp" || spec.name === "var_samp";
        if (this.count === 0n || (sample && this.count === 1n)) return null;
        const variance = this.squares / Number(sample ? this.count - 1n : this.count);
        const root = spec.name.startsWith("std");
        return { kind: "double", value: root ? Math.sqrt(variance) : variance };
      }
    }
  }

  private concatenated(ctx: EvalContext, warn?: (w: MySqlError) => void): Value {
    if (this.pieces.length === 0) return null;
    const desc = this.spec.orderDesc ?? [];
    const pieces = desc.length === 0 ? this.pieces : [...this.pieces].sort((x, y) => {
      for (let i = 0; i < desc.length; i++) {
        const a = x.keys[i] ?? null;
        const b = y.keys[i] ?? null;
        let order = a === null ? (b === null ? 0 : -1) : b === null ? 1
          : compareForSort(a, b, { warn: ctx.warn,
            collation: this.spec.orderCollations?.[i] }) ?? 0;
        if (desc[i]) order = -order;
        if (order !== 0) return order;
      }
      return 0;
    });
    const separator = this.spec.separator ?? ",";
    const maxBytes = this.spec.maxBytes ?? 1024;
    let out = "";
    let bytes = 0;
    for (let i = 0; i < pieces.length; i++) {
      const piece = i === 0 ? pieces[i]!.text : separator + pieces[i]!.text;
      const size = utf8.encode(piece).length;
      if (bytes + size > maxBytes) {
        out += cutUtf8(piece, maxBytes - bytes);
        warn?.(mysqlError(ER.CUT_VALUE_GROUP_CONCAT, [i + 1]));
        break;
      }
      out += piece;
      bytes += size;
    }
    return { kind: "string", value: out };
  }
}

/** An aggregate call planned: its spec and compiled arguments and ORDER BY keys. */
export interface PlannedAggregate {
  readonly spec: AggSpec;
  readonly args: readonly Compiled[];
  readonly order: readonly Compiled[];
}

/**
 * Plans aggregate call `ast`: `compileArg` compiles an argument in the FROM rows' scope;
 * `maxBytes` is the session's `group_concat_max_len`.
 */
export function planAggregate(ast: AstExpr, compileArg: (e: AstExpr) => Compiled,
  options: { readonly maxBytes: number; readonly text: string }): PlannedAggregate {
  if (ast.kind === "groupConcat") {
    const args = ast.args.map(compileArg);
    const order = ast.orderBy.map((item) => {
      // `ORDER BY 2` names the second argument.
      const e = item.expr;
      if (e.kind === "int") {
        const k = Number(e.text);
        if (k >= 1 && k <= ast.args.length) return args[k - 1]!;
        throw mysqlError(ER.BAD_FIELD_ERROR, [e.text, "order clause"]);
      }
      return compileArg(e);
    });
    const exprs = args.map((a) => a.expr);
    return {
      spec: { name: "group_concat", args: exprs, distinct: ast.distinct, text: options.text,
        type: aggregateType("group_concat", exprs, { maxBytes: options.maxBytes }),
        orderDesc: ast.orderBy.map((o) => o.desc), separator: ast.separator ?? ",",
        orderCollations: keyCollations(order.map((o) => o.expr.type)),
        maxBytes: options.maxBytes },
      args,
      order,
    };
  }
  if (ast.kind !== "func") throw new Error("not an aggregate");
  const name = ast.name;
  const star = ast.args.length === 1 && ast.args[0]!.kind === "star";
  const countOk = name === "count" && (star ? !ast.distinct : ast.args.length >= 1 &&
    (ast.distinct || ast.args.length === 1));
  const arity = name === "json_objectagg" ? 2 : 1;
  if (name === "count" ? !countOk : ast.args.length !== arity || star) {
    throw mysqlError(ER.WRONG_PARAMCOUNT_TO_NATIVE_FCT, [name]);
  }
  const args = star ? [] : ast.args.map(compileArg);
  const exprs = args.map((a) => a.expr);
  return {
    spec: { name, args: exprs, distinct: ast.distinct, type: aggregateType(name, exprs),
      text: options.text },
    args,
    order: [],
  };
}

/** What grouping needs: the GROUP BY expressions and the aggregates. */
export interface GroupPlan {
  readonly groupBy: readonly Compiled[];
  readonly aggregates: readonly PlannedAggregate[];
  /** Without GROUP BY: one group, also over no rows. */
  readonly implicit: boolean;
  /** Width of a FROM row (the first row of an empty implicit group is all NULL). */
  readonly width: number;
}

/**
 * Groups `rows`: one record per group, the group's first row followed by the aggregates'
 * results, in the order groups were first seen.
 */
export async function groupRows(rows: readonly Value[][], plan: GroupPlan, ctx: EvalContext,
  warn?: (w: MySqlError) => void, mem: MemoryAccount = noMemoryAccount): Promise<Value[][]> {
  const aggs = plan.aggregates;
  const buffering = aggs.map((a) => a.spec.distinct || bufferingNames.has(a.spec.name));
  const groups = new Map<string, { first: Value[]; accs: Accumulator[] }>();
  const collations = keyCollations(plan.groupBy.map((g) => g.expr.type));
  // GROUP BY items and arguments a batch of rows at a time where they can (vec_filter.ts).
  const vec = batchProjection([...plan.groupBy, ...aggs.flatMap((a) => [...a.args,
    ...a.order])], rows, null, ctx);
  let index = 0;
  for (const row of rows) {
    const batched = vec?.row(index++);
    let at = 0;
    const keyValues: Value[] = [];
    for (const g of plan.groupBy) {
      const v = batched?.[at++];
      keyValues.push(v !== undefined ? v : await evalCompiled(g, row, ctx));
    }
    const key = rowKey(keyValues, collations);
    let group = groups.get(key);
    if (group === undefined) {
      group = { first: row, accs: aggs.map((a) => new Accumulator(a.spec)) };
      groups.set(key, group);
      // The hash table entry, its key and the accumulators (and the result record later).
      mem.consume(keyBytes(key) + aggs.length * 96 + rowBytes(row));
    }
    for (let k = 0; k < aggs.length; k++) {
      const agg = aggs[k]!;
      const args: Value[] = [];
      for (const a of agg.args) {
        const v = batched?.[at++];
        args.push(v !== undefined ? v : await evalCompiled(a, row, ctx));
      }
      const keys: Value[] = [];
      for (const o of agg.order) {
        const v = batched?.[at++];
        keys.push(v !== undefined ? v : await evalCompiled(o, row, ctx));
      }
      group.accs[k]!.add(args, ctx, keys);
      // GROUP_CONCAT pieces, JSON items, DISTINCT sets: kept per row.
      if (buffering[k]) mem.consume(rowBytes(args) + rowBytes(keys) + entryOverheadBytes);
    }
  }
  if (groups.size === 0 && plan.implicit) {
    groups.set("", { first: new Array<Value>(plan.width).fill(null),
      accs: aggs.map((a) => new Accumulator(a.spec)) });
  }
  return [...groups.values()].map((g) => [...g.first, ...g.accs.map((a) => a.result(ctx,
    warn))]);
}

/**
 * GROUP BY … WITH ROLLUP over GROUP BY items that are columns at `positions` of a FROM
 * row: the groups of every prefix of the list, in MySQL's order (ascending by the group
 * values, each super-aggregate row after the rows it sums up, the grand total last). In
 * a super-aggregate row the rolled-up columns are NULL; every record ends with one
 * GROUPING() flag per GROUP BY item (1: rolled up). No rows in, no rows out.
 */
export async function rollupRows(rows: readonly Value[][], plan: GroupPlan,
  positions: readonly number[], ctx: EvalContext, warn?: (w: MySqlError) => void,
  mem: MemoryAccount = noMemoryAccount): Promise<Value[][]> {
  const n = plan.groupBy.length;
  if (rows.length === 0) return [];
  const out: { keys: Value[]; kept: number; record: Value[] }[] = [];
  const collations = keyCollations(plan.groupBy.map((g) => g.expr.type));
  for (let kept = n; kept >= 0; kept--) {
    const records = await groupRows(rows, { ...plan, groupBy: plan.groupBy.slice(0, kept),
      implicit: kept === 0 }, ctx, warn, mem);
    for (const record of records) {
      const first = record.slice(0, plan.width);
      const keys: Value[] = [];
      for (let i = 0; i < kept; i++) keys.push(await evalCompiled(plan.groupBy[i]!, first, ctx));
      const rolled = [...record];
      for (let i = kept; i < n; i++) rolled[positions[i]!] = null;
      for (let i = 0; i < n; i++) rolled.push({ kind: "int", value: i < kept ? 0n : 1n });
      out.push({ keys, kept, record: rolled });
    }
  }
  out.sort((x, y) => {
    for (let i = 0; i < n; i++) {
      const xr = i >= x.kept;
      const yr = i >= y.kept;
      if (xr || yr) {
        if (xr !== yr) return xr ? 1 : -1;
        return 0;
      }
      const a = x.keys[i] ?? null;
      const b = y.keys[i] ?? null;
      const order = a === null ? (b === null ? 0 : -1) : b === null ? 1
        : compareForSort(a, b, { warn: ctx.warn, collation: collations[i] }) ?? 0;
      if (order !== 0) return order;
    }
    return 0;
  });
  return out.map((e) => e.record);
}
