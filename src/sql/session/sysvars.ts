/**
 * System variables: the table of every variable Tessera knows (name, scope, type,
 * default), the server-wide global values, and each session's own values.
 *
 * A session starts with a copy of the global values of the variables that have a session
 * scope; `SET [SESSION]` changes only that copy, `SET GLOBAL` changes the server-wide
 * value that later sessions start from (this node only: there is no cluster-wide
 * variable store before the catalog lands). Values are kept normalized: booleans and
 * integers as `bigint`, enumerations in their canonical spelling, strings as given.
 * Several variables are facts about the node (`version`, `port`) and are read-only.
 * Some are accepted and shown but change nothing yet (`wait_timeout`, whose timeout the
 * wire server fixes at start); their descriptions say so.
 */
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { defaultOptimizerSwitch, mergeOptimizerSwitch } from "./optimizer_switch.ts";

/** How a variable may be used. */
export type SysVarScope = "global" | "session" | "both";

/** A variable's value type. */
export type SysVarType = "bool" | "int" | "string" | "enum";

/** One entry of the table. */
export interface SysVarSpec {
  readonly name: string;
  readonly scope: SysVarScope;
  readonly type: SysVarType;
  readonly default: bigint | string;
  readonly readOnly?: boolean;
  /** Allowed values of an `enum` (canonical spelling). */
  readonly values?: readonly string[];
  readonly min?: bigint;
  readonly max?: bigint;
}

/** A variable's current value. */
export type SysVarValue = bigint | string;

const isolationLevels = ["READ-UNCOMMITTED", "READ-COMMITTED", "REPEATABLE-READ", "SERIALIZABLE"];

/** MySQL 8.0's default sql_mode, which TiDB keeps. */
export const defaultSqlMode = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE," +
  "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

const uint64Max = 2n ** 64n - 1n;

function v(
  name: string,
  scope: SysVarScope,
  type: SysVarType,
  value: bigint | string,
  extra: Partial<Pick<SysVarSpec, "readOnly" | "values" | "min" | "max">> = {},
): SysVarSpec {
  return { name, scope, type, default: value, ...extra };
}

/** Node facts that fill the defaults of read-only variables. */
export interface SysVarFacts {
  readonly version: string;
  readonly versionComment: string;
  readonly port: number;
  readonly maxAllowedPacket: number;
  readonly maxConnections: number;
  readonly waitTimeoutS: number;
  readonly hostname: string;
}

