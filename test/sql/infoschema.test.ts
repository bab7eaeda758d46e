/**
 * information_schema tables and the SHOW family against an in-process cluster: for each
 * table and SHOW form, MySQL 8's column names and a few rows for a known schema; LIKE and
 * WHERE filters; errors for unknown tables and databases; LOCK TABLES and ALTER TABLE …
 * DISABLE KEYS as documented no-ops; the MariaDB-only comment statement; result columns of
 * a prepared SELECT with placeholders.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type mysql from "mysql2/promise";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let conn: mysql.Connection;

type Rows = Record<string, unknown>[];

async function rows(sql: string): Promise<{ rows: Rows; names: string[] }> {
  const [result, fields] = await conn.query(sql);
  return { rows: result as Rows, names: (fields as mysql.FieldPacket[]).map((f) => f.name) };
}

before(async () => {
  cluster = await startSqlCluster();
  const node = await cluster.startNode();
  conn = await node.connect();
  await conn.query("CREATE DATABASE shop");
  await conn.query("USE shop");
  await conn.query("CREATE TABLE items (id INT PRIMARY KEY AUTO_INCREMENT, " +
    "sku VARCHAR(16) NOT NULL, price DECIMAL(8,2) DEFAULT '1.50', note TEXT, " +
    "UNIQUE KEY u_sku (sku))");
  await conn.query("CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(4) NOT NULL, c INT, " +
    "PRIMARY KEY (a, b))");
});

after(async () => {
  await cluster.close();
});

test("information_schema.SCHEMATA and TABLES", { timeout: 30_000 }, async () => {
  const schemata = await rows("SELECT * FROM information_schema.SCHEMATA");
  assert.deepEqual(schemata.names, ["CATALOG_NAME", "SCHEMA_NAME",
    "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME", "SQL_PATH", "DEFAULT_ENCRYPTION"]);
  const names = schemata.rows.map((r) => r["SCHEMA_NAME"]);
  for (const db of ["information_schema", "mysql", "test", "shop"]) assert.ok(names.includes(db));

  const tables = await rows("SELECT * FROM information_schema.tables " +
    "WHERE table_schema = 'shop' ORDER BY table_name");
  assert.equal(tables.names.length, 21);
  assert.deepEqual(tables.names.slice(0, 5), ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME",
    "TABLE_TYPE", "ENGINE"]);
  assert.deepEqual(tables.rows.map((r) => [r["TABLE_NAME"], r["TABLE_TYPE"], r["ENGINE"]]),
    [["items", "BASE TABLE", "InnoDB"], ["pairs", "BASE TABLE", "InnoDB"]]);
  const system = await rows("SELECT table_name, table_type FROM information_schema.TABLES " +
    "WHERE table_schema = 'information_schema' AND table_name = 'COLUMNS'");
  assert.deepEqual(system.rows, [{ table_name: "COLUMNS", table_type: "SYSTEM VIEW" }]);
  const [counted] = await conn.query("SELECT COUNT(*) AS n FROM information_schema.tables " +
    "WHERE table_schema = DATABASE() AND table_name = 'items'");
  assert.equal(Number((counted as Rows)[0]!["n"]), 1);
});

test("information_schema.COLUMNS", { timeout: 30_000 }, async () => {
  const all = await rows("SELECT * FROM information_schema.columns WHERE table_name = 'items'");
  assert.deepEqual(all.names, ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "COLUMN_NAME",
    "ORDINAL_POSITION", "COLUMN_DEFAULT", "IS_NULLABLE", "DATA_TYPE",
    "CHARACTER_MAXIMUM_LENGTH", "CHARACTER_OCTET_LENGTH", "NUMERIC_PRECISION", "NUMERIC_SCALE",
    "DATETIME_PRECISION", "CHARACTER_SET_NAME", "COLLATION_NAME", "COLUMN_TYPE", "COLUMN_KEY",
    "EXTRA", "PRIVILEGES", "COLUMN_COMMENT", "GENERATION_EXPRESSION", "SRS_ID"]);
  const picked = await rows("SELECT column_name, ordinal_position, column_default, " +
    "is_nullable, data_type, character_maximum_length, numeric_precision, numeric_scale, " +
    "column_type, column_key, extra FROM information_schema.columns " +
    "WHERE table_schema = 'shop' AND table_name = 'items' ORDER BY ordinal_position");
  assert.deepEqual(picked.rows.map((r) => Object.values(r)), [
    ["id", 1, null, "NO", "int", null, 10, 0, "int", "PRI", "auto_increment"],
    ["sku", 2, null, "NO", "varchar", 16, null, null, "varchar(16)", "UNI", ""],
    ["price", 3, "1.50", "YES", "decimal", null, 8, 2, "decimal(8,2)", "", ""],
    ["note", 4, null, "YES", "text", 65535, null, null, "text", "", ""],
  ]);
});

test("information_schema.STATISTICS, KEY_COLUMN_USAGE, TABLE_CONSTRAINTS", {
  timeout: 30_000 }, async () => {
  const stats = await rows("SELECT table_name, non_unique, index_name, seq_in_index, " +
    "column_name FROM information_schema.statistics WHERE table_schema = 'shop' " +
    "ORDER BY table_name, index_name, seq_in_index");
  assert.deepEqual(stats.rows.map((r) => Object.values(r)), [
    ["items", 0, "PRIMARY", 1, "id"], ["items", 0, "u_sku", 1, "sku"],
    ["pairs", 0, "PRIMARY", 1, "a"], ["pairs", 0, "PRIMARY", 2, "b"],
  ]);
  const usage = await rows("SELECT constraint_name, table_name, column_name, " +
    "ordinal_position, referenced_table_name FROM information_schema.KEY_COLUMN_USAGE " +
    "WHERE table_schema = 'shop' AND table_name = 'pairs'");
  assert.deepEqual(usage.rows.map((r) => Object.values(r)),
    [["PRIMARY", "pairs", "a", 1, null], ["PRIMARY", "pairs", "b", 2, null]]);
  const constraints = await rows("SELECT * FROM information_schema.table_constraints " +
    "WHERE table_name = 'items' ORDER BY constraint_name");
  assert.deepEqual(constraints.names, ["CONSTRAINT_CATALOG", "CONSTRAINT_SCHEMA",
    "CONSTRAINT_NAME", "TABLE_SCHEMA", "TABLE_NAME", "CONSTRAINT_TYPE", "ENFORCED"]);
  assert.deepEqual(constraints.rows.map((r) => [r["CONSTRAINT_NAME"], r["CONSTRAINT_TYPE"]]),
    [["PRIMARY", "PRIMARY KEY"], ["u_sku", "UNIQUE"]]);
});

test("empty and constant information_schema tables have MySQL's columns", {
  timeout: 30_000 }, async () => {
  const expected: Record<string, { first: string[]; count: number; rows: number | null }> = {
    REFERENTIAL_CONSTRAINTS: { first: ["CONSTRAINT_CATALOG", "CONSTRAINT_SCHEMA"], count: 11,
      rows: 0 },
    VIEWS: { first: ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "VIEW_DEFINITION"],
      count: 10, rows: 0 },
    FILES: { first: ["FILE_ID", "FILE_NAME", "FILE_TYPE"], count: 38, rows: 0 },
    TRIGGERS: { first: ["TRIGGER_CATALOG", "TRIGGER_SCHEMA", "TRIGGER_NAME"], count: 22,
      rows: 0 },
    ROUTINES: { first: ["SPECIFIC_NAME", "ROUTINE_CATALOG"], count: 31, rows: 0 },
    ENGINES: { first: ["ENGINE", "SUPPORT", "COMMENT", "TRANSACTIONS", "XA", "SAVEPOINTS"],
      count: 6, rows: 1 },
    CHARACTER_SETS: { first: ["CHARACTER_SET_NAME", "DEFAULT_COLLATE_NAME", "DESCRIPTION",
      "MAXLEN"], count: 4, rows: null },
    COLLATIONS: { first: ["COLLATION_NAME", "CHARACTER_SET_NAME", "ID", "IS_DEFAULT",
      "IS_COMPILED", "SORTLEN", "PAD_ATTRIBUTE"], count: 7, rows: null },
    PARTITIONS: { first: ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "PARTITION_NAME"],
      count: 25, rows: null },
    PROCESSLIST: { first: ["ID", "USER", "HOST", "DB", "COMMAND", "TIME", "STATE", "INFO"],
      count: 8, rows: null },
  };
  for (const [table, want] of Object.entries(expected)) {
    const got = await rows(`SELECT * FROM information_schema.${table}`);
    assert.deepEqual(got.names.slice(0, want.first.length), want.first, table);
    assert.equal(got.names.length, want.count, table);
    if (want.rows !== null) assert.equal(got.rows.length, want.rows, table);
  }
  const engines = await rows("SELECT engine, support FROM information_schema.engines");
  assert.deepEqual(engines.rows, [{ engine: "InnoDB", support: "DEFAULT" }]);
  const collation = await rows("SELECT id, is_default FROM information_schema.collations " +
    "WHERE collation_name = 'utf8mb4_general_ci'");
  assert.deepEqual(collation.rows, [{ id: 45, is_default: "Yes" }]);
  const parts = await rows("SELECT table_name, partition_name FROM " +
    "information_schema.partitions WHERE table_schema = 'shop' ORDER BY table_name");
  assert.deepEqual(parts.rows, [{ table_name: "items", partition_name: null },
    { table_name: "pairs", partition_name: null }]);
  const [, ] = await conn.query("SELECT 1");
  const me = await rows("SELECT user, db, command, info FROM information_schema.processlist " +
    "WHERE info LIKE '%processlist%'");
  assert.deepEqual(me.rows.map((r) => [r["user"], r["command"]]), [["root", "Query"]]);
});

test("information_schema.STATEMENTS_SUMMARY aggregates by digest", { timeout: 30_000 },
  async () => {
    for (const id of [1, 2, 3]) await conn.query(`SELECT sku FROM items WHERE id = ${id}`);
    const got = await rows("SELECT stmt_type, schema_name, digest_text, exec_count, " +
      "sum_errors, query_sample_text, avg_latency <= max_latency AS ordered " +
      "FROM information_schema.statements_summary " +
      "WHERE digest_text LIKE 'select sku from items%'");
    assert.deepEqual(got.rows, [{ stmt_type: "Select", schema_name: "shop",
      digest_text: "select sku from items where id = ?", exec_count: 3, sum_errors: 0,
      query_sample_text: "SELECT sku FROM items WHERE id = 3", ordered: 1 }]);
    const all = await rows("SELECT * FROM information_schema.STATEMENTS_SUMMARY LIMIT 1");
    assert.deepEqual(all.names.slice(0, 6), ["STMT_TYPE", "SCHEMA_NAME", "DIGEST",
      "DIGEST_TEXT", "SAMPLE_USER", "EXEC_COUNT"]);
  });

test("views, foreign keys and CHECK constraints in information_schema and SHOW", {
  timeout: 30_000 }, async () => {
  await conn.query("CREATE TABLE order_lines (id INT PRIMARY KEY, item INT, qty INT, " +
    "CONSTRAINT fk_item FOREIGN KEY (item) REFERENCES items (id) ON DELETE CASCADE, " +
    "CONSTRAINT qty_positive CHECK (qty > 0))");
  await conn.query("CREATE VIEW cheap (item_sku, p, doubled) AS " +
    "SELECT sku, price, price * 2 FROM items WHERE price < 10");
  try {
    const refs = await rows("SELECT constraint_name, unique_constraint_name, update_rule, " +
      "delete_rule, table_name, referenced_table_name " +
      "FROM information_schema.referential_constraints WHERE constraint_schema = 'shop'");
    assert.deepEqual(refs.rows.map((r) => Object.values(r)),
      [["fk_item", "PRIMARY", "NO ACTION", "CASCADE", "order_lines", "items"]]);
    const usage = await rows("SELECT column_name, referenced_table_schema, " +
      "referenced_table_name, referenced_column_name FROM information_schema.key_column_usage " +
      "WHERE constraint_name = 'fk_item'");
    assert.deepEqual(usage.rows.map((r) => Object.values(r)), [["item", "shop", "items", "id"]]);
    const kinds = await rows("SELECT constraint_name, constraint_type FROM " +
      "information_schema.table_constraints WHERE table_name = 'order_lines'");
    assert.deepEqual(kinds.rows.map((r) => Object.values(r)), [["PRIMARY", "PRIMARY KEY"],
      ["fk_item", "FOREIGN KEY"], ["qty_positive", "CHECK"]]);
    const checks = await rows("SELECT constraint_name, check_clause " +
      "FROM information_schema.check_constraints WHERE constraint_schema = 'shop'");
    assert.deepEqual(checks.rows, [{ constraint_name: "qty_positive",
      check_clause: "(qty > 0)" }]);

    const viewRows = await rows("SELECT table_name, view_definition, check_option " +
      "FROM information_schema.views WHERE table_schema = 'shop'");
    assert.deepEqual(viewRows.rows.map((r) => [r["table_name"], r["check_option"]]),
      [["cheap", "NONE"]]);
    assert.match(String(viewRows.rows[0]!["view_definition"]), /FROM items/i);
    const tableType = await rows("SELECT table_type, engine FROM information_schema.tables " +
      "WHERE table_schema = 'shop' AND table_name = 'cheap'");
    assert.deepEqual(tableType.rows, [{ table_type: "VIEW", engine: null }]);
    const full = await rows("SHOW FULL TABLES LIKE 'ch%'");
    assert.deepEqual(full.rows.map((r) => Object.values(r)), [["cheap", "VIEW"]]);
    const columns = await rows("SHOW COLUMNS FROM cheap");
    // Columns from a table keep its declared types; a computed one gets its expression's.
    assert.deepEqual(columns.rows.map((r) => [r["Field"], r["Type"], r["Null"]]).slice(0, 2),
      [["item_sku", "varchar(16)", "NO"], ["p", "decimal(8,2)", "YES"]]);
    assert.match(String(columns.rows[2]!["Type"]), /^decimal\(\d+,2\)$/);
    const isColumns = await rows("SELECT column_name, column_type FROM " +
      "information_schema.columns WHERE table_name = 'cheap' ORDER BY ordinal_position");
    assert.deepEqual(isColumns.rows.map((r) => r["column_name"]), ["item_sku", "p", "doubled"]);
    const create = await rows("SHOW CREATE TABLE cheap");
    assert.deepEqual(create.names, ["View", "Create View", "character_set_client",
      "collation_connection"]);
    const status = await rows("SHOW TABLE STATUS LIKE 'cheap'");
    assert.deepEqual(status.rows.map((r) => [r["Engine"], r["Comment"]]), [[null, "VIEW"]]);
    await conn.query("LOCK TABLES cheap READ");
    await conn.query("UNLOCK TABLES");
  } finally {
    await conn.query("DROP VIEW cheap");
    await conn.query("DROP TABLE order_lines");
  }
});

test("unknown information_schema tables are 1109", { timeout: 30_000 }, async () => {
  await assert.rejects(conn.query("SELECT * FROM information_schema.no_such"),
    (e: { errno?: number }) => e.errno === 1109);
});

test("SHOW DATABASES, [FULL] TABLES with FROM, LIKE and WHERE", { timeout: 30_000 },
  async () => {
    const dbs = await rows("SHOW DATABASES LIKE 'sh%'");
    assert.deepEqual(dbs, { names: ["Database"], rows: [{ Database: "shop" }] });
    const tables = await rows("SHOW TABLES");
    assert.deepEqual(tables, { names: ["Tables_in_shop"],
      rows: [{ Tables_in_shop: "items" }, { Tables_in_shop: "pairs" }] });
    const full = await rows("SHOW FULL TABLES FROM shop LIKE 'it%'");
    assert.deepEqual(full, { names: ["Tables_in_shop (it%)", "Table_type"],
      rows: [{ "Tables_in_shop (it%)": "items", Table_type: "BASE TABLE" }] });
    const where = await rows("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE' AND " +
      "Tables_in_shop = 'pairs'");
    assert.equal(where.rows.length, 1);
    const system = await rows("SHOW TABLES FROM information_schema LIKE 'STAT%'");
    assert.deepEqual(system.rows.map((r) => Object.values(r)[0]),
      ["STATEMENTS_SUMMARY", "STATISTICS"]);
    await assert.rejects(conn.query("SHOW TABLES FROM nope"),
      (e: { errno?: number }) => e.errno === 1049);
  });

test("SHOW [FULL] COLUMNS / FIELDS and DESCRIBE", { timeout: 30_000 }, async () => {
  const columns = await rows("SHOW COLUMNS FROM items");
  assert.deepEqual(columns.names, ["Field", "Type", "Null", "Key", "Default", "Extra"]);
  assert.deepEqual(columns.rows.map((r) => Object.values(r)), [
    ["id", "int", "NO", "PRI", null, "auto_increment"],
    ["sku", "varchar(16)", "NO", "UNI", null, ""],
    ["price", "decimal(8,2)", "YES", "", "1.50", ""],
    ["note", "text", "YES", "", null, ""],
  ]);
  const full = await rows("SHOW FULL FIELDS FROM items FROM shop LIKE 's%'");
  assert.deepEqual(full.names, ["Field", "Type", "Collation", "Null", "Key", "Default",
    "Extra", "Privileges", "Comment"]);
  assert.deepEqual(full.rows.map((r) => [r["Field"], r["Collation"]]),
    [["sku", "utf8mb4_general_ci"]]);
  const described = await rows("DESCRIBE pairs");
  assert.deepEqual(described.rows.map((r) => [r["Field"], r["Key"]]),
    [["a", "PRI"], ["b", "PRI"], ["c", ""]]);
  await assert.rejects(conn.query("SHOW COLUMNS FROM nope"),
    (e: { errno?: number }) => e.errno === 1146);
});

test("SHOW INDEX / INDEXES / KEYS", { timeout: 30_000 }, async () => {
  const index = await rows("SHOW INDEX FROM items");
  assert.deepEqual(index.names, ["Table", "Non_unique", "Key_name", "Seq_in_index",
    "Column_name", "Collation", "Cardinality", "Sub_part", "Packed", "Null", "Index_type",
    "Comment", "Index_comment", "Visible", "Expression"]);
  assert.deepEqual(index.rows.map((r) => [r["Key_name"], r["Seq_in_index"], r["Column_name"],
    r["Non_unique"]]), [["PRIMARY", "1", "id", "0"], ["u_sku", "1", "sku", "0"]]);
  const keys = await rows("SHOW KEYS FROM pairs IN shop WHERE Seq_in_index = '2'");
  assert.deepEqual(keys.rows.map((r) => r["Column_name"]), ["b"]);
  const indexes = await rows("SHOW INDEXES IN items");
  assert.equal(indexes.rows.length, 2);
});

test("SHOW CREATE TABLE and CREATE DATABASE", { timeout: 30_000 }, async () => {
  const table = await rows("SHOW CREATE TABLE pairs");
  assert.deepEqual(table.names, ["Table", "Create Table"]);
  assert.equal(table.rows[0]!["Create Table"], "CREATE TABLE `pairs` (\n" +
    "  `a` int NOT NULL,\n  `b` varchar(4) NOT NULL,\n  `c` int DEFAULT NULL,\n" +
    "  PRIMARY KEY (`a`,`b`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 " +
    "COLLATE=utf8mb4_general_ci");
  const db = await rows("SHOW CREATE DATABASE shop");
  assert.deepEqual(db.rows, [{ Database: "shop", "Create Database": "CREATE DATABASE `shop` " +
    "/*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */ " +
    "/*!80016 DEFAULT ENCRYPTION='N' */" }]);
  const ifNot = await rows("SHOW CREATE DATABASE IF NOT EXISTS shop");
  assert.match(String(ifNot.rows[0]!["Create Database"]), /^CREATE DATABASE \/\*!32312 IF NOT/);
  await assert.rejects(conn.query("SHOW CREATE DATABASE nope"),
    (e: { errno?: number }) => e.errno === 1049);
});

