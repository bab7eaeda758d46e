/**
 * The pure parts of `txn_control.ts`: which access each statement has (what decides
 * whether it reads the snapshot or the latest version and locks), and which MySQL error
 * each storage failure becomes. The transaction behaviour itself is tested end to end in
 * test/sql/txn.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, TesseraError, type Timestamp, tableId } from "../../base/mod.ts";
import { encodeRowKey } from "../../codec/mod.ts";
import { MySqlError } from "../mysql_errors.ts";
import { parse } from "../parser/parse.ts";
import { statementAccess, storageError } from "./txn_control.ts";

const opts = { timeout: 10_000 };

function accessOf(sql: string): string {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  if (parsed.kind !== "ok") return "";
  const access = statementAccess(parsed.statements[0]!.statement);
  return access.noWait ? `${access.kind}+nowait`
    : access.skipLocked === true ? `${access.kind}+skip` : access.kind;
}

test("statementAccess() tells plain reads, locking reads and writes apart", opts, () => {
  const cases: [string, string][] = [
    ["SELECT * FROM t", "read"],
    ["SELECT * FROM t WHERE id = 1 FOR UPDATE", "lockingRead"],
    ["SELECT * FROM t FOR SHARE", "lockingRead"],
    ["SELECT * FROM t LOCK IN SHARE MODE", "lockingRead"],
    ["SELECT * FROM t FOR UPDATE NOWAIT", "lockingRead+nowait"],
    ["SELECT * FROM t FOR UPDATE SKIP LOCKED", "lockingRead+skip"],
    ["INSERT INTO t VALUES (1)", "write"],
    ["REPLACE INTO t VALUES (1)", "write"],
    ["UPDATE t SET a = a + 1", "write"],
    ["DELETE FROM t", "write"],
    ["SHOW TABLES", "read"],
    ["BEGIN", "read"],
  ];
  for (const [sql, expected] of cases) assert.equal(accessOf(sql), expected, sql);
});

test("storageError() maps storage failures to MySQL's errors and passes others through",
  opts, () => {
    const cases: [ErrorCode, number, RegExp][] = [
      [ErrorCode.KvTxnWriteConflict, 9007, /^Write conflict, txnStartTS=42.*\[try again later\]$/],
      [ErrorCode.KvTxnKeyIsLocked, 9007, /Write conflict/],
      [ErrorCode.KvTxnAlreadyExist, 9007, /Write conflict/],
      [ErrorCode.KvTxnDeadlock, 1213, /^Deadlock found when trying to get lock/],
      [ErrorCode.KvTxnLockWaitTimeout, 1205, /^Lock wait timeout exceeded/],
      [ErrorCode.ClientTxnLockResolveTimeout, 1205, /^Lock wait timeout exceeded/],
      [ErrorCode.KvTxnPessimisticLockNotFound, 8229, /^TTL manager has timed out/],
    ];
    for (const [code, errno, message] of cases) {
      const mapped = storageError(new TesseraError(code, "boom"), 42n);
      assert.ok(mapped instanceof MySqlError, code);
      assert.equal(mapped.errno, errno, code);
      assert.match(mapped.message, message);
    }
    const full = storageError(new TesseraError(ErrorCode.ClientTxnBufferFull, "too large",
      { details: { keys: 5, bytes: 1234 } }), 1n);
    assert.ok(full instanceof MySqlError);
    assert.equal(full.message, "Transaction is too large, size: 1234");
    const other = new TesseraError(ErrorCode.ClientTxnSnapshotTooOld, "old");
    assert.equal(storageError(other, 1n), other);
    const plain = new Error("bug");
    assert.equal(storageError(plain, 1n), plain);
  });

test("9007 names the conflicting transaction and the row key the store reported", opts, () => {
  const key = encodeRowKey(tableId(5), 3n);
  const ts = (n: bigint): Timestamp => n as Timestamp;
  const conflict = storageError(new TesseraError(ErrorCode.KvTxnWriteConflict, "conflict", {
    details: { keyError: { kind: "writeConflict", key, startTs: ts(42n),
      conflictStartTs: ts(7n), conflictCommitTs: ts(8n), reason: "optimistic" } },
  }), 42n);
  assert.ok(conflict instanceof MySqlError);
  assert.equal(conflict.message, "Write conflict, txnStartTS=42, conflictStartTS=7, " +
    "conflictCommitTS=8, key={tableID=5, handle=3} [try again later]");
  const locked = storageError(new TesseraError(ErrorCode.KvTxnKeyIsLocked, "locked", {
    details: { keyError: { kind: "keyIsLocked", lock: { key: Uint8Array.of(0xab, 0x01),
      primary: key, startTs: ts(9n), ttlMs: 3000, kind: "put", forUpdateTs: ts(0n), txnSize: 1,
      minCommitTs: ts(0n), useAsyncCommit: false, secondaries: [] } } },
  }), 42n);
  assert.ok(locked instanceof MySqlError);
  assert.match(locked.message, /conflictStartTS=9, conflictCommitTS=0, key=ab01 /);
});
