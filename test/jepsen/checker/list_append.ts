/**
 * The list-append checker: a simplified Elle. Transactions append unique elements to
 * lists under keys and read whole lists; because every append is unique and a list keeps
 * its order, a read reveals the exact version order of its key, and from it the
 * dependencies between transactions:
 * - ww: the writer of element i of a key precedes the writer of element i + 1;
 * - wr: the writer of the last element a read saw precedes the reader;
 * - rw: a reader precedes the writer of the element after the last one it saw (an
 *   anti-dependency: the reader missed that write).
 * A cycle in that graph means no serial order explains what was seen. Cycles are
 * classified as Adya does: only ww edges, G0 (dirty write); ww and wr, G1c (circular
 * information flow); exactly one rw edge, G-single (read skew); more, G2-item (write skew
 * and kin). Without a cycle, the checker also finds G1a (a read of an aborted append),
 * G1b (a read of a state its writer later changed within the same transaction),
 * incompatible orders (two reads of one key neither a prefix of the other), duplicated
 * elements, and lost updates (two committed transactions that read the same version of a
 * key and both appended to it: one overwrote the other's basis). Transactions that failed
 * are known not to have happened; `info` ones take part only through what reads saw of
 * them. Not modelled: real-time (strict serializability) edges, predicates.
 *
 * A transaction mode's contract is checked by choosing which anomalies are forbidden:
 * serializability forbids all; snapshot isolation allows `G2-item`.
 */
import { type History, pairOperations } from "./history.ts";

/** A micro-operation: append `element` to `key`, or read `key` (the list, filled on ok). */
export type MicroOp =
  | readonly ["append", string, number]
  | readonly ["r", string, readonly number[] | null];

export type Txn = readonly MicroOp[];

export type AnomalyKind =
  | "G0"
  | "G1a"
  | "G1b"
  | "G1c"
  | "G-single"
  | "G2-item"
  | "lost-update"
  | "incompatible-order"
  | "duplicate-elements";

export type Dependency = "ww" | "wr" | "rw";

export interface ListAppendAnomaly {
  readonly kind: AnomalyKind;
  readonly message: string;
  /** For cycles: the transactions (history indices of their completions) and the edges. */
  readonly cycle?: readonly { readonly txn: number; readonly edge: Dependency }[];
}

export interface ListAppendResult {
  readonly valid: boolean;
  readonly anomalies: readonly ListAppendAnomaly[];
}

export interface ListAppendOptions {
  /** Anomalies that make the history invalid (default: all of them). */
  readonly forbidden?: readonly AnomalyKind[];
}

/** Every anomaly kind, for callers that forbid all but a few. */
export const allAnomalies: readonly AnomalyKind[] = [
  "G0", "G1a", "G1b", "G1c", "G-single", "G2-item", "lost-update", "incompatible-order",
  "duplicate-elements",
];

interface TxnInfo {
  /** History index of the completion, or of the invocation if it never completed. */
  readonly id: number;
  readonly outcome: "ok" | "fail" | "info";
  readonly ops: Txn;
}

