/**
 * Hash keys for equality: a key equal for any two values `=` finds equal, so a hash
 * table finds every candidate (hash joins, `IN (subquery)`), and the caller re-checks
 * `=` on the candidates. Values compare in one of three domains, chosen from the two
 * sides' types as MySQL compares them: integers exactly, other numbers as doubles,
 * strings by their utf8mb4_general_ci weight. Other pairs (a string against a number,
 * DATETIME, TIME, JSON) have no domain and are compared one by one.
 */
import { type FieldType, TypeCode, type Value, toDouble } from "../../expr/mod.ts";
import { generalCiKeyString } from "../../codec/mod.ts";

export type HashDomain = "int" | "number" | "string";

function domainOf(type: FieldType): HashDomain | null {
  // TIME compares as a duration and JSON by its own rules, not by their text.
  if (type.code === TypeCode.Time || type.code === TypeCode.Json) return null;
  switch (type.kind) {
    case "int":
      return "int";
    case "decimal":
    case "double":
      return "number";
    case "string":
      return "string";
    default:
      return null;
  }
}

/** The common hash domain of `a = b`, or null when keys could miss equal values. */
export function hashDomain(a: FieldType, b: FieldType): HashDomain | null {
  const da = domainOf(a);
  const db = domainOf(b);
  if (da === null || db === null) return null;
  if (da === "string" || db === "string") return da === db ? "string" : null;
  return da === "int" && db === "int" ? "int" : "number";
}

/** The key of `v` in `domain`; null for NULL (never equal to anything). */
export function hashKey(v: Value, domain: HashDomain): string | null {
  if (v === null) return null;
  if (domain === "string" && v.kind === "string") {
    return generalCiKeyString(v.value);
  }
  if (domain === "int" && (v.kind === "int" || v.kind === "uint")) return v.value.toString();
  const d = toDouble(v, () => {});
  if (d === null) return null;
  // Integers print the same whether they came as BIGINT or DOUBLE; -0 is 0.
  return String(d === 0 ? 0 : d);
}
