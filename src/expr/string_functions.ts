/**
 * MySQL's string functions beyond the basic ones in functions.ts: searching (INSTR,
 * LOCATE, FIND_IN_SET, FIELD, SUBSTRING_INDEX), building (LPAD, RPAD, REPEAT, SPACE,
 * INSERT, REVERSE, ELT, MAKE_SET, EXPORT_SET, QUOTE, FORMAT), encodings (HEX, UNHEX, BIN,
 * OCT, CONV, TO_BASE64, FROM_BASE64, CHAR, ASCII, ORD, SOUNDEX, BIT_LENGTH) and digests
 * (MD5, SHA1, SHA2, CRC32).
 *
 * MySQL's rules kept here: a NULL argument gives NULL (QUOTE(NULL) is the text `NULL`,
 * FIELD(NULL, …) is 0, MAKE_SET and EXPORT_SET skip NULL strings); positions and lengths
 * count characters, LENGTH-like functions UTF-8 bytes; LOCATE, INSTR, FIELD and
 * FIND_IN_SET compare under the collation (case-insensitive by default) while
 * SUBSTRING_INDEX and REPLACE match exactly; a result longer than `max_allowed_packet`
 * is NULL with warning 1301, checked before it is built. Functions that produce bytes
 * (UNHEX, FROM_BASE64, CHAR) return them as text when they are UTF-8 and fail with 1235
 * otherwise, as binary strings do elsewhere in Tessera for now.
 */
import {
  anyNullable,
  bigintArg,
  bytesToText,
  charsArg,
  constantInteger,
  fitsPacket,
  int,
  intArg,
  intOf,
  locateFolded,
  text,
  textArg,
  textOf,
  utf8Bytes,
} from "./builtin_support.ts";
import { compareStrings, compareValues } from "./compare.ts";
import { callCollation } from "./collation_derivation.ts";
import { crc32, md5, sha1, sha256, sha512, toHex } from "./digests.ts";
import type { Expr } from "./expr.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import { intType, stringType } from "./types.ts";
import {
  type Value,
  formatDouble,
  formatScaled,
  rescale,
  toDouble,
  toInteger,
  toScaled,
  toText,
} from "./value.ts";

/** A function whose arguments are all read as text and whose result is NULL on a NULL. */
function textFunction(
  arity: { readonly min: number; readonly max: number },
  infer: Builtin["infer"],
  run: (texts: readonly string[], state: EvalState, call: CallExpr) => Value,
): Builtin {
  return {
    minArgs: arity.min, maxArgs: arity.max, infer,
    run: (call, state) => {
      const texts: string[] = [];
      for (const arg of call.args) {
        const t = textArg(state, arg);
        if (t === null) return null;
        texts.push(t);
      }
      return run(texts, state, call);
    },
  };
}

/** The result characters of a function of a constant count `n` of `chars` each. */
function timesChars(args: readonly Expr[], chars: number, countIndex: number): number {
  const n = constantInteger(args[countIndex]);
  return n === undefined ? 16_777_215 : Math.max(Number(n > 16_777_215n ? 16_777_215n : n), 0) *
    chars;
}

// ---- searching -------------------------------------------------------------------------

/** LOCATE(substr, str[, pos]) and POSITION(substr IN str). */
const locate: Builtin = {
  minArgs: 2, maxArgs: 3,
  infer: (args) => intOf(11, args),
  run: (call, state) => {
    const needle = textArg(state, call.args[0]!);
    const haystack = textArg(state, call.args[1]!);
    const from = call.args[2] === undefined ? 1 : intArg(state, call.args[2]);
    if (needle === null || haystack === null || from === null) return null;
    return int(BigInt(locateFolded(needle, haystack, from, callCollation(call))));
  },
};

/** INSTR(str, substr): LOCATE with the arguments swapped. */
const instr: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => intOf(11, args),
  run: (call, state) => {
    const haystack = textArg(state, call.args[0]!);
    const needle = textArg(state, call.args[1]!);
    if (needle === null || haystack === null) return null;
    return int(BigInt(locateFolded(needle, haystack, 1, callCollation(call))));
  },
};

/** FIND_IN_SET(str, list): the 1-based index of str among list's comma-separated items. */
const findInSet = textFunction({ min: 2, max: 2 }, (args) => intOf(3, args),
  ([str, list], _state, call) => {
  if (str!.includes(",") || list === "") return int(0n);
  const items = list!.split(",");
  const collation = callCollation(call);
  const index = items.findIndex((item) => compareStrings(item, str!, collation) === 0);
  return int(BigInt(index + 1));
});

