/**
 * The DDL job state machine (`runStep`) on an in-memory catalog, as traces of the steps a
 * job takes (schema state, whether the version is bumped and compatible, the reorg the
 * owner runs) — index, column, constraint (CHECK, foreign key) and rename jobs — and the
 * owner election decision on a fake clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Transaction } from "../../client/mod.ts";
import { type DdlTxn, InfoSchema, type SchemaDatabase } from "../catalog/catalog.ts";
import { type TableInfo, tableInfoOf } from "../catalog/schema.ts";
import type { ColumnDefinition } from "../parser/ast.ts";
import { MySqlError } from "../mysql_errors.ts";
import { type DdlJob, type DdlJobArgs, isFinished, lossyChange, runStep } from "./job.ts";
import { ownerDecision } from "./worker.ts";

const timeout = { timeout: 10_000 };

function column(name: string, type: string, length: number | null = null): ColumnDefinition {
  return { name, type: { name: type, length, scale: null, unsigned: false, zerofill: false,
    binary: false, charset: null, collate: null, values: [] }, options: [] } as ColumnDefinition;
}

/** A catalog of one database `d` (id 1) whose tables live in a map the steps edit. */
class MemoryCatalog {
  readonly tables = new Map<number, TableInfo>();
  version = 1n;
  nextId = 10;

  schema(): InfoSchema {
    const tables = new Map([...this.tables.values()].map((t) => [t.name.toLowerCase(), t]));
    const db: SchemaDatabase = { info: { id: 1, name: "d" }, tables };
    return new InfoSchema(this.version, new Map([["d", db]]));
  }

  ddl(): DdlTxn {
    return {
      schema: this.schema(),
      txn: undefined as unknown as Transaction,
      allocId: () => Promise.resolve(this.nextId++),
      putDatabase: () => undefined,
      deleteDatabase: () => undefined,
      putTable: (info) => this.tables.set(info.id, info),
      deleteTable: (info) => this.tables.delete(info.id),
    };
  }
}

function newJob(args: DdlJobArgs, table = "t"): DdlJob {
  return { id: 1, args, query: "", dbName: "d", tableName: table, dbId: 0, tableId: 0,
    state: "queueing", schemaState: "none", rowCount: 0, reorgDone: false, error: null,
    notes: [], createMs: 0, startMs: null, finishMs: null };
}

/** Runs `job` to the end; `onReorg` plays the owner's backfill or validation. */
async function trace(catalog: MemoryCatalog, first: DdlJob,
  onReorg: (job: DdlJob) => DdlJob = (j) => ({ ...j, reorgDone: true })): Promise<string[]> {
  const out: string[] = [];
  let job = first;
  for (let steps = 0; !isFinished(job); steps++) {
    assert.ok(steps < 20, "the job never finishes");
    const result = await runStep(job, catalog.ddl());
    if (result.change !== null) catalog.version++;
    job = result.job;
    const bump = result.change === null ? "" : result.change.compatible ? " +v" : " +v!";
    const reorg = result.reorg === null ? "" : ` ${result.reorg.kind}`;
    const dropped = (result.dropped ?? []).map((d) => ` drop ${d.tableId}/${d.indexId ?? "*"}`)
      .join("");
    out.push(`${job.state}/${job.schemaState}${bump}${reorg}${dropped}`);
    if (result.reorg !== null) job = onReorg(job);
  }
  return out;
}

function catalogWithT(): MemoryCatalog {
  const catalog = new MemoryCatalog();
  const t = tableInfoOf("t", { columns: [column("id", "INT"), column("v", "INT"),
    column("s", "VARCHAR", 10)], constraints: [{ kind: "primaryKey", constraintName: null,
    name: null, parts: [{ column: "id", expr: null, length: null, desc: false }],
    options: [] }] }, { tableId: 5, dbId: 1 });
  catalog.tables.set(5, t);
  return catalog;
}

