/**
 * Where online DDL keeps its state in KV, under the meta prefix next to the catalog
 * (values are UTF-8 JSON or decimal text):
 *
 *     m "DDLNextJobID" s            the next job id
 *     m "DDLJobQueue" h {id}        jobs not finished, run in id order
 *     m "DDLJobHistory" h {id}      finished jobs
 *     m "DDLOwner" s                the owner lease: { nodeId, expiresMs }
 *     m "SchemaSyncer" h {nodeId}   each SQL node's loaded schema: { version, … }
 *     m "SchemaDiff:{version}" s    what the DDL step that made `version` changed
 *     m "DDLDeleteRange" h {id}_{n} key ranges dropped data still occupies (delete-range)
 *
 * Job ids are zero-padded in the hash field so that field order is id order. Expiry
 * times are TSO physical milliseconds (the start ts of the transaction that wrote them,
 * plus a lease), so every node measures them on the same clock.
 */
import { ErrorCode, type Timestamp, decomposeTimestamp, hasErrorCode } from "../../base/mod.ts";
import type { Transaction } from "../../client/mod.ts";
import { encodeMetaKey, prefixNext } from "../../codec/mod.ts";
import { schemaDiffKey, schemaVersionKey } from "../catalog/catalog.ts";
import type { SchemaEdits } from "../catalog/schema_diff.ts";
import type { DdlJob, SchemaChange } from "./job.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const b = (s: string): Uint8Array => utf8.encode(s);

const nextJobIdKey = encodeMetaKey({ key: b("DDLNextJobID") });
/** The owner lease key. */
export const ownerKey = encodeMetaKey({ key: b("DDLOwner") });
const queueHash = "DDLJobQueue";
const historyHash = "DDLJobHistory";
const syncerHash = "SchemaSyncer";
const deleteRangeHash = "DDLDeleteRange";

function field(hash: string, name: string): Uint8Array {
  return encodeMetaKey({ key: b(hash), field: b(name) });
}

function hashRange(hash: string): { start: Uint8Array; end: Uint8Array } {
  const empty = field(hash, "");
  const start = empty.slice(0, empty.length - 9);
  return { start, end: prefixNext(start) };
}

const jobField = (id: number): string => String(id).padStart(16, "0");

function parse<T>(value: Uint8Array): T {
  return JSON.parse(fromUtf8.decode(value)) as T;
}

function json(value: unknown): Uint8Array {
  return b(JSON.stringify(value));
}

/** Rolls `txn` back; one that already finished (a failed commit rolled it back) is fine. */
export async function rollbackQuietly(txn: Transaction): Promise<void> {
  try {
    await txn.rollback();
  } catch (error: unknown) {
    if (!hasErrorCode(error, ErrorCode.ClientTxnFinished)) throw error;
  }
}

/** The TSO physical milliseconds of `ts`. */
export function physicalMs(ts: Timestamp): number {
  return decomposeTimestamp(ts).physicalMs;
}

/** The schema version `txn` sees. */
export async function readSchemaVersion(txn: Transaction): Promise<bigint> {
  const value = await txn.get(schemaVersionKey);
  return value === null ? 0n : BigInt(fromUtf8.decode(value));
}

/**
 * Writes the next schema version and the change that made it, with the catalog objects
 * it edited (nodes load the version by applying them: `catalog/schema_diff.ts`).
 */
export function writeSchemaVersion(txn: Transaction, version: bigint,
  change: SchemaChange & { readonly edits: SchemaEdits }): void {
  txn.set(schemaVersionKey, b(version.toString()));
  txn.set(schemaDiffKey(version), json(change));
}


/** The change that made `version`, or null (versions before online DDL have none). */
export async function readSchemaChange(txn: Transaction, version: bigint):
  Promise<SchemaChange | null> {
  const value = await txn.get(schemaDiffKey(version));
  return value === null ? null : parse<SchemaChange>(value);
}

/** A new job id. */
export async function allocJobId(txn: Transaction): Promise<number> {
  const value = await txn.get(nextJobIdKey);
  const id = value === null ? 1 : Number(fromUtf8.decode(value));
  txn.set(nextJobIdKey, b(String(id + 1)));
  return id;
}

/** Writes a job to the queue (unfinished) or moves it to the history (finished). */
export function putJob(txn: Transaction, job: DdlJob, options: { readonly finished: boolean }):
  void {
  if (options.finished) {
    txn.delete(field(queueHash, jobField(job.id)));
    txn.set(field(historyHash, jobField(job.id)), json(job));
  } else {
    txn.set(field(queueHash, jobField(job.id)), json(job));
  }
}

