/**
 * The `PARTITION BY` clause of CREATE TABLE, parsed and printed (MySQL 8's grammar):
 * `PARTITION BY [LINEAR] HASH (expr) | [LINEAR] KEY [ALGORITHM = n] (cols) |
 * RANGE (expr) | RANGE COLUMNS (cols) | LIST (expr) | LIST COLUMNS (cols)`, then
 * `[PARTITIONS n]` and the definitions `(PARTITION p VALUES LESS THAN (…) | MAXVALUE |
 * VALUES IN (…) [ENGINE [=] name] [COMMENT [=] 'text'], …)`. Storage options of a
 * definition (ENGINE, COMMENT, …) are accepted and dropped; subpartitions are refused as
 * a syntax error here (Tessera has none). Also ALTER TABLE's partition changes. What the
 * clause means is checked by src/sql/catalog/partition.ts.
 */
import type { AlterSpec, Expr, PartitionDefinition, PartitionOptions } from "./ast.ts";
import { formatExpr } from "./format.ts";
import type { Parser } from "./parser.ts";

/** Definition options accepted and ignored (storage placement in MySQL). */
const ignoredOptions = new Set(["ENGINE", "STORAGE", "COMMENT", "DATA", "INDEX", "MAX_ROWS",
  "MIN_ROWS", "TABLESPACE", "NODEGROUP"]);

/** Parses `PARTITION BY …` at the current token (which is `PARTITION`). */
export function parsePartitionOptions(p: Parser): PartitionOptions {
  p.expectWord("PARTITION");
  p.expectWord("BY");
  const linear = p.acceptWord("LINEAR");
  let method: PartitionOptions["method"];
  let columnsForm = false;
  let expr: Expr | null = null;
  let columns: string[] = [];
  if (p.acceptWord("HASH")) {
    method = "HASH";
    expr = parenExpr(p);
  } else if (p.acceptWord("KEY")) {
    method = "KEY";
    if (p.acceptWord("ALGORITHM")) {
      p.expectOp("=");
      p.integer();
    }
    p.expectOp("(");
    columns = p.isOp(")") ? [] : p.identList();
    p.expectOp(")");
  } else if (!linear && (p.isWord("RANGE") || p.isWord("LIST"))) {
    method = p.next().upper as "RANGE" | "LIST";
    if (p.acceptWord("COLUMNS")) {
      columnsForm = true;
      columns = p.parenIdentList();
    } else {
      expr = parenExpr(p);
    }
  } else {
    return p.fail("partition type");
  }
  let count: number | null = null;
  if (p.acceptWord("PARTITIONS")) count = p.integer();
  if (p.isWord("SUBPARTITION")) p.fail("partition definitions");
  const definitions: PartitionDefinition[] = [];
  if (p.acceptOp("(")) {
    do {
      definitions.push(parseDefinition(p));
    } while (p.acceptOp(","));
    p.expectOp(")");
  }
  return { method, columnsForm, linear, expr, columns, count, definitions };
}

function parenExpr(p: Parser): Expr {
  p.expectOp("(");
  const expr = p.parseExpr();
  p.expectOp(")");
  return expr;
}

type PartitionAlterSpec = Extract<AlterSpec, { kind: "addPartition" | "dropPartition" |
  "truncatePartition" | "repartition" }>;

/**
 * `ADD PARTITION (definitions)`, `DROP PARTITION names`, `TRUNCATE PARTITION names | ALL`,
 * `PARTITION BY …` and `REMOVE PARTITIONING` of ALTER TABLE at the current token, or null
 * (nothing consumed) when it is another change.
 */
export function parsePartitionAlterSpec(p: Parser): PartitionAlterSpec | null {
  if (p.isWord("PARTITION") && p.isWord("BY", 1)) {
    return { kind: "repartition", partition: parsePartitionOptions(p) };
  }
  if (p.acceptWords("REMOVE", "PARTITIONING")) return { kind: "repartition", partition: null };
  if (p.isWord("ADD") && p.isWord("PARTITION", 1)) {
    p.pos += 2;
    p.expectOp("(");
    const definitions: PartitionDefinition[] = [];
    do {
      definitions.push(parseDefinition(p));
    } while (p.acceptOp(","));
    p.expectOp(")");
    return { kind: "addPartition", definitions };
  }
  if (p.isWord("DROP") && p.isWord("PARTITION", 1)) {
    p.pos += 2;
    return { kind: "dropPartition", names: p.identList() };
  }
  if (p.isWord("TRUNCATE") && p.isWord("PARTITION", 1)) {
    p.pos += 2;
    return { kind: "truncatePartition", names: p.acceptWord("ALL") ? "ALL" : p.identList() };
  }
  return null;
}

