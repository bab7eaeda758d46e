/**
 * `MetaStore`: the interface PD keeps its durable metadata behind, shaped after etcd's v3
 * API so that the embedded store (playground, one PD) and etcd (three PDs) are
 * interchangeable and pass one conformance suite (`test_meta_conformance.ts`).
 *
 * Model: a flat, ordered map from string keys (ASCII paths such as `/tessera/1/tso`) to
 * byte values, with a store-wide *revision* that grows by one per successful write
 * transaction. Each key remembers the revision that created it, the one that last changed
 * it and how many times it was written since creation (`version`), so transactions can be
 * conditioned on "nobody changed this since I read it" or "this key does not exist".
 * Leases are timers in the store: a key attached to a lease is deleted when the lease
 * expires or is revoked. Watches report writes under a prefix that happen after the
 * watch is established, in revision order.
 *
 * Every method may fail with `PD:Meta:Unavailable` (the store cannot be reached: an
 * ambiguous failure for writes) or `PD:Meta:Closed` after `close`.
 */

/** An id the store gave a lease ("0" is never one). */
export type LeaseId = string;

/** One key with its value and revisions. */
export interface MetaKeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created the key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the write that last changed it. */
  readonly modRevision: number;
  /** Writes since creation: 1 after the first. */
  readonly version: number;
  /** The lease the key is attached to, or "0". */
  readonly leaseId: LeaseId;
}

/**
 * A condition of a transaction. A missing key has revisions and version 0, and its value
 * compares unequal to any value.
 */
export type MetaCompare =
  | {
      readonly key: string;
      readonly target: "createRevision" | "modRevision" | "version";
      readonly op: "=" | "!=" | "<" | ">";
      readonly operand: number;
    }
  | {
      readonly key: string;
      readonly target: "value";
      readonly op: "=" | "!=";
      readonly operand: Uint8Array;
    };

/** One operation of a transaction branch. */
export type MetaOp =
  | {
      readonly kind: "put";
      readonly key: string;
      readonly value: Uint8Array;
      /** Attach the key to this lease ("0" or absent: none). */
      readonly leaseId?: LeaseId;
    }
  | { readonly kind: "delete"; readonly key: string }
  | { readonly kind: "get"; readonly key: string };

export interface MetaTxn {
  readonly compare: readonly MetaCompare[];
  /** Run when every compare holds. */
  readonly success: readonly MetaOp[];
  /** Run otherwise. */
  readonly failure?: readonly MetaOp[];
}

export interface MetaTxnResult {
  readonly succeeded: boolean;
  /** The store's revision after the transaction. */
  readonly revision: number;
  /** One entry per `get` of the branch that ran, in order (`undefined`: absent). */
  readonly gets: readonly (MetaKeyValue | undefined)[];
}

/** A range read: keys in `[start, end)` in key order; `end` "" means to the end. */
export interface MetaRange {
  readonly start: string;
  readonly end: string;
  /** At most this many keys (default and cap `limits.pdMetaRangeKeysMax`). */
  readonly limit?: number;
}

/** One change a watch reports. A delete carries the key and the deleting revision. */
export interface MetaWatchEvent {
  readonly kind: "put" | "delete";
  readonly key: string;
  /** The new value; empty for a delete. */
  readonly value: Uint8Array;
  readonly modRevision: number;
}

/** A running watch; `cancel` stops it (idempotent). */
export interface MetaWatch {
  cancel(): Promise<void>;
}

/** A granted lease: the id and the TTL the store actually applied. */
export interface MetaLease {
  readonly leaseId: LeaseId;
  readonly ttlMs: number;
}

/** The metadata store; see the file comment. */
export interface MetaStore {
  /** A short name for logs and `/status`: `embedded` or `etcd`. */
  readonly kind: string;
  get(key: string): Promise<MetaKeyValue | undefined>;
  range(range: MetaRange): Promise<MetaKeyValue[]>;
  /** Writes one key; resolves with the new revision. */
  put(key: string, value: Uint8Array, options?: { readonly leaseId?: LeaseId }): Promise<number>;
  /** Deletes one key; resolves true if it existed. */
  delete(key: string): Promise<boolean>;
  txn(txn: MetaTxn): Promise<MetaTxnResult>;
  /** Grants a lease of about `ttlMs` (a store may round it up). */
  grantLease(ttlMs: number): Promise<MetaLease>;
  /**
   * Renews a lease for its full TTL, counted by the store from when it receives the
   * request. Rejects with `PD:Meta:LeaseNotFound` if it expired or was revoked.
   */
  keepAlive(leaseId: LeaseId): Promise<MetaLease>;
  /** Revokes a lease, deleting its keys; no error if it is already gone. */
  revokeLease(leaseId: LeaseId): Promise<void>;
  /** Reports writes to keys starting with `prefix`, from after the watch is established. */
  watch(prefix: string, listener: (events: readonly MetaWatchEvent[]) => void): Promise<MetaWatch>;
  /** Releases everything; pending calls fail with `PD:Meta:Closed`. */
  close(): Promise<void>;
}

/** The smallest key above every key starting with `prefix` (the `end` of a prefix range). */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return "";
}

/** True when `kv` (or a missing key, `undefined`) satisfies `compare`. */
export function compareHolds(compare: MetaCompare, kv: MetaKeyValue | undefined): boolean {
  if (compare.target === "value") {
    const equal = kv !== undefined && bytesEqual(kv.value, compare.operand);
    return compare.op === "=" ? equal : !equal;
  }
  const actual = kv === undefined ? 0 : kv[compare.target];
  switch (compare.op) {
    case "=":
      return actual === compare.operand;
    case "!=":
      return actual !== compare.operand;
    case "<":
      return actual < compare.operand;
    case ">":
      return actual > compare.operand;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
