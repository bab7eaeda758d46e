/**
 * A randomized, deterministic cluster harness for the Raft library (test support; pure).
 *
 * One `Prng` seed drives everything: N peers exchange messages over a simulated network
 * that drops, delays, duplicates and reorders them; peers are partitioned, stalled (not
 * scheduled: no ticks, no message handling, as a loaded machine does) and crashed and
 * restarted, losing everything not persisted. The harness acts as a correct host: it
 * persists each `Ready` before sending its messages, applies committed entries to a
 * digest state machine, snapshots and compacts logs, changes membership, transfers
 * leadership, and issues ReadIndex and lease reads. After every event it checks:
 * - election safety: at most one leader per term;
 * - log matching: two persisted entries with the same index and term have the same
 *   payload and the same predecessor term (so, inductively, identical prefixes);
 * - leader completeness: a new leader holds every entry committed in earlier terms;
 * - state machine safety: every peer applies the same entry (and reaches the same
 *   digest) at each index, and only committed entries;
 * - linearizable reads: a ReadIndex or lease read point covers every entry known
 *   committed anywhere when the read started;
 * - liveness at the end: once faults stop, the group commits and applies a new entry.
 * Bugs can be injected (`HarnessBugs`) to show that these checks catch them.
 */
import { Prng, assert, peerId } from "../base/mod.ts";
import type { PeerId } from "../base/mod.ts";
import type { RaftOptions } from "./config.ts";
import { defaultRaftOptions } from "./config.ts";
import type { RaftBugs } from "./raft.ts";
import { RawNode } from "./raw_node.ts";
import type { Ready } from "./raw_node.ts";
import { MemoryStorage } from "./storage.ts";
import type { ConfChange, ConfState, Entry, Message, Snapshot } from "./types.ts";

/** Host-level deviations that a correct host never makes. */
export interface HarnessBugs {
  /** Persist hard states without the vote: a restarted peer may vote twice in a term. */
  readonly forgetVote?: boolean;
  /** Send a Ready's messages before persisting it (acknowledging what is not durable). */
  readonly sendBeforePersist?: boolean;
  /** Core deviations injected into every peer. */
  readonly raft?: RaftBugs;
  /** Grant leases this much longer than the configuration allows. */
  readonly leaseExtraMs?: number;
}

/** What one randomized run does. */
export interface HarnessOptions {
  readonly seed: number;
  /** Events (message deliveries and ticks) to simulate before the liveness phase. */
  readonly steps: number;
  /** Founding voters (ids 1..n). Spare ids up to `peersMax` join through conf changes. */
  readonly voters?: number;
  readonly peersMax?: number;
  readonly membershipChanges?: boolean;
  readonly bugs?: HarnessBugs;
  /** Keep the last events for the failure report. */
  readonly traceEvents?: number;
}

/** Counters of one run, to see that the faults and features were exercised. */
export interface HarnessStats {
  events: number;
  elections: number;
  committed: number;
  applied: number;
  readIndexServed: number;
  leaseReadsServed: number;
  snapshotsInstalled: number;
  confChanges: number;
  crashes: number;
  partitions: number;
  stalls: number;
  transfers: number;
  hibernations: number;
  messagesDropped: number;
}

export type HarnessResult =
  | { readonly ok: true; readonly stats: HarnessStats }
  | {
      readonly ok: false;
      readonly violation: string;
      readonly event: number;
      readonly trace: readonly string[];
      readonly stats: HarnessStats;
    };

/** Simulation timing: 10 ms ticks, elections after 100–200 ms, heartbeats every 20 ms. */
export const simRaftOptions: RaftOptions = {
  ...defaultRaftOptions,
  electionTicks: 10,
  heartbeatTicks: 2,
  tickIntervalMs: 10,
  maxClockDriftMs: 5,
  hibernateIdleTicks: 6,
  messageEntriesMax: 8,
  messageEntriesBytesMax: 512,
  inflightMessagesMax: 4,
};

/** Steps per seed in CI: ~20 ms of CPU per seed here, ~25 s for all 1,000 CI seeds. */
const staticSteps = 6_000;
const membershipSteps = 8_000;

