/**
 * `NodeStatus`: what a SQL node counts about the statements its sessions run, shared by
 * all of them — the rows of `SHOW [GLOBAL] STATUS` (Uptime, Questions, Com_* …) and the
 * per-digest `StatementsSummary` behind `information_schema.STATEMENTS_SUMMARY`.
 *
 * The session calls `record` once per statement with the time it took (measured with the
 * node's wall clock, which the session is given) and whether it failed. Digests of parsed
 * statements are cached per statement object, so a prepared statement run many times is
 * normalized once. Bounded: a fixed set of counters and the bounded summary. Pure.
 */
import type { ParsedStatement } from "../parser/ast.ts";
import { type Digest, normalizeDigest } from "../parser/digest.ts";
import { StatementsSummary } from "./summary.ts";

/** The statement kinds counted as `Com_<name>`, by AST kind. */
const comNames: Readonly<Record<string, string>> = {
  select: "select", insert: "insert", update: "update", delete: "delete", begin: "begin",
  commit: "commit", rollback: "rollback", set: "set_option", show: "show", use: "change_db",
  createTable: "create_table", dropTable: "drop_table", createDatabase: "create_db",
  dropDatabase: "drop_db", createIndex: "create_index", alterTable: "alter_table",
  prepare: "prepare_sql", execute: "execute_sql", lockTables: "lock_tables",
  unlockTables: "unlock_tables",
};

/** STMT_TYPE as TiDB writes it: the AST kind with a capital (`Select`, `CreateTable`). */
function stmtType(kind: string): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

/** One finished statement, as the session reports it. */
export interface StatementRecord {
  readonly parsed: ParsedStatement;
  readonly schema: string | null;
  readonly user: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly error: boolean;
  readonly warnings: number;
  readonly affectedRows: number;
}

export class NodeStatus {
  readonly summary: StatementsSummary;
  private readonly startMs: number;
  private questions = 0;
  private readonly com = new Map<string, number>();
  private readonly digests = new WeakMap<ParsedStatement, Digest>();

  constructor(startMs: number, summary: StatementsSummary = new StatementsSummary()) {
    this.startMs = startMs;
    this.summary = summary;
  }

  /** Counts one statement and adds it to the summary. */
  record(r: StatementRecord): void {
    this.questions++;
    const kind = r.parsed.statement.kind;
    const com = comNames[kind];
    if (com !== undefined) this.com.set(com, (this.com.get(com) ?? 0) + 1);
    let digest = this.digests.get(r.parsed);
    if (digest === undefined) {
      try {
        digest = normalizeDigest(r.parsed.text);
      } catch {
        digest = { normalized: r.parsed.text, digest: "" };
      }
      this.digests.set(r.parsed, digest);
    }
    this.summary.record({ digest: digest.digest, normalized: digest.normalized,
      text: r.parsed.text, stmtType: stmtType(kind), schema: r.schema, user: r.user,
      latencyMs: Math.max(0, r.endMs - r.startMs), error: r.error, warnings: r.warnings,
      affectedRows: r.affectedRows, nowMs: r.endMs });
  }

  /** SHOW STATUS rows (Variable_name, Value), sorted by name. */
  statusRows(nowMs: number, connections: number): [string, string][] {
    const rows: [string, string][] = [
      ["Uptime", String(Math.max(0, Math.floor((nowMs - this.startMs) / 1000)))],
      ["Questions", String(this.questions)],
      ["Queries", String(this.questions)],
      ["Threads_connected", String(connections)],
      ["Threads_running", "1"],
    ];
    for (const name of new Set(Object.values(comNames))) {
      rows.push([`Com_${name}`, String(this.com.get(name) ?? 0)]);
    }
    return rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  }
}
