/**
 * Converting values to ENUM('a','b',…) and SET('a','b',…) columns as MySQL stores them. A
 * string names a member (compared case-insensitively, trailing spaces ignored) and is
 * stored as the member's text as declared; a number is the 1-based member index (ENUM) or
 * the bitmask of members (SET). SET members are stored in declaration order without
 * duplicates. A value that names no member returns null: the caller raises MySQL's 1265
 * (an error in strict mode, otherwise a warning and the empty string).
 *
 * Values are kept as their member text (so they compare and sort as strings, not by
 * index as MySQL sorts ENUM). Pure: no I/O.
 */
import type { Value } from "../../expr/mod.ts";
import { toText } from "../../expr/mod.ts";

function memberIndex(members: readonly string[], text: string): number {
  const wanted = text.replace(/ +$/, "").toLowerCase();
  return members.findIndex((m) => m.replace(/ +$/, "").toLowerCase() === wanted);
}

function integerOf(value: Value): bigint | null {
  if (value === null) return null;
  if (value.kind === "int" || value.kind === "uint") return value.value;
  if (value.kind === "decimal" || value.kind === "double") {
    const text = toText(value) ?? "";
    if (!/^-?\d+(\.0*)?$/.test(text)) return null;
    return BigInt(text.split(".")[0]!);
  }
  return null;
}

/** The stored text of `value` in an ENUM of `members`, or null when it is none of them. */
export function toEnumMember(value: Exclude<Value, null>, members: readonly string[]):
  string | null {
  if (value.kind === "string") {
    const i = memberIndex(members, value.value);
    if (i >= 0) return members[i]!;
    // A string of digits is an index, as in MySQL.
    if (!/^\s*\d+\s*$/.test(value.value)) return null;
    const n = Number(value.value.trim());
    return n >= 1 && n <= members.length ? members[n - 1]! : null;
  }
  const n = integerOf(value);
  if (n === null || n < 1n || n > BigInt(members.length)) return null;
  return members[Number(n) - 1]!;
}

/** The stored text of `value` in a SET of `members`, or null when it names a non-member. */
export function toSetMembers(value: Exclude<Value, null>, members: readonly string[]):
  string | null {
  let mask = 0n;
  if (value.kind === "string") {
    if (value.value !== "") {
      for (const part of value.value.split(",")) {
        const i = memberIndex(members, part);
        if (i < 0) {
          if (/^\s*\d+\s*$/.test(value.value)) return setOfMask(BigInt(value.value.trim()),
            members);
          return null;
        }
        mask |= 1n << BigInt(i);
      }
    }
    return setOfMask(mask, members);
  }
  const n = integerOf(value);
  if (n === null) return null;
  return setOfMask(n, members);
}

function setOfMask(mask: bigint, members: readonly string[]): string | null {
  if (mask < 0n || mask >= 1n << BigInt(members.length)) return null;
  return members.filter((_, i) => (mask >> BigInt(i)) & 1n).join(",");
}
