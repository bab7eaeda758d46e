/**
 * The typed syntax tree the SQL parser produces and the printer consumes.
 *
 * Every node is a plain immutable object with a `kind` discriminant, so consumers switch
 * exhaustively. The tree is normalized where MySQL treats spellings as synonyms (`&&` is
 * `AND`, `!=` is `<>`, `MOD` is `%`, `RLIKE` is `REGEXP`, `CROSS JOIN` without a condition
 * is an inner join, `LOCK IN SHARE MODE` keeps its own mode because TiDB treats it apart),
 * and keeps what changes meaning. Identifiers keep the case they were written in; keywords,
 * type names and function names are stored in one case (upper for keywords and types,
 * lower for function names). Numbers keep their source text so no precision is lost.
 */

/** A possibly qualified table name: `db.t` or `t`. */
export interface TableName {
  readonly db: string | null;
  readonly name: string;
}

// ---------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------

/** Binary operators, normalized (`&&` → AND, `||` → OR, `!=` → `<>`, `MOD` → `%`). */
export type BinaryOp =
  | "OR"
  | "XOR"
  | "AND"
  | "="
  | "<=>"
  | ">="
  | ">"
  | "<="
  | "<"
  | "<>"
  | "|"
  | "&"
  | "<<"
  | ">>"
  | "+"
  | "-"
  | "*"
  | "/"
  | "DIV"
  | "%"
  | "^";

/** Comparison operators (the `bool_pri` level of MySQL's grammar). */
export type CompareOp = "=" | "<=>" | ">=" | ">" | "<=" | "<" | "<>";

/** Prefix operators. `NOT` binds loosely, `!` tightly (MySQL's `not2`). */
export type UnaryOp = "-" | "+" | "~" | "!" | "NOT" | "BINARY";

/** Units of INTERVAL, EXTRACT, TIMESTAMPADD and TIMESTAMPDIFF. */
export type TimeUnit =
  | "MICROSECOND"
  | "SECOND"
  | "MINUTE"
  | "HOUR"
  | "DAY"
  | "WEEK"
  | "MONTH"
  | "QUARTER"
  | "YEAR"
  | "SECOND_MICROSECOND"
  | "MINUTE_MICROSECOND"
  | "MINUTE_SECOND"
  | "HOUR_MICROSECOND"
  | "HOUR_SECOND"
  | "HOUR_MINUTE"
  | "DAY_MICROSECOND"
  | "DAY_SECOND"
  | "DAY_MINUTE"
  | "DAY_HOUR"
  | "YEAR_MONTH";

/** One item of ORDER BY (in queries, windows and GROUP_CONCAT). */
export interface OrderItem {
  readonly expr: Expr;
  readonly desc: boolean;
}

/** A window frame bound. `value` is set only for `n PRECEDING` / `n FOLLOWING`. */
export interface FrameBound {
  readonly type:
    | "UNBOUNDED PRECEDING"
    | "UNBOUNDED FOLLOWING"
    | "CURRENT ROW"
    | "PRECEDING"
    | "FOLLOWING";
  readonly value: Expr | null;
}

/** `ROWS|RANGE|GROUPS start` or `... BETWEEN start AND end`. */
export interface WindowFrame {
  readonly unit: "ROWS" | "RANGE" | "GROUPS";
  readonly start: FrameBound;
  readonly end: FrameBound | null;
}

/**
 * A window specification. `OVER w` and `OVER (w)` are the same window, so both parse to
 * `{ ref: "w" }` with empty partition and order lists.
 */
export interface WindowSpec {
  readonly ref: string | null;
  readonly partitionBy: readonly Expr[];
  readonly orderBy: readonly OrderItem[];
  readonly frame: WindowFrame | null;
}

/** A scalar data type, as used by CAST and by column definitions. */
export interface DataType {
  /** Upper-case type name: `INT`, `VARCHAR`, `DECIMAL`, `SIGNED`, `DOUBLE` … */
  readonly name: string;
  /** Display width, length or precision: `VARCHAR(20)` → 20. */
  readonly length: number | null;
  /** Scale or fractional digits: `DECIMAL(10,2)` → 2. */
  readonly scale: number | null;
  readonly unsigned: boolean;
  readonly zerofill: boolean;
  /** `CHAR(10) BINARY`: the binary collation of the character set. */
  readonly binary: boolean;
  readonly charset: string | null;
  readonly collate: string | null;
  /** Members of ENUM and SET. */
  readonly values: readonly string[];
}

