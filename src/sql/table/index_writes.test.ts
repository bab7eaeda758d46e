/**
 * `indexMutations` and `uniqueChecks`, table-driven: every F1 state of an index, unique
 * and non-unique indexes, NULLs, and UPDATEs that do and do not change indexed columns or
 * the handle. Each case states the expected trace of writes (`delete k(1)`, `put u('a')`).
 * Also `encodeRowForWrite`, the row value honouring column states.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Value } from "../../expr/mod.ts";
import { tableInfoOf } from "../catalog/schema.ts";
import type { IndexInfo, SchemaState, TableInfo } from "../catalog/schema.ts";
import { parse } from "../parser/parse.ts";
import { encodeRowForWrite, indexMutations, uniqueChecks, type RowImage }
  from "./index_writes.ts";
import { decodeRowValue, handleOfIndexValue, indexEntry, rowKey } from "./table.ts";

/** `CREATE TABLE` text → TableInfo, with index states overridden by name. */
function table(sql: string, states: Record<string, SchemaState> = {}): TableInfo {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok");
  const statement = parsed.kind === "ok" ? parsed.statements[0]!.statement : undefined;
  assert.ok(statement !== undefined && statement.kind === "createTable");
  const info = tableInfoOf(statement.table.name, statement, { tableId: 50, dbId: 2 });
  return { ...info, indexes: info.indexes.map((i): IndexInfo =>
    (states[i.name] === undefined ? i : { ...i, state: states[i.name]! })) };
}

const int = (n: number): Value => ({ kind: "int", value: BigInt(n) });
const str = (s: string): Value => ({ kind: "string", value: s });

function row(handle: number, values: Value[]): RowImage {
  return { handle: BigInt(handle), values };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Names each mutation by the row image whose entry it is: `put k@new`, `delete u@old`. */
function trace(t: TableInfo, before: RowImage | null, after: RowImage | null): string[] {
  return indexMutations(t, { before, after }).map((m) => {
    const images = m.kind === "put" ? [["new", after], ["old", before]]
      : [["old", before], ["new", after]];
    const whose = images.find(([, r]) => r !== null &&
      hex(indexEntry(t, m.index, r as RowImage).key) === hex(m.key));
    assert.ok(whose !== undefined, "a mutation's key is the entry of the old or new row");
    if (m.kind === "delete") return `delete ${m.index.name}@${String(whose[0])}`;
    if (m.distinct) {
      assert.equal(handleOfIndexValue(m.value), (after as RowImage).handle);
      return `put ${m.index.name}@${String(whose[0])} distinct`;
    }
    assert.equal(m.value.length, 0);
    return `put ${m.index.name}@${String(whose[0])}`;
  });
}

const tk = "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(10), " +
  "UNIQUE KEY u (a, b), KEY k (b))";

interface Case {
  readonly name: string;
  readonly states?: Record<string, SchemaState>;
  readonly before: RowImage | null;
  readonly after: RowImage | null;
  readonly expect: readonly string[];
}

const cases: readonly Case[] = [
  { name: "insert writes every public index; unique without NULL is distinct",
    before: null, after: row(1, [int(1), int(5), str("x")]),
    expect: ["put u@new distinct", "put k@new"] },
  { name: "insert with a NULL in a unique key: not distinct (NULLs never collide)",
    before: null, after: row(1, [int(1), null, str("x")]),
    expect: ["put u@new", "put k@new"] },
  { name: "delete removes every entry",
    before: row(1, [int(1), int(5), str("x")]), after: null,
    expect: ["delete u@old", "delete k@old"] },
  { name: "update of no indexed column writes no index entry",
    before: row(1, [int(1), int(5), str("x")]), after: row(1, [int(1), int(5), str("x")]),
    expect: [] },
  { name: "update of an indexed column: old entry deleted, new put, deletes first",
    before: row(1, [int(1), int(5), str("x")]), after: row(1, [int(1), int(5), str("y")]),
    expect: ["delete u@old", "delete k@old", "put u@new distinct", "put k@new"] },
  { name: "update of a column in the unique key only",
    before: row(1, [int(1), int(5), str("x")]), after: row(1, [int(1), int(6), str("x")]),
    expect: ["delete u@old", "put u@new distinct"] },
  { name: "update moving the handle: distinct entry keeps its key, new value; others move",
    before: row(1, [int(1), int(5), str("x")]), after: row(2, [int(2), int(5), str("x")]),
    expect: ["delete k@old", "put u@new distinct", "put k@new"] },
  { name: "update moving the handle with a NULL in the unique key moves that entry too",
    before: row(1, [int(1), null, str("x")]), after: row(2, [int(2), null, str("x")]),
    expect: ["delete u@old", "delete k@old", "put u@new", "put k@new"] },
  { name: "update from NULL to a value in a unique key",
    before: row(1, [int(1), null, str("x")]), after: row(1, [int(1), int(3), str("x")]),
    expect: ["delete u@old", "put u@new distinct"] },
  { name: "delete-only index: insert adds nothing to it",
    states: { u: "deleteOnly", k: "deleteOnly" },
    before: null, after: row(1, [int(1), int(5), str("x")]), expect: [] },
  { name: "delete-only index: delete removes its entry",
    states: { k: "deleteOnly" },
    before: row(1, [int(1), int(5), str("x")]), after: null,
    expect: ["delete u@old", "delete k@old"] },
  { name: "delete-only index: update deletes the old entry even when unchanged",
    states: { k: "deleteOnly" },
    before: row(1, [int(1), int(5), str("x")]), after: row(1, [int(1), int(5), str("x")]),
    expect: ["delete k@old"] },
  { name: "write-only index is maintained fully",
    states: { u: "writeOnly", k: "writeOnly" },
    before: row(1, [int(1), int(5), str("x")]), after: row(1, [int(1), int(6), str("y")]),
    expect: ["delete u@old", "delete k@old", "put u@new distinct", "put k@new"] },
  { name: "write-reorg index is maintained fully",
    states: { u: "writeReorg", k: "writeReorg" },
    before: null, after: row(1, [int(1), int(5), str("x")]),
    expect: ["put u@new distinct", "put k@new"] },
  { name: "a _ci collation makes an update changing only case keep the entry",
    before: row(1, [int(1), int(5), str("x")]), after: row(1, [int(1), int(5), str("X")]),
    expect: [] },
];

describe("indexMutations", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(trace(table(tk, c.states), c.before, c.after), c.expect);
    });
  }

  it("a backfill of one index touches only that index", () => {
    const t = table(tk, { k: "writeReorg" });
    const k = t.indexes.find((i) => i.name === "k")!;
    const out = indexMutations(t, { before: null, after: row(1, [int(1), int(5), str("x")]),
      indexes: [k] });
    assert.deepEqual(out.map((m) => `${m.kind} ${m.index.name}`), ["put k"]);
  });

  it("a non-clustered primary key is a distinct unique index named PRIMARY", () => {
    const t = table("CREATE TABLE p (a VARCHAR(5) PRIMARY KEY, b INT)");
    assert.deepEqual(trace(t, null, row(7, [str("a"), int(1)])), ["put PRIMARY@new distinct"]);
  });
});