/**
 * The options the CI and long runs use for a seed: every third seed changes membership
 * (from 3 founding voters), the others run 3 voters (odd seeds) or 5 (even seeds).
 */
export function seedOptions(seed: number, stepsScale = 1): HarnessOptions {
  const membership = seed % 3 === 0;
  return {
    seed,
    steps: Math.round((membership ? membershipSteps : staticSteps) * stepsScale),
    voters: membership ? 3 : seed % 2 === 1 ? 3 : 5,
    membershipChanges: membership,
  };
}

class Violation extends Error {
  override readonly name = "Violation";
}

interface InFlight {
  readonly atMs: number;
  readonly seq: number;
  readonly message: Message;
  readonly senderIncarnation: number;
  /** Lost on the way: delivery only reports the failure to a snapshot's sender. */
  readonly lost: boolean;
}

interface StateMachine {
  appliedIndex: number;
  digest: number;
}

interface SimPeer {
  readonly id: PeerId;
  storage: MemoryStorage;
  node: RawNode | null;
  sm: StateMachine;
  incarnation: number;
  nextTickMs: number;
  stalledUntilMs: number;
  restartAtMs: number;
  group: number;
  checkedCommitIndex: number;
  removed: boolean;
}

interface PendingRead {
  readonly peer: PeerId;
  readonly incarnation: number;
  readonly minIndex: number;
}

/** Runs one seed; never throws for a Raft violation (it is reported in the result). */
export function runHarness(options: HarnessOptions): HarnessResult {
  const sim = new ClusterSim(options);
  try {
    sim.run();
    return { ok: true, stats: sim.stats };
  } catch (error: unknown) {
    if (error instanceof Error) {
      // Violations of the checked properties, and assertion failures inside the library.
      return {
        ok: false,
        violation: `${error.name}: ${error.message}`,
        event: sim.stats.events,
        trace: sim.trace,
        stats: sim.stats,
      };
    }
    throw error;
  }
}

class ClusterSim {
  readonly stats: HarnessStats = {
    events: 0,
    elections: 0,
    committed: 0,
    applied: 0,
    readIndexServed: 0,
    leaseReadsServed: 0,
    snapshotsInstalled: 0,
    confChanges: 0,
    crashes: 0,
    partitions: 0,
    stalls: 0,
    transfers: 0,
    hibernations: 0,
    messagesDropped: 0,
  };
  readonly trace: string[] = [];
  private readonly options: HarnessOptions;
  private readonly prng: Prng;
  private readonly bugs: HarnessBugs;
  private readonly peers = new Map<PeerId, SimPeer>();
  private network: InFlight[] = [];
  private nowMs = 0;
  private seq = 0;
  private nextProposal = 1;
  private nextRead = 1;
  private readonly pendingReads = new Map<string, PendingRead>();
  private faultsOn = true;
  private dropRate = 0.05;
  private duplicateRate = 0.03;
  private delayMsMax = 12;
  // Checker state.
  private readonly leaderOfTerm = new Map<number, PeerId>();
  private readonly committedTerm: number[] = [];
  private readonly committedInTerm: number[] = [];
  private committedMax = 0;
  private readonly appliedDigest: number[] = [];
  private readonly entryIdentity = new Map<string, string>();

  constructor(options: HarnessOptions) {
    this.options = options;
    this.prng = new Prng(options.seed);
    this.bugs = options.bugs ?? {};
    const voters = options.voters ?? 3;
    const peersMax = options.peersMax ?? (options.membershipChanges === true ? 6 : voters);
    const conf: ConfState = {
      voters: range(1, voters),
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    };
    for (let i = 1; i <= peersMax; i++) {
      const id = peerId(i);
      const storage =
        i <= voters ? MemoryStorage.bootstrap(conf, encodeSm(1, 0)) : new MemoryStorage();
      const peer: SimPeer = {
        id,
        storage,
        node: null,
        sm: { appliedIndex: 0, digest: 0 },
        incarnation: 0,
        nextTickMs: this.prng.nextInt(10),
        stalledUntilMs: 0,
        restartAtMs: 0,
        group: 0,
        checkedCommitIndex: 0,
        removed: false,
      };
      this.peers.set(id, peer);
      this.start(peer);
    }
    this.appliedDigest[1] = 0;
  }