/** A partition change of ALTER TABLE as SQL text. */
export function formatPartitionAlterSpec(spec: PartitionAlterSpec): string {
  switch (spec.kind) {
    case "addPartition":
      return `ADD PARTITION (${spec.definitions.map(formatDefinition).join(", ")})`;
    case "dropPartition":
      return `DROP PARTITION ${spec.names.map(ident).join(", ")}`;
    case "truncatePartition":
      return `TRUNCATE PARTITION ${spec.names === "ALL" ? "ALL"
        : spec.names.map(ident).join(", ")}`;
    case "repartition":
      return spec.partition === null ? "REMOVE PARTITIONING"
        : formatPartitionOptions(spec.partition).trimStart();
  }
}

function parseDefinition(p: Parser): PartitionDefinition {
  p.expectWord("PARTITION");
  const name = p.ident();
  let lessThan: (Expr | "MAXVALUE")[] | null = null;
  let inValues: Expr[][] | null = null;
  if (p.acceptWord("VALUES")) {
    if (p.acceptWords("LESS", "THAN")) {
      if (p.acceptWord("MAXVALUE")) lessThan = ["MAXVALUE"];
      else {
        p.expectOp("(");
        lessThan = [];
        do {
          lessThan.push(p.acceptWord("MAXVALUE") ? "MAXVALUE" : p.parseExpr());
        } while (p.acceptOp(","));
        p.expectOp(")");
      }
    } else {
      p.expectWord("IN");
      p.expectOp("(");
      inValues = [];
      do {
        inValues.push(parseInTuple(p));
      } while (p.acceptOp(","));
      p.expectOp(")");
    }
  }
  for (;;) {
    const token = p.peek();
    if (token.kind !== "word" || !ignoredOptions.has(token.upper)) break;
    p.next();
    if (token.upper === "DATA" || token.upper === "INDEX") p.expectWord("DIRECTORY");
    if (token.upper === "STORAGE") p.expectWord("ENGINE");
    p.acceptOp("=");
    p.anyName();
  }
  if (p.isWord("SUBPARTITION") || p.isOp("(")) p.fail("partition definition");
  return { name, lessThan, inValues };
}

/** One item of VALUES IN: a value, or a parenthesized tuple (LIST COLUMNS of several). */
function parseInTuple(p: Parser): Expr[] {
  if (p.isOp("(") && !p.startsQuery(1)) {
    const save = p.pos;
    p.next();
    const items = [p.parseExpr()];
    while (p.acceptOp(",")) items.push(p.parseExpr());
    if (items.length > 1 && p.acceptOp(")")) return items;
    p.pos = save;
  }
  return [p.parseExpr()];
}

const ident = (name: string): string => "`" + name.replaceAll("`", "``") + "`";

/** The clause as SQL text (the statement printer's form). */
export function formatPartitionOptions(o: PartitionOptions): string {
  let out = " PARTITION BY ";
  if (o.linear) out += "LINEAR ";
  out += o.method;
  if (o.columnsForm) out += " COLUMNS";
  out += o.expr !== null ? ` (${formatExpr(o.expr)})` : ` (${o.columns.map(ident).join(", ")})`;
  if (o.count !== null) out += ` PARTITIONS ${o.count}`;
  if (o.definitions.length > 0) out += ` (${o.definitions.map(formatDefinition).join(", ")})`;
  return out;
}

function formatDefinition(d: PartitionDefinition): string {
  let def = `PARTITION ${ident(d.name)}`;
  if (d.lessThan !== null) {
    def += " VALUES LESS THAN (" + d.lessThan.map((v) => (v === "MAXVALUE" ? v
      : formatExpr(v))).join(", ") + ")";
  }
  if (d.inValues !== null) {
    def += " VALUES IN (" + d.inValues.map((t) => (t.length === 1 ? formatExpr(t[0]!)
      : `(${t.map(formatExpr).join(", ")})`)).join(", ") + ")";
  }
  return def;
}
