/**
 * The coprocessor DAG executor (src/expr/dag_exec.ts) and the SQL layer's own readers
 * (src/sql/table/table.ts) must decode stored data identically, or a pushed-down scan
 * would answer differently from a local one. Rows and index entries are written here with
 * the SQL layer's encoders (`encodeRowValue`, `indexEntry`) for every column type, and the
 * DAG's table scan must equal `decodeRowValue`, its index scan the stored values of the
 * indexed columns (DECIMAL scale, DATE, DATETIME/TIMESTAMP fsp, YEAR, BIT, unsigned).
 * Partial aggregation must also group exactly as the SQL layer's GROUP BY (`valueKey`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { indexId, tableId } from "../../src/base/mod.ts";
import { compareBytes, indexPrefix, prefixNext } from "../../src/codec/mod.ts";
import {
  type DagColumn,
  type DagRequest,
  type DagResponse,
  type Value,
  dagValueKey,
  defaultDagContext,
  runDag,
  sortedPairsScanner,
} from "../../src/expr/mod.ts";
import { type TableInfo, tableInfoOf } from "../../src/sql/catalog/schema.ts";
import { parse } from "../../src/sql/parser/parse.ts";
import { valueKey } from "../../src/sql/plan/aggregate.ts";
import { dagColumnType, readStoredValue } from "../../src/sql/table/typed_store.ts";
import { decodeRowValue, encodeRowValue, indexEntry, rowKey, rowRange }
  from "../../src/sql/table/table.ts";

const opts = { timeout: 30_000 };

function tableOf(sql: string): TableInfo {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok");
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement !== undefined && statement.kind === "createTable");
  return tableInfoOf(statement.table.name, statement, { tableId: 61, dbId: 2 });
}

const table = tableOf(`CREATE TABLE t (id BIGINT PRIMARY KEY, i INT, u INT UNSIGNED,
  n DECIMAL(8,3), d DOUBLE, s VARCHAR(10), dt DATE, dtm DATETIME(3), ts TIMESTAMP(2) NULL,
  tm TIME, y YEAR, b BIT(5), e ENUM('x','y','z'), st SET('a','b','c'), j JSON,
  KEY k (n, dt, dtm, ts, u, d, y, b, i))`);

const dtv = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, us = 0, fsp = 0): Value =>
  ({ kind: "datetime", fsp, value: { year: y, month: mo, day: d, hour: h, minute: mi, second: s,
    microsecond: us } });

/** Rows as the SQL layer stores them (what `storeValue` yields for each column). */
const rows: readonly Value[][] = [
  [{ kind: "int", value: 1n }, { kind: "int", value: -5n }, { kind: "uint", value: 4000000000n },
    { kind: "decimal", unscaled: 12345n, scale: 3 }, { kind: "double", value: -2.5 },
    { kind: "string", value: "Hé " }, { ...dtv(2024, 2, 29) as object, date: true } as Value,
    dtv(1999, 12, 31, 23, 59, 59, 123000, 3), { ...dtv(2030, 1, 1, 1, 2, 3, 450000, 2) as object,
      utc: true } as Value, { kind: "string", value: "-12:00:01" }, { kind: "int", value: 2024n },
    { kind: "uint", value: 31n }, { kind: "string", value: "y" }, { kind: "string", value: "a,c" },
    { kind: "string", value: "{\"a\": [1, 2]}" }],
  [{ kind: "int", value: -(2n ** 62n) }, null, null, null, null, null, null, null, null, null,
    null, null, null, null, null],
  [{ kind: "int", value: 7n }, { kind: "int", value: 0n }, { kind: "uint", value: 0n },
    { kind: "decimal", unscaled: -1n, scale: 3 }, { kind: "double", value: 0 },
    { kind: "string", value: "" }, { ...dtv(1000, 1, 1) as object, date: true } as Value,
    dtv(9999, 12, 31, 23, 59, 59, 999000, 3), { ...dtv(1970, 1, 1, 0, 0, 1, 0, 2) as object,
      utc: true } as Value, { kind: "string", value: "838:59:59" }, { kind: "int", value: 0n },
    { kind: "uint", value: 0n }, { kind: "string", value: "" }, { kind: "string", value: "" },
    { kind: "string", value: "null" }],
];

