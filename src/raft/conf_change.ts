/**
 * Membership change arithmetic, after etcd-raft's `confchange.Changer`: computes the
 * configuration that results from applying a `ConfChange` to a `ConfState`, or says why
 * the change is invalid. Pure: it never touches progress or the log.
 *
 * Invariants of every returned configuration: voters and learners are disjoint; learners
 * and `learnersNext` are disjoint; `learnersNext` are outgoing voters; a configuration is
 * joint exactly when `votersOutgoing` is non-empty; the incoming voters are never empty.
 */
import type { PeerId } from "../base/mod.ts";
import { sorted } from "./progress.ts";
import type { ConfChange, ConfState } from "./types.ts";

/** The configuration after a change, or why it cannot be applied. */
export type ConfChangeOutcome =
  | { readonly kind: "ok"; readonly confState: ConfState }
  | { readonly kind: "invalid"; readonly reason: string };

/** True if `change` leaves a joint configuration (an empty change). */
export function isLeaveJoint(change: ConfChange): boolean {
  return change.changes.length === 0;
}

/** True if `change` enters a joint configuration (more than one item). */
export function entersJoint(change: ConfChange): boolean {
  return change.changes.length > 1;
}

/** Applies `change` to `conf` by etcd-raft's rules. */
export function applyConfChangeTo(conf: ConfState, change: ConfChange): ConfChangeOutcome {
  const joint = conf.votersOutgoing.length > 0;
  if (isLeaveJoint(change)) {
    if (!joint) return invalid("cannot leave a joint configuration: not in one");
    const learners = new Set(conf.learners);
    for (const id of conf.learnersNext) learners.add(id);
    return check({
      voters: conf.voters,
      votersOutgoing: [],
      learners: sorted(learners),
      learnersNext: [],
      autoLeave: false,
    });
  }
  if (joint) return invalid("a joint configuration must be left before another change");
  const voters = new Set(conf.voters);
  const outgoing = new Set<PeerId>(entersJoint(change) ? conf.voters : []);
  if (entersJoint(change) && voters.size === 0) {
    return invalid("cannot make a zero-voter configuration joint");
  }
  const learners = new Set(conf.learners);
  const learnersNext = new Set<PeerId>();
  for (const item of change.changes) {
    switch (item.op) {
      case "addVoter":
        learners.delete(item.peer);
        learnersNext.delete(item.peer);
        voters.add(item.peer);
        break;
      case "addLearner":
        if (learners.has(item.peer)) break;
        voters.delete(item.peer);
        learnersNext.delete(item.peer);
        // An outgoing voter keeps voting until the joint configuration is left.
        if (outgoing.has(item.peer)) learnersNext.add(item.peer);
        else learners.add(item.peer);
        break;
      case "removePeer":
        voters.delete(item.peer);
        learners.delete(item.peer);
        learnersNext.delete(item.peer);
        break;
    }
  }
  if (!entersJoint(change)) {
    let changed = 0;
    for (const id of voters) if (!conf.voters.includes(id)) changed++;
    for (const id of conf.voters) if (!voters.has(id)) changed++;
    if (changed > 1) return invalid("a simple change may change at most one voter");
  }
  return check({
    voters: sorted(voters),
    votersOutgoing: sorted(outgoing),
    learners: sorted(learners),
    learnersNext: sorted(learnersNext),
    autoLeave: entersJoint(change) && change.transition === "auto",
  });
}

function check(conf: ConfState): ConfChangeOutcome {
  if (conf.voters.length === 0) return invalid("the change removes every voter");
  for (const id of conf.learners) {
    if (conf.voters.includes(id) || conf.votersOutgoing.includes(id)) {
      return invalid(`peer ${id} would be both voter and learner`);
    }
  }
  return { kind: "ok", confState: conf };
}

function invalid(reason: string): ConfChangeOutcome {
  return { kind: "invalid", reason };
}