test("SHOW TABLE STATUS, TRIGGERS, EVENTS, PROCEDURE STATUS", { timeout: 30_000 },
  async () => {
    const status = await rows("SHOW TABLE STATUS LIKE 'items'");
    assert.deepEqual(status.names, ["Name", "Engine", "Version", "Row_format", "Rows",
      "Avg_row_length", "Data_length", "Max_data_length", "Index_length", "Data_free",
      "Auto_increment", "Create_time", "Update_time", "Check_time", "Collation", "Checksum",
      "Create_options", "Comment"]);
    assert.deepEqual(status.rows.map((r) => [r["Name"], r["Engine"], r["Collation"]]),
      [["items", "InnoDB", "utf8mb4_general_ci"]]);
    const triggers = await rows("SHOW TRIGGERS LIKE 'items'");
    assert.deepEqual(triggers, { rows: [], names: ["Trigger", "Event", "Table", "Statement",
      "Timing", "Created", "sql_mode", "Definer", "character_set_client",
      "collation_connection", "Database Collation"] });
    const events = await rows("SHOW EVENTS FROM shop");
    assert.deepEqual(events.rows, []);
    const procedures = await rows("SHOW PROCEDURE STATUS WHERE Db = 'shop'");
    assert.deepEqual(procedures.rows, []);
    assert.equal(procedures.names[0], "Db");
  });