function run(request: DagRequest, pairs: { key: Uint8Array; value: Uint8Array }[],
  range: { start: Uint8Array; end: Uint8Array }): DagResponse {
  pairs.sort((x, y) => compareBytes(x.key, y.key));
  const result = runDag(request, [range], sortedPairsScanner(pairs));
  return result.response;
}

test("a DAG table scan reads rows exactly as decodeRowValue does", opts, () => {
  const pairs = rows.map((values) => ({ key: rowKey(table, (values[0] as { value: bigint }).value),
    value: encodeRowValue(table, values) }));
  const columns: DagColumn[] = table.columns.map((c) => ({ id: c.id, type: dagColumnType(c),
    originDefault: null }));
  const page = run({ scan: { kind: "table", tableId: table.id, columns, handleSlot: 0,
    desc: false }, selection: [], aggregation: null, topN: null, limit: null,
  context: defaultDagContext, pagingKeys: 100 }, pairs, rowRange(table));
  const want = [...pairs].map((p) => decodeRowValue(table, p.value));
  assert.deepEqual(page.rows, want);
  assert.deepEqual(page.handles, want.map((r) => (r[0] as { value: bigint }).value));
});

test("a DAG index scan decodes the SQL layer's index keys to the stored values", opts, () => {
  const index = table.indexes.find((i) => i.name === "k")!;
  const pairs = rows.map((values) => {
    const entry = indexEntry(table, index, { values, handle: (values[0] as { value: bigint })
      .value });
    return { key: entry.key, value: entry.value };
  });
  const columns: DagColumn[] = index.columns.map((offset, position) => ({ id: position,
    type: dagColumnType(table.columns[offset]!), originDefault: null }));
  columns.push({ id: 0, type: { kind: "int", unsigned: false }, originDefault: null });
  const start = indexPrefix(tableId(table.id), indexId(index.id));
  const page = run({ scan: { kind: "index", tableId: table.id, indexId: index.id,
    keyColumns: index.columns.length, columns, handleSlot: columns.length - 1, desc: false },
  selection: [], aggregation: null, topN: null, limit: null, context: defaultDagContext,
  pagingKeys: 100 }, pairs, { start, end: prefixNext(start) });
  const byHandle = new Map(rows.map((r) => [(r[0] as { value: bigint }).value, r]));
  assert.equal(page.rows.length, rows.length);
  page.rows.forEach((got, i) => {
    const stored = byHandle.get(page.handles![i]!)!;
    const want = [...index.columns.map((o) => readStoredValue(table.columns[o]!, stored[o]!)),
      stored[0]!];
    assert.deepEqual(got, want, `row with handle ${page.handles![i]}`);
  });
});

test("partial aggregation groups values as the SQL layer's GROUP BY does", opts, () => {
  const values: Value[] = [null, { kind: "string", value: "a" }, { kind: "string", value: "A " },
    { kind: "string", value: "é" }, { kind: "string", value: "E" }, { kind: "string", value: "" },
    { kind: "int", value: 1n }, { kind: "uint", value: 1n }, { kind: "int", value: -1n },
    { kind: "decimal", unscaled: 10n, scale: 1 }, { kind: "decimal", unscaled: 1n, scale: 0 },
    { kind: "double", value: 1 }, { kind: "double", value: 0.5 },
    { kind: "string", value: "x", tag: { kind: "enum", index: 1 } },
    ...rows[0]!.filter((v) => v !== null && v.kind === "datetime")];
  for (const x of values) {
    for (const y of values) {
      assert.equal(dagValueKey(x) === dagValueKey(y), valueKey(x) === valueKey(y),
        `${JSON.stringify(x, big)} vs ${JSON.stringify(y, big)}`);
    }
  }
});

function big(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v;
}
