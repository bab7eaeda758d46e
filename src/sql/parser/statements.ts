/**
 * DDL and administrative statements: CREATE / ALTER / DROP / TRUNCATE / RENAME, data types
 * and column definitions, transactions and savepoints, SET, USE, SHOW, EXPLAIN, ANALYZE,
 * PREPARE / EXECUTE / DEALLOCATE, KILL, LOCK / UNLOCK TABLES, accounts and privileges,
 * LOAD DATA, FLUSH, DO and Tessera's SPLIT TABLE.
 *
 * Each function reads from the shared `Parser` cursor (parser.ts owns queries, DML and
 * expressions) and returns a node of ast.ts.
 */
import type {
  AlterSpec,
  Assignment,
  ColumnDefinition,
  ColumnOption,
  ColumnPosition,
  DataType,
  Expr,
  ForeignKeyReference,
  GrantLevel,
  IndexOption,
  IndexPart,
  IsolationLevel,
  LoadDataStatement,
  Privilege,
  SetAssignment,
  ShowStatement,
  ShowTarget,
  Statement,
  TableConstraint,
  TableName,
  TableOption,
  UserAuth,
  UserSpec,
} from "./ast.ts";
import type { Parser } from "./parser.ts";
import { parsePartitionAlterSpec, parsePartitionOptions } from "./partition_syntax.ts";

/** Multi-word type names and their single canonical name. */
const typeSynonyms: readonly (readonly [readonly string[], string])[] = [
  [["DOUBLE", "PRECISION"], "DOUBLE"],
  [["CHARACTER", "VARYING"], "VARCHAR"],
  [["CHAR", "VARYING"], "VARCHAR"],
  [["NATIONAL", "CHARACTER", "VARYING"], "NVARCHAR"],
  [["NATIONAL", "CHAR", "VARYING"], "NVARCHAR"],
  [["NATIONAL", "VARCHAR"], "NVARCHAR"],
  [["NATIONAL", "CHARACTER"], "NCHAR"],
  [["NATIONAL", "CHAR"], "NCHAR"],
  [["LONG", "VARBINARY"], "MEDIUMBLOB"],
  [["LONG", "VARCHAR"], "MEDIUMTEXT"],
  [["LONG", "BINARY"], "MEDIUMBLOB"],
  [["CHARACTER"], "CHAR"],
];

/** Type names accepted in column definitions. */
const columnTypes = new Set(
  (
    "BIT TINYINT SMALLINT MEDIUMINT MIDDLEINT INT INTEGER BIGINT INT1 INT2 INT3 INT4 INT8 " +
    "REAL DOUBLE FLOAT FLOAT4 FLOAT8 DECIMAL DEC NUMERIC FIXED BOOL BOOLEAN SERIAL " +
    "DATE TIME TIMESTAMP DATETIME YEAR CHAR VARCHAR NCHAR NVARCHAR BINARY VARBINARY " +
    "TINYBLOB BLOB MEDIUMBLOB LONGBLOB TINYTEXT TEXT MEDIUMTEXT LONGTEXT LONG ENUM SET " +
    "JSON GEOMETRY POINT LINESTRING POLYGON MULTIPOINT MULTILINESTRING MULTIPOLYGON " +
    "GEOMETRYCOLLECTION VECTOR"
  ).split(" "),
);

/** Type names accepted by CAST and CONVERT. */
const castTypes = new Set(
  "BINARY CHAR NCHAR DATE DATETIME TIME DECIMAL SIGNED UNSIGNED JSON DOUBLE FLOAT REAL YEAR"
    .split(" "),
);

export interface DataTypeOptions {
  /** CAST/CONVERT target (SIGNED, UNSIGNED and a few others only). */
  readonly cast: boolean;
}

/** A data type with its length, scale, sign, charset and collation. */
export function parseDataType(p: Parser, options: DataTypeOptions): DataType {
  const token = p.peek();
  if (token.kind !== "word") return p.fail("type");
  let name: string | null = null;
  for (const [words, canonical] of typeSynonyms) {
    if (p.acceptWords(...words)) {
      name = canonical;
      break;
    }
  }
  if (name === null) {
    const allowed = options.cast ? castTypes : columnTypes;
    if (!allowed.has(token.upper)) return p.fail("type");
    p.next();
    name = token.upper;
  }
  let length: number | null = null;
  let scale: number | null = null;
  let unsigned = false;
  const values: string[] = [];
  if (options.cast && (name === "SIGNED" || name === "UNSIGNED")) {
    if (!p.acceptWord("INTEGER")) p.acceptWord("INT");
  }
  if ((name === "ENUM" || name === "SET") && !options.cast) {
    p.expectOp("(");
    do values.push(p.stringLiteral());
    while (p.acceptOp(","));
    p.expectOp(")");
  } else if (p.isOp("(")) {
    p.next();
    length = p.integer();
    if (p.acceptOp(",")) scale = p.integer();
    p.expectOp(")");
  }
  let zerofill = false;
  let binary = false;
  let charset: string | null = null;
  let collate: string | null = null;
  for (;;) {
    if (!options.cast && p.acceptWord("UNSIGNED")) unsigned = true;
    else if (!options.cast && p.acceptWord("SIGNED")) unsigned = false;
    else if (!options.cast && p.acceptWord("ZEROFILL")) {
      zerofill = true;
      unsigned = true;
    } else if (p.isWord("BINARY") && !p.isOp("(", 1)) {
      p.next();
      binary = true;
    } else if (p.acceptWords("CHARACTER", "SET") || p.acceptWord("CHARSET")) {
      charset = p.anyName().toLowerCase();
    } else if (p.acceptWord("ASCII")) charset = "latin1";
    else if (p.acceptWord("UNICODE")) charset = "ucs2";
    else if (!options.cast && p.acceptWord("COLLATE")) collate = p.anyName().toLowerCase();
    else break;
  }
  return { name, length, scale, unsigned, zerofill, binary, charset, collate, values };
}

