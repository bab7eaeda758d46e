/**
 * One scheduling round: runs every enabled checker and scheduler over the same cluster
 * snapshot, most urgent first (repair, then split and merge, then hot spots, then
 * balance). Each sees the operators planned before it as in flight, so a round never plans
 * two operators for one shard and later schedulers count earlier moves in store loads.
 * The PD server passes the result to its `OperatorController`, which has the final say.
 */
import { balanceLeaders } from "./balance_leader.ts";
import { balanceShards } from "./balance_shard.ts";
import { scheduleHotReads, scheduleHotWrites } from "./hot_scheduler.ts";
import { checkMerges } from "./merge_checker.ts";
import { checkReplicas } from "./replica_checker.ts";
import { checkSplits } from "./split_checker.ts";
import type { Operator, ScheduleInput, Scheduler } from "./types.ts";

/** The name of each scheduler, as the HTTP API and `tessera ctl` list and toggle them. */
export type SchedulerName =
  | "replica-checker"
  | "split-checker"
  | "merge-checker"
  | "hot-read-scheduler"
  | "hot-write-scheduler"
  | "balance-leader-scheduler"
  | "balance-shard-scheduler";

/** Every scheduler in the order a round runs them. */
export const schedulers: readonly { readonly name: SchedulerName; readonly run: Scheduler }[] =
  [
    { name: "replica-checker", run: checkReplicas },
    { name: "split-checker", run: checkSplits },
    { name: "merge-checker", run: checkMerges },
    { name: "hot-read-scheduler", run: scheduleHotReads },
    { name: "hot-write-scheduler", run: scheduleHotWrites },
    { name: "balance-leader-scheduler", run: balanceLeaders },
    { name: "balance-shard-scheduler", run: balanceShards },
  ];

/** Runs the enabled schedulers (all by default) and returns their operators in order. */
export function runSchedulers(
  input: ScheduleInput,
  options: { readonly enabled?: ReadonlySet<SchedulerName> } = {},
): Operator[] {
  const planned: Operator[] = [];
  for (const { name, run } of schedulers) {
    if (options.enabled !== undefined && !options.enabled.has(name)) continue;
    planned.push(...run({ ...input, inFlight: [...input.inFlight, ...planned] }));
  }
  return planned;
}