export type Expr =
  | { readonly kind: "null" }
  | { readonly kind: "bool"; readonly value: boolean }
  /** An unsigned integer literal; its source text (no sign: `-1` is unary minus). */
  | { readonly kind: "int"; readonly text: string }
  | { readonly kind: "decimal"; readonly text: string }
  | { readonly kind: "float"; readonly text: string }
  /** A string literal, decoded; `charset` is an introducer such as `_utf8mb4`. */
  | { readonly kind: "string"; readonly value: string; readonly charset: string | null }
  /** `X'0F'` or `0x0F`: `digits` are the hex digits as written. */
  | { readonly kind: "hex"; readonly digits: string; readonly charset: string | null }
  /** `b'01'` or `0b01`. */
  | { readonly kind: "bit"; readonly digits: string; readonly charset: string | null }
  /** `DATE '…'`, `TIME '…'`, `TIMESTAMP '…'`. */
  | {
      readonly kind: "temporal";
      readonly type: "DATE" | "TIME" | "TIMESTAMP";
      readonly value: string;
    }
  /** A `?` placeholder; `index` counts placeholders from 0 across the whole input. */
  | { readonly kind: "param"; readonly index: number }
  /** DEFAULT as a value (INSERT VALUES, UPDATE SET, SET var = DEFAULT). */
  | { readonly kind: "default" }
  | {
      readonly kind: "column";
      readonly db: string | null;
      readonly table: string | null;
      readonly column: string;
    }
  /** `*` or `t.*` in a select list, and `*` in `COUNT(*)`. */
  | { readonly kind: "star"; readonly table: TableName | null }
  | { readonly kind: "userVar"; readonly name: string }
  | {
      readonly kind: "sysVar";
      readonly scope: "GLOBAL" | "SESSION" | null;
      readonly name: string;
    }
  | { readonly kind: "unary"; readonly op: UnaryOp; readonly operand: Expr }
  | {
      readonly kind: "binary";
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
    }
  /** `@v := expr`. */
  | { readonly kind: "assign"; readonly name: string; readonly value: Expr }
  | {
      readonly kind: "is";
      readonly operand: Expr;
      readonly not: boolean;
      readonly value: "NULL" | "TRUE" | "FALSE" | "UNKNOWN";
    }
  | {
      readonly kind: "like";
      readonly operand: Expr;
      readonly not: boolean;
      readonly pattern: Expr;
      readonly escape: Expr | null;
    }
  | {
      readonly kind: "regexp";
      readonly operand: Expr;
      readonly not: boolean;
      readonly pattern: Expr;
    }
  | {
      readonly kind: "in";
      readonly operand: Expr;
      readonly not: boolean;
      readonly list: readonly Expr[];
    }
  | {
      readonly kind: "inSubquery";
      readonly operand: Expr;
      readonly not: boolean;
      readonly query: Query;
    }
  | {
      readonly kind: "between";
      readonly operand: Expr;
      readonly not: boolean;
      readonly low: Expr;
      readonly high: Expr;
    }
  | { readonly kind: "memberOf"; readonly operand: Expr; readonly json: Expr }
  /** `a = ANY (SELECT …)`; `SOME` is `ANY`. */
  | {
      readonly kind: "compareSubquery";
      readonly op: CompareOp;
      readonly quantifier: "ANY" | "ALL";
      readonly operand: Expr;
      readonly query: Query;
    }
  | { readonly kind: "exists"; readonly query: Query }
  /** A scalar subquery `(SELECT …)`. */
  | { readonly kind: "subquery"; readonly query: Query }
  /** `(a, b)` or `ROW(a, b)`: at least two items. */
  | { readonly kind: "row"; readonly items: readonly Expr[] }
  | {
      readonly kind: "case";
      readonly operand: Expr | null;
      readonly whens: readonly { readonly when: Expr; readonly then: Expr }[];
      readonly else: Expr | null;
    }
  /** `CAST(x AS type)`; `CONVERT(x, type)` parses to the same node. */
  | { readonly kind: "cast"; readonly expr: Expr; readonly type: DataType }
  /** `CONVERT(x USING charset)`. */
  | { readonly kind: "convertUsing"; readonly expr: Expr; readonly charset: string }
  | { readonly kind: "collate"; readonly expr: Expr; readonly collation: string }
  /** `INTERVAL value unit`, in date arithmetic and DATE_ADD-style arguments. */
  | { readonly kind: "interval"; readonly value: Expr; readonly unit: TimeUnit }
  /** A bare unit as a function argument: `TIMESTAMPDIFF(DAY, a, b)`. */
  | { readonly kind: "timeUnit"; readonly unit: TimeUnit }
  | { readonly kind: "extract"; readonly unit: TimeUnit; readonly expr: Expr }
  | {
      readonly kind: "trim";
      readonly direction: "BOTH" | "LEADING" | "TRAILING" | null;
      readonly remove: Expr | null;
      readonly expr: Expr;
    }
  /** `col->'$.path'` (`unquote` for `->>`). */
  | {
      readonly kind: "jsonPath";
      readonly column: Expr;
      readonly path: string;
      readonly unquote: boolean;
    }
  /**
   * A function call, aggregate or window function. `name` is lower case. `COUNT(*)` has one
   * `star` argument. `CURRENT_TIMESTAMP` without parentheses is `current_timestamp()`.
   */
  | {
      readonly kind: "func";
      readonly name: string;
      readonly args: readonly Expr[];
      readonly distinct: boolean;
      readonly over: WindowSpec | null;
    }
  | {
      readonly kind: "groupConcat";
      readonly distinct: boolean;
      readonly args: readonly Expr[];
      readonly orderBy: readonly OrderItem[];
      readonly separator: string | null;
    }
  /** `MATCH (cols) AGAINST (expr [modifier])`. */
  | {
      readonly kind: "match";
      readonly columns: readonly Expr[];
      readonly against: Expr;
      readonly modifier: string | null;
    };