/** Every statement that does not start with SELECT, WITH, INSERT, REPLACE, UPDATE, DELETE. */
export function parseOtherStatement(p: Parser): Statement {
  const word = p.peek().upper;
  switch (word) {
    case "CREATE":
      return parseCreate(p);
    case "ALTER":
      return parseAlter(p);
    case "DROP":
      return parseDrop(p);
    case "TRUNCATE": {
      p.next();
      p.acceptWord("TABLE");
      return { kind: "truncateTable", table: p.tableName() };
    }
    case "RENAME": {
      p.next();
      if (!p.acceptWord("TABLE")) p.expectWord("TABLES");
      const pairs: { from: TableName; to: TableName }[] = [];
      do {
        const from = p.tableName();
        p.expectWord("TO");
        pairs.push({ from, to: p.tableName() });
      } while (p.acceptOp(","));
      return { kind: "renameTable", pairs };
    }
    case "BEGIN": {
      p.next();
      let mode: "PESSIMISTIC" | "OPTIMISTIC" | null = null;
      if (p.acceptWord("PESSIMISTIC")) mode = "PESSIMISTIC";
      else if (p.acceptWord("OPTIMISTIC")) mode = "OPTIMISTIC";
      else p.acceptWord("WORK");
      return { kind: "begin", start: false, readOnly: null, consistentSnapshot: false, mode };
    }
    case "START":
      return parseStartTransaction(p);
    case "COMMIT":
      p.next();
      p.acceptWord("WORK");
      return { kind: "commit" };
    case "ROLLBACK": {
      p.next();
      p.acceptWord("WORK");
      if (p.acceptWord("TO")) {
        p.acceptWord("SAVEPOINT");
        return { kind: "rollback", savepoint: p.ident() };
      }
      return { kind: "rollback", savepoint: null };
    }
    case "SAVEPOINT":
      p.next();
      return { kind: "savepoint", name: p.ident() };
    case "RELEASE":
      p.next();
      p.expectWord("SAVEPOINT");
      return { kind: "releaseSavepoint", name: p.ident() };
    case "SET":
      return parseSet(p);
    case "USE":
      p.next();
      return { kind: "use", db: p.ident() };
    case "SHOW":
      return parseShow(p);
    case "EXPLAIN":
    case "DESCRIBE":
    case "DESC":
      return parseExplain(p);
    case "ADMIN": {
      p.next();
      if (p.acceptWord("SHOW")) {
        p.expectWord("DDL");
        p.expectWord("JOBS");
        return { kind: "admin", action: "showDdlJobs", tables: [], index: null };
      }
      p.expectWord("CHECK");
      if (p.acceptWord("INDEX")) {
        const table = p.tableName();
        return { kind: "admin", action: "checkIndex", tables: [table], index: p.ident() };
      }
      p.expectWord("TABLE");
      return { kind: "admin", action: "checkTable", tables: tableNameList(p), index: null };
    }
    case "ANALYZE": {
      p.next();
      if (!p.acceptWord("NO_WRITE_TO_BINLOG")) p.acceptWord("LOCAL");
      if (!p.acceptWord("TABLE")) p.expectWord("TABLES");
      return { kind: "analyzeTable", tables: tableNameList(p) };
    }
    case "PREPARE": {
      p.next();
      const name = p.ident();
      p.expectWord("FROM");
      const token = p.peek();
      if (token.kind === "userVar") {
        p.next();
        return { kind: "prepare", name, source: { kind: "userVar", name: token.text } };
      }
      return { kind: "prepare", name, source: { kind: "text", text: p.stringLiteral() } };
    }
    case "EXECUTE": {
      p.next();
      const name = p.ident();
      const using: string[] = [];
      if (p.acceptWord("USING")) {
        do {
          const token = p.peek();
          if (token.kind !== "userVar") p.fail("user variable");
          using.push(p.next().text);
        } while (p.acceptOp(","));
      }
      return { kind: "execute", name, using };
    }
    case "DEALLOCATE":
      p.next();
      p.expectWord("PREPARE");
      return { kind: "deallocate", name: p.ident() };
    case "KILL": {
      p.next();
      p.acceptWord("TIDB");
      let query = false;
      if (p.acceptWord("QUERY")) query = true;
      else p.acceptWord("CONNECTION");
      return { kind: "kill", query, id: p.parseExpr() };
    }
    case "LOCK":
      return parseLockTables(p);
    case "UNLOCK":
      p.next();
      if (!p.acceptWord("TABLES")) p.expectWord("TABLE");
      return { kind: "unlockTables" };
    case "GRANT":
      return parseGrant(p);
    case "REVOKE":
      return parseRevoke(p);
    case "LOAD":
      return parseLoadData(p);
    case "SPLIT":
      return parseSplit(p);
    case "FLUSH":
      return parseFlush(p);
    case "DO":
      p.next();
      return { kind: "do", exprs: p.parseExprList() };
    default:
      return p.fail("statement");
  }
}

function tableNameList(p: Parser): TableName[] {
  const out = [p.tableName()];
  while (p.acceptOp(",")) out.push(p.tableName());
  return out;
}

function ifNotExists(p: Parser): boolean {
  return p.acceptWords("IF", "NOT", "EXISTS");
}

function ifExists(p: Parser): boolean {
  return p.acceptWords("IF", "EXISTS");
}

// ---------------------------------------------------------------------------------------
// CREATE / ALTER / DROP
// ---------------------------------------------------------------------------------------

function parseCreate(p: Parser): Statement {
  p.expectWord("CREATE");
  const orReplace = p.acceptWords("OR", "REPLACE");
  if (orReplace || p.isWord("ALGORITHM") || p.isWord("DEFINER") || p.isWord("SQL")) {
    return parseCreateView(p, orReplace);
  }
  if (p.isWord("VIEW")) return parseCreateView(p, false);
  if (p.acceptWord("DATABASE") || p.acceptWord("SCHEMA")) {
    const exists = ifNotExists(p);
    return {
      kind: "createDatabase",
      ifNotExists: exists,
      name: p.ident(),
      options: parseTableOptions(p, { database: true }),
    };
  }
  if (p.isWord("TEMPORARY") || p.isWord("TABLE")) return parseCreateTable(p);
  if (p.isWord("USER")) {
    p.next();
    const exists = ifNotExists(p);
    return { kind: "createUser", ifNotExists: exists, users: userAuthList(p) };
  }
  let type: "UNIQUE" | "FULLTEXT" | "SPATIAL" | null = null;
  if (p.acceptWord("UNIQUE")) type = "UNIQUE";
  else if (p.acceptWord("FULLTEXT")) type = "FULLTEXT";
  else if (p.acceptWord("SPATIAL")) type = "SPATIAL";
  if (p.acceptWord("INDEX")) {
    const exists = ifNotExists(p);
    const name = p.ident();
    const leading = parseIndexType(p);
    p.expectWord("ON");
    const table = p.tableName();
    const parts = parseIndexParts(p);
    const options = [...leading, ...parseIndexOptions(p)];
    // ALGORITHM= and LOCK= of online DDL are accepted and dropped: Tessera's DDL is online.
    skipAlterAlgorithmLock(p);
    return { kind: "createIndex", type, ifNotExists: exists, name, table, parts, options };
  }
  return p.fail();
}

function skipAlterAlgorithmLock(p: Parser): void {
  for (;;) {
    if (p.acceptWord("ALGORITHM") || p.acceptWord("LOCK")) {
      p.acceptOp("=");
      p.anyName();
    } else {
      return;
    }
  }
}