  run(): void {
    for (let i = 0; i < this.options.steps; i++) {
      this.stepOnce();
      this.chaos();
    }
    this.livenessPhase();
  }

  // ---- Event loop --------------------------------------------------------------------

  private stepOnce(): void {
    this.stats.events++;
    let tickPeer: SimPeer | null = null;
    for (const p of this.peers.values()) {
      if (p.node === null) continue;
      if (tickPeer === null || p.nextTickMs < tickPeer.nextTickMs) tickPeer = p;
    }
    const first = this.network[0];
    if (first !== undefined && (tickPeer === null || first.atMs <= tickPeer.nextTickMs)) {
      this.network.shift();
      this.nowMs = Math.max(this.nowMs, first.atMs);
      this.deliver(first);
    } else if (tickPeer !== null) {
      this.nowMs = Math.max(this.nowMs, tickPeer.nextTickMs);
      if (tickPeer.stalledUntilMs > this.nowMs) {
        // A stalled process misses its ticks; it does not replay them later.
        tickPeer.nextTickMs = tickPeer.stalledUntilMs;
      } else {
        tickPeer.nextTickMs = this.nowMs + simRaftOptions.tickIntervalMs;
        this.note(`${tickPeer.id} tick`);
        (tickPeer.node as RawNode).tick(this.nowMs);
        this.processReady(tickPeer);
      }
    } else {
      this.nowMs += 10;
    }
    for (const p of this.peers.values()) {
      if (p.node === null && p.restartAtMs <= this.nowMs) this.start(p);
    }
    this.checkElectionSafety();
  }

  private deliver(f: InFlight): void {
    const m = f.message;
    const to = this.peers.get(m.to);
    const from = this.peers.get(m.from);
    if (to === undefined || from === undefined) return;
    const lost = f.lost || to.node === null || (this.faultsOn && from.group !== to.group);
    if (lost) {
      this.stats.messagesDropped++;
      this.reportSnapshotOutcome(f, false);
      return;
    }
    if (to.stalledUntilMs > this.nowMs) {
      // Queued in the socket until the process runs again.
      this.enqueue(m, to.stalledUntilMs + this.prng.nextInt(3), f.senderIncarnation, false);
      return;
    }
    this.note(`deliver ${describeMessage(m)}`);
    (to.node as RawNode).step(m);
    this.processReady(to);
    this.reportSnapshotOutcome(f, true);
  }

  private reportSnapshotOutcome(f: InFlight, succeeded: boolean): void {
    if (f.message.kind !== "snapshot") return;
    const from = this.peers.get(f.message.from);
    if (from === undefined || from.node === null || from.incarnation !== f.senderIncarnation) {
      return;
    }
    from.node.reportSnapshot(f.message.to, { succeeded });
    this.processReady(from);
  }

  private send(from: SimPeer, m: Message): void {
    const delay = 1 + this.prng.nextInt(this.delayMsMax);
    if (this.faultsOn && this.prng.nextBool(this.dropRate)) {
      // Only a snapshot's loss is noticed (by its sender's transport); others vanish.
      if (m.kind === "snapshot") this.enqueue(m, this.nowMs + delay, from.incarnation, true);
      else this.stats.messagesDropped++;
      return;
    }
    this.enqueue(m, this.nowMs + delay, from.incarnation, false);
    if (this.faultsOn && this.prng.nextBool(this.duplicateRate)) {
      const later = this.nowMs + 1 + this.prng.nextInt(this.delayMsMax * 3);
      this.enqueue(m, later, from.incarnation, false);
    }
  }

