/**
 * Whether an index on a string column may narrow a comparison: only when the comparison's
 * collation (MySQL's rules, expr/collation_derivation.ts) is the collation the column's
 * key is encoded under (TiDB's rule), so an index read and a full scan admit the same
 * rows. `c = 'A' COLLATE utf8mb4_bin` on a `utf8mb4_general_ci` column, or any string
 * comparison on a VARBINARY column (keyed by `utf8mb4_bin`, compared as `binary`), reads
 * the table instead. The WHERE is still evaluated on every row read.
 */
import { type Collation, generalCiCollation, utf8mb4BinCollation } from "../../codec/mod.ts";
import { type Expr, collationImpl, compareCollationOf } from "../../expr/mod.ts";
import { type ColumnInfo, fieldTypeOf } from "../catalog/schema.ts";

/** The collation a string column's index keys are sort keys of (table.ts `keyDatum`). */
export function keyCollationOf(column: ColumnInfo): Collation {
  return column.type.binaryCollation ? utf8mb4BinCollation : generalCiCollation;
}

/**
 * Whether `column op value` for each of `values` compares strings under the column's key
 * collation (or compares no strings at all: numbers, dates, NULL).
 */
export function keyCollationMatches(column: ColumnInfo, values: readonly Expr[]): boolean {
  const columnType = fieldTypeOf(column);
  if (columnType.kind !== "string") return true;
  const key = keyCollationOf(column);
  return values.every((value) => {
    if (value.type.kind !== "string") return true;
    const info = compareCollationOf("=", [{ type: columnType }, value]);
    return info !== undefined && !("kind" in info) && collationImpl(info.name) === key;
  });
}