export type ExprKind = Expr["kind"];

// ---------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------

export interface Cte {
  readonly name: string;
  readonly columns: readonly string[] | null;
  readonly query: Query;
}

export interface With {
  readonly recursive: boolean;
  readonly ctes: readonly Cte[];
}

/** `LIMIT count` / `LIMIT offset, count` / `LIMIT count OFFSET offset`. */
export interface Limit {
  readonly count: Expr;
  readonly offset: Expr | null;
}

/** A locking read clause. */
export interface LockClause {
  readonly mode: "FOR UPDATE" | "FOR SHARE" | "LOCK IN SHARE MODE";
  readonly of: readonly TableName[];
  readonly wait: "NOWAIT" | "SKIP LOCKED" | null;
}

export interface SelectField {
  readonly expr: Expr;
  readonly alias: string | null;
}

export interface NamedWindow {
  readonly name: string;
  readonly spec: WindowSpec;
}

export interface IndexHint {
  readonly type: "USE" | "FORCE" | "IGNORE";
  readonly scope: "JOIN" | "ORDER BY" | "GROUP BY" | null;
  readonly indexes: readonly string[];
}

/** One FROM item: a table, a derived table, a join, or a parenthesized list. */
export type TableExpr =
  | {
      readonly kind: "table";
      readonly name: TableName;
      readonly alias: string | null;
      readonly partitions: readonly string[];
      readonly indexHints: readonly IndexHint[];
    }
  | {
      readonly kind: "derived";
      readonly query: Query;
      readonly alias: string | null;
      readonly columns: readonly string[] | null;
      readonly lateral: boolean;
    }
  | {
      readonly kind: "join";
      /** INNER covers `JOIN`, `INNER JOIN`, `CROSS JOIN`; STRAIGHT is `STRAIGHT_JOIN`. */
      readonly type: "INNER" | "LEFT" | "RIGHT" | "STRAIGHT";
      readonly natural: boolean;
      readonly left: TableExpr;
      readonly right: TableExpr;
      readonly on: Expr | null;
      readonly using: readonly string[] | null;
    }
  /** `(t1, t2)` in FROM: a parenthesized comma list of at least two items. */
  | { readonly kind: "tableList"; readonly items: readonly TableExpr[] };

/** The parts every query form shares: WITH, ORDER BY and LIMIT. */
interface QueryBase {
  readonly with: With | null;
  readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null;
}

