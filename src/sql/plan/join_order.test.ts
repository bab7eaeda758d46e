/**
 * The join-order planner on its own numbers (`join_order.ts`): dynamic programming joins
 * the selective leaves first along the equalities, greedy above its bound gives a
 * left-deep plan, STRAIGHT_JOIN keeps the written order, and an index join is chosen for
 * a small outer side while a large one hash-joins.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type JoinInput, type JoinPlan, type PlanConjunct, planJoins, planLeaves }
  from "./join_order.ts";

const bit = (i: number): bigint => 1n << BigInt(i);
const eq = (a: number, b: number, ndv: [number | null, number | null] = [null, null]):
  PlanConjunct => ({ mask: bit(a) | bit(b), eq: { masks: [bit(a), bit(b)], ndv } });

function input(cards: readonly number[], conjuncts: readonly PlanConjunct[],
  extra: Partial<JoinInput> = {}): JoinInput {
  return { leaves: cards.map((card) => ({ card, cost: card, lookups: [] })), conjuncts,
    dpLeavesMax: 8, straight: false, indexJoin: true, ...extra };
}

function shape(p: JoinPlan): string {
  return p.kind === "leaf" ? String(p.leaf)
    : `${p.op}(${shape(p.probe)},${shape(p.build)})`;
}

/** The leaves of the first join run (the deepest on the probe-first path). */
function bottomLeaves(p: JoinPlan): Set<number> {
  if (p.kind === "join" && p.probe.kind === "join") return bottomLeaves(p.probe);
  if (p.kind === "join" && p.build.kind === "join") return bottomLeaves(p.build);
  return new Set(planLeaves(p));
}

function leftDeep(p: JoinPlan): boolean {
  return p.kind === "leaf" || (p.build.kind === "leaf" && leftDeep(p.probe)) ||
    (p.probe.kind === "leaf" && leftDeep(p.build));
}

test("dynamic programming joins the selective leaves first along a chain", () => {
  // A chain 0 - 1 - 2 - 3 where leaf 3 is selective: the joins start at its end.
  const plan = planJoins(input([10_000, 10_000, 10_000, 5],
    [eq(0, 1), eq(1, 2), eq(2, 3)]));
  const order = planLeaves(plan);
  assert.deepEqual(new Set(order), new Set([0, 1, 2, 3]));
  // The first join involves the selective leaf and its neighbour, never a cartesian pair.
  assert.deepEqual(bottomLeaves(plan), new Set([2, 3]), shape(plan));
  assert.ok(!shape(plan).includes("loop"), shape(plan));
});

test("a star of five: the small filtered leaves join the hub before the large ones", () => {
  const plan = planJoins(input([1_000, 50_000, 20, 30_000, 8],
    [eq(0, 1), eq(0, 2), eq(0, 3), eq(0, 4)]));
  // The hub meets its most selective neighbour first; the largest neighbour comes last.
  assert.deepEqual(bottomLeaves(plan), new Set([0, 4]), shape(plan));
  assert.ok(plan.kind === "join" && (plan.probe.mask === bit(1) || plan.build.mask === bit(1)),
    shape(plan));
});

test("greedy above the bound: left-deep, from the smallest leaf", () => {
  const cards = [500, 400, 300, 200, 100, 50];
  const chain = [eq(0, 1), eq(1, 2), eq(2, 3), eq(3, 4), eq(4, 5)];
  const greedy = planJoins(input(cards, chain, { dpLeavesMax: 3 }));
  assert.ok(leftDeep(greedy), shape(greedy));
  assert.deepEqual(bottomLeaves(greedy), new Set([4, 5]), shape(greedy));
  assert.ok(!shape(greedy).includes("loop"), shape(greedy));
});

test("STRAIGHT_JOIN keeps the written order, left-deep", () => {
  const plan = planJoins(input([10_000, 10, 5], [eq(0, 1), eq(1, 2)], { straight: true }));
  assert.equal(shape(plan).replace(/hash|index/g, "j"), "j(j(0,1),2)");
});

test("index join for a small outer side, hash join for a large one", () => {
  const lookups = [{ keyMask: bit(0), perKeyRows: 1, rowCost: 1, id: 7 }];
  const small = planJoins({ leaves: [{ card: 10, cost: 10_000, lookups: [] },
    { card: 10_000, cost: 10_000, lookups }], conjuncts: [eq(0, 1)], dpLeavesMax: 8,
  straight: false, indexJoin: true });
  assert.ok(small.kind === "join" && small.op === "index" && small.lookup === 7,
    shape(small));
  assert.equal(shape(small), "index(0,1)");
  const large = planJoins({ leaves: [{ card: 9_000, cost: 10_000, lookups: [] },
    { card: 10_000, cost: 10_000, lookups }], conjuncts: [eq(0, 1)], dpLeavesMax: 8,
  straight: false, indexJoin: true });
  assert.ok(large.kind === "join" && large.op === "hash", shape(large));
  const off = planJoins({ leaves: [{ card: 10, cost: 10_000, lookups: [] },
    { card: 10_000, cost: 10_000, lookups }], conjuncts: [eq(0, 1)], dpLeavesMax: 8,
  straight: false, indexJoin: false });
  assert.equal(shape(off), "hash(1,0)");
});

test("join estimates divide by the larger NDV of the equality's sides", () => {
  const plan = planJoins(input([1_000, 100], [eq(0, 1, [50, 100])]));
  // 1000 * 100 / max(50, 100) = 1000.
  assert.equal(Math.round(plan.card), 1_000);
  const cross = planJoins(input([30, 20], []));
  assert.equal(cross.card, 600);
  assert.ok(cross.kind === "join" && cross.op === "loop");
});
