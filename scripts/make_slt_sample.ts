/**
 * Rebuilds `test/slt/corpus/`, the vendored slice of the sqllogictest corpus that CI runs,
 * from `../shared/sqllogictest` (or the directory given as the first argument).
 * Run: `node scripts/make_slt_sample.ts [CORPUS_DIR]`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { corpusSlice, firstRecords, sliceCorpusDir } from "../test/slt/corpus_slice.ts";

const source = resolve(process.argv[2] ?? join(import.meta.dirname, "../../shared/sqllogictest"));
rmSync(sliceCorpusDir, { recursive: true, force: true });
for (const [file, records] of corpusSlice) {
  const text = readFileSync(join(source, file), "utf8");
  const target = join(sliceCorpusDir, file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, firstRecords(text, records));
}
process.stdout.write(`wrote ${corpusSlice.length} files to ${sliceCorpusDir}\n`);
