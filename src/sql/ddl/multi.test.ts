/**
 * `simulateJobs`: a sequence of ALTER TABLE jobs tried on a scratch copy of the schema —
 * later jobs see what earlier ones did, the first refusal is thrown, and the real schema
 * is never touched.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InfoSchema } from "../catalog/catalog.ts";
import { type ColumnInfo, tableInfoOf } from "../catalog/schema.ts";
import type { ColumnDefinition } from "../parser/ast.ts";
import { MySqlError } from "../mysql_errors.ts";
import type { PlannedJob } from "./multi.ts";
import { simulateJobs } from "./multi.ts";

const timeout = { timeout: 10_000 };

function column(name: string): ColumnDefinition {
  return { name, type: { name: "INT", length: null, scale: null, unsigned: false,
    zerofill: false, binary: false, charset: null, collate: null, values: [] },
  options: [] } as ColumnDefinition;
}

function schemaWithT(): InfoSchema {
  const t = tableInfoOf("t", { columns: [column("id"), column("v"), column("d")],
    constraints: [] }, { tableId: 5, dbId: 1 });
  return new InfoSchema(3n, new Map([["d", { info: { id: 1, name: "d" },
    tables: new Map([["t", t]]) }]]));
}

const target = { db: "d", table: "t" };
const newColumn = (name: string): ColumnInfo => tableInfoOf("x", { columns: [column(name)],
  constraints: [] }, { tableId: 0, dbId: 0 }).columns[0]!;

function plan(...args: PlannedJob["args"][]): PlannedJob[] {
  return args.map((a) => ({ args: a, target }));
}

async function refusal(schema: InfoSchema, jobs: PlannedJob[]): Promise<number | null> {
  try {
    await simulateJobs(schema, jobs);
    return null;
  } catch (error: unknown) {
    assert.ok(error instanceof MySqlError, String(error));
    return error.errno;
  }
}

describe("simulateJobs", () => {
  it("runs later jobs on what earlier ones did", timeout, async () => {
    const schema = schemaWithT();
    assert.equal(await refusal(schema, plan(
      { kind: "addColumn", column: newColumn("c"), ifNotExists: false },
      { kind: "addIndex", name: "ic", unique: false, primary: false, columns: ["c"],
        ifNotExists: false },
      { kind: "dropColumn", name: "d", ifExists: false },
      { kind: "addColumn", column: newColumn("d"), ifNotExists: false },
      { kind: "renameIndex", oldName: "ic", newName: "ic2" },
      { kind: "dropIndex", name: "ic2", ifExists: false },
    )), null);
    // The real schema is as it was.
    assert.deepEqual(schema.table("d", "t")!.columns.map((c) => c.name), ["id", "v", "d"]);
    assert.equal(schema.table("d", "t")!.indexes.length, 0);
  });

  it("throws the first refusal, seeing earlier jobs", timeout, async () => {
    const schema = schemaWithT();
    assert.equal(await refusal(schema, plan(
      { kind: "addColumn", column: newColumn("c"), ifNotExists: false },
      { kind: "addColumn", column: newColumn("c"), ifNotExists: false })), 1060);
    assert.equal(await refusal(schema, plan(
      { kind: "dropColumn", name: "v", ifExists: false },
      { kind: "addIndex", name: "iv", unique: false, primary: false, columns: ["v"],
        ifNotExists: false })), 1072);
    assert.equal(await refusal(schema, plan(
      { kind: "dropColumn", name: "v", ifExists: false },
      { kind: "dropColumn", name: "d", ifExists: false },
      { kind: "dropColumn", name: "id", ifExists: false })), 1090);
    assert.equal(await refusal(schema, plan(
      { kind: "renameTable", pairs: [{ from: { db: "d", name: "t" },
        to: { db: "d", name: "u" } }] },
      { kind: "dropColumn", name: "v", ifExists: false })), 1146);
  });
});