function parseCreateView(p: Parser, orReplace: boolean): Statement {
  let algorithm: string | null = null;
  let definer: UserSpec | null = null;
  let sqlSecurity: string | null = null;
  if (p.acceptWord("ALGORITHM")) {
    p.expectOp("=");
    algorithm = p.anyName().toUpperCase();
  }
  if (p.acceptWord("DEFINER")) {
    p.expectOp("=");
    definer = parseUser(p);
  }
  if (p.acceptWords("SQL", "SECURITY")) sqlSecurity = p.anyName().toUpperCase();
  p.expectWord("VIEW");
  const name = p.tableName();
  const columns = p.isOp("(") ? p.parenIdentList() : null;
  p.expectWord("AS");
  const query = p.parseQuery();
  let checkOption: "CASCADED" | "LOCAL" | null = null;
  if (p.acceptWord("WITH")) {
    if (p.acceptWord("LOCAL")) checkOption = "LOCAL";
    else {
      p.acceptWord("CASCADED");
      checkOption = "CASCADED";
    }
    p.expectWord("CHECK");
    p.expectWord("OPTION");
  }
  return {
    kind: "createView",
    orReplace,
    algorithm,
    definer,
    sqlSecurity,
    name,
    columns,
    query,
    checkOption,
  };
}

function parseCreateTable(p: Parser): Statement {
  const temporary = p.acceptWord("TEMPORARY");
  p.expectWord("TABLE");
  const exists = ifNotExists(p);
  const table = p.tableName();
  const base = {
    kind: "createTable" as const,
    temporary,
    ifNotExists: exists,
    table,
    columns: [] as ColumnDefinition[],
    constraints: [] as TableConstraint[],
    options: [] as TableOption[],
    like: null as TableName | null,
    query: null,
  };
  if (p.acceptWord("LIKE")) return { ...base, like: p.tableName() };
  if (p.isOp("(") && p.isWord("LIKE", 1)) {
    p.pos += 2;
    const like = p.tableName();
    p.expectOp(")");
    return { ...base, like };
  }
  const columns: ColumnDefinition[] = [];
  const constraints: TableConstraint[] = [];
  if (p.isOp("(") && !p.startsQuery(1)) {
    p.next();
    do {
      if (isConstraintStart(p)) constraints.push(parseConstraint(p));
      else columns.push(parseColumnDef(p));
    } while (p.acceptOp(","));
    p.expectOp(")");
  }
  const options = parseTableOptions(p, { database: false });
  const partition = p.isWord("PARTITION") ? parsePartitionOptions(p) : undefined;
  if (!p.acceptWord("IGNORE")) p.acceptWord("REPLACE");
  p.acceptWord("AS");
  const query = p.startsQuery() ? p.parseQuery() : null;
  if (columns.length === 0 && constraints.length === 0 && query === null) p.fail("(");
  return { ...base, columns, constraints, options, query,
    ...(partition === undefined ? {} : { partition }) };
}

function isConstraintStart(p: Parser): boolean {
  const token = p.peek();
  if (token.kind !== "word") return false;
  switch (token.upper) {
    case "PRIMARY":
    case "UNIQUE":
    case "INDEX":
    case "KEY":
    case "FULLTEXT":
    case "SPATIAL":
    case "CONSTRAINT":
    case "FOREIGN":
    case "CHECK":
      return true;
    default:
      return false;
  }
}

export function parseColumnDef(p: Parser): ColumnDefinition {
  const name = p.ident();
  const type = parseDataType(p, { cast: false });
  const options: ColumnOption[] = [];
  for (;;) {
    const option = parseColumnOption(p);
    if (option === null) break;
    options.push(option);
  }
  return { name, type, options };
}

function parseColumnOption(p: Parser): ColumnOption | null {
  if (p.acceptWords("NOT", "NULL")) return { kind: "notNull" };
  if (p.acceptWord("NULL")) return { kind: "null" };
  if (p.acceptWord("DEFAULT")) return { kind: "default", value: p.parseSimpleExpr() };
  if (p.acceptWords("ON", "UPDATE")) return { kind: "onUpdate", value: p.parseSimpleExpr() };
  if (p.acceptWord("AUTO_INCREMENT")) return { kind: "autoIncrement" };
  if (p.acceptWord("AUTO_RANDOM")) {
    let shardBits: number | null = null;
    let rangeBits: number | null = null;
    if (p.acceptOp("(")) {
      shardBits = p.integer();
      // TiDB's optional second argument: the range bits (64 when not given).
      if (p.acceptOp(",")) rangeBits = p.integer();
      p.expectOp(")");
    }
    return { kind: "autoRandom", shardBits, ...(rangeBits === null ? {} : { rangeBits }) };
  }
  if (p.acceptWords("PRIMARY", "KEY")) return { kind: "primaryKey" };
  if (p.acceptWord("KEY")) return { kind: "primaryKey" };
  if (p.acceptWord("UNIQUE")) {
    p.acceptWord("KEY");
    return { kind: "unique" };
  }
  if (p.acceptWord("COMMENT")) return { kind: "comment", text: p.stringLiteral() };
  if (p.acceptWord("COLLATE")) {
    return { kind: "collate", collation: p.anyName().toLowerCase() };
  }
  if (p.isWord("GENERATED") || p.isWord("AS")) {
    if (p.acceptWord("GENERATED")) p.expectWord("ALWAYS");
    p.expectWord("AS");
    p.expectOp("(");
    const expr = p.parseExpr();
    p.expectOp(")");
    let stored = false;
    if (p.acceptWord("STORED")) stored = true;
    else p.acceptWord("VIRTUAL");
    return { kind: "generated", expr, stored };
  }
  if (p.isWord("CONSTRAINT") || p.isWord("CHECK")) {
    let name: string | null = null;
    if (p.acceptWord("CONSTRAINT") && !p.isWord("CHECK")) name = p.ident();
    p.expectWord("CHECK");
    p.expectOp("(");
    const expr = p.parseExpr();
    p.expectOp(")");
    if (!p.acceptWord("ENFORCED")) p.acceptWords("NOT", "ENFORCED");
    return { kind: "check", name, expr };
  }
  if (p.isWord("REFERENCES")) return { kind: "references", references: parseReferences(p) };
  if (p.acceptWord("VISIBLE")) return { kind: "visible", visible: true };
  if (p.acceptWord("INVISIBLE")) return { kind: "visible", visible: false };
  if (p.acceptWord("COLUMN_FORMAT")) {
    return { kind: "columnFormat", format: p.anyName().toUpperCase() };
  }
  if (p.acceptWord("STORAGE")) return { kind: "storage", storage: p.anyName().toUpperCase() };
  if (p.acceptWord("SRID")) return { kind: "srid", srid: p.integer() };
  return null;
}

function parseReferences(p: Parser): ForeignKeyReference {
  p.expectWord("REFERENCES");
  const table = p.tableName();
  const columns = p.isOp("(") ? p.parenIdentList() : [];
  let match: string | null = null;
  let onDelete: string | null = null;
  let onUpdate: string | null = null;
  for (;;) {
    if (p.acceptWord("MATCH")) match = p.anyName().toUpperCase();
    else if (p.acceptWords("ON", "DELETE")) onDelete = referenceAction(p);
    else if (p.acceptWords("ON", "UPDATE")) onUpdate = referenceAction(p);
    else break;
  }
  return { table, columns, match, onDelete, onUpdate };
}

