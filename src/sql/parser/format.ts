/**
 * The printer: turns a syntax tree back into MySQL text that parses to the same tree.
 *
 * Output is canonical: upper-case keywords, lower-case function names, identifiers in
 * backticks only when they need them (reserved words, unusual characters), strings in
 * single quotes with backslash escapes, and parentheses only where the precedence of
 * MySQL's grammar requires them. `parse(formatStatement(s))` gives back `s` for every tree
 * the parser produces; the round-trip property test checks this on generated trees.
 */
import { unreachable } from "../../base/mod.ts";
import type {
  AlterSpec,
  Assignment,
  ColumnDefinition,
  ColumnOption,
  ColumnPosition,
  DataType,
  Expr,
  ForeignKeyReference,
  FrameBound,
  GrantLevel,
  IndexOption,
  IndexPart,
  Limit,
  LockClause,
  OrderItem,
  Privilege,
  Query,
  SetAssignment,
  ShowStatement,
  Statement,
  TableConstraint,
  TableExpr,
  TableName,
  TableOption,
  UserAuth,
  UserSpec,
  WindowSpec,
  With,
} from "./ast.ts";
import { identifierNeedsQuotes } from "./keywords.ts";
import { formatPartitionAlterSpec, formatPartitionOptions } from "./partition_syntax.ts";

/** An identifier, in backticks when it needs them. */
export function formatIdent(name: string): string {
  if (!identifierNeedsQuotes(name)) return name;
  return "`" + name.replaceAll("`", "``") + "`";
}

/** A string literal in single quotes with MySQL backslash escapes. */
export function formatString(value: string): string {
  let out = "'";
  for (const ch of value) {
    switch (ch) {
      case "'":
        out += "\\'";
        break;
      case "\\":
        out += "\\\\";
        break;
      case "\0":
        out += "\\0";
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\x1a":
        out += "\\Z";
        break;
      default:
        out += ch;
    }
  }
  return out + "'";
}

function tableName(name: TableName): string {
  const table = formatIdent(name.name);
  return name.db === null ? table : `${formatIdent(name.db)}.${table}`;
}

function identList(names: readonly string[]): string {
  return names.map(formatIdent).join(", ");
}

// ---------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------

/** Binding strength of each operator level, matching parser.ts (higher binds tighter). */
const precedence = {
  assign: 1,
  OR: 2,
  XOR: 3,
  AND: 4,
  NOT: 5,
  compare: 7,
  predicate: 8,
  "|": 9,
  "&": 10,
  "<<": 11,
  ">>": 11,
  "+": 12,
  "-": 12,
  "*": 13,
  "/": 13,
  DIV: 13,
  "%": 13,
  "^": 14,
  unary: 15,
  collate: 16,
  primary: 17,
} as const;

function precedenceOf(expr: Expr): number {
  switch (expr.kind) {
    case "assign":
      return precedence.assign;
    case "binary":
      switch (expr.op) {
        case "OR":
        case "XOR":
        case "AND":
        case "|":
        case "&":
        case "<<":
        case ">>":
        case "+":
        case "-":
        case "*":
        case "/":
        case "DIV":
        case "%":
        case "^":
          return precedence[expr.op];
        default:
          return precedence.compare;
      }
    case "unary":
      return expr.op === "NOT" ? precedence.NOT : precedence.unary;
    case "is":
    case "compareSubquery":
      return precedence.compare;
    case "like":
    case "regexp":
    case "in":
    case "inSubquery":
    case "between":
    case "memberOf":
      return precedence.predicate;
    case "collate":
    case "jsonPath":
      return precedence.collate;
    default:
      return precedence.primary;
  }
}

/** `expr`, in parentheses when it binds looser than `min`. */
function operand(expr: Expr, min: number): string {
  const text = formatExpr(expr);
  return precedenceOf(expr) < min ? `(${text})` : text;
}