/** The variable table for a node with `facts`. */
export function sysVarSpecs(facts: SysVarFacts): readonly SysVarSpec[] {
  return [
    // TiDB's: an INSERT may give an AUTO_RANDOM column a value (src/sql/catalog/auto_random.ts).
    v("allow_auto_random_explicit_insert", "both", "bool", 0n),
    v("auto_increment_increment", "both", "int", 1n, { min: 1n, max: 65535n }),
    v("auto_increment_offset", "both", "int", 1n, { min: 1n, max: 65535n }),
    v("autocommit", "both", "bool", 1n),
    v("character_set_client", "both", "string", "utf8mb4"),
    v("character_set_connection", "both", "string", "utf8mb4"),
    v("character_set_database", "both", "string", "utf8mb4"),
    v("character_set_filesystem", "both", "string", "binary"),
    v("character_set_results", "both", "string", "utf8mb4"),
    v("character_set_server", "both", "string", "utf8mb4"),
    v("character_set_system", "global", "string", "utf8mb3", { readOnly: true }),
    v("collation_connection", "both", "string", "utf8mb4_general_ci"),
    v("collation_database", "both", "string", "utf8mb4_general_ci"),
    v("collation_server", "both", "string", "utf8mb4_general_ci"),
    v("default_storage_engine", "both", "string", "InnoDB"),
    v("default_week_format", "both", "int", 0n, { min: 0n, max: 7n }),
    v("div_precision_increment", "both", "int", 4n, { min: 0n, max: 30n }),
    v("error_count", "session", "int", 0n, { readOnly: true }),
    v("explicit_defaults_for_timestamp", "both", "bool", 1n),
    v("foreign_key_checks", "both", "bool", 1n),
    v("group_concat_max_len", "both", "int", 1024n, { min: 4n, max: uint64Max }),
    v("hostname", "global", "string", facts.hostname, { readOnly: true }),
    v("init_connect", "global", "string", ""),
    v("innodb_lock_wait_timeout", "both", "int", 50n, { min: 1n, max: 1073741824n }),
    v("interactive_timeout", "both", "int", 28800n, { min: 1n, max: 31536000n }),
    v("last_insert_id", "session", "int", 0n, { min: 0n, max: uint64Max }),
    // TiDB's: whether the last statement on tables ran a cached plan (point_get_cache.ts).
    v("last_plan_from_cache", "session", "bool", 0n, { readOnly: true }),
    v("license", "global", "string", "Apache-2.0", { readOnly: true }),
    v("lower_case_table_names", "global", "int", 2n, { readOnly: true }),
    v("max_allowed_packet", "global", "int", BigInt(facts.maxAllowedPacket), { readOnly: true }),
    v("max_connections", "global", "int", BigInt(facts.maxConnections), { readOnly: true }),
    v("max_execution_time", "both", "int", 0n, { min: 0n, max: 4294967295n }),
    v("net_buffer_length", "both", "int", 16384n, { min: 1024n, max: 1048576n }),
    v("net_read_timeout", "both", "int", 30n, { min: 1n, max: 31536000n }),
    v("net_write_timeout", "both", "int", 60n, { min: 1n, max: 31536000n }),
    // Accepted and shown for clients (dump tools, ORMs); they change nothing yet.
    // The planner's rewrite rules (optimizer_switch.ts): SET merges the flags it names.
    v("optimizer_switch", "both", "string", defaultOptimizerSwitch),
    v("performance_schema", "global", "bool", 0n, { readOnly: true }),
    v("port", "global", "int", BigInt(facts.port), { readOnly: true }),
    v("query_cache_size", "global", "int", 0n, { readOnly: true }),
    v("query_cache_type", "global", "enum", "OFF", { readOnly: true, values: ["OFF", "ON",
      "DEMAND"] }),
    v("sql_auto_is_null", "both", "bool", 0n),
    v("sql_mode", "both", "string", defaultSqlMode),
    v("sql_notes", "both", "bool", 1n),
    v("sql_quote_show_create", "both", "bool", 1n),
    v("sql_safe_updates", "both", "bool", 0n),
    v("sql_select_limit", "both", "int", uint64Max, { min: 0n, max: uint64Max }),
    v("system_time_zone", "global", "string", "UTC", { readOnly: true }),
    // Pushing scans, filters, limits and aggregates down to the KV nodes (plan/pushdown.ts).
    v("tessera_enable_coprocessor", "both", "bool", 1n),
    // Cost-based join order and index joins (plan/join_exec.ts, plan/join_order.ts).
    v("tessera_opt_index_join", "both", "bool", 1n),
    v("tessera_opt_join_reorder", "both", "bool", 1n),
    // TiDB's plan cache switches and size (src/sql/plan/point_get_cache.ts).
    v("tidb_enable_non_prepared_plan_cache", "both", "bool", 1n),
    v("tidb_enable_prepared_plan_cache", "both", "bool", 1n),
    // A SELECT past tidb_mem_quota_query sorts / groups on disk (plan/spill_select.ts).
    v("tidb_enable_tmp_storage_on_oom", "both", "bool", 1n),
    // The SQL node's filters and select list a batch of rows at a time (plan/vec_filter.ts).
    v("tidb_enable_vectorized_expression", "both", "bool", 1n),
    // TiDB's per-query memory quota in bytes (0 or -1: none); see plan/memory_tracker.ts.
    v("tidb_mem_quota_query", "both", "int", 1073741824n, { min: -1n, max: 2n ** 63n - 1n }),
    // Join groups of up to this many tables are ordered by dynamic programming, larger
    // ones greedily (TiDB's variable; its default there is 0).
    v("tidb_opt_join_reorder_threshold", "both", "int", 8n, { min: 0n, max: 63n }),
    // TiDB's transaction mode: pessimistic (the default) or optimistic; see txn_control.ts.
    v("tidb_session_plan_cache_size", "both", "int", 100n, { min: 1n, max: 100_000n }),
    v("tidb_txn_mode", "both", "enum", "pessimistic", { values: ["pessimistic", "optimistic"] }),
    v("time_zone", "both", "string", "SYSTEM"),
    v("transaction_isolation", "both", "enum", "REPEATABLE-READ", { values: isolationLevels }),
    v("transaction_read_only", "both", "bool", 0n),
    v("unique_checks", "both", "bool", 1n),
    v("version", "global", "string", facts.version, { readOnly: true }),
    v("version_comment", "global", "string", facts.versionComment, { readOnly: true }),
    v("version_compile_machine", "global", "string", "x86_64", { readOnly: true }),
    v("version_compile_os", "global", "string", "Linux", { readOnly: true }),
    v("wait_timeout", "both", "int", BigInt(facts.waitTimeoutS), { min: 1n, max: 31536000n }),
    v("warning_count", "session", "int", 0n, { readOnly: true }),
  ];
}

