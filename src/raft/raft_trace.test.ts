/**
 * Table-driven trace tests of the Raft library: each file in `testdata/` is a list of
 * directives (`add-nodes`, `campaign`, `tick`, `propose`, `stabilize` …), each followed by
 * `----` and the expected printed story (Readys handled, messages delivered, state). The
 * test replays the directives on real `RawNode`s over a lossless in-memory mailbox and
 * compares the output; run with `REWRITE=1` to regenerate the expected text after a
 * deliberate change (then review the diff: it is the behaviour change).
 *
 * Directives (`id` is a peer number):
 *   add-nodes <n> [voters=1,2,3] [learners=4] [prevote=bool] [checkquorum=bool]
 *             [lease=bool] [hibernate=bool]     founding peers 1..n (or listed ones)
 *   add-empty-node <id>                         a peer that will join (empty storage)
 *   campaign <id> | tick <id> [n] | advance-time <ms>
 *   propose <id> <text> | propose-conf-change <id> [auto|explicit] op:peer...
 *   read-index <id> <context> | lease-read <id> | transfer-leader <from> <to>
 *   stabilize [id...] | process-ready <id> | deliver-msgs <id> [drop]
 *   isolate <id> | recover | crash <id> | restart <id> | compact <id>
 *   status <id> | raft-log <id> | hibernating
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Prng, peerId } from "../base/mod.ts";
import type { PeerId } from "../base/mod.ts";
import { describeMessage, simRaftOptions } from "./raft_harness.ts";
import {
  MemoryStorage,
  RawNode,
  type ConfChange,
  type ConfChangeItem,
  type ConfState,
  type Entry,
  type Message,
  type RaftOptions,
  type Ready,
} from "./mod.ts";

const testdataDir = join(import.meta.dirname, "testdata");
const opts = { timeout: 60_000 };

interface Case {
  readonly comments: string[];
  readonly command: string;
  readonly expected: string;
}

function parseCases(text: string): Case[] {
  const lines = text.split("\n");
  const cases: Case[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === "") {
      i++;
      continue;
    }
    if (line.startsWith("#")) {
      comments.push(line);
      i++;
      continue;
    }
    const command = line;
    assert.equal(lines[i + 1], "----", `missing ---- after "${command}"`);
    i += 2;
    const out: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== "") out.push(lines[i++] as string);
    cases.push({ comments, command, expected: out.join("\n") });
    comments = [];
  }
  return cases;
}

function formatCases(cases: readonly { comments: string[]; command: string; output: string }[]) {
  return cases
    .map((c) => [...c.comments, c.command, "----", c.output].join("\n"))
    .join("\n\n")
    .concat("\n");
}

interface TracePeer {
  readonly id: PeerId;
  storage: MemoryStorage;
  node: RawNode | null;
  applied: string[];
  options: RaftOptions;
}

/** The interaction environment: peers, their mailboxes and a monotonic clock. */
class TraceEnv {
  private readonly peers = new Map<PeerId, TracePeer>();
  private readonly mailbox = new Map<PeerId, Message[]>();
  private readonly isolated = new Set<PeerId>();
  private readonly prng = new Prng(1);
  private nowMs = 0;
  private out: string[] = [];

