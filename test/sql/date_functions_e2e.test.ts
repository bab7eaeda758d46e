/**
 * The date and time built-ins end to end through mysql2 on the in-process cluster: values
 * and column definitions (type, decimals = fsp) of DATE_ADD, `+ INTERVAL`, TIMESTAMPDIFF,
 * EXTRACT, DATE_FORMAT and STR_TO_DATE over DATE, DATETIME(3), TIME(2) and VARCHAR
 * columns, in the text and the binary protocol, and the warnings MySQL raises for
 * arguments that are not dates.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { MySqlType } from "../../src/sql/mod.ts";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { freshDatabase, warnings } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
let c: mysql.Connection;

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  c = await freshDatabase(node, "dates");
  await c.query("CREATE TABLE t (id INT PRIMARY KEY, d DATE, dt DATETIME(3), tm TIME(2), " +
    "s VARCHAR(40))");
  await c.query("INSERT INTO t VALUES (1, '2024-01-31', '2024-02-29 23:59:59.500', " +
    "'-10:30:00.25', '2024-12-31 23:59:59'), (2, NULL, NULL, NULL, 'not a date')");
}, { timeout: 60_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

/** The first row as strings (text protocol, no casting) and each column's type and fsp. */
async function select(sql: string): Promise<{ row: (string | null)[];
  types: [number, number][] }> {
  const [result, fields] = await c.query({ sql, rowsAsArray: true, typeCast: false });
  const row = (result as (Buffer | null)[][])[0]!.map((v) => v?.toString() ?? null);
  return { row, types: fields.map((f) => [f.columnType ?? -1, f.decimals]) };
}

describe("date and time functions over table columns", { timeout: 60_000 }, () => {
  it("DATE_ADD keeps DATE for day units and carries the fsp into DATETIME", async () => {
    const { row, types } = await select("SELECT DATE_ADD(d, INTERVAL 1 MONTH), " +
      "d + INTERVAL 1 HOUR, DATE_SUB(dt, INTERVAL 1 DAY), dt + INTERVAL 1 MICROSECOND, " +
      "tm + INTERVAL 1 HOUR, s + INTERVAL 1 SECOND FROM t WHERE id = 1");
    assert.deepEqual(row, ["2024-02-29", "2024-01-31 01:00:00", "2024-02-28 23:59:59.500",
      "2024-02-29 23:59:59.500001", "-09:30:00.25", "2025-01-01 00:00:00"]);
    assert.deepEqual(types, [[MySqlType.Date, 0], [MySqlType.DateTime, 0],
      [MySqlType.DateTime, 3], [MySqlType.DateTime, 6], [MySqlType.Time, 2],
      [MySqlType.VarString, 0]]);
  });

  it("differences, parts and formats of columns", async () => {
    const { row, types } = await select("SELECT DATEDIFF(dt, d), " +
      "TIMESTAMPDIFF(SECOND, d, dt), EXTRACT(YEAR_MONTH FROM dt), HOUR(tm), " +
      "DATE_FORMAT(dt, '%W %D %M %Y %T.%f'), DAYNAME(d), TIME_TO_SEC(tm) FROM t WHERE id = 1");
    assert.deepEqual(row, ["29", "2591999", "202402", "10",
      "Thursday 29th February 2024 23:59:59.500000", "Wednesday", "-37800"]);
    assert.equal(types[0]![0], MySqlType.LongLong);
    assert.equal(types[4]![0], MySqlType.VarString);
  });

  it("NULL columns give NULL without warnings; a non-date text warns 1292", async () => {
    const { row } = await select("SELECT DATE_ADD(d, INTERVAL 1 DAY), YEAR(dt), HOUR(tm) " +
      "FROM t WHERE id = 2");
    assert.deepEqual(row, [null, null, null]);
    assert.deepEqual(await warnings(c), []);
    const bad = await select("SELECT YEAR(s), s + INTERVAL 1 DAY FROM t WHERE id = 2");
    assert.deepEqual(bad.row, [null, null]);
    assert.deepEqual(await warnings(c), [
      ["Warning", 1292, "Incorrect datetime value: 'not a date'"],
      ["Warning", 1292, "Incorrect datetime value: 'not a date'"],
    ]);
  });

  it("filters and orders rows by date expressions", async () => {
    const [result] = await c.query({ sql: "SELECT id FROM t WHERE " +
      "DATE_ADD(d, INTERVAL 30 DAY) < '2024-03-02' AND YEAR(dt) = 2024 " +
      "ORDER BY WEEK(d, 3)", rowsAsArray: true });
    assert.deepEqual(result, [[1]]);
    const [grouped] = await c.query({ sql: "SELECT YEAR(dt), COUNT(*), " +
      "MAX(d) + INTERVAL 1 DAY FROM t GROUP BY YEAR(dt) ORDER BY 1", rowsAsArray: true,
    dateStrings: true });
    assert.deepEqual(grouped, [[null, 1, null], [2024, 1, "2024-02-01"]]);
    // A filter whose function warns on some rows: the rows, and the warnings, as MySQL.
    const [filtered] = await c.query({ sql: "SELECT id FROM t WHERE YEAR(s) = 2024",
      rowsAsArray: true });
    assert.deepEqual(filtered, [[1]]);
    assert.deepEqual(await warnings(c), [
      ["Warning", 1292, "Incorrect datetime value: 'not a date'"]]);
  });
});

