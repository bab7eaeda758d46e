/**
 * The date and time built-ins (src/expr/date_*.ts) through the parser and the translation
 * a SELECT uses: table-driven cases from testdata/date_functions.txt (value, result type
 * with its fsp, and the warnings MySQL raises), column arguments of each temporal type,
 * and the errors for misused syntax.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  type EvalContext,
  type Expr,
  ExprError,
  type ExprWarning,
  type FieldType,
  type Value,
  dateTimeType,
  defaultBuildOptions,
  evaluate,
  integerLiteral,
  toText,
} from "../../expr/mod.ts";
import { parseExpression } from "../parser/parse.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { type TranslateScope, translate } from "./to_expr.ts";

const opts = { timeout: 20_000 };

/** How SHOW WARNINGS would show `w`: its number and message. */
function warningText(w: ExprWarning): string {
  const error = ((): MySqlError => {
    switch (w.kind) {
      case "incorrectTemporal":
        return mysqlError(ER.INCORRECT_TEMPORAL_VALUE, [w.typeName, w.value]);
      case "truncatedWrongValue":
        return mysqlError(ER.TRUNCATED_WRONG_VALUE, [w.typeName, w.value]);
      case "wrongValueForFunction":
        return mysqlError(ER.WRONG_VALUE_FOR_TYPE, [w.typeName, w.value, w.functionName]);
      case "datetimeOverflow":
        return mysqlError(ER.DATETIME_FUNCTION_OVERFLOW, [w.functionName]);
      default:
        return mysqlError(ER.NOT_SUPPORTED_YET, [JSON.stringify(w)]);
    }
  })();
  return `${error.errno} ${error.message}`;
}

function typeText(type: FieldType): string {
  switch (type.code) {
    case 0x0a:
      return "DATE";
    case 0x0c:
      return `DATETIME(${type.decimals})`;
    case 0x0b:
      return `TIME(${type.decimals})`;
    case 0x08:
      return `BIGINT(${type.length})`;
    case 0xfd:
      return `VARCHAR(${type.length / 4})`;
    default:
      return `type ${type.code}`;
  }
}

/** `2024-02-29 13:14:15.25`, the statement time of every case. */
function context(warnings: ExprWarning[], row?: readonly Value[]): EvalContext {
  return {
    warn: (w) => warnings.push(w),
    statementTime: { year: 2024, month: 2, day: 29, hour: 13, minute: 14, second: 15,
      microsecond: 250_000 },
    database: null, user: "root@localhost", currentUser: "root@%", connectionId: 1,
    version: "8.0.11-Tessera", lastInsertId: 0n,
    setLastInsertId: () => undefined, setUserVariable: () => undefined,
    ...(row === undefined ? {} : { row }),
  };
}

function scope(columns: ReadonlyMap<string, Expr> = new Map(), weekFormat = 0):
  TranslateScope {
  return {
    options: defaultBuildOptions, clause: "field list", params: null, database: null,
    userVariable: () => assert.fail("no user variables here"),
    systemVariable: (name) => name === "default_week_format"
      ? integerLiteral(String(weekFormat)) : assert.fail(`no @@${name} here`),
    column: (name) => columns.get(name.toLowerCase()),
  };
}

/** `text` translated and evaluated: its value text, type text and warnings. */
function run(text: string, columns?: ReadonlyMap<string, Expr>, row?: readonly Value[]):
  string[] {
  const parsed = parseExpression(text);
  assert.equal(parsed.kind, "ok", `${text} parses`);
  if (parsed.kind !== "ok") return [];
  const expr = translate(parsed.expr, scope(columns));
  const warnings: ExprWarning[] = [];
  const value = evaluate(expr, context(warnings, row));
  return [value === null ? "NULL" : toText(value) ?? "", typeText(expr.type),
    ...warnings.map(warningText)];
}

const casesPath = new URL("./testdata/date_functions.txt", import.meta.url);
const cases = readFileSync(casesPath, "utf8").split("\n")
  .filter((line) => line.trim() !== "" && !line.startsWith("#"))
  .map((line) => {
    const [expr, rest] = line.split(" => ") as [string, string];
    return { expr, expected: rest.split(" | ") };
  });

test("the table of date and time cases is not empty", opts, () => {
  assert.ok(cases.length > 200, `${cases.length} cases`);
});

for (const { expr, expected } of cases) {
  test(`${expr} is ${expected.join(" | ")}`, opts, () => {
    assert.deepEqual(run(expr), expected);
  });
}

// ---- column arguments ----------------------------------------------------------------------

