/**
 * Table tests of the evaluator: each case builds an expression, evaluates it, and checks
 * the value (as MySQL prints it), the result type (code, decimals, nullability) and the
 * warnings raised — NULL propagation, integer overflow, division by zero, decimal scales,
 * string/number comparison, control flow, string and numeric functions, casts, and the
 * context functions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type EvalContext,
  type Expr,
  type ExprWarning,
  type Value,
  TypeCode,
  buildCall,
  buildCast,
  decimalLiteral,
  doubleLiteral,
  exprText,
  fieldFlags,
  formatDateTime,
  integerLiteral,
  nullLiteral,
  stringLiteral,
  toText,
  tryEvaluate,
} from "./mod.ts";

const opts = { timeout: 10_000 };

const i = integerLiteral;
const d = decimalLiteral;
const f = doubleLiteral;
const s = stringLiteral;
const n = nullLiteral();

function c(name: string, ...args: Expr[]): Expr {
  const result = buildCall(name, args);
  if (result.kind !== "ok") assert.fail(`${name}: ${result.reason.kind}`);
  return result.expr;
}

function context(warnings: ExprWarning[]): EvalContext & { assigned: Map<string, Value> } {
  const assigned = new Map<string, Value>();
  let lastInsertId = 0n;
  return {
    assigned,
    warn: (w) => warnings.push(w),
    statementTime: { year: 2024, month: 2, day: 29, hour: 13, minute: 14, second: 15,
      microsecond: 123_456 },
    database: null,
    user: "root@127.0.0.1",
    currentUser: "root@%",
    connectionId: 42,
    version: "8.0.11-Tessera-0.1.0",
    get lastInsertId() {
      return lastInsertId;
    },
    setLastInsertId: (v) => {
      lastInsertId = v;
    },
    setUserVariable: (name, value) => {
      assigned.set(name, value);
    },
  };
}

/** Evaluates `expr`: its printed value ("NULL" for NULL) and the warnings raised. */
function run(expr: Expr): { text: string; warnings: ExprWarning[] } {
  const warnings: ExprWarning[] = [];
  const result = tryEvaluate(expr, context(warnings));
  if (result.kind !== "ok") assert.fail(`${exprText(expr)}: ${result.reason.kind}`);
  return { text: toText(result.value) ?? "NULL", warnings };
}

const T = TypeCode;

