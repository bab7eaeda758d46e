/**
 * Statements dump and load tools send that Tessera accepts as session-level no-ops.
 *
 * - `LOCK TABLES t READ|WRITE …` (mariadb-dump around each table's rows, and in the dump
 *   it writes): under MVCC a reader already sees one consistent snapshot and writers are
 *   serialized by transaction conflicts, so Tessera takes no table lock. As MySQL does, the
 *   statement commits the session's open transaction and checks that the tables exist
 *   (1146); `UNLOCK TABLES` is accepted. A session that relies on LOCK TABLES … WRITE to
 *   keep other sessions out does not get that exclusion: concurrent writers still run,
 *   and conflicting ones fail at commit.
 * - `ALTER TABLE t DISABLE KEYS` / `ENABLE KEYS` (MyISAM bulk-load hints in every dump):
 *   InnoDB ignores them too (with a note in MySQL); Tessera checks the table exists.
 * Pure: the session does the lookups.
 */
import type { Statement, TableName } from "../parser/ast.ts";

/** The tables a no-op statement names (to check they exist), or undefined if it is not one. */
export function noOpTables(statement: Statement): readonly TableName[] | undefined {
  switch (statement.kind) {
    case "lockTables":
      return statement.tables.map((t) => t.table);
    case "alterTable":
      return statement.specs.length > 0 && statement.specs.every((s) => s.kind === "keys")
        ? [statement.table] : undefined;
    default:
      return undefined;
  }
}