export interface SelectQuery extends QueryBase {
  readonly kind: "select";
  /** Optimizer hint text from `/*+ … *\/`, without the delimiters. */
  readonly hints: string | null;
  readonly distinct: boolean;
  /** Other select options in source order: `SQL_CALC_FOUND_ROWS`, `STRAIGHT_JOIN` … */
  readonly options: readonly string[];
  readonly fields: readonly SelectField[];
  /** FROM items (a comma list); empty without FROM or with `FROM DUAL`. */
  readonly from: readonly TableExpr[];
  readonly where: Expr | null;
  readonly groupBy: readonly Expr[];
  readonly withRollup: boolean;
  readonly having: Expr | null;
  readonly windows: readonly NamedWindow[];
  readonly lock: LockClause | null;
}

export interface SetOpQuery extends QueryBase {
  readonly kind: "setOp";
  readonly op: "UNION" | "INTERSECT" | "EXCEPT";
  readonly all: boolean;
  readonly left: Query;
  readonly right: Query;
}

/**
 * A parenthesized query with its own ORDER BY / LIMIT outside the parentheses, when the
 * inner query already has them: `(SELECT … LIMIT 5) ORDER BY a LIMIT 2`.
 */
export interface ParenQuery extends QueryBase {
  readonly kind: "parenQuery";
  readonly query: Query;
}

/** `VALUES ROW(1, 2), ROW(3, 4)` as a query (MySQL 8.0.19). */
export interface ValuesQuery extends QueryBase {
  readonly kind: "values";
  readonly rows: readonly (readonly Expr[])[];
}

export type Query = SelectQuery | SetOpQuery | ParenQuery | ValuesQuery;

// ---------------------------------------------------------------------------------------
// DML
// ---------------------------------------------------------------------------------------

export interface Assignment {
  readonly column: { readonly table: string | null; readonly column: string };
  readonly value: Expr;
}

export type InsertSource =
  | { readonly kind: "values"; readonly rows: readonly (readonly Expr[])[] }
  | { readonly kind: "set"; readonly assignments: readonly Assignment[] }
  | { readonly kind: "query"; readonly query: Query };

export interface InsertStatement {
  readonly kind: "insert";
  readonly replace: boolean;
  readonly hints: string | null;
  readonly priority: "LOW_PRIORITY" | "HIGH_PRIORITY" | "DELAYED" | null;
  readonly ignore: boolean;
  readonly table: TableName;
  readonly partitions: readonly string[];
  readonly columns: readonly string[] | null;
  readonly source: InsertSource;
  readonly onDuplicate: readonly Assignment[];
  /** MySQL 8.0.19 `VALUES (…) AS name [(columns)]`; absent when not given. */
  readonly rowAlias?: { readonly name: string; readonly columns: readonly string[] | null };
}

export interface UpdateStatement {
  readonly kind: "update";
  readonly with: With | null;
  readonly hints: string | null;
  readonly lowPriority: boolean;
  readonly ignore: boolean;
  readonly tables: readonly TableExpr[];
  readonly set: readonly Assignment[];
  readonly where: Expr | null;
  readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null;
}

/**
 * DELETE. Single-table form: `targets` is empty and `from` holds one table. Multi-table
 * forms (`DELETE t1 FROM …` and `DELETE FROM t1 USING …`) both set `targets`.
 */
export interface DeleteStatement {
  readonly kind: "delete";
  readonly with: With | null;
  readonly hints: string | null;
  readonly lowPriority: boolean;
  readonly quick: boolean;
  readonly ignore: boolean;
  readonly targets: readonly TableName[];
  readonly from: readonly TableExpr[];
  readonly where: Expr | null;
  readonly orderBy: readonly OrderItem[];
  readonly limit: Limit | null;
}

// ---------------------------------------------------------------------------------------
// DDL
// ---------------------------------------------------------------------------------------