/**
 * FIELD(x, a, b, …): the 1-based index of the first argument equal to x, 0 when none or x
 * is NULL. All strings compare as strings, all numbers as numbers, a mix as DOUBLEs.
 */
const field: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: () => intType({ length: 3, nullable: false }),
  run: (call, state) => {
    const kinds = call.args.map((a) => a.type.kind);
    const strings = kinds.every((k) => k === "string" || k === "null");
    const numbers = kinds.every((k) => k === "int" || k === "decimal" || k === "null");
    const asDouble = !strings && !numbers;
    const read = (e: Expr): Value => {
      const v = state.ev(e);
      if (v === null) return null;
      if (strings) return text(toText(v) ?? "");
      return asDouble ? { kind: "double", value: toDouble(v, state.ctx.warn) ?? 0 } : v;
    };
    const x = read(call.args[0]!);
    if (x === null) return int(0n);
    for (let i = 1; i < call.args.length; i++) {
      if (compareValues(x, read(call.args[i]!), { warn: state.ctx.warn,
        collation: callCollation(call) }) === 0) {
        return int(BigInt(i));
      }
    }
    return int(0n);
  },
};

/** SUBSTRING_INDEX(str, delim, count): matches delim exactly (case-sensitive). */
const substringIndex: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: (args) => textOf(charsArg(args, 0), args),
  run: (call, state) => {
    const str = textArg(state, call.args[0]!);
    const delim = textArg(state, call.args[1]!);
    const count = bigintArg(state, call.args[2]!);
    if (str === null || delim === null || count === null) return null;
    if (delim === "" || count === 0n) return text("");
    const parts = str.split(delim);
    if (count > 0n) {
      return text(count >= BigInt(parts.length) ? str : parts.slice(0, Number(count)).join(delim));
    }
    return text(-count >= BigInt(parts.length) ? str
      : parts.slice(parts.length + Number(count)).join(delim));
  },
};

// ---- building --------------------------------------------------------------------------

function padFunction(left: boolean): Builtin {
  const name = left ? "lpad" : "rpad";
  return {
    minArgs: 3, maxArgs: 3,
    infer: (args) => {
      const n = constantInteger(args[1]);
      return stringType(n === undefined ? 16_777_215 : Math.max(Number(n > 16_777_215n
        ? 16_777_215n : n), 0), { nullable: true });
    },
    run: (call, state) => {
      const str = textArg(state, call.args[0]!);
      const length = bigintArg(state, call.args[1]!);
      const padding = textArg(state, call.args[2]!);
      if (str === null || length === null || padding === null || length < 0n) return null;
      const chars = Array.from(str);
      if (length <= BigInt(chars.length)) return text(chars.slice(0, Number(length)).join(""));
      const padChars = Array.from(padding);
      if (padChars.length === 0) return null;
      const needed = Number(length) - chars.length;
      const reps = Math.floor(needed / padChars.length);
      const partial = padChars.slice(0, needed % padChars.length).join("");
      const bytes = utf8Bytes(str).length + reps * utf8Bytes(padding).length +
        utf8Bytes(partial).length;
      if (!fitsPacket(state, bytes, name)) return null;
      const fill = padding.repeat(reps) + partial;
      return text(left ? fill + str : str + fill);
    },
  };
}

const repeat: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: (args) => stringType(timesChars(args, charsArg(args, 0), 1), { nullable: true }),
  run: (call, state) => {
    const str = textArg(state, call.args[0]!);
    const count = bigintArg(state, call.args[1]!);
    if (str === null || count === null) return null;
    if (count < 1n || str === "") return text("");
    const bytes = BigInt(utf8Bytes(str).length) * count;
    if (!fitsPacket(state, bytes > 2n ** 52n ? Number.MAX_SAFE_INTEGER : Number(bytes),
      "repeat")) return null;
    return text(str.repeat(Number(count)));
  },
};

const space: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => stringType(timesChars(args, 1, 0), { nullable: true }),
  run: (call, state) => {
    const count = bigintArg(state, call.args[0]!);
    if (count === null) return null;
    if (count < 1n) return text("");
    if (!fitsPacket(state, count > 2n ** 52n ? Number.MAX_SAFE_INTEGER : Number(count),
      "space")) return null;
    return text(" ".repeat(Number(count)));
  },
};