describe("runStep", () => {
  it("takes ADD INDEX through delete-only, write-only, write-reorg (backfill), public",
    timeout, async () => {
      const catalog = catalogWithT();
      const steps = await trace(catalog, newJob({ kind: "addIndex", name: "iv", unique: false,
        primary: false, columns: ["v"], ifNotExists: false }));
      assert.deepEqual(steps, [
        "running/deleteOnly +v",
        "running/writeOnly +v",
        "running/writeReorg +v",
        "running/writeReorg backfill",
        "done/public +v",
      ]);
      const index = catalog.tables.get(5)!.indexes.find((i) => i.name === "iv")!;
      assert.equal(index.state, undefined, "a public index has no state");
      assert.deepEqual(index.columns, [1]);
    });

  it("rolls a failed ADD UNIQUE back through delete-only and removes the index", timeout,
    async () => {
      const catalog = catalogWithT();
      const steps = await trace(catalog, newJob({ kind: "addIndex", name: "us", unique: true,
        primary: false, columns: ["s"], ifNotExists: false }), (j) => ({ ...j,
        state: "rollingBack", error: { name: "DUP_ENTRY", message: "dup" } }));
      assert.deepEqual(steps, [
        "running/deleteOnly +v",
        "running/writeOnly +v",
        "running/writeReorg +v",
        "running/writeReorg backfill",
        "rollingBack/deleteOnly +v",
        "rolledBack/none +v drop 5/1",
      ]);
      assert.equal(catalog.tables.get(5)!.indexes.length, 0);
    });

  it("takes DROP INDEX through write-only and delete-only, then deletes its entries",
    timeout, async () => {
      const catalog = catalogWithT();
      await trace(catalog, newJob({ kind: "addIndex", name: "iv", unique: false,
        primary: false, columns: ["v"], ifNotExists: false }));
      const steps = await trace(catalog, newJob({ kind: "dropIndex", name: "IV",
        ifExists: false }));
      assert.deepEqual(steps, [
        "running/writeOnly +v",
        "running/deleteOnly +v",
        "done/none +v drop 5/1",
      ]);
      // Index ids are never reused.
      await trace(catalog, newJob({ kind: "addIndex", name: "iv", unique: false,
        primary: false, columns: ["v"], ifNotExists: false }));
      assert.equal(catalog.tables.get(5)!.indexes[0]!.id, 2);
    });

  it("adds a column through the F1 states and drops it the other way, never reusing ids",
    timeout, async () => {
      const catalog = catalogWithT();
      const w = tableInfoOf("x", { columns: [column("w", "INT")], constraints: [] },
        { tableId: 0, dbId: 0 }).columns[0]!;
      assert.deepEqual(await trace(catalog, newJob({ kind: "addColumn", column: w,
        ifNotExists: false })), ["running/deleteOnly +v", "running/writeOnly +v",
        "running/writeReorg +v", "done/public +v"]);
      assert.deepEqual(catalog.tables.get(5)!.columns.map((c) => [c.name, c.id, c.offset]),
        [["id", 1, 0], ["v", 2, 1], ["s", 3, 2], ["w", 4, 3]]);
      assert.deepEqual(await trace(catalog, newJob({ kind: "dropColumn", name: "v",
        ifExists: false })), ["running/writeOnly +v", "running/deleteOnly +v",
        "done/none +v"]);
      const t = catalog.tables.get(5)!;
      assert.deepEqual(t.columns.map((c) => [c.name, c.id, c.offset]),
        [["id", 1, 0], ["s", 3, 1], ["w", 4, 2]]);
      assert.equal(t.pkHandle, 0);
      await trace(catalog, newJob({ kind: "addColumn", column: w, ifNotExists: true }));
      await trace(catalog, newJob({ kind: "addColumn", column: { ...w, name: "z" },
        ifNotExists: false }));
      assert.equal(catalog.tables.get(5)!.columns.at(-1)!.id, 5);
    });

  it("drops a column with the indexes of it alone, in the same states, then their entries",
    timeout, async () => {
      const catalog = catalogWithT();
      await trace(catalog, newJob({ kind: "addIndex", name: "iv", unique: true,
        primary: false, columns: ["v"], ifNotExists: false }));
      await trace(catalog, newJob({ kind: "addIndex", name: "is", unique: false,
        primary: false, columns: ["s"], ifNotExists: false }));
      const states: string[] = [];
      let job = newJob({ kind: "dropColumn", name: "v", ifExists: false });
      while (!isFinished(job)) {
        const result = await runStep(job, catalog.ddl());
        job = result.job;
        const t = catalog.tables.get(5)!;
        states.push([t.columns.find((c) => c.name === "v")?.state ?? "-",
          ...t.indexes.map((i) => `${i.name}:${i.state ?? "public"}`)].join(" "));
        if (isFinished(job)) assert.deepEqual(result.dropped, [{ tableId: 5, indexId: 1 }]);
      }
      assert.deepEqual(states, ["writeOnly iv:writeOnly is:public",
        "deleteOnly iv:deleteOnly is:public", "- is:public"]);
      assert.deepEqual(catalog.tables.get(5)!.indexes.map((i) => i.columns), [[1]]);
    });

  it("adds a column FIRST or AFTER another, renumbering offsets of columns and keys",
    timeout, async () => {
      const catalog = catalogWithT();
      await trace(catalog, newJob({ kind: "addIndex", name: "iv", unique: false,
        primary: false, columns: ["v"], ifNotExists: false }));
      const w = tableInfoOf("x", { columns: [column("w", "INT")], constraints: [] },
        { tableId: 0, dbId: 0 }).columns[0]!;
      await trace(catalog, newJob({ kind: "addColumn", column: w, ifNotExists: false,
        position: { first: true, after: null } }));
      await trace(catalog, newJob({ kind: "addColumn", column: { ...w, name: "x" },
        ifNotExists: false, position: { first: false, after: "v" } }));
      const t = catalog.tables.get(5)!;
      assert.deepEqual(t.columns.map((c) => [c.name, c.offset]),
        [["w", 0], ["id", 1], ["v", 2], ["x", 3], ["s", 4]]);
      assert.equal(t.pkHandle, 1);
      assert.deepEqual(t.indexes[0]!.columns, [2]);
      await assert.rejects(runStep(newJob({ kind: "addColumn", column: { ...w, name: "y" },
        ifNotExists: false, position: { first: false, after: "nope" } }), catalog.ddl()),
      (e: unknown) => e instanceof MySqlError && e.errno === 1054);
    });

  it("runs one-step DDL straight to its end, not compatible with the version before",
    timeout, async () => {
      const catalog = catalogWithT();
      // The old table's keys are left to delete-range.
      assert.deepEqual(await trace(catalog, newJob({ kind: "truncateTable" })),
        ["done/public +v! drop 5/*"]);
      assert.deepEqual([...catalog.tables.keys()], [10]);
      assert.deepEqual(await trace(catalog, newJob({ kind: "renameTable", pairs: [
        { from: { db: "d", name: "t" }, to: { db: "d", name: "u" } }] })), ["done/public +v!"]);
      assert.equal(catalog.tables.get(10)!.name, "u");
    });

  it("cancels with MySQL's errors before changing anything", timeout, async () => {
    const catalog = catalogWithT();
    const fails = async (args: DdlJobArgs, errno: number, table = "t"): Promise<void> => {
      await assert.rejects(runStep(newJob(args, table), catalog.ddl()),
        (e: unknown) => e instanceof MySqlError && e.errno === errno);
    };
    await fails({ kind: "addIndex", name: "i", unique: false, primary: false,
      columns: ["nope"], ifNotExists: false }, 1072);
    await fails({ kind: "dropIndex", name: "nope", ifExists: false }, 1091);
    await fails({ kind: "dropColumn", name: "id", ifExists: false }, 8200);
    await fails({ kind: "truncateTable" }, 1146, "missing");
    const noted = await runStep(newJob({ kind: "dropIndex", name: "nope", ifExists: true }),
      catalog.ddl());
    assert.equal(noted.job.state, "done");
    assert.equal(noted.change, null);
    assert.equal(noted.job.notes[0]!.name, "CANT_DROP_FIELD_OR_KEY");
  });
});

