/**
 * Invariant checks that stay on in production.
 *
 * A failed assertion means a bug in Tessera, never bad input: it throws an `AssertionError`
 * that only a process's top-level handler catches (and then exits). Expected outcomes are
 * returned values or `TesseraError`s instead (see `errors.ts`).
 */

/** Thrown when an invariant is broken. Never caught except at the top of a process. */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

/** Throws an `AssertionError` with `message` unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Marks a branch that the type system proves cannot run (the `default` of an exhaustive
 * `switch`). Reaching it at run time means a value escaped its type: a bug.
 */
export function unreachable(value: never, what = "value"): never {
  throw new AssertionError(`unreachable: unexpected ${what} ${String(value)}`);
}