function referenceAction(p: Parser): string {
  if (p.acceptWord("RESTRICT")) return "RESTRICT";
  if (p.acceptWord("CASCADE")) return "CASCADE";
  if (p.acceptWords("SET", "NULL")) return "SET NULL";
  if (p.acceptWords("SET", "DEFAULT")) return "SET DEFAULT";
  if (p.acceptWords("NO", "ACTION")) return "NO ACTION";
  return p.fail("reference option");
}

function parseIndexParts(p: Parser): IndexPart[] {
  p.expectOp("(");
  const parts: IndexPart[] = [];
  do {
    let column: string | null = null;
    let expr: Expr | null = null;
    let length: number | null = null;
    if (p.isOp("(")) {
      p.next();
      expr = p.parseExpr();
      p.expectOp(")");
    } else {
      column = p.ident();
      if (p.acceptOp("(")) {
        length = p.integer();
        p.expectOp(")");
      }
    }
    let desc = false;
    if (p.acceptWord("DESC")) desc = true;
    else p.acceptWord("ASC");
    parts.push({ column, expr, length, desc });
  } while (p.acceptOp(","));
  p.expectOp(")");
  return parts;
}

function parseIndexType(p: Parser): IndexOption[] {
  if (p.acceptWord("USING") || p.acceptWord("TYPE")) {
    return [{ name: "USING", value: p.anyName().toUpperCase() }];
  }
  return [];
}

function parseIndexOptions(p: Parser): IndexOption[] {
  const out: IndexOption[] = [];
  for (;;) {
    const using = parseIndexType(p);
    if (using.length > 0) {
      out.push(...using);
    } else if (p.acceptWord("COMMENT")) {
      out.push({ name: "COMMENT", value: p.stringLiteral() });
    } else if (p.acceptWord("KEY_BLOCK_SIZE")) {
      p.acceptOp("=");
      out.push({ name: "KEY_BLOCK_SIZE", value: String(p.integer()) });
    } else if (p.acceptWord("VISIBLE")) {
      out.push({ name: "VISIBLE", value: null });
    } else if (p.acceptWord("INVISIBLE")) {
      out.push({ name: "INVISIBLE", value: null });
    } else if (p.acceptWords("WITH", "PARSER")) {
      out.push({ name: "PARSER", value: p.ident() });
    } else if (p.acceptWord("CLUSTERED")) {
      out.push({ name: "CLUSTERED", value: null });
    } else if (p.acceptWord("NONCLUSTERED")) {
      out.push({ name: "NONCLUSTERED", value: null });
    } else {
      return out;
    }
  }
}

function optionalIndexName(p: Parser): string | null {
  if (p.isIdent() && !p.isWord("USING") && !p.isWord("TYPE")) return p.ident();
  return null;
}

export function parseConstraint(p: Parser): TableConstraint {
  let constraintName: string | null = null;
  if (p.acceptWord("CONSTRAINT")) {
    if (p.isIdent()) constraintName = p.ident();
  }
  if (p.acceptWords("PRIMARY", "KEY")) {
    const leading = parseIndexType(p);
    const parts = parseIndexParts(p);
    return {
      kind: "primaryKey",
      constraintName,
      name: null,
      parts,
      options: [...leading, ...parseIndexOptions(p)],
    };
  }
  if (p.isWord("FOREIGN")) {
    p.next();
    p.expectWord("KEY");
    const name = p.isIdent() ? p.ident() : null;
    const columns = p.parenIdentList();
    return { kind: "foreignKey", constraintName, name, columns, references: parseReferences(p) };
  }
  if (p.acceptWord("CHECK")) {
    p.expectOp("(");
    const expr = p.parseExpr();
    p.expectOp(")");
    let enforced: boolean | null = null;
    if (p.acceptWord("ENFORCED")) enforced = true;
    else if (p.acceptWords("NOT", "ENFORCED")) enforced = false;
    return { kind: "check", constraintName, expr, enforced };
  }
  let kind: "unique" | "index" | "fulltext" | "spatial";
  if (p.acceptWord("UNIQUE")) {
    kind = "unique";
    if (!p.acceptWord("INDEX")) p.acceptWord("KEY");
  } else if (p.acceptWord("FULLTEXT") || p.acceptWord("SPATIAL")) {
    kind = p.previous().upper === "FULLTEXT" ? "fulltext" : "spatial";
    if (!p.acceptWord("INDEX")) p.acceptWord("KEY");
  } else if (p.acceptWord("INDEX") || p.acceptWord("KEY")) {
    kind = "index";
  } else {
    return p.fail("constraint");
  }
  const name = optionalIndexName(p);
  const leading = parseIndexType(p);
  const parts = parseIndexParts(p);
  return { kind, constraintName, name, parts, options: [...leading, ...parseIndexOptions(p)] };
}

/** Table options whose value is a number. */
const tableOptionNames = new Set([
  "ENGINE",
  "AUTO_INCREMENT",
  "AUTO_RANDOM_BASE",
  "SHARD_ROW_ID_BITS",
  "PRE_SPLIT_REGIONS",
  "COMMENT",
  "ROW_FORMAT",
  "KEY_BLOCK_SIZE",
  "AVG_ROW_LENGTH",
  "MAX_ROWS",
  "MIN_ROWS",
  "CHECKSUM",
  "TABLE_CHECKSUM",
  "DELAY_KEY_WRITE",
  "PACK_KEYS",
  "STATS_PERSISTENT",
  "STATS_AUTO_RECALC",
  "STATS_SAMPLE_PAGES",
  "COMPRESSION",
  "ENCRYPTION",
  "INSERT_METHOD",
  "CONNECTION",
  "PASSWORD",
  "TABLESPACE",
  "ALGORITHM",
  "LOCK",
]);

/** Table or database options, separated by blanks or commas. */
export function parseTableOptions(p: Parser, options: { database: boolean }): TableOption[] {
  const out: TableOption[] = [];
  for (;;) {
    const save = p.pos;
    const explicitDefault = p.acceptWord("DEFAULT");
    let name: string | null = null;
    if (p.acceptWords("CHARACTER", "SET") || p.acceptWord("CHARSET")) name = "CHARSET";
    else if (p.acceptWord("COLLATE")) name = "COLLATE";
    else if (!explicitDefault) {
      const token = p.peek();
      const allowed = options.database
        ? token.upper === "ENCRYPTION"
        : tableOptionNames.has(token.upper);
      if (token.kind === "word" && allowed) {
        p.next();
        name = token.upper;
      }
    }
    if (name === null) {
      p.pos = save;
      return out;
    }
    p.acceptOp("=");
    const token = p.peek();
    let value: string;
    let quoted = false;
    if (token.kind === "string") {
      value = p.stringLiteral();
      quoted = true;
    } else if (token.kind === "number") {
      p.next();
      value = token.text;
    } else if (token.kind === "word" || token.kind === "quotedIdent") {
      p.next();
      value = token.text;
    } else {
      return p.fail("option value");
    }
    if (name === "CHARSET" || name === "COLLATE") value = value.toLowerCase();
    out.push({ name, value, quoted });
    p.acceptOp(",");
  }
}

