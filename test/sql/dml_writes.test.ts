/**
 * DML writes end to end on the in-process cluster: secondary index maintenance seen
 * through index-only facts (duplicate keys after UPDATE/DELETE), 1062 messages as MySQL 8
 * prints them, checks against the transaction's own writes and other rows of the same
 * statement, statement atomicity, INSERT IGNORE warnings, REPLACE and ON DUPLICATE KEY
 * UPDATE affected-row counts and insert ids (as MariaDB reports them, with mysql2's
 * CLIENT_FOUND_ROWS), CHECK constraints (3819), and foreign keys (1451 / 1452, CASCADE,
 * SET NULL, foreign_key_checks, SHOW CREATE TABLE).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { freshDatabase, ok, rejects, rows, warnings } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });


describe("index maintenance and duplicate keys", { timeout: 60_000 }, () => {
  it("1062 names the key as MySQL 8 does, for the primary key and unique keys", async () => {
    const c = await freshDatabase(node, "dk1");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(5), " +
      "UNIQUE KEY k (a, b), KEY plain (b))");
    await c.query("INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b')");
    await rejects(c.query("INSERT INTO t VALUES (1, 9, 'z')"), 1062,
      "Duplicate entry '1' for key 't.PRIMARY'");
    await rejects(c.query("INSERT INTO t VALUES (3, 1, 'a')"), 1062,
      "Duplicate entry '1-a' for key 't.k'");
    // A non-unique key never collides; NULLs in a unique key never collide.
    await c.query("INSERT INTO t VALUES (3, 3, 'a'), (4, NULL, 'a'), (5, NULL, 'a')");
    // A non-integer primary key is a unique index named PRIMARY.
    await c.query("CREATE TABLE s (name VARCHAR(10) PRIMARY KEY, v INT)");
    await c.query("INSERT INTO s VALUES ('x', 1)");
    await rejects(c.query("INSERT INTO s VALUES ('X', 2)"), 1062,
      "Duplicate entry 'X' for key 's.PRIMARY'");
  });

  it("UPDATE moves index entries: the old value is free, the new one taken", async () => {
    const c = await freshDatabase(node, "dk2");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, UNIQUE KEY ua (a))");
    await c.query("INSERT INTO t VALUES (1, 10), (2, 20)");
    await c.query("UPDATE t SET a = 11 WHERE id = 1");
    await c.query("INSERT INTO t VALUES (3, 10)");
    await rejects(c.query("INSERT INTO t VALUES (4, 11)"), 1062,
      "Duplicate entry '11' for key 't.ua'");
    await rejects(c.query("UPDATE t SET a = 20 WHERE id = 1"), 1062,
      "Duplicate entry '20' for key 't.ua'");
    // Moving the primary key keeps the unique entry pointing at the row.
    await c.query("UPDATE t SET id = 7 WHERE id = 1");
    await rejects(c.query("INSERT INTO t VALUES (8, 11)"), 1062);
    await c.query("DELETE FROM t WHERE id = 7");
    await c.query("INSERT INTO t VALUES (8, 11)");
    assert.deepEqual(await rows(c, "SELECT id, a FROM t ORDER BY id"),
      [{ id: 2, a: 20 }, { id: 3, a: 10 }, { id: 8, a: 11 }]);
  });

  it("rows of one statement are checked against each other, row by row", async () => {
    const c = await freshDatabase(node, "dk3");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, UNIQUE KEY ua (a))");
    await rejects(c.query("INSERT INTO t VALUES (1, 5), (2, 5)"), 1062,
      "Duplicate entry '5' for key 't.ua'");
    await rejects(c.query("INSERT INTO t VALUES (1, 5), (1, 6)"), 1062,
      "Duplicate entry '1' for key 't.PRIMARY'");
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM t"), [{ n: 0 }]);
    await c.query("INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)");
    // MySQL updates in primary-key order and checks each row: 1 → 2 collides.
    await rejects(c.query("UPDATE t SET a = a + 1"), 1062,
      "Duplicate entry '2' for key 't.ua'");
    assert.deepEqual(await rows(c, "SELECT a FROM t ORDER BY id"), [{ a: 1 }, { a: 2 }, { a: 3 }]);
    // In descending order each row moves to a value already freed.
    await c.query("UPDATE t SET a = a + 1 ORDER BY a DESC");
    assert.deepEqual(await rows(c, "SELECT a FROM t ORDER BY id"), [{ a: 2 }, { a: 3 }, { a: 4 }]);
    await c.query("UPDATE t SET a = a + 10");
    assert.deepEqual(await rows(c, "SELECT a FROM t ORDER BY id"),
      [{ a: 12 }, { a: 13 }, { a: 14 }]);
    await c.query("DELETE FROM t ORDER BY a DESC LIMIT 1");
    assert.deepEqual(await rows(c, "SELECT a FROM t ORDER BY id"), [{ a: 12 }, { a: 13 }]);
  });

  it("after mixed writes every index equals the table (ADMIN CHECK TABLE)", async () => {
    const c = await freshDatabase(node, "dk5");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, a INT, b VARCHAR(8), " +
      "c INT, UNIQUE KEY ua (a), KEY kb (b), KEY kbc (b, c))");
    await c.query("CREATE TABLE h (a INT, b VARCHAR(8), UNIQUE KEY ua (a), KEY kb (b))");
    for (const t of ["t", "h"]) {
      const cols = t === "t" ? "(a, b, c)" : "(a, b)";
      const vals = (a: number, b: string): string => (t === "t" ? `(${a}, '${b}', ${a})`
        : `(${a}, '${b}')`);
      await c.query(`INSERT INTO ${t} ${cols} VALUES ${vals(1, "x")}, ${vals(2, "y")}, ` +
        `${vals(3, "x")}, (NULL, NULL${t === "t" ? ", NULL" : ""})`);
      await c.query(`UPDATE ${t} SET b = 'z' WHERE a = 1`);
      await c.query(`UPDATE ${t} SET a = a + 10 WHERE b = 'x'`);
      await c.query(`DELETE FROM ${t} WHERE a = 2`);
      await c.query(`REPLACE INTO ${t} ${cols} VALUES ${vals(11, "r")}`);
      await c.query(`INSERT INTO ${t} ${cols} VALUES ${vals(13, "o")} ` +
        "ON DUPLICATE KEY UPDATE b = 'dup'");
      await c.query(`INSERT IGNORE INTO ${t} ${cols} VALUES ${vals(13, "i")}, ${vals(20, "i")}`);
      await c.query(`ADMIN CHECK TABLE ${t}`);
    }
    await c.query("CREATE INDEX kc ON t (c)");
    await c.query("UPDATE t SET c = c + 100");
    await c.query("ADMIN CHECK TABLE t");
    assert.deepEqual(await rows(c, "SELECT a, b FROM h ORDER BY a"), [
      { a: null, b: null }, { a: 1, b: "z" }, { a: 11, b: "r" }, { a: 13, b: "dup" },
      { a: 20, b: "i" }]);
  });

  it("checks see the transaction's own writes, and a failed statement leaves none", async () => {
    const c = await freshDatabase(node, "dk4");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, UNIQUE KEY ua (a))");
    await c.query("BEGIN");
    await c.query("INSERT INTO t VALUES (1, 1)");
    await rejects(c.query("INSERT INTO t VALUES (2, 1)"), 1062);
    // The failing multi-row statement wrote nothing, not even its first row.
    await rejects(c.query("INSERT INTO t VALUES (3, 3), (4, 1)"), 1062);
    await c.query("DELETE FROM t WHERE id = 1");
    await c.query("INSERT INTO t VALUES (2, 1)");
    await c.query("COMMIT");
    assert.deepEqual(await rows(c, "SELECT id, a FROM t ORDER BY id"), [{ id: 2, a: 1 }]);
  });
});

describe("INSERT IGNORE, REPLACE, ON DUPLICATE KEY UPDATE", { timeout: 60_000 }, () => {
  it("INSERT IGNORE skips duplicates with warning 1062 and converts bad values", async () => {
    const c = await freshDatabase(node, "ig1");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, a INT, b VARCHAR(3), " +
      "UNIQUE KEY ua (a))");
    await c.query("INSERT INTO t VALUES (1, 1, 'x')");
    const r = await ok(c, "INSERT IGNORE INTO t VALUES (1, 100, 'a'), (100, 1, 'b'), " +
      "(101, 101, 'abcdef')");
    assert.equal(r.affectedRows, 1);
    assert.match(r.info, /^Records: 3 {2}Duplicates: 2 {2}Warnings: 3$/);
    assert.deepEqual(await warnings(c), [
      ["Warning", 1062, "Duplicate entry '1' for key 't.PRIMARY'"],
      ["Warning", 1062, "Duplicate entry '1' for key 't.ua'"],
      ["Warning", 1265, "Data truncated for column 'b' at row 3"]]);
    await ok(c, "INSERT IGNORE INTO t (id, a, b) VALUES (200, 'x9', NULL)");
    assert.deepEqual((await warnings(c)).map((w) => w[1]), [1366]);
    assert.deepEqual(await rows(c, "SELECT id, a, b FROM t WHERE id >= 101 ORDER BY id"),
      [{ id: 101, a: 101, b: "abc" }, { id: 200, a: 0, b: null }]);
    await c.query("CREATE TABLE n (id INT PRIMARY KEY, v INT NOT NULL, s TINYINT)");
    await ok(c, "INSERT IGNORE INTO n VALUES (1, NULL, 1000)");
    assert.deepEqual((await warnings(c)).map((w) => w[1]), [1048, 1264]);
    assert.deepEqual(await rows(c, "SELECT * FROM n"), [{ id: 1, v: 0, s: 127 }]);
  });

  it("REPLACE deletes every conflicting row and counts it", async () => {
    const c = await freshDatabase(node, "rp1");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(3), " +
      "UNIQUE KEY ua (a))");
    await c.query("INSERT INTO t VALUES (1, 1, 'x'), (2, 2, 'y')");
    assert.equal((await ok(c, "REPLACE INTO t VALUES (1, 1, 'x')")).affectedRows, 2);
    assert.equal((await ok(c, "REPLACE INTO t VALUES (1, 2, 'z')")).affectedRows, 3);
    assert.deepEqual(await rows(c, "SELECT * FROM t"), [{ id: 1, a: 2, b: "z" }]);
    const r = await ok(c, "REPLACE INTO t VALUES (5, 5, 'q'), (5, 6, 'r')");
    assert.equal(r.affectedRows, 3);
    assert.match(r.info, /^Records: 2 {2}Duplicates: 1 {2}Warnings: 0$/);
    assert.equal((await ok(c, "REPLACE INTO t VALUES (9, 9, 'n')")).affectedRows, 1);
    assert.deepEqual(await rows(c, "SELECT id, a FROM t ORDER BY id"),
      [{ id: 1, a: 2 }, { id: 5, a: 6 }, { id: 9, a: 9 }]);
    // REPLACE ... SELECT, and the index entries of replaced rows are gone.
    await c.query("REPLACE INTO t SELECT id + 100, a, b FROM t WHERE id = 9");
    assert.deepEqual(await rows(c, "SELECT id FROM t WHERE a = 9"), [{ id: 109 }]);
    await c.query("INSERT INTO t VALUES (10, 9000, 'w')");
  });

  it("ON DUPLICATE KEY UPDATE: affected 1 / 2 / 1-when-unchanged, VALUES(), row alias",
    async () => {
      const c = await freshDatabase(node, "od1");
      await c.query("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, a INT, " +
        "b VARCHAR(3), UNIQUE KEY ua (a))");
      await c.query("INSERT INTO t VALUES (1, 1, 'x'), (2, 2, 'y')");
      let r = await ok(c, "INSERT INTO t VALUES (7, 2, 'n') ON DUPLICATE KEY UPDATE b = 'u'");
      assert.deepEqual([r.affectedRows, r.insertId], [2, 2]);
      r = await ok(c, "INSERT INTO t VALUES (7, 2, 'n') ON DUPLICATE KEY UPDATE b = 'u'");
      // Unchanged: 0 rows, reported as 1 because mysql2 asks for CLIENT_FOUND_ROWS.
      assert.deepEqual([r.affectedRows, r.insertId], [1, 0]);
      r = await ok(c, "INSERT INTO t (a, b) VALUES (9, 'a') ON DUPLICATE KEY UPDATE b = 'v'");
      assert.equal(r.affectedRows, 1);
      const generated = r.insertId;
      assert.ok(generated > 7);
      r = await ok(c, "INSERT INTO t (a, b) VALUES (9, 'a') ON DUPLICATE KEY UPDATE b = 'w'");
      assert.deepEqual([r.affectedRows, r.insertId], [2, generated]);
      assert.deepEqual(await rows(c, "SELECT LAST_INSERT_ID() AS id"), [{ id: generated }]);
      r = await ok(c, "INSERT INTO t VALUES (200, 200, 'x'), (201, 200, 'y') " +
        "ON DUPLICATE KEY UPDATE b = VALUES(b)");
      assert.equal(r.affectedRows, 3);
      assert.match(r.info, /^Records: 2 {2}Duplicates: 1 {2}Warnings: 0$/);
      assert.deepEqual(await rows(c, "SELECT id, b FROM t WHERE a = 200"), [{ id: 200, b: "y" }]);
      await c.query("INSERT INTO t VALUES (300, 1, 'q') AS new ON DUPLICATE KEY UPDATE " +
        "b = CONCAT(t.b, new.b), a = new.a + 1000");
      assert.deepEqual(await rows(c, "SELECT id, a, b FROM t WHERE id = 1"),
        [{ id: 1, a: 1001, b: "xq" }]);
      // Alias column names rename the INSERT's columns, in its order.
      await c.query("INSERT INTO t (b, a, id) VALUES ('al', 1001, 400) AS nw (x, y, z) " +
        "ON DUPLICATE KEY UPDATE b = CONCAT(x, z - 400 + y - 1001)");
      assert.deepEqual(await rows(c, "SELECT b FROM t WHERE id = 1"), [{ b: "al0" }]);
      // The update itself may collide on another key.
      await rejects(c.query("INSERT INTO t VALUES (2, 5, 'n') ON DUPLICATE KEY UPDATE a = 9"),
        1062, "Duplicate entry '9' for key 't.ua'");
      // ... which IGNORE turns into a warning, the row counting nothing.
      r = await ok(c, "INSERT IGNORE INTO t VALUES (2, 5, 'n') ON DUPLICATE KEY UPDATE a = 9");
      assert.equal(r.affectedRows, 0);
      assert.deepEqual(await warnings(c),
        [["Warning", 1062, "Duplicate entry '9' for key 't.ua'"]]);
      // ... INSERT ... SELECT with ON DUPLICATE KEY UPDATE.
      await c.query("INSERT INTO t (id, a, b) SELECT id, a, 'sel' FROM t WHERE id <= 2 " +
        "ON DUPLICATE KEY UPDATE b = VALUES(b)");
      assert.deepEqual(await rows(c, "SELECT b FROM t WHERE id <= 2 ORDER BY id"),
        [{ b: "sel" }, { b: "sel" }]);
    });

  it("LAST_INSERT_ID(expr) in the update sets the insert id", async () => {
    const c = await freshDatabase(node, "od2");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, a INT, UNIQUE KEY ua (a))");
    const first = await ok(c, "INSERT INTO t (a) VALUES (300) " +
      "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)");
    await c.query("INSERT INTO t (a) VALUES (301)");
    const again = await ok(c, "INSERT INTO t (a) VALUES (300) " +
      "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)");
    assert.equal(again.insertId, first.insertId);
    assert.deepEqual(await rows(c, "SELECT LAST_INSERT_ID() AS id"), [{ id: first.insertId }]);
  });
});

describe("CHECK constraints", { timeout: 60_000 }, () => {
  it("enforces column and table checks with 3819; NULL passes; IGNORE warns", async () => {
    const c = await freshDatabase(node, "ck1");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT CHECK (a > 0), b INT, " +
      "CONSTRAINT b_small CHECK (b < 10), CHECK (a <> b))");
    await c.query("INSERT INTO t VALUES (1, 1, 2), (2, NULL, NULL)");
    await rejects(c.query("INSERT INTO t VALUES (3, 0, 1)"), 3819,
      "Check constraint 't_chk_1' is violated.");
    await rejects(c.query("INSERT INTO t VALUES (3, 1, 10)"), 3819,
      "Check constraint 'b_small' is violated.");
    await rejects(c.query("UPDATE t SET b = 1 WHERE id = 1"), 3819,
      "Check constraint 't_chk_2' is violated.");
    const r = await ok(c, "INSERT IGNORE INTO t VALUES (4, -1, 1), (5, 5, 5), (6, 6, 1)");
    assert.equal(r.affectedRows, 1);
    assert.deepEqual((await warnings(c)).map((w) => w[1]), [3819, 3819]);
    const [[created]] = await c.query("SHOW CREATE TABLE t") as unknown as
      [Record<string, string>[]];
    assert.match(created!["Create Table"]!, /CONSTRAINT `b_small` CHECK \(\(b < 10\)\)/);
    await rejects(c.query("CREATE TABLE bad (a INT, CHECK (zz > 0))"), 3820);
  });

  it("expression defaults are evaluated per row", async () => {
    const c = await freshDatabase(node, "df1");
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT (1 + 2), " +
      "b VARCHAR(20) DEFAULT 'x')");
    await c.query("INSERT INTO t (id) VALUES (1)");
    await c.query("INSERT INTO t VALUES (2, DEFAULT, DEFAULT)");
    assert.deepEqual(await rows(c, "SELECT * FROM t ORDER BY id"),
      [{ id: 1, a: 3, b: "x" }, { id: 2, a: 3, b: "x" }]);
  });
});

describe("foreign keys", { timeout: 60_000 }, () => {
  const detail = "(`fk1`.`c`, CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `p` (`id`))";

  it("child rows need a parent (1452); parents with children stay (1451)", async () => {
    const c = await freshDatabase(node, "fk1");
    await c.query("CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(10))");
    await c.query("CREATE TABLE c (id INT PRIMARY KEY, pid INT, " +
      "CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id))");
    await c.query("INSERT INTO p VALUES (1, 'one'), (2, 'two')");
    await c.query("INSERT INTO c VALUES (10, 1), (11, NULL)");
    await rejects(c.query("INSERT INTO c VALUES (12, 3)"), 1452,
      `Cannot add or update a child row: a foreign key constraint fails ${detail}`);
    await rejects(c.query("UPDATE c SET pid = 3 WHERE id = 10"), 1452);
    await rejects(c.query("DELETE FROM p WHERE id = 1"), 1451,
      `Cannot delete or update a parent row: a foreign key constraint fails ${detail}`);
    await rejects(c.query("UPDATE p SET id = 5 WHERE id = 1"), 1451);
    // Updating a parent column nobody references is fine; so is an unreferenced parent.
    await c.query("UPDATE p SET name = 'uno' WHERE id = 1");
    await c.query("DELETE FROM p WHERE id = 2");
    // A parent inserted earlier in the same statement or transaction counts.
    await c.query("BEGIN");
    await c.query("INSERT INTO p VALUES (3, 'three')");
    await c.query("INSERT INTO c VALUES (12, 3)");
    await c.query("COMMIT");
    const [[created]] = await c.query("SHOW CREATE TABLE c") as unknown as
      [Record<string, string>[]];
    assert.match(created!["Create Table"]!,
      /KEY `fk_p` \(`pid`\),\n {2}CONSTRAINT `fk_p` FOREIGN KEY \(`pid`\) REFERENCES `p` \(`id`\)/);
    const ignored = await ok(c, "INSERT IGNORE INTO c VALUES (20, 99), (21, 1)");
    assert.equal(ignored.affectedRows, 1);
    assert.deepEqual((await warnings(c)).map((w) => w[1]), [1452]);
  });

  it("CASCADE and SET NULL act on children, recursively", async () => {
    const c = await freshDatabase(node, "fk2");
    await c.query("CREATE TABLE p (id INT PRIMARY KEY)");
    await c.query("CREATE TABLE c (id INT PRIMARY KEY, pid INT, " +
      "FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE)");
    await c.query("CREATE TABLE g (id INT PRIMARY KEY, cid INT, " +
      "FOREIGN KEY (cid) REFERENCES c (id) ON DELETE SET NULL)");
    await c.query("INSERT INTO p VALUES (1), (2)");
    await c.query("INSERT INTO c VALUES (10, 1), (11, 1), (12, 2)");
    await c.query("INSERT INTO g VALUES (100, 10), (101, 12)");
    await c.query("UPDATE p SET id = 5 WHERE id = 1");
    assert.deepEqual(await rows(c, "SELECT id, pid FROM c ORDER BY id"),
      [{ id: 10, pid: 5 }, { id: 11, pid: 5 }, { id: 12, pid: 2 }]);
    const r = await ok(c, "DELETE FROM p WHERE id = 5");
    assert.equal(r.affectedRows, 1);
    assert.deepEqual(await rows(c, "SELECT id FROM c ORDER BY id"), [{ id: 12 }]);
    assert.deepEqual(await rows(c, "SELECT id, cid FROM g ORDER BY id"),
      [{ id: 100, cid: null }, { id: 101, cid: 12 }]);
    // The child's index entries moved with the cascade: its rows are found by new value.
    await c.query("UPDATE p SET id = 6 WHERE id = 2");
    await c.query("DELETE FROM p WHERE id = 6");
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM c"), [{ n: 0 }]);
    assert.deepEqual(await rows(c, "SELECT id, cid FROM g ORDER BY id"),
      [{ id: 100, cid: null }, { id: 101, cid: null }]);
    const text = String((await rows(c, "SHOW CREATE TABLE c"))[0]!["Create Table"]);
    assert.match(text, new RegExp("CONSTRAINT `c_ibfk_1` FOREIGN KEY \\(`pid`\\) " +
      "REFERENCES `p` \\(`id`\\) ON DELETE CASCADE ON UPDATE CASCADE"));
  });

  it("a composite key on a unique parent index, compared by collation", async () => {
    const c = await freshDatabase(node, "fk7");
    await c.query("CREATE TABLE p (id INT PRIMARY KEY, region VARCHAR(5), code INT, " +
      "UNIQUE KEY rc (region, code))");
    await c.query("CREATE TABLE c (id INT PRIMARY KEY, region VARCHAR(5), code INT, " +
      "CONSTRAINT f FOREIGN KEY (region, code) REFERENCES p (region, code) " +
      "ON UPDATE CASCADE ON DELETE SET NULL)");
    await c.query("INSERT INTO p VALUES (1, 'eu', 1), (2, 'us', 1)");
    await c.query("INSERT INTO c VALUES (10, 'EU', 1), (11, 'us', NULL), (12, 'zz', NULL)");
    await rejects(c.query("INSERT INTO c VALUES (13, 'us', 2)"), 1452);
    await c.query("UPDATE p SET code = 5 WHERE id = 1");
    assert.deepEqual(await rows(c, "SELECT id, region, code FROM c WHERE id = 10"),
      [{ id: 10, region: "eu", code: 5 }]);
    await c.query("DELETE FROM p WHERE id = 1");
    assert.deepEqual(await rows(c, "SELECT id, region, code FROM c WHERE id = 10"),
      [{ id: 10, region: null, code: null }]);
  });

  it("UPDATE IGNORE and DELETE IGNORE skip the rows that fail", async () => {
    const c = await freshDatabase(node, "fk8");
    await c.query("CREATE TABLE p (id INT PRIMARY KEY, u INT, UNIQUE KEY uu (u))");
    await c.query("CREATE TABLE c (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) " +
      "REFERENCES p (id))");
    await c.query("INSERT INTO p VALUES (1, 1), (2, 2), (3, 3)");
    await c.query("INSERT INTO c VALUES (10, 2)");
    const updated = await ok(c, "UPDATE IGNORE p SET u = 3 WHERE id < 3");
    assert.match(updated.info, /Rows matched: 2 {2}Changed: 0 {2}Warnings: 2$/);
    assert.deepEqual((await warnings(c)).map((w) => w[1]), [1062, 1062]);
    const deleted = await ok(c, "DELETE IGNORE FROM p");
    assert.equal(deleted.affectedRows, 2);
    assert.deepEqual((await warnings(c)).map((w) => w[1]), [1451]);
    assert.deepEqual(await rows(c, "SELECT id FROM p"), [{ id: 2 }]);
  });

  it("a self-referencing table cascades through its own rows", async () => {
    const c = await freshDatabase(node, "fk5");
    await c.query("CREATE TABLE tree (id INT PRIMARY KEY, parent INT, " +
      "FOREIGN KEY (parent) REFERENCES tree (id) ON DELETE CASCADE)");
    await c.query("INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 2), (4, NULL)");
    await rejects(c.query("INSERT INTO tree VALUES (5, 99)"), 1452);
    // A row may reference a row inserted before it in the same statement.
    await c.query("INSERT INTO tree VALUES (6, 4), (7, 6)");
    assert.equal((await ok(c, "DELETE FROM tree WHERE id = 1")).affectedRows, 1);
    assert.deepEqual(await rows(c, "SELECT id FROM tree ORDER BY id"),
      [{ id: 4 }, { id: 6 }, { id: 7 }]);
    // Cascades stop at MySQL's depth of 15 (3008), and the statement leaves nothing.
    const chain = Array.from({ length: 20 },
      (_, i) => `(${100 + i}, ${i === 0 ? "NULL" : 99 + i})`);
    await c.query(`INSERT INTO tree VALUES ${chain.join(", ")}`);
    await rejects(c.query("DELETE FROM tree WHERE id = 100"), 3008,
      "Foreign key cascade delete/update exceeds max depth of 15.");
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM tree WHERE id >= 100"), [{ n: 20 }]);
    await c.query("DELETE FROM tree WHERE id = 110");
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM tree WHERE id >= 100"), [{ n: 10 }]);
    await c.query("ADMIN CHECK TABLE tree");
  });

  it("self-references: ON DELETE SET NULL over rows of the same statement; ON UPDATE " +
    "CASCADE into the table being updated is 1451, as InnoDB", async () => {
    const c = await freshDatabase(node, "fk9");
    await c.query("CREATE TABLE n (id INT PRIMARY KEY, parent INT, tag INT, KEY kt (tag), " +
      "FOREIGN KEY (parent) REFERENCES n (id) ON DELETE SET NULL ON UPDATE CASCADE)");
    await c.query("INSERT INTO n VALUES (1, NULL, 1), (2, 1, 1), (3, 2, 1), (4, 2, 2)");
    // Deleting 1 sets 2's parent to NULL before 2 itself is deleted: 2 rows counted.
    assert.equal((await ok(c, "DELETE FROM n WHERE tag = 1 AND id < 3")).affectedRows, 2);
    assert.deepEqual(await rows(c, "SELECT id, parent FROM n ORDER BY id"),
      [{ id: 3, parent: null }, { id: 4, parent: null }]);
    await c.query("ADMIN CHECK TABLE n");
    await c.query("UPDATE n SET parent = 3 WHERE id = 4");
    await rejects(c.query("UPDATE n SET id = 30 WHERE id = 3"), 1451);
    await c.query("UPDATE n SET id = 40 WHERE id = 4");
    assert.deepEqual(await rows(c, "SELECT id, parent FROM n ORDER BY id"),
      [{ id: 3, parent: null }, { id: 40, parent: 3 }]);
  });

  it("DDL: missing parent 1824, missing index 1822, types 3780, DROP 3730, TRUNCATE 1701",
    async () => {
      const c = await freshDatabase(node, "fk6");
      await c.query("CREATE TABLE p (id INT PRIMARY KEY, code VARCHAR(5), u INT UNSIGNED)");
      await rejects(c.query("CREATE TABLE c1 (pid INT, FOREIGN KEY (pid) REFERENCES nope (id))"),
        1824, "Failed to open the referenced table 'nope'");
      await rejects(c.query("CREATE TABLE c2 (code VARCHAR(5), CONSTRAINT fc FOREIGN KEY " +
        "(code) REFERENCES p (code))"), 1822, "Failed to add the foreign key constraint. " +
        "Missing index for constraint 'fc' in the referenced table 'p'");
      await rejects(c.query("CREATE TABLE c3 (pid VARCHAR(5), CONSTRAINT fi FOREIGN KEY " +
        "(pid) REFERENCES p (id))"), 3780);
      await c.query("CREATE TABLE c4 (pid INT, CONSTRAINT f4 FOREIGN KEY (pid) " +
        "REFERENCES p (id))");
      await rejects(c.query("DROP TABLE p"), 3730,
        "Cannot drop table 'p' referenced by a foreign key constraint 'f4' on table 'c4'.");
      await rejects(c.query("TRUNCATE TABLE p"), 1701);
      // Dropped together, or with the checks off (as dumps do), it works.
      await c.query("SET foreign_key_checks = 0");
      await c.query("CREATE TABLE c5 (pid INT, FOREIGN KEY (pid) REFERENCES later (id))");
      await c.query("SET foreign_key_checks = 1");
      await c.query("DROP TABLE c4, p");
    });

  it("foreign_key_checks = 0 skips every check and action", async () => {
    const c = await freshDatabase(node, "fk3");
    await c.query("CREATE TABLE p (id INT PRIMARY KEY)");
    await c.query("CREATE TABLE c (id INT PRIMARY KEY, pid INT, " +
      "FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE)");
    await c.query("SET foreign_key_checks = 0");
    await c.query("INSERT INTO c VALUES (1, 42)");
    await c.query("INSERT INTO p VALUES (7)");
    await c.query("INSERT INTO c VALUES (2, 7)");
    await c.query("DELETE FROM p WHERE id = 7");
    assert.deepEqual(await rows(c, "SELECT id FROM c ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    await c.query("SET foreign_key_checks = 1");
    await rejects(c.query("INSERT INTO c VALUES (3, 42)"), 1452);
  });

  it("REPLACE on a parent applies ON DELETE to its children", async () => {
    const c = await freshDatabase(node, "fk4");
    await c.query("CREATE TABLE p (id INT PRIMARY KEY, v INT)");
    await c.query("CREATE TABLE c (id INT PRIMARY KEY, pid INT, " +
      "FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE)");
    await c.query("CREATE TABLE r (id INT PRIMARY KEY, pid INT, " +
      "FOREIGN KEY (pid) REFERENCES p (id))");
    await c.query("INSERT INTO p VALUES (1, 1), (2, 2)");
    await c.query("INSERT INTO c VALUES (10, 1)");
    await c.query("INSERT INTO r VALUES (20, 2)");
    await c.query("REPLACE INTO p VALUES (1, 100)");
    assert.deepEqual(await rows(c, "SELECT COUNT(*) AS n FROM c"), [{ n: 0 }]);
    await rejects(c.query("REPLACE INTO p VALUES (2, 200)"), 1451);
  });
});
