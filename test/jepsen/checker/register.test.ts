/**
 * Tests of the register linearizability checker: hand-written histories, concurrent and
 * sequential, that are and are not linearizable (stale reads, reads of values never
 * written, a read going back in time while a write is in flight, an impossible cas),
 * indeterminate and failed operations, the size bound, and a property: a history recorded
 * from a serial execution is accepted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type RegisterOpValue, checkRegister } from "./register.ts";
import { type EventTuple, history, serial } from "./test_history.ts";

const timeout = { timeout: 20_000 };
type F = "read" | "write" | "cas";
type E = EventTuple<F, RegisterOpValue>;

const cases: { name: string; events: E[]; valid: boolean }[] = [
  {
    name: "sequential write, read, cas, read",
    events: [...serial<F, RegisterOpValue>(0, "write", 1, 1),
      ...serial<F, RegisterOpValue>(1, "read", null, 1),
      ...serial<F, RegisterOpValue>(0, "cas", [1, 2], [1, 2]),
      ...serial<F, RegisterOpValue>(1, "read", null, 2)],
    valid: true,
  },
  {
    name: "a read concurrent with a write may see the old value",
    events: [[0, "invoke", "write", 1], [1, "invoke", "read", null], [1, "ok", "read", null],
      [0, "ok", "write", 1]],
    valid: true,
  },
  {
    name: "a stale read after the write completed",
    events: [...serial<F, RegisterOpValue>(0, "write", 1, 1),
      ...serial<F, RegisterOpValue>(1, "read", null, null)],
    valid: false,
  },
  {
    name: "a read of a value nobody wrote",
    events: [...serial<F, RegisterOpValue>(0, "write", 1, 1),
      ...serial<F, RegisterOpValue>(1, "read", null, 7)],
    valid: false,
  },
  {
    name: "reads go back in time while a write is in flight",
    events: [[0, "invoke", "write", 1], [1, "invoke", "read", null], [1, "ok", "read", 1],
      [2, "invoke", "read", null], [2, "ok", "read", null], [0, "ok", "write", 1]],
    valid: false,
  },
  {
    name: "an ok cas whose expected value was never there",
    events: [...serial<F, RegisterOpValue>(0, "cas", [5, 6], [5, 6])],
    valid: false,
  },
  {
    name: "an indeterminate write may take effect later",
    events: [[0, "invoke", "write", 1], [0, "info", "write", 1],
      ...serial<F, RegisterOpValue>(1, "read", null, null),
      ...serial<F, RegisterOpValue>(1, "read", null, 1)],
    valid: true,
  },
  {
    name: "an indeterminate write takes effect at most once",
    events: [...serial<F, RegisterOpValue>(2, "write", 0, 0),
      [0, "invoke", "write", 1], [0, "info", "write", 1],
      ...serial<F, RegisterOpValue>(1, "read", null, 1),
      ...serial<F, RegisterOpValue>(2, "write", 2, 2),
      ...serial<F, RegisterOpValue>(1, "read", null, 1)],
    valid: false,
  },
  {
    name: "a failed write never happened",
    events: [[0, "invoke", "write", 3], [0, "fail", "write", 3],
      ...serial<F, RegisterOpValue>(1, "read", null, 3)],
    valid: false,
  },
];

for (const { name, events, valid } of cases) {
  test(`checkRegister(): ${name}`, timeout, () => {
    const result = checkRegister(history(...events));
    assert.equal(result.valid, valid, JSON.stringify(result));
  });
}

test("checkRegister(): a failed check names the first operation it could not place", timeout,
  () => {
    const result = checkRegister(history(...serial<F, RegisterOpValue>(0, "write", 1, 1),
      ...serial<F, RegisterOpValue>(1, "read", null, null)));
    assert.equal(result.valid, false);
    assert.ok(result.valid === false);
    assert.match(result.message, /first unplaced: read null invoked at history\[2\]/);
    assert.deepEqual(result.longestPrefix, [0]);
  });

test("checkRegister(): histories beyond the bound are unknown, not passed", timeout, () => {
  const events = [1, 2, 3].flatMap((v) => serial<F, RegisterOpValue>(0, "write", v, v));
  assert.equal(checkRegister(history(...events), { operationsMax: 2 }).valid, "unknown");
});

/** `writers` concurrent writes of 0, 1, … then a read of `last`. */
function concurrentWriters(writers: number, last: number): E[] {
  const invokes: E[] = Array.from({ length: writers }, (_, p) => [p, "invoke", "write", p]);
  const oks: E[] = Array.from({ length: writers }, (_, p) => [p, "ok", "write", p]);
  return [...invokes, ...oks, ...serial<F, RegisterOpValue>(99, "read", null, last)];
}

test("checkRegister(): concurrent writers may land in any order", timeout, () => {
  assert.equal(checkRegister(history(...concurrentWriters(10, 7))).valid, true);
  assert.equal(checkRegister(history(...concurrentWriters(10, 11))).valid, false);
});

test("checkRegister(): a search too large for its state bound is unknown", timeout, () => {
  // 40 mutually concurrent writes: 2^40 orders to rule out; the bound stops the search.
  const result = checkRegister(history(...concurrentWriters(40, 17)), { statesMax: 50_000 });
  assert.equal(result.valid, "unknown");
});

test("checkRegister(): every serial execution is accepted (property, fixed seeds)", timeout,
  () => {
    const op = fc.record({ f: fc.constantFrom("read", "write", "cas"), process: fc.nat(4),
      a: fc.integer({ min: 0, max: 3 }), b: fc.integer({ min: 0, max: 3 }) });
    for (const seed of [1, 2, 3]) {
      fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let value: number | null = null;
        const events = ops.flatMap((o): E[] => {
          if (o.f === "read") return serial<F, RegisterOpValue>(o.process, "read", null, value);
          if (o.f === "write") {
            value = o.a;
            return serial<F, RegisterOpValue>(o.process, "write", o.a, o.a);
          }
          if (value !== o.a) {
            return [[o.process, "invoke", "cas", [o.a, o.b]], [o.process, "fail", "cas",
              [o.a, o.b]]];
          }
          value = o.b;
          return serial<F, RegisterOpValue>(o.process, "cas", [o.a, o.b], [o.a, o.b]);
        });
        assert.equal(checkRegister(history(...events)).valid, true);
      }), { seed, numRuns: 200 });
    }
  });
