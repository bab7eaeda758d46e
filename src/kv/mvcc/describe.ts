/**
 * Human-readable forms of MVCC engine keys, records and write batches, for test traces,
 * logs and `tessera ctl` output. Keys are printed as text when printable, else as hex.
 */
import type { KeyValue, WriteOp } from "../engine/engine.ts";
import { Cf, decodeEngineKey } from "./keys.ts";
import { type Lock, decodeLock } from "./lock.ts";
import { type Write, decodeWrite } from "./write.ts";

/** A user key as text if printable ASCII, else `0x…`. */
export function describeKey(key: Uint8Array): string {
  const printable = key.every((b) => b >= 0x21 && b <= 0x7e);
  if (printable && key.length > 0) return new TextDecoder().decode(key);
  return `0x${Buffer.from(key).toString("hex")}`;
}

/** A value: as text if short and printable, else its length. */
export function describeValue(value: Uint8Array): string {
  return value.length > 16 ? `<${value.length} bytes>` : describeKey(value);
}

/** One lock on one line: `put primary=a start=10 ttl=100 min=11 async[b,c]`. */
export function describeLock(lock: Lock): string {
  const parts: string[] = [lock.kind, `primary=${describeKey(lock.primary)}`];
  parts.push(`start=${lock.startTs}`, `ttl=${lock.ttlMs}`);
  if (lock.shortValue !== undefined) parts.push(`value=${describeValue(lock.shortValue)}`);
  if (lock.forUpdateTs !== 0n) parts.push(`forUpdate=${lock.forUpdateTs}`);
  if (lock.minCommitTs !== 0n) parts.push(`min=${lock.minCommitTs}`);
  if (lock.txnSize !== 0) parts.push(`size=${lock.txnSize}`);
  if (lock.useAsyncCommit) {
    parts.push(`async[${lock.secondaries.map(describeKey).join(",")}]`);
  }
  return parts.join(" ");
}

/** One commit record on one line: `put start=10 value=x`. */
export function describeWrite(write: Write): string {
  const parts: string[] = [write.kind, `start=${write.startTs}`];
  if (write.shortValue !== undefined) parts.push(`value=${describeValue(write.shortValue)}`);
  if (write.hasOverlappedRollback) parts.push("overlappedRollback");
  if (write.isProtected) parts.push("protected");
  return parts.join(" ");
}

function describeEngineKey(engineKey: Uint8Array): string {
  const { cf, key, ts } = decodeEngineKey(engineKey);
  const cfName = cf === Cf.lock ? "lock" : cf === Cf.write ? "write" : "default";
  return ts === undefined ? `${cfName} ${describeKey(key)}` : `${cfName} ${describeKey(key)}@${ts}`;
}

/** One engine pair: `write a@12 put start=10 value=x`. */
export function describeEntry(entry: KeyValue): string {
  const { cf } = decodeEngineKey(entry.key);
  const head = describeEngineKey(entry.key);
  switch (cf) {
    case Cf.lock:
      return `${head} ${describeLock(decodeLock(entry.value))}`;
    case Cf.write:
      return `${head} ${describeWrite(decodeWrite(entry.value))}`;
    case Cf.default:
      return `${head} ${describeValue(entry.value)}`;
    default:
      return cf satisfies never;
  }
}

/** One write op: `put write a@12 put start=10` or `delete lock a`. */
export function describeWriteOp(op: WriteOp): string {
  switch (op.kind) {
    case "put":
      return `put ${describeEntry(op)}`;
    case "delete":
      return `delete ${describeEngineKey(op.key)}`;
    case "deleteRange":
      return `deleteRange ${describeEngineKey(op.start)} .. ${describeEngineKey(op.end)}`;
    default:
      return op satisfies never;
  }
}