/** Old names MySQL still accepts, and the variable each one is. */
const aliases: ReadonlyMap<string, string> = new Map([
  ["tx_isolation", "transaction_isolation"],
  ["tx_read_only", "transaction_read_only"],
  ["identity", "last_insert_id"],
]);

/** The server-wide table and global values, shared by every session of a node. */
export class GlobalSysVars {
  readonly specs: ReadonlyMap<string, SysVarSpec>;
  readonly values = new Map<string, SysVarValue>();

  constructor(facts: SysVarFacts) {
    this.specs = new Map(sysVarSpecs(facts).map((s) => [s.name, s]));
    for (const spec of this.specs.values()) this.values.set(spec.name, spec.default);
  }

  /** The entry for `name` (any case, aliases resolved), or undefined. */
  spec(name: string): SysVarSpec | undefined {
    const lower = name.toLowerCase();
    return this.specs.get(aliases.get(lower) ?? lower);
  }
}

/** Which value a reference means: `@@global.x`, `@@session.x` or `@@x`. */
export type SysVarRef = "GLOBAL" | "SESSION" | null;

/** The outcome of reading or setting a variable. */
export type SysVarResult<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "error"; readonly error: MySqlError };

function fail<T>(error: MySqlError): SysVarResult<T> {
  return { kind: "error", error };
}

/** One session's view of the variables. */
export class SessionSysVars {
  private readonly globals: GlobalSysVars;
  private readonly session = new Map<string, SysVarValue>();

  constructor(globals: GlobalSysVars) {
    this.globals = globals;
    this.reset();
  }

  /** Back to the global values (COM_RESET_CONNECTION). */
  reset(): void {
    this.session.clear();
    for (const spec of this.globals.specs.values()) {
      if (spec.scope !== "global") {
        this.session.set(spec.name, this.globals.values.get(spec.name) ?? spec.default);
      }
    }
  }

  /** The spec of `name`, or undefined. */
  spec(name: string): SysVarSpec | undefined {
    return this.globals.spec(name);
  }

  /** The value `@@[scope.]name` reads. */
  get(name: string, scope: SysVarRef): SysVarResult<{ spec: SysVarSpec; value: SysVarValue }> {
    const spec = this.globals.spec(name);
    if (spec === undefined) return fail(mysqlError(ER.UNKNOWN_SYSTEM_VARIABLE, [name]));
    if (scope === "GLOBAL" && spec.scope === "session") {
      return fail(mysqlError(ER.INCORRECT_GLOBAL_LOCAL_VAR, [spec.name, "SESSION"]));
    }
    if (scope === "SESSION" && spec.scope === "global") {
      return fail(mysqlError(ER.INCORRECT_GLOBAL_LOCAL_VAR, [spec.name, "GLOBAL"]));
    }
    const fromGlobal = scope === "GLOBAL" || spec.scope === "global";
    const value = (fromGlobal ? this.globals.values : this.session).get(spec.name) ??
      spec.default;
    return { kind: "ok", value: { spec, value } };
  }

  /** A session value as the session itself keeps it (no scope checks); for internal reads. */
  value(name: string): SysVarValue {
    const spec = this.globals.spec(name);
    if (spec === undefined) return "";
    return this.session.get(spec.name) ?? this.globals.values.get(spec.name) ?? spec.default;
  }

  /** Sets a session-scoped value the session computes itself (last_insert_id). */
  setInternal(name: string, value: SysVarValue): void {
    this.session.set(name, value);
  }