function parseAlter(p: Parser): Statement {
  p.expectWord("ALTER");
  if (p.acceptWord("DATABASE") || p.acceptWord("SCHEMA")) {
    const name = p.isIdent() ? p.ident() : null;
    return { kind: "alterDatabase", name, options: parseTableOptions(p, { database: true }) };
  }
  if (p.acceptWord("USER")) {
    const exists = ifExists(p);
    return { kind: "alterUser", ifExists: exists, users: userAuthList(p) };
  }
  p.acceptWord("ONLINE");
  p.acceptWord("IGNORE");
  p.expectWord("TABLE");
  const table = p.tableName();
  const specs: AlterSpec[] = [];
  if (p.peek().kind === "eof" || p.isOp(";")) return { kind: "alterTable", table, specs };
  do specs.push(parseAlterSpec(p));
  while (p.acceptOp(","));
  return { kind: "alterTable", table, specs };
}

function parsePosition(p: Parser): ColumnPosition {
  if (p.acceptWord("FIRST")) return { kind: "first" };
  if (p.acceptWord("AFTER")) return { kind: "after", column: p.ident() };
  return null;
}

function parseAlterSpec(p: Parser): AlterSpec {
  const partitionSpec = parsePartitionAlterSpec(p);
  if (partitionSpec !== null) return partitionSpec;
  if (p.acceptWord("ADD")) {
    if (isConstraintStart(p)) return { kind: "addConstraint", constraint: parseConstraint(p) };
    p.acceptWord("COLUMN");
    if (p.acceptOp("(")) {
      const columns: ColumnDefinition[] = [];
      do columns.push(parseColumnDef(p));
      while (p.acceptOp(","));
      p.expectOp(")");
      return { kind: "addColumns", columns, position: null };
    }
    const column = parseColumnDef(p);
    return { kind: "addColumns", columns: [column], position: parsePosition(p) };
  }
  if (p.acceptWord("DROP")) {
    if (p.acceptWords("PRIMARY", "KEY")) return { kind: "dropPrimaryKey" };
    if (p.acceptWords("FOREIGN", "KEY")) return { kind: "dropForeignKey", name: p.ident() };
    if (p.acceptWord("CHECK") || p.acceptWord("CONSTRAINT")) {
      return { kind: "dropCheck", name: p.ident() };
    }
    if (p.acceptWord("INDEX") || p.acceptWord("KEY")) {
      const exists = ifExists(p);
      return { kind: "dropIndex", name: p.ident(), ifExists: exists };
    }
    p.acceptWord("COLUMN");
    const exists = ifExists(p);
    return { kind: "dropColumn", name: p.ident(), ifExists: exists };
  }
  if (p.acceptWord("MODIFY")) {
    p.acceptWord("COLUMN");
    const column = parseColumnDef(p);
    return { kind: "modifyColumn", column, position: parsePosition(p) };
  }
  if (p.acceptWord("CHANGE")) {
    p.acceptWord("COLUMN");
    const oldName = p.ident();
    const column = parseColumnDef(p);
    return { kind: "changeColumn", oldName, column, position: parsePosition(p) };
  }
  if (p.acceptWord("RENAME")) {
    if (p.acceptWord("COLUMN")) {
      const oldName = p.ident();
      p.expectWord("TO");
      return { kind: "renameColumn", oldName, newName: p.ident() };
    }
    if (p.acceptWord("INDEX") || p.acceptWord("KEY")) {
      const oldName = p.ident();
      p.expectWord("TO");
      return { kind: "renameIndex", oldName, newName: p.ident() };
    }
    if (!p.acceptWord("TO")) p.acceptWord("AS");
    return { kind: "renameTable", to: p.tableName() };
  }
  if (p.acceptWord("ALTER")) {
    p.acceptWord("COLUMN");
    const name = p.ident();
    if (p.acceptWords("SET", "DEFAULT")) {
      return { kind: "alterColumnDefault", name, value: p.parseSimpleExpr() };
    }
    p.expectWord("DROP");
    p.expectWord("DEFAULT");
    return { kind: "alterColumnDefault", name, value: null };
  }
  if (p.acceptWord("CONVERT")) {
    p.expectWord("TO");
    if (!p.acceptWord("CHARSET")) {
      p.expectWord("CHARACTER");
      p.expectWord("SET");
    }
    const charset = p.anyName().toLowerCase();
    const collate = p.acceptWord("COLLATE") ? p.anyName().toLowerCase() : null;
    return { kind: "convertCharset", charset, collate };
  }
  if (p.acceptWords("DISABLE", "KEYS")) return { kind: "keys", enable: false };
  if (p.acceptWords("ENABLE", "KEYS")) return { kind: "keys", enable: true };
  const options = parseTableOptions(p, { database: false });
  if (options.length === 0) return p.fail("alter specification");
  return { kind: "options", options };
}

function parseDrop(p: Parser): Statement {
  p.expectWord("DROP");
  if (p.acceptWord("DATABASE") || p.acceptWord("SCHEMA")) {
    const exists = ifExists(p);
    return { kind: "dropDatabase", ifExists: exists, name: p.ident() };
  }
  if (p.isWord("TEMPORARY") || p.isWord("TABLE") || p.isWord("TABLES")) {
    const temporary = p.acceptWord("TEMPORARY");
    if (!p.acceptWord("TABLE")) p.expectWord("TABLES");
    const exists = ifExists(p);
    const tables = tableNameList(p);
    if (!p.acceptWord("RESTRICT")) p.acceptWord("CASCADE");
    return { kind: "dropTable", temporary, ifExists: exists, tables };
  }
  if (p.acceptWord("INDEX")) {
    const exists = ifExists(p);
    const name = p.ident();
    p.expectWord("ON");
    const table = p.tableName();
    skipAlterAlgorithmLock(p);
    return { kind: "dropIndex", ifExists: exists, name, table };
  }
  if (p.acceptWord("VIEW")) {
    const exists = ifExists(p);
    const names = tableNameList(p);
    if (!p.acceptWord("RESTRICT")) p.acceptWord("CASCADE");
    return { kind: "dropView", ifExists: exists, names };
  }
  if (p.acceptWord("USER")) {
    const exists = ifExists(p);
    const users = [parseUser(p)];
    while (p.acceptOp(",")) users.push(parseUser(p));
    return { kind: "dropUser", ifExists: exists, users };
  }
  if (p.acceptWord("PREPARE")) return { kind: "deallocate", name: p.ident() };
  return p.fail();
}

// ---------------------------------------------------------------------------------------
// Transactions and SET
// ---------------------------------------------------------------------------------------

