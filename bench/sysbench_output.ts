/**
 * Reading sysbench 1.0's run summary (queries and transactions per second, the 95th
 * percentile latency, ignored errors), for `bench/sysbench.ts` and the sysbench tests.
 */

/** Parses sysbench 1.0's summary. */
export function parseSysbench(output: string): { qps: number; tps: number; p95Ms: number;
  errors: number } | null {
  const num = (re: RegExp): number | null => {
    const m = re.exec(output);
    return m === null ? null : Number(m[1]);
  };
  const qps = num(/queries:\s+\d+\s+\(([\d.]+) per sec\.\)/);
  const tps = num(/transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/);
  const p95 = num(/95th percentile:\s+([\d.]+)/);
  const errors = num(/ignored errors:\s+(\d+)/) ?? 0;
  if (qps === null || tps === null || p95 === null) return null;
  return { qps, tps, p95Ms: p95, errors };
}
