/**
 * Child process for the LMDB lock tests: opens the engine in argv[2], prints `ready`, and
 * keeps it open until killed.
 */
import { LmdbEngine } from "../lmdb_engine.ts";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: lock_holder.ts DIR");
await LmdbEngine.open(dir);
process.stdout.write("ready\n");
setInterval(() => undefined, 60_000);
