/**
 * Join order and join operators of one inner-join group, chosen by estimated cost (pure:
 * numbers in, a plan tree out; `from.ts` estimates and runs it).
 *
 * Each leaf comes with its estimated rows after its local filters (`card`), the cost of
 * reading it in full (`cost`, in rows read; 0 for a leaf already read) and the ways it
 * can be read as the inner side of an index nested-loop join (`lookups`: by its handle
 * or an index, keyed by columns the other side gives). Conjuncts are their leaf masks;
 * an equality between two sides has the distinct counts of its sides (NDV, from
 * statistics, else the side's rows).
 *
 * Estimates: a join's rows are |A|·|B| times, per equality between them, 1 / max(NDV of
 * its two sides, each at most its side's rows), and 0.8 (TiDB's selection factor) per
 * other conjunct they newly cover. Costs add what each join examines and produces:
 * - hash join: both inputs' costs, the build (the smaller) and probe rows, the output;
 * - index join: the outer side's cost, per outer row one lookup (`seekCost`) and the inner
 *   rows it finds times their read cost (`rowCost`: a handle read 1, an index lookup 3),
 *   the output — the inner table is never read in full;
 * - merge join (two leaves equal on their clustered handles, read in handle order): as
 *   a hash join with half the build cost (one pass, no hash table);
 * - nested loop (no equality): both inputs' costs and |A|·|B| examined pairs.
 * Order: dynamic programming over every subset of leaves (bushy trees, each subset's
 * cheapest plan from its cheapest two-way splits, as TiDB's `rule_join_reorder_dp.go`)
 * up to `dpLeavesMax` leaves; above it greedy: start from the smallest leaf, then add the
 * cheapest connected leaf (any leaf when none is connected), left-deep. STRAIGHT_JOIN
 * keeps the written order, left-deep, each leaf the right (build or inner) side.
 */

/** A way of reading a leaf by lookups of key values another side gives. */
export interface LookupPath {
  /** Leaves the key expressions read (the outer side must hold them all). */
  readonly keyMask: bigint;
  /** Estimated inner rows per distinct key value. */
  readonly perKeyRows: number;
  /** Cost of reading one inner row found (1 by handle, 3 through an index). */
  readonly rowCost: number;
  /** The caller's id of the path. */
  readonly id: number;
}

/** One leaf's estimates. */
export interface LeafEstimate {
  readonly card: number;
  readonly cost: number;
  readonly lookups: readonly LookupPath[];
}

/** One conjunct: the leaves it reads; an equality's sides and their NDVs. */
export interface PlanConjunct {
  readonly mask: bigint;
  readonly eq: { readonly masks: readonly [bigint, bigint];
    readonly ndv: readonly [number | null, number | null];
    /** Both sides are their leaf's clustered handle (a read gives handle order). */
    readonly merge?: boolean } | null;
}

/** A plan tree: leaves and joins with their estimated rows and costs. */
export type JoinPlan =
  | { readonly kind: "leaf"; readonly leaf: number; readonly mask: bigint; readonly card: number;
    readonly cost: number }
  | {
      readonly kind: "join";
      /**
       * hash: `build` is hashed, `probe` probes; index: `build` is the inner leaf; merge:
       * two leaves in the order of their handles.
       */
      readonly op: "hash" | "index" | "merge" | "loop";
      readonly probe: JoinPlan;
      readonly build: JoinPlan;
      /** Index joins: the inner leaf's lookup path id. */
      readonly lookup: number | null;
      readonly mask: bigint;
      readonly card: number;
      readonly cost: number;
    };

/** What a group's plan is chosen from. */
export interface JoinInput {
  readonly leaves: readonly LeafEstimate[];
  readonly conjuncts: readonly PlanConjunct[];
  /** Leaves up to which the order is found by dynamic programming (else greedily). */
  readonly dpLeavesMax: number;
  /** STRAIGHT_JOIN: the written order. */
  readonly straight: boolean;
  /** Whether index joins may be chosen. */
  readonly indexJoin: boolean;
}