export type ColumnOption =
  | { readonly kind: "null" }
  | { readonly kind: "notNull" }
  | { readonly kind: "default"; readonly value: Expr }
  | { readonly kind: "onUpdate"; readonly value: Expr }
  | { readonly kind: "autoIncrement" }
  | { readonly kind: "autoRandom"; readonly shardBits: number | null;
      /** TiDB's second argument, AUTO_RANDOM(S, R); absent or null: 64. */
      readonly rangeBits?: number | null }
  | { readonly kind: "primaryKey" }
  | { readonly kind: "unique" }
  | { readonly kind: "comment"; readonly text: string }
  | { readonly kind: "collate"; readonly collation: string }
  | { readonly kind: "generated"; readonly expr: Expr; readonly stored: boolean }
  | { readonly kind: "check"; readonly name: string | null; readonly expr: Expr }
  | { readonly kind: "references"; readonly references: ForeignKeyReference }
  | { readonly kind: "visible"; readonly visible: boolean }
  | { readonly kind: "columnFormat"; readonly format: string }
  | { readonly kind: "storage"; readonly storage: string }
  | { readonly kind: "srid"; readonly srid: number };

export interface ColumnDefinition {
  readonly name: string;
  readonly type: DataType;
  readonly options: readonly ColumnOption[];
}

/** One key part: a column with optional prefix length, or a functional `(expr)`. */
export interface IndexPart {
  readonly column: string | null;
  readonly expr: Expr | null;
  readonly length: number | null;
  readonly desc: boolean;
}

export interface IndexOption {
  readonly name:
    | "USING"
    | "COMMENT"
    | "KEY_BLOCK_SIZE"
    | "VISIBLE"
    | "INVISIBLE"
    | "PARSER"
    | "CLUSTERED"
    | "NONCLUSTERED";
  readonly value: string | null;
}

export interface ForeignKeyReference {
  readonly table: TableName;
  readonly columns: readonly string[];
  readonly match: string | null;
  readonly onDelete: string | null;
  readonly onUpdate: string | null;
}

export type TableConstraint =
  | {
      readonly kind: "primaryKey" | "unique" | "index" | "fulltext" | "spatial";
      readonly constraintName: string | null;
      readonly name: string | null;
      readonly parts: readonly IndexPart[];
      readonly options: readonly IndexOption[];
    }
  | {
      readonly kind: "foreignKey";
      readonly constraintName: string | null;
      readonly name: string | null;
      readonly columns: readonly string[];
      readonly references: ForeignKeyReference;
    }
  | {
      readonly kind: "check";
      readonly constraintName: string | null;
      readonly expr: Expr;
      readonly enforced: boolean | null;
    };

/**
 * A table or database option: `ENGINE=InnoDB`, `DEFAULT CHARSET=utf8mb4`, `COMMENT='x'`.
 * `name` is upper case and normalized (`DEFAULT CHARSET`, `CHARACTER SET` → `CHARSET`;
 * `DEFAULT COLLATE` → `COLLATE`); `value` is the value text, `quoted` if it was a string.
 */
export interface TableOption {
  readonly name: string;
  readonly value: string;
  readonly quoted: boolean;
}

/**
 * `PARTITION BY RANGE (expr) | RANGE COLUMNS (cols) | LIST … | [LINEAR] HASH (expr) |
 * [LINEAR] KEY (cols) [PARTITIONS n] [(definitions)]` of CREATE TABLE.
 */
export interface PartitionOptions {
  readonly method: "RANGE" | "LIST" | "HASH" | "KEY";
  /** RANGE COLUMNS / LIST COLUMNS. */
  readonly columnsForm: boolean;
  readonly linear: boolean;
  /** RANGE, LIST and HASH: the partitioning expression; null otherwise. */
  readonly expr: Expr | null;
  /** COLUMNS forms and KEY: the column names. */
  readonly columns: readonly string[];
  /** `PARTITIONS n`, or null. */
  readonly count: number | null;
  readonly definitions: readonly PartitionDefinition[];
}

/** `PARTITION name [VALUES LESS THAN (…) | MAXVALUE | VALUES IN (…)]`. */
export interface PartitionDefinition {
  readonly name: string;
  /** VALUES LESS THAN: one bound per column, `"MAXVALUE"` for MAXVALUE; null when absent. */
  readonly lessThan: readonly (Expr | "MAXVALUE")[] | null;
  /** VALUES IN: the value tuples (one value each unless LIST COLUMNS of several). */
  readonly inValues: readonly (readonly Expr[])[] | null;
}

export type ColumnPosition =
  | { readonly kind: "first" }
  | { readonly kind: "after"; readonly column: string }
  | null;