const dateType: FieldType = { ...dateTimeType(0, { nullable: true }), code: 0x0a, length: 10 };
const columns = new Map<string, Expr>([
  ["d", { kind: "column", index: 0, name: "d", type: dateType }],
  ["dt", { kind: "column", index: 1, name: "dt", type: dateTimeType(3, { nullable: true }) }],
  ["t", { kind: "column", index: 2, name: "t",
    type: { ...dateTimeType(0), kind: "string", code: 0x0b, length: 10, decimals: 0 } }],
  ["s", { kind: "column", index: 3, name: "s",
    type: { ...dateTimeType(0), kind: "string", code: 0xfd, length: 80, decimals: 0 } }],
]);
const row: readonly Value[] = [
  { kind: "datetime", fsp: 0, date: true,
    value: { year: 2024, month: 1, day: 31, hour: 0, minute: 0, second: 0, microsecond: 0 } },
  { kind: "datetime", fsp: 3,
    value: { year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59,
      microsecond: 500_000 } },
  { kind: "string", value: "-10:30:00", tag: { kind: "time" } },
  { kind: "string", value: "2024-12-31 23:59:59" },
];

const columnCases: readonly (readonly [string, readonly string[]])[] = [
  ["d + INTERVAL 1 MONTH", ["2024-02-29", "DATE"]],
  ["d + INTERVAL 1 HOUR", ["2024-01-31 01:00:00", "DATETIME(0)"]],
  ["DATE_SUB(d, INTERVAL 1 MICROSECOND)", ["2024-01-30 23:59:59.999999", "DATETIME(6)"]],
  ["dt + INTERVAL 1 YEAR", ["2025-02-28 23:59:59.500", "DATETIME(3)"]],
  ["dt + INTERVAL '0.5' SECOND_MICROSECOND", ["2024-03-01 00:00:00.000000", "DATETIME(6)"]],
  ["t + INTERVAL 1 DAY", ["13:30:00", "TIME(0)"]],
  ["TIME_TO_SEC(t)", ["-37800", "BIGINT(10)"]],
  ["HOUR(t)", ["10", "BIGINT(4)"]],
  ["s + INTERVAL 1 SECOND", ["2025-01-01 00:00:00", "VARCHAR(29)"]],
  ["DATEDIFF(dt, d)", ["29", "BIGINT(11)"]],
  ["TIMESTAMPDIFF(MONTH, d, dt)", ["0", "BIGINT(21)"]],
  ["TIMEDIFF(dt, d)", ["719:59:59.500", "TIME(3)"]],
  ["TIMEDIFF(t, d)", ["NULL", "TIME(0)"]],
  ["ADDTIME(dt, t)", ["2024-02-29 13:29:59.500", "DATETIME(3)"]],
  ["DATE_FORMAT(dt, '%a %D %b %Y %r %f')", ["Thu 29th Feb 2024 11:59:59 PM 500000",
    "VARCHAR(94)"]],
  ["TIME_FORMAT(t, '%H.%i')", ["-10.30", "VARCHAR(10)"]],
  ["WEEK(d, 3)", ["5", "BIGINT(3)"]],
  ["LAST_DAY(dt)", ["2024-02-29", "DATE"]],
];

for (const [expr, expected] of columnCases) {
  test(`${expr} on a row is ${expected.join(" | ")}`, opts, () => {
    assert.deepEqual(run(expr, columns, row), expected);
  });
}

// ---- errors ----------------------------------------------------------------------------------

function rejects(text: string, errno: number): void {
  const parsed = parseExpression(text);
  assert.equal(parsed.kind, "ok");
  if (parsed.kind !== "ok") return;
  assert.throws(() => translate(parsed.expr, scope()),
    (e: unknown) => e instanceof MySqlError && e.errno === errno);
}

test("DATE_ADD without an INTERVAL is 1582, as the wrong number of arguments", opts, () => {
  rejects("DATE_ADD('2020-01-01', 1)", 1582);
  rejects("DATE_SUB('2020-01-01')", 1582);
});

test("an INTERVAL alone is not a value (1235)", opts, () => {
  rejects("INTERVAL 1 DAY", 1235);
  rejects("INTERVAL 1 DAY - '2020-01-01'", 1235);
});

test("PERIOD_ADD and PERIOD_DIFF reject a period that is not YYMM or YYYYMM (1210)", opts,
  () => {
    const texts = ["PERIOD_ADD(200113, 1)", "PERIOD_ADD(0, 1)", "PERIOD_DIFF(200801, 200800)"];
    for (const text of texts) {
      const parsed = parseExpression(text);
      assert.equal(parsed.kind, "ok");
      if (parsed.kind !== "ok") continue;
      const expr = translate(parsed.expr, scope());
      assert.throws(() => evaluate(expr, context([])), (e: unknown) =>
        e instanceof ExprError && e.reason.kind === "wrongArguments", text);
    }
  });

test("WEEK(d) and EXTRACT(WEEK FROM d) follow @@default_week_format", opts, () => {
  for (const [format, week] of [[0, "52"], [1, "53"], [2, "52"], [3, "1"], [7, "52"]] as const) {
    for (const text of ["WEEK('2008-12-29')", "EXTRACT(WEEK FROM '2008-12-29')"]) {
      const parsed = parseExpression(text);
      assert.equal(parsed.kind, "ok");
      if (parsed.kind !== "ok") continue;
      const value = evaluate(translate(parsed.expr, scope(new Map(), format)), context([]));
      assert.equal(toText(value), week, `${text} with default_week_format ${format}`);
    }
  }
});
