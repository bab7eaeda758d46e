/**
 * Text and JSON reports of a sqllogictest run: one line per file, totals per directory and
 * overall, and the first failures with their SQL, expected and actual values.
 */
import { dirname } from "node:path";
import type { FileResult, Totals } from "./runner.ts";
import { totalsOf } from "./runner.ts";

/** One line of counts for a file or a group. */
export function countsLine(name: string, t: Omit<Totals, "files">): string {
  const pct = t.run === 0 ? "-" : `${((100 * t.passed) / t.run).toFixed(1)}%`;
  return (
    `${name}: ${t.records} records, run ${t.run}, passed ${t.passed}, failed ${t.failed}, ` +
    `skipped ${t.skipped}, unreached ${t.unreached} (${pct} of run)`
  );
}

/**
 * The group a file is totalled under: in the shared corpus its folder (two levels for
 * `random/` and `index/`, e.g. `index/between`) or its own name at the top level
 * (`select1.test`); elsewhere its directory.
 */
export function groupOf(file: string): string {
  const corpus = /(?:^|\/)sqllogictest\/(.*)$/.exec(file);
  if (corpus === null) return dirname(file);
  const parts = (corpus[1] as string).split("/");
  if (parts.length === 1) return parts[0] as string;
  const depth = parts[0] === "random" || parts[0] === "index" ? 2 : 1;
  return parts.slice(0, Math.min(depth, parts.length - 1)).join("/");
}

/** Totals per group, sorted by group name. */
export function totalsByGroup(results: readonly FileResult[]): Map<string, Totals> {
  const groups = new Map<string, FileResult[]>();
  for (const r of results) {
    const g = groupOf(r.file);
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  const out = new Map<string, Totals>();
  for (const g of [...groups.keys()].sort()) out.set(g, totalsOf(groups.get(g) ?? []));
  return out;
}

/** The per-file status line printed as each file finishes. */
export function fileLine(r: FileResult): string {
  const flags = [
    r.halted ? "halted" : "",
    r.budgetExceeded ? "time budget exceeded" : "",
    r.error !== null ? `ERROR ${r.error}` : "",
  ].filter((f) => f !== "");
  const extra = flags.length > 0 ? ` [${flags.join("; ")}]` : "";
  return `${countsLine(r.file, r)} in ${(r.elapsedMs / 1000).toFixed(1)} s${extra}`;
}

/** The first `limit` failures over all files, each as a block of lines. */
export function failureBlocks(results: readonly FileResult[], limit: number): string[] {
  const out: string[] = [];
  for (const r of results) {
    for (const f of r.failures) {
      if (out.length >= limit) return out;
      const cut = (lines: readonly string[]): string =>
        lines.length === 0
          ? "(no rows)"
          : lines.length > 12
            ? `${lines.slice(0, 12).join("\n")}\n  … ${lines.length - 12} more`
            : lines.join("\n");
      out.push(
        `--- ${f.file}:${f.line}: ${f.reason}\n${f.sql}\n` +
          `expected:\n${cut(f.expected)}\nactual:\n${cut(f.actual)}`,
      );
    }
  }
  return out;
}