  private enqueue(message: Message, atMs: number, senderIncarnation: number, lost: boolean): void {
    const f: InFlight = { atMs, seq: this.seq++, message, senderIncarnation, lost };
    // Binary insertion keeps delivery order by time, then by send order.
    let lo = 0;
    let hi = this.network.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const g = this.network[mid] as InFlight;
      if (g.atMs < atMs || (g.atMs === atMs && g.seq < f.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.network.splice(lo, 0, f);
  }

  // ---- The host's Ready loop -----------------------------------------------------------

  private processReady(peer: SimPeer): void {
    for (let rounds = 0; peer.node !== null && peer.node.hasReady(); rounds++) {
      assert(rounds < 1000, "Ready loop does not settle");
      const node = peer.node;
      const rd = node.ready();
      if (this.bugs.sendBeforePersist === true) {
        this.sendAll(peer, rd);
        if (this.faultsOn && this.prng.nextBool(0.05)) {
          this.crash(peer, "after send, before persist");
          return;
        }
      }
      if (this.faultsOn && this.prng.nextBool(0.002)) {
        this.crash(peer, "before persist");
        return;
      }
      this.persist(peer, rd);
      if (this.faultsOn && this.prng.nextBool(0.002)) {
        this.crash(peer, "after persist, before send");
        return;
      }
      if (this.bugs.sendBeforePersist !== true) this.sendAll(peer, rd);
      this.apply(peer, node, rd);
      node.advance(rd);
      if (rd.softState?.hibernating === true) this.stats.hibernations++;
    }
  }

  private sendAll(peer: SimPeer, rd: Ready): void {
    for (const m of rd.messages) this.send(peer, m);
  }

  private persist(peer: SimPeer, rd: Ready): void {
    const storage = peer.storage;
    if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      storage.append(rd.entries);
      for (const e of rd.entries) this.checkLogMatching(peer, e);
    }
    if (rd.hardState !== null) {
      const hs = rd.hardState;
      storage.setHardState(this.bugs.forgetVote === true ? { ...hs, vote: null } : hs);
      this.recordCommits(peer, hs.commitIndex, hs.term);
    }
    if (rd.softState !== null && rd.softState.role === "leader") {
      this.stats.elections++;
      this.checkLeaderCompleteness(peer);
    }
  }

  private apply(peer: SimPeer, node: RawNode, rd: Ready): void {
    if (rd.snapshot !== null) {
      this.stats.snapshotsInstalled++;
      const sm = decodeSm(rd.snapshot.data);
      this.check(sm.appliedIndex === rd.snapshot.metadata.index, "snapshot index mismatch");
      this.checkDigest(peer, sm.appliedIndex, sm.digest);
      peer.sm = sm;
    }
    let confChanged = false;
    for (const e of rd.committedEntries) {
      if (e.index <= peer.sm.appliedIndex) continue;
      this.check(
        e.index === peer.sm.appliedIndex + 1,
        `peer ${peer.id} applies ${e.index} after ${peer.sm.appliedIndex}`,
      );
      this.check(
        this.committedTerm[e.index] === e.term,
        `peer ${peer.id} applies ${e.index}@${e.term}, committed term is ` +
          `${this.committedTerm[e.index]}`,
      );
      const digest = mix(peer.sm.digest, e);
      this.checkDigest(peer, e.index, digest);
      peer.sm = { appliedIndex: e.index, digest };
      this.stats.applied++;
      this.recordApplied(peer.id, e);
      if (e.kind === "confChange") {
        const conf = node.applyConfChange(e.change);
        this.note(`${peer.id} applied conf ${describeConf(conf)}`);
        confChanged = true;
        if (!confIncludes(conf, peer.id)) peer.removed = true;
      }
    }
    for (const rs of rd.readStates) {
      const read = this.pendingReads.get(rs.context);
      if (read === undefined) continue;
      this.pendingReads.delete(rs.context);
      this.check(
        rs.readIndex >= read.minIndex,
        `ReadIndex ${rs.context} at ${peer.id} returned ${rs.readIndex}, but ` +
          `${read.minIndex} was committed when it started`,
      );
      this.stats.readIndexServed++;
    }
    if (confChanged) this.pendingSnapshot.add(peer.id);
  }

  private readonly pendingSnapshot = new Set<PeerId>();

  // ---- Checks ------------------------------------------------------------------------

  private check(condition: boolean, message: string): void {
    if (!condition) throw new Violation(message);
  }

  private checkElectionSafety(): void {
    for (const p of this.peers.values()) {
      if (p.node === null) continue;
      const s = p.node.status();
      if (s.role !== "leader") continue;
      const known = this.leaderOfTerm.get(s.term);
      if (known === undefined) this.leaderOfTerm.set(s.term, p.id);
      else this.check(known === p.id, `two leaders in term ${s.term}: ${known} and ${p.id}`);
    }
  }

  private checkLogMatching(peer: SimPeer, e: Entry): void {
    const prevTerm = peer.storage.term(e.index - 1);
    const key = `${e.index}@${e.term}`;
    const identity = `${prevTerm ?? "?"}|${payloadKey(e)}`;
    const known = this.entryIdentity.get(key);
    if (known === undefined) {
      this.entryIdentity.set(key, identity);
      return;
    }
    const [knownPrev, knownPayload] = known.split("|");
    const [prev, payload] = identity.split("|");
    this.check(
      knownPayload === payload && (knownPrev === "?" || prev === "?" || knownPrev === prev),
      `log matching: entry ${key} at peer ${peer.id} is ${identity}, elsewhere ${known}`,
    );
  }

  private recordCommits(peer: SimPeer, commitIndex: number, term: number): void {
    const storage = peer.storage;
    for (let i = peer.checkedCommitIndex + 1; i <= commitIndex; i++) {
      this.check(i <= storage.lastIndex(), `peer ${peer.id} commits ${i} past its log`);
      const t = storage.term(i);
      if (t === null) continue; // Compacted: covered by a snapshot of committed state.
      const known = this.committedTerm[i];
      if (known === undefined) {
        this.committedTerm[i] = t;
        this.committedInTerm[i] = term;
        this.stats.committed++;
      } else {
        this.check(
          known === t,
          `committed entry ${i} changed: term ${known} before, ${t} at peer ${peer.id}`,
        );
      }
      if (i > this.committedMax) this.committedMax = i;
    }
    peer.checkedCommitIndex = Math.max(peer.checkedCommitIndex, commitIndex);
  }

  private checkLeaderCompleteness(peer: SimPeer): void {
    const s = (peer.node as RawNode).status();
    const storage = peer.storage;
    for (let i = storage.firstIndex(); i <= this.committedMax; i++) {
      const committedIn = this.committedInTerm[i];
      if (committedIn === undefined || committedIn >= s.term) continue;
      this.check(
        i <= storage.lastIndex() && storage.term(i) === this.committedTerm[i],
        `leader ${peer.id} of term ${s.term} lacks committed entry ${i}@${this.committedTerm[i]}`,
      );
    }
  }

  private checkDigest(peer: SimPeer, index: number, digest: number): void {
    const known = this.appliedDigest[index];
    if (known === undefined) this.appliedDigest[index] = digest;
    else {
      this.check(
        known === digest,
        `state machines diverge at ${index}: peer ${peer.id} has ${digest}, others ${known}`,
      );
    }
  }

  // ---- Faults and client actions ------------------------------------------------------

  private chaos(): void {
    const p = this.prng;
    const live = [...this.peers.values()].filter((x) => x.node !== null);
    if (live.length === 0) return;
    const leaders = live.filter((x) => (x.node as RawNode).status().role === "leader");
    const leader = leaders.length > 0 ? p.pick(leaders) : null;
    if (p.nextBool(0.06)) {
      const target = leader !== null && p.nextBool(0.8) ? leader : p.pick(live);
      this.propose(target);
    }
    if (p.nextBool(0.015)) {
      const target = leader !== null && p.nextBool(0.7) ? leader : p.pick(live);
      if (target.node === null) return;
      const context = `r${this.nextRead++}`;
      this.pendingReads.set(context, {
        peer: target.id,
        incarnation: target.incarnation,
        minIndex: this.committedMax,
      });
      this.note(`${target.id} readIndex ${context} (min ${this.committedMax})`);
      (target.node as RawNode).readIndex(context);
      this.processReady(target);
    }
    // An action above may have crashed a peer (crashes also strike inside Ready loops).
    if (leader !== null && leader.node === null) return;
    if (leader !== null && leader.stalledUntilMs <= this.nowMs && p.nextBool(0.03)) {
      this.leaseRead(leader);
    }
    if (p.nextBool(0.01)) {
      const target = p.pick(live);
      if (target.node !== null) this.snapshotAndCompact(target);
    }
    for (const id of this.pendingSnapshot) {
      const peer = this.peers.get(id) as SimPeer;
      if (peer.node !== null) this.snapshotAndCompact(peer);
    }
    this.pendingSnapshot.clear();
    if (!this.faultsOn || (leader !== null && leader.node === null)) return;
    if (p.nextBool(0.002)) this.crash(p.pick(live), "chaos");
    if (p.nextBool(0.002)) this.partition();
    if (p.nextBool(0.003)) this.heal();
    if (p.nextBool(0.002)) {
      const target = p.pick(live);
      target.stalledUntilMs = this.nowMs + 20 + p.nextInt(300);
      this.stats.stalls++;
      this.note(`${target.id} stalls until ${target.stalledUntilMs}`);
    }
    if (leader !== null && leader.node !== null && p.nextBool(0.002)) {
      const voters = (leader.node as RawNode).status().confState.voters;
      const to = p.pick(voters);
      this.stats.transfers++;
      this.note(`${leader.id} transfer leadership to ${to}`);
      (leader.node as RawNode).transferLeader(to);
      this.processReady(leader);
    }
    if (leader?.node != null && this.options.membershipChanges === true && p.nextBool(0.004)) {
      this.changeMembership(leader);
    }
  }

  private propose(target: SimPeer): void {
    if (target.node === null) return;
    const id = this.nextProposal++;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, id, true);
    const result = (target.node as RawNode).propose(data);
    this.note(`${target.id} propose #${id}: ${result.kind}`);
    this.processReady(target);
  }

