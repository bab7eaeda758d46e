/**
 * The register checker: linearizability of one key under reads, writes and
 * compare-and-sets, by the Wing–Gong search with Lowe's memoization (as Knossos does).
 *
 * The search builds a linearization one operation at a time: an operation may be placed
 * next only if it was invoked before every not-yet-placed completed operation returned
 * (otherwise real-time order would be broken), and only if the register's state allows
 * its result (a read returns the current value; an `ok` cas found its expected value).
 * States already explored — the set of placed operations and the value — are not explored
 * again. Failed operations did not happen and are ignored; `info` reads constrain nothing
 * and are ignored; `info` writes and cas may be placed anywhere after their invocation, or
 * never. The search is exponential in the worst case, so histories are bounded
 * (`operationsMax`) and so is the work (`statesMax`); past either the answer is `unknown`.
 */
import { type History, pairOperations } from "./history.ts";

export type RegisterValue = number | null;

/** `read` (value on ok), `write` (the value), `cas` (`[expected, new]`). */
export type RegisterOpValue = RegisterValue | readonly [RegisterValue, RegisterValue];

export type RegisterResult =
  | { readonly valid: true; readonly linearization: readonly number[] }
  | { readonly valid: false; readonly message: string;
      /** The longest linearizable prefix found (history indices of invocations). */
      readonly longestPrefix: readonly number[] }
  | { readonly valid: "unknown"; readonly message: string };

export interface RegisterCheckOptions {
  /** The register's value before the history (default null). */
  readonly initial?: RegisterValue;
  /** Largest history checked, in operations (default 200). */
  readonly operationsMax?: number;
  /** Search states explored before giving up (default 1,000,000). */
  readonly statesMax?: number;
}

interface Entry {
  readonly bit: bigint;
  readonly id: number;
  readonly f: "read" | "write" | "cas";
  readonly value: RegisterOpValue;
  readonly invokeIndex: number;
  readonly completeIndex: number;
  readonly required: boolean;
}

/** Checks that a single-register history is linearizable. */
export function checkRegister(
  history: History<"read" | "write" | "cas", RegisterOpValue>,
  options: RegisterCheckOptions = {},
): RegisterResult {
  const entries: Entry[] = [];
  for (const operation of pairOperations(history)) {
    if (operation.outcome === "fail") continue;
    if (operation.outcome === "info" && operation.f === "read") continue;
    entries.push({
      bit: 1n << BigInt(entries.length),
      id: operation.invokeIndex,
      f: operation.f,
      value: operation.outcome === "ok" && operation.f === "read"
        ? operation.completion?.value as RegisterValue
        : operation.invoke.value,
      invokeIndex: operation.invokeIndex,
      completeIndex: operation.completeIndex,
      required: operation.outcome === "ok",
    });
  }
  const operationsMax = options.operationsMax ?? 200;
  if (entries.length > operationsMax) {
    return { valid: "unknown", message: `${entries.length} operations exceed ${operationsMax}` };
  }
  const requiredMask = entries.reduce((mask, e) => (e.required ? mask | e.bit : mask), 0n);
  const statesMax = options.statesMax ?? 1_000_000;
  const visited = new Set<string>();
  let longest: Entry[] = [];

  // Depth-first search with an explicit stack of (placed set, value, path, next candidate).
  interface Frame {
    placed: bigint;
    value: RegisterValue;
    path: Entry[];
    candidates: Entry[];
  }
  const frameFor = (placed: bigint, value: RegisterValue, path: Entry[]): Frame => {
    let earliestReturn = Number.POSITIVE_INFINITY;
    for (const e of entries) {
      if (e.required && (placed & e.bit) === 0n) {
        earliestReturn = Math.min(earliestReturn, e.completeIndex);
      }
    }
    const candidates = entries.filter((e) =>
      (placed & e.bit) === 0n && e.invokeIndex < earliestReturn);
    return { placed, value, path, candidates };
  };
  const stack: Frame[] = [frameFor(0n, options.initial ?? null, [])];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if ((frame.placed & requiredMask) === requiredMask) {
      return { valid: true, linearization: frame.path.map((e) => e.id) };
    }
    const entry = frame.candidates.pop();
    if (entry === undefined) {
      stack.pop();
      continue;
    }
    const next = step(frame.value, entry);
    if (next === undefined) continue;
    const placed = frame.placed | entry.bit;
    const key = `${placed.toString(36)}:${JSON.stringify(next.value)}`;
    if (visited.has(key)) continue;
    visited.add(key);
    if (visited.size > statesMax) {
      return { valid: "unknown", message: `search gave up after ${statesMax} states` };
    }
    const path = [...frame.path, entry];
    if (path.length > longest.length) longest = path;
    stack.push(frameFor(placed, next.value, path));
  }
  const stuck = entries
    .filter((e) => e.required && !longest.includes(e))
    .sort((a, b) => a.completeIndex - b.completeIndex)[0];
  return {
    valid: false,
    message: `no linearization; after ${longest.length} operations, none of the rest fits` +
      (stuck === undefined ? "" : ` (first unplaced: ${stuck.f} ${JSON.stringify(stuck.value)}` +
        ` invoked at history[${stuck.invokeIndex}])`),
    longestPrefix: longest.map((e) => e.id),
  };
}

/** The register after `entry` runs on `value`, or undefined if its result is impossible. */
function step(value: RegisterValue, entry: Entry): { value: RegisterValue } | undefined {
  switch (entry.f) {
    case "read":
      return entry.value === value ? { value } : undefined;
    case "write":
      return { value: entry.value as RegisterValue };
    case "cas": {
      const [expected, replacement] = entry.value as readonly [RegisterValue, RegisterValue];
      return expected === value ? { value: replacement } : undefined;
    }
  }
}