/** [description, expression, printed value, type code, decimals, warnings (kinds)] */
const cases: [string, Expr, string, number, number, string[]][] = [
  ["int + int is BIGINT", c("+", i("1"), i("1")), "2", T.LongLong, 0, []],
  ["int - int goes negative", c("-", i("1"), i("3")), "-2", T.LongLong, 0, []],
  ["int * decimal keeps the decimal's scale", c("*", i("3"), d("1.50")), "4.50",
    T.NewDecimal, 2, []],
  ["decimal * decimal adds scales", c("*", d("1.25"), d("2.5")), "3.125", T.NewDecimal, 3, []],
  ["decimal + decimal takes the larger scale", c("+", d("1.5"), d("0.25")), "1.75",
    T.NewDecimal, 2, []],
  ["int / int is DECIMAL with 4 more digits", c("/", i("1"), i("3")), "0.3333", T.NewDecimal, 4,
    []],
  ["decimal / int rounds half up at scale + 4", c("/", d("2.00"), i("3")), "0.666667",
    T.NewDecimal, 6, []],
  ["division by zero is NULL with a warning", c("/", i("1"), i("0")), "NULL", T.NewDecimal, 4,
    ["divisionByZero"]],
  ["DIV truncates", c("div", i("7"), i("2")), "3", T.LongLong, 0, []],
  ["DIV by zero is NULL with a warning", c("div", i("7"), i("0")), "NULL", T.LongLong, 0,
    ["divisionByZero"]],
  ["MOD keeps the dividend's sign", c("%", c("neg", i("7")), i("3")), "-1", T.LongLong, 0, []],
  ["MOD by zero is NULL with a warning", c("%", i("7"), i("0")), "NULL", T.LongLong, 0,
    ["divisionByZero"]],
  ["decimal MOD", c("%", d("5.5"), i("2")), "1.5", T.NewDecimal, 1, []],
  ["anything with a double is DOUBLE", c("+", i("1"), f("1.5e0")), "2.5", T.Double, 31, []],
  ["a numeric string in arithmetic is DOUBLE", c("+", s("1"), i("1")), "2", T.Double, 31, []],
  ["a non-numeric string is 0 with a 1292 warning", c("+", s("1abc"), i("1")), "2", T.Double,
    31, ["truncatedWrongValue"]],
  ["NULL propagates through arithmetic", c("+", i("1"), n), "NULL", T.Double, 31, []],
  ["NULL propagates through comparison", c("=", n, i("1")), "NULL", T.LongLong, 0, []],
  ["<=> compares NULLs", c("<=>", n, n), "1", T.LongLong, 0, []],
  ["<=> of NULL and a value is 0", c("<=>", n, i("1")), "0", T.LongLong, 0, []],
  ["strings compare case-insensitively", c("=", s("abc"), s("ABC")), "1", T.LongLong, 0, []],
  ["strings compare with trailing spaces ignored", c("=", s("a "), s("a")), "1", T.LongLong, 0,
    []],
  ["string vs number compares as numbers", c("=", s("1.0"), i("1")), "1", T.LongLong, 0, []],
  ["non-numeric string equals 0 with a warning", c("=", s("abc"), i("0")), "1", T.LongLong, 0,
    ["truncatedWrongValue"]],
  ["int vs decimal compares exactly", c("<", i("1"), d("1.01")), "1", T.LongLong, 0, []],
  ["unsigned vs signed compares by value", c(">", i("18446744073709551615"), i("-1")), "1",
    T.LongLong, 0, []],
  ["AND with NULL and false is false", c("and", n, i("0")), "0", T.LongLong, 0, []],
  ["AND with NULL and true is NULL", c("and", n, i("1")), "NULL", T.LongLong, 0, []],
  ["OR with NULL and true is true", c("or", n, i("1")), "1", T.LongLong, 0, []],
  ["OR with NULL and false is NULL", c("or", n, i("0")), "NULL", T.LongLong, 0, []],
  ["XOR with NULL is NULL", c("xor", n, i("1")), "NULL", T.LongLong, 0, []],
  ["XOR of true and false", c("xor", i("1"), i("0")), "1", T.LongLong, 0, []],
  ["NOT NULL is NULL", c("not", n), "NULL", T.LongLong, 0, []],
  ["IS NULL is never NULL", c("isnull", n), "1", T.LongLong, 0, []],
  ["IS TRUE of NULL is 0", c("istrue", n), "0", T.LongLong, 0, []],
  ["IS FALSE of 0 is 1", c("isfalse", i("0")), "1", T.LongLong, 0, []],
  ["BETWEEN inclusive", c("between", i("2"), i("1"), i("2")), "1", T.LongLong, 0, []],
  ["BETWEEN with a NULL bound that decides nothing", c("between", i("5"), n, i("2")), "0",
    T.LongLong, 0, []],
  ["IN finds a match", c("in", i("2"), i("1"), i("2")), "1", T.LongLong, 0, []],
  ["IN without a match but with NULL is NULL", c("in", i("3"), i("1"), n), "NULL", T.LongLong,
    0, []],
  ["IN with NULL operand is NULL", c("in", n, i("1")), "NULL", T.LongLong, 0, []],
  ["CASE takes the first true branch", c("case", i("0"), s("a"), i("1"), s("b"), s("c")), "b",
    T.VarString, 0, []],
  ["CASE without ELSE is NULL", c("case", i("0"), i("1")), "NULL", T.LongLong, 0, []],
  ["IF aggregates int and decimal to decimal", c("if", i("1"), i("1"), d("2.50")), "1.00",
    T.NewDecimal, 2, []],
  ["IF aggregates int and string to string", c("if", i("0"), i("1"), s("x")), "x",
    T.VarString, 0, []],
  ["IFNULL takes the second on NULL", c("ifnull", n, i("7")), "7", T.LongLong, 0, []],
  ["COALESCE skips NULLs", c("coalesce", n, n, s("z")), "z", T.VarString, 0, []],
  ["NULLIF of equal values is NULL", c("nullif", i("1"), i("1")), "NULL", T.LongLong, 0, []],
  ["NULLIF of different values is the first", c("nullif", i("1"), i("2")), "1", T.LongLong, 0,
    []],
  ["unary minus", c("neg", i("5")), "-5", T.LongLong, 0, []],
  ["-9223372036854775808 is a BIGINT", c("neg", i("9223372036854775808")),
    "-9223372036854775808", T.LongLong, 0, []],
  ["-18446744073709551615 is a DECIMAL", c("neg", i("18446744073709551615")),
    "-18446744073709551615", T.NewDecimal, 0, []],
  ["integer literal beyond 2^64 is DECIMAL", i("18446744073709551616"), "18446744073709551616",
    T.NewDecimal, 0, []],
  ["CONCAT converts numbers", c("concat", s("a"), i("1"), d("1.50")), "a11.50", T.VarString, 0,
    []],
  ["CONCAT with NULL is NULL", c("concat", s("a"), n), "NULL", T.VarString, 0, []],
  ["CONCAT_WS skips NULL", c("concat_ws", s(","), s("a"), n, s("b")), "a,b", T.VarString, 0,
    []],
  ["LENGTH counts bytes", c("length", s("héllo")), "6", T.LongLong, 0, []],
  ["CHAR_LENGTH counts characters", c("char_length", s("héllo")), "5", T.LongLong, 0, []],
  ["UPPER", c("upper", s("abcß")), "ABCß", T.VarString, 0, []],
  ["LOWER", c("lower", s("ABC")), "abc", T.VarString, 0, []],
  ["SUBSTRING from a position", c("substring", s("Quadratically"), i("5")), "ratically",
    T.VarString, 0, []],
  ["SUBSTRING with a length", c("substring", s("Quadratically"), i("5"), i("6")), "ratica",
    T.VarString, 0, []],
  ["SUBSTRING from the end", c("substring", s("Sakila"), c("neg", i("3"))), "ila",
    T.VarString, 0, []],
  ["SUBSTRING at 0 is empty", c("substring", s("Sakila"), i("0")), "", T.VarString, 0, []],
  ["TRIM both", c("trim", s("  bar  ")), "bar", T.VarString, 0, []],
  ["TRIM LEADING a string", c("trim_leading", s("xxbarxx"), s("x")), "barxx", T.VarString, 0,
    []],
  ["TRIM TRAILING a string", c("trim_trailing", s("barxxyz"), s("xyz")), "barx", T.VarString,
    0, []],
  ["REPLACE is case-sensitive", c("replace", s("www.mysql.com"), s("w"), s("Ww")),
    "WwWwWw.mysql.com", T.VarString, 0, []],
  ["LEFT", c("left", s("foobarbar"), i("5")), "fooba", T.VarString, 0, []],
  ["RIGHT", c("right", s("foobarbar"), i("4")), "rbar", T.VarString, 0, []],
  ["ABS of a negative int", c("abs", c("neg", i("2"))), "2", T.LongLong, 0, []],
  ["ROUND of a decimal rounds half away from zero", c("round", d("2.5")), "3", T.NewDecimal, 0,
    []],
  ["ROUND of a negative decimal", c("round", c("neg", d("2.5"))), "-3", T.NewDecimal, 0, []],
  ["ROUND of a double rounds half to even", c("round", f("2.5e0")), "2", T.Double, 0, []],
  ["ROUND to digits", c("round", d("1.298"), i("1")), "1.3", T.NewDecimal, 1, []],
  ["ROUND to negative digits", c("round", i("1234"), c("neg", i("2"))), "1200", T.LongLong, 0,
    []],
  ["FLOOR of a negative decimal", c("floor", c("neg", d("1.5"))), "-2", T.LongLong, 0, []],
  ["CEIL of a decimal", c("ceil", d("1.2")), "2", T.LongLong, 0, []],
  ["FLOOR of a double is DOUBLE", c("floor", f("1.5e0")), "1", T.Double, 31, []],
  ["VERSION()", c("version"), "8.0.11-Tessera-0.1.0", T.VarString, 0, []],
  ["DATABASE() without one is NULL", c("database"), "NULL", T.VarString, 0, []],
  ["USER()", c("user"), "root@127.0.0.1", T.VarString, 0, []],
  ["CURRENT_USER()", c("current_user"), "root@%", T.VarString, 0, []],
  ["CONNECTION_ID()", c("connection_id"), "42", T.LongLong, 0, []],
  ["NOW() is the statement time", c("now"), "2024-02-29 13:14:15", T.DateTime, 0, []],
  ["NOW(3) keeps milliseconds", c("now", i("3")), "2024-02-29 13:14:15.123", T.DateTime, 3, []],
  ["CURRENT_TIMESTAMP is NOW", c("current_timestamp"), "2024-02-29 13:14:15", T.DateTime, 0,
    []],
  ["LAST_INSERT_ID() starts at 0", c("last_insert_id"), "0", T.LongLong, 0, []],
  ["LIKE is case-insensitive with wildcards", c("like", s("Hello"), s("h_l%")), "1", T.LongLong,
    0, []],
  ["LIKE with an escaped wildcard", c("like", s("50%"), s("50\\%")), "1", T.LongLong, 0, []],
];

