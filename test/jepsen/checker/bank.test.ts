/**
 * Tests of the bank checker: hand-written histories with each anomaly (a read with the
 * wrong total, an overdraft, a missing account) and clean ones, and a property: a history
 * recorded from any serial execution of transfers and reads is accepted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type BankValue, checkBank } from "./bank.ts";
import { history, serial } from "./test_history.ts";

const timeout = { timeout: 20_000 };
const accounts = ["a", "b", "c"];
const options = { accounts, total: 30 };
type F = "read" | "transfer";

const cases: { name: string; events: ReturnType<typeof history<F, BankValue>>;
  kinds: string[] }[] = [
  {
    name: "reads of consistent snapshots around a transfer",
    events: history<F, BankValue>(
      ...serial<F, BankValue>(0, "read", null, { a: 10, b: 10, c: 10 }),
      [1, "invoke", "transfer", { from: "a", to: "b", amount: 5 }],
      [0, "invoke", "read", null],
      [0, "ok", "read", { a: 10, b: 10, c: 10 }],
      [1, "ok", "transfer", { from: "a", to: "b", amount: 5 }],
      ...serial<F, BankValue>(0, "read", null, { a: 5, b: 15, c: 10 }),
    ),
    kinds: [],
  },
  {
    name: "a failed read and an indeterminate transfer are not checked",
    events: history<F, BankValue>(
      [1, "invoke", "transfer", { from: "a", to: "b", amount: 5 }],
      [1, "info", "transfer", { from: "a", to: "b", amount: 5 }],
      [0, "invoke", "read", null],
      [0, "fail", "read", null],
    ),
    kinds: [],
  },
  {
    name: "read skew: a read sees the debit but not the credit",
    events: history<F, BankValue>(
      [1, "invoke", "transfer", { from: "a", to: "b", amount: 5 }],
      [0, "invoke", "read", null],
      [0, "ok", "read", { a: 5, b: 10, c: 10 }],
      [1, "ok", "transfer", { from: "a", to: "b", amount: 5 }],
    ),
    kinds: ["wrong-total"],
  },
  {
    name: "an overdraft from two transfers that both saw enough money",
    events: history<F, BankValue>(...serial<F, BankValue>(0, "read", null,
      { a: -5, b: 20, c: 15 })),
    kinds: ["negative-balance"],
  },
  {
    name: "a lost account and an account that never existed",
    events: history<F, BankValue>(...serial<F, BankValue>(0, "read", null,
      { a: 10, b: 20, d: 0 })),
    kinds: ["missing-account", "unexpected-account"],
  },
];

for (const { name, events, kinds } of cases) {
  test(`checkBank(): ${name}`, timeout, () => {
    const result = checkBank(events, options);
    assert.deepEqual(result.anomalies.map((a) => a.kind), kinds);
    assert.equal(result.valid, kinds.length === 0);
  });
}

test("checkBank(): negative balances pass when the workload allows them", timeout, () => {
  const events = history<F, BankValue>(...serial<F, BankValue>(0, "read", null,
    { a: -5, b: 20, c: 15 }));
  assert.equal(checkBank(events, { ...options, negativeAllowed: true }).valid, true);
});

test("checkBank(): every serial execution is accepted (property, fixed seeds)", timeout, () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("read" as const), process: fc.nat(4) }),
    fc.record({ kind: fc.constant("transfer" as const), process: fc.nat(4),
      from: fc.constantFrom(...accounts), to: fc.constantFrom(...accounts),
      amount: fc.integer({ min: 1, max: 20 }) }),
  );
  for (const seed of [1, 2, 3]) {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const balances: Record<string, number> = { a: 10, b: 10, c: 10 };
      const tuples = ops.flatMap((o) => {
        if (o.kind === "read") return serial<F, BankValue>(o.process, "read", null,
          { ...balances });
        const transfer = { from: o.from, to: o.to, amount: o.amount };
        // The workload forbids overdrafts: such a transfer fails and changes nothing.
        if ((balances[o.from] as number) < o.amount) {
          return [[o.process, "invoke", "transfer", transfer],
            [o.process, "fail", "transfer", transfer]] as const;
        }
        balances[o.from] = (balances[o.from] as number) - o.amount;
        balances[o.to] = (balances[o.to] as number) + o.amount;
        return serial<F, BankValue>(o.process, "transfer", transfer, transfer);
      });
      const result = checkBank(history<F, BankValue>(...tuples), options);
      assert.deepEqual(result.anomalies, []);
    }), { seed, numRuns: 200 });
  }
});
