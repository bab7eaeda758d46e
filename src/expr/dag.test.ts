/**
 * Tests of the coprocessor DAG contract (dag.ts): every value kind and every request
 * shape round-trips through the byte codecs exactly (bigints, decimals past 65 digits,
 * tagged strings, DATE/TIMESTAMP flags, time zones, expression trees as high as the parser
 * allows); any truncation, trailing byte or out-of-range field is refused with
 * `Codec:Corrupt`; validation refuses malformed plans; `isPushable` accepts the pure
 * built-ins and refuses anything that reads the session or has side effects.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
import { buildCall, buildCast } from "./build.ts";
import {
  type DagRequest,
  type DagResponse,
  decodeDagRequest,
  decodeDagResponse,
  defaultDagContext,
  encodeDagRequest,
  encodeDagResponse,
  isPushable,
  validateDagRequest,
} from "./dag.ts";
import { type Expr, columnRef, integerLiteral, nullLiteral, stringLiteral } from "./expr.ts";
import { resolveTimeZone } from "./temporal_tz.ts";
import { doubleType, intType, stringType } from "./types.ts";
import type { Value } from "./value.ts";

const opts = { timeout: 60_000 };

/** JSON with bigints and bytes spelled out, for deep comparisons in messages. */
function show(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n`
    : v instanceof Uint8Array ? [...v] : v));
}

function call(name: string, args: readonly Expr[]): Expr {
  const built = buildCall(name, args);
  if (built.kind !== "ok") throw new Error(`cannot build ${name}: ${show(built.reason)}`);
  return built.expr;
}

function corrupt(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TesseraError, `not a TesseraError: ${String(e)}`);
    assert.equal(e.code, ErrorCode.CodecCorrupt);
    if (pattern !== undefined) assert.match(e.message, pattern);
    return true;
  });
}

const dateTimeArb = fc.record({ year: fc.integer({ min: 0, max: 9999 }),
  month: fc.integer({ min: 0, max: 12 }), day: fc.integer({ min: 0, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 59 }), microsecond: fc.integer({ min: 0, max: 999_999 }) });

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ kind: "int", value: v })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ({ kind: "uint", value: v })),
  fc.double().map((v) => ({ kind: "double", value: v })),
  // Partial sums grow past DECIMAL(65): the codec carries up to 200 digits.
  fc.tuple(fc.bigInt({ min: -(10n ** 199n) + 1n, max: 10n ** 199n - 1n }),
    fc.integer({ min: 0, max: 30 })).map(([unscaled, scale]) => ({ kind: "decimal", unscaled,
    scale })),
  fc.string({ unit: "grapheme", maxLength: 30 }).map((v) => ({ kind: "string", value: v })),
  fc.tuple(fc.string({ maxLength: 10 }), fc.oneof(
    fc.integer({ min: 0, max: 65_535 }).map((index) => ({ kind: "enum", index })),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((bits) => ({ kind: "set", bits })),
    fc.constant({ kind: "time" }), fc.constant({ kind: "json" }),
  )).map(([value, tag]) => ({ kind: "string", value, tag })),
  fc.tuple(dateTimeArb, fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }))
    .map(([value, fsp, flags]) => ({ kind: "datetime", value: { ...value }, fsp,
      ...((flags & 1) !== 0 ? { date: true } : {}), ...((flags & 2) !== 0 ? { utc: true } : {}) })),
) as fc.Arbitrary<Value>;

function response(rows: Value[][], extra: Partial<DagResponse> = {}): DagResponse {
  return { rows, handles: null, resumeKey: null, warnings: [], warningCount: 0, error: null,
    scannedKeys: rows.length, ...extra };
}

test("every value kind round-trips through a response exactly", opts, () => {
  fc.assert(fc.property(fc.array(fc.array(valueArb, { minLength: 3, maxLength: 3 }),
    { maxLength: 8 }), fc.option(fc.uint8Array({ maxLength: 20 })), (rows, resumeKey) => {
    const handles = rows.map((_, i) => BigInt(i) * -(2n ** 60n));
    const sent = response(rows, { handles, resumeKey,
      warnings: [{ kind: "divisionByZero" },
        { kind: "truncatedWrongValue", typeName: "DOUBLE", value: "x'\"\\" }],
      warningCount: 70, scannedKeys: 12_345 });
    assert.deepEqual(decodeDagResponse(encodeDagResponse(sent)), sent);
  }), { seed: 7101, numRuns: 300 });
});

test("a response carries an evaluation error and no rows", opts, () => {
  const sent = response([], { error: { kind: "outOfRange", typeName: "BIGINT",
    exprText: "(`a` + 1)" } });
  assert.deepEqual(decodeDagResponse(encodeDagResponse(sent)), sent);
  const json = response([], { error: { kind: "invalidJsonText", argument: 1,
    functionName: "json_extract", message: "Missing a name for object member.", position: 1 } });
  assert.deepEqual(decodeDagResponse(encodeDagResponse(json)), json);
});

const int = intType({ length: 11 });
const a = columnRef(0, "a", int);
const s = columnRef(1, "s", stringType(20));
const d = columnRef(2, "d", doubleType());

/** A chain `a + 1 + 1 …` `height` calls high. */
function chain(height: number): Expr {
  let e: Expr = a;
  for (let i = 0; i < height; i++) e = call("+", [e, integerLiteral("1")]);
  return e;
}

const tableScan: DagRequest["scan"] = {
  kind: "table", tableId: 42, handleSlot: 0, desc: false,
  columns: [
    { id: 1, type: { kind: "int", unsigned: false }, originDefault: null },
    { id: 2, type: { kind: "string" }, originDefault: { kind: "string", value: "dflt" } },
    { id: 3, type: { kind: "double" }, originDefault: { kind: "double", value: -0 } },
    { id: 4, type: { kind: "decimal", scale: 2 }, originDefault: null },
    { id: 5, type: { kind: "date" }, originDefault: null },
    { id: 6, type: { kind: "datetime", fsp: 3 }, originDefault: null },
    { id: 7, type: { kind: "timestamp", fsp: 6 }, originDefault: null },
    { id: 8, type: { kind: "time" }, originDefault: null },
    { id: 9, type: { kind: "json" }, originDefault: null },
    { id: 10, type: { kind: "enum", members: ["x", "y", "ü"] }, originDefault: null },
    { id: 11, type: { kind: "set", members: ["a", "b"] }, originDefault: null },
    { id: 12, type: { kind: "int", unsigned: true }, originDefault: { kind: "uint",
      value: 2n ** 64n - 1n } },
  ],
};

const base: DagRequest = { scan: tableScan, selection: [], aggregation: null, topN: null,
  limit: null, context: defaultDagContext, pagingKeys: 1024 };

const requests: readonly [string, DagRequest][] = [
  ["a bare table scan", base],
  ["a descending scan with a selection and a limit", { ...base,
    scan: { ...tableScan, desc: true, handleSlot: null },
    selection: [call(">", [a, integerLiteral("5")]), call("like", [s, stringLiteral("a%")]),
      call("isnull", [nullLiteral()])], limit: 10 }],
  ["an index scan", { ...base, scan: { kind: "index", tableId: 7, indexId: 3, keyColumns: 2,
    handleSlot: 2, desc: true, columns: [
      { id: 1, type: { kind: "decimal", scale: 4 }, originDefault: null },
      { id: 0, type: { kind: "timestamp", fsp: 2 }, originDefault: null },
      { id: 0, type: { kind: "int", unsigned: false }, originDefault: null }] } }],
  ["a partial aggregation", { ...base, aggregation: {
    groupBy: [s, call("floor", [d])],
    aggregates: [{ fn: "count", args: [] }, { fn: "count", args: [a, s] },
      { fn: "sum", args: [a] }, { fn: "min", args: [s] }, { fn: "max", args: [d] },
      { fn: "first_row", args: [a] }] } }],
  ["a TopN in a named time zone", { ...base, topN: { count: 5, order: [
    { expr: s, desc: true }, { expr: call("neg", [a]), desc: false }] },
  context: { timeZone: resolveTimeZone("Europe/Berlin")! } }],
  ["an offset time zone and a cast", { ...base,
    selection: [(() => {
      const c = buildCast(s, { kind: "decimal", precision: 10, scale: 2 });
      assert.equal(c.kind, "ok");
      return c.kind === "ok" ? c.expr : a;
    })()],
    context: { timeZone: resolveTimeZone("+05:30")!, maxAllowedPacket: 1024 },
    pagingKeys: limits.coprocessorPagingKeysMax }],
  ["an expression as high as the parser allows", { ...base,
    selection: [chain(limits.sqlAstHeightMax - 1)] }],
  ["a wide IN list", { ...base, selection: [call("in", [a,
    ...Array.from({ length: 5000 }, (_, i) => integerLiteral(String(i)))])] }],
];

/** Height of an expression (iteratively). */
function height(e: Expr | undefined): number {
  let most = 0;
  const stack: [Expr, number][] = e === undefined ? [] : [[e, 1]];
  while (stack.length > 0) {
    const [x, h] = stack.pop()!;
    most = Math.max(most, h);
    if (x.kind === "call") for (const arg of x.args) stack.push([arg, h + 1]);
  }
  return most;
}

for (const [name, request] of requests) {
  test(`requests round-trip: ${name}`, opts, () => {
    const bytes = encodeDagRequest(request);
    const decoded = decodeDagRequest(bytes);
    assert.deepEqual(encodeDagRequest(decoded), bytes);
    // node:assert compares recursively: the 2000-high tree is checked by its encoding.
    assert.equal(height(decoded.selection[0]), height(request.selection[0]));
    if (height(request.selection[0]) < 100) assert.deepEqual(decoded, request);
  });
}

test("every cut of an encoded request or response, and any trailing byte, is refused", opts,
  () => {
    for (const [, request] of requests.slice(0, 5)) {
      const bytes = encodeDagRequest(request);
      for (let cut = 0; cut < bytes.length; cut++) {
        corrupt(() => decodeDagRequest(bytes.slice(0, cut)));
      }
      corrupt(() => decodeDagRequest(Uint8Array.of(...bytes, 0)), /after the end/);
    }
    const out = encodeDagResponse(response([[{ kind: "string", value: "ab" }, null]],
      { handles: [1n], resumeKey: Uint8Array.of(9), warnings: [{ kind: "divisionByZero" }],
        warningCount: 1 }));
    for (let cut = 0; cut < out.length; cut++) corrupt(() => decodeDagResponse(out.slice(0, cut)));
    corrupt(() => decodeDagResponse(Uint8Array.of(...out, 0)), /after the end/);
  });

test("malformed fields are refused with what is wrong", opts, () => {
  const bytes = encodeDagRequest(base);
  corrupt(() => decodeDagRequest(Uint8Array.of(0x00, ...bytes.subarray(1))), /not a DAG request/);
  corrupt(() => decodeDagRequest(Uint8Array.of(bytes[0]!, 9, ...bytes.subarray(2))),
    /version/);
  corrupt(() => decodeDagResponse(bytes), /not a DAG response/);
  // A response whose row count is larger than its bytes allocates nothing.
  corrupt(() => decodeDagResponse(Uint8Array.of(0xdb, 1, 0xff, 0xff, 0xff, 0x7f, 1)),
    /more than the bytes left/);
  // A bad value tag, a bad datetime, a decimal that is not digits.
  const one = (v: Value): Uint8Array => encodeDagResponse(response([[v]]));
  const tagAt = one(null).indexOf(0, 4);
  const badTag = one(null);
  badTag[tagAt] = 77;
  corrupt(() => decodeDagResponse(badTag), /unknown value tag 77/);
  const dt = one({ kind: "datetime", fsp: 0, value: { year: 2020, month: 1, day: 1, hour: 0,
    minute: 0, second: 0, microsecond: 0 } });
  dt[7] = 13; // the month: magic, version, row count, width, tag, year (2 bytes), month
  corrupt(() => decodeDagResponse(dt), /bad datetime/);
  const dec = one({ kind: "decimal", unscaled: 15n, scale: 1 });
  dec[7] = 0x78; // 'x' in place of '1': … tag, scale, length, digits
  corrupt(() => decodeDagResponse(dec), /bad decimal/);
  // An unknown time zone.
  const zoned = encodeDagRequest({ ...base, context: { timeZone: resolveTimeZone("+01:00")! } });
  const at = Buffer.from(zoned).indexOf("+01:00");
  zoned.set(Buffer.from("Nowher"), at);
  corrupt(() => decodeDagRequest(zoned), /unknown time zone Nowher/);
});

test("validation refuses plans the executor cannot run", opts, () => {
  const now = call("now", []);
  const cases: readonly [string, DagRequest, RegExp][] = [
    ["handle slot out of range", { ...base, scan: { ...tableScan, handleSlot: 99 } },
      /handle slot/],
    ["handle slot on a string column", { ...base, scan: { ...tableScan, handleSlot: 1 } },
      /not an integer/],
    ["a string from an index key", { ...base, scan: { kind: "index", tableId: 1, indexId: 1,
      keyColumns: 1, handleSlot: null, desc: false,
      columns: [{ id: 0, type: { kind: "string" }, originDefault: null }] } }, /not kept/],
    ["an index column past the key", { ...base, scan: { kind: "index", tableId: 1, indexId: 1,
      keyColumns: 1, handleSlot: null, desc: false,
      columns: [{ id: 1, type: { kind: "double" }, originDefault: null }] } }, /key position/],
    ["a column past the row", { ...base, selection: [columnRef(12, "x", int)] },
      /reads column 12 of 12/],
    ["NOW()", { ...base, selection: [call("=", [columnRef(5, "d", now.type), now])] },
      /session/],
    ["an unknown function", { ...base, selection: [{ kind: "call", fn: "no_such",
      args: [], type: int }] }, /unknown no_such/],
    ["a wrong argument count", { ...base, selection: [{ kind: "call", fn: "abs",
      args: [a, a], type: int }] }, /2 arguments/],
    ["TopN and limit together", { ...base, limit: 1, topN: { count: 1,
      order: [{ expr: a, desc: false }] } }, /more than one/],
    ["aggregation and limit together", { ...base, limit: 1,
      aggregation: { groupBy: [], aggregates: [] } }, /more than one/],
    ["SUM of two arguments", { ...base, aggregation: { groupBy: [],
      aggregates: [{ fn: "sum", args: [a, a] }] } }, /2 arguments/],
    ["a TopN past its limit", { ...base, topN: { count: limits.coprocessorTopNRowsMax + 1,
      order: [{ expr: a, desc: false }] } }, /TopN count/],
    ["a TopN without keys", { ...base, topN: { count: 1, order: [] } }, /without order/],
    ["no paging keys", { ...base, pagingKeys: 0 }, /paging keys 0/],
    ["max_allowed_packet 0", { ...base, context: { ...base.context, maxAllowedPacket: 0 } },
      /max_allowed_packet 0/],
    ["too many paging keys", { ...base, pagingKeys: limits.coprocessorPagingKeysMax + 1 },
      /paging keys/],
    ["an expression too high", { ...base, selection: [chain(limits.sqlAstHeightMax)] },
      /deeper/],
  ];
  for (const [name, request, pattern] of cases) {
    assert.throws(() => validateDagRequest(request), pattern, name);
    corrupt(() => encodeDagRequest(request), pattern);
  }
});

test("isPushable accepts pure built-ins and refuses the session's", opts, () => {
  const ts = columnRef(0, "ts", { ...int, kind: "datetime", code: 0x07 });
  const cases: readonly [string, Expr, boolean][] = [
    ["a column", a, true],
    ["arithmetic and comparison", call("<", [call("*", [a, integerLiteral("2")]), d]), true],
    ["string functions", call("concat", [call("upper", [s]), call("substring",
      [s, integerLiteral("1"), integerLiteral("2")])]), true],
    ["CASE and COALESCE", call("coalesce", [call("case", [call("=", [a, integerLiteral("1")]),
      s, stringLiteral("z")]), s]), true],
    ["JSON_EXTRACT", call("json_extract", [s, stringLiteral("$.a")]), true],
    ["UNIX_TIMESTAMP(col)", call("unix_timestamp", [ts]), true],
    ["FROM_UNIXTIME", call("from_unixtime", [a]), true],
    ["CONVERT_TZ", call("convert_tz", [ts, stringLiteral("+00:00"),
      stringLiteral("+01:00")]), true],
    ["NOW()", call("now", []), false],
    ["CURDATE() inside a comparison", call("<", [ts, call("curdate", [])]), false],
    ["UNIX_TIMESTAMP()", call("unix_timestamp", []), false],
    ["UTC_TIMESTAMP()", call("utc_timestamp", []), false],
    ["DATABASE()", call("database", []), false],
    ["USER()", call("user", []), false],
    ["CONNECTION_ID()", call("connection_id", []), false],
    ["LAST_INSERT_ID()", call("last_insert_id", []), false],
    ["VERSION()", call("version", []), false],
    ["a user variable assignment", { kind: "call", fn: "setvar",
      args: [stringLiteral("v"), a], type: int }, false],
    ["RAND()", { kind: "call", fn: "rand", args: [], type: doubleType() }, false],
    ["UUID()", { kind: "call", fn: "uuid", args: [], type: stringType(36) }, false],
    ["SLEEP(1)", { kind: "call", fn: "sleep", args: [integerLiteral("1")], type: int }, false],
    ["GET_LOCK", { kind: "call", fn: "get_lock", args: [s, a], type: int }, false],
    ["FOUND_ROWS()", { kind: "call", fn: "found_rows", args: [], type: int }, false],
    ["ROW_COUNT()", { kind: "call", fn: "row_count", args: [], type: int }, false],
    ["SYSDATE()", { kind: "call", fn: "sysdate", args: [], type: int }, false],
    ["BENCHMARK", { kind: "call", fn: "benchmark", args: [a, a], type: int }, false],
    ["a function the evaluator lacks", { kind: "call", fn: "no_such_fn", args: [], type: int },
      false],
  ];
  for (const [name, expr, want] of cases) assert.equal(isPushable(expr), want, name);
});

test("mutated encodings decode to a valid message or fail with Codec:Corrupt only", opts,
  () => {
    const encoded = [...requests.slice(0, 6).map(([, r]) => encodeDagRequest(r))];
    const responseBytes = encodeDagResponse(response([[{ kind: "decimal", unscaled: -15n,
      scale: 1 }, { kind: "string", value: "x", tag: { kind: "set", bits: 5n } }]],
    { handles: [3n], resumeKey: Uint8Array.of(1), warnings: [{ kind: "divisionByZero" }],
      warningCount: 2, error: { kind: "invalidJsonPath", position: 3 } }));
    fc.assert(fc.property(fc.nat(encoded.length), fc.array(fc.tuple(fc.nat(), fc.nat(255)),
      { minLength: 1, maxLength: 4 }), (which, edits) => {
      const original = which === encoded.length ? responseBytes : encoded[which]!;
      const bytes = original.slice();
      for (const [at, b] of edits) bytes[at % bytes.length] = b;
      try {
        if (which === encoded.length) {
          decodeDagResponse(bytes);
        } else {
          // Whatever decodes is valid: it encodes again and decodes to the same request.
          const decoded = decodeDagRequest(bytes);
          assert.equal(show(decodeDagRequest(encodeDagRequest(decoded))), show(decoded));
        }
      } catch (e: unknown) {
        assert.ok(e instanceof TesseraError && e.code === ErrorCode.CodecCorrupt,
          `unexpected ${String(e)}`);
      }
    }), { seed: 7102, numRuns: 3000 });
  });
