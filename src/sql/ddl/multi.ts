/**
 * Several changes in one ALTER TABLE (`ALTER TABLE t ADD COLUMN c INT, ADD INDEX i (c),
 * DROP COLUMN d`).
 *
 * TiDB runs such a statement as one multi-schema-change job whose sub-jobs move through
 * their states together and roll back together. Tessera runs it as a sequence of ordinary
 * jobs, one per change, in the statement's order, each finished before the next is
 * queued — with all-or-nothing validation up front: before anything is queued, the whole
 * sequence is run on a scratch copy of the latest schema (`simulateJobs`: every step of
 * every job by `runStep`, backfills and row checks taken as passing), so whatever the
 * catalog refuses — an unknown or duplicate column or index, a column an index or a
 * constraint needs, dropping every column — fails the statement with MySQL's error and
 * changes nothing. What only the data can refuse (a duplicate for ADD UNIQUE, a row a
 * new CHECK or foreign key rejects) fails its own job, which rolls itself back; the
 * changes before it in the statement stay made (where TiDB would undo them too), and
 * the error says which change failed. A concurrent DDL between the simulation and a job
 * is caught by the job's own checks.
 *
 * Pure apart from the `runStep` edits on the scratch catalog: no I/O.
 */
import type { Transaction } from "../../client/mod.ts";
import { type DdlTxn, InfoSchema, type SchemaDatabase } from "../catalog/catalog.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { type DdlJob, type DdlJobArgs, isFinished, runStep } from "./job.ts";

/** One job of a planned sequence: what it changes and the table it names. */
export interface PlannedJob {
  readonly args: DdlJobArgs;
  readonly target: { readonly db: string; readonly table: string };
}

/** Steps one simulated job may take at most (a real one takes at most five). */
const stepsMax = 32;

/** An in-memory catalog `runStep` edits: databases by lower-case name, ids from `nextId`. */
class ScratchCatalog {
  private readonly databases = new Map<string, { info: SchemaDatabase["info"];
    tables: Map<number, TableInfo>; views: SchemaDatabase["views"] }>();
  private version: bigint;
  private nextId = Number.MAX_SAFE_INTEGER / 2;

  constructor(schema: InfoSchema) {
    this.version = schema.version;
    for (const name of schema.databaseNames()) {
      const db = schema.database(name)!;
      this.databases.set(name.toLowerCase(), { info: db.info, views: db.views,
        tables: new Map([...db.tables.values()].map((t) => [t.id, t])) });
    }
  }

  schema(): InfoSchema {
    const out = new Map<string, SchemaDatabase>();
    for (const [name, db] of this.databases) {
      out.set(name, { info: db.info, ...(db.views === undefined ? {} : { views: db.views }),
        tables: new Map([...db.tables.values()].map((t) => [t.name.toLowerCase(), t])) });
    }
    return new InfoSchema(this.version, out);
  }

  private byId(dbId: number) {
    return [...this.databases.values()].find((d) => d.info.id === dbId);
  }

  ddl(): DdlTxn {
    return {
      schema: this.schema(),
      // Table jobs never touch the transaction itself.
      txn: undefined as unknown as Transaction,
      allocId: () => Promise.resolve(this.nextId++),
      putDatabase: (info) => {
        this.databases.set(info.name.toLowerCase(), { info, tables: new Map(),
          views: undefined });
      },
      deleteDatabase: (info) => {
        this.databases.delete(info.name.toLowerCase());
      },
      putTable: (info) => {
        for (const db of this.databases.values()) db.tables.delete(info.id);
        this.byId(info.dbId)?.tables.set(info.id, info);
      },
      deleteTable: (info) => {
        this.byId(info.dbId)?.tables.delete(info.id);
      },
    };
  }

  bump(): void {
    this.version++;
  }
}

/**
 * Runs `jobs` in order on a scratch copy of `schema`; throws the MySqlError the first
 * job that would be cancelled throws (nothing real changes either way).
 */
export async function simulateJobs(schema: InfoSchema, jobs: readonly PlannedJob[]):
  Promise<void> {
  const scratch = new ScratchCatalog(schema);
  for (const [k, planned] of jobs.entries()) {
    let job: DdlJob = { id: k + 1, args: planned.args, query: "", dbName: planned.target.db,
      tableName: planned.target.table, dbId: 0, tableId: 0, state: "queueing",
      schemaState: "none", rowCount: 0, reorgDone: false, error: null, notes: [],
      createMs: 0, startMs: null, finishMs: null };
    for (let steps = 0; !isFinished(job); steps++) {
      if (steps >= stepsMax) throw new Error(`simulated job ${job.args.kind} never finishes`);
      const result = await runStep(job, scratch.ddl());
      if (result.change !== null) scratch.bump();
      job = result.reorg === null ? result.job : { ...result.job, reorgDone: true };
    }
  }
}
