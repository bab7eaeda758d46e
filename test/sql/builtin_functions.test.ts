/**
 * Table tests of the string, regexp, math, comparison and information built-ins through
 * the SQL front end: each case parses a SQL expression, translates it (to_expr.ts) and
 * evaluates it, then checks the value as MySQL prints it and the warnings raised; other
 * tables check result types and the MySQL errors of bad calls and patterns.
 *
 * Expected values are MySQL 8.0's, checked on MariaDB 10.11 where the two agree. Where
 * they differ the case follows MySQL 8 and says so: LOCATE('', s, pos) is pos, logarithms
 * of non-positive numbers warn 3020 (MariaDB: 1365), REGEXP_REPLACE uses `$1`, a
 * REGEXP_SUBSTR without a match is NULL (MariaDB: ''), an empty pattern is 3685, and
 * GREATEST/LEAST of strings and numbers compare as strings (MariaDB: as DOUBLEs).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type EvalContext,
  type Expr,
  ExprError,
  type ExprWarning,
  type FieldType,
  NodeFunctions,
  SessionFunctionState,
  TypeCode,
  defaultBuildOptions,
  evaluate,
  nullLiteral,
  toText,
} from "../../src/expr/mod.ts";
import { parseExpression } from "../../src/sql/parser/parse.ts";
import { type TranslateScope, translate } from "../../src/sql/session/to_expr.ts";
import { exprErrorOf } from "../../src/sql/session/expr_errors.ts";
import { MySqlError } from "../../src/sql/mysql_errors.ts";

const opts = { timeout: 20_000 };

const scope: TranslateScope = {
  options: defaultBuildOptions,
  clause: "field list",
  params: null,
  database: "test",
  userVariable: () => nullLiteral(),
  systemVariable: () => nullLiteral(),
};

function build(sql: string): Expr {
  const parsed = parseExpression(sql);
  if (parsed.kind !== "ok") assert.fail(`${sql}: ${parsed.error.message}`);
  return translate(parsed.expr, scope);
}

const node = new NodeFunctions({ startMs: Date.UTC(2024, 1, 29), seed: 7, serverId: 1 });

function context(warnings: ExprWarning[], functions = new SessionFunctionState({ node,
  seed: 1 }), statement: object = {}): EvalContext {
  return {
    warn: (w) => warnings.push(w),
    statementTime: { year: 2024, month: 2, day: 29, hour: 13, minute: 14, second: 15,
      microsecond: 0 },
    statementEpochMs: Date.UTC(2024, 1, 29, 13, 14, 15),
    database: "test",
    user: "root@127.0.0.1",
    currentUser: "root@%",
    connectionId: 1,
    version: "8.0.11-Tessera",
    lastInsertId: 0n,
    setLastInsertId: () => undefined,
    setUserVariable: () => undefined,
    functions: functions.forStatement(statement),
    maxAllowedPacket: 1024,
  };
}

/** The value of `sql` as MySQL's text protocol shows it (null for NULL), and warnings. */
function run(sql: string): { text: string | null; warnings: string[]; type: FieldType } {
  const warnings: ExprWarning[] = [];
  const expr = build(sql);
  const value = evaluate(expr, context(warnings));
  return { text: toText(value), warnings: warnings.map((w) => w.kind), type: expr.type };
}

/** [expression, value, warning kinds]. */
type Case = readonly [string, string | null, ...string[]];

function check(cases: readonly Case[]): void {
  for (const [sql, expected, ...warnings] of cases) {
    const got = run(sql);
    assert.equal(got.text, expected, sql);
    assert.deepEqual(got.warnings, warnings, `${sql} warnings`);
  }
}

