/**
 * Information and miscellaneous functions: FOUND_ROWS, ROW_COUNT, CHARSET, COLLATION,
 * COERCIBILITY, BENCHMARK, SLEEP, UUID, UUID_SHORT, IS_UUID, INET_ATON, INET_NTOA,
 * IS_IPV4 and IS_IPV6.
 *
 * FOUND_ROWS and ROW_COUNT read what the session recorded of the previous statement;
 * UUID and UUID_SHORT draw from the SQL node's generators (session_functions.ts). SLEEP
 * cannot wait inside the synchronous evaluator: it returns 0 and records the seconds,
 * and the session waits them out once the statement has run (interruptible by KILL).
 * BENCHMARK evaluates its expression at most `benchmarkCountMax` times, so one statement
 * cannot hold the node's event loop for long. CHARSET, COLLATION and COERCIBILITY report
 * what collation_derivation.ts derives for the argument's type.
 */
import { anyNullable, bigintArg, int, text, textArg } from "./builtin_support.ts";
import { type Expr, exprText } from "./expr.ts";
import { Coercibility, charsetOfType, collationInfoOf } from "./collation_derivation.ts";
import type { Builtin } from "./functions.ts";
import { intType, stringType } from "./types.ts";
import { boolValue, toDouble } from "./value.ts";

/** The most evaluations BENCHMARK runs (MySQL runs them all; here it would stall the node). */
const benchmarkCountMax = 1_000_000;

const foundRows: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => intType({ length: 21, nullable: false }),
  run: (_call, state) => int(state.ctx.functions?.foundRows ?? 0n),
};

const rowCount: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => intType({ length: 21, nullable: false }),
  run: (_call, state) => int(state.ctx.functions?.rowCount ?? -1n),
};

/** The character set a value of `expr`'s type has (collation_derivation.ts). */
function charsetOf(expr: Expr): string {
  return charsetOfType(expr.type);
}

const charset: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => stringType(64, { nullable: false }),
  run: (call) => text(charsetOf(call.args[0]!)),
};

const collation: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => stringType(64, { nullable: false }),
  run: (call) => text(collationInfoOf(call.args[0]!.type).name),
};

/** Functions whose result MySQL calls a system constant (coercibility 3). */
const systemConstants = new Set(["user", "current_user", "database", "version", "schema",
  "session_user", "system_user"]);

/**
 * MySQL's coercibility of an expression (collation_derivation.ts): 0 explicit (COLLATE),
 * 1 none, 2 a column or cast, 3 a system constant, 4 a coercible string, 5 a number or
 * date, 6 NULL.
 */
function coercibilityOf(expr: Expr): number {
  if (expr.kind === "call" && systemConstants.has(expr.fn)) return Coercibility.SysConst;
  return collationInfoOf(expr.type).coercibility;
}

const coercibility: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => intType({ length: 1, nullable: false }),
  run: (call) => int(BigInt(coercibilityOf(call.args[0]!))),
};

/** BENCHMARK(count, expr): evaluates expr count times; 0, or NULL for a bad count. */
const benchmark: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => intType({ length: 1, nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const count = bigintArg(state, call.args[0]!);
    if (count === null) return null;
    if (count < 0n) {
      state.ctx.warn({ kind: "wrongValueForFunction", typeName: "count",
        value: count.toString(), functionName: "benchmark" });
      return null;
    }
    const runs = count > BigInt(benchmarkCountMax) ? benchmarkCountMax : Number(count);
    for (let i = 0; i < runs; i++) state.ev(call.args[1]!);
    return int(0n);
  },
};

/** SLEEP(seconds): 0; the session waits the seconds once the statement has run. */
const sleep: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => intType({ length: 1, nullable: false }),
  run: (call, state) => {
    // A NULL or negative duration sleeps not at all (MySQL warns, or fails when strict).
    const seconds = toDouble(state.ev(call.args[0]!), state.ctx.warn) ?? 0;
    if (!(seconds > 0)) return int(0n);
    state.ctx.functions?.sleep(seconds);
    return int(0n);
  },
};