describe("runStep guards", () => {
  it("refuses renaming a column a CHECK names and a table a foreign key refers to", timeout,
    async () => {
      const catalog = catalogWithT();
      const t = catalog.tables.get(5)!;
      catalog.tables.set(5, { ...t, checks: [{ name: "c1", exprText: "`v` > 0",
        enforced: true }] });
      catalog.tables.set(6, { ...tableInfoOf("child", { columns: [column("pid", "INT")],
        constraints: [] }, { tableId: 6, dbId: 1 }), foreignKeys: [{ name: "fk", columns: [0],
        refDb: null, refTable: "t", refColumns: ["id"], onDelete: null, onUpdate: null }] });
      const v = t.columns[1]!;
      const refused = async (args: DdlJobArgs): Promise<void> => {
        await assert.rejects(runStep(newJob(args), catalog.ddl()),
          (e: unknown) => e instanceof MySqlError && e.errno === 1235);
      };
      await refused({ kind: "modifyColumn", oldName: "v", column: { ...v, name: "v2" } });
      await refused({ kind: "modifyColumn", oldName: "id",
        column: { ...t.columns[0]!, name: "id2" } });
      await refused({ kind: "renameTable", pairs: [{ from: { db: "d", name: "t" },
        to: { db: "d", name: "t2" } }] });
      // A column nothing names may be renamed.
      const done = await runStep(newJob({ kind: "modifyColumn", oldName: "s",
        column: { ...t.columns[2]!, name: "s2" } }), catalog.ddl());
      assert.equal(done.job.state, "done");
    });
});