/** INSERT(str, pos, len, newstr): str with len characters from pos replaced. */
const insert: Builtin = {
  minArgs: 4, maxArgs: 4,
  infer: (args) => textOf(charsArg(args, 0) + charsArg(args, 3), args),
  run: (call, state) => {
    const str = textArg(state, call.args[0]!);
    const pos = bigintArg(state, call.args[1]!);
    const len = bigintArg(state, call.args[2]!);
    const replacement = textArg(state, call.args[3]!);
    if (str === null || pos === null || len === null || replacement === null) return null;
    const chars = Array.from(str);
    if (pos < 1n || pos > BigInt(chars.length)) return text(str);
    const start = Number(pos) - 1;
    const end = len < 0n || BigInt(start) + len > BigInt(chars.length) ? chars.length
      : start + Number(len);
    return text(chars.slice(0, start).join("") + replacement + chars.slice(end).join(""));
  },
};

const reverse = textFunction({ min: 1, max: 1 }, (args) => textOf(charsArg(args, 0), args),
  ([s]) => text(Array.from(s!).reverse().join("")));

/** ELT(n, a, b, …): the n-th string, NULL when n is out of range. */
const elt: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: (args) => stringType(Math.max(...args.slice(1).map((_, i) => charsArg(args, i + 1))),
    { nullable: true }),
  run: (call, state) => {
    const n = bigintArg(state, call.args[0]!);
    if (n === null || n < 1n || n >= BigInt(call.args.length)) return null;
    const v = textArg(state, call.args[Number(n)]!);
    return v === null ? null : text(v);
  },
};

/** MAKE_SET(bits, a, b, …): the strings whose bit is set, comma-separated. */
const makeSet: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: (args) => stringType(args.slice(1).reduce((n, a, i) => n + charsArg(args, i + 1) +
    (a === undefined ? 0 : 1), 0), { nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const bits = bigintArg(state, call.args[0]!);
    if (bits === null) return null;
    const mask = BigInt.asUintN(64, bits);
    const parts: string[] = [];
    for (let i = 1; i < call.args.length && i <= 64; i++) {
      if (((mask >> BigInt(i - 1)) & 1n) === 0n) continue;
      const t = textArg(state, call.args[i]!);
      if (t !== null) parts.push(t);
    }
    return text(parts.join(","));
  },
};

/** EXPORT_SET(bits, on, off[, separator[, count]]): one on/off per bit, low bit first. */
const exportSet: Builtin = {
  minArgs: 3, maxArgs: 5,
  infer: (args) => textOf(64 * Math.max(charsArg(args, 1), charsArg(args, 2)) +
    63 * (args[3] === undefined ? 1 : charsArg(args, 3)), args),
  run: (call, state) => {
    const bits = bigintArg(state, call.args[0]!);
    const on = textArg(state, call.args[1]!);
    const off = textArg(state, call.args[2]!);
    const separator = call.args[3] === undefined ? "," : textArg(state, call.args[3]);
    const count = call.args[4] === undefined ? 64n : bigintArg(state, call.args[4]);
    if (bits === null || on === null || off === null || separator === null || count === null) {
      return null;
    }
    const n = count < 0n || count > 64n ? 64 : Number(count);
    const mask = BigInt.asUintN(64, bits);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(((mask >> BigInt(i)) & 1n) === 1n ? on : off);
    return text(parts.join(separator));
  },
};

/** QUOTE(str): a SQL string literal of str; NULL gives the word NULL. */
const quote: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => stringType(2 * charsArg(args, 0) + 2, { nullable: false }),
  run: (call, state) => {
    const s = textArg(state, call.args[0]!);
    if (s === null) return text("NULL");
    let out = "'";
    for (const ch of s) {
      out += ch === "\\" ? "\\\\" : ch === "'" ? "\\'" : ch === "\0" ? "\\0"
        : ch === "\x1a" ? "\\Z" : ch;
    }
    return text(`${out}'`);
  },
};

/** The digits of a non-negative `unscaled × 10^-scale` grouped by thousands. */
function groupThousands(digits: string, separator: string): string {
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += separator;
    out += digits[i];
  }
  return out;
}

/** Locales FORMAT knows besides en_US: their thousands and decimal separators. */
const formatLocales: ReadonlyMap<string, readonly [string, string]> = new Map([
  ["en_us", [",", "."]],
  ["de_de", [".", ","]],
  ["es_es", [".", ","]],
  ["it_it", [".", ","]],
  ["nl_nl", [".", ","]],
  ["pt_br", [".", ","]],
  ["de_ch", ["'", "."]],
]);