  run(command: string): string {
    this.out = [];
    const [name, ...args] = command.split(/\s+/);
    const kv = new Map<string, string>();
    const positional: string[] = [];
    for (const a of args) {
      const eq = a.indexOf("=");
      if (eq > 0) kv.set(a.slice(0, eq), a.slice(eq + 1));
      else positional.push(a);
    }
    const id = (k = 0): PeerId => peerId(Number(positional[k]));
    switch (name) {
      case "add-nodes":
        this.addNodes(Number(positional[0]), kv);
        break;
      case "add-empty-node":
        this.addPeer(id(), new MemoryStorage(), this.peers.values().next().value?.options);
        break;
      case "campaign":
        this.node(id()).campaign();
        break;
      case "tick": {
        const n = positional[1] === undefined ? 1 : Number(positional[1]);
        for (let i = 0; i < n; i++) {
          this.nowMs += simRaftOptions.tickIntervalMs;
          this.node(id()).tick(this.nowMs);
        }
        break;
      }
      case "advance-time":
        this.nowMs += Number(positional[0]);
        break;
      case "propose": {
        const r = this.node(id()).propose(new TextEncoder().encode(positional[1] ?? ""));
        this.print(r.kind === "ok" ? `ok index=${r.index}` : JSON.stringify(r));
        break;
      }
      case "propose-conf-change": {
        const transition = positional[1] === "explicit" ? "explicit" : "auto";
        const items = positional
          .slice(1)
          .filter((p) => p.includes(":"))
          .map((p): ConfChangeItem => {
            const [op, peer] = p.split(":");
            return { op: op as ConfChangeItem["op"], peer: peerId(Number(peer)) };
          });
        const change: ConfChange = { changes: items, transition };
        const r = this.node(id()).proposeConfChange(change);
        this.print(r.kind === "ok" ? `ok index=${r.index}` : JSON.stringify(r));
        break;
      }
      case "read-index":
        this.print(this.node(id()).readIndex(positional[1] ?? "").kind);
        break;
      case "lease-read": {
        const r = this.node(id()).leaseRead(this.nowMs);
        this.print(r.kind === "ok" ? `ok readIndex=${r.readIndex}` : `noLease: ${r.reason}`);
        break;
      }
      case "transfer-leader":
        this.node(id()).transferLeader(id(1));
        break;
      case "stabilize":
        this.stabilize(positional.map((p) => peerId(Number(p))));
        break;
      case "process-ready":
        this.processReady(this.peer(id()));
        break;
      case "deliver-msgs":
        this.deliver(id(), { drop: positional[1] === "drop" });
        break;
      case "isolate":
        this.isolated.add(id());
        break;
      case "recover":
        this.isolated.clear();
        break;
      case "crash":
        this.peer(id()).node = null;
        this.mailbox.delete(id());
        break;
      case "restart":
        this.startNode(this.peer(id()));
        break;
      case "compact": {
        const p = this.peer(id());
        const s = this.node(id()).status();
        p.storage.createSnapshot(s.appliedIndex, s.confState, new TextEncoder().encode(
          p.applied.join(","),
        ));
        p.storage.compact(s.appliedIndex);
        this.print(`snapshot and compact at ${s.appliedIndex}`);
        break;
      }
      case "status":
        this.printStatus(id());
        break;
      case "raft-log": {
        const p = this.peer(id());
        const first = p.storage.firstIndex();
        const last = p.storage.lastIndex();
        if (last < first) this.print(`log empty; snapshot at ${first - 1}`);
        for (const e of p.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) {
          this.print(describeEntry(e));
        }
        break;
      }
      case "hibernating":
        for (const p of this.peers.values()) {
          this.print(`${p.id}: ${p.node === null ? "down" : p.node.isHibernating()}`);
        }
        break;
      default:
        throw new Error(`unknown directive ${name}`);
    }
    return this.out.length === 0 ? "ok" : this.out.join("\n");
  }

  private addNodes(n: number, kv: Map<string, string>): void {
    const list = (key: string, fallback: number[]): PeerId[] =>
      (kv.get(key)?.split(",").map(Number) ?? fallback).map((x) => peerId(x));
    const voters = list("voters", Array.from({ length: n }, (_, i) => i + 1));
    const learners = list("learners", []);
    const flag = (key: string, fallback: boolean): boolean =>
      kv.has(key) ? kv.get(key) === "true" : fallback;
    const options: RaftOptions = {
      ...simRaftOptions,
      preVote: flag("prevote", true),
      checkQuorum: flag("checkquorum", true),
      leaseReads: flag("lease", true),
      hibernate: flag("hibernate", false),
    };
    const conf: ConfState = {
      voters,
      votersOutgoing: [],
      learners,
      learnersNext: [],
      autoLeave: false,
    };
    for (const id of [...voters, ...learners]) {
      this.addPeer(id, MemoryStorage.bootstrap(conf), options);
    }
  }

  private addPeer(id: PeerId, storage: MemoryStorage, options: RaftOptions | undefined): void {
    const p: TracePeer = {
      id,
      storage,
      node: null,
      applied: [],
      options: options ?? simRaftOptions,
    };
    this.peers.set(id, p);
    this.startNode(p);
  }

  private startNode(p: TracePeer): void {
    const snap = p.storage.snapshot();
    p.applied = snap === null || snap.data.length === 0
      ? []
      : new TextDecoder().decode(snap.data).split(",");
    p.node = new RawNode({
      ...p.options,
      id: p.id,
      storage: p.storage,
      prng: this.prng.fork(),
      appliedIndex: snap?.metadata.index ?? 0,
    });
  }

  private peer(id: PeerId): TracePeer {
    const p = this.peers.get(id);
    assert.ok(p !== undefined, `no peer ${id}`);
    return p;
  }

  private node(id: PeerId): RawNode {
    const n = this.peer(id).node;
    assert.ok(n !== null, `peer ${id} is down`);
    return n;
  }

  private print(line: string): void {
    this.out.push(line);
  }

  private stabilize(only: PeerId[]): void {
    const ids = only.length > 0 ? only : [...this.peers.keys()];
    for (let round = 0; round < 100; round++) {
      let progressed = false;
      for (const id of ids) {
        const p = this.peer(id);
        if (p.node !== null && p.node.hasReady()) {
          this.processReady(p);
          progressed = true;
        }
      }
      for (const id of ids) {
        if ((this.mailbox.get(id)?.length ?? 0) > 0) {
          this.deliver(id, { drop: false });
          progressed = true;
        }
      }
      if (!progressed) return;
    }
    throw new Error("stabilize did not settle");
  }