  private leaseRead(leader: SimPeer): void {
    const node = leader.node as RawNode;
    const now = this.nowMs - (this.bugs.leaseExtraMs ?? 0);
    const result = node.leaseRead(now);
    if (result.kind !== "ok") return;
    this.stats.leaseReadsServed++;
    this.note(`${leader.id} lease read at ${result.readIndex}`);
    this.check(
      result.readIndex >= this.committedMax,
      `lease read at ${leader.id} (term ${node.status().term}) returned ${result.readIndex}, ` +
        `but ${this.committedMax} is committed`,
    );
  }

  private snapshotAndCompact(peer: SimPeer): void {
    const node = peer.node as RawNode;
    const s = node.status();
    const snap: Snapshot | null = peer.storage.snapshot();
    const snapIndex = snap === null ? 0 : snap.metadata.index;
    if (peer.sm.appliedIndex <= snapIndex || s.appliedIndex !== peer.sm.appliedIndex) return;
    peer.storage.createSnapshot(
      peer.sm.appliedIndex,
      s.confState,
      encodeSm(peer.sm.appliedIndex, peer.sm.digest),
    );
    const keep = this.prng.nextInt(4);
    peer.storage.compact(Math.max(peer.sm.appliedIndex - keep, peer.storage.firstIndex() - 1));
    this.note(`${peer.id} snapshot at ${peer.sm.appliedIndex}, compact`);
  }

