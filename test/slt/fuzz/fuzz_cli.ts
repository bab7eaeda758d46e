/**
 * Command line of the SQL fuzzer.
 *
 *   node test/slt/fuzz/fuzz_cli.ts [--mariadb | --host H --port P --user U --password W]
 *        [--reference-mariadb | --reference-port P [--reference-host H]]
 *        [--seed FIRST] [--seeds COUNT] [--queries N] [--oracles a,b,…]
 *        [--time-budget-ms MS] [--findings N] [--minimize-checks N] [--out DIR]
 *
 * Single-server oracles (TLP, NoREC) run on the main server: a temporary MariaDB with
 * `--mariadb`, otherwise the given address (Tessera's SQL node at 127.0.0.1:4000 by
 * default). With a reference (`--reference-mariadb` starts one) the differential oracles
 * also compare the main server with it. Mismatches are minimized and saved as `.slt`
 * files under `--out` (default: a new temporary directory). Exit status 1 when anything
 * mismatched, 2 on bad usage.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type MariadbHandle, startMariadb } from "../mariadb.ts";
import { mysqlServer, type SqlServer } from "../session.ts";
import { fuzz } from "./fuzzer.ts";
import { oracleNames, type OracleName } from "./oracles.ts";

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      mariadb: { type: "boolean", default: false },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "4000" },
      user: { type: "string", default: "root" },
      password: { type: "string", default: "" },
      "reference-mariadb": { type: "boolean", default: false },
      "reference-host": { type: "string", default: "127.0.0.1" },
      "reference-port": { type: "string" },
      seed: { type: "string", default: "1" },
      seeds: { type: "string", default: "200" },
      queries: { type: "string", default: "20" },
      oracles: { type: "string", default: oracleNames.join(",") },
      "time-budget-ms": { type: "string", default: "600000" },
      findings: { type: "string", default: "10" },
      "minimize-checks": { type: "string", default: "300" },
      out: { type: "string" },
    },
  });
  const oracles = (v.oracles ?? "").split(",").filter((o) => o !== "");
  const unknown = oracles.filter((o) => !(oracleNames as readonly string[]).includes(o));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown oracles: ${unknown.join(", ")} (known: ${oracleNames.join(", ")})\n`,
    );
    return 2;
  }
  const first = Number(v.seed);
  const seeds = Array.from({ length: Number(v.seeds) }, (_, i) => first + i);
  const handles: MariadbHandle[] = [];
  try {
    let main: SqlServer;
    if (v.mariadb === true) {
      const h = await startMariadb();
      handles.push(h);
      main = mysqlServer(h.address);
    } else {
      main = mysqlServer({
        host: v.host ?? "",
        port: Number(v.port),
        user: v.user ?? "",
        password: v.password ?? "",
      });
    }
    let reference: SqlServer | null = null;
    if (v["reference-mariadb"] === true) {
      const h = await startMariadb();
      handles.push(h);
      reference = mysqlServer(h.address);
    } else if (v["reference-port"] !== undefined) {
      reference = mysqlServer({
        host: v["reference-host"] ?? "",
        port: Number(v["reference-port"]),
        user: "root",
        password: "",
      });
    }
    const outDir = v.out ?? (await mkdtemp(join(tmpdir(), "tessera-fuzz-")));
    process.stdout.write(
      `fuzz: main ${main.description}, reference ${reference?.description ?? "none"}, ` +
        `out ${outDir}\n`,
    );
    const report = await fuzz(
      { main, reference },
      {
        seeds,
        queriesPerSeed: Number(v.queries),
        oracles: oracles as OracleName[],
        findingsMax: Number(v.findings),
        minimizeChecksMax: Number(v["minimize-checks"]),
        outDir,
        timeBudgetMs: Number(v["time-budget-ms"]),
        log: (line) => process.stdout.write(`${line}\n`),
      },
    );
    process.stdout.write(`\nseeds run: ${report.seeds}\n`);
    for (const [oracle, c] of Object.entries(report.counts)) {
      process.stdout.write(
        `  ${oracle}: ok ${c.ok}, invalid ${c.invalid}, mismatch ${c.mismatch}\n`,
      );
    }
    for (const f of report.findings) {
      process.stdout.write(
        `\nfinding: ${f.oracle} seed ${f.seed} query ${f.queryIndex}: ${f.reason}\n`,
      );
      process.stdout.write(`  file ${f.file ?? "-"} (reproduces: ${String(f.reproduces)})\n`);
      for (const sql of f.sql) process.stdout.write(`  ${sql}\n`);
    }
    if (report.invalidSamples.length > 0) {
      process.stdout.write(
        `\nsample invalid cases:\n  ${report.invalidSamples.slice(0, 8).join("\n  ")}\n`,
      );
    }
    const mismatches = Object.values(report.counts).reduce((n, c) => n + c.mismatch, 0);
    return mismatches > 0 ? 1 : 0;
  } finally {
    for (const h of handles) await h.stop();
  }
}

process.exitCode = await main();
