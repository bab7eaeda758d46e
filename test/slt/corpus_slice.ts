/**
 * The slice of the shared sqllogictest corpus that `npm test` runs, and where its copy lives.
 *
 * CI runs on a clean clone and must not depend on files outside the repository, so the
 * slice is vendored under `test/slt/corpus/` (the corpus is public domain, from SQLite's
 * sqllogictest): the first `records` records of each listed file, cut at record
 * boundaries by `scripts/make_slt_sample.ts`. The whole corpus stays in
 * `../shared/sqllogictest` and is run by `npm run slt:all` / `npm run slt:mariadb`.
 */
import { join } from "node:path";

/** Where the vendored slice lives. */
export const sliceCorpusDir = join(import.meta.dirname, "corpus");

/** Corpus-relative file and how many of its records the slice keeps (null: all). */
export const corpusSlice: readonly (readonly [string, number | null])[] = [
  ["select1.test", 300],
  ["select5.test", 60],
  ["evidence/in1.test", null],
  ["evidence/slt_lang_createtrigger.test", null],
  ["evidence/slt_lang_createview.test", null],
  ["evidence/slt_lang_dropindex.test", null],
  ["evidence/slt_lang_aggfunc.test", null],
  ["random/aggregates/slt_good_0.test", 700],
  ["random/expr/slt_good_0.test", 700],
  ["random/groupby/slt_good_8.test", 700],
  ["random/select/slt_good_0.test", 700],
  ["index/between/1/slt_good_0.test", 700],
  ["index/commute/10/slt_good_0.test", 700],
  ["index/delete/1/slt_good_0.test", 100],
  ["index/in/10/slt_good_3.test", 700],
  ["index/orderby/10/slt_good_0.test", 700],
  ["index/orderby_nosort/10/slt_good_0.test", 700],
  ["index/random/10/slt_good_0.test", 700],
  ["index/view/10/slt_good_4.test", 150],
];

/**
 * The first `count` records of a script, cut at a blank line so every record stays whole.
 * A record is a block with a `statement` or `query` line; other blocks (`hash-threshold`,
 * comments) are kept but not counted. Line endings are kept (some files use CRLF).
 */
export function firstRecords(text: string, count: number | null): string {
  if (count === null) return text;
  const separator = /\r?\n[ \t]*\r?\n/g;
  let records = 0;
  let blockStart = 0;
  for (let match = separator.exec(text); match !== null; match = separator.exec(text)) {
    if (/^(statement|query)\b/m.test(text.slice(blockStart, match.index))) records++;
    blockStart = match.index + match[0].length;
    if (records === count) return text.slice(0, blockStart);
  }
  return text;
}
