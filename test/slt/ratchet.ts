/**
 * The pass-count ratchet: per-file pass counts may only go up.
 *
 * A baseline (`test/slt/baseline/<engine>.json`) maps each script file, named as the
 * runner reports it, to `{ passed, total }` where `total` is the file's statement/query
 * record count. `checkRatchet` compares a run with the baseline: a file whose `passed`
 * dropped fails the check; a raise is reported so the baseline can be raised with
 * `raiseBaseline`. Only files present in the run are compared unless `requireAll` is
 * set (a full run must cover every baseline file). Files must be run whole: a run cut by
 * `--max-records` or a time budget would read as a drop, and says so.
 */

/** One file's entry in a baseline. */
export interface BaselineEntry {
  readonly passed: number;
  readonly total: number;
}

/** A committed baseline of per-file pass counts. */
export interface Baseline {
  /** What was run, against what, and when the counts were last raised. */
  readonly description: string;
  readonly files: Readonly<Record<string, BaselineEntry>>;
}

/** What the ratchet needs of a file's run. */
export interface RatchetInput {
  readonly file: string;
  readonly passed: number;
  readonly records: number;
  /** Records not reached (halt excluded) because of a budget or limit. */
  readonly unreached: number;
  readonly halted: boolean;
}

/** A file whose count moved. */
export interface RatchetChange {
  readonly file: string;
  readonly baseline: number;
  readonly now: number;
}

/** The verdict of one check. */
export interface RatchetReport {
  /** True when nothing dropped and nothing required is missing. */
  readonly ok: boolean;
  readonly drops: readonly RatchetChange[];
  readonly raises: readonly RatchetChange[];
  /** Run files not in the baseline (a new file starts at 0, so it is a raise). */
  readonly added: readonly string[];
  /** Baseline files absent from the run (a failure only with `requireAll`). */
  readonly missing: readonly string[];
  /** Files whose record count differs from the baseline's `total` (corpus changed). */
  readonly totalChanged: readonly string[];
  /** Human-readable lines, one per finding. */
  readonly messages: readonly string[];
}

/** Compares a run with a baseline. */
export function checkRatchet(
  baseline: Baseline,
  results: readonly RatchetInput[],
  options: { readonly requireAll?: boolean } = {},
): RatchetReport {
  const drops: RatchetChange[] = [];
  const raises: RatchetChange[] = [];
  const added: string[] = [];
  const totalChanged: string[] = [];
  const messages: string[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    seen.add(r.file);
    const entry = baseline.files[r.file];
    if (entry === undefined) {
      added.push(r.file);
      if (r.passed > 0) raises.push({ file: r.file, baseline: 0, now: r.passed });
      messages.push(`new file ${r.file}: ${r.passed}/${r.records} passed`);
      continue;
    }
    if (entry.total !== r.records) {
      totalChanged.push(r.file);
      messages.push(`${r.file}: ${r.records} records, baseline has ${entry.total}`);
    }
    if (r.passed < entry.passed) {
      drops.push({ file: r.file, baseline: entry.passed, now: r.passed });
      const cut = r.unreached > 0 && !r.halted ? ` (${r.unreached} records unreached)` : "";
      messages.push(`DROP ${r.file}: ${r.passed} passed, baseline ${entry.passed}${cut}`);
    } else if (r.passed > entry.passed) {
      raises.push({ file: r.file, baseline: entry.passed, now: r.passed });
      messages.push(`raise ${r.file}: ${r.passed} passed, baseline ${entry.passed}`);
    }
  }
  const missing = Object.keys(baseline.files)
    .filter((f) => !seen.has(f))
    .sort();
  if (options.requireAll === true) {
    for (const f of missing) messages.push(`MISSING ${f}: in the baseline but not run`);
  }
  const ok = drops.length === 0 && (options.requireAll !== true || missing.length === 0);
  return { ok, drops, raises, added, missing, totalChanged, messages };
}

/**
 * The baseline with every run file's entry set to the run's counts where they rose (or
 * the file is new). Drops are not written: lowering a baseline is a deliberate edit.
 */
export function raiseBaseline(
  baseline: Baseline,
  results: readonly RatchetInput[],
  description: string = baseline.description,
): Baseline {
  const files: Record<string, BaselineEntry> = { ...baseline.files };
  for (const r of results) {
    const entry = files[r.file];
    if (entry === undefined || r.passed > entry.passed) {
      files[r.file] = { passed: r.passed, total: r.records };
    }
  }
  const sorted: Record<string, BaselineEntry> = {};
  for (const key of Object.keys(files).sort()) sorted[key] = files[key] as BaselineEntry;
  return { description, files: sorted };
}

/** Reads a baseline from its JSON text, checking its shape. */
export function parseBaseline(text: string): Baseline {
  const raw = JSON.parse(text) as unknown;
  if (typeof raw !== "object" || raw === null) throw new Error("baseline: not an object");
  const { description, files } = raw as { description?: unknown; files?: unknown };
  if (typeof description !== "string") throw new Error("baseline: description must be text");
  if (typeof files !== "object" || files === null) throw new Error("baseline: files missing");
  for (const [file, entry] of Object.entries(files)) {
    const e = entry as { passed?: unknown; total?: unknown };
    if (!Number.isSafeInteger(e.passed) || !Number.isSafeInteger(e.total)) {
      throw new Error(`baseline: ${file} needs integer passed and total`);
    }
    if ((e.passed as number) > (e.total as number) || (e.passed as number) < 0) {
      throw new Error(`baseline: ${file} has passed outside 0..total`);
    }
  }
  return { description, files: files as Record<string, BaselineEntry> };
}

/** The JSON text of a baseline, stable across runs (sorted keys, one file per line). */
export function formatBaseline(baseline: Baseline): string {
  const lines = Object.keys(baseline.files)
    .sort()
    .map((file) => {
      const e = baseline.files[file] as BaselineEntry;
      return `    ${JSON.stringify(file)}: { "passed": ${e.passed}, "total": ${e.total} }`;
    });
  const description = JSON.stringify(baseline.description);
  return `{\n  "description": ${description},\n  "files": {\n${lines.join(",\n")}\n  }\n}\n`;
}
