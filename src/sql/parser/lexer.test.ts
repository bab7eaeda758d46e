/**
 * Lexer tests: token kinds and decoded values, comment forms, versioned comments and
 * hints, and the position of lexical errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Token, tokenize } from "./lexer.ts";
import { SqlSyntaxError } from "./syntax_error.ts";

const opts = { timeout: 10_000 };

function show(sql: string, options = {}): string[] {
  return tokenize(sql, options)
    .filter((t) => t.kind !== "eof")
    .map((t: Token) => `${t.kind}:${t.kind === "number" ? `${t.numberKind}:` : ""}${t.text}`);
}

test("tokenize() reads words, quoted names, strings and numbers", opts, () => {
  assert.deepEqual(show("SELECT `a``b`, 'it''s', \"d\\\"q\", 12, 1.5, .5, 1e3, 2E-2, 1abc"), [
    "word:SELECT", "quotedIdent:a`b", "op:,", "string:it's", "op:,", "string:d\"q", "op:,",
    "number:int:12", "op:,", "number:decimal:1.5", "op:,", "number:decimal:.5", "op:,",
    "number:float:1e3", "op:,", "number:float:2E-2", "op:,", "word:1abc",
  ]);
});

test("tokenize() decodes MySQL string escapes", opts, () => {
  const [token] = tokenize("'\\0\\b\\n\\r\\t\\Z\\\\\\%\\_\\x'");
  assert.equal(token?.text, "\0\b\n\r\t\x1a\\\\%\\_x");
  const [raw] = tokenize("'a\\nb'", { noBackslashEscapes: true });
  assert.equal(raw?.text, "a\\nb");
});

test("tokenize() reads hex, bit, placeholders and variables", opts, () => {
  assert.deepEqual(show("X'0f' x'' 0xABC b'01' 0b1 ? @a @'b c' @`d` @@x @@global.y @@`z`"), [
    "hex:0f", "hex:", "hex:0ABC", "bit:01", "bit:1", "param:?", "userVar:a", "userVar:b c",
    "userVar:d", "sysVar:x", "sysVar:global.y", "sysVar:z",
  ]);
});

test("tokenize() reads multi-character operators longest first", opts, () => {
  assert.deepEqual(show("a<=>b<=c<>d!=e<<f>>g&&h||i:=j->k->>l"), [
    "word:a", "op:<=>", "word:b", "op:<=", "word:c", "op:<>", "word:d", "op:!=", "word:e",
    "op:<<", "word:f", "op:>>", "word:g", "op:&&", "word:h", "op:||", "word:i", "op::=",
    "word:j", "op:->", "word:k", "op:->>", "word:l",
  ]);
});

test("tokenize() skips comments; -- needs a blank after the dashes", opts, () => {
  assert.deepEqual(show("a -- x\nb # y\nc /* z */ d--1"), [
    "word:a", "word:b", "word:c", "word:d", "op:-", "op:-", "number:int:1",
  ]);
  assert.deepEqual(show("a --"), ["word:a"]);
});

test("tokenize() reads versioned comments up to the server version", opts, () => {
  assert.deepEqual(show("a /*! b */ c /*!50000 d */ /*!90000 e */ /*!800110 f */"), [
    "word:a", "word:b", "word:c", "word:d",
  ]);
  assert.deepEqual(show("/*!90000 e */", { serverVersion: 90000 }), ["word:e"]);
  assert.deepEqual(show("/*M! mariadb */ x"), ["word:x"]);
});

test("tokenize() attaches hints to the DML keyword before them", opts, () => {
  const tokens = tokenize("SELECT /*+ A(1) */ x /*+ B */ FROM t");
  assert.equal(tokens[0]?.hint, "A(1)");
  assert.equal(tokens[1]?.hint, null);
});

test("tokenize() reports a bad token at its start", opts, () => {
  const cases: readonly (readonly [string, number])[] = [
    ["SELECT 'open", 7],
    ["SELECT `open", 7],
    ["SELECT /* open", 7],
    ["SELECT X'0G'", 7],
    ["SELECT X'0'", 7],
    ["SELECT b'2'", 7],
    ["SELECT @", 7],
    ["SELECT @@", 7],
    ["SELECT \\", 7],
    ["SELECT /*! a /*! b */", 13],
  ];
  for (const [sql, offset] of cases) {
    assert.throws(
      () => tokenize(sql),
      (e: unknown) => e instanceof SqlSyntaxError && e.offset === offset,
      sql,
    );
  }
});