/** A queued job, or null when it is not in the queue. */
export async function readQueuedJob(txn: Transaction, id: number): Promise<DdlJob | null> {
  const value = await txn.get(field(queueHash, jobField(id)));
  return value === null ? null : parse<DdlJob>(value);
}

/** A finished job, or null when it has not finished. */
export async function readHistoryJob(txn: Transaction, id: number): Promise<DdlJob | null> {
  const value = await txn.get(field(historyHash, jobField(id)));
  return value === null ? null : parse<DdlJob>(value);
}

/**
 * The first `limit` queued jobs in id order, from job `fromId` on. Finished jobs leave
 * deleted keys behind in the queue (until MVCC GC), so a caller that knows every job
 * below some id has finished passes it and the scan skips them.
 */
export async function readQueue(txn: Transaction, limit: number, fromId = 0):
  Promise<DdlJob[]> {
  const range = hashRange(queueHash);
  const start = fromId > 0 ? field(queueHash, jobField(fromId)) : range.start;
  const pairs = await txn.scan(start, range.end, { limit });
  return pairs.map((p) => parse<DdlJob>(p.value));
}

/** The last `limit` finished jobs, newest first. */
export async function readHistory(txn: Transaction, limit: number): Promise<DdlJob[]> {
  const range = hashRange(historyHash);
  const pairs = await txn.scan(range.start, range.end, { limit, reverse: true });
  return pairs.map((p) => parse<DdlJob>(p.value));
}

/** The owner lease as stored. */
export interface OwnerRecord {
  readonly nodeId: string;
  /** TSO physical ms after which another node may take over. */
  readonly expiresMs: number;
}

export async function readOwner(txn: Transaction): Promise<OwnerRecord | null> {
  const value = await txn.get(ownerKey);
  return value === null ? null : parse<OwnerRecord>(value);
}

export function writeOwner(txn: Transaction, record: OwnerRecord): void {
  txn.set(ownerKey, json(record));
}

/** What a SQL node reports about the schema it runs with. */
export interface SyncerRecord {
  readonly nodeId: string;
  /** The newest schema version the node has loaded. */
  readonly version: string;
  /**
   * The oldest schema version among the node's transactions that are committing (between
   * their commit check and the end of their commit); `version` when none is.
   */
  readonly oldestCommitting: string;
  /** TSO physical ms after which the node is presumed gone (it then refuses commits). */
  readonly expiresMs: number;
}

export function writeSyncer(txn: Transaction, record: SyncerRecord): void {
  txn.set(field(syncerHash, record.nodeId), json(record));
}

export function deleteSyncer(txn: Transaction, nodeId: string): void {
  txn.delete(field(syncerHash, nodeId));
}

export async function readSyncers(txn: Transaction): Promise<SyncerRecord[]> {
  const range = hashRange(syncerHash);
  const pairs = await txn.scan(range.start, range.end);
  return pairs.map((p) => parse<SyncerRecord>(p.value));
}

/**
 * Keys a DDL step made unreachable (a dropped or truncated table, a dropped index), left
 * to delete: `[start, end)` as hex, `start` moving forward as batches are deleted. The
 * keys may be deleted once every node runs schema `version` (the step's): from then on no
 * transaction can write them.
 */
export interface DeleteRangeRecord {
  readonly jobId: number;
  /** The range's number within its job. */
  readonly seq: number;
  readonly tableId: number;
  readonly indexId: number | null;
  readonly start: string;
  readonly end: string;
  readonly version: string;
}

const rangeField = (r: { readonly jobId: number; readonly seq: number }): string =>
  `${jobField(r.jobId)}_${String(r.seq).padStart(6, "0")}`;

export function putDeleteRange(txn: Transaction, record: DeleteRangeRecord): void {
  txn.set(field(deleteRangeHash, rangeField(record)), json(record));
}

export function deleteDeleteRange(txn: Transaction, record: DeleteRangeRecord): void {
  txn.delete(field(deleteRangeHash, rangeField(record)));
}

/**
 * The first `limit` ranges left to delete, oldest job first, from range `from` on (a
 * caller that knows every range before it is done skips their deleted keys).
 */
export async function readDeleteRanges(txn: Transaction, limit: number,
  from: { readonly jobId: number; readonly seq: number } | null = null):
  Promise<DeleteRangeRecord[]> {
  const range = hashRange(deleteRangeHash);
  const start = from === null ? range.start : field(deleteRangeHash, rangeField(from));
  const pairs = await txn.scan(start, range.end, { limit });
  return pairs.map((p) => parse<DeleteRangeRecord>(p.value));
}