/**
 * Cost of one lookup of a key value, in rows read: a range read of the inner table (a
 * round trip, if a batched one) against the rows a scan streams (TiDB's seek factor).
 */
export const seekCost = 10;
/** A merge join's cost per row of its smaller side, against a hash join's build (1). */
const mergeBuildShare = 0.5;
/** Rows kept by a conjunct with no better estimate (TiDB's selection factor). */
export const selectionFactor = 0.8;
/** Leaves planned by dynamic programming at most, by default. */
export const dpLeavesMaxDefault = 8;
/** Leaves dynamic programming can take at all (2^n subsets). */
const dpLeavesLimit = 12;

const isSubset = (a: bigint, b: bigint): boolean => (a & ~b) === 0n;

class Planner {
  private readonly input: JoinInput;
  /** Estimated rows of each leaf. */
  private readonly leafCards: readonly number[];

  constructor(input: JoinInput) {
    this.input = input;
    this.leafCards = input.leaves.map((l) => l.card);
  }

  leafPlan(i: number): JoinPlan {
    const leaf = this.input.leaves[i]!;
    return { kind: "leaf", leaf: i, mask: 1n << BigInt(i), card: leaf.card, cost: leaf.cost };
  }

  /**
   * The NDV of an equality's side reading `sideMask` within a plan of `card` rows: its
   * statistics' NDV, else its smallest leaf's rows, never above `card`.
   */
  private ndvOf(ndv: number | null, sideMask: bigint, card: number): number {
    let bound = card;
    if (ndv === null) {
      // Without statistics, a side is taken as distinct over its own leaf's rows.
      let rows = Number.POSITIVE_INFINITY;
      this.leafCards.forEach((c, i) => {
        if ((sideMask & (1n << BigInt(i))) !== 0n) rows = Math.min(rows, c);
      });
      bound = Math.min(bound, rows);
      return Math.max(1, bound);
    }
    return Math.max(1, Math.min(ndv, bound));
  }

  /** Estimated rows of `a` joined with `b`, and whether an equality connects them. */
  joinCard(a: JoinPlan, b: JoinPlan): { card: number; connected: boolean; merge: boolean } {
    const both = a.mask | b.mask;
    let card = a.card * b.card;
    let connected = false;
    let merge = false;
    for (const c of this.input.conjuncts) {
      if (c.mask === 0n || !isSubset(c.mask, both) || isSubset(c.mask, a.mask) ||
        isSubset(c.mask, b.mask)) continue;
      const eq = c.eq;
      if (eq !== null) {
        const [m0, m1] = eq.masks;
        const aFirst = isSubset(m0, a.mask) && isSubset(m1, b.mask);
        const bFirst = isSubset(m1, a.mask) && isSubset(m0, b.mask);
        if (aFirst || bFirst) {
          const [ca, cb] = aFirst ? [a.card, b.card] : [b.card, a.card];
          const n0 = this.ndvOf(eq.ndv[0], m0, ca);
          const n1 = this.ndvOf(eq.ndv[1], m1, cb);
          card /= Math.max(n0, n1);
          connected = true;
          merge ||= eq.merge === true && a.kind === "leaf" && b.kind === "leaf";
          continue;
        }
      }
      card *= selectionFactor;
    }
    return { card, connected, merge };
  }

