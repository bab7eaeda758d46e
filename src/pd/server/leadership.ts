/**
 * `Leadership`: one PD member's campaign for the PD leader key, on a `MetaStore` lease.
 *
 * The loop: grant a lease, then create the leader key attached to it in a transaction
 * conditioned on the key not existing. The winner keeps the lease alive every third of
 * its TTL; everyone else watches the key and campaigns again when it disappears. The
 * leader's own view of its lease is conservative: after each keepalive the lease is held
 * until `sentAtMs + ttlMs - driftMs`, where `sentAtMs` is read from the monotonic clock
 * *before* the keepalive was sent (the store starts counting the TTL no earlier than that).
 * A leader that cannot renew in time — partitioned, or a process that was stopped and
 * resumed — steps down by its own clock without hearing from anyone (`onLost`).
 *
 * While leader, the member conditions every metadata write on `guard()`: the leader key
 * still has the create revision of its own election. A deposed leader's writes therefore
 * fail even if it has not noticed yet.
 *
 * Followers learn the current leader (`leader`) from the failed campaign and from the
 * watch, to answer clients with a hint.
 */
import { ErrorCode, TesseraError, describeError, hasErrorCode } from "../../base/mod.ts";
import type { Env, Timer } from "../../env/mod.ts";
import type { LeaseId, MetaCompare, MetaStore, MetaWatch } from "../meta/meta_store.ts";
import type { PdLogger } from "./logger.ts";

/** What a member advertises in the leader key. */
export interface MemberInfo {
  readonly name: string;
  /** `host:port` of its RPC service. */
  readonly address: string;
}

/** The term a member won: valid while its lease holds. */
export interface LeaderTerm {
  /** Create revision of the leader key in this term: every guarded write compares it. */
  readonly revision: number;
  readonly leaseId: LeaseId;
}

export interface LeadershipOptions {
  readonly key: string;
  readonly self: MemberInfo;
  readonly leaseTtlMs: number;
  readonly driftMs: number;
  readonly logger: PdLogger;
  /** Won: the term, and the monotonic time until which the lease certainly holds. */
  readonly onElected: (term: LeaderTerm, leaseDeadlineMs: number) => Promise<void>;
  /** A keepalive extended the lease to `leaseDeadlineMs` (monotonic). */
  readonly onLeaseExtended: (leaseDeadlineMs: number) => void;
  /** The term ended (lease lost or expired, key deleted, or stopping). */
  readonly onLost: (reason: string) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Decodes the leader key's value; undefined if it is not a member description. */
export function decodeMember(value: Uint8Array): MemberInfo | undefined {
  try {
    const parsed = JSON.parse(decoder.decode(value)) as { name?: unknown; address?: unknown };
    if (typeof parsed.name !== "string" || typeof parsed.address !== "string") return undefined;
    return { name: parsed.name, address: parsed.address };
  } catch {
    return undefined;
  }
}

/** The campaign loop of one member. */
export class Leadership {
  private readonly env: Pick<Env, "clock" | "timers">;
  private readonly store: MetaStore;
  private readonly options: LeadershipOptions;
  private running = false;
  private term: LeaderTerm | undefined;
  private leaseDeadlineMs = Number.NEGATIVE_INFINITY;
  private knownLeader: MemberInfo | undefined;
  private watch: MetaWatch | undefined;
  /** Wakes the loop early (the leader key was deleted, or we stop). */
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(env: Pick<Env, "clock" | "timers">, store: MetaStore, options: LeadershipOptions) {
    this.env = env;
    this.store = store;
    this.options = options;
  }

  /** The leader as last seen (this member when it leads). */
  get leader(): MemberInfo | undefined {
    return this.term !== undefined ? this.options.self : this.knownLeader;
  }

  /** The current term, if this member leads and its lease certainly still holds. */
  get currentTerm(): LeaderTerm | undefined {
    if (this.env.clock.monotonicMs() >= this.leaseDeadlineMs) return undefined;
    return this.term;
  }

  /**
   * The compares that hold only while this member's term lasts, or undefined when it
   * does not lead.
   */
  guard(): MetaCompare[] | undefined {
    if (this.term === undefined) return undefined;
    return [
      { key: this.options.key, target: "createRevision", op: "=", operand: this.term.revision },
    ];
  }

  /** Starts campaigning. */
  async start(): Promise<void> {
    this.running = true;
    this.watch = await this.store.watch(this.options.key, (events) => {
      for (const event of events) {
        if (event.key !== this.options.key) continue;
        if (event.kind === "delete") {
          this.knownLeader = undefined;
          this.wakeUp();
        } else {
          this.knownLeader = decodeMember(event.value);
        }
      }
    });
    this.loop = this.run();
  }