for (const [name, expr, text, code, decimals, warnings] of cases) {
  test(`evaluate: ${name}`, opts, () => {
    const result = run(expr);
    assert.equal(result.text, text, exprText(expr));
    assert.equal(expr.type.code, code, `type code of ${exprText(expr)}`);
    assert.equal(expr.type.decimals, decimals, `decimals of ${exprText(expr)}`);
    assert.deepEqual(result.warnings.map((w) => w.kind), warnings);
  });
}

test("BIGINT overflow is error 1690's reason with MySQL's expression text", opts, () => {
  const warnings: ExprWarning[] = [];
  const sum = c("+", i("1"), i("9223372036854775807"));
  assert.deepEqual(tryEvaluate(sum, context(warnings)), {
    kind: "error",
    reason: { kind: "outOfRange", typeName: "BIGINT", exprText: "(1 + 9223372036854775807)" },
  });
  const unsigned = c("-", c("cast_unsigned", i("0")), i("1"));
  const result = tryEvaluate(unsigned, context(warnings));
  assert.equal(result.kind, "error");
  assert.equal((result as { reason: { typeName: string } }).reason.typeName, "BIGINT UNSIGNED");
  const negated = c("neg", c("neg", i("9223372036854775808")));
  assert.equal(tryEvaluate(negated, context(warnings)).kind, "error");
});