  private changeMembership(leader: SimPeer): void {
    const p = this.prng;
    const status = (leader.node as RawNode).status();
    const conf = status.confState;
    // Like PD, promote only a learner that has caught up: promoting an empty peer makes
    // the group depend on a voter that cannot vote yet.
    const caughtUp = conf.learners.filter((l) => {
      const pr = status.progress.get(l);
      return pr !== undefined && pr.state === "replicate" && pr.matchIndex >= status.commitIndex;
    });
    const members = new Set([...conf.voters, ...conf.learners]);
    const spare = [...this.peers.values()].filter(
      (x) => !members.has(x.id) && !x.removed && x.node !== null,
    );
    const choices: ConfChange[] = [];
    for (const s of spare) {
      choices.push({ changes: [{ op: "addLearner", peer: s.id }], transition: "auto" });
    }
    for (const l of conf.learners) {
      choices.push({ changes: [{ op: "removePeer", peer: l }], transition: "auto" });
    }
    for (const l of caughtUp) {
      choices.push({ changes: [{ op: "addVoter", peer: l }], transition: "auto" });
    }
    if (conf.voters.length > 3) {
      for (const v of conf.voters) {
        if (v !== leader.id) {
          choices.push({ changes: [{ op: "removePeer", peer: v }], transition: "auto" });
        }
      }
    }
    // Replace a voter by a learner through a joint configuration.
    for (const l of caughtUp) {
      for (const v of conf.voters) {
        if (v === leader.id) continue;
        choices.push({
          changes: [
            { op: "addVoter", peer: l },
            { op: "removePeer", peer: v },
          ],
          transition: "auto",
        });
      }
    }
    if (choices.length === 0) return;
    const change = p.pick(choices);
    const result = (leader.node as RawNode).proposeConfChange(change);
    this.note(`${leader.id} propose conf ${JSON.stringify(change.changes)}: ${result.kind}`);
    if (result.kind === "ok") this.stats.confChanges++;
    this.processReady(leader);
  }