/** Formats an expression. */
export function formatExpr(expr: Expr): string {
  switch (expr.kind) {
    case "null":
      return "NULL";
    case "bool":
      return expr.value ? "TRUE" : "FALSE";
    case "int":
    case "decimal":
    case "float":
      return expr.text;
    case "string":
      return (expr.charset === null ? "" : `_${expr.charset}`) + formatString(expr.value);
    case "hex":
      return (expr.charset === null ? "" : `_${expr.charset} `) + `X'${expr.digits}'`;
    case "bit":
      return (expr.charset === null ? "" : `_${expr.charset} `) + `b'${expr.digits}'`;
    case "temporal":
      return `${expr.type} ${formatString(expr.value)}`;
    case "param":
      return "?";
    case "default":
      return "DEFAULT";
    case "column": {
      const parts = [expr.db, expr.table, expr.column].filter((p): p is string => p !== null);
      return parts.map(formatIdent).join(".");
    }
    case "star":
      return expr.table === null ? "*" : `${tableName(expr.table)}.*`;
    case "userVar":
      return formatUserVar(expr.name);
    case "sysVar": {
      const scope = expr.scope === null ? "" : `${expr.scope.toLowerCase()}.`;
      if (/^[A-Za-z0-9_$]+(\.[A-Za-z0-9_$]+)*$/.test(expr.name)) return `@@${scope}${expr.name}`;
      return `@@${scope}\`${expr.name.replaceAll("`", "``")}\``;
    }
    case "unary": {
      if (expr.op === "NOT") return `NOT ${operand(expr.operand, precedence.NOT)}`;
      const inner = operand(expr.operand, precedence.unary);
      if (expr.op === "BINARY") return `BINARY ${inner}`;
      const gap = (expr.op === "-" || expr.op === "+") && /^[-+]/.test(inner) ? " " : "";
      return `${expr.op}${gap}${inner}`;
    }
    case "binary": {
      const p = precedenceOf(expr);
      return `${operand(expr.left, p)} ${expr.op} ${operand(expr.right, p + 1)}`;
    }
    case "assign":
      return `${formatUserVar(expr.name)} := ${formatExpr(expr.value)}`;
    case "is":
      return (
        `${operand(expr.operand, precedence.compare)} IS ${expr.not ? "NOT " : ""}` + expr.value
      );
    case "like": {
      const head = `${operand(expr.operand, precedence["|"])} ${expr.not ? "NOT " : ""}LIKE`;
      const escape =
        expr.escape === null ? "" : ` ESCAPE ${operand(expr.escape, precedence.unary)}`;
      return `${head} ${operand(expr.pattern, precedence.unary)}${escape}`;
    }
    case "regexp":
      return (
        `${operand(expr.operand, precedence["|"])} ${expr.not ? "NOT " : ""}REGEXP ` +
        operand(expr.pattern, precedence["|"])
      );
    case "in":
      return (
        `${operand(expr.operand, precedence["|"])} ${expr.not ? "NOT " : ""}IN ` +
        `(${expr.list.map(formatExpr).join(", ")})`
      );
    case "inSubquery":
      return (
        `${operand(expr.operand, precedence["|"])} ${expr.not ? "NOT " : ""}IN ` +
        `(${formatQuery(expr.query)})`
      );
    case "between":
      return (
        `${operand(expr.operand, precedence["|"])} ${expr.not ? "NOT " : ""}BETWEEN ` +
        `${operand(expr.low, precedence["|"])} AND ${operand(expr.high, precedence.predicate)}`
      );
    case "memberOf":
      return `${operand(expr.operand, precedence["|"])} MEMBER OF (${formatExpr(expr.json)})`;
    case "compareSubquery":
      return (
        `${operand(expr.operand, precedence.compare)} ${expr.op} ${expr.quantifier} ` +
        `(${formatQuery(expr.query)})`
      );
    case "exists":
      return `EXISTS (${formatQuery(expr.query)})`;
    case "subquery":
      return `(${formatQuery(expr.query)})`;
    case "row":
      if (expr.items.length === 1) return `ROW(${formatExpr(expr.items[0] as Expr)})`;
      return `(${expr.items.map(formatExpr).join(", ")})`;
    case "case": {
      let out = "CASE";
      if (expr.operand !== null) out += ` ${formatExpr(expr.operand)}`;
      for (const w of expr.whens) out += ` WHEN ${formatExpr(w.when)} THEN ${formatExpr(w.then)}`;
      if (expr.else !== null) out += ` ELSE ${formatExpr(expr.else)}`;
      return out + " END";
    }
    case "cast":
      return `CAST(${formatExpr(expr.expr)} AS ${formatDataType(expr.type)})`;
    case "convertUsing":
      return `CONVERT(${formatExpr(expr.expr)} USING ${expr.charset})`;
    case "collate":
      return `${operand(expr.expr, precedence.collate)} COLLATE ${formatIdent(expr.collation)}`;
    case "interval":
      return `INTERVAL ${formatExpr(expr.value)} ${expr.unit}`;
    case "timeUnit":
      return expr.unit;
    case "extract":
      return `EXTRACT(${expr.unit} FROM ${formatExpr(expr.expr)})`;
    case "trim": {
      const parts: string[] = [];
      if (expr.direction !== null) parts.push(expr.direction);
      if (expr.remove !== null) parts.push(formatExpr(expr.remove));
      if (parts.length > 0) parts.push("FROM");
      parts.push(formatExpr(expr.expr));
      return `TRIM(${parts.join(" ")})`;
    }
    case "jsonPath":
      return `${formatExpr(expr.column)}${expr.unquote ? "->>" : "->"}${formatString(expr.path)}`;
    case "func": {
      const name = /^[a-z_][a-z0-9_$]*$/.test(expr.name) ? expr.name : formatIdent(expr.name);
      const args = expr.args.map(formatExpr).join(", ");
      const over = expr.over === null ? "" : ` OVER ${formatOver(expr.over)}`;
      return `${name}(${expr.distinct ? "DISTINCT " : ""}${args})${over}`;
    }
    case "groupConcat": {
      let out = `group_concat(${expr.distinct ? "DISTINCT " : ""}`;
      out += expr.args.map(formatExpr).join(", ");
      if (expr.orderBy.length > 0) out += ` ORDER BY ${formatOrderItems(expr.orderBy)}`;
      if (expr.separator !== null) out += ` SEPARATOR ${formatString(expr.separator)}`;
      return out + ")";
    }
    case "match": {
      const modifier = expr.modifier === null ? "" : ` ${expr.modifier}`;
      return (
        `MATCH (${expr.columns.map(formatExpr).join(", ")}) AGAINST ` +
        `(${operand(expr.against, precedence["|"])}${modifier})`
      );
    }
    default:
      return unreachable(expr, "expression");
  }
}

function formatUserVar(name: string): string {
  if (/^[A-Za-z0-9_$.]+$/.test(name)) return `@${name}`;
  return `@\`${name.replaceAll("`", "``")}\``;
}

function formatOver(spec: WindowSpec): string {
  if (
    spec.ref !== null &&
    spec.partitionBy.length === 0 &&
    spec.orderBy.length === 0 &&
    spec.frame === null
  ) {
    return formatIdent(spec.ref);
  }
  return formatWindowSpec(spec);
}