test("result types carry MySQL's flags, lengths and nullability", opts, () => {
  assert.equal(fieldFlags(i("1").type), 0x8081);
  assert.equal(d("1.5").type.length, 4);
  assert.equal(d("1.5").type.precision, 2);
  assert.equal(fieldFlags(s("x").type), 0x1);
  assert.equal(s("x").type.length, 4);
  assert.equal(n.type.code, TypeCode.Null);
  assert.equal(c("/", i("1"), i("2")).type.nullable, true);
  assert.equal(c("+", i("1"), i("2")).type.nullable, false);
  assert.equal(fieldFlags(c("cast_unsigned", i("1")).type) & 0x20, 0x20);
});

test("CAST to each supported target converts as MySQL does", opts, () => {
  const cast = (arg: Expr, target: Parameters<typeof buildCast>[1]): string => {
    const built = buildCast(arg, target);
    assert.equal(built.kind, "ok");
    return run((built as { expr: Expr }).expr).text;
  };
  assert.equal(cast(c("neg", i("1")), { kind: "unsigned" }), "18446744073709551615");
  assert.equal(cast(i("18446744073709551615"), { kind: "signed" }), "-1");
  assert.equal(cast(s(" 12abc"), { kind: "signed" }), "12");
  assert.equal(cast(d("1.5"), { kind: "signed" }), "2");
  assert.equal(cast(f("1.25e0"), { kind: "decimal", precision: 10, scale: 1 }), "1.3");
  assert.equal(cast(i("12345"), { kind: "decimal", precision: 4, scale: 1 }), "999.9");
  assert.equal(cast(i("42"), { kind: "char", length: null }), "42");
  assert.equal(cast(s("abcdef"), { kind: "char", length: 3 }), "abc");
  assert.equal(cast(s("1.5"), { kind: "double" }), "1.5");
  const bad = buildCast(i("1"), { kind: "decimal", precision: 2, scale: 3 });
  assert.equal(bad.kind, "error");
});

test("building reports unknown functions and wrong argument counts", opts, () => {
  assert.deepEqual(buildCall("no_such_fn", []),
    { kind: "error", reason: { kind: "unknownFunction", name: "no_such_fn" } });
  assert.deepEqual(buildCall("concat_ws", [s("x")]),
    { kind: "error", reason: { kind: "argumentCount", name: "concat_ws" } });
  assert.equal(buildCall("UCASE", [s("x")]).kind, "ok");
});

test("context side effects go to the context: user variables and LAST_INSERT_ID", opts, () => {
  const warnings: ExprWarning[] = [];
  const ctx = context(warnings);
  const assign = c("setvar", s("a"), i("5"));
  assert.deepEqual(tryEvaluate(assign, ctx), { kind: "ok", value: { kind: "int", value: 5n } });
  assert.deepEqual(ctx.assigned.get("a"), { kind: "int", value: 5n });
  tryEvaluate(c("last_insert_id", i("9")), ctx);
  assert.equal(ctx.lastInsertId, 9n);
});

test("formatDateTime prints the requested fractional digits", opts, () => {
  const time = { year: 1, month: 2, day: 3, hour: 4, minute: 5, second: 6, microsecond: 7 };
  assert.equal(formatDateTime(time, 0), "0001-02-03 04:05:06");
  assert.equal(formatDateTime(time, 6), "0001-02-03 04:05:06.000007");
});