describe("date and time functions over constants", { timeout: 60_000 }, () => {
  it("STR_TO_DATE's type follows its format; bad input is NULL with 1411", async () => {
    const { row, types } = await select("SELECT STR_TO_DATE('May 1, 2013', '%M %d,%Y'), " +
      "STR_TO_DATE('10:11:12 PM', '%r'), " +
      "STR_TO_DATE('2004-02-29 10:11:12.5', '%Y-%m-%d %H:%i:%s.%f')");
    assert.deepEqual(row, ["2013-05-01", "22:11:12", "2004-02-29 10:11:12.500000"]);
    assert.deepEqual(types, [[MySqlType.Date, 0], [MySqlType.Time, 0],
      [MySqlType.DateTime, 6]]);
    const bad = await select("SELECT STR_TO_DATE('04/31/2004', '%m/%d/%Y')");
    assert.deepEqual(bad.row, [null]);
    assert.deepEqual(await warnings(c), [["Warning", 1411,
      "Incorrect datetime value: '04/31/2004' for function str_to_date"]]);
  });

  it("WEEK(d) follows the session's default_week_format", async () => {
    await c.query("SET default_week_format = 3");
    const { row } = await select("SELECT WEEK('2008-12-29'), EXTRACT(WEEK FROM '2008-12-29')," +
      " WEEK('2008-12-29', 0), @@default_week_format");
    await c.query("SET default_week_format = DEFAULT");
    assert.deepEqual(row, ["1", "1", "52", "3"]);
  });

  it("an overflowing DATE_ADD is NULL with 1441", async () => {
    const { row } = await select("SELECT DATE_ADD('9999-12-31', INTERVAL 1 DAY)");
    assert.deepEqual(row, [null]);
    assert.deepEqual(await warnings(c), [["Warning", 1441,
      "Datetime function: datetime field overflow"]]);
  });

  it("the binary protocol sends DATE_ADD results as dates, datetimes and times", async () => {
    const [result, fields] = await c.execute({ sql: "SELECT DATE_ADD(?, INTERVAL 1 DAY), " +
      "TIMESTAMPADD(MINUTE, ?, CAST('2024-01-01' AS DATETIME(2))), " +
      "ADDTIME(CAST('10:00:00' AS TIME), '1:00:00')", rowsAsArray: true,
    dateStrings: true }, ["2024-02-28", 90]);
    assert.deepEqual(result, [["2024-02-29", "2024-01-01 01:30:00", "11:00:00"]]);
    assert.deepEqual(fields.map((f) => [f.columnType, f.decimals]),
      [[MySqlType.VarString, 0], [MySqlType.DateTime, 2], [MySqlType.Time, 0]]);
  });
});
