/**
 * The recursive-descent parser core: token cursor, expressions, queries and DML.
 *
 * Expressions follow MySQL 8's grammar level by level (`expr` → `bool_pri` → `predicate`
 * → `bit_expr` → `simple_expr`), so precedence and associativity match MySQL exactly:
 * OR/`||` < XOR < AND/`&&` < NOT < comparisons and IS < IN/LIKE/BETWEEN/REGEXP/MEMBER OF
 * < `|` < `&` < shifts < `+ -` < `* / DIV % MOD` < `^` < unary `- + ~ !` and BINARY
 * < COLLATE. `NOT IN` / `NOT LIKE` / `NOT BETWEEN` are single operators, and `!` binds
 * tighter than NOT. Left-deep operator chains are built with loops; recursion (brackets,
 * subqueries, prefix operators, function arguments) is counted against
 * `limits.sqlParseDepthMax` so hostile input gets a syntax error, not a stack overflow.
 *
 * DDL and administrative statements live in `statements.ts`; this file dispatches to them.
 * The `Parser` state (token array, position, depth, placeholder count) belongs to one parse.
 */
import { ErrorCode, limits } from "../../base/mod.ts";
import type {
  Assignment,
  CompareOp,
  Cte,
  DataType,
  DeleteStatement,
  Expr,
  FrameBound,
  IndexHint,
  InsertStatement,
  Limit,
  LockClause,
  NamedWindow,
  OrderItem,
  Query,
  SelectField,
  SelectQuery,
  Statement,
  TableExpr,
  TableName,
  TimeUnit,
  UpdateStatement,
  WindowFrame,
  WindowSpec,
  With,
} from "./ast.ts";
import { introducerCharsets, reservedWords, timeUnits } from "./keywords.ts";
import type { Token } from "./lexer.ts";
import { parseDataType, parseOtherStatement, sysVarOf } from "./statements.ts";
import { SqlSyntaxError, positionAt, syntaxErrorAt } from "./syntax_error.ts";

const compareOps: ReadonlyMap<string, CompareOp> = new Map<string, CompareOp>([
  ["=", "="],
  ["<=>", "<=>"],
  [">=", ">="],
  [">", ">"],
  ["<=", "<="],
  ["<", "<"],
  ["<>", "<>"],
  ["!=", "<>"],
]);

/** `bit_expr` operators and their binding strength (higher binds tighter). */
const bitOps: ReadonlyMap<string, number> = new Map([
  ["|", 1],
  ["&", 2],
  ["<<", 3],
  [">>", 3],
  ["+", 4],
  ["-", 4],
  ["*", 5],
  ["/", 5],
  ["DIV", 5],
  ["%", 5],
  ["MOD", 5],
  ["^", 6],
]);

const selectOptions = new Set([
  "HIGH_PRIORITY",
  "STRAIGHT_JOIN",
  "SQL_SMALL_RESULT",
  "SQL_BIG_RESULT",
  "SQL_BUFFER_RESULT",
  "SQL_NO_CACHE",
  "SQL_CACHE",
  "SQL_CALC_FOUND_ROWS",
]);

/** Functions written without parentheses that mean a call (`CURRENT_TIMESTAMP`). */
const bareFunctions = new Set([
  "CURRENT_TIMESTAMP",
  "CURRENT_DATE",
  "CURRENT_TIME",
  "LOCALTIME",
  "LOCALTIMESTAMP",
  "UTC_DATE",
  "UTC_TIME",
  "UTC_TIMESTAMP",
  "CURRENT_USER",
]);

const aggregateNames = new Set([
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "bit_and",
  "bit_or",
  "bit_xor",
  "std",
  "stddev",
  "stddev_pop",
  "stddev_samp",
  "variance",
  "var_pop",
  "var_samp",
  "json_arrayagg",
  "json_objectagg",
  "approx_count_distinct",
]);

/** Words that end an expression list item and may never start an implicit alias. */
const queryStartWords = new Set(["SELECT", "WITH", "VALUES", "TABLE"]);

const eofToken: Token = {
  kind: "eof",
  text: "",
  upper: "",
  start: 0,
  end: 0,
  numberKind: null,
  national: false,
  hint: null,
};

/** One parse of one input: a cursor over its tokens. */
export class Parser {
  readonly input: string;
  readonly tokens: readonly Token[];
  pos = 0;
  depth = 0;
  paramCount = 0;

  constructor(input: string, tokens: readonly Token[]) {
    this.input = input;
    this.tokens = tokens;
  }

  // -------------------------------------------------------------------------------------
  // Cursor
  // -------------------------------------------------------------------------------------

  peek(ahead = 0): Token {
    const token = this.tokens[this.pos + ahead];
    return token ?? this.tokens[this.tokens.length - 1] ?? eofToken;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.pos++;
    return token;
  }

  /** The last consumed token. */
  previous(): Token {
    return this.tokens[this.pos - 1] ?? eofToken;
  }

  isWord(word: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === "word" && token.upper === word;
  }

