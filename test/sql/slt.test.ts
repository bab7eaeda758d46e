/**
 * sqllogictest against the storage-backed SQL node: `test/slt/tessera/*.slt` and the first
 * 300 records of the shared corpus's `select1.test`, through the runner library. Counts are
 * printed; the test asserts only that every file ran (no runner error) and that the tessera
 * scripts pass at least one record. The per-file ratchet is test/slt/tessera_slice.test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { defaultRunOptions, listScripts, runFiles, totalsOf } from "../slt/runner.ts";
import { sliceCorpusDir } from "../slt/corpus_slice.ts";
import { mysqlServer } from "../slt/session.ts";
import { countsLine } from "../slt/report.ts";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let port = 0;

before(async () => {
  cluster = await startSqlCluster();
  port = (await cluster.startNode()).server.port;
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

const options = { ...defaultRunOptions, recordTimeoutMs: 5_000, fileBudgetMs: 20_000, jobs: 2 };

test("sqllogictest scripts run against the SQL node on storage", { timeout: 60_000 },
  async () => {
    const server = mysqlServer({ host: "127.0.0.1", port, user: "root", password: "" });
    const tessera = listScripts([join(import.meta.dirname, "..", "slt", "tessera")])
      .map((path) => ({ file: path.slice(path.indexOf("tessera/")), path }));
    const own = await runFiles(server, tessera, options);
    const select1 = await runFiles(server, [{ file: "select1.test",
      path: join(sliceCorpusDir, "select1.test") }], { ...options, maxRecords: 300 });
    for (const r of [...own, ...select1]) assert.equal(r.error, null, `${r.file}: ${r.error}`);
    console.log(countsLine("tessera/*.slt", totalsOf(own)));
    for (const r of own) console.log(countsLine(`  ${r.file}`, r));
    console.log(countsLine("select1.test (first 300)", totalsOf(select1)));
    assert.ok(totalsOf(own).passed > 0);
  });