export type AlterSpec =
  | {
      readonly kind: "addColumns";
      readonly columns: readonly ColumnDefinition[];
      readonly position: ColumnPosition;
    }
  | { readonly kind: "dropColumn"; readonly name: string; readonly ifExists: boolean }
  | {
      readonly kind: "modifyColumn";
      readonly column: ColumnDefinition;
      readonly position: ColumnPosition;
    }
  | {
      readonly kind: "changeColumn";
      readonly oldName: string;
      readonly column: ColumnDefinition;
      readonly position: ColumnPosition;
    }
  | { readonly kind: "renameColumn"; readonly oldName: string; readonly newName: string }
  | { readonly kind: "alterColumnDefault"; readonly name: string; readonly value: Expr | null }
  | { readonly kind: "addConstraint"; readonly constraint: TableConstraint }
  | { readonly kind: "dropIndex"; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: "dropPrimaryKey" }
  | { readonly kind: "dropForeignKey"; readonly name: string }
  | { readonly kind: "dropCheck"; readonly name: string }
  | { readonly kind: "renameIndex"; readonly oldName: string; readonly newName: string }
  | { readonly kind: "renameTable"; readonly to: TableName }
  | { readonly kind: "options"; readonly options: readonly TableOption[] }
  | { readonly kind: "convertCharset"; readonly charset: string; readonly collate: string | null }
  | { readonly kind: "keys"; readonly enable: boolean }
  /** ADD PARTITION (definitions), DROP PARTITION names, TRUNCATE PARTITION names | ALL. */
  | { readonly kind: "addPartition"; readonly definitions: readonly PartitionDefinition[] }
  | { readonly kind: "dropPartition"; readonly names: readonly string[] }
  | { readonly kind: "truncatePartition"; readonly names: readonly string[] | "ALL" }
  /** PARTITION BY … (repartition), REMOVE PARTITIONING (`partition` null). */
  | { readonly kind: "repartition"; readonly partition: PartitionOptions | null };

// ---------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------

/** A user account: `'name'@'host'`; host `%` when omitted. */
export interface UserSpec {
  readonly name: string;
  readonly host: string;
  /** `CURRENT_USER` / `CURRENT_USER()`. */
  readonly current: boolean;
}

export interface UserAuth {
  readonly user: UserSpec;
  readonly plugin: string | null;
  /** `IDENTIFIED BY 'pw'`: the clear-text password. */
  readonly password: string | null;
  /** `IDENTIFIED WITH plugin AS 'hash'`: the stored authentication string. */
  readonly authString: string | null;
}

export interface Privilege {
  /** Upper case: `SELECT`, `ALL`, `CREATE VIEW`, `GRANT OPTION` … */
  readonly name: string;
  readonly columns: readonly string[];
}

/**
 * Grant level: `*.*` is `{ db: "*", table: "*" }`, `db.*` is `{ db: "db", table: "*" }`,
 * `t` is `{ db: null, table: "t" }` (the current database).
 */
export interface GrantLevel {
  readonly db: string | null;
  readonly table: string;
}

export interface SetAssignmentVar {
  readonly kind: "var";
  readonly target:
    | { readonly kind: "userVar"; readonly name: string }
    | {
        readonly kind: "sysVar";
        readonly scope: "GLOBAL" | "SESSION" | null;
        readonly name: string;
      };
  readonly value: Expr;
}

export type SetAssignment =
  | SetAssignmentVar
  | { readonly kind: "names"; readonly charset: string | null; readonly collate: string | null }
  | { readonly kind: "charset"; readonly charset: string | null };

export type IsolationLevel =
  | "READ UNCOMMITTED"
  | "READ COMMITTED"
  | "REPEATABLE READ"
  | "SERIALIZABLE";

/** What a SHOW statement shows. */
export type ShowTarget =
  | "DATABASES"
  | "TABLES"
  | "COLUMNS"
  | "INDEX"
  | "CREATE TABLE"
  | "CREATE DATABASE"
  | "CREATE VIEW"
  | "CREATE USER"
  | "VARIABLES"
  | "STATUS"
  | "WARNINGS"
  | "ERRORS"
  | "PROCESSLIST"
  | "ENGINES"
  | "CHARSET"
  | "COLLATION"
  | "TABLE STATUS"
  | "GRANTS"
  | "SHARDS"
  | "PLUGINS"
  | "PRIVILEGES"
  | "TRIGGERS"
  | "EVENTS"
  | "PROCEDURE STATUS"
  | "FUNCTION STATUS"
  | "MASTER STATUS"
  | "BINARY LOGS";

