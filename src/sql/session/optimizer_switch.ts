/**
 * `optimizer_switch`, as MySQL has it: a comma-separated list of `flag=on|off` that turns
 * the planner's rewrite rules on and off (`src/sql/plan`). Setting it names only the
 * flags to change (`SET optimizer_switch = 'semijoin=off'`); the others keep their
 * values, `flag=default` restores one flag and `default` all of them; an unknown flag or
 * value is 1231. The stored value always lists every flag, in this file's order.
 *
 * MySQL's own flags Tessera acts on: `semijoin` (EXISTS / IN subqueries in WHERE become
 * semi and anti semi joins), `derived_condition_pushdown` (WHERE conjuncts on a derived
 * table, view or CTE filter its query) and `subquery_to_derived` (a correlated scalar
 * aggregate subquery is computed once per correlation key; on by default here, off in
 * MySQL). Tessera's own: `outer_join_simplification`
 * (a LEFT / RIGHT JOIN whose inner side a WHERE conjunct rejects when NULL is an inner
 * join), `topn` (ORDER BY … LIMIT keeps only the first rows in a bounded heap),
 * `constant_folding` (constant WHERE conjuncts are decided when planning: a false one
 * reads nothing), `limit_pushdown` (LIMIT reaches UNION ALL branches and derived
 * tables) and `column_pruning` (a derived table, view or CTE computes only the columns its
 * reader names). The `index_merge*` flags are accepted and shown but change nothing yet.
 */

/** Every flag with its default, in the order the value lists them. */
export const optimizerFlags: readonly (readonly [name: string, on: boolean])[] = [
  ["index_merge", true],
  ["index_merge_union", true],
  ["index_merge_sort_union", true],
  ["index_merge_intersection", true],
  ["semijoin", true],
  ["derived_condition_pushdown", true],
  ["outer_join_simplification", true],
  ["topn", true],
  ["constant_folding", true],
  ["limit_pushdown", true],
  ["column_pruning", true],
  ["subquery_to_derived", true],
];

function render(values: ReadonlyMap<string, boolean>): string {
  return optimizerFlags.map(([name, on]) => `${name}=${(values.get(name) ?? on) ? "on" : "off"}`)
    .join(",");
}

/** The default value of `optimizer_switch`. */
export const defaultOptimizerSwitch = render(new Map());

/** The flags of a stored value (missing flags: their defaults). */
export function parseOptimizerSwitch(value: string): Map<string, boolean> {
  const out = new Map<string, boolean>(optimizerFlags.map(([name, on]) => [name, on]));
  for (const item of value.split(",")) {
    const [name, setting] = item.trim().toLowerCase().split("=");
    if (name === undefined || !out.has(name)) continue;
    if (setting === "on" || setting === "off") out.set(name, setting === "on");
  }
  return out;
}

/** The last value `optimizerFlag` parsed and its flags (planners ask per rule and query). */
let parsed: { readonly value: string; readonly flags: ReadonlyMap<string, boolean> } | null =
  null;

/** Whether `flag` is on in the stored value `value` (null: the default). */
export function optimizerFlag(value: string | null, flag: string): boolean {
  if (value === null) return optimizerFlags.find(([name]) => name === flag)?.[1] ?? true;
  if (parsed?.value !== value) parsed = { value, flags: parseOptimizerSwitch(value) };
  return parsed.flags.get(flag) ?? true;
}

/**
 * The value after `SET optimizer_switch = given` on `current`, or undefined when `given`
 * names an unknown flag or setting (1231).
 */
export function mergeOptimizerSwitch(current: string, given: string): string | undefined {
  const values = parseOptimizerSwitch(current);
  for (const item of given.split(",")) {
    const text = item.trim().toLowerCase();
    if (text === "") continue;
    if (text === "default") {
      for (const [name, on] of optimizerFlags) values.set(name, on);
      continue;
    }
    const [name, setting, extra] = text.split("=").map((s) => s.trim());
    const flag = optimizerFlags.find(([n]) => n === name);
    if (flag === undefined || extra !== undefined) return undefined;
    if (setting === "default") values.set(flag[0], flag[1]);
    else if (setting === "on" || setting === "off") values.set(flag[0], setting === "on");
    else return undefined;
  }
  return render(values);
}
