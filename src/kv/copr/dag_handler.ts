/**
 * The `dag` coprocessor handler: runs the SQL layer's pushed-down DAG requests ([T9],
 * src/expr/dag.ts) over one shard's snapshot. A thin adapter: it decodes the plan, feeds
 * the shared executor (the vectorized `runDagBatch`, src/expr/batch, unless
 * `setDagExecutor("row")` chose the reference `runDag`) from the snapshot scan of each
 * range — in reverse for a descending scan, through the concurrency manager so locks in
 * the way are returned for the client to resolve — and encodes the page it returns.
 * A plan that does not decode, or ranges out of order, are the client's bug:
 * `KV:Request:Malformed`.
 */
import { ErrorCode, TesseraError } from "../../base/mod.ts";
import { type DagRequest, decodeDagRequest, encodeDagResponse, liveRanges, runDagConfigured }
  from "../../expr/mod.ts";
import type { LockedKey } from "../mvcc/snapshot_read.ts";
import type { CoprocessorHandler, CoprocessorRegistry } from "../server/coprocessor.ts";

/** The handler name the SQL layer's coprocessor requests carry. */
export const dagHandlerName = "dag";

/** Runs one DAG page. */
export const dagHandler: CoprocessorHandler = (input) => {
  let request: DagRequest;
  try {
    request = decodeDagRequest(input.plan);
    liveRanges(input.ranges);
  } catch (error: unknown) {
    throw new TesseraError(ErrorCode.KvRequestMalformed,
      error instanceof Error ? error.message : String(error), { cause: error });
  }
  const result = runDagConfigured<{ readonly kind: "locked" } & LockedKey>(request, input.ranges,
    (range, options) => input.scan(range, options));
  if (result.kind !== "ok") return result;
  return { kind: "ok", data: encodeDagResponse(result.response) };
};

/** Registers the store's coprocessor handlers (`dag`). */
export function registerCoprocessorHandlers(registry: CoprocessorRegistry): void {
  registry.register(dagHandlerName, dagHandler);
}
