/**
 * The CI compatibility ratchet: starts an in-process Tessera cluster (PD, two KV stores,
 * one SQL node; `test/sql/sql_cluster.ts`), runs the whole vendored slice of the corpus
 * (`corpus_slice.ts`) and Tessera's own `tessera/*.slt`, and fails when any file's passed
 * count is below its entry in `baseline/tessera_slice.json` (`checkRatchet`). When counts
 * rise the test passes and prints the raise; `SLT_UPDATE_BASELINE=1` rewrites the
 * baseline with the raised counts (`raiseBaseline`; a drop is never written — lowering
 * a count is a deliberate hand edit with its reason in the commit).
 *
 * The run is deterministic: files in a fixed order, one at a time, each on its own
 * database; the time limits are far above what a file takes (the whole slice runs in a
 * few seconds) so no count depends on the machine's speed, and a file cut by a limit
 * fails the test instead of reading as a drop. The whole corpus is `npm run slt:all`.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { after, before, test } from "node:test";
import { type TesseraServer, startTesseraServer } from "../sql/sql_cluster.ts";
import { corpusSlice, sliceCorpusDir } from "./corpus_slice.ts";
import { checkRatchet, formatBaseline, parseBaseline, raiseBaseline } from "./ratchet.ts";
import { countsLine } from "./report.ts";
import { defaultRunOptions, listScripts, runFiles, totalsOf, type FileResult } from "./runner.ts";
import { mysqlServer } from "./session.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const baselinePath = join(import.meta.dirname, "baseline", "tessera_slice.json");
const updateCommand =
  "SLT_UPDATE_BASELINE=1 node --test test/slt/tessera_slice.test.ts";

/** The slice's files in their fixed order: the corpus slice, then Tessera's own, sorted. */
function sliceFiles(): { readonly file: string; readonly path: string }[] {
  const corpus = corpusSlice.map(([file]) => join(sliceCorpusDir, file));
  const own = listScripts([join(import.meta.dirname, "tessera")]).sort();
  return [...corpus, ...own].map((path) => ({ file: relative(repoRoot, path), path }));
}

let tessera: TesseraServer | null = null;

before(
  async () => {
    tessera = await startTesseraServer();
  },
  { timeout: 30_000 },
);

after(
  async () => {
    if (tessera !== null) await tessera.stop();
  },
  { timeout: 30_000 },
);

test(
  "no file of the CI slice passes fewer records on Tessera than its committed baseline",
  { timeout: 90_000 },
  async () => {
    assert.ok(tessera !== null);
    const server = mysqlServer({ host: tessera.host, port: tessera.port, user: "root",
      password: "" });
    const results: FileResult[] = [];
    // One file at a time: the client and the cluster share this process's one thread, so
    // two would not be faster, and a fixed order keeps the run reproducible.
    for (const entry of sliceFiles()) {
      const [r] = await runFiles(server, [entry], {
        ...defaultRunOptions,
        jobs: 1,
        recordTimeoutMs: 10_000,
        fileBudgetMs: 60_000,
      });
      results.push(r as FileResult);
    }
    for (const r of results) {
      assert.equal(r.error, null, `${r.file}: ${r.error}`);
      assert.equal(r.budgetExceeded, false, `${r.file}: cut by the time budget`);
    }
    const totals = totalsOf(results);
    process.stdout.write(`# ${countsLine(`Tessera slice, ${totals.files} files`, totals)}\n`);

    const baseline = parseBaseline(readFileSync(baselinePath, "utf8"));
    const verdict = checkRatchet(baseline, results, { requireAll: true });
    for (const m of verdict.messages) process.stdout.write(`# ratchet: ${m}\n`);
    if (process.env["SLT_UPDATE_BASELINE"] === "1") {
      writeFileSync(baselinePath, formatBaseline(raiseBaseline(baseline, results)));
      process.stdout.write(`# ratchet: wrote ${relative(repoRoot, baselinePath)}\n`);
    } else if (verdict.raises.length > 0 || verdict.totalChanged.length > 0) {
      const gained = verdict.raises.reduce((sum, c) => sum + c.now - c.baseline, 0);
      process.stdout.write(
        `# ratchet: ${verdict.raises.length} files pass ${gained} more records; ` +
          `raise the baseline with: ${updateCommand}\n`,
      );
    }
    const drops = verdict.drops.map((d) => {
      const r = results.find((x) => x.file === d.file);
      const shown = (r?.failures ?? []).slice(0, 3).map((f) => `  ${f.line}: ${f.reason}`);
      return [`${d.file}: ${d.now} passed, baseline ${d.baseline}`, ...shown].join("\n");
    });
    assert.ok(verdict.ok, `pass counts dropped (or files missing):\n` +
      `${[...drops, ...verdict.messages.filter((m) => m.startsWith("MISSING"))].join("\n")}`);
  },
);