function parseStartTransaction(p: Parser): Statement {
  p.expectWord("START");
  p.expectWord("TRANSACTION");
  let readOnly: boolean | null = null;
  let consistentSnapshot = false;
  if (!p.isOp(";") && p.peek().kind !== "eof") {
    do {
      if (p.acceptWords("READ", "ONLY")) readOnly = true;
      else if (p.acceptWords("READ", "WRITE")) readOnly = false;
      else if (p.acceptWords("WITH", "CONSISTENT", "SNAPSHOT")) consistentSnapshot = true;
      else p.fail();
    } while (p.acceptOp(","));
  }
  return { kind: "begin", start: true, readOnly, consistentSnapshot, mode: null };
}

function parseScope(p: Parser): "GLOBAL" | "SESSION" | null {
  if (p.acceptWord("GLOBAL")) return "GLOBAL";
  if (p.acceptWord("SESSION") || p.acceptWord("LOCAL")) return "SESSION";
  return null;
}

function parseIsolationLevel(p: Parser): IsolationLevel {
  if (p.acceptWords("READ", "UNCOMMITTED")) return "READ UNCOMMITTED";
  if (p.acceptWords("READ", "COMMITTED")) return "READ COMMITTED";
  if (p.acceptWords("REPEATABLE", "READ")) return "REPEATABLE READ";
  if (p.acceptWord("SERIALIZABLE")) return "SERIALIZABLE";
  return p.fail("isolation level");
}

function parseSet(p: Parser): Statement {
  p.expectWord("SET");
  // SET [GLOBAL|SESSION] TRANSACTION …
  const save = p.pos;
  const scope = parseScope(p);
  if (p.acceptWord("TRANSACTION")) {
    let isolation: IsolationLevel | null = null;
    let readOnly: boolean | null = null;
    do {
      if (p.acceptWords("ISOLATION", "LEVEL")) isolation = parseIsolationLevel(p);
      else if (p.acceptWords("READ", "ONLY")) readOnly = true;
      else if (p.acceptWords("READ", "WRITE")) readOnly = false;
      else p.fail();
    } while (p.acceptOp(","));
    return { kind: "setTransaction", scope, isolation, readOnly };
  }
  p.pos = save;
  if (p.acceptWord("PASSWORD")) {
    const user = p.acceptWord("FOR") ? parseUser(p) : null;
    p.expectOp("=");
    let password: string;
    if (p.acceptWord("PASSWORD")) {
      p.expectOp("(");
      password = p.stringLiteral();
      p.expectOp(")");
    } else {
      password = p.stringLiteral();
    }
    return { kind: "setPassword", user, password };
  }
  const assignments: SetAssignment[] = [];
  do assignments.push(parseSetAssignment(p));
  while (p.acceptOp(","));
  return { kind: "set", assignments };
}

function parseSetAssignment(p: Parser): SetAssignment {
  if (p.acceptWord("NAMES")) {
    if (p.acceptWord("DEFAULT")) return { kind: "names", charset: null, collate: null };
    const charset = p.anyName().toLowerCase();
    const collate = p.acceptWord("COLLATE") ? p.anyName().toLowerCase() : null;
    return { kind: "names", charset, collate };
  }
  if (p.acceptWords("CHARACTER", "SET") || p.acceptWord("CHARSET")) {
    if (p.acceptWord("DEFAULT")) return { kind: "charset", charset: null };
    return { kind: "charset", charset: p.anyName().toLowerCase() };
  }
  const token = p.peek();
  let target: Extract<SetAssignment, { kind: "var" }>["target"];
  if (token.kind === "userVar") {
    p.next();
    target = { kind: "userVar", name: token.text };
  } else if (token.kind === "sysVar") {
    p.next();
    const sysVar = sysVarOf(token.text);
    if (sysVar.kind !== "sysVar") return p.fail();
    target = sysVar;
  } else {
    const scope = parseScope(p);
    let name = p.anyName();
    // `SET GLOBAL tidb.x` style dotted names.
    while (p.acceptOp(".")) name += "." + p.anyName();
    target = { kind: "sysVar", scope, name };
  }
  if (!p.acceptOp("=")) p.expectOp(":=");
  return { kind: "var", target, value: parseSetValue(p) };
}

/** A SET value; a bare keyword such as ON is a name, as MySQL reads it. */
function parseSetValue(p: Parser): Expr {
  const token = p.peek();
  const after = p.peek(1);
  const ends = after.kind === "eof" || (after.kind === "op" && (after.text === "," ||
    after.text === ";"));
  if (token.kind === "word" && ends && token.upper !== "DEFAULT" && token.upper !== "NULL" &&
    token.upper !== "TRUE" && token.upper !== "FALSE") {
    p.next();
    return { kind: "column", db: null, table: null, column: token.text };
  }
  return p.parseExpr();
}

// ---------------------------------------------------------------------------------------
// SHOW, EXPLAIN
// ---------------------------------------------------------------------------------------

function showOf(target: ShowTarget): ShowStatement {
  return {
    kind: "show",
    target,
    full: false,
    scope: null,
    table: null,
    db: null,
    like: null,
    where: null,
    user: null,
    ifNotExists: false,
    limit: null,
  };
}

function fromDb(p: Parser): string | null {
  if (p.acceptWord("FROM") || p.acceptWord("IN")) return p.ident();
  return null;
}

function likeOrWhere(p: Parser): { like: string | null; where: Expr | null } {
  if (p.acceptWord("LIKE")) return { like: p.stringLiteral(), where: null };
  if (p.acceptWord("WHERE")) return { like: null, where: p.parseExpr() };
  return { like: null, where: null };
}

