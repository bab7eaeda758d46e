/**
 * `storeValueFor` without strictness (INSERT IGNORE, non-strict sql_mode): the value MySQL
 * stores instead of failing and the warning it raises, one case per error strict mode
 * would give; with strictness the same inputs fail.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type EvalContext, type Value, toText } from "../../expr/mod.ts";
import type { ColumnInfo, ColumnType } from "../catalog/schema.ts";
import { MySqlError } from "../mysql_errors.ts";
import { storeValueFor } from "./write_convert.ts";

function column(type: Partial<ColumnType> & Pick<ColumnType, "name" | "kind">,
  nullable = true): ColumnInfo {
  return { id: 1, name: "c", offset: 0, nullable, defaultText: null, autoIncrement: false,
    type: { unsigned: false, length: null, scale: 0, binaryCollation: false, ...type } };
}

const ctx: EvalContext = {
  warn: () => undefined,
  statementTime: { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, microsecond: 0 },
  database: null,
  user: "root@127.0.0.1",
  currentUser: "root@%",
  connectionId: 1,
  version: "8.0.11-Tessera-test",
  lastInsertId: 0n,
  setLastInsertId: () => undefined,
  setUserVariable: () => undefined,
};
const str = (s: string): Value => ({ kind: "string", value: s });
const int = (n: bigint): Value => ({ kind: "int", value: n });

const cases: readonly [string, ColumnInfo, Value, string | null, number][] = [
  ["NULL into NOT NULL int is 0", column({ name: "INT", kind: "int" }, false), null, "0", 1048],
  ["NULL into NOT NULL varchar is ''",
    column({ name: "VARCHAR", kind: "string", length: 5 }, false), null, "", 1048],
  ["too big for TINYINT is clipped to 127", column({ name: "TINYINT", kind: "int" }),
    int(1000n), "127", 1264],
  ["too small for TINYINT is clipped to -128", column({ name: "TINYINT", kind: "int" }),
    int(-1000n), "-128", 1264],
  ["negative into UNSIGNED is 0", column({ name: "INT", kind: "int", unsigned: true }),
    int(-5n), "0", 1264],
  ["a string with a numeric prefix keeps it", column({ name: "INT", kind: "int" }),
    str("12abc"), "12", 1265],
  ["a string without one is 0", column({ name: "INT", kind: "int" }), str("abc"), "0", 1366],
  ["a DECIMAL with trailing garbage keeps the number",
    column({ name: "DECIMAL", kind: "decimal", length: 4, scale: 1 }), str(" 7.5x"), "7.5",
    1265],
  ["a too-long string is cut", column({ name: "VARCHAR", kind: "string", length: 3 }),
    str("abcdef"), "abc", 1265],
  ["too big for DECIMAL(4,1) is 999.9",
    column({ name: "DECIMAL", kind: "decimal", length: 4, scale: 1 }), int(123456n), "999.9",
    1264],
];

describe("storeValueFor (IGNORE)", () => {
  for (const [name, col, value, stored, code] of cases) {
    it(name, () => {
      const warnings: number[] = [];
      const out = storeValueFor(value, { column: col, row: 1 },
        { ctx, strict: false, warn: (w) => warnings.push(w.errno) });
      assert.equal(toText(out), stored);
      assert.deepEqual(warnings, [code]);
      assert.throws(() => storeValueFor(value, { column: col, row: 1 },
        { ctx, strict: true, warn: () => assert.fail("no warning in strict mode") }),
      (e: unknown) => e instanceof MySqlError);
    });
  }

  it("strict mode fails with the warning's code: 1265 for '12abc', 1366 for 'abc'", () => {
    const target = { column: column({ name: "INT", kind: "int" }), row: 1 };
    for (const [text, code] of [["12abc", 1265], ["abc", 1366]] as const) {
      assert.throws(() => storeValueFor(str(text), target,
        { ctx, strict: true, warn: () => assert.fail("no warning") }),
      (e: unknown) => e instanceof MySqlError && e.errno === code);
    }
  });

  it("nullIsError keeps NULL into NOT NULL an error outside strict mode", () => {
    const target = { column: column({ name: "INT", kind: "int" }, false), row: 1 };
    assert.throws(() => storeValueFor(null, target, { ctx, strict: false, nullIsError: true,
      warn: () => assert.fail("no warning") }),
    (e: unknown) => e instanceof MySqlError && e.errno === 1048);
  });

  it("a valid value is stored as is, without warnings", () => {
    const out = storeValueFor(str("42"), { column: column({ name: "INT", kind: "int" }), row: 1 },
      { ctx, strict: false, warn: () => assert.fail("no warning") });
    assert.equal(toText(out), "42");
  });
});
