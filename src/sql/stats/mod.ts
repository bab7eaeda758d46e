/**
 * Table statistics for the optimizer: equal-depth histograms and top-N of every column
 * and index built by `ANALYZE TABLE` (`builder.ts`, `histogram.ts`), stored under the
 * meta prefix (`codec.ts`, `store.ts`), cached per SQL node and refreshed automatically
 * after enough row changes (`service.ts`), and row estimates for key ranges
 * (`estimateIntervals`), which `src/sql/plan/index_access.ts` turns into access-path costs.
 */
export {
  type Bucket,
  type Histogram,
  type Interval,
  type TableStats,
  buildHistogram,
  estimateEqual,
  estimateInterval,
  estimateIntervals,
} from "./histogram.ts";
export { StatsBuilder } from "./builder.ts";
export { type StatsMeta, decodeStats, encodeStats } from "./codec.ts";
export { analyzeTable, readAllMeta, readAllModifyCounts, readStats } from "./store.ts";
export { type StatsOptions, StatsService, needsAnalyze, statsOptionsDefault }
  from "./service.ts";
export { analyzeColumns, analyzeStatement, noteStatementWrites } from "./statements.ts";