export interface ShowStatement {
  readonly kind: "show";
  readonly target: ShowTarget;
  readonly full: boolean;
  readonly scope: "GLOBAL" | "SESSION" | null;
  /** Table for COLUMNS, INDEX, CREATE TABLE/VIEW, SHARDS. */
  readonly table: TableName | null;
  /** Database for TABLES, TABLE STATUS, CREATE DATABASE, and `FROM db` of COLUMNS. */
  readonly db: string | null;
  readonly like: string | null;
  readonly where: Expr | null;
  /** SHOW GRANTS FOR user / SHOW CREATE USER user. */
  readonly user: UserSpec | null;
  /** `SHOW DATABASES`/`SHOW CREATE DATABASE IF NOT EXISTS`. */
  readonly ifNotExists: boolean;
  /** SHOW WARNINGS / ERRORS LIMIT. */
  readonly limit: Limit | null;
}

export interface LoadDataStatement {
  readonly kind: "loadData";
  readonly local: boolean;
  readonly file: string;
  readonly duplicate: "REPLACE" | "IGNORE" | null;
  readonly table: TableName;
  readonly charset: string | null;
  readonly fieldsTerminatedBy: string | null;
  readonly fieldsEnclosedBy: string | null;
  readonly fieldsOptionallyEnclosed: boolean;
  readonly fieldsEscapedBy: string | null;
  readonly linesStartingBy: string | null;
  readonly linesTerminatedBy: string | null;
  readonly ignoreLines: number | null;
  /** Target columns and user variables, in order. */
  readonly columns: readonly Expr[] | null;
  readonly set: readonly Assignment[];
}