test("GREATEST, LEAST, INTERVAL and STRCMP follow MySQL 8's comparison types", opts, () => {
  check([
    ["GREATEST(1, 2, 3)", "3"],
    ["GREATEST(1, 2.5)", "2.5"],
    ["GREATEST(1.25, 3)", "3.00"],
    ["GREATEST('a', 'B', 'c')", "c"],
    ["LEAST('a', 'B', 'c')", "a"],
    ["LEAST(1, 2.5, 0.5e0)", "0.5"],
    ["GREATEST(1, NULL, 3)", null],
    ["LEAST(-1, 2)", "-1"],
    // MySQL 8 compares a string with a number as strings (MariaDB: 10 as a DOUBLE).
    ["GREATEST(2, '10')", "2"],
    ["GREATEST(DATE '2024-01-02', DATE '2023-05-06')", "2024-01-02"],
    ["INTERVAL(23, 1, 15, 17, 30, 44, 200)", "3"],
    ["INTERVAL(10, 1, 10, 100, 1000)", "2"],
    ["INTERVAL(22, 23, 30, 44, 200)", "0"],
    ["INTERVAL(NULL, 1, 2)", "-1"],
    ["INTERVAL(1.5, 1, 2)", "1"],
    ["STRCMP('text', 'text2')", "-1"],
    ["STRCMP('text2', 'text')", "1"],
    ["STRCMP('text', 'TEXT')", "0"],
    ["STRCMP(NULL, 'a')", null],
  ]);
});

test("string search functions compare under the collation, SUBSTRING_INDEX exactly", opts,
  () => {
    check([
      ["INSTR('foobarbar', 'bar')", "4"],
      ["INSTR('xbar', 'foobar')", "0"],
      ["INSTR('FooBar', 'bar')", "4"],
      ["LOCATE('bar', 'foobarbar')", "4"],
      ["LOCATE('xbar', 'foobar')", "0"],
      ["LOCATE('bar', 'foobarbar', 5)", "7"],
      // MySQL 8: the empty string is found at pos up to length + 1 (MariaDB: 0).
      ["LOCATE('', 'abc', 4)", "4"],
      ["LOCATE('', 'abc', 5)", "0"],
      ["LOCATE('b', 'abc', 0)", "0"],
      ["LOCATE('é', 'aÉb')", "2"],
      ["POSITION('bar' IN 'foobarbar')", "4"],
      ["FIELD('Bb', 'Aa', 'Bb', 'Cc', 'Dd', 'Ff')", "2"],
      ["FIELD('Gg', 'Aa', 'Bb', 'Cc', 'Dd', 'Ff')", "0"],
      ["FIELD('bb', 'Aa', 'BB')", "2"],
      ["FIELD(2, 1, 2.0, 3)", "2"],
      ["FIELD(NULL, 'a')", "0"],
      ["FIND_IN_SET('b', 'a,b,c,d')", "2"],
      ["FIND_IN_SET('B', 'a,b,c,d')", "2"],
      ["FIND_IN_SET('e', 'a,b,c,d')", "0"],
      ["FIND_IN_SET('a,b', 'a,b')", "0"],
      ["FIND_IN_SET('', '')", "0"],
      ["FIND_IN_SET(NULL, 'a')", null],
      ["SUBSTRING_INDEX('www.mysql.com', '.', 2)", "www.mysql"],
      ["SUBSTRING_INDEX('www.mysql.com', '.', -2)", "mysql.com"],
      ["SUBSTRING_INDEX('www.mysql.com', '.', 0)", ""],
      ["SUBSTRING_INDEX('www.mysql.com', '.', 10)", "www.mysql.com"],
      ["SUBSTRING_INDEX('aXbxc', 'x', 1)", "aXb"],
      ["MID('Quadratically', 5, 6)", "ratica"],
      ["SUBSTR('Sakila', -3)", "ila"],
      ["LCASE('QUADRATICALLY')", "quadratically"],
      ["UCASE('hej')", "HEJ"],
      ["OCTET_LENGTH('é')", "2"],
      ["BIT_LENGTH('text')", "32"],
      ["CHARACTER_LENGTH('é')", "1"],
    ]);
  });