function formatWindowSpec(spec: WindowSpec): string {
  const parts: string[] = [];
  if (spec.ref !== null) parts.push(formatIdent(spec.ref));
  if (spec.partitionBy.length > 0) {
    parts.push(`PARTITION BY ${spec.partitionBy.map(formatExpr).join(", ")}`);
  }
  if (spec.orderBy.length > 0) parts.push(`ORDER BY ${formatOrderItems(spec.orderBy)}`);
  if (spec.frame !== null) {
    const frame = spec.frame;
    parts.push(
      frame.end === null
        ? `${frame.unit} ${formatBound(frame.start)}`
        : `${frame.unit} BETWEEN ${formatBound(frame.start)} AND ${formatBound(frame.end)}`,
    );
  }
  return `(${parts.join(" ")})`;
}

function formatBound(bound: FrameBound): string {
  if (bound.value === null) return bound.type;
  return `${formatExpr(bound.value)} ${bound.type}`;
}

function formatOrderItems(items: readonly OrderItem[]): string {
  return items.map((i) => formatExpr(i.expr) + (i.desc ? " DESC" : "")).join(", ");
}

/** A data type as in a column definition or CAST. */
export function formatDataType(type: DataType): string {
  let out = type.name;
  if (type.values.length > 0) out += `(${type.values.map(formatString).join(", ")})`;
  else if (type.length !== null) {
    out += type.scale === null ? `(${type.length})` : `(${type.length}, ${type.scale})`;
  }
  if (type.unsigned && !type.zerofill && type.name !== "UNSIGNED") out += " UNSIGNED";
  if (type.zerofill) out += " UNSIGNED ZEROFILL";
  if (type.binary) out += " BINARY";
  if (type.charset !== null) out += ` CHARACTER SET ${type.charset}`;
  if (type.collate !== null) out += ` COLLATE ${type.collate}`;
  return out;
}

// ---------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------

function formatWith(w: With): string {
  const ctes = w.ctes.map((c) => {
    const columns = c.columns === null ? "" : ` (${identList(c.columns)})`;
    return `${formatIdent(c.name)}${columns} AS (${formatQuery(c.query)})`;
  });
  return `WITH ${w.recursive ? "RECURSIVE " : ""}${ctes.join(", ")} `;
}

function formatLimit(limit: Limit): string {
  if (limit.offset === null) return ` LIMIT ${formatExpr(limit.count)}`;
  return ` LIMIT ${formatExpr(limit.offset)}, ${formatExpr(limit.count)}`;
}

function formatLock(lock: LockClause): string {
  let out = ` ${lock.mode}`;
  if (lock.of.length > 0) out += ` OF ${lock.of.map(tableName).join(", ")}`;
  if (lock.wait !== null) out += ` ${lock.wait}`;
  return out;
}

function formatTail(query: Query): string {
  let out = "";
  if (query.orderBy.length > 0) out += ` ORDER BY ${formatOrderItems(query.orderBy)}`;
  if (query.limit !== null) out += formatLimit(query.limit);
  if (query.kind === "select" && query.lock !== null) out += formatLock(query.lock);
  return out;
}

/** True when a query needs brackets to be a set-operation operand. */
function hasOwnClauses(query: Query): boolean {
  return (
    query.with !== null ||
    query.orderBy.length > 0 ||
    query.limit !== null ||
    (query.kind === "select" && query.lock !== null) ||
    query.kind === "parenQuery"
  );
}

function setOpPrecedence(query: Query): number {
  if (query.kind !== "setOp") return 3;
  return query.op === "INTERSECT" ? 2 : 1;
}

/** Formats a query (SELECT, set operation, VALUES). */
export function formatQuery(query: Query): string {
  const withText = query.with === null ? "" : formatWith(query.with);
  switch (query.kind) {
    case "select": {
      let out = `${withText}SELECT`;
      if (query.hints !== null) out += ` /*+ ${query.hints} */`;
      if (query.distinct) out += " DISTINCT";
      for (const option of query.options) out += ` ${option}`;
      out += " " + query.fields
        .map((f) => formatExpr(f.expr) + (f.alias === null ? "" : ` AS ${formatIdent(f.alias)}`))
        .join(", ");
      if (query.from.length > 0) out += ` FROM ${query.from.map(formatTableExpr).join(", ")}`;
      if (query.where !== null) out += ` WHERE ${formatExpr(query.where)}`;
      if (query.groupBy.length > 0) {
        out += ` GROUP BY ${query.groupBy.map(formatExpr).join(", ")}`;
        if (query.withRollup) out += " WITH ROLLUP";
      }
      if (query.having !== null) out += ` HAVING ${formatExpr(query.having)}`;
      if (query.windows.length > 0) {
        out += " WINDOW " + query.windows
          .map((w) => `${formatIdent(w.name)} AS ${formatWindowSpec(w.spec)}`)
          .join(", ");
      }
      return out + formatTail(query);
    }
    case "setOp": {
      const p = setOpPrecedence(query);
      const left =
        hasOwnClauses(query.left) || setOpPrecedence(query.left) < p
          ? `(${formatQuery(query.left)})`
          : formatQuery(query.left);
      const right =
        hasOwnClauses(query.right) || query.right.kind === "setOp"
          ? `(${formatQuery(query.right)})`
          : formatQuery(query.right);
      const op = query.all ? `${query.op} ALL` : query.op;
      return `${withText}${left} ${op} ${right}${formatTail(query)}`;
    }
    case "parenQuery":
      return `${withText}(${formatQuery(query.query)})${formatTail(query)}`;
    case "values": {
      const rows = query.rows.map((r) => `ROW(${r.map(formatExpr).join(", ")})`).join(", ");
      return `${withText}VALUES ${rows}${formatTail(query)}`;
    }
    default:
      return unreachable(query, "query");
  }
}