/** Checks a list-append history; see the file comment. */
export function checkListAppend(
  history: History<"txn", Txn>,
  options: ListAppendOptions = {},
): ListAppendResult {
  const anomalies: ListAppendAnomaly[] = [];
  const txns: TxnInfo[] = pairOperations(history).map((operation) => ({
    id: Number.isFinite(operation.completeIndex) ? operation.completeIndex
      : operation.invokeIndex,
    outcome: operation.outcome,
    ops: (operation.outcome === "ok" ? operation.completion?.value : operation.invoke.value) ??
      [],
  }));

  // Who appended each element, and each writer's appends per key in order.
  const writerOf = new Map<string, Map<number, TxnInfo>>();
  const appendsOf = new Map<TxnInfo, Map<string, number[]>>();
  for (const txn of txns) {
    const mine = new Map<string, number[]>();
    for (const op of txn.ops) {
      if (op[0] !== "append") continue;
      const [, key, element] = op;
      const writers = writerOf.get(key) ?? new Map<number, TxnInfo>();
      writerOf.set(key, writers);
      writers.set(element, txn);
      mine.set(key, [...(mine.get(key) ?? []), element]);
    }
    appendsOf.set(txn, mine);
  }
  const committed = txns.filter((txn) => txn.outcome === "ok");

  // Reads of committed transactions, and the version order of each key (its longest read).
  const reads: { txn: TxnInfo; key: string; list: readonly number[] }[] = [];
  for (const txn of committed) {
    for (const op of txn.ops) {
      if (op[0] === "r") reads.push({ txn, key: op[1], list: op[2] ?? [] });
    }
  }
  const order = new Map<string, readonly number[]>();
  for (const read of reads) {
    const longest = order.get(read.key) ?? [];
    if (read.list.length > longest.length) order.set(read.key, read.list);
  }
  for (const read of reads) {
    const longest = order.get(read.key) ?? [];
    if (!isPrefix(read.list, longest)) {
      anomalies.push({ kind: "incompatible-order", message: `key ${read.key}: read ` +
        `[${read.list}] in txn ${read.txn.id} is no prefix of [${longest}]` });
    }
    if (new Set(read.list).size !== read.list.length) {
      anomalies.push({ kind: "duplicate-elements", message: `key ${read.key}: txn ` +
        `${read.txn.id} read [${read.list}]` });
    }
    for (const element of read.list) {
      const writer = writerOf.get(read.key)?.get(element);
      if (writer?.outcome === "fail") {
        anomalies.push({ kind: "G1a", message: `txn ${read.txn.id} read ${read.key}=` +
          `[${read.list}] with ${element}, appended by aborted txn ${writer.id}` });
      }
    }
    const last = read.list[read.list.length - 1];
    const writer = last === undefined ? undefined : writerOf.get(read.key)?.get(last);
    if (writer !== undefined && writer !== read.txn) {
      const appended = appendsOf.get(writer)?.get(read.key) ?? [];
      if (appended[appended.length - 1] !== last) {
        anomalies.push({ kind: "G1b", message: `txn ${read.txn.id} read ${read.key}=` +
          `[${read.list}], an intermediate state of txn ${writer.id}` });
      }
    }
  }

  // Lost updates: committed transactions that read one version of a key and appended to it.
  const basis = new Map<string, TxnInfo[]>();
  for (const txn of committed) {
    const seen = new Set<string>();
    for (const op of txn.ops) {
      if (op[0] === "r" && !seen.has(op[1])) {
        seen.add(op[1]);
        if ((appendsOf.get(txn)?.get(op[1]) ?? []).length === 0) continue;
        const list = op[2] ?? [];
        const mineBefore = list.some((e) => writerOf.get(op[1])?.get(e) === txn);
        if (mineBefore) continue;
        const versionKey = JSON.stringify([op[1], list[list.length - 1] ?? null]);
        basis.set(versionKey, [...(basis.get(versionKey) ?? []), txn]);
      }
      if (op[0] === "append") seen.add(op[1]);
    }
  }
  for (const [versionKey, readers] of basis) {
    if (readers.length < 2) continue;
    const [key, version] = JSON.parse(versionKey) as [string, number | null];
    anomalies.push({ kind: "lost-update", message: `txns ${readers.map((t) => t.id)} all ` +
      `read ${key} at version ${version ?? "(empty)"} and appended to it` });
  }

  // The dependency graph over transactions that committed or whose writes were seen.
  const edges = new Map<TxnInfo, Map<TxnInfo, Set<Dependency>>>();
  const addEdge = (from: TxnInfo, to: TxnInfo, kind: Dependency): void => {
    if (from === to || from.outcome === "fail" || to.outcome === "fail") return;
    const out = edges.get(from) ?? new Map<TxnInfo, Set<Dependency>>();
    edges.set(from, out);
    const kinds = out.get(to) ?? new Set<Dependency>();
    out.set(to, kinds);
    kinds.add(kind);
  };
  for (const [key, versions] of order) {
    const writers = writerOf.get(key);
    for (let i = 0; i + 1 < versions.length; i++) {
      const a = writers?.get(versions[i] as number);
      const b = writers?.get(versions[i + 1] as number);
      if (a !== undefined && b !== undefined) addEdge(a, b, "ww");
    }
  }
  for (const read of reads) {
    const writers = writerOf.get(read.key);
    const last = read.list[read.list.length - 1];
    const writer = last === undefined ? undefined : writers?.get(last);
    if (writer !== undefined) addEdge(writer, read.txn, "wr");
    const versions = order.get(read.key) ?? [];
    if (!isPrefix(read.list, versions)) continue;
    const next = versions[read.list.length];
    const overwriter = next === undefined ? undefined : writers?.get(next);
    // A read of a writer's intermediate state is G1b, reported above, not a cycle.
    if (overwriter !== undefined && overwriter !== writer) addEdge(read.txn, overwriter, "rw");
  }
  anomalies.push(...findCycles(edges));

  const forbidden = new Set(options.forbidden ?? allAnomalies);
  return {
    valid: anomalies.every((anomaly) => !forbidden.has(anomaly.kind)),
    anomalies,
  };
}

type Graph = Map<TxnInfo, Map<TxnInfo, Set<Dependency>>>;

/**
 * Finds one cycle per strongly connected component, of the weakest class it contains:
 * a ww-only cycle (G0), else a ww/wr one (G1c), else one with a single rw edge (G-single),
 * else any (G2-item).
 */
