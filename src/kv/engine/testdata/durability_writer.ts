/**
 * Child process for the LMDB durability tests. Opens the engine in argv[2] and writes
 * numbered batches with `sync: true`, printing `ack N` after batch N's write resolved.
 * Each batch puts `keysPerBatch` keys `bNNNNNNNN-J`, every value the batch number, so a
 * half-applied batch is visible as a batch with fewer keys.
 *
 * Mode `sync` (default) runs until killed. Mode `fill` writes 20 KiB values until a write
 * fails (run under a file-size limit), then prints `failed CODE` and the code of one more
 * write attempt as `after CODE`, and exits.
 */
import { hasErrorCode, ErrorCode, TesseraError } from "../../../base/mod.ts";
import type { WriteOp } from "../engine.ts";
import { LmdbEngine } from "../lmdb_engine.ts";

const [dir, mode = "sync"] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: durability_writer.ts DIR [sync|fill]");
const keysPerBatch = 5;
const enc = new TextEncoder();

function batch(n: number, valueBytes: number): WriteOp[] {
  const ops: WriteOp[] = [];
  const tag = enc.encode(String(n));
  for (let j = 0; j < keysPerBatch; j++) {
    const value = new Uint8Array(Math.max(valueBytes, tag.length));
    value.set(tag);
    ops.push({ kind: "put", key: enc.encode(`b${String(n).padStart(8, "0")}-${j}`), value });
  }
  return ops;
}

const engine = await LmdbEngine.open(dir);
if (mode === "fill") {
  let n = 0;
  for (;;) {
    try {
      await engine.write(batch(n, 20_000), { sync: true });
      process.stdout.write(`ack ${n}\n`);
      n++;
    } catch (error) {
      const code = error instanceof TesseraError ? error.code : String(error);
      process.stdout.write(`failed ${code}\n`);
      break;
    }
  }
  try {
    await engine.write(batch(n + 1, 1), { sync: true });
    process.stdout.write("after ok\n");
  } catch (error) {
    const stopped = hasErrorCode(error, ErrorCode.KvEngineWriteFailed);
    process.stdout.write(`after ${stopped ? ErrorCode.KvEngineWriteFailed : String(error)}\n`);
  }
  await engine.close();
} else {
  for (let n = 0; ; n++) {
    await engine.write(batch(n, 0), { sync: true });
    process.stdout.write(`ack ${n}\n`);
  }
}
