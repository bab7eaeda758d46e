/**
 * Column and index statistics as pure data, how `ANALYZE TABLE` builds them from a sample,
 * and how many rows a range of key values holds by them (the optimizer's estimate).
 *
 * Values are the memcomparable key encodings of the column (or of the index's columns),
 * as index entries hold them (`src/codec/key.ts`): bytewise order is SQL order under the
 * column's collation, so one histogram serves every type and a range of index keys is a
 * range of histogram values. A histogram is equal-depth (TiDB's): up to `bucketsMax`
 * buckets of about equal row counts, each with its lower and upper value, its count, the
 * count of its upper value (`repeats`) and its distinct values; a value never spans two
 * buckets. The `topNMax` most frequent values are kept apart with their counts (top-N)
 * and left out of the buckets. Bucket bounds are truncated to `valueBytesMax` bytes (a
 * truncated bound still orders correctly against the others; estimates are estimates).
 *
 * Counts are scaled from the sample to the table; NDV from a partial sample uses the
 * Duj1 estimator (Haas & Stokes). Within a bucket, rows are assumed spread uniformly over
 * the numeric value of the 8 bytes after the bounds' common prefix (TiDB's
 * `calcFraction`). Pure: no I/O.
 */

/** One equal-depth bucket. */
export interface Bucket {
  readonly lower: Uint8Array;
  readonly upper: Uint8Array;
  /** Rows in the bucket (scaled to the table). */
  readonly count: number;
  /** Rows whose value is `upper`. */
  readonly repeats: number;
  /** Distinct values in the bucket. */
  readonly ndv: number;
}

/** Statistics of one column or index. */
export interface Histogram {
  /** Distinct non-NULL values. */
  readonly ndv: number;
  /** Rows whose value is NULL (columns; an index counts every row as a value). */
  readonly nullCount: number;
  /** Rows with a non-NULL value. */
  readonly notNullCount: number;
  readonly topN: readonly { readonly value: Uint8Array; readonly count: number }[];
  readonly buckets: readonly Bucket[];
}

/** A table's statistics. */
export interface TableStats {
  /** The version of the analysis (the start timestamp of the ANALYZE transaction). */
  readonly version: string;
  /** Rows when analyzed. */
  readonly count: number;
  /** By column id. */
  readonly columns: ReadonlyMap<number, Histogram>;
  /** By index id. */
  readonly indexes: ReadonlyMap<number, Histogram>;
}

/** A range of encoded values: [lo, hi), hi null for no upper end; `point`: one value. */
export interface Interval {
  readonly lo: Uint8Array;
  readonly hi: Uint8Array | null;
  readonly point: boolean;
}

/** Buckets per histogram at most (TiDB's default). */
export const bucketsMax = 256;
/** Most frequent values kept apart, at most. */
export const topNMax = 20;
/** Bytes of a stored bound or top-N value at most. */
export const valueBytesMax = 64;

/** Bytewise comparison. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

function truncate(value: Uint8Array): Uint8Array {
  return value.length <= valueBytesMax ? value : value.slice(0, valueBytesMax);
}

/**
 * The statistics of a column or index from `sample` (its non-NULL values, any order) of
 * a table whose `notNullCount` rows have a value and `nullCount` have NULL.
 */
export function buildHistogram(sample: readonly Uint8Array[], counts: {
  readonly notNullCount: number;
  readonly nullCount: number;
  readonly bucketsMax?: number;
  readonly topNMax?: number;
}): Histogram {
  const maxBuckets = counts.bucketsMax ?? bucketsMax;
  const maxTop = counts.topNMax ?? topNMax;
  const n = sample.length;
  const total = counts.notNullCount;
  if (n === 0 || total === 0) {
    return { ndv: 0, nullCount: counts.nullCount, notNullCount: total, topN: [], buckets: [] };
  }
  const scale = total / n;
  const sorted = [...sample].sort(compareBytes);
  const runs: { value: Uint8Array; n: number }[] = [];
  for (const value of sorted) {
    const last = runs[runs.length - 1];
    if (last !== undefined && compareBytes(last.value, value) === 0) last.n++;
    else runs.push({ value, n: 1 });
  }
  const d = runs.length;
  const f1 = runs.filter((r) => r.n === 1).length;
  const ndv = n >= total ? d
    : Math.min(total, Math.max(d, (n * d) / (n - f1 + (f1 * n) / total)));
  // Top-N: the most frequent values seen more than once, short enough to keep whole.
  const top = runs.filter((r) => r.n > 1 && r.value.length <= valueBytesMax)
    .sort((a, b) => b.n - a.n || compareBytes(a.value, b.value)).slice(0, maxTop);
  const inTop = new Set(top);
  const rest = runs.filter((r) => !inTop.has(r));
  const restRows = rest.reduce((s, r) => s + r.n, 0);
  const depth = Math.max(1, Math.ceil(restRows / maxBuckets));
  // Distinct values the rest stands for (beyond those sampled, when sampling).
  const ndvScale = rest.length === 0 ? 1 : Math.max(1, (ndv - top.length) / rest.length);
  const buckets: Bucket[] = [];
  let first = 0;
  let rows = 0;
  for (let i = 0; i < rest.length; i++) {
    rows += rest[i]!.n;
    if (rows >= depth || i === rest.length - 1) {
      buckets.push({ lower: truncate(rest[first]!.value), upper: truncate(rest[i]!.value),
        count: rows * scale, repeats: rest[i]!.n * scale, ndv: (i - first + 1) * ndvScale });
      first = i + 1;
      rows = 0;
    }
  }
  return {
    ndv,
    nullCount: counts.nullCount,
    notNullCount: total,
    topN: top.map((r) => ({ value: r.value, count: r.n * scale })),
    buckets,
  };
}