function parseShow(p: Parser): Statement {
  p.expectWord("SHOW");
  const full = p.acceptWord("FULL");
  const scope = parseScope(p);
  if (p.acceptWord("DATABASES") || p.acceptWord("SCHEMAS")) {
    return { ...showOf("DATABASES"), ...likeOrWhere(p) };
  }
  if (p.acceptWord("TABLES")) {
    const db = fromDb(p);
    return { ...showOf("TABLES"), full, db, ...likeOrWhere(p) };
  }
  if (p.acceptWord("COLUMNS") || p.acceptWord("FIELDS")) {
    if (!p.acceptWord("FROM")) p.expectWord("IN");
    const table = p.tableName();
    const db = fromDb(p);
    return { ...showOf("COLUMNS"), full, table, db, ...likeOrWhere(p) };
  }
  if (p.acceptWord("INDEX") || p.acceptWord("INDEXES") || p.acceptWord("KEYS")) {
    if (!p.acceptWord("FROM")) p.expectWord("IN");
    const table = p.tableName();
    const db = fromDb(p);
    return { ...showOf("INDEX"), table, db, ...likeOrWhere(p) };
  }
  if (p.acceptWord("CREATE")) {
    if (p.acceptWord("TABLE")) return { ...showOf("CREATE TABLE"), table: p.tableName() };
    if (p.acceptWord("VIEW")) return { ...showOf("CREATE VIEW"), table: p.tableName() };
    if (p.acceptWord("DATABASE") || p.acceptWord("SCHEMA")) {
      const exists = ifNotExists(p);
      return { ...showOf("CREATE DATABASE"), ifNotExists: exists, db: p.ident() };
    }
    if (p.acceptWord("USER")) return { ...showOf("CREATE USER"), user: parseUser(p) };
    return p.fail();
  }
  if (p.acceptWord("VARIABLES")) return { ...showOf("VARIABLES"), scope, ...likeOrWhere(p) };
  if (p.acceptWord("STATUS")) return { ...showOf("STATUS"), scope, ...likeOrWhere(p) };
  if (p.acceptWord("WARNINGS") || p.acceptWord("ERRORS")) {
    const target = p.previous().upper === "WARNINGS" ? "WARNINGS" : "ERRORS";
    return { ...showOf(target), limit: p.parseLimitClause() };
  }
  if (p.acceptWord("PROCESSLIST")) return { ...showOf("PROCESSLIST"), full };
  if (p.acceptWord("STORAGE")) {
    p.expectWord("ENGINES");
    return showOf("ENGINES");
  }
  if (p.acceptWord("ENGINES")) return showOf("ENGINES");
  if (p.acceptWord("CHARSET") || p.acceptWords("CHARACTER", "SET")) {
    return { ...showOf("CHARSET"), ...likeOrWhere(p) };
  }
  if (p.acceptWord("COLLATION")) return { ...showOf("COLLATION"), ...likeOrWhere(p) };
  if (p.acceptWords("TABLE", "STATUS")) {
    const db = fromDb(p);
    return { ...showOf("TABLE STATUS"), db, ...likeOrWhere(p) };
  }
  if (p.acceptWord("TABLE")) {
    const table = p.tableName();
    if (!p.acceptWord("SHARDS")) p.expectWord("REGIONS");
    return { ...showOf("SHARDS"), table, where: p.acceptWord("WHERE") ? p.parseExpr() : null };
  }
  if (p.acceptWord("GRANTS")) {
    const user = p.acceptWord("FOR") ? parseUser(p) : null;
    return { ...showOf("GRANTS"), user };
  }
  if (p.acceptWord("PLUGINS")) return showOf("PLUGINS");
  if (p.acceptWord("PRIVILEGES")) return showOf("PRIVILEGES");
  if (p.acceptWord("TRIGGERS") || p.acceptWord("EVENTS")) {
    const target = p.previous().upper === "TRIGGERS" ? "TRIGGERS" : "EVENTS";
    const db = fromDb(p);
    return { ...showOf(target), db, ...likeOrWhere(p) };
  }
  if (p.acceptWords("PROCEDURE", "STATUS")) {
    return { ...showOf("PROCEDURE STATUS"), ...likeOrWhere(p) };
  }
  if (p.acceptWords("FUNCTION", "STATUS")) {
    return { ...showOf("FUNCTION STATUS"), ...likeOrWhere(p) };
  }
  if (p.acceptWords("MASTER", "STATUS")) return showOf("MASTER STATUS");
  if (p.acceptWords("BINARY", "LOGS") || p.acceptWords("MASTER", "LOGS")) {
    return showOf("BINARY LOGS");
  }
  return p.fail();
}

function parseExplain(p: Parser): Statement {
  p.next();
  // DESCRIBE t [col] is SHOW COLUMNS FROM t [LIKE 'col'].
  if (p.isIdent() && !p.isWord("ANALYZE") && !p.isWord("FORMAT")) {
    const table = p.tableName();
    let like: string | null = null;
    if (p.isIdent()) like = p.ident();
    else if (p.peek().kind === "string") like = p.stringLiteral();
    return { ...showOf("COLUMNS"), table, like };
  }
  const analyze = p.acceptWord("ANALYZE");
  let format: string | null = null;
  if (p.acceptWord("FORMAT")) {
    p.expectOp("=");
    format = p.anyName().toUpperCase();
  }
  const statement = p.parseStatement();
  switch (statement.kind) {
    case "select":
    case "setOp":
    case "parenQuery":
    case "values":
    case "insert":
    case "update":
    case "delete":
      return { kind: "explain", analyze, format, statement };
    default:
      return p.failAt(p.previous());
  }
}

// ---------------------------------------------------------------------------------------
// LOCK TABLES, accounts and privileges
// ---------------------------------------------------------------------------------------

function parseLockTables(p: Parser): Statement {
  p.expectWord("LOCK");
  if (!p.acceptWord("TABLES")) p.expectWord("TABLE");
  const tables: {
    table: TableName;
    alias: string | null;
    lock: "READ" | "READ LOCAL" | "WRITE" | "LOW_PRIORITY WRITE";
  }[] = [];
  do {
    const table = p.tableName();
    const alias = p.parseTableAlias();
    let lock: "READ" | "READ LOCAL" | "WRITE" | "LOW_PRIORITY WRITE";
    if (p.acceptWord("READ")) lock = p.acceptWord("LOCAL") ? "READ LOCAL" : "READ";
    else if (p.acceptWord("WRITE")) lock = "WRITE";
    else if (p.acceptWords("LOW_PRIORITY", "WRITE")) lock = "LOW_PRIORITY WRITE";
    else return p.fail("READ");
    tables.push({ table, alias, lock });
  } while (p.acceptOp(","));
  return { kind: "lockTables", tables };
}

/** `'name'@'host'`, `name@host`, `name` (host `%`), or CURRENT_USER[()]. */
export function parseUser(p: Parser): UserSpec {
  if (p.acceptWord("CURRENT_USER")) {
    if (p.acceptOp("(")) p.expectOp(")");
    return { name: "", host: "", current: true };
  }
  const token = p.peek();
  let name: string;
  if (token.kind === "string" || token.kind === "quotedIdent" || token.kind === "word") {
    name = p.next().text;
  } else {
    return p.fail("user");
  }
  let host = "%";
  if (p.peek().kind === "userVar") host = p.next().text;
  return { name, host, current: false };
}

function parseUserAuth(p: Parser): UserAuth {
  const user = parseUser(p);
  let plugin: string | null = null;
  let password: string | null = null;
  let authString: string | null = null;
  if (p.acceptWord("IDENTIFIED")) {
    if (p.acceptWord("WITH")) {
      plugin = p.anyName();
      if (p.acceptWord("BY")) password = p.stringLiteral();
      else if (p.acceptWord("AS")) authString = p.stringLiteral();
    } else {
      p.expectWord("BY");
      if (p.acceptWord("PASSWORD")) authString = p.stringLiteral();
      else password = p.stringLiteral();
    }
  }
  return { user, plugin, password, authString };
}

function userAuthList(p: Parser): UserAuth[] {
  const out = [parseUserAuth(p)];
  while (p.acceptOp(",")) out.push(parseUserAuth(p));
  return out;
}

function parsePrivileges(p: Parser): Privilege[] {
  const out: Privilege[] = [];
  do {
    const words: string[] = [];
    while (p.peek().kind === "word" && !p.isWord("ON")) words.push(p.next().upper);
    if (words.length === 0) p.fail("privilege");
    let name = words.join(" ");
    if (name === "ALL PRIVILEGES") name = "ALL";
    const columns = p.isOp("(") ? p.parenIdentList() : [];
    out.push({ name, columns });
  } while (p.acceptOp(","));
  return out;
}