  private crash(peer: SimPeer, why: string): void {
    if (peer.node === null) return;
    this.stats.crashes++;
    this.note(`${peer.id} crashes (${why})`);
    peer.node = null;
    peer.restartAtMs = this.nowMs + 30 + this.prng.nextInt(400);
    peer.stalledUntilMs = 0;
    // The surviving stores notice through store liveness and wake their groups.
    this.wakeAll();
  }

  private start(peer: SimPeer): void {
    const snap = peer.storage.snapshot();
    const snapIndex = snap === null ? 0 : snap.metadata.index;
    peer.sm = snapIndex === 0 ? { appliedIndex: 0, digest: 0 } : decodeSm((snap as Snapshot).data);
    peer.incarnation++;
    const node = new RawNode({
      ...simRaftOptions,
      id: peer.id,
      storage: peer.storage,
      prng: this.prng.fork(),
      appliedIndex: snapIndex,
    });
    if (this.bugs.raft !== undefined) node.injectBugs(this.bugs.raft);
    peer.node = node;
    peer.checkedCommitIndex = Math.min(peer.checkedCommitIndex, snapIndex);
    this.note(`${peer.id} starts (incarnation ${peer.incarnation})`);
  }

  private partition(): void {
    this.stats.partitions++;
    for (const p of this.peers.values()) p.group = this.prng.nextInt(2);
    this.note(`partition ${[...this.peers.values()].map((p) => `${p.id}:${p.group}`).join(" ")}`);
    this.wakeAll();
  }

  private heal(): void {
    for (const p of this.peers.values()) p.group = 0;
    this.note("heal");
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const p of this.peers.values()) {
      if (p.node !== null && p.node.isHibernating()) {
        p.node.wake();
        this.processReady(p);
      }
    }
  }

  /** Faults stop; within a bounded time the group must commit and apply a new entry. */
  private livenessPhase(): void {
    this.faultsOn = false;
    this.heal();
    for (const p of this.peers.values()) {
      p.stalledUntilMs = 0;
      if (p.node === null) this.start(p);
    }
    this.wakeAll();
    const deadline = this.nowMs + 5_000;
    let proposed: number | null = null;
    let lastTry = -1;
    while (this.nowMs < deadline) {
      this.stepOnce();
      const leader = [...this.peers.values()].find(
        (p) => p.node !== null && p.node.status().role === "leader",
      );
      if (leader === undefined) continue;
      if (proposed === null || this.nowMs - lastTry > 500) {
        proposed = this.nextProposal;
        lastTry = this.nowMs;
        this.propose(leader);
      }
      const target = proposed;
      const conf = (leader.node as RawNode).status().confState;
      const done = conf.voters.every((v) => {
        const p = this.peers.get(v) as SimPeer;
        return p.sm.appliedIndex > 0 && this.appliedProposal(p, target);
      });
      if (done) return;
    }
    throw new Violation("liveness: no entry committed and applied 5 s after faults stopped");
  }

  private appliedProposal(peer: SimPeer, proposal: number): boolean {
    const last = this.appliedIds.get(peer.id);
    return last !== undefined && last >= proposal;
  }

  private readonly appliedIds = new Map<PeerId, number>();

  private note(event: string): void {
    const limit = this.options.traceEvents ?? 0;
    if (limit === 0) return;
    this.trace.push(`${this.nowMs}ms ${event}`);
    if (this.trace.length > limit) this.trace.shift();
  }

  /** Records the newest proposal id each peer applied (for the liveness check). */
  recordApplied(peer: PeerId, e: Entry): void {
    if (e.kind === "normal" && e.data.length === 4) {
      const id = new DataView(e.data.buffer, e.data.byteOffset).getUint32(0, true);
      this.appliedIds.set(peer, Math.max(this.appliedIds.get(peer) ?? 0, id));
    }
  }
}