describe("uniqueChecks", () => {
  it("insert: clustered primary key first, then unique keys without NULLs", () => {
    const t = table(tk);
    const checks = uniqueChecks(t, { before: null, after: row(3, [int(3), int(5), str("x")]) });
    assert.deepEqual(checks.map((c) => [c.keyName, c.text]), [["t.PRIMARY", "3"], ["t.u", "5-x"]]);
    assert.equal(hex(checks[0]!.key), hex(rowKey(t, 3n)));
    assert.deepEqual(uniqueChecks(t, { before: null, after: row(3, [int(3), null, str("x")]) })
      .map((c) => c.keyName), ["t.PRIMARY"]);
  });

  it("update: only keys that change are checked", () => {
    const t = table(tk);
    const before = row(3, [int(3), int(5), str("x")]);
    assert.deepEqual(uniqueChecks(t, { before, after: row(3, [int(3), int(5), str("x")]) }), []);
    assert.deepEqual(uniqueChecks(t, { before, after: row(4, [int(4), int(5), str("x")]) })
      .map((c) => c.keyName), ["t.PRIMARY"]);
    assert.deepEqual(uniqueChecks(t, { before, after: row(3, [int(3), int(6), str("x")]) })
      .map((c) => c.keyName), ["t.u"]);
  });

  it("a delete-only unique index is not checked; a write-only one is", () => {
    assert.deepEqual(uniqueChecks(table(tk, { u: "deleteOnly" }),
      { before: null, after: row(3, [int(3), int(5), str("x")]) }).map((c) => c.keyName),
    ["t.PRIMARY"]);
    assert.deepEqual(uniqueChecks(table(tk, { u: "writeOnly" }),
      { before: null, after: row(3, [int(3), int(5), str("x")]) }).map((c) => c.keyName),
    ["t.PRIMARY", "t.u"]);
  });

  it("a non-clustered PRIMARY is checked before other unique keys", () => {
    const t = table("CREATE TABLE p (a VARCHAR(5), b INT, UNIQUE KEY ub (b), PRIMARY KEY (a))");
    assert.deepEqual(uniqueChecks(t, { before: null, after: row(9, [str("z"), int(1)]) })
      .map((c) => [c.keyName, c.text]), [["p.PRIMARY", "z"], ["p.ub", "1"]]);
  });
});

describe("encodeRowForWrite", () => {
  it("leaves out delete-only columns and keeps write-only ones", () => {
    const t = table("CREATE TABLE c (id INT PRIMARY KEY, a INT, b INT, d INT)");
    const states: Record<string, SchemaState> = { b: "deleteOnly", d: "writeOnly" };
    const stated: TableInfo = { ...t, columns: t.columns.map((c) =>
      (states[c.name] === undefined ? c : { ...c, state: states[c.name]! })) };
    const values = [int(1), int(2), int(3), int(4)];
    // Read back with every column public: the delete-only one is absent (its default).
    assert.deepEqual(decodeRowValue(t, encodeRowForWrite(stated, values)),
      [int(1), int(2), null, int(4)]);
    assert.deepEqual(decodeRowValue(t, encodeRowForWrite(t, values)), values);
  });
});