test("SHOW ENGINES, CHARACTER SET, COLLATION, PLUGINS", { timeout: 30_000 }, async () => {
  const engines = await rows("SHOW ENGINES");
  assert.deepEqual(engines.names, ["Engine", "Support", "Comment", "Transactions", "XA",
    "Savepoints"]);
  assert.deepEqual(engines.rows.map((r) => [r["Engine"], r["Support"]]), [["InnoDB", "DEFAULT"]]);
  const charsets = await rows("SHOW CHARACTER SET LIKE 'utf8mb4'");
  assert.deepEqual(charsets, { names: ["Charset", "Description", "Default collation",
    "Maxlen"], rows: [{ Charset: "utf8mb4", Description: "UTF-8 Unicode",
    "Default collation": "utf8mb4_general_ci", Maxlen: "4" }] });
  const collations = await rows("SHOW COLLATION WHERE Charset = 'utf8mb4' AND Id = '46'");
  assert.deepEqual(collations.names, ["Collation", "Charset", "Id", "Default", "Compiled",
    "Sortlen", "Pad_attribute"]);
  assert.deepEqual(collations.rows.map((r) => r["Collation"]), ["utf8mb4_bin"]);
  const plugins = await rows("SHOW PLUGINS");
  assert.deepEqual(plugins.names, ["Name", "Status", "Type", "Library", "License"]);
  assert.ok(plugins.rows.some((r) => r["Name"] === "InnoDB"));
});

