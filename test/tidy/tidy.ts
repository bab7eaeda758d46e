/**
 * The tidy checker: structural rules of DESIGN.md and STYLE.md that a compiler does not
 * enforce, checked on every `npm test`.
 *
 * Rules, for every `.ts`/`.js` file under `src/` (test code — `*.test.ts`, helpers named
 * `test_*.ts` and fixtures under `testdata/` — exempt where noted):
 * - `layer`: imports follow the dependency direction of DESIGN.md (`base ← codec ← expr`, …).
 * - `deep-import`: another component is imported only through its `mod.ts`.
 * - `io`: I/O modules, wall clock, `Math.random` and timers only in `env/node`, the engine
 *   adapter (`kv/engine`) and `cmd` (tests exempt).
 * - `pure-async`: no `async`/`await` in the pure components (tests exempt).
 * - `wildcard-export`: no `export * from` (mod.ts files export by name).
 * - `line-length`: no line over 100 columns (everywhere, tests included).
 * - `index-file`: no `index.ts` anywhere (components expose `mod.ts`).
 * - `missing-mod`: every component folder but `cmd` (which nothing imports) has a `mod.ts`.
 * - `file-header`: every source file opens with a comment saying what it is for.
 * The checker parses files with the TypeScript compiler, so comments and strings that
 * mention `Date.now()` are not mistaken for code.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";

/** One rule broken at one place. */
export interface Violation {
  readonly rule:
    | "layer"
    | "deep-import"
    | "io"
    | "pure-async"
    | "wildcard-export"
    | "line-length"
    | "index-file"
    | "missing-mod"
    | "file-header";
  /** Path relative to the checked root, with `/` separators. */
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Direct dependencies of each component, as drawn in DESIGN.md. `cmd` may import anything. */
const directDependencies: Readonly<Record<string, readonly string[]>> = {
  base: [],
  codec: ["base"],
  expr: ["codec"],
  raft: ["base"],
  proto: ["codec"],
  env: ["base"],
  rpc: ["env", "proto"],
  client: ["rpc"],
  pd: ["rpc"],
  kv: ["raft", "expr", "client"],
  sql: ["client", "expr"],
  binlog: ["client", "sql"],
  tools: ["client", "sql"],
  dashboard: ["client", "sql"],
};

/** Components whose code must stay pure: no async, no I/O. */
const pureComponents = new Set(["base", "codec", "expr", "raft", "proto"]);

/** Paths (relative to `src/`, `/`-separated prefixes) where I/O, clocks and timers live. */
const ioAllowedPrefixes = ["env/node/", "kv/engine/", "cmd/"];

/** Modules that perform I/O (bare and `node:` forms). */
const ioModules = new Set(
  [
    "net",
    "tls",
    "fs",
    "fs/promises",
    "http",
    "https",
    "http2",
    "child_process",
    "dgram",
    "dns",
    "timers",
    "timers/promises",
    "worker_threads",
    "cluster",
    "readline",
  ].flatMap((m) => [m, `node:${m}`]).concat(["pino", "lmdb"]),
);

const timerFunctions = new Set(["setTimeout", "setInterval", "setImmediate"]);
const lineColumnsMax = 100;

/** The transitive closure of `directDependencies`: everything a component may import. */
export function allowedDependencies(component: string): ReadonlySet<string> {
  const allowed = new Set<string>();
  const stack = [...(directDependencies[component] ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (allowed.has(next)) continue;
    allowed.add(next);
    stack.push(...(directDependencies[next] ?? []));
  }
  return allowed;
}

/** Checks the tree under `root` (a directory holding `src/`) and returns every violation. */
export function checkTidy(root: string): Violation[] {
  const violations: Violation[] = [];
  const srcDir = join(root, "src");
  // `cmd` is the top of the graph: nothing imports it, so it needs no mod.ts.
  for (const component of listDirectories(srcDir).filter((c) => c !== "cmd")) {
    const modPath = join(srcDir, component, "mod.ts");
    if (!isFile(modPath)) {
      violations.push({
        rule: "missing-mod",
        file: `src/${component}`,
        line: 0,
        message: `component "${component}" has no mod.ts`,
      });
    }
  }
  for (const dir of ["src", "test", "scripts", "bench", "bin", "specs"]) {
    for (const file of listSourceFiles(join(root, dir))) {
      checkFile(root, file, violations);
    }
  }
  return violations;
}

function checkFile(root: string, path: string, out: Violation[]): void {
  const file = relative(root, path).split(sep).join("/");
  const text = readFileSync(path, "utf8");
  const fileName = file.slice(file.lastIndexOf("/") + 1);
  // Test code: `*.test.ts`, test helpers named `test_*.ts`, and fixtures under `testdata/`.
  const isTest =
    /\.test\.ts$/.test(fileName) || fileName.startsWith("test_") || file.includes("/testdata/");

  if (fileName === "index.ts" || fileName === "index.js") {
    out.push({ rule: "index-file", file, line: 1, message: "use mod.ts, not index.ts" });
  }
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.length > lineColumnsMax) {
      out.push({
        rule: "line-length",
        file,
        line: i + 1,
        message: `line has ${line.length} columns (max ${lineColumnsMax})`,
      });
    }
  });
  const firstCode = lines.find((l) => l.trim() !== "" && !l.startsWith("#!"));
  if (firstCode === undefined || !/^\s*(\/\*|\/\/)/.test(firstCode)) {
    out.push({
      rule: "file-header",
      file,
      line: 1,
      message: "a file opens with a comment paragraph saying what it is for",
    });
  }

  if (!file.startsWith("src/")) return;
  const inSrc = file.slice("src/".length);
  const component = inSrc.split("/")[0] ?? "";
  const ioAllowed = isTest || ioAllowedPrefixes.some((p) => inSrc.startsWith(p));
  const mustBePure = pureComponents.has(component) && !isTest;
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lineOf = (node: ts.Node): number =>
    source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;

  const checkSpecifier = (specifier: string, node: ts.Node): void => {
    if (ioModules.has(specifier) && !ioAllowed) {
      out.push({
        rule: "io",
        file,
        line: lineOf(node),
        message: `I/O module "${specifier}" outside env/node, kv/engine and cmd`,
      });
    }
    if (!specifier.startsWith(".")) return;
    const target = join(path, "..", specifier);
    const targetInSrc = relative(srcDir(root), target).split(sep).join("/");
    if (targetInSrc.startsWith("..")) {
      if (!isTest) {
        out.push({
          rule: "layer",
          file,
          line: lineOf(node),
          message: `src imports "${specifier}" from outside src/`,
        });
      }
      return;
    }
    const targetComponent = targetInSrc.split("/")[0] ?? "";
    if (targetComponent === component) return;
    if (targetInSrc !== `${targetComponent}/mod.ts`) {
      out.push({
        rule: "deep-import",
        file,
        line: lineOf(node),
        message: `"${specifier}" reaches inside ${targetComponent}/; import its mod.ts`,
      });
    }
    if (component !== "cmd" && !allowedDependencies(component).has(targetComponent)) {
      out.push({
        rule: "layer",
        file,
        line: lineOf(node),
        message: `${component} may not import ${targetComponent} (DESIGN.md dependency order)`,
      });
    }
  };

  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      checkSpecifier(node.moduleSpecifier.text, node);
      if (ts.isExportDeclaration(node) && node.exportClause === undefined) {
        out.push({
          rule: "wildcard-export",
          file,
          line: lineOf(node),
          message: "export * hides the public surface; export names explicitly",
        });
      }
    } else if (ts.isCallExpression(node)) {
      const arg = node.arguments[0];
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        if (arg !== undefined && ts.isStringLiteral(arg)) checkSpecifier(arg.text, node);
      } else if (!ioAllowed && isTimerCall(node.expression)) {
        out.push({
          rule: "io",
          file,
          line: lineOf(node),
          message: "timers outside env/node and cmd; use Env.timers",
        });
      }
    } else if (ts.isPropertyAccessExpression(node) && !ioAllowed) {
      const what = `${node.expression.getText(source)}.${node.name.text}`;
      if (["Date.now", "performance.now", "process.hrtime", "Math.random"].includes(what)) {
        out.push({
          rule: "io",
          file,
          line: lineOf(node),
          message: `${what} outside env/node and cmd; use Env.clock / Env.random`,
        });
      }
    } else if (
      ts.isNewExpression(node) &&
      !ioAllowed &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "Date" &&
      (node.arguments === undefined || node.arguments.length === 0)
    ) {
      out.push({
        rule: "io",
        file,
        line: lineOf(node),
        message: "new Date() reads the wall clock; use Env.clock",
      });
    }
    if (mustBePure) {
      const isAsync =
        ts.isAwaitExpression(node) ||
        (ts.canHaveModifiers(node) &&
          (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.AsyncKeyword));
      if (isAsync) {
        out.push({
          rule: "pure-async",
          file,
          line: lineOf(node),
          message: `async code in pure component ${component}`,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

function isTimerCall(callee: ts.Expression): boolean {
  if (ts.isIdentifier(callee)) return timerFunctions.has(callee.text);
  return (
    ts.isPropertyAccessExpression(callee) &&
    ts.isIdentifier(callee.expression) &&
    callee.expression.text === "globalThis" &&
    timerFunctions.has(callee.name.text)
  );
}

function srcDir(root: string): string {
  return join(root, "src");
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

function listDirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Every `.ts`/`.js` file under `dir`, skipping `node_modules` and `tidy_fixtures`. */
function listSourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(full);
      } else if (/\.(ts|js)$/.test(entry.name)) {
        out.push(full);
      }
    }
  };
  try {
    walk(dir);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return out.sort();
}
