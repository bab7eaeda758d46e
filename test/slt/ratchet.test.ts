/**
 * Tests of the pass-count ratchet: drops fail, raises are reported and written, new and
 * missing files are handled, baselines round-trip through their JSON text, and the
 * committed baselines under baseline/ parse.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkRatchet,
  formatBaseline,
  parseBaseline,
  raiseBaseline,
  type Baseline,
  type RatchetInput,
} from "./ratchet.ts";

const opts = { timeout: 5_000 };

const baseline: Baseline = {
  description: "test",
  files: {
    "a.test": { passed: 10, total: 12 },
    "b.test": { passed: 5, total: 5 },
  },
};

function input(file: string, passed: number, records: number): RatchetInput {
  return { file, passed, records, unreached: 0, halted: false };
}

test("checkRatchet() passes when every file keeps its count", opts, () => {
  const r = checkRatchet(baseline, [input("a.test", 10, 12), input("b.test", 5, 5)]);
  assert.equal(r.ok, true);
  assert.deepEqual([r.drops, r.raises, r.added, r.missing], [[], [], [], []]);
});

test("checkRatchet() fails when any file's passed count drops", opts, () => {
  const r = checkRatchet(baseline, [input("a.test", 9, 12), input("b.test", 5, 5)]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.drops, [{ file: "a.test", baseline: 10, now: 9 }]);
  assert.match(r.messages.join("\n"), /DROP a\.test: 9 passed, baseline 10/);
});

test(
  "checkRatchet() reports raises without failing, and a drop elsewhere still fails",
  opts,
  () => {
    const up = checkRatchet(baseline, [input("a.test", 12, 12)]);
    assert.equal(up.ok, true);
    assert.deepEqual(up.raises, [{ file: "a.test", baseline: 10, now: 12 }]);
    const mixed = checkRatchet(baseline, [input("a.test", 12, 12), input("b.test", 4, 5)]);
    assert.equal(mixed.ok, false);
    assert.equal(mixed.raises.length, 1);
  },
);

test("checkRatchet() treats a new file as a raise from zero", opts, () => {
  const r = checkRatchet(baseline, [input("c.test", 3, 4)]);
  assert.equal(r.ok, true);
  assert.deepEqual(r.added, ["c.test"]);
  assert.deepEqual(r.raises, [{ file: "c.test", baseline: 0, now: 3 }]);
});

test("checkRatchet() fails on missing baseline files only with requireAll", opts, () => {
  const slice = [input("a.test", 10, 12)];
  assert.equal(checkRatchet(baseline, slice).ok, true);
  assert.deepEqual(checkRatchet(baseline, slice).missing, ["b.test"]);
  const all = checkRatchet(baseline, slice, { requireAll: true });
  assert.equal(all.ok, false);
  assert.match(all.messages.join("\n"), /MISSING b\.test/);
});

test("checkRatchet() says when a drop comes from a cut-short run", opts, () => {
  const r = checkRatchet(baseline, [
    { file: "a.test", passed: 4, records: 12, unreached: 8, halted: false },
  ]);
  assert.equal(r.ok, false);
  assert.match(r.messages[0] ?? "", /8 records unreached/);
});

test("checkRatchet() notes a changed record count (the corpus changed)", opts, () => {
  const r = checkRatchet(baseline, [input("b.test", 5, 6)]);
  assert.equal(r.ok, true);
  assert.deepEqual(r.totalChanged, ["b.test"]);
});

test("raiseBaseline() raises counts that went up, adds new files, keeps drops", opts, () => {
  const next = raiseBaseline(baseline, [
    input("a.test", 11, 12),
    input("b.test", 1, 5),
    input("c.test", 2, 2),
  ]);
  assert.deepEqual(next.files, {
    "a.test": { passed: 11, total: 12 },
    "b.test": { passed: 5, total: 5 },
    "c.test": { passed: 2, total: 2 },
  });
});

test("formatBaseline() and parseBaseline() round-trip, sorted by file", opts, () => {
  const text = formatBaseline({
    description: "d",
    files: { "z.test": { passed: 1, total: 2 }, "a.test": { passed: 0, total: 0 } },
  });
  assert.ok(text.indexOf("a.test") < text.indexOf("z.test"));
  assert.deepEqual(parseBaseline(text), {
    description: "d",
    files: { "a.test": { passed: 0, total: 0 }, "z.test": { passed: 1, total: 2 } },
  });
  assert.deepEqual(parseBaseline(formatBaseline({ description: "e", files: {} })).files, {});
});

test("parseBaseline() refuses malformed baselines", opts, () => {
  assert.throws(() => parseBaseline("[]"), /description/);
  assert.throws(() => parseBaseline('{"description":"d"}'), /files missing/);
  assert.throws(
    () => parseBaseline('{"description":"d","files":{"a":{"passed":3,"total":2}}}'),
    /outside 0\.\.total/,
  );
  assert.throws(() => parseBaseline('{"description":"d","files":{"a":{"passed":1}}}'), /integer/);
});

test("the committed baselines parse", opts, () => {
  for (const name of ["mariadb.json", "tessera.json"]) {
    const text = readFileSync(join(import.meta.dirname, "baseline", name), "utf8");
    assert.equal(typeof parseBaseline(text).description, "string", name);
  }
});