  /** Stops campaigning; a leader resigns (revokes its lease) so others take over at once. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp();
    await this.loop;
    await this.watch?.cancel();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Sleeps up to `ms`, or until woken. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: Timer | undefined = undefined;
      this.wake = () => {
        timer?.cancel();
        resolve();
      };
      timer = this.env.timers.setTimeout(ms, () => {
        this.wake = undefined;
        resolve();
      });
    });
  }

  private async run(): Promise<void> {
    const { leaseTtlMs } = this.options;
    while (this.running) {
      let leaseId: LeaseId | undefined;
      try {
        const sentAtMs = this.env.clock.monotonicMs();
        const lease = await this.store.grantLease(leaseTtlMs);
        leaseId = lease.leaseId;
        const result = await this.store.txn({
          compare: [{ key: this.options.key, target: "createRevision", op: "=", operand: 0 }],
          success: [
            {
              kind: "put",
              key: this.options.key,
              value: encoder.encode(JSON.stringify(this.options.self)),
              leaseId,
            },
          ],
          failure: [{ kind: "get", key: this.options.key }],
        });
        if (!result.succeeded) {
          const current = result.gets[0];
          this.knownLeader = current === undefined ? undefined : decodeMember(current.value);
          await this.store.revokeLease(leaseId);
          leaseId = undefined;
          if (this.knownLeader?.name === this.options.self.name) {
            // Our own key from before a restart: wait for its lease to run out.
            this.options.logger.info({}, "leader key left by an earlier run of this member");
          }
          // The watch wakes us when the key goes; the timeout is a backstop.
          if (this.running) await this.pause(leaseTtlMs);
          continue;
        }
        const ttlMs = Math.min(lease.ttlMs, leaseTtlMs);
        this.term = { revision: result.revision, leaseId };
        this.leaseDeadlineMs = sentAtMs + ttlMs - this.options.driftMs;
        this.options.logger.info({ revision: result.revision }, "elected PD leader");
        await this.options.onElected(this.term, this.leaseDeadlineMs);
        const reason = await this.holdLease(leaseId, ttlMs);
        this.endTerm(reason);
        leaseId = undefined;
      } catch (error) {
        if (this.term !== undefined) this.endTerm(`error: ${describeError(error)}`);
        this.options.logger.warn({ err: describeError(error) }, "PD campaign failed; retrying");
        if (leaseId !== undefined) {
          await this.store.revokeLease(leaseId).catch(() => undefined);
        }
        if (this.running) await this.pause(Math.min(500, leaseTtlMs / 3));
      }
    }
  }

  /** Keeps the lease alive until it is lost or we stop; resolves with why the term ended. */
  private async holdLease(leaseId: LeaseId, ttlMs: number): Promise<string> {
    const intervalMs = ttlMs / 3;
    while (this.running) {
      await this.pause(intervalMs);
      if (!this.running) break;
      if (this.env.clock.monotonicMs() >= this.leaseDeadlineMs) return "lease expired locally";
      const sentAtMs = this.env.clock.monotonicMs();
      try {
        await this.store.keepAlive(leaseId);
      } catch (error) {
        if (hasErrorCode(error, ErrorCode.PdMetaLeaseNotFound)) return "lease gone from the store";
        this.options.logger.warn({ err: describeError(error) }, "PD leader keepalive failed");
        continue;
      }
      const deadline = sentAtMs + ttlMs - this.options.driftMs;
      if (deadline > this.leaseDeadlineMs) {
        this.leaseDeadlineMs = deadline;
        this.options.onLeaseExtended(deadline);
      }
      const current = await this.store.get(this.options.key).catch(() => null);
      if (
        current === undefined ||
        (current !== null && current.createRevision !== this.term?.revision)
      ) {
        return "leader key deleted or replaced";
      }
    }
    await this.store.revokeLease(leaseId).catch((error: unknown) => {
      this.options.logger.warn(
        { err: describeError(error) },
        "revoking the PD leader lease failed",
      );
    });
    return "stopping";
  }

  private endTerm(reason: string): void {
    if (this.term === undefined) return;
    this.term = undefined;
    this.leaseDeadlineMs = Number.NEGATIVE_INFINITY;
    this.options.logger.warn({ reason }, "PD leadership lost");
    this.options.onLost(reason);
  }
}

/** The error followers answer with: the leader's address as a hint. */
export function notLeaderError(leader: MemberInfo | undefined): TesseraError {
  return new TesseraError(
    ErrorCode.PdNotLeader,
    leader === undefined
      ? "no PD leader yet"
      : `not the PD leader; the leader is ${leader.address}`,
    { details: { leaderAddress: leader?.address ?? null, leaderName: leader?.name ?? null } },
  );
}