test("string building functions pad, repeat and insert by characters", opts, () => {
  check([
    ["LPAD('hi', 4, '??')", "??hi"],
    ["LPAD('hi', 1, '??')", "h"],
    ["LPAD('hi', 5, 'ab')", "abahi"],
    ["RPAD('hi', 5, '?')", "hi???"],
    ["RPAD('hi', 1, '?')", "h"],
    ["RPAD('hé', 5, 'xy')", "héxyx"],
    ["LPAD('a', 3, '')", null],
    ["LPAD('a', -1, 'x')", null],
    ["REPEAT('MySQL', 3)", "MySQLMySQLMySQL"],
    ["REPEAT('a', 0)", ""],
    ["REPEAT(NULL, 3)", null],
    ["REVERSE('abc')", "cba"],
    ["REVERSE('añb')", "bña"],
    ["CONCAT('[', SPACE(6), ']')", "[      ]"],
    ["SPACE(-1)", ""],
    ["INSERT('Quadratic', 3, 4, 'What')", "QuWhattic"],
    ["INSERT('Quadratic', -1, 4, 'What')", "Quadratic"],
    ["INSERT('Quadratic', 3, 100, 'What')", "QuWhat"],
    ["ELT(1, 'Aa', 'Bb', 'Cc', 'Dd')", "Aa"],
    ["ELT(4, 'Aa', 'Bb', 'Cc', 'Dd')", "Dd"],
    ["ELT(5, 'Aa', 'Bb')", null],
    ["MAKE_SET(1, 'a', 'b', 'c')", "a"],
    ["MAKE_SET(1 | 4, 'hello', 'nice', 'world')", "hello,world"],
    ["MAKE_SET(1 | 4, 'hello', 'nice', NULL, 'world')", "hello"],
    ["MAKE_SET(0, 'a', 'b', 'c')", ""],
    ["EXPORT_SET(5, 'Y', 'N', ',', 4)", "Y,N,Y,N"],
    ["EXPORT_SET(6, '1', '0', ',', 10)", "0,1,1,0,0,0,0,0,0,0"],
    ["QUOTE('Don''t!')", "'Don\\'t!'"],
    ["QUOTE(NULL)", "NULL"],
    ["QUOTE('a\\\\b')", "'a\\\\b'"],
    ["FORMAT(12332.123456, 4)", "12,332.1235"],
    ["FORMAT(12332.1, 4)", "12,332.1000"],
    ["FORMAT(12332.2, 0)", "12,332"],
    ["FORMAT(-1234567.891, 2)", "-1,234,567.89"],
    ["FORMAT(1234.5e0, 0)", "1,234"],
    ["FORMAT(0.5, 0)", "1"],
    ["FORMAT(12332.2, 2, 'de_DE')", "12.332,20"],
    ["FORMAT(NULL, 2)", null],
  ]);
});

test("a result past max_allowed_packet is NULL with warning 1301, never built", opts, () => {
  check([
    ["REPEAT('ab', 600)", null, "packetOverflow"],
    ["REPEAT('ab', 1000000000000)", null, "packetOverflow"],
    ["LPAD('a', 2000, 'b')", null, "packetOverflow"],
    ["SPACE(1025)", null, "packetOverflow"],
    ["LENGTH(REPEAT('ab', 512))", "1024"],
  ]);
});