function parseGrantLevel(p: Parser): GrantLevel {
  p.acceptWord("TABLE");
  if (p.acceptOp("*")) {
    if (p.acceptOp(".")) {
      p.expectOp("*");
      return { db: "*", table: "*" };
    }
    return { db: null, table: "*" };
  }
  const first = p.ident();
  if (!p.acceptOp(".")) return { db: null, table: first };
  if (p.acceptOp("*")) return { db: first, table: "*" };
  return { db: first, table: p.identAfterDot() };
}

function parseGrant(p: Parser): Statement {
  p.expectWord("GRANT");
  const privileges = parsePrivileges(p);
  p.expectWord("ON");
  const level = parseGrantLevel(p);
  p.expectWord("TO");
  const users = userAuthList(p);
  const withGrantOption = p.acceptWords("WITH", "GRANT", "OPTION");
  return { kind: "grant", privileges, level, users, withGrantOption };
}

function parseRevoke(p: Parser): Statement {
  p.expectWord("REVOKE");
  const privileges = parsePrivileges(p);
  p.expectWord("ON");
  const level = parseGrantLevel(p);
  p.expectWord("FROM");
  const users = [parseUser(p)];
  while (p.acceptOp(",")) users.push(parseUser(p));
  return { kind: "revoke", privileges, level, users };
}

// ---------------------------------------------------------------------------------------
// LOAD DATA, SPLIT TABLE, FLUSH
// ---------------------------------------------------------------------------------------

function parseLoadData(p: Parser): LoadDataStatement {
  p.expectWord("LOAD");
  p.expectWord("DATA");
  if (!p.acceptWord("LOW_PRIORITY")) p.acceptWord("CONCURRENT");
  const local = p.acceptWord("LOCAL");
  p.expectWord("INFILE");
  const file = p.stringLiteral();
  let duplicate: "REPLACE" | "IGNORE" | null = null;
  if (p.acceptWord("REPLACE")) duplicate = "REPLACE";
  else if (p.acceptWord("IGNORE")) duplicate = "IGNORE";
  p.expectWord("INTO");
  p.expectWord("TABLE");
  const table = p.tableName();
  const charset =
    p.acceptWords("CHARACTER", "SET") || p.acceptWord("CHARSET")
      ? p.anyName().toLowerCase()
      : null;
  let fieldsTerminatedBy: string | null = null;
  let fieldsEnclosedBy: string | null = null;
  let fieldsOptionallyEnclosed = false;
  let fieldsEscapedBy: string | null = null;
  if (p.acceptWord("FIELDS") || p.acceptWord("COLUMNS")) {
    for (;;) {
      if (p.acceptWords("TERMINATED", "BY")) fieldsTerminatedBy = p.stringLiteral();
      else if (p.acceptWords("OPTIONALLY", "ENCLOSED", "BY")) {
        fieldsOptionallyEnclosed = true;
        fieldsEnclosedBy = p.stringLiteral();
      } else if (p.acceptWords("ENCLOSED", "BY")) fieldsEnclosedBy = p.stringLiteral();
      else if (p.acceptWords("ESCAPED", "BY")) fieldsEscapedBy = p.stringLiteral();
      else break;
    }
  }
  let linesStartingBy: string | null = null;
  let linesTerminatedBy: string | null = null;
  if (p.acceptWord("LINES")) {
    for (;;) {
      if (p.acceptWords("STARTING", "BY")) linesStartingBy = p.stringLiteral();
      else if (p.acceptWords("TERMINATED", "BY")) linesTerminatedBy = p.stringLiteral();
      else break;
    }
  }
  let ignoreLines: number | null = null;
  if (p.acceptWord("IGNORE")) {
    ignoreLines = p.integer();
    if (!p.acceptWord("LINES")) p.expectWord("ROWS");
  }
  let columns: Expr[] | null = null;
  if (p.acceptOp("(")) {
    columns = [];
    if (!p.isOp(")")) {
      do {
        const token = p.peek();
        if (token.kind === "userVar") {
          p.next();
          columns.push({ kind: "userVar", name: token.text });
        } else {
          columns.push(p.parseColumnRefOnly());
        }
      } while (p.acceptOp(","));
    }
    p.expectOp(")");
  }
  const set: Assignment[] = p.acceptWord("SET") ? p.parseAssignments() : [];
  return {
    kind: "loadData",
    local,
    file,
    duplicate,
    table,
    charset,
    fieldsTerminatedBy,
    fieldsEnclosedBy,
    fieldsOptionallyEnclosed,
    fieldsEscapedBy,
    linesStartingBy,
    linesTerminatedBy,
    ignoreLines,
    columns,
    set,
  };
}

function parseSplit(p: Parser): Statement {
  p.expectWord("SPLIT");
  p.expectWord("TABLE");
  const table = p.tableName();
  const index = p.acceptWord("INDEX") ? p.ident() : null;
  if (p.acceptWord("BETWEEN")) {
    const lower = p.parseParenExprList(false);
    p.expectWord("AND");
    const upper = p.parseParenExprList(false);
    if (!p.acceptWord("REGIONS")) p.expectWord("SHARDS");
    const count = p.integer();
    return { kind: "splitTable", table, index, between: { lower, upper, count }, by: [] };
  }
  p.expectWord("BY");
  const by: Expr[][] = [];
  do by.push(p.parseParenExprList(false));
  while (p.acceptOp(","));
  return { kind: "splitTable", table, index, between: null, by };
}

function parseFlush(p: Parser): Statement {
  p.expectWord("FLUSH");
  if (!p.acceptWord("NO_WRITE_TO_BINLOG")) p.acceptWord("LOCAL");
  if (p.acceptWord("TABLES") || p.acceptWord("TABLE")) {
    const tables = p.isIdent() ? tableNameList(p) : [];
    const what = p.acceptWords("WITH", "READ", "LOCK") ? "TABLES WITH READ LOCK" : "TABLES";
    return { kind: "flush", what, tables };
  }
  const words: string[] = [];
  while (p.peek().kind === "word") words.push(p.next().upper);
  if (words.length === 0) p.fail("FLUSH option");
  return { kind: "flush", what: words.join(" "), tables: [] };
}

/** `@@global.x` → scope GLOBAL, name x; `@@x` → no scope. */
export function sysVarOf(text: string): Expr {
  const dot = text.indexOf(".");
  if (dot > 0) {
    const prefix = text.slice(0, dot).toUpperCase();
    if (prefix === "GLOBAL") return { kind: "sysVar", scope: "GLOBAL", name: text.slice(dot + 1) };
    if (prefix === "SESSION" || prefix === "LOCAL") {
      return { kind: "sysVar", scope: "SESSION", name: text.slice(dot + 1) };
    }
  }
  return { kind: "sysVar", scope: null, name: text };
}
