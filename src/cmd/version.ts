/**
 * The Tessera version, read once from the package's `package.json`, so `--version`,
 * `/status` and logs all report the version that `npm` installed.
 */
import { readFileSync } from "node:fs";
import { assert } from "../base/mod.ts";

function readVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
  assert(typeof version === "string", "package.json has no version string");
  return version;
}

/** This build's version (`0.1.0`). */
export const tesseraVersion: string = readVersion();
