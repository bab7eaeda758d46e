/**
 * Column batches for the vectorized coprocessor executor (batch_exec.ts, [T9] "Executor:
 * vectorized"): N rows held column by column, as TiKV's `LazyBatchColumnVec`.
 *
 * A `Column` keeps, per physical row, a tag and a number: NULL, a signed or unsigned
 * integer that a double holds exactly (|v| ≤ 2^53), or a DOUBLE sit in typed arrays
 * without a `Value` object; anything else (decimals, strings, dates, large integers)
 * is kept as its `Value` in a side array. Kernels over numbers read the typed arrays;
 * `valueAt` materializes a `Value` equal to the one the row executor holds.
 *
 * A `Chunk` is the scan's columns plus a selection vector: the physical rows still
 * logically present, ascending. A filter narrows the vector instead of copying rows.
 */
import type { Value } from "../value.ts";

/** Row tags: how `Column` holds one value. */
export const Tag = {
  null: 0,
  int: 1,
  uint: 2,
  double: 3,
  /** A `Value` in `others`. */
  other: 4,
} as const;

const safeMax = Number.MAX_SAFE_INTEGER;
const safeMaxBig = BigInt(safeMax);

/** One column of a batch, indexed by physical row. */
export class Column {
  readonly tags: Uint8Array;
  readonly nums: Float64Array;
  /** Values of rows tagged `other` (undefined elsewhere). */
  readonly others: (Value | undefined)[] = [];

  constructor(length: number) {
    // One backing store for both arrays (each is an allocation outside the heap).
    const buffer = new ArrayBuffer(length * 9);
    this.nums = new Float64Array(buffer, 0, length);
    this.tags = new Uint8Array(buffer, length * 8, length);
  }

  get length(): number {
    return this.tags.length;
  }

  /** A column of `length` rows all holding `value`. */
  static constant(value: Value, length: number): Column {
    const c = new Column(length);
    if (length === 0) return c;
    c.set(0, value);
    if (c.tags[0] === Tag.other) {
      for (let i = 1; i < length; i++) c.set(i, value);
    } else {
      // One tag and number for every row: typed fills.
      c.tags.fill(c.tags[0]!);
      c.nums.fill(c.nums[0]!);
    }
    return c;
  }

  /** Stores `value` at row `i`, in typed form when it has one. */
  set(i: number, value: Value): void {
    if (value === null) {
      this.tags[i] = Tag.null;
      return;
    }
    switch (value.kind) {
      case "int":
      case "uint":
        if (value.value <= safeMaxBig && value.value >= -safeMaxBig) {
          this.tags[i] = value.kind === "int" ? Tag.int : Tag.uint;
          this.nums[i] = Number(value.value);
          return;
        }
        break;
      case "double":
        this.tags[i] = Tag.double;
        this.nums[i] = value.value;
        return;
      default:
        break;
    }
    this.tags[i] = Tag.other;
    this.others[i] = value;
  }

  /** Stores an integer given as a safe number (`tag` int or uint). */
  setNumber(i: number, tag: number, n: number): void {
    this.tags[i] = tag;
    this.nums[i] = n;
  }

  setNull(i: number): void {
    this.tags[i] = Tag.null;
  }

  isNull(i: number): boolean {
    return this.tags[i] === Tag.null;
  }

  /** The value at row `i`, equal (deeply) to the one set. */
  valueAt(i: number): Value {
    switch (this.tags[i]) {
      case Tag.null:
        return null;
      case Tag.int:
        return { kind: "int", value: BigInt(this.nums[i]!) };
      case Tag.uint:
        return { kind: "uint", value: BigInt(this.nums[i]!) };
      case Tag.double:
        return { kind: "double", value: this.nums[i]! };
      default:
        return this.others[i] as Value;
    }
  }

  /** Whether every row of `sel` is NULL or a number held in the typed arrays. */
  allNumeric(sel: Int32Array, count: number): boolean {
    const tags = this.tags;
    for (let k = 0; k < count; k++) if (tags[sel[k]!] === Tag.other) return false;
    return true;
  }
}

/** Whether `n` is an integer a double holds exactly, as `Column` keeps integers. */
export function isSafeNumber(n: number): boolean {
  return n <= safeMax && n >= -safeMax;
}

/** A batch: the scan's columns and the rows selected so far. */
export class Chunk {
  readonly rowCount: number;
  readonly columns: readonly Column[];
  /** Selected physical rows, ascending; the first `selCount` entries are live. */
  sel: Int32Array;
  selCount: number;

  constructor(columns: readonly Column[], rowCount: number) {
    this.columns = columns;
    this.rowCount = rowCount;
    this.sel = new Int32Array(rowCount);
    for (let i = 0; i < rowCount; i++) this.sel[i] = i;
    this.selCount = rowCount;
  }

  /** Keeps the selected rows for which `keep(row)` holds, in order. */
  filter(keep: (row: number) => boolean): void {
    const sel = this.sel;
    let n = 0;
    for (let k = 0; k < this.selCount; k++) {
      const row = sel[k]!;
      if (keep(row)) sel[n++] = row;
    }
    this.selCount = n;
  }

  /** Physical row `i` as the row executor's `Value[]`. */
  rowAt(i: number): Value[] {
    const out = new Array<Value>(this.columns.length);
    for (let c = 0; c < this.columns.length; c++) out[c] = this.columns[c]!.valueAt(i);
    return out;
  }
}