function formatTableExpr(t: TableExpr): string {
  switch (t.kind) {
    case "table": {
      let out = tableName(t.name);
      if (t.partitions.length > 0) out += ` PARTITION (${identList(t.partitions)})`;
      if (t.alias !== null) out += ` AS ${formatIdent(t.alias)}`;
      for (const hint of t.indexHints) {
        out += ` ${hint.type} INDEX`;
        if (hint.scope !== null) out += ` FOR ${hint.scope}`;
        out += ` (${hint.indexes.map((i) => (i === "PRIMARY" ? i : formatIdent(i))).join(", ")})`;
      }
      return out;
    }
    case "derived": {
      let out = `${t.lateral ? "LATERAL " : ""}(${formatQuery(t.query)})`;
      if (t.alias !== null) out += ` AS ${formatIdent(t.alias)}`;
      if (t.columns !== null) out += ` (${identList(t.columns)})`;
      return out;
    }
    case "join": {
      let keyword: string;
      if (t.type === "STRAIGHT") keyword = "STRAIGHT_JOIN";
      else if (t.type === "LEFT") keyword = "LEFT JOIN";
      else if (t.type === "RIGHT") keyword = "RIGHT JOIN";
      else if (t.natural || t.on !== null || t.using !== null) keyword = "JOIN";
      else keyword = "CROSS JOIN";
      if (t.natural) keyword = `NATURAL ${keyword}`;
      const right =
        t.right.kind === "join" ? `(${formatTableExpr(t.right)})` : formatTableExpr(t.right);
      let out = `${formatTableExpr(t.left)} ${keyword} ${right}`;
      if (t.on !== null) out += ` ON ${formatExpr(t.on)}`;
      if (t.using !== null) out += ` USING (${identList(t.using)})`;
      return out;
    }
    case "tableList":
      return `(${t.items.map(formatTableExpr).join(", ")})`;
    default:
      return unreachable(t, "table expression");
  }
}

// ---------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------

function formatAssignments(list: readonly Assignment[]): string {
  return list
    .map((a) => {
      const column = a.column.table === null
        ? formatIdent(a.column.column)
        : `${formatIdent(a.column.table)}.${formatIdent(a.column.column)}`;
      return `${column} = ${formatExpr(a.value)}`;
    })
    .join(", ");
}

function formatWhereOrderLimit(
  where: Expr | null,
  orderBy: readonly OrderItem[],
  limit: Limit | null,
): string {
  let out = "";
  if (where !== null) out += ` WHERE ${formatExpr(where)}`;
  if (orderBy.length > 0) out += ` ORDER BY ${formatOrderItems(orderBy)}`;
  if (limit !== null) out += formatLimit(limit);
  return out;
}

function formatColumnOption(option: ColumnOption): string {
  switch (option.kind) {
    case "null":
      return "NULL";
    case "notNull":
      return "NOT NULL";
    case "default":
      return `DEFAULT ${operand(option.value, precedence.unary)}`;
    case "onUpdate":
      return `ON UPDATE ${operand(option.value, precedence.unary)}`;
    case "autoIncrement":
      return "AUTO_INCREMENT";
    case "autoRandom":
      if (option.shardBits === null) return "AUTO_RANDOM";
      return `AUTO_RANDOM(${option.shardBits}` +
        `${option.rangeBits === undefined || option.rangeBits === null ? ""
          : `, ${option.rangeBits}`})`;
    case "primaryKey":
      return "PRIMARY KEY";
    case "unique":
      return "UNIQUE KEY";
    case "comment":
      return `COMMENT ${formatString(option.text)}`;
    case "collate":
      return `COLLATE ${option.collation}`;
    case "generated":
      return (
        `GENERATED ALWAYS AS (${formatExpr(option.expr)}) ` +
        (option.stored ? "STORED" : "VIRTUAL")
      );
    case "check":
      return (option.name === null ? "" : `CONSTRAINT ${formatIdent(option.name)} `) +
        `CHECK (${formatExpr(option.expr)})`;
    case "references":
      return formatReferences(option.references);
    case "visible":
      return option.visible ? "VISIBLE" : "INVISIBLE";
    case "columnFormat":
      return `COLUMN_FORMAT ${option.format}`;
    case "storage":
      return `STORAGE ${option.storage}`;
    case "srid":
      return `SRID ${option.srid}`;
    default:
      return unreachable(option, "column option");
  }
}

/** A column definition: name, type and options. */
export function formatColumnDef(column: ColumnDefinition): string {
  const options = column.options.map((o) => " " + formatColumnOption(o)).join("");
  return `${formatIdent(column.name)} ${formatDataType(column.type)}${options}`;
}

function formatReferences(r: ForeignKeyReference): string {
  let out = `REFERENCES ${tableName(r.table)}`;
  if (r.columns.length > 0) out += ` (${identList(r.columns)})`;
  if (r.match !== null) out += ` MATCH ${r.match}`;
  if (r.onDelete !== null) out += ` ON DELETE ${r.onDelete}`;
  if (r.onUpdate !== null) out += ` ON UPDATE ${r.onUpdate}`;
  return out;
}

function formatIndexParts(parts: readonly IndexPart[]): string {
  return "(" + parts
    .map((part) => {
      let out = part.expr !== null ? `(${formatExpr(part.expr)})` : formatIdent(part.column ?? "");
      if (part.length !== null) out += `(${part.length})`;
      if (part.desc) out += " DESC";
      return out;
    })
    .join(", ") + ")";
}