/** The number the 8 bytes of `x` from `at` spell (missing bytes are 0). */
function word(x: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 0; i < 8; i++) v = v * 256 + (x[at + i] ?? 0);
  return v;
}

/** Where `x` lies between `lower` and `upper`, in [0, 1]. */
export function fraction(lower: Uint8Array, upper: Uint8Array, x: Uint8Array): number {
  if (compareBytes(x, lower) <= 0) return 0;
  if (compareBytes(x, upper) >= 0) return 1;
  let common = 0;
  while (common < lower.length && common < upper.length && lower[common] === upper[common]) {
    common++;
  }
  const l = word(lower, common);
  const u = word(upper, common);
  if (u <= l) return 0.5;
  return Math.min(1, Math.max(0, (word(x, common) - l) / (u - l)));
}

function within(value: Uint8Array, interval: Interval): boolean {
  return compareBytes(value, interval.lo) >= 0 &&
    (interval.hi === null || compareBytes(value, interval.hi) < 0);
}

/** Rows whose value equals `value` (an exact encoded value). */
export function estimateEqual(h: Histogram, value: Uint8Array): number {
  for (const t of h.topN) if (compareBytes(t.value, value) === 0) return t.count;
  for (const b of h.buckets) {
    if (compareBytes(value, b.lower) < 0) break;
    if (compareBytes(value, b.upper) > 0) continue;
    if (compareBytes(value, b.upper) === 0) return b.repeats;
    return Math.max(0, b.count - b.repeats) / Math.max(1, b.ndv - 1);
  }
  // Not seen when analyzed: at most an average value's rows.
  const restNdv = Math.max(1, h.ndv - h.topN.length);
  const restRows = h.buckets.reduce((s, b) => s + b.count, 0);
  return Math.min(1, restRows / restNdv);
}

/** Rows whose value lies in `interval`. */
export function estimateInterval(h: Histogram, interval: Interval): number {
  if (interval.point && interval.lo.length === 1 && interval.lo[0] === 0) return h.nullCount;
  let rows = 0;
  for (const t of h.topN) if (within(t.value, interval)) rows += t.count;
  const { lo, hi } = interval;
  for (const b of h.buckets) {
    if (hi !== null && compareBytes(hi, b.lower) <= 0) break;
    if (compareBytes(lo, b.upper) > 0) continue;
    const upperIn = within(b.upper, interval);
    if (compareBytes(lo, b.lower) <= 0 && upperIn) {
      rows += b.count;
      continue;
    }
    const from = fraction(b.lower, b.upper, lo);
    const to = hi === null ? 1 : fraction(b.lower, b.upper, hi);
    rows += Math.max(0, b.count - b.repeats) * Math.max(0, to - from) +
      (upperIn ? b.repeats : 0);
  }
  // The lower bound of a range excludes NULLs of a column (NULL encodes as 0x00).
  if (compareBytes(lo, Uint8Array.of(0x01)) < 0) rows += h.nullCount;
  return rows;
}

/**
 * Rows of `intervals` (disjoint): a point is an equality lookup (at most one row each
 * when `unique`), anything else a range.
 */
export function estimateIntervals(h: Histogram, intervals: readonly Interval[],
  options: { readonly unique: boolean }): number {
  let rows = 0;
  for (const interval of intervals) {
    let r = interval.point && !(interval.lo.length === 1 && interval.lo[0] === 0)
      ? estimateEqual(h, interval.lo) : estimateInterval(h, interval);
    if (options.unique && interval.point) r = Math.min(r, 1);
    rows += r;
  }
  return Math.min(rows, h.notNullCount + h.nullCount);
}
