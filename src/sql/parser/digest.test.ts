/**
 * Digest tests: which statements share a normalized text, what the text looks like, and
 * that the FNV-1a 64 hash matches the published test vectors and a BigInt reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fnv1a64, normalizeDigest } from "./digest.ts";
import { parse } from "./parse.ts";

const opts = { timeout: 30_000 };

test("normalizeDigest() replaces literals with ? and lower-cases words", opts, () => {
  const cases: readonly (readonly [string, string])[] = [
    ["SELECT * FROM t WHERE a = 1", "select * from t where a = ?"],
    ["SELECT -1, a - 1, a-1, 'x' 'y', _utf8mb4'z', X'01', b'1', 1e5",
      "select ? , a - ? , a - ? , ? , ? , ? , ? , ?"],
    ["SELECT /*+ HINT */ `A`, `select` FROM Db.T LIMIT 10, 20",
      "select a , `select` from db . t limit ? , ?"],
    ["SELECT a FROM t WHERE id IN (1, 2, 3)", "select a from t where id in ( ... )"],
    ["SELECT a FROM t WHERE (a, b) IN ((1, 2), (3, 4))",
      "select a from t where ( a , b ) in ( ... )"],
    ["SELECT a FROM t WHERE a IN (b, 1)", "select a from t where a in ( b , ? )"],
    ["INSERT INTO t VALUES (1, 'a'), (2, 'b')", "insert into t values ( ... )"],
    ["SELECT ? FROM t WHERE a IN (?, ?)", "select ? from t where a in ( ... )"],
    ["SELECT @A, @@GLOBAL.x; ", "select @a , @@global.x"],
    ["/*!40101 SET NAMES utf8 */", "set names utf8"],
    ["SELECT a FROM t WHERE b = -5 AND c > +2", "select a from t where b = ? and c > ?"],
  ];
  for (const [sql, normalized] of cases) {
    assert.equal(normalizeDigest(sql).normalized, normalized, sql);
  }
});

test("statements differing only in literals, case, blanks or list length share a digest",
  opts, () => {
    const groups: readonly (readonly string[])[] = [
      [
        "SELECT * FROM t WHERE a = 1",
        "select *  from T where A=2 -- note",
        "SELECT * FROM t\nWHERE a = 'x'",
      ],
      ["SELECT a FROM t WHERE id IN (1)", "SELECT a FROM t WHERE id IN (4, 5, 6, 7)"],
      ["INSERT INTO t VALUES (1, 'a')", "insert into t values (2,'b'),(3,'c')"],
    ];
    const digests = groups.map((group) => {
      const set = new Set(group.map((sql) => normalizeDigest(sql).digest));
      assert.equal(set.size, 1, group.join(" | "));
      return [...set][0];
    });
    assert.equal(new Set(digests).size, groups.length);
  });

test("normalizeDigest() of a parsed statement equals that of its text", opts, () => {
  const sql = "SELECT a, b FROM t WHERE c IN (1, 2) ORDER BY a LIMIT 3";
  const result = parse(sql);
  assert.equal(result.kind, "ok");
  if (result.kind !== "ok" || result.statements[0] === undefined) return;
  assert.deepEqual(normalizeDigest(result.statements[0].statement), normalizeDigest(sql));
});

test("normalizeDigest() accepts a caller's hash and summarizes unlexable text", opts, () => {
  const d = normalizeDigest("SELECT 1", { hash: (text) => `len:${text.length}` });
  assert.deepEqual(d, { normalized: "select ?", digest: "len:8" });
  assert.equal(normalizeDigest("SELECT  'open").normalized, "select 'open");
});

function fnvReference(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

test("fnv1a64() matches the published vectors and a BigInt reference", opts, () => {
  assert.equal(fnv1a64(""), "cbf29ce484222325");
  assert.equal(fnv1a64("a"), "af63dc4c8601ec8c");
  assert.equal(fnv1a64("foobar"), "85944171f73967e8");
  fc.assert(
    fc.property(fc.string({ maxLength: 64, unit: "binary" }), (text) => {
      assert.equal(fnv1a64(text), fnvReference(text));
    }),
    { seed: 3, numRuns: 500 },
  );
});
