/** Runs the engine conformance suite against `MemoryEngine`. */
import { after, before } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerEngineConformance } from "./engine_conformance.ts";
import { MemoryEngine } from "./memory_engine.ts";

let scratch = "";
before(() => {
  scratch = mkdtempSync(join(tmpdir(), "tessera-memory-engine-"));
});
after(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
});

registerEngineConformance("MemoryEngine", {
  open: () => Promise.resolve(new MemoryEngine()),
  scratchDir: () => scratch,
});
