/**
 * `parseSysbench` on a real sysbench 1.0.20 summary, and on output without one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSysbench } from "../../bench/sysbench_output.ts";

const summary = `
SQL statistics:
    queries performed:
        read:                            312338
        write:                           0
        other:                           0
        total:                           312338
    transactions:                        312338 (104109.47 per sec.)
    queries:                             312338 (104109.47 per sec.)
    ignored errors:                      3      (0.00 per sec.)
    reconnects:                          0      (0.00 per sec.)

Latency (ms):
         min:                                    0.04
         avg:                                    0.08
         max:                                    4.57
         95th percentile:                        0.11
`;

test("parses rates, p95 and ignored errors", { timeout: 5_000 }, () => {
  assert.deepEqual(parseSysbench(summary),
    { qps: 104109.47, tps: 104109.47, p95Ms: 0.11, errors: 3 });
});

test("output without a summary parses to null", { timeout: 5_000 }, () => {
  assert.equal(parseSysbench("FATAL: mysql_drv_query() returned error 1235"), null);
});
