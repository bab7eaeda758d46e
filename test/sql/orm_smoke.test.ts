/**
 * ORM smoke suites against an in-process cluster: knex on mysql2 (create table, insert,
 * select with where, update, transaction commit and rollback, hasTable, drop) and Python
 * SQLAlchemy 1.4 with pymysql (test/sql/sqlalchemy_smoke.py: an ORM model, session
 * add/commit/query/update/rollback, reflection). Whatever these clients send on connect
 * and for reflection must work. SQLAlchemy needs the Debian packages python3-sqlalchemy
 * and python3-pymysql (.ci/run installs them): outside CI a missing one skips the suite
 * with a printed reason, under CI=true it fails.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import knexFactory from "knex";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

const python = "/usr/bin/python3";
const script = new URL("./sqlalchemy_smoke.py", import.meta.url).pathname;

let cluster: SqlCluster;
let node: SqlNodeHandle;
const children = new Set<number>();

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
});

after(async () => {
  for (const pid of children) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already exited
    }
  }
  await cluster.close();
});

test("knex on mysql2: create, insert, select, update, transactions, drop", { timeout: 60_000 },
  async () => {
    const conn = await node.connect();
    await conn.query("CREATE DATABASE knexdb");
    const db = knexFactory({ client: "mysql2", connection: { host: "127.0.0.1",
      port: node.server.port, user: "root", database: "knexdb" }, pool: { min: 0, max: 2 } });
    try {
      assert.equal(await db.schema.hasTable("people"), false);
      await db.schema.createTable("people", (t) => {
        t.increments("id");
        t.string("name", 40).notNullable();
        t.integer("age");
        t.decimal("score", 8, 2);
      });
      assert.equal(await db.schema.hasTable("people"), true);
      assert.equal(await db.schema.hasColumn("people", "age"), true);
      const [firstId] = await db("people").insert({ name: "ann", age: 31, score: "1.50" });
      await db("people").insert([{ name: "bob", age: 25, score: "2.25" },
        { name: "cy", age: 40, score: null }]);
      assert.ok(typeof firstId === "number" && firstId > 0);
      const older = await db("people").where("age", ">", 30).orderBy("name").select("name");
      assert.deepEqual(older.map((r: { name: string }) => r.name), ["ann", "cy"]);
      const updated = await db("people").where({ name: "bob" }).update({ age: 26 });
      assert.equal(updated, 1);
      const bob = await db("people").where({ name: "bob" }).first("age", "score");
      assert.deepEqual({ ...bob }, { age: 26, score: "2.25" });

      await db.transaction(async (trx) => {
        await trx("people").insert({ name: "dee", age: 50 });
        await trx("people").where({ name: "ann" }).update({ age: 32 });
      });
      await assert.rejects(db.transaction(async (trx) => {
        await trx("people").insert({ name: "eve", age: 60 });
        throw new Error("roll back");
      }), /roll back/);
      const rows = await db("people").orderBy("id").select("name", "age");
      assert.deepEqual(rows.map((r: { name: string; age: number }) => [r.name, r.age]),
        [["ann", 32], ["bob", 26], ["cy", 40], ["dee", 50]]);
      const count = await db("people").count({ n: "*" });
      assert.equal(Number((count[0] as { n: number }).n), 4);

      await db("people").where("age", "<", 30).del();
      assert.equal((await db("people").select("id")).length, 3);
      await db.schema.dropTable("people");
      assert.equal(await db.schema.hasTable("people"), false);
    } finally {
      await db.destroy();
    }
  });

function pythonMissing(): string | undefined {
  const check = spawnSync(python, ["-c", "import sqlalchemy, pymysql"], { encoding: "utf8" });
  if (check.error !== undefined) return `${python} not found`;
  if (check.status !== 0) return "python3-sqlalchemy / python3-pymysql are not installed";
  return undefined;
}

test("SQLAlchemy 1.4 with pymysql: ORM model, session, reflection", { timeout: 90_000 },
  async (t) => {
    const missing = pythonMissing();
    if (missing !== undefined) {
      assert.notEqual(process.env.CI, "true", `SQLAlchemy suite needs: ${missing}`);
      console.log(`skipping the SQLAlchemy suite: ${missing}`);
      t.skip(missing);
      return;
    }
    const child = spawn(python, [script, String(node.server.port), "sadb"],
      { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    if (child.pid !== undefined) children.add(child.pid);
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      child.on("exit", (status) => resolve(status));
    });
    if (child.pid !== undefined) children.delete(child.pid);
    assert.equal(code, 0, output);
    assert.match(output, /^OK$/m);
  });