const uuid: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => stringType(36, { nullable: false }),
  run: (_call, state) => {
    const ms = state.ctx.statementEpochMs ?? 0;
    const functions = state.ctx.functions;
    return text(functions === undefined ? "00000000-0000-1000-8000-000000000000"
      : functions.uuid(ms));
  },
};

const uuidShort: Builtin = {
  minArgs: 0, maxArgs: 0,
  infer: () => intType({ length: 21, unsigned: true, nullable: false }),
  run: (_call, state) => ({ kind: "uint", value: state.ctx.functions?.uuidShort() ?? 0n }),
};

/** IS_UUID(s): 32 hex digits, optionally dashed 8-4-4-4-12, optionally in braces. */
const isUuid: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intType({ length: 1, nullable: anyNullable(args) }),
  run: (call, state) => {
    const s = textArg(state, call.args[0]!);
    if (s === null) return null;
    return boolValue(/^[0-9a-f]{32}$/i.test(s) ||
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ||
      /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i.test(s));
  },
};

/**
 * INET_ATON's reading of an IPv4 address (MySQL's loop): dot-separated numbers of at most
 * 255 and at most four of them; with fewer the last fills the low bytes (`127.1` is
 * 127.0.0.1). Null when it is not one.
 */
function inetAton(s: string): bigint | null {
  let byte = 0;
  let result = 0n;
  let last = ".";
  let dots = 0;
  for (const c of s) {
    last = c;
    if (c >= "0" && c <= "9") {
      byte = byte * 10 + (c.charCodeAt(0) - 48);
      if (byte > 255) return null;
    } else if (c === ".") {
      dots++;
      result = (result << 8n) + BigInt(byte);
      byte = 0;
    } else {
      return null;
    }
  }
  if (last === "." || dots > 3) return null;
  if (dots === 1) result <<= 16n;
  if (dots === 2) result <<= 8n;
  return (result << 8n) + BigInt(byte);
}

const inetAtonFunction: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => intType({ length: 21, unsigned: true, nullable: true }),
  run: (call, state) => {
    const s = textArg(state, call.args[0]!);
    if (s === null) return null;
    const n = inetAton(s);
    if (n === null) {
      // MySQL names the argument as SQL text: `'1.2.3.'` with its quotes, or a column.
      state.ctx.warn({ kind: "wrongValueForFunction", typeName: "string",
        value: exprText(call.args[0]!), functionName: "inet_aton" });
      return null;
    }
    return { kind: "uint", value: n };
  },
};

const inetNtoa: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: () => stringType(15, { nullable: true }),
  run: (call, state) => {
    const n = bigintArg(state, call.args[0]!);
    if (n === null || n < 0n || n > 0xffffffffn) return null;
    const bytes = [24n, 16n, 8n, 0n].map((shift) => ((n >> shift) & 0xffn).toString());
    return text(bytes.join("."));
  },
};

function isIpv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address as MySQL's `str_to_ipv6` accepts it (`::`, an IPv4 tail). */
function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 39) return false;
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groupsOf = (part: string): string[] | null => (part === "" ? [] : part.split(":"));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === null || tail === null) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (i === all.length - 1 && g.includes(".")) {
      if (!isIpv4(g)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

function addressTest(test: (s: string) => boolean): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: () => intType({ length: 1, nullable: false }),
    run: (call, state) => {
      const s = textArg(state, call.args[0]!);
      return boolValue(s !== null && test(s));
    },
  };
}

/** The information and miscellaneous built-ins by name. */
export const infoBuiltins: ReadonlyArray<readonly [string, Builtin]> = [
  ["found_rows", foundRows],
  ["row_count", rowCount],
  ["charset", charset],
  ["collation", collation],
  ["coercibility", coercibility],
  ["benchmark", benchmark],
  ["sleep", sleep],
  ["uuid", uuid],
  ["uuid_short", uuidShort],
  ["is_uuid", isUuid],
  ["inet_aton", inetAtonFunction],
  ["inet_ntoa", inetNtoa],
  ["is_ipv4", addressTest(isIpv4)],
  ["is_ipv6", addressTest(isIpv6)],
];
