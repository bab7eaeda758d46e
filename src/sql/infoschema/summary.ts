/**
 * `StatementsSummary`: a SQL node's per-digest statement statistics, the source of
 * `information_schema.STATEMENTS_SUMMARY` (TiDB's table of the same name, reduced to the
 * columns kept here): how many times each normalized statement ran, errors, warnings,
 * total / min / max / average latency, first and last seen, and one sample text.
 *
 * Bounded: at most `maxDigests` entries; recording a new digest when full evicts the one
 * least recently seen (a Map kept in recency order). Sample texts are cut to
 * `maxSampleChars`. Pure: the session passes the time and the latency it measured.
 */

/** One statement execution, as the session reports it. */
export interface StatementSample {
  /** The digest (hash of the normalized text) and the normalized text. */
  readonly digest: string;
  readonly normalized: string;
  /** The statement as the client sent it. */
  readonly text: string;
  /** The statement kind in upper case (`Select`, `Insert` … as TiDB writes them). */
  readonly stmtType: string;
  /** The current database, or null. */
  readonly schema: string | null;
  readonly user: string;
  readonly latencyMs: number;
  readonly error: boolean;
  readonly warnings: number;
  readonly affectedRows: number;
  /** Wall-clock milliseconds when it ended. */
  readonly nowMs: number;
}

/** The kept statistics of one digest. */
export interface StatementStats {
  readonly digest: string;
  readonly normalized: string;
  readonly stmtType: string;
  readonly schema: string | null;
  sampleText: string;
  sampleUser: string;
  execCount: number;
  sumErrors: number;
  sumWarnings: number;
  sumAffectedRows: number;
  sumLatencyMs: number;
  maxLatencyMs: number;
  minLatencyMs: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** Digests kept by default (TiDB's `tidb_stmt_summary_max_stmt_count` default). */
export const summaryMaxDigestsDefault = 3000;
/** Characters of a sample text kept (TiDB's `tidb_stmt_summary_max_sql_length` default). */
export const summaryMaxSampleCharsDefault = 4096;

export class StatementsSummary {
  private readonly entries = new Map<string, StatementStats>();
  private readonly maxDigests: number;
  private readonly maxSampleChars: number;

  constructor(options: { readonly maxDigests?: number; readonly maxSampleChars?: number } = {}) {
    this.maxDigests = Math.max(1, options.maxDigests ?? summaryMaxDigestsDefault);
    this.maxSampleChars = Math.max(16, options.maxSampleChars ?? summaryMaxSampleCharsDefault);
  }

  /** Adds one execution. Statements of different databases are kept apart, as TiDB does. */
  record(sample: StatementSample): void {
    const key = `${sample.schema ?? ""}\u0000${sample.digest}`;
    let stats = this.entries.get(key);
    if (stats === undefined) {
      if (this.entries.size >= this.maxDigests) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      stats = {
        digest: sample.digest, normalized: sample.normalized.slice(0, this.maxSampleChars),
        stmtType: sample.stmtType, schema: sample.schema, sampleText: "", sampleUser: "",
        execCount: 0, sumErrors: 0, sumWarnings: 0, sumAffectedRows: 0, sumLatencyMs: 0,
        maxLatencyMs: 0, minLatencyMs: sample.latencyMs, firstSeenMs: sample.nowMs,
        lastSeenMs: sample.nowMs,
      };
    } else {
      this.entries.delete(key);
    }
    this.entries.set(key, stats);
    stats.sampleText = sample.text.slice(0, this.maxSampleChars);
    stats.sampleUser = sample.user;
    stats.execCount++;
    if (sample.error) stats.sumErrors++;
    stats.sumWarnings += sample.warnings;
    stats.sumAffectedRows += sample.affectedRows;
    stats.sumLatencyMs += sample.latencyMs;
    stats.maxLatencyMs = Math.max(stats.maxLatencyMs, sample.latencyMs);
    stats.minLatencyMs = Math.min(stats.minLatencyMs, sample.latencyMs);
    stats.lastSeenMs = sample.nowMs;
  }

  /** The kept entries, least recently seen first. */
  list(): readonly StatementStats[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }
}