function range(lo: number, hi: number): PeerId[] {
  const out: PeerId[] = [];
  for (let i = lo; i <= hi; i++) out.push(peerId(i));
  return out;
}

function confIncludes(conf: ConfState, id: PeerId): boolean {
  return (
    conf.voters.includes(id) ||
    conf.votersOutgoing.includes(id) ||
    conf.learners.includes(id) ||
    conf.learnersNext.includes(id)
  );
}

function payloadKey(e: Entry): string {
  if (e.kind === "confChange") return `conf${JSON.stringify(e.change.changes)}`;
  if (e.data.length === 0) return "empty";
  return `#${new DataView(e.data.buffer, e.data.byteOffset).getUint32(0, true)}`;
}

function mix(digest: number, e: Entry): number {
  const key = payloadKey(e);
  let h = (digest ^ Math.imul(e.index, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function encodeSm(appliedIndex: number, digest: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, appliedIndex, true);
  view.setUint32(4, digest, true);
  return out;
}

function decodeSm(data: Uint8Array): StateMachine {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { appliedIndex: view.getUint32(0, true), digest: view.getUint32(4, true) };
}

function describeConf(conf: ConfState): string {
  const out = `voters=(${conf.voters.join(",")})`;
  const outgoing = conf.votersOutgoing.length > 0 ? `&&(${conf.votersOutgoing.join(",")})` : "";
  const learners = conf.learners.length > 0 ? ` learners=(${conf.learners.join(",")})` : "";
  return out + outgoing + learners;
}

/** A one-line description of a message, for traces. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.kind} term=${m.term}`;
  switch (m.kind) {
    case "vote":
    case "preVote":
      return `${head} last=${m.lastLogIndex}@${m.lastLogTerm}${m.transfer ? " transfer" : ""}`;
    case "voteResponse":
    case "preVoteResponse":
      return `${head}${m.reject ? " reject" : ""}`;
    case "append": {
      const ents = m.entries.map((e) => `${e.index}@${e.term}`).join(",");
      return `${head} prev=${m.prevLogIndex}@${m.prevLogTerm} commit=${m.commitIndex} [${ents}]`;
    }
    case "appendResponse":
      return m.reject
        ? `${head} reject=${m.rejectedIndex} hint=${m.hintIndex}@${m.hintTerm}`
        : `${head} match=${m.matchIndex}`;
    case "heartbeat":
      return `${head} commit=${m.commitIndex} round=${m.round}`;
    case "heartbeatResponse":
      return `${head} round=${m.round}`;
    case "snapshot":
      return `${head} snapshot=${m.snapshot.metadata.index}@${m.snapshot.metadata.term}`;
    case "timeoutNow":
      return head;
    case "readIndex":
      return `${head} ctx=${m.context}`;
    case "readIndexResponse":
      return `${head} ctx=${m.context} index=${m.readIndex}`;
    case "hibernate":
      return `${head} last=${m.lastIndex}@${m.lastTerm} commit=${m.commitIndex}`;
    case "hibernateResponse":
      return `${head} last=${m.lastIndex}${m.ok ? " ok" : " refused"}`;
  }
}