export type Statement =
  | SelectQuery
  | SetOpQuery
  | ParenQuery
  | ValuesQuery
  | InsertStatement
  | UpdateStatement
  | DeleteStatement
  | {
      readonly kind: "createDatabase";
      readonly ifNotExists: boolean;
      readonly name: string;
      readonly options: readonly TableOption[];
    }
  | {
      readonly kind: "alterDatabase";
      readonly name: string | null;
      readonly options: readonly TableOption[];
    }
  | { readonly kind: "dropDatabase"; readonly ifExists: boolean; readonly name: string }
  | {
      readonly kind: "createTable";
      readonly temporary: boolean;
      readonly ifNotExists: boolean;
      readonly table: TableName;
      readonly columns: readonly ColumnDefinition[];
      readonly constraints: readonly TableConstraint[];
      readonly options: readonly TableOption[];
      readonly like: TableName | null;
      readonly query: Query | null;
      /** PARTITION BY …; absent: not partitioned. */
      readonly partition?: PartitionOptions;
    }
  | { readonly kind: "alterTable"; readonly table: TableName; readonly specs: readonly AlterSpec[] }
  | {
      readonly kind: "dropTable";
      readonly temporary: boolean;
      readonly ifExists: boolean;
      readonly tables: readonly TableName[];
    }
  | { readonly kind: "truncateTable"; readonly table: TableName }
  | {
      readonly kind: "renameTable";
      readonly pairs: readonly { readonly from: TableName; readonly to: TableName }[];
    }
  | {
      readonly kind: "createIndex";
      readonly type: "UNIQUE" | "FULLTEXT" | "SPATIAL" | null;
      readonly ifNotExists: boolean;
      readonly name: string;
      readonly table: TableName;
      readonly parts: readonly IndexPart[];
      readonly options: readonly IndexOption[];
    }
  | {
      readonly kind: "dropIndex";
      readonly ifExists: boolean;
      readonly name: string;
      readonly table: TableName;
    }
  | {
      readonly kind: "createView";
      readonly orReplace: boolean;
      readonly algorithm: string | null;
      readonly definer: UserSpec | null;
      readonly sqlSecurity: string | null;
      readonly name: TableName;
      readonly columns: readonly string[] | null;
      readonly query: Query;
      readonly checkOption: "CASCADED" | "LOCAL" | null;
    }
  | { readonly kind: "dropView"; readonly ifExists: boolean; readonly names: readonly TableName[] }
  | {
      readonly kind: "begin";
      /** `BEGIN` vs `START TRANSACTION` (the printer keeps the spelling). */
      readonly start: boolean;
      readonly readOnly: boolean | null;
      readonly consistentSnapshot: boolean;
      /** TiDB's `BEGIN PESSIMISTIC` / `BEGIN OPTIMISTIC`. */
      readonly mode: "PESSIMISTIC" | "OPTIMISTIC" | null;
    }
  | { readonly kind: "commit" }
  | { readonly kind: "rollback"; readonly savepoint: string | null }
  | { readonly kind: "savepoint"; readonly name: string }
  | { readonly kind: "releaseSavepoint"; readonly name: string }
  | { readonly kind: "set"; readonly assignments: readonly SetAssignment[] }
  | {
      readonly kind: "setTransaction";
      readonly scope: "GLOBAL" | "SESSION" | null;
      readonly isolation: IsolationLevel | null;
      readonly readOnly: boolean | null;
    }
  | { readonly kind: "setPassword"; readonly user: UserSpec | null; readonly password: string }
  | { readonly kind: "use"; readonly db: string }
  | ShowStatement
  | {
      readonly kind: "explain";
      readonly analyze: boolean;
      readonly format: string | null;
      readonly statement: Statement;
    }
  | { readonly kind: "analyzeTable"; readonly tables: readonly TableName[] }
  | {
      readonly kind: "prepare";
      readonly name: string;
      readonly source: { readonly kind: "text"; readonly text: string } | {
        readonly kind: "userVar";
        readonly name: string;
      };
    }
  | { readonly kind: "execute"; readonly name: string; readonly using: readonly string[] }
  | { readonly kind: "deallocate"; readonly name: string }
  | { readonly kind: "kill"; readonly query: boolean; readonly id: Expr }
  | {
      readonly kind: "lockTables";
      readonly tables: readonly {
        readonly table: TableName;
        readonly alias: string | null;
        readonly lock: "READ" | "READ LOCAL" | "WRITE" | "LOW_PRIORITY WRITE";
      }[];
    }
  | { readonly kind: "unlockTables" }
  | {
      readonly kind: "createUser";
      readonly ifNotExists: boolean;
      readonly users: readonly UserAuth[];
    }
  | { readonly kind: "alterUser"; readonly ifExists: boolean; readonly users: readonly UserAuth[] }
  | { readonly kind: "dropUser"; readonly ifExists: boolean; readonly users: readonly UserSpec[] }
  | {
      readonly kind: "grant";
      readonly privileges: readonly Privilege[];
      readonly level: GrantLevel;
      readonly users: readonly UserAuth[];
      readonly withGrantOption: boolean;
    }
  | {
      readonly kind: "revoke";
      readonly privileges: readonly Privilege[];
      readonly level: GrantLevel;
      readonly users: readonly UserSpec[];
    }
  | { readonly kind: "flush"; readonly what: string; readonly tables: readonly TableName[] }
  | LoadDataStatement
  | {
      readonly kind: "splitTable";
      readonly table: TableName;
      readonly index: string | null;
      /** `BETWEEN (lower) AND (upper) REGIONS n`. */
      readonly between: {
        readonly lower: readonly Expr[];
        readonly upper: readonly Expr[];
        readonly count: number;
      } | null;
      /** `BY (v1), (v2)`. */
      readonly by: readonly (readonly Expr[])[];
    }
  /** `DO expr, …`. */
  | { readonly kind: "do"; readonly exprs: readonly Expr[] }
  /** TiDB's `ADMIN SHOW DDL JOBS`, `ADMIN CHECK TABLE t, …`, `ADMIN CHECK INDEX t i`. */
  | {
      readonly kind: "admin";
      readonly action: "showDdlJobs" | "checkTable" | "checkIndex";
      readonly tables: readonly TableName[];
      readonly index: string | null;
    };

export type StatementKind = Statement["kind"];

/** One statement of a parsed input and where it came from. */
export interface ParsedStatement {
  readonly statement: Statement;
  /** The statement's source text, without surrounding blanks or the `;`. */
  readonly text: string;
  /** UTF-16 offsets of `text` in the input: `input.slice(start, end) === text`. */
  readonly start: number;
  readonly end: number;
}