function formatIndexOptions(options: readonly IndexOption[]): string {
  return options
    .map((o) => {
      switch (o.name) {
        case "USING":
          return ` USING ${o.value ?? ""}`;
        case "COMMENT":
          return ` COMMENT ${formatString(o.value ?? "")}`;
        case "KEY_BLOCK_SIZE":
          return ` KEY_BLOCK_SIZE = ${o.value ?? ""}`;
        case "PARSER":
          return ` WITH PARSER ${formatIdent(o.value ?? "")}`;
        default:
          return ` ${o.name}`;
      }
    })
    .join("");
}

/** A table constraint or index definition. */
export function formatConstraint(c: TableConstraint): string {
  const prefix = c.constraintName === null ? "" : `CONSTRAINT ${formatIdent(c.constraintName)} `;
  switch (c.kind) {
    case "foreignKey":
      return (
        `${prefix}FOREIGN KEY ${c.name === null ? "" : formatIdent(c.name) + " "}` +
        `(${identList(c.columns)}) ${formatReferences(c.references)}`
      );
    case "check": {
      const enforced = c.enforced === null ? "" : c.enforced ? " ENFORCED" : " NOT ENFORCED";
      return `${prefix}CHECK (${formatExpr(c.expr)})${enforced}`;
    }
    default: {
      const keyword = {
        primaryKey: "PRIMARY KEY",
        unique: "UNIQUE KEY",
        index: "KEY",
        fulltext: "FULLTEXT KEY",
        spatial: "SPATIAL KEY",
      }[c.kind];
      const name = c.name === null ? "" : ` ${formatIdent(c.name)}`;
      const parts = formatIndexParts(c.parts);
      return `${prefix}${keyword}${name} ${parts}${formatIndexOptions(c.options)}`;
    }
  }
}

function formatTableOptions(options: readonly TableOption[]): string {
  return options
    .map((o) => {
      const name = o.name === "CHARSET" ? "DEFAULT CHARSET" : o.name;
      const value = o.quoted ? formatString(o.value) : formatOptionWord(o.value);
      return ` ${name}=${value}`;
    })
    .join("");
}

function formatOptionWord(value: string): string {
  return /^[A-Za-z0-9_$.]+$/.test(value) ? value : formatIdent(value);
}

function formatPosition(position: ColumnPosition): string {
  if (position === null) return "";
  if (position.kind === "first") return " FIRST";
  return ` AFTER ${formatIdent(position.column)}`;
}

function formatAlterSpec(spec: AlterSpec): string {
  switch (spec.kind) {
    case "addPartition":
    case "dropPartition":
    case "truncatePartition":
    case "repartition":
      return formatPartitionAlterSpec(spec);
    case "addColumns":
      if (spec.columns.length === 1 && spec.columns[0] !== undefined) {
        return `ADD COLUMN ${formatColumnDef(spec.columns[0])}${formatPosition(spec.position)}`;
      }
      return `ADD COLUMN (${spec.columns.map(formatColumnDef).join(", ")})`;
    case "dropColumn":
      return `DROP COLUMN ${spec.ifExists ? "IF EXISTS " : ""}${formatIdent(spec.name)}`;
    case "modifyColumn":
      return `MODIFY COLUMN ${formatColumnDef(spec.column)}${formatPosition(spec.position)}`;
    case "changeColumn":
      return (
        `CHANGE COLUMN ${formatIdent(spec.oldName)} ${formatColumnDef(spec.column)}` +
        formatPosition(spec.position)
      );
    case "renameColumn":
      return `RENAME COLUMN ${formatIdent(spec.oldName)} TO ${formatIdent(spec.newName)}`;
    case "alterColumnDefault":
      return spec.value === null
        ? `ALTER COLUMN ${formatIdent(spec.name)} DROP DEFAULT`
        : `ALTER COLUMN ${formatIdent(spec.name)} SET DEFAULT ` +
          operand(spec.value, precedence.unary);
    case "addConstraint":
      return `ADD ${formatConstraint(spec.constraint)}`;
    case "dropIndex":
      return `DROP INDEX ${spec.ifExists ? "IF EXISTS " : ""}${formatIdent(spec.name)}`;
    case "dropPrimaryKey":
      return "DROP PRIMARY KEY";
    case "dropForeignKey":
      return `DROP FOREIGN KEY ${formatIdent(spec.name)}`;
    case "dropCheck":
      return `DROP CHECK ${formatIdent(spec.name)}`;
    case "renameIndex":
      return `RENAME INDEX ${formatIdent(spec.oldName)} TO ${formatIdent(spec.newName)}`;
    case "renameTable":
      return `RENAME TO ${tableName(spec.to)}`;
    case "options":
      return formatTableOptions(spec.options).trimStart();
    case "convertCharset":
      return (
        `CONVERT TO CHARACTER SET ${spec.charset}` +
        (spec.collate === null ? "" : ` COLLATE ${spec.collate}`)
      );
    case "keys":
      return spec.enable ? "ENABLE KEYS" : "DISABLE KEYS";
    default:
      return unreachable(spec, "alter specification");
  }
}

function formatUser(user: UserSpec): string {
  if (user.current) return "CURRENT_USER";
  return `${formatString(user.name)}@${formatString(user.host)}`;
}

function formatUserAuth(auth: UserAuth): string {
  let out = formatUser(auth.user);
  if (auth.plugin !== null) {
    out += ` IDENTIFIED WITH ${formatIdent(auth.plugin)}`;
    if (auth.password !== null) out += ` BY ${formatString(auth.password)}`;
    else if (auth.authString !== null) out += ` AS ${formatString(auth.authString)}`;
  } else if (auth.password !== null) {
    out += ` IDENTIFIED BY ${formatString(auth.password)}`;
  } else if (auth.authString !== null) {
    out += ` IDENTIFIED BY PASSWORD ${formatString(auth.authString)}`;
  }
  return out;
}

