/**
 * Tests of the list-append checker: a hand-written history for each anomaly class (G0,
 * G1a, G1b, G1c, G-single, G2-item, lost update, incompatible orders, duplicates) and clean
 * ones, the reported cycle of a G-single, a mode contract (snapshot isolation allows
 * G2-item), and a property: a history recorded from a serial execution is accepted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type MicroOp, type Txn, checkListAppend } from "./list_append.ts";
import { type EventTuple, history } from "./test_history.ts";

const timeout = { timeout: 20_000 };
const a = (key: string, element: number): MicroOp => ["append", key, element];
const r = (key: string, list: readonly number[] | null): MicroOp => ["r", key, list];
/** A transaction that committed; reads are given with their results. */
const ok = (process: number, ...ops: MicroOp[]): EventTuple<"txn", Txn>[] => [
  [process, "invoke", "txn", ops.map((op) => (op[0] === "r" ? r(op[1], null) : op))],
  [process, "ok", "txn", ops],
];
const failed = (process: number, ...ops: MicroOp[]): EventTuple<"txn", Txn>[] => [
  [process, "invoke", "txn", ops],
  [process, "fail", "txn", ops],
];

const cases: { name: string; events: EventTuple<"txn", Txn>[]; kinds: string[] }[] = [
  {
    name: "serial appends and reads",
    events: [...ok(0, a("x", 1)), ...ok(1, r("x", [1]), a("x", 2)), ...ok(0, r("x", [1, 2]))],
    kinds: [],
  },
  {
    name: "G0: two transactions' writes interleave on two keys",
    events: [...ok(0, a("x", 1), a("y", 2)), ...ok(1, a("x", 3), a("y", 4)),
      ...ok(2, r("x", [1, 3]), r("y", [4, 2]))],
    kinds: ["G0"],
  },
  {
    name: "G1a: a read sees an aborted append",
    events: [...failed(0, a("x", 1)), ...ok(1, r("x", [1]))],
    kinds: ["G1a"],
  },
  {
    name: "G1b: a read sees a state its writer later changed",
    events: [...ok(0, a("x", 1), a("x", 2)), ...ok(1, r("x", [1])), ...ok(2, r("x", [1, 2]))],
    kinds: ["G1b"],
  },
  {
    name: "G1c: each transaction reads the other's write",
    events: [...ok(0, a("x", 1), r("y", [2])), ...ok(1, a("y", 2), r("x", [1]))],
    kinds: ["G1c"],
  },
  {
    name: "G-single (read skew): a read misses x but sees y of one transaction",
    events: [...ok(0, a("x", 1), a("y", 1)), ...ok(1, r("x", []), r("y", [1])),
      ...ok(2, r("x", [1]))],
    kinds: ["G-single"],
  },
  {
    name: "G2-item (write skew): each reads both keys empty and appends to one",
    events: [...ok(0, r("x", []), r("y", []), a("x", 1)),
      ...ok(1, r("x", []), r("y", []), a("y", 2)), ...ok(2, r("x", [1]), r("y", [2]))],
    kinds: ["G2-item"],
  },
  {
    name: "lost update: two transactions read x empty and both append",
    events: [...ok(0, r("x", []), a("x", 1)), ...ok(1, r("x", null), a("x", 2)),
      ...ok(2, r("x", [1, 2]))],
    kinds: ["G-single", "lost-update"],
  },
  {
    name: "incompatible orders: two reads disagree on the order of x",
    events: [...ok(0, a("x", 1)), ...ok(1, a("x", 2)), ...ok(2, r("x", [1, 2])),
      ...ok(3, r("x", [2, 1]))],
    kinds: ["incompatible-order"],
  },
  {
    name: "a duplicated element",
    events: [...ok(0, a("x", 1)), ...ok(1, r("x", [1, 1]))],
    kinds: ["duplicate-elements"],
  },
  {
    name: "an indeterminate append that a read saw is ordered like a committed one",
    events: [[0, "invoke", "txn", [a("x", 1)]], [0, "info", "txn", [a("x", 1)]],
      ...ok(1, r("x", [1]), a("x", 2)), ...ok(2, r("x", [1, 2]))],
    kinds: [],
  },
];

for (const { name, events, kinds } of cases) {
  test(`checkListAppend(): ${name}`, timeout, () => {
    const result = checkListAppend(history(...events));
    assert.deepEqual(result.anomalies.map((x) => x.kind).sort(), [...kinds].sort(),
      JSON.stringify(result.anomalies, null, 1));
    assert.equal(result.valid, kinds.length === 0);
  });
}

test("checkListAppend(): a G-single names its cycle and its one rw edge", timeout, () => {
  const result = checkListAppend(history(...ok(0, a("x", 1), a("y", 1)),
    ...ok(1, r("x", []), r("y", [1])), ...ok(2, r("x", [1]))));
  const cycle = result.anomalies[0]?.cycle ?? [];
  assert.deepEqual(cycle.map((step) => step.edge).sort(), ["rw", "wr"]);
  assert.deepEqual(cycle.map((step) => step.txn).sort(), [1, 3]);
  assert.match(result.anomalies[0]?.message ?? "", /G-single cycle: T\d -\w\w-> T\d -\w\w-> T\d/);
});

test("checkListAppend(): snapshot isolation's contract allows write skew only", timeout,
  () => {
    const snapshotIsolation = { forbidden: ["G0", "G1a", "G1b", "G1c", "G-single",
      "lost-update", "incompatible-order", "duplicate-elements"] as const };
    const writeSkew = history(...ok(0, r("x", []), r("y", []), a("x", 1)),
      ...ok(1, r("x", []), r("y", []), a("y", 2)), ...ok(2, r("x", [1]), r("y", [2])));
    assert.equal(checkListAppend(writeSkew, snapshotIsolation).valid, true);
    assert.equal(checkListAppend(writeSkew).valid, false);
    const readSkew = history(...ok(0, a("x", 1), a("y", 1)), ...ok(1, r("x", []), r("y", [1])),
      ...ok(2, r("x", [1])));
    assert.equal(checkListAppend(readSkew, snapshotIsolation).valid, false);
  });

test("checkListAppend(): every serial execution is accepted (property, fixed seeds)",
  timeout, () => {
    const micro = fc.record({ read: fc.boolean(), key: fc.constantFrom("x", "y", "z") });
    const txn = fc.record({ process: fc.nat(5), aborted: fc.boolean(),
      ops: fc.array(micro, { minLength: 1, maxLength: 4 }) });
    for (const seed of [1, 2, 3]) {
      fc.assert(fc.property(fc.array(txn, { maxLength: 40 }), (txns) => {
        const state = new Map<string, number[]>();
        let nextElement = 1;
        const events = txns.flatMap((t) => {
          // Each transaction runs alone; an aborted one leaves no trace in the state.
          const scratch = new Map([...state].map(([k, v]) => [k, [...v]]));
          const ops: MicroOp[] = t.ops.map(({ read, key }) => {
            if (read) return r(key, [...(scratch.get(key) ?? [])]);
            const element = nextElement++;
            scratch.set(key, [...(scratch.get(key) ?? []), element]);
            return a(key, element);
          });
          if (t.aborted) return failed(t.process, ...ops);
          for (const [k, v] of scratch) state.set(k, v);
          return ok(t.process, ...ops);
        });
        assert.deepEqual(checkListAppend(history(...events)).anomalies, []);
      }), { seed, numRuns: 200 });
    }
  });