  isOp(op: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === "op" && token.text === op;
  }

  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.pos++;
    return true;
  }

  /** Accepts a sequence of words only when all of them follow. */
  acceptWords(...words: string[]): boolean {
    for (let i = 0; i < words.length; i++) {
      if (!this.isWord(words[i] as string, i)) return false;
    }
    this.pos += words.length;
    return true;
  }

  acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.pos++;
    return true;
  }

  expectWord(word: string): Token {
    if (!this.isWord(word)) this.fail(word);
    return this.next();
  }

  expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(op);
    return this.next();
  }

  /** A syntax error at the current token. */
  fail(expected: string | null = null): never {
    throw syntaxErrorAt(this.input, this.peek().start, expected);
  }

  /** Enters one level of recursion, failing past `limits.sqlParseDepthMax`. */
  enter(): void {
    this.depth++;
    if (this.depth > limits.sqlParseDepthMax) {
      throw new SqlSyntaxError(
        ErrorCode.SqlParseTooDeep,
        `The statement nests deeper than ${limits.sqlParseDepthMax} levels`,
        positionAt(this.input, this.peek().start),
      );
    }
  }

  leave(): void {
    this.depth--;
  }

  // -------------------------------------------------------------------------------------
  // Names
  // -------------------------------------------------------------------------------------

  /** True when the current token can be an identifier. */
  isIdent(ahead = 0): boolean {
    const token = this.peek(ahead);
    return (
      token.kind === "quotedIdent" || (token.kind === "word" && !reservedWords.has(token.upper))
    );
  }

  /** An identifier: an unreserved word or a backtick-quoted name. */
  ident(): string {
    if (!this.isIdent()) this.fail("identifier");
    return this.next().text;
  }

  /** An identifier after a `.`, where MySQL accepts reserved words too. */
  identAfterDot(): string {
    const token = this.peek();
    if (token.kind !== "word" && token.kind !== "quotedIdent") this.fail("identifier");
    return this.next().text;
  }

  /** An identifier or a string literal (aliases, charset and collation names, users). */
  identOrString(): string {
    if (this.peek().kind === "string") return this.next().text;
    return this.ident();
  }

  /** A word of any kind, reserved or not, or a quoted name; used for option values. */
  anyName(): string {
    const token = this.peek();
    if (token.kind === "word" || token.kind === "quotedIdent" || token.kind === "string") {
      return this.next().text;
    }
    return this.fail("name");
  }

  tableName(): TableName {
    const first = this.ident();
    if (this.acceptOp(".")) return { db: first, name: this.identAfterDot() };
    return { db: null, name: first };
  }

  identList(): string[] {
    const out = [this.ident()];
    while (this.acceptOp(",")) out.push(this.ident());
    return out;
  }

  /** `(a, b, c)`. */
  parenIdentList(): string[] {
    this.expectOp("(");
    const out = this.identList();
    this.expectOp(")");
    return out;
  }

  /** An unsigned integer literal's value. */
  integer(): number {
    const token = this.peek();
    if (token.kind !== "number" || token.numberKind !== "int") this.fail("integer");
    this.pos++;
    return Number(token.text);
  }

  stringLiteral(): string {
    const token = this.peek();
    if (token.kind !== "string") this.fail("string");
    this.pos++;
    let value = token.text;
    while (this.peek().kind === "string") value += this.next().text;
    return value;
  }

  // -------------------------------------------------------------------------------------
  // Statements
  // -------------------------------------------------------------------------------------

  /** One statement starting at the current token. */
  parseStatement(): Statement {
    const token = this.peek();
    if (token.kind === "op" && token.text === "(") return this.parseQuery();
    if (token.kind !== "word") return this.fail("statement");
    switch (token.upper) {
      case "SELECT":
      case "VALUES":
      case "TABLE":
        return this.parseQuery();
      case "WITH": {
        const withClause = this.parseWith();
        if (this.isWord("UPDATE")) return this.parseUpdate(withClause);
        if (this.isWord("DELETE")) return this.parseDelete(withClause);
        return this.attachWith(this.parseQueryBody(), withClause);
      }
      case "INSERT":
      case "REPLACE":
        return this.parseInsert();
      case "UPDATE":
        return this.parseUpdate(null);
      case "DELETE":
        return this.parseDelete(null);
      default:
        return parseOtherStatement(this);
    }
  }

  // -------------------------------------------------------------------------------------
  // Queries
  // -------------------------------------------------------------------------------------

  /** True when the tokens from `ahead` on start a query (skipping opening brackets). */
  startsQuery(ahead = 0): boolean {
    let i = ahead;
    while (this.isOp("(", i)) i++;
    const token = this.peek(i);
    return token.kind === "word" && queryStartWords.has(token.upper);
  }

  /** A full query expression: [WITH] body [ORDER BY] [LIMIT] [locking]. */
  parseQuery(): Query {
    this.enter();
    let result: Query;
    if (this.isWord("WITH")) {
      const withClause = this.parseWith();
      result = this.attachWith(this.parseQueryBody(), withClause);
    } else {
      result = this.parseQueryBody();
    }
    this.leave();
    return result;
  }

  attachWith(query: Query, withClause: With): Query {
    if (query.with === null) return { ...query, with: withClause };
    return { kind: "parenQuery", with: withClause, orderBy: [], limit: null, query };
  }

  parseWith(): With {
    this.expectWord("WITH");
    const recursive = this.acceptWord("RECURSIVE");
    const ctes: Cte[] = [];
    do {
      const name = this.ident();
      const columns = this.isOp("(") ? this.parenIdentList() : null;
      this.expectWord("AS");
      this.expectOp("(");
      const query = this.parseQuery();
      this.expectOp(")");
      ctes.push({ name, columns, query });
    } while (this.acceptOp(","));
    return { recursive, ctes };
  }

  /** Set operations over query primaries, then the trailing ORDER BY / LIMIT / lock. */
  parseQueryBody(): Query {
    return this.parseQueryTail(this.parseQueryPrimary());
  }

  /** Continues a query whose first primary is already parsed. */
  parseQueryTail(first: Query): Query {
    let left = this.parseIntersectChain(first);
    for (;;) {
      const op = this.isWord("UNION") ? "UNION" : this.isWord("EXCEPT") ? "EXCEPT" : null;
      if (op === null) break;
      this.next();
      const all = this.parseSetQuantifier();
      const right = this.parseIntersectChain(this.parseQueryPrimary());
      left = { kind: "setOp", with: null, orderBy: [], limit: null, op, all, left, right };
    }
    const orderBy = this.parseOrderByClause();
    const limit = this.parseLimitClause();
    const lock = this.parseLockClause();
    return this.attachTail(left, orderBy, limit, lock);
  }

  parseSetQuantifier(): boolean {
    if (this.acceptWord("ALL")) return true;
    this.acceptWord("DISTINCT");
    return false;
  }

  parseIntersectChain(first: Query): Query {
    let left = first;
    while (this.acceptWord("INTERSECT")) {
      const all = this.parseSetQuantifier();
      const right = this.parseQueryPrimary();
      left = {
        kind: "setOp",
        with: null,
        orderBy: [],
        limit: null,
        op: "INTERSECT",
        all,
        left,
        right,
      };
    }
    return left;
  }

  /** SELECT core, VALUES rows, or a parenthesized query. */
  parseQueryPrimary(): Query {
    if (this.isOp("(")) {
      this.next();
      const query = this.parseQuery();
      this.expectOp(")");
      return query;
    }
    if (this.isWord("VALUES")) {
      this.next();
      const rows: Expr[][] = [];
      do {
        this.expectWord("ROW");
        rows.push(this.parseParenExprList(true));
      } while (this.acceptOp(","));
      return { kind: "values", with: null, orderBy: [], limit: null, rows };
    }
    if (this.isWord("TABLE")) {
      // `TABLE t` is `SELECT * FROM t`.
      this.next();
      const name = this.tableName();
      return this.selectOf([{ expr: { kind: "star", table: null }, alias: null }], [
        { kind: "table", name, alias: null, partitions: [], indexHints: [] },
      ]);
    }
    return this.parseSelectCore();
  }

  selectOf(fields: SelectField[], from: TableExpr[]): SelectQuery {
    return {
      kind: "select",
      with: null,
      hints: null,
      distinct: false,
      options: [],
      fields,
      from,
      where: null,
      groupBy: [],
      withRollup: false,
      having: null,
      windows: [],
      orderBy: [],
      limit: null,
      lock: null,
    };
  }

  attachTail(
    query: Query,
    orderBy: OrderItem[],
    limit: Limit | null,
    lock: LockClause | null,
  ): Query {
    if (orderBy.length === 0 && limit === null && lock === null) return query;
    const free =
      query.orderBy.length === 0 &&
      query.limit === null &&
      (query.kind !== "select" || query.lock === null);
    if (lock !== null) {
      if (query.kind !== "select" || query.lock !== null) this.failAt(this.previous());
      if (!free && (orderBy.length > 0 || limit !== null)) this.failAt(this.previous());
      return {
        ...query,
        orderBy: orderBy.length > 0 ? orderBy : query.orderBy,
        limit: limit ?? query.limit,
        lock,
      };
    }
    if (free) return { ...query, orderBy, limit };
    return { kind: "parenQuery", with: null, orderBy, limit, query };
  }

  failAt(token: Token): never {
    throw syntaxErrorAt(this.input, token.start);
  }

  parseSelectCore(): SelectQuery {
    const selectToken = this.expectWord("SELECT");
    let distinct = false;
    const options: string[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind !== "word") break;
      if (token.upper === "DISTINCT" || token.upper === "DISTINCTROW") {
        distinct = true;
      } else if (token.upper === "ALL") {
        // The default; nothing to record.
      } else if (selectOptions.has(token.upper)) {
        options.push(token.upper);
      } else {
        break;
      }
      this.pos++;
    }
    const fields: SelectField[] = [];
    do fields.push(this.parseSelectField());
    while (this.acceptOp(","));
    let from: TableExpr[] = [];
    if (this.acceptWord("FROM")) {
      if (!this.acceptWord("DUAL")) from = this.parseTableRefs();
    }
    const where = this.acceptWord("WHERE") ? this.parseExpr() : null;
    let groupBy: Expr[] = [];
    let withRollup = false;
    if (this.acceptWords("GROUP", "BY")) {
      groupBy = this.parseExprList();
      withRollup = this.acceptWords("WITH", "ROLLUP");
    }
    const having = this.acceptWord("HAVING") ? this.parseExpr() : null;
    const windows: NamedWindow[] = [];
    if (this.acceptWord("WINDOW")) {
      do {
        const name = this.ident();
        this.expectWord("AS");
        windows.push({ name, spec: this.parseWindowSpecParens() });
      } while (this.acceptOp(","));
    }
    return {
      ...this.selectOf(fields, from),
      hints: selectToken.hint,
      distinct,
      options,
      where,
      groupBy,
      withRollup,
      having,
      windows,
    };
  }

  parseSelectField(): SelectField {
    if (this.acceptOp("*")) return { expr: { kind: "star", table: null }, alias: null };
    // t.* and db.t.*
    if (this.isIdentLike(0) && this.isOp(".", 1)) {
      if (this.isOp("*", 2)) {
        const name = this.next().text;
        this.pos += 2;
        return { expr: { kind: "star", table: { db: null, name } }, alias: null };
      }
      if (this.isIdentLike(2) && this.isOp(".", 3) && this.isOp("*", 4)) {
        const db = this.next().text;
        this.next();
        const name = this.next().text;
        this.pos += 2;
        return { expr: { kind: "star", table: { db, name } }, alias: null };
      }
    }
    const expr = this.parseExpr();
    return { expr, alias: this.parseAlias() };
  }

  isIdentLike(ahead: number): boolean {
    const kind = this.peek(ahead).kind;
    return kind === "word" || kind === "quotedIdent";
  }

  /** `[AS] alias` where a string is also accepted. */
  parseAlias(): string | null {
    if (this.acceptWord("AS")) return this.identOrString();
    if (this.isIdent() || this.peek().kind === "string") return this.next().text;
    return null;
  }

  parseOrderByClause(): OrderItem[] {
    if (!this.acceptWords("ORDER", "BY")) return [];
    return this.parseOrderItems();
  }

  parseOrderItems(): OrderItem[] {
    const items: OrderItem[] = [];
    do {
      const expr = this.parseExpr();
      let desc = false;
      if (this.acceptWord("DESC")) desc = true;
      else this.acceptWord("ASC");
      items.push({ expr, desc });
    } while (this.acceptOp(","));
    return items;
  }

  parseLimitClause(): Limit | null {
    if (!this.acceptWord("LIMIT")) return null;
    const first = this.parseLimitValue();
    if (this.acceptOp(",")) return { offset: first, count: this.parseLimitValue() };
    if (this.acceptWord("OFFSET")) return { count: first, offset: this.parseLimitValue() };
    return { count: first, offset: null };
  }

  parseLimitValue(): Expr {
    const token = this.peek();
    if (token.kind === "number" && token.numberKind === "int") {
      this.pos++;
      return { kind: "int", text: token.text };
    }
    if (token.kind === "param") {
      this.pos++;
      return { kind: "param", index: this.paramCount++ };
    }
    if (token.kind === "userVar") {
      this.pos++;
      return { kind: "userVar", name: token.text };
    }
    return this.fail("limit value");
  }

  parseLockClause(): LockClause | null {
    if (this.acceptWords("LOCK", "IN", "SHARE", "MODE")) {
      return { mode: "LOCK IN SHARE MODE", of: [], wait: null };
    }
    if (!this.isWord("FOR")) return null;
    let mode: LockClause["mode"];
    if (this.acceptWords("FOR", "UPDATE")) mode = "FOR UPDATE";
    else if (this.acceptWords("FOR", "SHARE")) mode = "FOR SHARE";
    else return this.fail();
    const of: TableName[] = [];
    if (this.acceptWord("OF")) {
      do of.push(this.tableName());
      while (this.acceptOp(","));
    }
    let wait: LockClause["wait"] = null;
    if (this.acceptWord("NOWAIT")) wait = "NOWAIT";
    else if (this.acceptWords("SKIP", "LOCKED")) wait = "SKIP LOCKED";
    return { mode, of, wait };
  }

  // -------------------------------------------------------------------------------------
  // FROM
  // -------------------------------------------------------------------------------------

  parseTableRefs(): TableExpr[] {
    const refs = [this.parseJoinedTable()];
    while (this.acceptOp(",")) refs.push(this.parseJoinedTable());
    return refs;
  }

  parseJoinedTable(first: TableExpr | null = null): TableExpr {
    let left = first ?? this.parseTableFactor();
    for (;;) {
      const natural = this.acceptWord("NATURAL");
      let type: "INNER" | "LEFT" | "RIGHT" | "STRAIGHT";
      let outer = false;
      if (this.acceptWord("JOIN")) type = "INNER";
      else if (this.acceptWords("INNER", "JOIN")) type = "INNER";
      else if (!natural && this.acceptWords("CROSS", "JOIN")) type = "INNER";
      else if (!natural && this.acceptWord("STRAIGHT_JOIN")) type = "STRAIGHT";
      else if (this.acceptWord("LEFT")) {
        type = "LEFT";
        outer = true;
        this.acceptWord("OUTER");
        this.expectWord("JOIN");
      } else if (this.acceptWord("RIGHT")) {
        type = "RIGHT";
        outer = true;
        this.acceptWord("OUTER");
        this.expectWord("JOIN");
      } else {
        if (natural) this.fail("JOIN");
        break;
      }
      const right = this.parseTableFactor();
      let on: Expr | null = null;
      let using: string[] | null = null;
      if (!natural) {
        if (this.acceptWord("ON")) on = this.parseExpr();
        else if (this.acceptWord("USING")) using = this.parenIdentList();
        else if (outer) this.fail("ON");
      }
      left = { kind: "join", type, natural, left, right, on, using };
    }
    return left;
  }

  parseTableFactor(): TableExpr {
    if (this.isOp("(")) {
      const after = this.peek(1);
      if (after.kind === "word" && queryStartWords.has(after.upper)) {
        return this.parseDerived(false);
      }
      return this.parseParenTableRefs();
    }
    if (this.isWord("LATERAL")) {
      this.next();
      return this.parseDerived(true);
    }
    const name = this.tableName();
    let partitions: string[] = [];
    if (this.acceptWord("PARTITION")) partitions = this.parenIdentList();
    const alias = this.parseTableAlias();
    const indexHints = this.parseIndexHints();
    return { kind: "table", name, alias, partitions, indexHints };
  }

  /**
   * `( … )` in FROM that does not directly start a query: a bracketed join or list, whose
   * first item may be a derived table, or a query in extra brackets (`((SELECT 1)) AS d`,
   * `((SELECT 1) UNION (SELECT 2)) AS d`). Decided after the first item, without
   * backtracking.
   */
  parseParenTableRefs(): TableExpr {
    this.enter();
    this.expectOp("(");
    const first = this.parseTableFactor();
    const bare = first.kind === "derived" && first.alias === null && !first.lateral;
    if (bare && this.isQueryContinuation()) {
      const query = this.parseQueryTail(first.query);
      this.expectOp(")");
      this.leave();
      return this.finishDerived(query, false);
    }
    const items = [this.parseJoinedTable(first)];
    while (this.acceptOp(",")) items.push(this.parseJoinedTable());
    this.expectOp(")");
    this.leave();
    const only = items[0];
    if (items.length === 1 && only !== undefined) {
      if (only === first && bare) return this.finishDerived(first.query, false);
      return only;
    }
    return { kind: "tableList", items };
  }

  parseTableAlias(): string | null {
    if (this.acceptWord("AS")) return this.identOrString();
    if (this.isIdent() || this.peek().kind === "string") return this.next().text;
    return null;
  }

  parseDerived(lateral: boolean): TableExpr {
    this.expectOp("(");
    const query = this.parseQuery();
    this.expectOp(")");
    return this.finishDerived(query, lateral);
  }

  finishDerived(query: Query, lateral: boolean): TableExpr {
    const alias = this.parseTableAlias();
    const columns = alias !== null && this.isOp("(") ? this.parenIdentList() : null;
    return { kind: "derived", query, alias, columns, lateral };
  }

  parseIndexHints(): IndexHint[] {
    const hints: IndexHint[] = [];
    for (;;) {
      const word = this.peek().upper;
      if (
        this.peek().kind !== "word" ||
        (word !== "USE" && word !== "FORCE" && word !== "IGNORE") ||
        !(this.isWord("INDEX", 1) || this.isWord("KEY", 1))
      ) {
        break;
      }
      const type = word;
      this.pos += 2;
      let scope: IndexHint["scope"] = null;
      if (this.acceptWord("FOR")) {
        if (this.acceptWord("JOIN")) scope = "JOIN";
        else if (this.acceptWords("ORDER", "BY")) scope = "ORDER BY";
        else if (this.acceptWords("GROUP", "BY")) scope = "GROUP BY";
        else this.fail();
      }
      this.expectOp("(");
      const indexes: string[] = [];
      if (!this.isOp(")")) {
        do indexes.push(this.acceptWord("PRIMARY") ? "PRIMARY" : this.ident());
        while (this.acceptOp(","));
      }
      this.expectOp(")");
      hints.push({ type, scope, indexes });
    }
    return hints;
  }

  // -------------------------------------------------------------------------------------
  // DML
  // -------------------------------------------------------------------------------------

  parseInsert(): InsertStatement {
    const keyword = this.next();
    const replace = keyword.upper === "REPLACE";
    let priority: InsertStatement["priority"] = null;
    if (this.acceptWord("LOW_PRIORITY")) priority = "LOW_PRIORITY";
    else if (this.acceptWord("DELAYED")) priority = "DELAYED";
    else if (this.acceptWord("HIGH_PRIORITY")) priority = "HIGH_PRIORITY";
    const ignore = this.acceptWord("IGNORE");
    this.acceptWord("INTO");
    const table = this.tableName();
    let partitions: string[] = [];
    if (this.acceptWord("PARTITION")) partitions = this.parenIdentList();
    let columns: string[] | null = null;
    if (this.isOp("(") && !this.startsQuery(1)) {
      this.next();
      columns = [];
      if (!this.isOp(")")) {
        do columns.push(this.parseColumnName().column);
        while (this.acceptOp(","));
      }
      this.expectOp(")");
    }
    let source: InsertStatement["source"];
    if (this.acceptWord("VALUES") || this.acceptWord("VALUE")) {
      const rows: Expr[][] = [];
      do {
        this.acceptWord("ROW");
        rows.push(this.parseParenExprList(true));
      } while (this.acceptOp(","));
      source = { kind: "values", rows };
    } else if (this.acceptWord("SET")) {
      source = { kind: "set", assignments: this.parseAssignments() };
    } else if (this.startsQuery()) {
      source = { kind: "query", query: this.parseQuery() };
    } else {
      return this.fail("VALUES");
    }
    let rowAlias: InsertStatement["rowAlias"];
    if (source.kind !== "query" && this.acceptWord("AS")) {
      const name = this.ident();
      rowAlias = { name, columns: this.isOp("(") ? this.parenIdentList() : null };
    }
    let onDuplicate: Assignment[] = [];
    if (this.acceptWords("ON", "DUPLICATE", "KEY", "UPDATE")) {
      onDuplicate = this.parseAssignments();
    }
    return {
      ...(rowAlias === undefined ? {} : { rowAlias }),
      kind: "insert",
      replace,
      hints: keyword.hint,
      priority,
      ignore,
      table,
      partitions,
      columns,
      source,
      onDuplicate,
    };
  }

  parseColumnName(): { table: string | null; column: string } {
    const first = this.ident();
    if (!this.acceptOp(".")) return { table: null, column: first };
    const second = this.identAfterDot();
    if (!this.acceptOp(".")) return { table: first, column: second };
    return { table: second, column: this.identAfterDot() };
  }

  parseAssignments(): Assignment[] {
    const out: Assignment[] = [];
    do {
      const column = this.parseColumnName();
      if (!this.acceptOp("=")) this.expectOp(":=");
      out.push({ column, value: this.parseExpr() });
    } while (this.acceptOp(","));
    return out;
  }

  parseUpdate(withClause: With | null): UpdateStatement {
    const keyword = this.expectWord("UPDATE");
    const lowPriority = this.acceptWord("LOW_PRIORITY");
    const ignore = this.acceptWord("IGNORE");
    const tables = this.parseTableRefs();
    this.expectWord("SET");
    const set = this.parseAssignments();
    const where = this.acceptWord("WHERE") ? this.parseExpr() : null;
    const orderBy = this.parseOrderByClause();
    const limit = this.parseLimitClause();
    return {
      kind: "update",
      with: withClause,
      hints: keyword.hint,
      lowPriority,
      ignore,
      tables,
      set,
      where,
      orderBy,
      limit,
    };
  }

  /** `t` or `t.*` in a multi-table DELETE target list. */
  parseDeleteTargets(): TableName[] {
    const out: TableName[] = [];
    do {
      const first = this.ident();
      let name: TableName = { db: null, name: first };
      if (this.isOp(".") && !this.isOp("*", 1)) {
        this.next();
        name = { db: first, name: this.identAfterDot() };
      }
      if (this.isOp(".") && this.isOp("*", 1)) this.pos += 2;
      out.push(name);
    } while (this.acceptOp(","));
    return out;
  }

  parseDelete(withClause: With | null): DeleteStatement {
    const keyword = this.expectWord("DELETE");
    const lowPriority = this.acceptWord("LOW_PRIORITY");
    const quick = this.acceptWord("QUICK");
    const ignore = this.acceptWord("IGNORE");
    let targets: TableName[] = [];
    let from: TableExpr[];
    if (this.acceptWord("FROM")) {
      if (this.isUsingAhead()) {
        targets = this.parseDeleteTargets();
        this.expectWord("USING");
        from = this.parseTableRefs();
      } else {
        from = this.parseTableRefs();
      }
    } else {
      targets = this.parseDeleteTargets();
      this.expectWord("FROM");
      from = this.parseTableRefs();
    }
    const where = this.acceptWord("WHERE") ? this.parseExpr() : null;
    const orderBy = this.parseOrderByClause();
    const limit = this.parseLimitClause();
    return {
      kind: "delete",
      with: withClause,
      hints: keyword.hint,
      lowPriority,
      quick,
      ignore,
      targets,
      from,
      where,
      orderBy,
      limit,
    };
  }

  /** True when a `DELETE FROM a, b USING …` target list starts here. */
  isUsingAhead(): boolean {
    let i = 0;
    for (;;) {
      if (!this.isIdentLike(i)) return false;
      i++;
      if (this.isOp(".", i)) {
        i++;
        if (this.isOp("*", i) || this.isIdentLike(i)) i++;
        if (this.isOp(".", i) && this.isOp("*", i + 1)) i += 2;
      }
      if (this.isWord("USING", i)) return true;
      if (!this.isOp(",", i)) return false;
      i++;
    }
  }

  // -------------------------------------------------------------------------------------
  // Expressions
  // -------------------------------------------------------------------------------------

  parseExpr(): Expr {
    this.enter();
    const expr = this.parseOr();
    this.leave();
    return expr;
  }

  parseExprList(): Expr[] {
    const out = [this.parseExpr()];
    while (this.acceptOp(",")) out.push(this.parseExpr());
    return out;
  }

  /** `(e1, e2, …)`; `allowEmpty` for `VALUES ()`. */
  parseParenExprList(allowEmpty: boolean): Expr[] {
    this.expectOp("(");
    if (allowEmpty && this.acceptOp(")")) return [];
    const out = this.parseExprList();
    this.expectOp(")");
    return out;
  }

  parseOr(): Expr {
    let left = this.parseXor();
    while (this.isWord("OR") || this.isOp("||")) {
      this.next();
      left = { kind: "binary", op: "OR", left, right: this.parseXor() };
    }
    return left;
  }

  parseXor(): Expr {
    let left = this.parseAnd();
    while (this.acceptWord("XOR")) {
      left = { kind: "binary", op: "XOR", left, right: this.parseAnd() };
    }
    return left;
  }

  parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isWord("AND") || this.isOp("&&")) {
      this.next();
      left = { kind: "binary", op: "AND", left, right: this.parseNot() };
    }
    return left;
  }

  parseNot(): Expr {
    if (this.isWord("NOT")) {
      this.next();
      this.enter();
      const operand = this.parseNot();
      this.leave();
      return { kind: "unary", op: "NOT", operand };
    }
    return this.parseBoolPri();
  }

  parseBoolPri(): Expr {
    let left = this.parsePredicate();
    for (;;) {
      if (this.acceptWord("IS")) {
        const not = this.acceptWord("NOT");
        const token = this.peek();
        const value = token.kind === "word" ? token.upper : "";
        if (value !== "NULL" && value !== "TRUE" && value !== "FALSE" && value !== "UNKNOWN") {
          return this.fail("NULL");
        }
        this.pos++;
        left = { kind: "is", operand: left, not, value };
        continue;
      }
      const token = this.peek();
      const op = token.kind === "op" ? compareOps.get(token.text) : undefined;
      if (op === undefined) break;
      this.pos++;
      const quantifier = this.peek().upper;
      if (
        this.peek().kind === "word" &&
        (quantifier === "ANY" || quantifier === "SOME" || quantifier === "ALL") &&
        this.isOp("(", 1) &&
        this.startsQuery(2)
      ) {
        this.pos += 2;
        const query = this.parseQuery();
        this.expectOp(")");
        left = {
          kind: "compareSubquery",
          op,
          quantifier: quantifier === "ALL" ? "ALL" : "ANY",
          operand: left,
          query,
        };
        continue;
      }
      left = { kind: "binary", op, left, right: this.parsePredicate() };
    }
    return left;
  }

  parsePredicate(): Expr {
    const operand = this.parseBitExpr(0);
    let not = false;
    if (this.isWord("NOT")) {
      const after = this.peek(1);
      const word = after.kind === "word" ? after.upper : "";
      if (
        word !== "IN" &&
        word !== "LIKE" &&
        word !== "BETWEEN" &&
        word !== "REGEXP" &&
        word !== "RLIKE"
      ) {
        return operand;
      }
      this.pos++;
      not = true;
    }
    const token = this.peek();
    if (token.kind !== "word") return operand;
    switch (token.upper) {
      case "IN": {
        this.pos++;
        if (this.isOp("(") && this.startsQuery(1) && !this.isOp("(", 1)) {
          this.next();
          const query = this.parseQuery();
          this.expectOp(")");
          return { kind: "inSubquery", operand, not, query };
        }
        this.expectOp("(");
        const first = this.parseExpr();
        if (first.kind === "subquery" && this.isQueryContinuation()) {
          const query = this.parseQueryTail(first.query);
          this.expectOp(")");
          return { kind: "inSubquery", operand, not, query };
        }
        const list = [first];
        while (this.acceptOp(",")) list.push(this.parseExpr());
        this.expectOp(")");
        if (list.length === 1 && first.kind === "subquery") {
          return { kind: "inSubquery", operand, not, query: first.query };
        }
        return { kind: "in", operand, not, list };
      }
      case "BETWEEN": {
        this.pos++;
        const low = this.parseBitExpr(0);
        this.expectWord("AND");
        this.enter();
        const high = this.parsePredicate();
        this.leave();
        return { kind: "between", operand, not, low, high };
      }
      case "LIKE": {
        this.pos++;
        const pattern = this.parseSimpleExpr();
        const escape = this.acceptWord("ESCAPE") ? this.parseSimpleExpr() : null;
        return { kind: "like", operand, not, pattern, escape };
      }
      case "REGEXP":
      case "RLIKE":
        this.pos++;
        return { kind: "regexp", operand, not, pattern: this.parseBitExpr(0) };
      case "MEMBER": {
        if (not) return this.fail();
        this.pos++;
        this.acceptWord("OF");
        this.expectOp("(");
        const json = this.parseExpr();
        this.expectOp(")");
        return { kind: "memberOf", operand, json };
      }
      default:
        if (not) return this.fail();
        return operand;
    }
  }

  /** True when a parenthesized subquery continues as a set operation or tail. */
  isQueryContinuation(): boolean {
    const token = this.peek();
    if (token.kind !== "word") return false;
    return (
      token.upper === "UNION" ||
      token.upper === "EXCEPT" ||
      token.upper === "INTERSECT" ||
      token.upper === "ORDER" ||
      token.upper === "LIMIT"
    );
  }

  parseBitExpr(minPrecedence: number): Expr {
    let left = this.parseSimpleExpr();
    for (;;) {
      const token = this.peek();
      let op: string;
      if (token.kind === "op") op = token.text;
      else if (token.kind === "word" && (token.upper === "DIV" || token.upper === "MOD")) {
        op = token.upper;
      } else break;
      const precedence = bitOps.get(op);
      if (precedence === undefined || precedence < minPrecedence) break;
      this.pos++;
      const right = this.parseBitExpr(precedence + 1);
      const normalized = op === "MOD" ? "%" : (op as "|");
      left = { kind: "binary", op: normalized, left, right };
    }
    return left;
  }

  parseSimpleExpr(): Expr {
    const token = this.peek();
    if (token.kind === "op") {
      const op = token.text;
      if (op === "-" || op === "+" || op === "~" || op === "!") {
        this.pos++;
        this.enter();
        const operand = this.parseSimpleExpr();
        this.leave();
        return { kind: "unary", op, operand };
      }
    } else if (token.kind === "word" && token.upper === "BINARY") {
      this.pos++;
      this.enter();
      const operand = this.parseSimpleExpr();
      this.leave();
      return { kind: "unary", op: "BINARY", operand };
    }
    let expr = this.parsePrimary();
    for (;;) {
      if (this.acceptWord("COLLATE")) {
        expr = { kind: "collate", expr, collation: this.identOrString() };
        continue;
      }
      if ((this.isOp("->") || this.isOp("->>")) && expr.kind === "column") {
        const unquote = this.next().text === "->>";
        const path = this.stringLiteral();
        expr = { kind: "jsonPath", column: expr, path, unquote };
        continue;
      }
      return expr;
    }
  }

  parsePrimary(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case "number":
        this.pos++;
        if (token.numberKind === "int") return { kind: "int", text: token.text };
        if (token.numberKind === "decimal") return { kind: "decimal", text: token.text };
        return { kind: "float", text: token.text };
      case "string": {
        const charset = token.national ? "utf8" : null;
        return { kind: "string", value: this.stringLiteral(), charset };
      }
      case "hex":
        this.pos++;
        return { kind: "hex", digits: token.text, charset: null };
      case "bit":
        this.pos++;
        return { kind: "bit", digits: token.text, charset: null };
      case "param":
        this.pos++;
        return { kind: "param", index: this.paramCount++ };
      case "userVar":
        this.pos++;
        if (this.acceptOp(":=")) {
          return { kind: "assign", name: token.text, value: this.parseExpr() };
        }
        return { kind: "userVar", name: token.text };
      case "sysVar":
        this.pos++;
        return sysVarOf(token.text);
      case "op":
        if (token.text === "(") return this.parseParenPrimary();
        return this.fail();
      case "quotedIdent":
        if (this.isOp("(", 1)) return this.parseFunctionCall(token.text.toLowerCase());
        return this.parseColumnRef();
      case "word":
        return this.parseWordPrimary(token);
      case "eof":
        return this.fail("expression");
    }
  }

  parseParenPrimary(): Expr {
    if (this.startsQuery(1) && !this.isOp("(", 1)) {
      this.next();
      const query = this.parseQuery();
      this.expectOp(")");
      return { kind: "subquery", query };
    }
    this.next();
    this.enter();
    const first = this.parseExpr();
    if (first.kind === "subquery" && this.isQueryContinuation()) {
      const query = this.parseQueryTail(first.query);
      this.expectOp(")");
      this.leave();
      return { kind: "subquery", query };
    }
    const items = [first];
    while (this.acceptOp(",")) items.push(this.parseExpr());
    this.expectOp(")");
    this.leave();
    if (items.length === 1) return first;
    return { kind: "row", items };
  }

  parseColumnRef(): Expr {
    const first = this.next().text;
    if (!this.isOp(".")) return { kind: "column", db: null, table: null, column: first };
    this.next();
    const second = this.identAfterDot();
    if (!this.isOp(".")) return { kind: "column", db: null, table: first, column: second };
    this.next();
    return { kind: "column", db: first, table: second, column: this.identAfterDot() };
  }

  parseWordPrimary(token: Token): Expr {
    const word = token.upper;
    const nextIsParen = this.isOp("(", 1);
    switch (word) {
      case "NULL":
        this.pos++;
        return { kind: "null" };
      case "TRUE":
      case "FALSE":
        this.pos++;
        return { kind: "bool", value: word === "TRUE" };
      case "DEFAULT":
        if (nextIsParen) return this.parseFunctionCall("default");
        this.pos++;
        return { kind: "default" };
      case "DATE":
      case "TIME":
      case "TIMESTAMP":
        if (this.peek(1).kind === "string") {
          this.pos++;
          return { kind: "temporal", type: word, value: this.stringLiteral() };
        }
        break;
      case "CASE":
        return this.parseCase();
      case "CAST":
        if (nextIsParen) {
          this.pos += 2;
          this.enter();
          const expr = this.parseExpr();
          this.expectWord("AS");
          const type = this.parseCastType();
          this.expectOp(")");
          this.leave();
          return { kind: "cast", expr, type };
        }
        break;
      case "CONVERT":
        if (nextIsParen) {
          this.pos += 2;
          this.enter();
          const expr = this.parseExpr();
          let result: Expr;
          if (this.acceptWord("USING")) {
            result = { kind: "convertUsing", expr, charset: this.anyName().toLowerCase() };
          } else {
            this.expectOp(",");
            result = { kind: "cast", expr, type: this.parseCastType() };
          }
          this.expectOp(")");
          this.leave();
          return result;
        }
        break;
      case "EXISTS": {
        this.pos++;
        this.expectOp("(");
        const query = this.parseQuery();
        this.expectOp(")");
        return { kind: "exists", query };
      }
      case "INTERVAL":
        return this.parseInterval();
      case "ROW":
        if (nextIsParen) {
          this.pos++;
          this.enter();
          const items = this.parseParenExprList(false);
          this.leave();
          return { kind: "row", items };
        }
        break;
      case "MATCH":
        if (nextIsParen) return this.parseMatch();
        break;
      case "EXTRACT":
        if (nextIsParen) {
          this.pos += 2;
          this.enter();
          const unit = this.parseTimeUnit();
          this.expectWord("FROM");
          const expr = this.parseExpr();
          this.expectOp(")");
          this.leave();
          return { kind: "extract", unit, expr };
        }
        break;
      case "TRIM":
        if (nextIsParen) return this.parseTrim();
        break;
      case "GROUP_CONCAT":
        if (nextIsParen) return this.parseGroupConcat();
        break;
      default:
        break;
    }
    if (
      word.startsWith("_") &&
      introducerCharsets.has(word.slice(1).toLowerCase()) &&
      ["string", "hex", "bit"].includes(this.peek(1).kind)
    ) {
      this.pos++;
      const charset = word.slice(1).toLowerCase();
      const literal = this.parsePrimary();
      if (literal.kind === "string" || literal.kind === "hex" || literal.kind === "bit") {
        return { ...literal, charset };
      }
      return this.failAt(token);
    }
    if (nextIsParen) return this.parseFunctionCall(token.text.toLowerCase());
    if (bareFunctions.has(word)) {
      this.pos++;
      return { kind: "func", name: word.toLowerCase(), args: [], distinct: false, over: null };
    }
    if (reservedWords.has(word)) return this.fail();
    return this.parseColumnRef();
  }

  parseCase(): Expr {
    this.expectWord("CASE");
    this.enter();
    const operand = this.isWord("WHEN") ? null : this.parseExpr();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.acceptWord("WHEN")) {
      const when = this.parseExpr();
      this.expectWord("THEN");
      whens.push({ when, then: this.parseExpr() });
    }
    if (whens.length === 0) this.fail("WHEN");
    const elseExpr = this.acceptWord("ELSE") ? this.parseExpr() : null;
    this.expectWord("END");
    this.leave();
    return { kind: "case", operand, whens, else: elseExpr };
  }

  parseCastType(): DataType {
    return parseDataType(this, { cast: true });
  }

  parseTimeUnit(): TimeUnit {
    const token = this.peek();
    if (token.kind !== "word" || !timeUnits.has(token.upper)) return this.fail("unit");
    this.pos++;
    return token.upper as TimeUnit;
  }

  parseInterval(): Expr {
    this.expectWord("INTERVAL");
    if (this.isOp("(")) {
      // INTERVAL(n, n1, …) is a function unless a unit follows the brackets.
      let depth = 0;
      let i = 0;
      for (;;) {
        const t = this.peek(i);
        if (t.kind === "eof") break;
        if (t.kind === "op" && t.text === "(") depth++;
        if (t.kind === "op" && t.text === ")") {
          depth--;
          if (depth === 0) break;
        }
        i++;
      }
      const after = this.peek(i + 1);
      if (!(after.kind === "word" && timeUnits.has(after.upper))) {
        this.pos--;
        return this.parseFunctionCall("interval");
      }
    }
    this.enter();
    const value = this.parseExpr();
    const unit = this.parseTimeUnit();
    this.leave();
    return { kind: "interval", value, unit };
  }

  parseMatch(): Expr {
    this.expectWord("MATCH");
    this.enter();
    this.expectOp("(");
    const columns: Expr[] = [];
    do columns.push(this.parseColumnRefOnly());
    while (this.acceptOp(","));
    this.expectOp(")");
    this.expectWord("AGAINST");
    this.expectOp("(");
    const against = this.parseBitExpr(0);
    let modifier: string | null = null;
    if (this.acceptWords("IN", "NATURAL", "LANGUAGE", "MODE")) {
      modifier = "IN NATURAL LANGUAGE MODE";
      if (this.acceptWords("WITH", "QUERY", "EXPANSION")) {
        modifier += " WITH QUERY EXPANSION";
      }
    } else if (this.acceptWords("IN", "BOOLEAN", "MODE")) {
      modifier = "IN BOOLEAN MODE";
    } else if (this.acceptWords("WITH", "QUERY", "EXPANSION")) {
      modifier = "WITH QUERY EXPANSION";
    }
    this.expectOp(")");
    this.leave();
    return { kind: "match", columns, against, modifier };
  }

  parseColumnRefOnly(): Expr {
    if (!this.isIdent()) this.fail("column");
    return this.parseColumnRef();
  }

  parseTrim(): Expr {
    this.pos += 2;
    this.enter();
    let direction: "BOTH" | "LEADING" | "TRAILING" | null = null;
    if (this.acceptWord("BOTH")) direction = "BOTH";
    else if (this.acceptWord("LEADING")) direction = "LEADING";
    else if (this.acceptWord("TRAILING")) direction = "TRAILING";
    let remove: Expr | null = null;
    let expr: Expr;
    if (direction !== null && this.acceptWord("FROM")) {
      expr = this.parseExpr();
    } else {
      const first = this.parseExpr();
      if (this.acceptWord("FROM")) {
        remove = first;
        expr = this.parseExpr();
      } else {
        if (direction !== null) this.fail("FROM");
        expr = first;
      }
    }
    this.expectOp(")");
    this.leave();
    return { kind: "trim", direction, remove, expr };
  }

  parseGroupConcat(): Expr {
    this.pos += 2;
    this.enter();
    const distinct = this.acceptWord("DISTINCT");
    const args = this.parseExprList();
    const orderBy = this.parseOrderByClause();
    const separator = this.acceptWord("SEPARATOR") ? this.stringLiteral() : null;
    this.expectOp(")");
    this.leave();
    return { kind: "groupConcat", distinct, args, orderBy, separator };
  }

  /** `name(args) [OVER …]` with the current token at the name. */
  parseFunctionCall(name: string): Expr {
    this.pos += 2;
    this.enter();
    let distinct = false;
    let usingCharset: string | null = null;
    let args: Expr[];
    if (name === "count" && this.isOp("*")) {
      this.pos++;
      args = [{ kind: "star", table: null }];
    } else if (this.isOp(")")) {
      args = [];
    } else if (name === "timestampadd" || name === "timestampdiff") {
      args = [{ kind: "timeUnit", unit: this.parseTimeUnit() }];
      while (this.acceptOp(",")) args.push(this.parseExpr());
    } else if (name === "position" || name === "locate") {
      const needle = this.parseBitExpr(0);
      if (name === "position" && this.acceptWord("IN")) {
        args = [needle, this.parseExpr()];
      } else {
        args = [needle];
        while (this.acceptOp(",")) args.push(this.parseExpr());
      }
    } else if (name === "char") {
      // CHAR(n, … USING charset) is CONVERT(CHAR(n, …) USING charset).
      args = this.parseExprList();
      if (this.acceptWord("USING")) usingCharset = this.anyName().toLowerCase();
    } else if (name === "substring" || name === "substr") {
      args = [this.parseExpr()];
      if (this.acceptWord("FROM")) {
        args.push(this.parseExpr());
        if (this.acceptWord("FOR")) args.push(this.parseExpr());
      } else {
        while (this.acceptOp(",")) args.push(this.parseExpr());
      }
    } else {
      if (aggregateNames.has(name)) {
        if (this.acceptWord("DISTINCT")) distinct = true;
        else this.acceptWord("ALL");
      }
      args = this.parseExprList();
    }
    this.expectOp(")");
    this.leave();
    // MySQL's defaults, accepted and implied: NTH_VALUE(…) FROM FIRST, … RESPECT NULLS.
    if (name === "nth_value" && this.isWord("FROM") && this.isWord("FIRST", 1) &&
      (this.isWord("OVER", 2) || this.isWord("RESPECT", 2))) this.pos += 2;
    if (this.isWord("RESPECT") && this.isWord("NULLS", 1) && this.isWord("OVER", 2)) {
      this.pos += 2;
    }
    let over: WindowSpec | null = null;
    if (this.acceptWord("OVER")) {
      over = this.isOp("(")
        ? this.parseWindowSpecParens()
        : { ref: this.ident(), partitionBy: [], orderBy: [], frame: null };
    }
    const func: Expr = { kind: "func", name, args, distinct, over };
    return usingCharset === null ? func
      : { kind: "convertUsing", expr: func, charset: usingCharset };
  }

  parseWindowSpecParens(): WindowSpec {
    this.expectOp("(");
    this.enter();
    let ref: string | null = null;
    if (
      this.isIdent() &&
      !this.isWord("PARTITION") &&
      !this.isWord("ORDER") &&
      !this.isWord("ROWS") &&
      !this.isWord("RANGE") &&
      !this.isWord("GROUPS")
    ) {
      ref = this.ident();
    }
    const partitionBy = this.acceptWords("PARTITION", "BY") ? this.parseExprList() : [];
    const orderBy = this.parseOrderByClause();
    let frame: WindowFrame | null = null;
    const unitToken = this.peek().upper;
    if (unitToken === "ROWS" || unitToken === "RANGE" || unitToken === "GROUPS") {
      this.pos++;
      if (this.acceptWord("BETWEEN")) {
        const start = this.parseFrameBound();
        this.expectWord("AND");
        frame = { unit: unitToken, start, end: this.parseFrameBound() };
      } else {
        frame = { unit: unitToken, start: this.parseFrameBound(), end: null };
      }
    }
    this.expectOp(")");
    this.leave();
    return { ref, partitionBy, orderBy, frame };
  }

  parseFrameBound(): FrameBound {
    if (this.acceptWords("UNBOUNDED", "PRECEDING")) {
      return { type: "UNBOUNDED PRECEDING", value: null };
    }
    if (this.acceptWords("UNBOUNDED", "FOLLOWING")) {
      return { type: "UNBOUNDED FOLLOWING", value: null };
    }
    if (this.acceptWords("CURRENT", "ROW")) return { type: "CURRENT ROW", value: null };
    const value = this.parseExpr();
    if (this.acceptWord("PRECEDING")) return { type: "PRECEDING", value };
    if (this.acceptWord("FOLLOWING")) return { type: "FOLLOWING", value };
    return this.fail("PRECEDING");
  }
}
