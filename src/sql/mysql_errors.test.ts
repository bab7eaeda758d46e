/**
 * Tests of the MySQL error catalogue: entries are well-formed and unique, templates are
 * filled in order like MySQL's `my_error`, and syntax errors quote at most 80 characters.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ER,
  MySqlError,
  errorMessageBytesMax,
  formatMySqlMessage,
  mysqlError,
  syntaxError,
} from "./mysql_errors.ts";

const opts = { timeout: 10_000 };

test("every catalogue entry has a unique number, a 5-character SQLSTATE and its name",
  opts, () => {
    const numbers = new Set<number>();
    // MySQL raises these with another entry's number and its own message text (1292 with
    // ER_WRONG_VALUE's "Incorrect %s value: '%s'", sql_time.cc).
    const sharedNumbers = new Set(["INCORRECT_TEMPORAL_VALUE"]);
    for (const [key, spec] of Object.entries(ER)) {
      if (sharedNumbers.has(key)) continue;
      // MySQL's own names: ER_… except a few warnings (WARN_DATA_TRUNCATED, 1265).
      assert.ok(spec.name === `ER_${key}` || spec.name === key, `${key}: ${spec.name}`);
      assert.match(spec.sqlState, /^[0-9A-Z]{5}$/);
      assert.ok(!numbers.has(spec.errno), `duplicate ${spec.errno}`);
      numbers.add(spec.errno);
    }
    for (const errno of [1040, 1045, 1046, 1047, 1049, 1054, 1062, 1064, 1094, 1105, 1146,
      1153, 1193, 1205, 1210, 1213, 1243, 1295, 1317]) {
      assert.ok(numbers.has(errno), `missing ${errno}`);
    }
  });

test("mysqlError() fills the template's placeholders in order", opts, () => {
  const error = mysqlError(ER.ACCESS_DENIED_ERROR, ["u", "host", "YES"]);
  assert.ok(error instanceof MySqlError);
  assert.equal(error.errno, 1045);
  assert.equal(error.sqlState, "28000");
  assert.equal(error.message, "Access denied for user 'u'@'host' (using password: YES)");
  assert.equal(formatMySqlMessage(ER.UNKNOWN_STMT_HANDLER, [5, "mysqld_stmt_execute"]),
    "Unknown prepared statement handler (5) given to mysqld_stmt_execute");
  assert.equal(formatMySqlMessage(ER.NO_SUCH_THREAD, [12n]), "Unknown thread id: 12");
  assert.equal(formatMySqlMessage(ER.LOCK_DEADLOCK),
    "Deadlock found when trying to get lock; try restarting transaction");
});

test("syntaxError() quotes at most 80 characters near the error, with the line",
  opts, () => {
    const rest = "é".repeat(100);
    const error = syntaxError(rest, 3);
    assert.equal(error.errno, 1064);
    assert.equal(error.message, "You have an error in your SQL syntax; check the manual " +
      "that corresponds to your MySQL server version for the right syntax to use near " +
      `'${"é".repeat(80)}' at line 3`);
  });

test("a message is cut to MySQL's 511 bytes without splitting a character", opts, () => {
  const message = mysqlError(ER.UNKNOWN_SYSTEM_VARIABLE, ["€".repeat(400)]).message;
  assert.ok(new TextEncoder().encode(message).length <= errorMessageBytesMax);
  assert.ok(!message.includes("\uFFFD"));
  assert.ok(message.startsWith("Unknown system variable '€€"));
});
