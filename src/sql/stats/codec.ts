/**
 * Table statistics as stored in KV: JSON with byte strings in base64, and the meta keys
 * they live under. Pure: no I/O.
 *
 * Layout (under the meta prefix, next to the catalog and the DDL state):
 *
 *     m "StatsMeta" h {tableId}     { version, count, modifyBase }: the last analysis
 *     m "StatsData" h {tableId}     the histograms of that analysis (`TableStats`)
 *     m "StatsModify" h {tableId}   { modifyCount }: rows changed, added to by SQL nodes
 *
 * Statistics are kept under the meta prefix rather than in a system table: Tessera has no
 * system tables yet, the values are written and read whole (one key per table), and the
 * DDL state lives there already in the same JSON form. The modify counter has its own key
 * so that SQL nodes adding to it never conflict with an ANALYZE writing the histograms;
 * an analysis records the counter it saw (`modifyBase`), and the rows changed since are
 * the difference.
 */
import { decodeMetaKey, encodeMetaKey, prefixNext } from "../../codec/mod.ts";
import type { Bucket, Histogram, TableStats } from "./histogram.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function field(hash: string, tableId: number): Uint8Array {
  return encodeMetaKey({ key: utf8.encode(hash), field: utf8.encode(String(tableId)) });
}

/** The key of a table's analysis summary. */
export function statsMetaKey(tableId: number): Uint8Array {
  return field("StatsMeta", tableId);
}

/** The key of a table's histograms. */
export function statsDataKey(tableId: number): Uint8Array {
  return field("StatsData", tableId);
}

/** The key of a table's modify counter. */
export function statsModifyKey(tableId: number): Uint8Array {
  return field("StatsModify", tableId);
}

function hashRange(hash: string): { start: Uint8Array; end: Uint8Array } {
  const empty = encodeMetaKey({ key: utf8.encode(hash), field: new Uint8Array(0) });
  // The empty field is 9 group bytes after the hash tag; the hash's fields share the rest.
  const start = empty.slice(0, empty.length - 9);
  return { start, end: prefixNext(start) };
}

/** The key range of every table's summary. */
export const statsMetaRange = hashRange("StatsMeta");
/** The key range of every table's modify counter. */
export const statsModifyRange = hashRange("StatsModify");

/** The table id a key of one of the hashes is for. */
export function tableIdOfKey(key: Uint8Array): number {
  const field = decodeMetaKey(key).field;
  return field === undefined ? Number.NaN : Number(fromUtf8.decode(field));
}

/** What the summary of an analysis holds. */
export interface StatsMeta {
  readonly version: string;
  readonly count: number;
  /** The modify counter when analyzed. */
  readonly modifyBase: number;
}

export function encodeJson(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(fromUtf8.decode(bytes)) as T;
}

const b64 = (x: Uint8Array): string => Buffer.from(x).toString("base64");
const unb64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "base64"));

interface HistogramJson {
  ndv: number;
  nulls: number;
  notNull: number;
  top: [string, number][];
  buckets: [string, string, number, number, number][];
}

function histogramJson(h: Histogram): HistogramJson {
  return { ndv: h.ndv, nulls: h.nullCount, notNull: h.notNullCount,
    top: h.topN.map((t) => [b64(t.value), t.count]),
    buckets: h.buckets.map((b) => [b64(b.lower), b64(b.upper), b.count, b.repeats, b.ndv]) };
}

function histogramOf(j: HistogramJson): Histogram {
  return { ndv: j.ndv, nullCount: j.nulls, notNullCount: j.notNull,
    topN: j.top.map(([v, count]) => ({ value: unb64(v), count })),
    buckets: j.buckets.map(([lower, upper, count, repeats, ndv]): Bucket => ({
      lower: unb64(lower), upper: unb64(upper), count, repeats, ndv })) };
}

interface StatsJson {
  version: string;
  count: number;
  columns: [number, HistogramJson][];
  indexes: [number, HistogramJson][];
}

/** The stored form of a table's statistics. */
export function encodeStats(stats: TableStats): Uint8Array {
  const json: StatsJson = { version: stats.version, count: stats.count,
    columns: [...stats.columns].map(([id, h]) => [id, histogramJson(h)]),
    indexes: [...stats.indexes].map(([id, h]) => [id, histogramJson(h)]) };
  return encodeJson(json);
}

/** A table's statistics from their stored form. */
export function decodeStats(bytes: Uint8Array): TableStats {
  const json = decodeJson<StatsJson>(bytes);
  return { version: json.version, count: json.count,
    columns: new Map(json.columns.map(([id, h]) => [id, histogramOf(h)])),
    indexes: new Map(json.indexes.map(([id, h]) => [id, histogramOf(h)])) };
}
