/**
 * `StatsBuilder`: what ANALYZE TABLE does with the rows it reads, as pure code. Rows go
 * in one at a time (any number); the builder counts rows and NULLs exactly and keeps a
 * bounded reservoir sample (`sampleRowsMax` rows, Algorithm R with a seeded xorshift
 * generator, so the same rows give the same statistics) of each column's and each
 * index's encoded values, from which `finish` builds the histograms (`histogram.ts`).
 *
 * Columns whose values have no meaningful key order for the optimizer (JSON) are skipped;
 * every public index is analyzed over its encoded column values (without the handle).
 */
import { indexPrefixBytes } from "../../codec/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { type IndexInfo, type TableInfo, isPublic } from "../catalog/schema.ts";
import { indexEntry } from "../table/table.ts";
import { type Histogram, type TableStats, buildHistogram } from "./histogram.ts";

/** Rows sampled at most (bounded memory whatever the table's size). */
export const sampleRowsMax = 20_000;

/** Bytes of the handle an index key carries after its values (flag + int64). */
const handleBytes = 9;

/** Collects a table's statistics from its rows; see the file comment. */
export class StatsBuilder {
  private readonly table: TableInfo;
  private readonly columns: readonly { readonly offset: number; readonly probe: IndexInfo }[];
  private readonly indexes: readonly IndexInfo[];
  private readonly sampleMax: number;
  private rows = 0;
  private readonly nulls: number[];
  /** Sampled rows: per column its encoded value (null for NULL), then per index. */
  private readonly sample: (Uint8Array | null)[][] = [];
  private seed: number;

  constructor(table: TableInfo, options: { readonly sampleRowsMax?: number } = {}) {
    this.table = table;
    this.columns = table.columns.filter((c) => isPublic(c) && c.type.kind !== "json")
      .map((c) => ({ offset: c.offset, probe: { id: 1, name: "", unique: true, primary: false,
        columns: [c.offset] } }));
    this.indexes = table.indexes.filter(isPublic);
    this.sampleMax = options.sampleRowsMax ?? sampleRowsMax;
    this.nulls = this.columns.map(() => 0);
    this.seed = (table.id * 2654435761) >>> 0 || 1;
  }

  /** Rows seen so far. */
  get count(): number {
    return this.rows;
  }

  private random(bound: number): number {
    let x = this.seed;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.seed = x || 1;
    return Math.floor((x / 2 ** 32) * bound);
  }

  /** Adds one row (its values in column order). */
  add(values: readonly Value[], handle: bigint): void {
    this.rows++;
    this.columns.forEach((c, i) => {
      if (values[c.offset] === null || values[c.offset] === undefined) this.nulls[i]!++;
    });
    let slot = this.sample.length;
    if (slot >= this.sampleMax) {
      slot = this.random(this.rows);
      if (slot >= this.sampleMax) return;
    }
    const encoded: (Uint8Array | null)[] = [];
    for (const c of this.columns) {
      const v = values[c.offset] ?? null;
      encoded.push(v === null ? null : indexEntry(this.table, c.probe, { values, handle })
        .key.slice(indexPrefixBytes));
    }
    for (const index of this.indexes) {
      const entry = indexEntry(this.table, index, { values, handle });
      const end = entry.distinct ? entry.key.length : entry.key.length - handleBytes;
      encoded.push(entry.key.slice(indexPrefixBytes, end));
    }
    if (slot === this.sample.length) this.sample.push(encoded);
    else this.sample[slot] = encoded;
  }

  /** The statistics of the rows added, as of analysis `version`. */
  finish(version: string): TableStats {
    const columns = new Map<number, Histogram>();
    this.columns.forEach((c, i) => {
      const values = this.sample.map((r) => r[i]).filter((v) => v !== null && v !== undefined);
      const nullCount = this.nulls[i]!;
      columns.set(this.table.columns[c.offset]!.id, buildHistogram(values,
        { notNullCount: this.rows - nullCount, nullCount }));
    });
    const indexes = new Map<number, Histogram>();
    this.indexes.forEach((index, k) => {
      const at = this.columns.length + k;
      const values = this.sample.map((r) => r[at]!);
      indexes.set(index.id, buildHistogram(values, { notNullCount: this.rows, nullCount: 0 }));
    });
    return { version, count: this.rows, columns, indexes };
  }
}
