/**
 * Hash keys for equality: a key equal for any two values `=` finds equal, so a hash
 * table finds every candidate (hash joins, `IN (subquery)`), and the caller re-checks
 * `=` on the candidates. Values compare in one of three domains, chosen from the two
 * sides' types as MySQL compares them: integers exactly, other numbers as doubles,
 * strings under the collation `=` compares them with (MySQL's rules: utf8mb4_general_ci
 * weights, `utf8mb4_bin` text without trailing spaces, `binary` text). Other pairs (a
 * string against a number, DATETIME, TIME, JSON) have no domain and are compared one by
 * one.
 */
import { type FieldType, TypeCode, type Value, collationImpl, compareCollationOf, toDouble }
  from "../../expr/mod.ts";
import { binaryCollation, collationKeyString, generalCiKeyString, utf8mb4BinCollation }
  from "../../codec/mod.ts";

/** `string` compares under utf8mb4_general_ci, the others under the collation named. */
export type HashDomain = "int" | "number" | "string" | "string:binary" | "string:utf8mb4_bin";

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
  if (da === "string" || db === "string") {
    if (da !== db) return null;
    const info = compareCollationOf("=", [{ type: a }, { type: b }]);
    if (info === undefined || "kind" in info) return null;
    const collation = collationImpl(info.name);
    return collation === binaryCollation ? "string:binary"
      : collation === utf8mb4BinCollation ? "string:utf8mb4_bin" : "string";
  }
  return da === "int" && db === "int" ? "int" : "number";
}

/** The key of `v` in `domain`; null for NULL (never equal to anything). */
export function hashKey(v: Value, domain: HashDomain): string | null {
  if (v === null) return null;
  if (domain === "string" && v.kind === "string") {
    return generalCiKeyString(v.value);
  }
  if (domain === "string:binary" && v.kind === "string") {
    return collationKeyString(binaryCollation, v.value);
  }
  if (domain === "string:utf8mb4_bin" && v.kind === "string") {
    return collationKeyString(utf8mb4BinCollation, v.value);
  }
  if (domain === "int" && (v.kind === "int" || v.kind === "uint")) return v.value.toString();
  const d = toDouble(v, () => {});
  if (d === null) return null;
  // Integers print the same whether they came as BIGINT or DOUBLE; -0 is 0.
  return String(d === 0 ? 0 : d);
}