/** FORMAT(X, D[, locale]): X rounded to D decimals with thousands separators. */
const format: Builtin = {
  minArgs: 2, maxArgs: 3,
  infer: (args) => textOf(Math.max(args[0]!.type.length, 1) * 4 / 3 + 34, args),
  run: (call, state) => {
    const x = state.ev(call.args[0]!);
    const d = bigintArg(state, call.args[1]!);
    const locale = call.args[2] === undefined ? "en_US" : textArg(state, call.args[2]);
    if (x === null || d === null) return null;
    const decimals = d < 0n ? 0 : d > 30n ? 30 : Number(d);
    const [thousands, point] = formatLocales.get((locale ?? "en_US").toLowerCase()) ??
      [",", "."];
    let fixed: string;
    if (x.kind === "double" || (x.kind === "string" && x.tag === undefined)) {
      const value = toDouble(x, state.ctx.warn) ?? 0;
      if (!Number.isFinite(value)) return text(formatDouble(value));
      const rounded = roundHalfEven(value, decimals);
      fixed = Math.abs(rounded) >= 1e21 ? bigFixed(rounded, decimals)
        : rounded.toFixed(decimals);
    } else {
      const s = toScaled(x, state.ctx.warn) ?? { unscaled: 0n, scale: 0 };
      fixed = formatScaled(rescale(s.unscaled, s.scale, decimals), decimals);
    }
    const negative = fixed.startsWith("-");
    const [whole = "0", fraction] = (negative ? fixed.slice(1) : fixed).split(".");
    const body = groupThousands(whole, thousands) +
      (fraction === undefined ? "" : point + fraction);
    return text(negative && /[1-9]/.test(body) ? `-${body}` : body);
  },
};

/** `value` rounded to `decimals` digits, ties to even as C's rint (MySQL's double round). */
function roundHalfEven(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const scaled = value * f;
  if (!Number.isFinite(scaled)) return value;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const r = diff < 0.5 ? floor : diff > 0.5 ? floor + 1 : floor % 2 === 0 ? floor : floor + 1;
  return r / f;
}

/** A huge double with `decimals` zero digits (toFixed switches to exponents past 1e21). */
function bigFixed(value: number, decimals: number): string {
  const whole = BigInt(value).toString();
  return decimals > 0 ? `${whole}.${"0".repeat(decimals)}` : whole;
}

// ---- encodings -------------------------------------------------------------------------

/** HEX(N) of a number (rounded, two's complement) or HEX(str) of a string's bytes. */
const hex: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => textOf(args[0]!.type.kind === "string" ? charsArg(args, 0) * 8 : 16, args),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    if (v === null) return null;
    // A string (an ENUM, TIME, JSON or date value too: their text) is hex of its bytes.
    if (v.kind === "string" || v.kind === "datetime") {
      return text(toHex(utf8Bytes(toText(v) ?? "")).toUpperCase());
    }
    let n: bigint;
    if (v.kind === "double") {
      const x = v.value;
      n = !Number.isFinite(x) || Math.abs(x) >= 2 ** 64 ? 2n ** 64n - 1n
        : BigInt(Math.trunc(x + (x > 0 ? 0.5 : -0.5)));
    } else {
      n = toInteger(v, state.ctx.warn) ?? 0n;
    }
    return text(BigInt.asUintN(64, n).toString(16).toUpperCase());
  },
};

/** UNHEX(str): the bytes of hex digits (an odd count gets a leading 0); NULL if not hex. */
const unhex = textFunction({ min: 1, max: 1 }, (args) => textOf((charsArg(args, 0) + 1) / 2,
  args), ([s]) => {
  const digits = s!.length % 2 === 1 ? `0${s!}` : s!;
  if (!/^[0-9a-fA-F]*$/.test(digits)) return null;
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return text(bytesToText(bytes));
});

/**
 * The integer `text` in `base` (2..36) as MySQL's `my_strntoull` / `my_strntoll` read
 * it: leading blanks skipped, an optional sign, the longest run of digits; an unsigned
 * read saturates at 2^64 - 1 (a negative wraps), a signed one at the BIGINT bounds.
 */