function formatPrivileges(privileges: readonly Privilege[]): string {
  return privileges
    .map((p) => p.name + (p.columns.length > 0 ? ` (${identList(p.columns)})` : ""))
    .join(", ");
}

function formatGrantLevel(level: GrantLevel): string {
  const table = level.table === "*" ? "*" : formatIdent(level.table);
  if (level.db === null) return table;
  return `${level.db === "*" ? "*" : formatIdent(level.db)}.${table}`;
}

function formatSetAssignment(a: SetAssignment): string {
  switch (a.kind) {
    case "names":
      if (a.charset === null) return "NAMES DEFAULT";
      return `NAMES ${a.charset}${a.collate === null ? "" : ` COLLATE ${a.collate}`}`;
    case "charset":
      return `CHARACTER SET ${a.charset ?? "DEFAULT"}`;
    case "var": {
      const target = a.target.kind === "userVar"
        ? formatUserVar(a.target.name)
        : formatExpr(a.target);
      return `${target} = ${formatExpr(a.value)}`;
    }
    default:
      return unreachable(a, "SET assignment");
  }
}

function likeWhere(s: ShowStatement): string {
  if (s.like !== null) return ` LIKE ${formatString(s.like)}`;
  if (s.where !== null) return ` WHERE ${formatExpr(s.where)}`;
  return "";
}

function formatShow(s: ShowStatement): string {
  const scope = s.scope === null ? "" : `${s.scope} `;
  const full = s.full ? "FULL " : "";
  const fromDb = s.db === null ? "" : ` FROM ${formatIdent(s.db)}`;
  switch (s.target) {
    case "DATABASES":
      return `SHOW DATABASES${likeWhere(s)}`;
    case "TABLES":
      return `SHOW ${full}TABLES${fromDb}${likeWhere(s)}`;
    case "COLUMNS":
      return `SHOW ${full}COLUMNS FROM ${tableName(s.table ?? { db: null, name: "" })}${fromDb}` +
        likeWhere(s);
    case "INDEX":
      return `SHOW INDEX FROM ${tableName(s.table ?? { db: null, name: "" })}${fromDb}` +
        likeWhere(s);
    case "CREATE TABLE":
    case "CREATE VIEW":
      return `SHOW ${s.target} ${tableName(s.table ?? { db: null, name: "" })}`;
    case "CREATE DATABASE":
      return `SHOW CREATE DATABASE ${s.ifNotExists ? "IF NOT EXISTS " : ""}` +
        formatIdent(s.db ?? "");
    case "CREATE USER":
      return `SHOW CREATE USER ${s.user === null ? "CURRENT_USER" : formatUser(s.user)}`;
    case "VARIABLES":
    case "STATUS":
      return `SHOW ${scope}${s.target}${likeWhere(s)}`;
    case "WARNINGS":
    case "ERRORS":
      return `SHOW ${s.target}${s.limit === null ? "" : formatLimit(s.limit)}`;
    case "PROCESSLIST":
      return `SHOW ${full}PROCESSLIST`;
    case "TABLE STATUS":
    case "TRIGGERS":
    case "EVENTS":
      return `SHOW ${s.target}${fromDb}${likeWhere(s)}`;
    case "SHARDS":
      return `SHOW TABLE ${tableName(s.table ?? { db: null, name: "" })} SHARDS` +
        (s.where === null ? "" : ` WHERE ${formatExpr(s.where)}`);
    case "GRANTS":
      return `SHOW GRANTS${s.user === null ? "" : ` FOR ${formatUser(s.user)}`}`;
    case "CHARSET":
    case "COLLATION":
    case "PROCEDURE STATUS":
    case "FUNCTION STATUS":
      return `SHOW ${s.target}${likeWhere(s)}`;
    case "ENGINES":
    case "PLUGINS":
    case "PRIVILEGES":
    case "MASTER STATUS":
    case "BINARY LOGS":
      return `SHOW ${s.target}`;
    default:
      return unreachable(s.target, "SHOW target");
  }
}