  private processReady(p: TracePeer): void {
    const node = p.node;
    if (node === null || !node.hasReady()) return;
    const rd: Ready = node.ready();
    this.print(`> ${p.id} handling Ready`);
    if (rd.softState !== null) {
      const s = rd.softState;
      this.print(`  State: ${s.role} leader=${s.leader ?? "none"}` +
        `${s.hibernating ? " hibernating" : ""}`);
    }
    if (rd.hardState !== null) {
      const h = rd.hardState;
      this.print(`  HardState term=${h.term} vote=${h.vote ?? "none"} commit=${h.commitIndex}`);
    }
    if (rd.snapshot !== null) {
      const m = rd.snapshot.metadata;
      this.print(`  Snapshot ${m.index}@${m.term} ${describeConf(m.confState)}`);
    }
    if (rd.entries.length > 0) {
      this.print(`  Entries: ${rd.entries.map(describeEntry).join(", ")}`);
    }
    if (rd.committedEntries.length > 0) {
      this.print(`  CommittedEntries: ${rd.committedEntries.map(describeEntry).join(", ")}`);
    }
    for (const m of rd.messages) this.print(`  send ${describeMessage(m)}`);
    for (const r of rd.readStates) this.print(`  ReadState ctx=${r.context} index=${r.readIndex}`);
    // Persist, then send, then apply: the host contract on Ready.
    if (rd.snapshot !== null) {
      p.storage.applySnapshot(rd.snapshot);
      p.applied = new TextDecoder().decode(rd.snapshot.data).split(",").filter((x) => x !== "");
    }
    p.storage.append(rd.entries);
    if (rd.hardState !== null) p.storage.setHardState(rd.hardState);
    for (const m of rd.messages) {
      if (this.isolated.has(m.from) || this.isolated.has(m.to)) continue;
      const box = this.mailbox.get(m.to) ?? [];
      box.push(m);
      this.mailbox.set(m.to, box);
    }
    for (const e of rd.committedEntries) {
      if (e.kind === "confChange") {
        const conf = node.applyConfChange(e.change);
        this.print(`  applied conf change: ${describeConf(conf)}`);
      } else if (e.data.length > 0) {
        p.applied.push(new TextDecoder().decode(e.data));
      }
    }
    node.advance(rd);
  }

  private deliver(id: PeerId, options: { drop: boolean }): void {
    const box = this.mailbox.get(id) ?? [];
    this.mailbox.set(id, []);
    const p = this.peer(id);
    for (const m of box) {
      if (options.drop || p.node === null) {
        this.print(`dropped: ${describeMessage(m)}`);
        continue;
      }
      this.print(`> ${id} receiving ${describeMessage(m)}`);
      p.node.step(m);
    }
  }

  private printStatus(id: PeerId): void {
    const s = this.node(id).status();
    this.print(
      `${s.role} term=${s.term} leader=${s.leader ?? "none"} commit=${s.commitIndex} ` +
        `applied=${s.appliedIndex} last=${s.lastIndex} ${describeConf(s.confState)}`,
    );
    for (const [peer, pr] of s.progress) {
      this.print(`  ${peer}: ${pr.state} match=${pr.matchIndex} next=${pr.nextIndex}` +
        `${pr.inflight > 0 ? ` inflight=${pr.inflight}` : ""}`);
    }
    this.print(`  applied: [${this.peer(id).applied.join(",")}]`);
  }
}

function describeEntry(e: Entry): string {
  if (e.kind === "confChange") {
    const items = e.change.changes.map((c) => `${c.op}:${c.peer}`).join(" ");
    return `${e.index}@${e.term} conf(${items === "" ? "leaveJoint" : items})`;
  }
  const text = new TextDecoder().decode(e.data);
  return `${e.index}@${e.term} "${text}"`;
}

function describeConf(c: ConfState): string {
  const outgoing = c.votersOutgoing.length > 0 ? `&&(${c.votersOutgoing.join(",")})` : "";
  const learners = c.learners.length > 0 ? ` learners=(${c.learners.join(",")})` : "";
  const next = c.learnersNext.length > 0 ? ` learnersNext=(${c.learnersNext.join(",")})` : "";
  return `voters=(${c.voters.join(",")})${outgoing}${learners}${next}`;
}

for (const file of readdirSync(testdataDir).filter((f) => f.endsWith(".txt")).sort()) {
  const name = file.replace(/\.txt$/, "").replaceAll("_", " ");
  test(`Raft trace: ${name} (testdata/${file})`, opts, () => {
    const path = join(testdataDir, file);
    const cases = parseCases(readFileSync(path, "utf8"));
    const env = new TraceEnv();
    const results = cases.map((c) => ({ ...c, output: env.run(c.command) }));
    if (process.env["REWRITE"] === "1") {
      writeFileSync(path, formatCases(results));
      return;
    }
    for (const r of results) {
      assert.equal(r.output, r.expected, `${file}: output of "${r.command}" differs`);
    }
  });
}