test("encodings and digests match MySQL's bytes (UTF-8 of the text)", opts, () => {
  check([
    ["ASCII('2')", "50"],
    ["ASCII(2)", "50"],
    ["ASCII('dx')", "100"],
    ["ASCII('')", "0"],
    ["ORD('2')", "50"],
    ["ORD('é')", "50089"],
    ["ORD('€')", "14844588"],
    ["HEX(255)", "FF"],
    ["HEX('abc')", "616263"],
    ["HEX(-1)", "FFFFFFFFFFFFFFFF"],
    ["HEX(10.5)", "B"],
    ["HEX('é')", "C3A9"],
    ["HEX(NULL)", null],
    ["UNHEX('4D7953514C')", "MySQL"],
    ["UNHEX('414')", "\x04\x14"],
    ["UNHEX('GG')", null],
    ["BIN(12)", "1100"],
    ["BIN(-1)", "1".repeat(64)],
    ["OCT(12)", "14"],
    ["CONV('a', 16, 2)", "1010"],
    ["CONV('6E', 18, 8)", "172"],
    ["CONV(-17, 10, -18)", "-H"],
    ["CONV('zz', 16, 10)", "0"],
    ["CONV('10', 1, 10)", null],
    ["CONV('-1', 10, 16)", "FFFFFFFFFFFFFFFF"],
    ["CONV('18446744073709551616', 10, 10)", "18446744073709551615"],
    ["MD5('testing')", "ae2b1fca515949e5d54fb22b8ed95575"],
    ["SHA1('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["SHA('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["SHA2('abc', 224)", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"],
    ["SHA2('abc', 256)", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["SHA2('abc', 384)", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed" +
      "8086072ba1e7cc2358baeca134c825a7"],
    ["SHA2('abc', 512)", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"],
    ["SHA2('abc', 0)", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["SHA2('abc', 7)", null, "wrongParametersToFunction"],
    ["CRC32('MySQL')", "3259397556"],
    ["CRC32('mysql')", "2501908538"],
    ["TO_BASE64('abc')", "YWJj"],
    ["TO_BASE64(REPEAT('a', 60))", `${"YWFh".repeat(19)}\nYWFh`],
    ["FROM_BASE64(TO_BASE64('abc'))", "abc"],
    ["FROM_BASE64('YWI')", null],
    ["FROM_BASE64('YW Jj')", "abc"],
    ["CHAR(77, 121, 83, 81, '76')", "MySQL"],
    ["CHAR(256 + 65)", "\x01A"],
    ["CHAR(NULL, 65)", "A"],
    ["CHAR(226, 130, 172 USING utf8mb4)", "€"],
    ["SOUNDEX('Hello')", "H400"],
    ["SOUNDEX('Quadratically')", "Q36324"],
    ["SOUNDEX('Ashcraft')", "A2613"],
    ["SOUNDEX('')", ""],
  ]);
});

test("bytes that are not UTF-8 are refused with 1235, as x'…' literals are", opts, () => {
  for (const sql of ["UNHEX('FF')", "CHAR(255)", "FROM_BASE64('/w==')"]) {
    assert.throws(() => evaluate(build(sql), context([])), (e: unknown) =>
      e instanceof ExprError && exprErrorOf(e).errno === 1235, sql);
  }
});

test("REGEXP and the REGEXP_ functions use ICU syntax, case-insensitive by default", opts,
  () => {
    check([
      ["'abc' REGEXP 'b'", "1"],
      ["'abc' REGEXP 'B'", "1"],
      ["'abc' REGEXP BINARY 'B'", "0"],
      ["'abc' COLLATE utf8mb4_bin REGEXP 'B'", "0"],
      ["'abc' NOT REGEXP 'x'", "1"],
      ["'abc' RLIKE '^a.c$'", "1"],
      ["NULL REGEXP 'a'", null],
      ["'Michael!' REGEXP '.*'", "1"],
      ["'new*\\n*line' REGEXP 'new\\\\*.\\\\*line'", "0"],
      ["'a' REGEXP '^[a-d]'", "1"],
      ["REGEXP_LIKE('CamelCase', 'CAMELCASE')", "1"],
      ["REGEXP_LIKE('CamelCase', 'CAMELCASE', 'c')", "0"],
      ["REGEXP_LIKE('CamelCase', 'CAMELCASE', 'ci')", "1"],
      ["REGEXP_LIKE('abc', 'a[[:alpha:]]c')", "1"],
      ["REGEXP_LIKE('a1c', 'a[[:digit:]]c')", "1"],
      ["REGEXP_LIKE('a c', 'a[^[:space:]]c')", "0"],
      ["REGEXP_LIKE('fo\\nfo', '^fo$')", "0"],
      ["REGEXP_LIKE('fo\\nfo', '^fo$', 'm')", "1"],
      ["REGEXP_LIKE('a\\nb', 'a.b')", "0"],
      ["REGEXP_LIKE('a\\nb', 'a.b', 'n')", "1"],
      ["REGEXP_LIKE('a+b', '\\\\Qa+b\\\\E')", "1"],
      ["REGEXP_LIKE('xab', '\\\\Aab')", "0"],
      ["REGEXP_LIKE('ab', '\\\\x{61}b')", "1"],
      ["REGEXP_LIKE('😀x', '^.x$')", "1"],
      ["REGEXP_INSTR('dog cat dog', 'dog')", "1"],
      ["REGEXP_INSTR('dog cat dog', 'dog', 2)", "9"],
      ["REGEXP_INSTR('aa aaa aaaa', 'a{2}')", "1"],
      ["REGEXP_INSTR('aa aaa aaaa', 'a{4}')", "8"],
      ["REGEXP_INSTR('dog cat dog', 'dog', 1, 2)", "9"],
      ["REGEXP_INSTR('dog cat dog', 'dog', 1, 1, 1)", "4"],
      ["REGEXP_INSTR('dog cat dog', 'dog', 1, 3)", "0"],
      ["REGEXP_INSTR('añb', 'b')", "3"],
      ["REGEXP_INSTR('😀b', 'b')", "2"],
      ["REGEXP_SUBSTR('abc def ghi', '[a-z]+')", "abc"],
      ["REGEXP_SUBSTR('abc def ghi', '[a-z]+', 1, 3)", "ghi"],
      ["REGEXP_SUBSTR('abc def ghi', '[a-z]+', 5)", "def"],
      ["REGEXP_SUBSTR('abc', 'x')", null],
      ["REGEXP_REPLACE('a b c', 'b', 'X')", "a X c"],
      ["REGEXP_REPLACE('abc def ghi', '[a-z]+', 'X', 1, 3)", "abc def X"],
      ["REGEXP_REPLACE('abc def ghi', '[a-z]+', 'X', 5)", "abc X X"],
      ["REGEXP_REPLACE('abc', '(b)', '[$1]')", "a[b]c"],
      ["REGEXP_REPLACE('abc', 'b', '\\\\$1')", "a$1c"],
      ["REGEXP_REPLACE('aAa', 'a', 'x')", "xxx"],
      ["REGEXP_REPLACE('aAa', 'a', 'x', 1, 0, 'c')", "xAx"],
      ["REGEXP_REPLACE('abc', 'x*', '-')", "-a-b-c-"],
      ["REGEXP_REPLACE(NULL, 'a', 'x')", null],
    ]);
  });

/** The MySQL error number of evaluating `sql`, or of building it. */
function errnoOf(sql: string): number | undefined {
  try {
    evaluate(build(sql), context([]));
    return undefined;
  } catch (error: unknown) {
    if (error instanceof ExprError) return exprErrorOf(error).errno;
    if (error instanceof MySqlError) return error.errno;
    throw error;
  }
}

test("bad patterns and arguments give MySQL's regexp errors", opts, () => {
  const cases: readonly (readonly [string, number])[] = [
    ["'a' REGEXP ''", 3685],
    ["REGEXP_LIKE('a', '[[:<:]]a')", 3685],
    ["REGEXP_LIKE('a', '**')", 3688],
    ["REGEXP_LIKE('a', '\\\\')", 3689],
    ["REGEXP_LIKE('a', '\\\\y')", 3689],
    ["REGEXP_LIKE('a', '(?>a)')", 3690],
    ["REGEXP_LIKE('a', 'a++')", 3690],
    ["REGEXP_LIKE('a', '(')", 3691],
    ["REGEXP_LIKE('a', 'a{}')", 3692],
    ["REGEXP_LIKE('a', 'a{2,1}')", 3693],
    ["REGEXP_LIKE('a', '\\\\1')", 3694],
    ["REGEXP_LIKE('a', 'a[')", 3696],
    ["REGEXP_SUBSTR('ab', '[b-a]')", 3697],
    ["REGEXP_LIKE('a', 'a', 'x')", 3900],
    ["REGEXP_SUBSTR('a', 'a', 0)", 3686],
    ["REGEXP_SUBSTR('a', 'a', 3)", 3686],
    ["REGEXP_REPLACE('a', '(a)', '$2')", 3686],
    ["REGEXP_INSTR('a', 'a', 1, 1, 2)", 1210],
    ["REGEXP_REPLACE(NULL, '', NULL)", 3685],
    ["LPAD('a', 2)", 1582],
    ["GREATEST(1)", 1582],
    ["REGEXP_LIKE('a')", 1582],
  ];
  for (const [sql, errno] of cases) assert.equal(errnoOf(sql), errno, sql);
  const warnings: ExprWarning[] = [];
  assert.throws(() => evaluate(build("REGEXP_LIKE('a', '   **')"), context(warnings)),
    (e: unknown) => e instanceof ExprError &&
      exprErrorOf(e).message === "Syntax error in regular expression on line 1, character 5.");
});

test("math functions compute in DOUBLE with MySQL's NULLs, warnings and 1690", opts, () => {
  check([
    ["SQRT(4)", "2"],
    ["SQRT(20)", "4.47213595499958"],
    ["SQRT(-16)", null],
    ["POW(2, 2)", "4"],
    ["POW(2, -2)", "0.25"],
    ["POWER(2, 0.5)", "1.4142135623730951"],
    ["EXP(2)", "7.38905609893065"],
    ["EXP(-2)", "0.1353352832366127"],
    ["EXP(0)", "1"],
    ["LN(2)", "0.6931471805599453"],
    // MySQL 8 warns 3020 (MariaDB: 1365).
    ["LN(-2)", null, "invalidLogarithmArgument"],
    ["LN(0)", null, "invalidLogarithmArgument"],
    ["LOG(2)", "0.6931471805599453"],
    ["LOG(2, 65536)", "16"],
    ["LOG(10, 100)", "2"],
    ["LOG(1, 100)", null, "divisionByZero"],
    ["LOG(-2)", null, "invalidLogarithmArgument"],
    ["LOG2(65536)", "16"],
    ["LOG2(-100)", null, "invalidLogarithmArgument"],
    ["LOG10(2)", "0.3010299956639812"],
    ["LOG10(100)", "2"],
    ["LOG10(-100)", null, "invalidLogarithmArgument"],
    ["SIGN(-32)", "-1"],
    ["SIGN(0)", "0"],
    ["SIGN(234)", "1"],
    ["SIGN(-0.5)", "-1"],
    ["SIGN('-2.5e1')", "-1"],
    ["SIN(PI())", "1.2246467991473532e-16"],
    ["COS(PI())", "-1"],
    ["TAN(PI() + 1)", "1.5574077246549018"],
    ["ASIN(0.2)", "0.2013579207903308"],
    ["ASIN('foo')", "0", "truncatedWrongValue"],
    ["ASIN(2)", null],
    ["ACOS(1.0001)", null],
    ["ACOS(0)", "1.5707963267948966"],
    ["ATAN(2)", "1.1071487177940904"],
    ["ATAN(-2)", "-1.1071487177940904"],
    ["ATAN(-2, 2)", "-0.7853981633974483"],
    ["ATAN2(PI(), 0)", "1.5707963267948966"],
    ["COT(12)", "-1.5726734063976893"],
    ["DEGREES(PI())", "180"],
    ["DEGREES(PI() / 2)", "90"],
    ["RADIANS(90)", "1.5707963267948966"],
    ["TRUNCATE(1.223, 1)", "1.2"],
    ["TRUNCATE(1.999, 1)", "1.9"],
    ["TRUNCATE(1.999, 0)", "1"],
    ["TRUNCATE(-1.999, 1)", "-1.9"],
    ["TRUNCATE(122, -2)", "100"],
    ["TRUNCATE(10.28 * 100, 0)", "1028"],
    ["TRUNCATE(1.999e0, 1)", "1.9"],
    ["TRUNCATE(-1.999e0, 1)", "-1.9"],
    ["TRUNCATE(1234.5678e0, -2)", "1200"],
    ["TRUNCATE(1234.5678, -2)", "1200"],
    ["BIT_COUNT(64)", "1"],
    ["BIT_COUNT(-1)", "64"],
    ["BIT_COUNT('7')", "3"],
    ["CEILING(1.23)", "2"],
    ["MOD(234, 10)", "4"],
    ["MOD(29, 9)", "2"],
    ["MOD(34.5, 3)", "1.5"],
  ]);
  for (const sql of ["EXP(1000)", "POW(10, 400)", "POW(-8, 1/3)", "COT(0)"]) {
    assert.equal(errnoOf(sql), 1690, sql);
  }
});

test("RAND(n) repeats MySQL's own sequence; RAND() draws from the session", opts, () => {
  check([
    ["RAND(3)", "0.9057697559760601"],
    ["RAND(0)", "0.15522042769493574"],
    ["RAND(-1)", "0.9050373219931845"],
    ["RAND(18446744073709551615)", "0.9050373219931845"],
  ]);
  // A constant seed continues row after row within a statement (MySQL's RAND(3) sequence).
  const functions = new SessionFunctionState({ node, seed: 5 });
  const statement = {};
  const expr = build("RAND(3)");
  const values = [0, 1, 2].map(() => toText(evaluate(expr, context([], functions, statement))));
  assert.deepEqual(values, ["0.9057697559760601", "0.37307905813034536", "0.14808605345719125"]);
  const unseeded = build("RAND()");
  const draws = new Set([0, 1, 2, 3].map(() => toText(evaluate(unseeded,
    context([], functions, statement)))));
  assert.equal(draws.size, 4, "RAND() moves on at each call");
});

test("information functions: INET, IS_UUID, UUID, CHARSET, COERCIBILITY, ROW_COUNT", opts,
  () => {
    check([
      ["INET_ATON('10.0.5.9')", "167773449"],
      ["INET_ATON('127.1')", "2130706433"],
      ["INET_ATON('1.2.3.')", null, "wrongValueForFunction"],
      ["INET_ATON('256.1.1.1')", null, "wrongValueForFunction"],
      ["INET_NTOA(167773449)", "10.0.5.9"],
      ["INET_NTOA(-1)", null],
      ["IS_IPV4('10.0.5.9')", "1"],
      ["IS_IPV4('10.0.5.256')", "0"],
      ["IS_IPV4('1.2.3')", "0"],
      ["IS_IPV6('10.0.5.9')", "0"],
      ["IS_IPV6('::1')", "1"],
      ["IS_IPV6('fdfe::5a55:caff:fefa:9089')", "1"],
      ["IS_IPV6('1::2::3')", "0"],
      ["IS_IPV6('::ffff:1.2.3.4')", "1"],
      ["IS_UUID('6ccd780c-baba-1026-9564-5b8c656024db')", "1"],
      ["IS_UUID('{6ccd780c-baba-1026-9564-5b8c656024db}')", "1"],
      ["IS_UUID('6ccd780cbaba102695645b8c656024db')", "1"],
      ["IS_UUID('6ccd780c-baba-1026-9564-5b8c656024dx')", "0"],
      ["IS_UUID(NULL)", null],
      ["IS_UUID(UUID())", "1"],
      ["CHARSET('abc')", "utf8mb4"],
      ["CHARSET(1)", "binary"],
      ["COLLATION('abc')", "utf8mb4_general_ci"],
      ["COERCIBILITY('abc')", "4"],
      ["COERCIBILITY(1)", "5"],
      ["COERCIBILITY(NULL)", "6"],
      ["COERCIBILITY(USER())", "3"],
      ["BENCHMARK(10, 1 + 1)", "0"],
      ["BENCHMARK(-1, 1)", null, "wrongValueForFunction"],
      ["FOUND_ROWS()", "0"],
      ["ROW_COUNT()", "-1"],
      ["SLEEP(0)", "0"],
    ]);
    const a = run("UUID()").text ?? "";
    const b = run("UUID()").text ?? "";
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, b, "two UUIDs differ");
    const short1 = BigInt(run("UUID_SHORT()").text ?? "0");
    assert.equal(BigInt(run("UUID_SHORT()").text ?? "0"), short1 + 1n);
    assert.equal(short1 >> 56n, 1n, "server id in the top byte");
  });

test("FOUND_ROWS, ROW_COUNT and SLEEP read and write the session's state", opts, () => {
  const functions = new SessionFunctionState({ node, seed: 9 });
  functions.finishStatement({ rows: 3, changed: null });
  assert.equal(toText(evaluate(build("FOUND_ROWS()"), context([], functions))), "3");
  assert.equal(toText(evaluate(build("ROW_COUNT()"), context([], functions))), "-1");
  functions.finishStatement({ rows: null, changed: 2n });
  assert.equal(toText(evaluate(build("FOUND_ROWS()"), context([], functions))), "3");
  assert.equal(toText(evaluate(build("ROW_COUNT()"), context([], functions))), "2");
  evaluate(build("SLEEP(1.5) + SLEEP(NULL) + SLEEP(-1)"), context([], functions));
  assert.equal(functions.takeSleepMs(), 1500);
  assert.equal(functions.takeSleepMs(), 0);
});

test("result types: lengths, codes and nullability as MySQL reports them", opts, () => {
  const cases: readonly (readonly [string, number, boolean, number?])[] = [
    ["GREATEST(1, 2)", TypeCode.LongLong, false],
    ["GREATEST(1, 2.5)", TypeCode.NewDecimal, false],
    ["GREATEST('a', 'bc')", TypeCode.VarString, false],
    ["GREATEST(1, 2e0)", TypeCode.Double, false],
    ["INSTR('a', 'b')", TypeCode.LongLong, false],
    ["LPAD('a', 3, 'x')", TypeCode.VarString, true, 12],
    ["MD5('a')", TypeCode.VarString, false, 128],
    ["SHA2('a', 256)", TypeCode.VarString, true],
    ["CRC32('a')", TypeCode.LongLong, false],
    ["SQRT(4)", TypeCode.Double, true],
    ["PI()", TypeCode.Double, false],
    ["SIN(1)", TypeCode.Double, false],
    ["TRUNCATE(1.234, 1)", TypeCode.NewDecimal, false],
    ["TRUNCATE(1234, -2)", TypeCode.LongLong, false],
    ["RAND()", TypeCode.Double, false],
    ["'a' REGEXP 'b'", TypeCode.LongLong, false],
    ["REGEXP_SUBSTR('a', 'b')", TypeCode.VarString, true],
    ["UUID()", TypeCode.VarString, false, 144],
    ["FOUND_ROWS()", TypeCode.LongLong, false],
  ];
  for (const [sql, code, nullable, length] of cases) {
    const type = build(sql).type;
    assert.equal(type.code, code, `${sql} code`);
    assert.equal(type.nullable, nullable, `${sql} nullable`);
    if (length !== undefined) assert.equal(type.length, length, `${sql} length`);
  }
  assert.equal(build("TRUNCATE(1.234, 1)").type.decimals, 1);
  assert.equal(build("PI()").type.decimals, 6);
  assert.equal(build("CRC32('a')").type.unsigned, true);
});
