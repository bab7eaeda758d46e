/**
 * `OwnerElections`: named elections for cluster-wide singletons (the DDL owner, the GC
 * worker, the deadlock detector), served by the PD leader to SQL and KV nodes.
 *
 * Each election is one metadata key, `/elections/<name>`, holding the owner's name and
 * attached to a lease of the owner's chosen TTL. A candidate wins by creating the key
 * (a transaction conditioned on its absence); the owner renews by keeping the lease alive;
 * when it stops renewing, the lease expires and the key with it, and the next campaign
 * wins. The lease lives in the metadata store, so ownership survives a PD failover. The
 * owner should treat itself as owner only for `leaseMs` from before it sent its request.
 */
import { ErrorCode, TesseraError, limits } from "../../base/mod.ts";
import type { CampaignReply } from "../../proto/mod.ts";
import type { LeaseId, MetaStore } from "../meta/meta_store.ts";
import { metaKeys } from "./cluster.ts";

interface Owner {
  readonly candidate: string;
  readonly leaseId: LeaseId;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function decodeOwner(value: Uint8Array): Owner | undefined {
  try {
    const parsed = JSON.parse(decoder.decode(value)) as { candidate?: unknown; leaseId?: unknown };
    if (typeof parsed.candidate !== "string" || typeof parsed.leaseId !== "string") {
      return undefined;
    }
    return { candidate: parsed.candidate, leaseId: parsed.leaseId };
  } catch {
    return undefined;
  }
}

/** The elections PD serves; stateless apart from the metadata store. */
export class OwnerElections {
  private readonly store: MetaStore;
  private readonly names = new Set<string>();

  constructor(store: MetaStore) {
    this.store = store;
  }

  private key(election: string): string {
    if (!this.names.has(election)) {
      if (this.names.size >= limits.pdElectionsMax) {
        throw new TesseraError(ErrorCode.PdElectionsFull, "too many elections", {
          details: { limit: limits.pdElectionsMax },
        });
      }
      this.names.add(election);
    }
    return `${metaKeys.electionPrefix}${election}`;
  }

  private async current(election: string): Promise<Owner | undefined> {
    const kv = await this.store.get(this.key(election));
    return kv === undefined ? undefined : decodeOwner(kv.value);
  }

  /** Campaigns; an owner campaigning again renews. */
  async campaign(election: string, candidate: string, ttlMs: number): Promise<CampaignReply> {
    const owner = await this.current(election);
    if (owner !== undefined) {
      if (owner.candidate !== candidate)
        return { elected: false, owner: owner.candidate, leaseMs: 0 };
      return this.renew(election, candidate);
    }
    const lease = await this.store.grantLease(ttlMs);
    const key = this.key(election);
    const result = await this.store.txn({
      compare: [{ key, target: "createRevision", op: "=", operand: 0 }],
      success: [
        {
          kind: "put",
          key,
          value: encoder.encode(JSON.stringify({ candidate, leaseId: lease.leaseId })),
          leaseId: lease.leaseId,
        },
      ],
      failure: [{ kind: "get", key }],
    });
    if (!result.succeeded) {
      await this.store.revokeLease(lease.leaseId);
      const winner = result.gets[0] === undefined ? undefined : decodeOwner(result.gets[0].value);
      return { elected: false, owner: winner?.candidate ?? null, leaseMs: 0 };
    }
    return { elected: true, owner: candidate, leaseMs: lease.ttlMs };
  }

  /** Renews `candidate`'s ownership; `PD:Election:NotOwner` if it lost it. */
  async renew(election: string, candidate: string): Promise<CampaignReply> {
    const owner = await this.current(election);
    if (owner === undefined || owner.candidate !== candidate) throw notOwner(election, owner);
    try {
      const lease = await this.store.keepAlive(owner.leaseId);
      return { elected: true, owner: candidate, leaseMs: lease.ttlMs };
    } catch (error) {
      if (error instanceof TesseraError && error.code === ErrorCode.PdMetaLeaseNotFound) {
        throw notOwner(election, undefined);
      }
      throw error;
    }
  }

  /** Gives up ownership (no error if `candidate` does not own it). */
  async resign(election: string, candidate: string): Promise<void> {
    const owner = await this.current(election);
    if (owner === undefined || owner.candidate !== candidate) return;
    await this.store.revokeLease(owner.leaseId);
  }

  async owner(election: string): Promise<string | null> {
    return (await this.current(election))?.candidate ?? null;
  }
}

function notOwner(election: string, owner: Owner | undefined): TesseraError {
  return new TesseraError(ErrorCode.PdElectionNotOwner, `not the owner of ${election}`, {
    details: { election, owner: owner?.candidate ?? null },
  });
}
