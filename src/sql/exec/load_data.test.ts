/**
 * `splitLoadData`: how LOAD DATA splits a file into rows and fields — MySQL's default tab
 * format with escapes and `\N`, CSV with enclosed fields, doubled enclosures and the bare
 * word NULL, LINES STARTING BY / TERMINATED BY, IGNORE n LINES — and
 * `readLoadDataFile`'s size limit.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MySqlError } from "../mysql_errors.ts";
import { type LoadDataFormat, readLoadDataFile, splitLoadData } from "./load_data.ts";

const opts = { timeout: 10_000 };
const defaults: LoadDataFormat = { fieldsTerminatedBy: null, fieldsEnclosedBy: null,
  fieldsEscapedBy: null, linesStartingBy: null, linesTerminatedBy: null, ignoreLines: null };

test("the default format: tabs, newlines, escapes and \\N", opts, () => {
  assert.deepEqual(splitLoadData("1\ta\n2\tb\n", defaults), [["1", "a"], ["2", "b"]]);
  // No final newline; an escaped tab and newline; \N is NULL, \\N is the text \N.
  assert.deepEqual(splitLoadData("1\tx\\ty\\nz\n\\N\t\\\\N", defaults),
    [["1", "x\ty\nz"], [null, "\\N"]]);
  // NULL is a word like any other here; an empty field is the empty string.
  assert.deepEqual(splitLoadData("NULL\t\n", defaults), [["NULL", ""]]);
  assert.deepEqual(splitLoadData("", defaults), []);
  assert.deepEqual(splitLoadData("a\n\nb\n", defaults), [["a"], [""], ["b"]]);
});

test("CSV: enclosed fields, doubled and escaped enclosures, NULL", opts, () => {
  const csv = { ...defaults, fieldsTerminatedBy: ",", fieldsEnclosedBy: "\"",
    linesTerminatedBy: "\r\n" };
  assert.deepEqual(splitLoadData("1,\"a,b\",\"say \"\"hi\"\"\"\r\n" +
    "2,\"x\\\"y\",NULL\r\n3,\"NULL\",\r\n", csv),
  [["1", "a,b", "say \"hi\""], ["2", "x\"y", null], ["3", "NULL", ""]]);
  // An enclosed field may hold the line terminator.
  assert.deepEqual(splitLoadData("\"two\r\nlines\",2\r\n", csv), [["two\r\nlines", "2"]]);
});

test("LINES STARTING BY, IGNORE n LINES, ESCAPED BY ''", opts, () => {
  assert.deepEqual(splitLoadData("skip me\nxxx1,a\nnone here\nxxx2,b\n",
    { ...defaults, fieldsTerminatedBy: ",", linesStartingBy: "xxx" }),
  [["1", "a"], ["2", "b"]]);
  assert.deepEqual(splitLoadData("id,name\n1,a\n2,b\n",
    { ...defaults, fieldsTerminatedBy: ",", ignoreLines: 1 }), [["1", "a"], ["2", "b"]]);
  assert.deepEqual(splitLoadData("a\\b|NULL\n", { ...defaults, fieldsTerminatedBy: "|",
    fieldsEscapedBy: "" }), [["a\\b", null]]);
  assert.throws(() => splitLoadData("x", { ...defaults, fieldsTerminatedBy: "" }),
    (e: unknown) => e instanceof MySqlError && e.errno === 1235);
});

test("readLoadDataFile joins the chunks and refuses more than the limit", opts, async () => {
  async function* chunks(parts: string[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) yield await Promise.resolve(new TextEncoder().encode(part));
  }
  assert.equal(await readLoadDataFile(chunks(["1\tä", "\n2\tb"]), 100), "1\tä\n2\tb");
  await assert.rejects(readLoadDataFile(chunks(["12345", "67890"]), 8),
    (e: unknown) => e instanceof MySqlError && e.errno === 8004);
});