test("SHOW STATUS, VARIABLES, PROCESSLIST, WARNINGS and @@version", { timeout: 30_000 },
  async () => {
    const status = await rows("SHOW GLOBAL STATUS WHERE Variable_name IN " +
      "('Uptime', 'Questions', 'Com_select', 'Threads_connected')");
    assert.deepEqual(status.rows.map((r) => r["Variable_name"]),
      ["Com_select", "Questions", "Threads_connected", "Uptime"]);
    assert.ok(Number(status.rows[0]!["Value"]) > 0);
    const variables = await rows("SHOW VARIABLES LIKE 'sql_quote_show_create'");
    assert.deepEqual(variables.rows, [{ Variable_name: "sql_quote_show_create", Value: "ON" }]);
    await conn.query("SET SQL_QUOTE_SHOW_CREATE = 1, sql_notes = 0, " +
      "optimizer_switch = 'semijoin=off'");
    const processes = await rows("SHOW FULL PROCESSLIST");
    assert.deepEqual(processes.names, ["Id", "User", "Host", "db", "Command", "Time", "State",
      "Info"]);
    await conn.query("SELECT 1/0");
    const warnings = await rows("SHOW WARNINGS");
    assert.deepEqual(warnings.rows, [{ Level: "Warning", Code: 1365, Message: "Division by 0" }]);
    const [version] = await conn.query("SELECT @@version AS v, VERSION() AS f");
    assert.match(String((version as Rows)[0]!["v"]), /^8\.0\.11-Tessera-\d+\.\d+\.\d+/);
    assert.equal((version as Rows)[0]!["v"], (version as Rows)[0]!["f"]);
  });

