/**
 * Key latches: serialize the commands (prewrite, commit, …) of one store that touch the same
 * keys, so each runs its read-check-write against a snapshot no other command is changing.
 *
 * Keys hash into a fixed number of slots; each slot is a FIFO queue of command ids whose
 * head owns it. A command acquires its slots in ascending order (so two commands can never
 * hold slots the other waits for: no deadlock) and stops at the first slot it must wait
 * for. When a command releases, the new head of each freed slot is woken; it calls
 * `acquire` again to continue. A pure state machine: no timers, no callbacks.
 *
 * Capacity: the number of commands is bounded by the scheduler that owns this object (it
 * admits a bounded number of in-flight commands), so queues here are bounded by that.
 */
import { assert } from "../../base/mod.ts";

interface CommandLatches {
  /** Slots to own, ascending, without duplicates. */
  readonly slots: readonly number[];
  /** How many of `slots` (a prefix) are owned. */
  owned: number;
}

/** The latch table of one store. */
export class Latches {
  private readonly queues: number[][];
  private readonly commands = new Map<number, CommandLatches>();
  private readonly mask: number;

  /** `slotCount` must be a power of two. */
  constructor(slotCount: number) {
    assert(slotCount > 0 && (slotCount & (slotCount - 1)) === 0, "slot count: power of two");
    this.mask = slotCount - 1;
    this.queues = Array.from({ length: slotCount }, () => []);
  }

  /**
   * Tries to take every latch of `keyHashes` for `commandId`. The first call registers
   * the command; after a wake-up, call again with the same arguments to continue.
   */
  acquire(commandId: number, keyHashes: readonly number[]): "acquired" | "waiting" {
    let state = this.commands.get(commandId);
    if (state === undefined) {
      const slots = [...new Set(keyHashes.map((h) => h & this.mask))].sort((a, b) => a - b);
      state = { slots, owned: 0 };
      this.commands.set(commandId, state);
    }
    while (state.owned < state.slots.length) {
      const slot = state.slots[state.owned] ?? 0;
      const queue = this.queues[slot] ?? [];
      if (queue.length === 0) queue.push(commandId);
      if (queue[0] === commandId) {
        state.owned++;
        continue;
      }
      if (!queue.includes(commandId)) queue.push(commandId);
      return "waiting";
    }
    return "acquired";
  }

  /**
   * Releases every latch `commandId` owns (and leaves any queue it waits in). Returns the
   * commands now at the head of a freed slot, which should call `acquire` again.
   */
  release(commandId: number): number[] {
    const state = this.commands.get(commandId);
    if (state === undefined) return [];
    this.commands.delete(commandId);
    const woken: number[] = [];
    for (let i = 0; i < state.slots.length; i++) {
      const queue = this.queues[state.slots[i] ?? 0] ?? [];
      const at = queue.indexOf(commandId);
      if (at < 0) continue;
      assert(i < state.owned ? at === 0 : at > 0, "latch queue out of order");
      queue.splice(at, 1);
      const head = queue[0];
      if (at === 0 && head !== undefined && !woken.includes(head)) woken.push(head);
    }
    return woken;
  }

  /** Commands registered (owning or waiting). */
  get commandCount(): number {
    return this.commands.size;
  }
}