function parseInBase(textValue: string, base: number, signed: boolean): bigint {
  const m = /^[ \t\n\r]*([+-]?)([0-9a-zA-Z]*)/.exec(textValue)!;
  let value = 0n;
  const big = BigInt(base);
  let overflow = false;
  for (const ch of m[2]!) {
    const digit = parseInt(ch, 36);
    if (digit >= base) break;
    value = value * big + BigInt(digit);
    if (value > 2n ** 64n) overflow = true;
  }
  const negative = m[1] === "-";
  if (signed) {
    if (negative) return overflow || value > 2n ** 63n ? -(2n ** 63n) : -value;
    return overflow || value > 2n ** 63n - 1n ? 2n ** 63n - 1n : value;
  }
  if (overflow || value > 2n ** 64n - 1n) return 2n ** 64n - 1n;
  return negative ? BigInt.asUintN(64, -value) : value;
}

/** CONV(N, from_base, to_base): a negative base reads or writes a signed number. */
const conv: Builtin = {
  minArgs: 3, maxArgs: 3,
  infer: (args) => stringType(64, { nullable: anyNullable(args) || true }),
  run: (call, state) => {
    const v = state.ev(call.args[0]!);
    const from = bigintArg(state, call.args[1]!);
    const to = bigintArg(state, call.args[2]!);
    if (v === null || from === null || to === null) return null;
    return convert(v, Number(from), Number(to), state);
  },
};

function convert(v: Exclude<Value, null>, from: number, to: number, state: EvalState): Value {
  const fromBase = Math.abs(from);
  const toBase = Math.abs(to);
  if (fromBase < 2 || fromBase > 36 || toBase < 2 || toBase > 36) return null;
  const n = v.kind === "string" || v.kind === "double" || v.kind === "decimal"
    ? parseInBase(toText(v) ?? "", fromBase, from < 0)
    : toInteger(v, state.ctx.warn) ?? 0n;
  const out = to < 0 ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
  return text(out.toString(toBase).toUpperCase());
}

/** BIN(N) and OCT(N): CONV(N, 10, 2) and CONV(N, 10, 8). */
function baseFunction(base: number): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: (args) => textOf(64, args),
    run: (call, state) => {
      const v = state.ev(call.args[0]!);
      if (v === null) return null;
      const n = v.kind === "string" ? parseInBase(v.value, 10, false)
        : toInteger(v, state.ctx.warn) ?? 0n;
      return text(BigInt.asUintN(64, n).toString(base));
    },
  };
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** TO_BASE64(str): base64 of the UTF-8 bytes, a newline after every 76 characters. */
const toBase64 = textFunction({ min: 1, max: 1 }, (args) => textOf(
  Math.ceil(charsArg(args, 0) * 4 / 3) + Math.ceil(charsArg(args, 0) / 57), args),
([s], state) => {
  const bytes = utf8Bytes(s!);
  const encodedLength = Math.ceil(bytes.length / 3) * 4;
  if (!fitsPacket(state, encodedLength + Math.floor(encodedLength / 76), "to_base64")) {
    return null;
  }
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    if (i > 0 && i % 57 === 0) out += "\n";
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += base64Alphabet[(n >> 18) & 63]! + base64Alphabet[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? base64Alphabet[(n >> 6) & 63]! : "=";
    out += i + 2 < bytes.length ? base64Alphabet[n & 63]! : "=";
  }
  return text(out);
});