describe("lossyChange", () => {
  it("allows widening and renaming, refuses narrowing", timeout, () => {
    const info = (type: string, length: number | null = null) => tableInfoOf("x",
      { columns: [column("c", type, length)], constraints: [] }, { tableId: 0, dbId: 0 })
      .columns[0]!;
    assert.equal(lossyChange(info("INT"), info("BIGINT")), null);
    assert.equal(lossyChange(info("VARCHAR", 10), info("VARCHAR", 20)), null);
    assert.equal(lossyChange(info("VARCHAR", 10), info("TEXT")), null);
    assert.match(lossyChange(info("BIGINT"), info("INT")) ?? "", /narrowing/);
    assert.match(lossyChange(info("VARCHAR", 20), info("VARCHAR", 5)) ?? "", /shortening/);
    assert.match(lossyChange(info("INT"), info("VARCHAR", 5)) ?? "", /from INT/);
  });
});

describe("ownerDecision", () => {
  const table: [string, Parameters<typeof ownerDecision>[0], number, string][] = [
    ["no owner yet", null, 1_000, "take"],
    ["own lease still valid", { nodeId: "a", expiresMs: 2_000 }, 1_500, "renew"],
    ["another node's valid lease", { nodeId: "b", expiresMs: 2_000 }, 1_999, "follow"],
    ["another node's lease expired (it stopped)", { nodeId: "b", expiresMs: 2_000 }, 2_000,
      "take"],
    ["own lease expired", { nodeId: "a", expiresMs: 2_000 }, 2_500, "take"],
  ];
  for (const [name, record, nowMs, expected] of table) {
    it(`${name} → ${expected}`, timeout, () => {
      assert.equal(ownerDecision(record, "a", nowMs), expected);
    });
  }

  it("hands the lease over when the owner stops renewing, on a fake clock", timeout, () => {
    let record: Parameters<typeof ownerDecision>[0] = null;
    const leaseMs = 1_000;
    const events: string[] = [];
    const tick = (node: string, nowMs: number, alive: boolean): void => {
      if (!alive) return;
      const decision = ownerDecision(record, node, nowMs);
      if (decision !== "follow") record = { nodeId: node, expiresMs: nowMs + leaseMs };
      events.push(`${nowMs} ${node} ${decision}`);
    };
    for (let nowMs = 0; nowMs <= 2_000; nowMs += 400) {
      tick("a", nowMs, nowMs < 800);
      tick("b", nowMs + 1, true);
    }
    assert.deepEqual(events, [
      "0 a take", "1 b follow", "400 a renew", "401 b follow", "801 b follow",
      "1201 b follow", "1601 b take", "2001 b renew",
    ]);
  });
});