function findCycles(graph: Graph): ListAppendAnomaly[] {
  const result: ListAppendAnomaly[] = [];
  for (const component of stronglyConnected(graph)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const only = (kinds: readonly Dependency[]) => (from: TxnInfo, to: TxnInfo): boolean =>
      members.has(to) && [...(graph.get(from)?.get(to) ?? [])].some((k) => kinds.includes(k));
    const g0 = cycleWith(component, graph, only(["ww"]));
    if (g0 !== undefined) {
      result.push(cycleAnomaly("G0", g0, graph, ["ww"]));
      continue;
    }
    const g1c = cycleWith(component, graph, only(["ww", "wr"]));
    if (g1c !== undefined) {
      result.push(cycleAnomaly("G1c", g1c, graph, ["ww", "wr"]));
      continue;
    }
    // G-single: one rw edge a -> b closed by a ww/wr path from b back to a.
    let single: TxnInfo[] | undefined;
    for (const a of component) {
      for (const [b, kinds] of graph.get(a) ?? []) {
        if (single !== undefined || !members.has(b) || !kinds.has("rw")) continue;
        const back = path(b, a, graph, only(["ww", "wr"]));
        if (back !== undefined) single = [a, ...back.slice(0, -1)];
      }
    }
    if (single !== undefined) {
      result.push(cycleAnomaly("G-single", single, graph, ["ww", "wr", "rw"]));
      continue;
    }
    const any = cycleWith(component, graph, only(["ww", "wr", "rw"])) as TxnInfo[];
    result.push(cycleAnomaly("G2-item", any, graph, ["ww", "wr", "rw"]));
  }
  return result;
}

function cycleAnomaly(
  kind: AnomalyKind,
  cycle: readonly TxnInfo[],
  graph: Graph,
  preferred: readonly Dependency[],
): ListAppendAnomaly {
  const steps = cycle.map((txn, i) => {
    const next = cycle[(i + 1) % cycle.length] as TxnInfo;
    const kinds = graph.get(txn)?.get(next) ?? new Set<Dependency>();
    // Name the weakest edge that closes the cycle in its class (rw last).
    const edge = preferred.find((k) => k !== "rw" && kinds.has(k)) ?? "rw";
    return { txn: txn.id, edge };
  });
  const text = steps.map((s) => `T${s.txn} -${s.edge}->`).join(" ") + ` T${steps[0]?.txn}`;
  return { kind, message: `${kind} cycle: ${text}`, cycle: steps };
}

/** A cycle among `nodes` using only edges `allowed` accepts, or undefined. */
function cycleWith(
  nodes: readonly TxnInfo[],
  graph: Graph,
  allowed: (from: TxnInfo, to: TxnInfo) => boolean,
): TxnInfo[] | undefined {
  for (const start of nodes) {
    for (const next of graph.get(start)?.keys() ?? []) {
      if (!allowed(start, next)) continue;
      const back = path(next, start, graph, allowed);
      if (back !== undefined) return [start, ...back.slice(0, -1)];
    }
  }
  return undefined;
}

/** The shortest path from `from` to `to` (both included) over allowed edges (BFS). */
function path(
  from: TxnInfo,
  to: TxnInfo,
  graph: Graph,
  allowed: (a: TxnInfo, b: TxnInfo) => boolean,
): TxnInfo[] | undefined {
  const parent = new Map<TxnInfo, TxnInfo | undefined>([[from, undefined]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as TxnInfo;
    if (node === to) {
      const result: TxnInfo[] = [];
      for (let at: TxnInfo | undefined = node; at !== undefined; at = parent.get(at)) {
        result.unshift(at);
      }
      return result;
    }
    for (const next of graph.get(node)?.keys() ?? []) {
      if (parent.has(next) || !allowed(node, next)) continue;
      parent.set(next, node);
      queue.push(next);
    }
  }
  return undefined;
}

/** Tarjan's strongly connected components, iteratively (histories can be long). */
function stronglyConnected(graph: Graph): TxnInfo[][] {
  const nodes = new Set<TxnInfo>();
  for (const [from, out] of graph) {
    nodes.add(from);
    for (const to of out.keys()) nodes.add(to);
  }
  const index = new Map<TxnInfo, number>();
  const low = new Map<TxnInfo, number>();
  const onStack = new Set<TxnInfo>();
  const stack: TxnInfo[] = [];
  const components: TxnInfo[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: TxnInfo; next: Iterator<TxnInfo> }[] = [];
    const enter = (node: TxnInfo): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: (graph.get(node)?.keys() ?? [].values())[Symbol.iterator]() });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: TxnInfo; next: Iterator<TxnInfo> };
      const step = frame.next.next();
      if (!step.done) {
        const to = step.value;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(to) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node) as number,
          low.get(frame.node) as number));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: TxnInfo[] = [];
        for (;;) {
          const member = stack.pop() as TxnInfo;
          onStack.delete(member);
          component.push(member);
          if (member === frame.node) break;
        }
        components.push(component);
      }
    }
  }
  return components;
}

function isPrefix(prefix: readonly number[], of: readonly number[]): boolean {
  return prefix.length <= of.length && prefix.every((element, i) => of[i] === element);
}