/** Formats any statement as canonical MySQL text (no trailing `;`). */
export function formatStatement(s: Statement): string {
  switch (s.kind) {
    case "select":
    case "setOp":
    case "parenQuery":
    case "values":
      return formatQuery(s);
    case "insert": {
      let out = s.replace ? "REPLACE" : "INSERT";
      if (s.hints !== null) out += ` /*+ ${s.hints} */`;
      if (s.priority !== null) out += ` ${s.priority}`;
      if (s.ignore) out += " IGNORE";
      out += ` INTO ${tableName(s.table)}`;
      if (s.partitions.length > 0) out += ` PARTITION (${identList(s.partitions)})`;
      if (s.columns !== null) out += ` (${identList(s.columns)})`;
      switch (s.source.kind) {
        case "values":
          out += " VALUES " + s.source.rows
            .map((r) => `(${r.map(formatExpr).join(", ")})`)
            .join(", ");
          break;
        case "set":
          out += ` SET ${formatAssignments(s.source.assignments)}`;
          break;
        case "query":
          out += ` ${formatQuery(s.source.query)}`;
          break;
        default:
          unreachable(s.source, "insert source");
      }
      if (s.rowAlias !== undefined) {
        out += ` AS ${formatIdent(s.rowAlias.name)}`;
        if (s.rowAlias.columns !== null) {
          out += ` (${s.rowAlias.columns.map(formatIdent).join(", ")})`;
        }
      }
      if (s.onDuplicate.length > 0) {
        out += ` ON DUPLICATE KEY UPDATE ${formatAssignments(s.onDuplicate)}`;
      }
      return out;
    }
    case "update": {
      let out = s.with === null ? "UPDATE" : `${formatWith(s.with)}UPDATE`;
      if (s.hints !== null) out += ` /*+ ${s.hints} */`;
      if (s.lowPriority) out += " LOW_PRIORITY";
      if (s.ignore) out += " IGNORE";
      out += ` ${s.tables.map(formatTableExpr).join(", ")} SET ${formatAssignments(s.set)}`;
      return out + formatWhereOrderLimit(s.where, s.orderBy, s.limit);
    }
    case "delete": {
      let out = s.with === null ? "DELETE" : `${formatWith(s.with)}DELETE`;
      if (s.hints !== null) out += ` /*+ ${s.hints} */`;
      if (s.lowPriority) out += " LOW_PRIORITY";
      if (s.quick) out += " QUICK";
      if (s.ignore) out += " IGNORE";
      if (s.targets.length > 0) out += ` ${s.targets.map(tableName).join(", ")}`;
      out += ` FROM ${s.from.map(formatTableExpr).join(", ")}`;
      return out + formatWhereOrderLimit(s.where, s.orderBy, s.limit);
    }
    case "createDatabase":
      return `CREATE DATABASE ${s.ifNotExists ? "IF NOT EXISTS " : ""}${formatIdent(s.name)}` +
        formatTableOptions(s.options);
    case "alterDatabase":
      return `ALTER DATABASE${s.name === null ? "" : " " + formatIdent(s.name)}` +
        formatTableOptions(s.options);
    case "dropDatabase":
      return `DROP DATABASE ${s.ifExists ? "IF EXISTS " : ""}${formatIdent(s.name)}`;
    case "createTable": {
      let out = `CREATE ${s.temporary ? "TEMPORARY " : ""}TABLE `;
      out += `${s.ifNotExists ? "IF NOT EXISTS " : ""}${tableName(s.table)}`;
      if (s.like !== null) return `${out} LIKE ${tableName(s.like)}`;
      const elements = [...s.columns.map(formatColumnDef), ...s.constraints.map(formatConstraint)];
      if (elements.length > 0) out += ` (${elements.join(", ")})`;
      out += formatTableOptions(s.options);
      if (s.partition !== undefined) out += formatPartitionOptions(s.partition);
      if (s.query !== null) out += ` AS ${formatQuery(s.query)}`;
      return out;
    }
    case "alterTable":
      return `ALTER TABLE ${tableName(s.table)}` +
        (s.specs.length === 0 ? "" : " " + s.specs.map(formatAlterSpec).join(", "));
    case "dropTable":
      return `DROP ${s.temporary ? "TEMPORARY " : ""}TABLE ${s.ifExists ? "IF EXISTS " : ""}` +
        s.tables.map(tableName).join(", ");
    case "truncateTable":
      return `TRUNCATE TABLE ${tableName(s.table)}`;
    case "renameTable":
      return "RENAME TABLE " +
        s.pairs.map((p) => `${tableName(p.from)} TO ${tableName(p.to)}`).join(", ");
    case "createIndex":
      return `CREATE ${s.type === null ? "" : s.type + " "}INDEX ` +
        `${s.ifNotExists ? "IF NOT EXISTS " : ""}${formatIdent(s.name)} ON ${tableName(s.table)} ` +
        formatIndexParts(s.parts) + formatIndexOptions(s.options);
    case "dropIndex":
      return `DROP INDEX ${s.ifExists ? "IF EXISTS " : ""}${formatIdent(s.name)} ON ` +
        tableName(s.table);
    case "createView": {
      let out = "CREATE ";
      if (s.orReplace) out += "OR REPLACE ";
      if (s.algorithm !== null) out += `ALGORITHM = ${s.algorithm} `;
      if (s.definer !== null) out += `DEFINER = ${formatUser(s.definer)} `;
      if (s.sqlSecurity !== null) out += `SQL SECURITY ${s.sqlSecurity} `;
      out += `VIEW ${tableName(s.name)}`;
      if (s.columns !== null) out += ` (${identList(s.columns)})`;
      out += ` AS ${formatQuery(s.query)}`;
      if (s.checkOption !== null) out += ` WITH ${s.checkOption} CHECK OPTION`;
      return out;
    }
    case "dropView":
      return `DROP VIEW ${s.ifExists ? "IF EXISTS " : ""}${s.names.map(tableName).join(", ")}`;
    case "begin": {
      if (!s.start) return s.mode === null ? "BEGIN" : `BEGIN ${s.mode}`;
      const modes: string[] = [];
      if (s.consistentSnapshot) modes.push("WITH CONSISTENT SNAPSHOT");
      if (s.readOnly !== null) modes.push(s.readOnly ? "READ ONLY" : "READ WRITE");
      return `START TRANSACTION${modes.length > 0 ? " " + modes.join(", ") : ""}`;
    }
    case "commit":
      return "COMMIT";
    case "rollback":
      if (s.savepoint === null) return "ROLLBACK";
      return `ROLLBACK TO SAVEPOINT ${formatIdent(s.savepoint)}`;
    case "savepoint":
      return `SAVEPOINT ${formatIdent(s.name)}`;
    case "releaseSavepoint":
      return `RELEASE SAVEPOINT ${formatIdent(s.name)}`;
    case "set":
      return `SET ${s.assignments.map(formatSetAssignment).join(", ")}`;
    case "setTransaction": {
      const parts: string[] = [];
      if (s.isolation !== null) parts.push(`ISOLATION LEVEL ${s.isolation}`);
      if (s.readOnly !== null) parts.push(s.readOnly ? "READ ONLY" : "READ WRITE");
      return `SET ${s.scope === null ? "" : s.scope + " "}TRANSACTION ${parts.join(", ")}`;
    }
    case "setPassword":
      return `SET PASSWORD${s.user === null ? "" : ` FOR ${formatUser(s.user)}`} = ` +
        formatString(s.password);
    case "use":
      return `USE ${formatIdent(s.db)}`;
    case "show":
      return formatShow(s);
    case "explain":
      return `EXPLAIN ${s.analyze ? "ANALYZE " : ""}` +
        `${s.format === null ? "" : `FORMAT = ${s.format} `}${formatStatement(s.statement)}`;
    case "analyzeTable":
      return `ANALYZE TABLE ${s.tables.map(tableName).join(", ")}`;
    case "admin":
      return s.action === "showDdlJobs" ? "ADMIN SHOW DDL JOBS"
        : s.action === "checkTable" ? `ADMIN CHECK TABLE ${s.tables.map(tableName).join(", ")}`
        : `ADMIN CHECK INDEX ${tableName(s.tables[0]!)} ${formatIdent(s.index ?? "")}`;
    case "prepare":
      return `PREPARE ${formatIdent(s.name)} FROM ` +
        (s.source.kind === "text" ? formatString(s.source.text) : formatUserVar(s.source.name));
    case "execute":
      return `EXECUTE ${formatIdent(s.name)}` +
        (s.using.length === 0 ? "" : ` USING ${s.using.map(formatUserVar).join(", ")}`);
    case "deallocate":
      return `DEALLOCATE PREPARE ${formatIdent(s.name)}`;
    case "kill":
      return `KILL ${s.query ? "QUERY" : "CONNECTION"} ${formatExpr(s.id)}`;
    case "lockTables":
      return "LOCK TABLES " + s.tables
        .map((t) => {
          const alias = t.alias === null ? "" : ` AS ${formatIdent(t.alias)}`;
          return `${tableName(t.table)}${alias} ${t.lock}`;
        })
        .join(", ");
    case "unlockTables":
      return "UNLOCK TABLES";
    case "createUser":
      return `CREATE USER ${s.ifNotExists ? "IF NOT EXISTS " : ""}` +
        s.users.map(formatUserAuth).join(", ");
    case "alterUser":
      return `ALTER USER ${s.ifExists ? "IF EXISTS " : ""}` +
        s.users.map(formatUserAuth).join(", ");
    case "dropUser":
      return `DROP USER ${s.ifExists ? "IF EXISTS " : ""}${s.users.map(formatUser).join(", ")}`;
    case "grant":
      return `GRANT ${formatPrivileges(s.privileges)} ON ${formatGrantLevel(s.level)} TO ` +
        s.users.map(formatUserAuth).join(", ") + (s.withGrantOption ? " WITH GRANT OPTION" : "");
    case "revoke":
      return `REVOKE ${formatPrivileges(s.privileges)} ON ${formatGrantLevel(s.level)} FROM ` +
        s.users.map(formatUser).join(", ");
    case "flush":
      if (s.what === "TABLES" || s.what === "TABLES WITH READ LOCK") {
        const tables = s.tables.length === 0 ? "" : " " + s.tables.map(tableName).join(", ");
        return `FLUSH TABLES${tables}${s.what === "TABLES" ? "" : " WITH READ LOCK"}`;
      }
      return `FLUSH ${s.what}`;
    case "loadData": {
      let out = `LOAD DATA ${s.local ? "LOCAL " : ""}INFILE ${formatString(s.file)}`;
      if (s.duplicate !== null) out += ` ${s.duplicate}`;
      out += ` INTO TABLE ${tableName(s.table)}`;
      if (s.charset !== null) out += ` CHARACTER SET ${s.charset}`;
      const fields: string[] = [];
      if (s.fieldsTerminatedBy !== null) {
        fields.push(`TERMINATED BY ${formatString(s.fieldsTerminatedBy)}`);
      }
      if (s.fieldsEnclosedBy !== null) {
        fields.push(`${s.fieldsOptionallyEnclosed ? "OPTIONALLY " : ""}ENCLOSED BY ` +
          formatString(s.fieldsEnclosedBy));
      }
      if (s.fieldsEscapedBy !== null) fields.push(`ESCAPED BY ${formatString(s.fieldsEscapedBy)}`);
      if (fields.length > 0) out += ` FIELDS ${fields.join(" ")}`;
      const lines: string[] = [];
      if (s.linesStartingBy !== null) lines.push(`STARTING BY ${formatString(s.linesStartingBy)}`);
      if (s.linesTerminatedBy !== null) {
        lines.push(`TERMINATED BY ${formatString(s.linesTerminatedBy)}`);
      }
      if (lines.length > 0) out += ` LINES ${lines.join(" ")}`;
      if (s.ignoreLines !== null) out += ` IGNORE ${s.ignoreLines} LINES`;
      if (s.columns !== null) out += ` (${s.columns.map(formatExpr).join(", ")})`;
      if (s.set.length > 0) out += ` SET ${formatAssignments(s.set)}`;
      return out;
    }
    case "splitTable": {
      let out = `SPLIT TABLE ${tableName(s.table)}`;
      if (s.index !== null) out += ` INDEX ${formatIdent(s.index)}`;
      const list = (values: readonly Expr[]): string => `(${values.map(formatExpr).join(", ")})`;
      if (s.between !== null) {
        return `${out} BETWEEN ${list(s.between.lower)} AND ${list(s.between.upper)} ` +
          `REGIONS ${s.between.count}`;
      }
      return `${out} BY ${s.by.map(list).join(", ")}`;
    }
    case "do":
      return `DO ${s.exprs.map(formatExpr).join(", ")}`;
    default:
      return unreachable(s, "statement");
  }
}