test("LOCK TABLES, UNLOCK TABLES and DISABLE KEYS are no-ops on existing tables", {
  timeout: 30_000 }, async () => {
  await conn.query("BEGIN");
  await conn.query("INSERT INTO items (sku) VALUES ('before-lock')");
  await conn.query("LOCK TABLES items READ, pairs WRITE"); // commits, as in MySQL
  await conn.query("ROLLBACK");
  const [kept] = await conn.query("SELECT sku FROM items WHERE sku = 'before-lock'");
  assert.equal((kept as Rows).length, 1);
  await conn.query("INSERT INTO items (sku) VALUES ('locked')");
  await conn.query("UNLOCK TABLES");
  await conn.query("ALTER TABLE items DISABLE KEYS");
  await conn.query("ALTER TABLE items ENABLE KEYS");
  await assert.rejects(conn.query("LOCK TABLES nope WRITE"),
    (e: { errno?: number }) => e.errno === 1146);
  await assert.rejects(conn.query("ALTER TABLE nope DISABLE KEYS"),
    (e: { errno?: number }) => e.errno === 1146);
  await conn.query("/*M!100100 SET @@MAX_STATEMENT_TIME=0.000000 */");
  await assert.rejects(conn.query("/* only a comment */"),
    (e: { errno?: number }) => e.errno === 1065);
  const [found] = await conn.query("SELECT /*!40001 SQL_NO_CACHE */ sku FROM items " +
    "WHERE sku = 'locked'");
  assert.equal((found as Rows).length, 1);
});