  /**
   * `SET [GLOBAL|SESSION] name = value`; `value` is the evaluated SQL value as text or
   * integer, or "default". Returns the normalized value stored.
   */
  set(
    name: string,
    scope: SysVarRef,
    value: bigint | number | string | null | { readonly default: true },
  ): SysVarResult<SysVarValue> {
    const spec = this.globals.spec(name);
    if (spec === undefined) return fail(mysqlError(ER.UNKNOWN_SYSTEM_VARIABLE, [name]));
    if (spec.readOnly === true) {
      return fail(mysqlError(ER.INCORRECT_GLOBAL_LOCAL_VAR, [spec.name, "read only"]));
    }
    const global = scope === "GLOBAL";
    if (global && spec.scope === "session") {
      return fail(mysqlError(ER.LOCAL_VARIABLE, [spec.name]));
    }
    if (!global && spec.scope === "global") {
      return fail(mysqlError(ER.GLOBAL_VARIABLE, [spec.name]));
    }
    let normalized: SysVarResult<SysVarValue>;
    if (typeof value === "object" && value !== null) {
      normalized = { kind: "ok", value: global ? spec.default
        : this.globals.values.get(spec.name) ?? spec.default };
    } else {
      normalized = normalize(spec, value);
    }
    if (normalized.kind === "ok" && spec.name === "optimizer_switch") {
      const current = (global ? this.globals.values : this.session).get(spec.name);
      const merged = mergeOptimizerSwitch(String(current ?? spec.default),
        String(normalized.value));
      normalized = merged === undefined ? fail(mysqlError(ER.WRONG_VALUE_FOR_VAR,
        [spec.name, String(value)])) : { kind: "ok", value: merged };
    }
    if (normalized.kind === "error") return normalized;
    (global ? this.globals.values : this.session).set(spec.name, normalized.value);
    return normalized;
  }

  /** Every variable visible in `scope` with its value as SHOW VARIABLES prints it. */
  list(scope: "GLOBAL" | "SESSION" | null): [string, string][] {
    const rows: [string, string][] = [];
    const names = [...this.globals.specs.keys(), ...aliases.keys()].sort();
    for (const name of names) {
      const result = this.get(name, scope === "GLOBAL" ? "GLOBAL" : null);
      if (result.kind === "error") continue;
      rows.push([name, showText(result.value.spec, result.value.value)]);
    }
    return rows;
  }
}

/** A value as SHOW VARIABLES prints it: booleans as ON/OFF. */
export function showText(spec: SysVarSpec, value: SysVarValue): string {
  if (spec.type === "bool") return value === 1n ? "ON" : "OFF";
  return String(value);
}

function normalize(
  spec: SysVarSpec,
  value: bigint | number | string | null,
): SysVarResult<SysVarValue> {
  const shown = value === null ? "NULL" : String(value);
  const wrongValue = (): SysVarResult<SysVarValue> =>
    fail(mysqlError(ER.WRONG_VALUE_FOR_VAR, [spec.name, shown]));
  switch (spec.type) {
    case "bool": {
      if (typeof value === "string") {
        const upper = value.toUpperCase();
        if (upper === "ON" || upper === "TRUE" || upper === "1") return { kind: "ok", value: 1n };
        if (upper === "OFF" || upper === "FALSE" || upper === "0") {
          return { kind: "ok", value: 0n };
        }
        return wrongValue();
      }
      if (value === null) return wrongValue();
      const n = BigInt(Math.trunc(Number(value)));
      return n === 0n || n === 1n ? { kind: "ok", value: n } : wrongValue();
    }
    case "int": {
      if (typeof value === "string" || value === null) {
        if (value !== null && /^\s*[+-]?\d+\s*$/.test(value)) return normalize(spec, BigInt(value));
        return fail(mysqlError(ER.WRONG_TYPE_FOR_VAR, [spec.name]));
      }
      let n = typeof value === "bigint" ? value : BigInt(Math.round(value));
      // MySQL clamps integers into range (with a warning we do not raise yet).
      if (spec.min !== undefined && n < spec.min) n = spec.min;
      if (spec.max !== undefined && n > spec.max) n = spec.max;
      return { kind: "ok", value: n };
    }
    case "enum": {
      const values = spec.values ?? [];
      if (typeof value === "string") {
        const found = values.find((c) => c.toUpperCase() === value.toUpperCase());
        return found === undefined ? wrongValue() : { kind: "ok", value: found };
      }
      if (value === null) return wrongValue();
      const found = values[Number(value)];
      return found === undefined ? wrongValue() : { kind: "ok", value: found };
    }
    case "string":
      if (value === null) return spec.name === "init_connect" ? { kind: "ok", value: "" }
        : wrongValue();
      return { kind: "ok", value: String(value) };
  }
}
