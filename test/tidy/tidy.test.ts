/**
 * Runs the tidy checker on the repository (it must be clean) and on seeded violations in a
 * temporary tree (each must be caught), so the checker itself is known to work.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allowedDependencies, checkTidy, type Violation } from "./tidy.ts";

const opts = { timeout: 120_000 };
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let fixtureRoot = "";

const header = "/** A fixture file. */\n";

/** A clean minimal tree: base, codec and cmd with proper imports. */
const cleanFiles: Record<string, string> = {
  "src/base/mod.ts": `${header}export const one = 1;\n`,
  "src/codec/mod.ts":
    `${header}import { one } from "../base/mod.ts";\nexport const two = one + 1;\n`,
  "src/env/mod.ts": `${header}export const env = 1;\n`,
  "src/env/node/clock.ts": `${header}export const now = (): number => Date.now();\n`,
  "src/cmd/mod.ts":
    `${header}import { two } from "../codec/mod.ts";\n` +
    `import { readFileSync } from "node:fs";\nexport const x = [two, readFileSync];\n` +
    `setTimeout(() => undefined, 1);\n`,
  "src/codec/codec.test.ts":
    `${header}import { setTimeout as wait } from "node:timers/promises";\n` +
    `export async function t(): Promise<void> { await wait(1); Date.now(); }\n`,
  "src/codec/test_support.ts":
    `${header}import { spawnSync } from "node:child_process";\n` +
    `export const helper = [spawnSync, performance.now()];\n`,
  "src/codec/comment.ts":
    `${header}// Date.now() and Math.random() in a comment are not code.\n` +
    `export const s = "setTimeout(Date.now())";\n`,
};

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}

/** Checks a tree made of the clean files plus `extra`, in a fresh directory. */
function check(extra: Record<string, string>): Violation[] {
  const root = mkdtempSync(join(fixtureRoot, "case-"));
  writeTree(root, { ...cleanFiles, ...extra });
  return checkTidy(root);
}

function rulesOf(violations: readonly Violation[]): string[] {
  return violations.map((v) => `${v.rule} ${v.file}:${v.line}`);
}

before(() => {
  fixtureRoot = mkdtempSync(join(tmpdir(), "tessera-tidy-"));
});

after(() => {
  if (fixtureRoot !== "") rmSync(fixtureRoot, { recursive: true, force: true });
});

test("the repository is tidy", opts, () => {
  const violations = checkTidy(repoRoot);
  assert.deepEqual(
    violations.map((v) => `${v.file}:${v.line} ${v.rule}: ${v.message}`),
    [],
  );
});

test("tidy accepts a clean tree, comments and strings that mention clocks", opts, () => {
  assert.deepEqual(rulesOf(check({})), []);
});

test("tidy catches an import against the dependency direction", opts, () => {
  const v = check({ "src/base/bad.ts": `${header}import { two } from "../codec/mod.ts";\n` });
  assert.deepEqual(rulesOf(v), ["layer src/base/bad.ts:2"]);
});

test("tidy catches a deep import into another component", opts, () => {
  const v = check({
    "src/codec/deep.ts": `${header}export { now } from "../env/node/clock.ts";\n`,
  });
  assert.deepEqual(rulesOf(v).sort(), [
    "deep-import src/codec/deep.ts:2",
    "layer src/codec/deep.ts:2",
  ]);
});

test("tidy catches I/O modules, wall clock, randomness and timers outside env/node", opts, () => {
  const v = check({
    "src/codec/io.ts":
      `${header}import { readFileSync } from "node:fs";\n` +
      `export const a = Date.now();\n` +
      `export const b = Math.random();\n` +
      `setTimeout(() => undefined, 1);\n` +
      `export const c = new Date();\n` +
      `export const d = new Date(0);\n` +
      `globalThis.setInterval(() => undefined, 1);\n` +
      `export const e = readFileSync;\n` +
      `export const f = performance.now();\n`,
  });
  assert.deepEqual(rulesOf(v), [
    "io src/codec/io.ts:2",
    "io src/codec/io.ts:3",
    "io src/codec/io.ts:4",
    "io src/codec/io.ts:5",
    "io src/codec/io.ts:6",
    "io src/codec/io.ts:8",
    "io src/codec/io.ts:10",
  ]);
});

test("tidy catches async code in a pure component but not in its tests", opts, () => {
  const v = check({
    "src/codec/slow.ts":
      `${header}export async function f(): Promise<number> { return 1; }\n` +
      `export const g = async (): Promise<void> => { await f(); };\n`,
  });
  assert.deepEqual(rulesOf(v), [
    "pure-async src/codec/slow.ts:2",
    "pure-async src/codec/slow.ts:3",
    "pure-async src/codec/slow.ts:3",
  ]);
});

test("tidy catches long lines, index.ts, export *, missing mod.ts and headers", opts, () => {
  const v = check({
    "src/codec/long.ts": `${header}export const s = "${"x".repeat(100)}";\n`,
    "src/codec/index.ts": `${header}export * from "./long.ts";\n`,
    "src/raft/log.ts": `${header}export const log = 1;\n`,
    "test/e2e/helper.ts": `export const noHeader = 1;\n`,
  });
  assert.deepEqual(rulesOf(v).sort(), [
    "file-header test/e2e/helper.ts:1",
    "index-file src/codec/index.ts:1",
    "line-length src/codec/long.ts:2",
    "missing-mod src/raft:0",
    "wildcard-export src/codec/index.ts:2",
  ]);
});

test("allowed dependencies are the transitive closure of DESIGN.md's arrows", opts, () => {
  assert.deepEqual([...allowedDependencies("base")], []);
  assert.deepEqual([...allowedDependencies("expr")].sort(), ["base", "codec"]);
  assert.deepEqual([...allowedDependencies("kv")].sort(), [
    "base",
    "client",
    "codec",
    "env",
    "expr",
    "proto",
    "raft",
    "rpc",
  ]);
  assert.ok(!allowedDependencies("pd").has("client"));
  assert.ok(!allowedDependencies("rpc").has("client"));
});