test("a prepared SELECT with placeholders reports its result columns", { timeout: 30_000 },
  async () => {
    const [result, fields] = await conn.execute("SELECT sku, price FROM items WHERE id = ?",
      [1]);
    assert.deepEqual((fields as mysql.FieldPacket[]).map((f) => f.name), ["sku", "price"]);
    assert.ok(Array.isArray(result));
  });

test("row constructors in IN, as SQLAlchemy's foreign-key reflection sends them", {
  timeout: 30_000 }, async () => {
  const found = await rows("SELECT table_schema, table_name, column_name " +
    "FROM information_schema.columns WHERE (table_schema, table_name, lower(column_name)) " +
    "IN (('shop', 'items', 'sku'), ('shop', 'pairs', 'b'))");
  assert.deepEqual(found.rows.map((r) => Object.values(r)),
    [["shop", "items", "sku"], ["shop", "pairs", "b"]]);
  const [values] = await conn.query({ sql: "SELECT (1, 2) IN ((1, 2), (3, 4)), " +
    "(1, NULL) IN ((1, 2)), (1, 2) NOT IN ((3, 4)), (1, NULL) IN ((2, 2))", rowsAsArray: true });
  assert.deepEqual(values, [[1, null, 1, 0]]);
  await assert.rejects(conn.query("SELECT (1, 2) IN ((1, 2, 3))"),
    (e: { errno?: number }) => e.errno === 1241);
});