describe("constraint and rename jobs", () => {
  const fk = { name: "fk", columns: ["v"], refDb: null, refTable: "t", refColumns: ["id"],
    onDelete: null, onUpdate: null } as const;

  it("ADD CHECK goes write-only, validates, then public; NOT ENFORCED is one step",
    timeout, async () => {
      const catalog = catalogWithT();
      assert.deepEqual(await trace(catalog, newJob({ kind: "addCheck", name: null,
        exprText: "`v` > 0", columns: ["v"], enforced: true })),
      ["running/writeOnly +v", "running/writeOnly validate", "done/public +v"]);
      assert.deepEqual(catalog.tables.get(5)!.checks, [{ name: "t_chk_1", exprText: "`v` > 0",
        enforced: true }]);
      assert.deepEqual(await trace(catalog, newJob({ kind: "addCheck", name: null,
        exprText: "`v` > 1", columns: ["v"], enforced: false })), ["done/public +v"]);
      assert.equal(catalog.tables.get(5)!.checks![1]!.name, "t_chk_2");
      await assert.rejects(runStep(newJob({ kind: "addCheck", name: "T_CHK_1", exprText: "1",
        columns: [], enforced: true }), catalog.ddl()), (e: unknown) =>
        e instanceof MySqlError && e.errno === 3822);
      await assert.rejects(runStep(newJob({ kind: "addCheck", name: null, exprText: "`q` > 1",
        columns: ["q"], enforced: true }), catalog.ddl()), (e: unknown) =>
        e instanceof MySqlError && e.errno === 3820);
      assert.deepEqual(await trace(catalog, newJob({ kind: "dropCheck", name: "t_chk_1" })),
        ["done/none +v"]);
      await assert.rejects(runStep(newJob({ kind: "dropCheck", name: "t_chk_1" }),
        catalog.ddl()), (e: unknown) => e instanceof MySqlError && e.errno === 3821);
    });

  it("ADD FOREIGN KEY that fails validation rolls back; without validation it is one step",
    timeout, async () => {
      const catalog = catalogWithT();
      await trace(catalog, newJob({ kind: "addIndex", name: "iv", unique: false,
        primary: false, columns: ["v"], ifNotExists: false }));
      assert.deepEqual(await trace(catalog, newJob({ kind: "addForeignKey", fk,
        validate: true }), (j) => ({ ...j, state: "rollingBack",
        error: { name: "NO_REFERENCED_ROW_2", message: "no" } })),
      ["running/writeOnly +v", "running/writeOnly validate", "rolledBack/none +v"]);
      assert.equal(catalog.tables.get(5)!.foreignKeys, undefined);
      assert.deepEqual(await trace(catalog, newJob({ kind: "addForeignKey", fk,
        validate: false })), ["done/public +v"]);
      await assert.rejects(runStep(newJob({ kind: "addForeignKey", fk, validate: false }),
        catalog.ddl()), (e: unknown) => e instanceof MySqlError && e.errno === 1826);
      // The index the foreign key needs cannot go (1553); without one it cannot be added.
      await assert.rejects(runStep(newJob({ kind: "dropIndex", name: "iv", ifExists: false }),
        catalog.ddl()), (e: unknown) => e instanceof MySqlError && e.errno === 1553);
      await assert.rejects(runStep(newJob({ kind: "addForeignKey", fk: { ...fk, name: null,
        columns: ["s"] }, validate: false }), catalog.ddl()), (e: unknown) =>
        e instanceof MySqlError && e.errno === 1821);
      assert.deepEqual(await trace(catalog, newJob({ kind: "dropForeignKey", name: "FK" })),
        ["done/none +v"]);
    });

  it("RENAME INDEX is one compatible step; 1176 and 1061 as MySQL", timeout, async () => {
    const catalog = catalogWithT();
    await trace(catalog, newJob({ kind: "addIndex", name: "iv", unique: false,
      primary: false, columns: ["v"], ifNotExists: false }));
    await trace(catalog, newJob({ kind: "addIndex", name: "is", unique: false,
      primary: false, columns: ["s"], ifNotExists: false }));
    assert.deepEqual(await trace(catalog, newJob({ kind: "renameIndex", oldName: "iv",
      newName: "iv2" })), ["done/public +v"]);
    assert.deepEqual(catalog.tables.get(5)!.indexes.map((i) => [i.id, i.name]),
      [[1, "iv2"], [2, "is"]]);
    await assert.rejects(runStep(newJob({ kind: "renameIndex", oldName: "iv", newName: "x" }),
      catalog.ddl()), (e: unknown) => e instanceof MySqlError && e.errno === 1176);
    await assert.rejects(runStep(newJob({ kind: "renameIndex", oldName: "iv2",
      newName: "IS" }), catalog.ddl()), (e: unknown) => e instanceof MySqlError &&
      e.errno === 1061);
  });
});