/** FROM_BASE64(str): blanks ignored; NULL unless whole padded groups of base64. */
const fromBase64 = textFunction({ min: 1, max: 1 }, (args) => textOf(charsArg(args, 0) * 3 / 4,
  args), ([s]) => {
  const clean = s!.replace(/[ \t\n\r]/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null;
  const body = clean.replace(/=+$/, "");
  const bytes: number[] = [];
  let bits = 0;
  let buffer = 0;
  for (const ch of body) {
    buffer = (buffer << 6) | base64Alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return text(bytesToText(Uint8Array.from(bytes)));
});

/** CHAR(N, …): the bytes of each integer (big-endian, without leading zero bytes). */
const charFunction: Builtin = {
  minArgs: 1, maxArgs: Infinity,
  infer: (args) => stringType(args.length * 4, { nullable: true }),
  run: (call, state) => {
    const bytes: number[] = [];
    for (const arg of call.args) {
      const n = bigintArg(state, arg);
      if (n === null) continue;
      const word = Number(BigInt.asUintN(32, n));
      const parts = [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
      let start = 0;
      while (start < 3 && parts[start] === 0) start++;
      bytes.push(...parts.slice(start));
    }
    return text(bytesToText(Uint8Array.from(bytes)));
  },
};

/** ASCII(str): the first byte (0 for ''); ORD(str): the first character's bytes as a number. */
function firstByteFunction(wholeCharacter: boolean): Builtin {
  return {
    minArgs: 1, maxArgs: 1,
    infer: (args) => intOf(wholeCharacter ? 21 : 3, args),
    run: (call, state) => {
      const s = textArg(state, call.args[0]!);
      if (s === null) return null;
      const first = Array.from(s)[0];
      if (first === undefined) return int(0n);
      const bytes = utf8Bytes(first);
      if (!wholeCharacter) return int(BigInt(bytes[0]!));
      let n = 0n;
      for (const b of bytes) n = n * 256n + BigInt(b);
      return int(n);
    },
  };
}

const bitLength = textFunction({ min: 1, max: 1 }, (args) => intOf(10, args),
  ([s]) => int(BigInt(utf8Bytes(s!).length * 8)));

/** MySQL's SOUNDEX codes of A..Z (vowels, H, W and Y are 0). */
const soundexCodes = "01230120022455012623010202";

/**
 * SOUNDEX(str) as MySQL computes it: the first letter, then the codes of the following
 * letters skipping 0s and repeats of the previous code (a vowel does not separate
 * repeats), padded with 0s to four characters, longer when more codes follow.
 */
const soundex = textFunction({ min: 1, max: 1 }, (args) => textOf(Math.max(charsArg(args, 0), 4),
  args), ([s]) => {
  const letters = Array.from(s!.toUpperCase()).filter((c) => c >= "A" && c <= "Z");
  if (letters.length === 0) return text("");
  let last = soundexCodes[letters[0]!.charCodeAt(0) - 65]!;
  let out = letters[0]!;
  for (const c of letters.slice(1)) {
    const code = soundexCodes[c.charCodeAt(0) - 65]!;
    if (code !== "0" && code !== last) {
      out += code;
      last = code;
    }
  }
  return text(out.padEnd(4, "0"));
});

// ---- digests ---------------------------------------------------------------------------

function digestFunction(hexChars: number, digest: (bytes: Uint8Array) => Uint8Array): Builtin {
  return textFunction({ min: 1, max: 1 }, (args) => textOf(hexChars, args),
    ([s]) => text(toHex(digest(utf8Bytes(s!)))));
}

/** SHA2(str, bits): 224, 256 (or 0), 384 or 512; any other length is NULL with 1583. */
const sha2: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => stringType(128, { nullable: true }),
  run: (call, state) => {
    const s = textArg(state, call.args[0]!);
    const bits = bigintArg(state, call.args[1]!);
    if (s === null || bits === null) return null;
    const bytes = utf8Bytes(s);
    switch (bits) {
      case 0n:
      case 256n:
        return text(toHex(sha256(bytes)));
      case 224n:
        return text(toHex(sha256(bytes, 224)));
      case 384n:
        return text(toHex(sha512(bytes, 384)));
      case 512n:
        return text(toHex(sha512(bytes)));
      default:
        state.ctx.warn({ kind: "wrongParametersToFunction", functionName: "sha2" });
        return null;
    }
  },
};

const crc32Function = textFunction({ min: 1, max: 1 }, (args) => intOf(10, args, true),
  ([s]) => ({ kind: "uint", value: BigInt(crc32(utf8Bytes(s!))) }));

/** The string built-ins by name. */
export const stringBuiltins: ReadonlyArray<readonly [string, Builtin]> = [
  ["locate", locate],
  ["instr", instr],
  ["find_in_set", findInSet],
  ["field", field],
  ["substring_index", substringIndex],
  ["lpad", padFunction(true)],
  ["rpad", padFunction(false)],
  ["repeat", repeat],
  ["space", space],
  ["insert", insert],
  ["reverse", reverse],
  ["elt", elt],
  ["make_set", makeSet],
  ["export_set", exportSet],
  ["quote", quote],
  ["format", format],
  ["hex", hex],
  ["unhex", unhex],
  ["conv", conv],
  ["bin", baseFunction(2)],
  ["oct", baseFunction(8)],
  ["to_base64", toBase64],
  ["from_base64", fromBase64],
  ["char", charFunction],
  ["ascii", firstByteFunction(false)],
  ["ord", firstByteFunction(true)],
  ["bit_length", bitLength],
  ["soundex", soundex],
  ["md5", digestFunction(32, md5)],
  ["sha1", digestFunction(40, sha1)],
  ["sha2", sha2],
  ["crc32", crc32Function],
];

/** Other names of string built-ins. */
export const stringAliases: ReadonlyArray<readonly [string, string]> = [
  ["position", "locate"],
  ["sha", "sha1"],
];