  /** The cheapest join of `a` and `b`; `innerOnly` limits index joins to inner `b`. */
  bestJoin(a: JoinPlan, b: JoinPlan, innerOnly = false): JoinPlan {
    const { card, connected, merge } = this.joinCard(a, b);
    const mask = a.mask | b.mask;
    const [probe, build] = b.card <= a.card ? [a, b] : [b, a];
    let best: JoinPlan = connected
      ? { kind: "join", op: "hash", probe, build, lookup: null, mask, card,
        cost: a.cost + b.cost + a.card + b.card + card }
      : { kind: "join", op: "loop", probe, build, lookup: null, mask, card,
        cost: a.cost + b.cost + a.card * b.card + card };
    if (merge) {
      // One pass over both sorted sides: no hash table to build.
      const cost = a.cost + b.cost + probe.card + build.card * mergeBuildShare + card;
      if (cost < best.cost) {
        best = { kind: "join", op: "merge", probe, build, lookup: null, mask, card, cost };
      }
    }
    if (!connected || !this.input.indexJoin) return best;
    const sides: (readonly [JoinPlan, JoinPlan])[] = innerOnly ? [[a, b]] : [[a, b], [b, a]];
    for (const [outer, inner] of sides) {
      if (inner.kind !== "leaf") continue;
      for (const path of this.input.leaves[inner.leaf]!.lookups) {
        if (!isSubset(path.keyMask, outer.mask)) continue;
        const cost = outer.cost + outer.card * (seekCost + path.perKeyRows * path.rowCost) +
          card;
        if (cost < best.cost) {
          best = { kind: "join", op: "index", probe: outer, build: inner, lookup: path.id, mask,
            card, cost };
        }
      }
    }
    return best;
  }

  straight(): JoinPlan {
    let plan = this.leafPlan(0);
    for (let i = 1; i < this.input.leaves.length; i++) {
      plan = this.bestJoin(plan, this.leafPlan(i), true);
    }
    return plan;
  }

  greedy(): JoinPlan {
    const n = this.input.leaves.length;
    let start = 0;
    for (let i = 1; i < n; i++) if (this.leafCards[i]! < this.leafCards[start]!) start = i;
    let plan = this.leafPlan(start);
    const rest = new Set(Array.from({ length: n }, (_, i) => i).filter((i) => i !== start));
    while (rest.size > 0) {
      let best: JoinPlan | undefined;
      let bestConnected = false;
      for (const i of rest) {
        const leaf = this.leafPlan(i);
        const connected = this.joinCard(plan, leaf).connected;
        if (bestConnected && !connected) continue;
        const joined = this.bestJoin(plan, leaf);
        if (best === undefined || (connected && !bestConnected) || joined.cost < best.cost) {
          best = joined;
          bestConnected = connected;
        }
      }
      plan = best!;
      for (const i of [...rest]) if ((plan.mask & (1n << BigInt(i))) !== 0n) rest.delete(i);
    }
    return plan;
  }

  dp(): JoinPlan {
    const n = this.input.leaves.length;
    const best: (JoinPlan | undefined)[] = new Array<JoinPlan | undefined>(1 << n);
    for (let i = 0; i < n; i++) best[1 << i] = this.leafPlan(i);
    for (let set = 1; set < 1 << n; set++) {
      if ((set & (set - 1)) === 0) continue;
      let chosen: JoinPlan | undefined;
      for (let sub = (set - 1) & set; sub > 0; sub = (sub - 1) & set) {
        const other = set ^ sub;
        if (sub < other) continue;
        const joined = this.bestJoin(best[sub]!, best[other]!);
        if (chosen === undefined || joined.cost < chosen.cost) chosen = joined;
      }
      best[set] = chosen;
    }
    return best[(1 << n) - 1]!;
  }
}

/** The plan of a group of at least one leaf; see the file comment. */
export function planJoins(input: JoinInput): JoinPlan {
  const planner = new Planner(input);
  const n = input.leaves.length;
  if (n === 1) return planner.leafPlan(0);
  if (input.straight) return planner.straight();
  if (n <= Math.min(input.dpLeavesMax, dpLeavesLimit)) return planner.dp();
  return planner.greedy();
}

/** The leaves of a plan in the order they are read (outer before inner). */
export function planLeaves(plan: JoinPlan): number[] {
  return plan.kind === "leaf" ? [plan.leaf] : [...planLeaves(plan.probe), ...planLeaves(
    plan.build)];
}
