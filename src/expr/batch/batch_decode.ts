/**
 * Decodes a batch of table row pairs straight into `Column`s (the batch executor's scan,
 * TiKV's `BatchTableScanExecutor`): only the columns the request reads get values, and
 * integers and DOUBLEs go into typed arrays without a `Value` object each. Decoding is
 * lazy as TiKV's: `decode` validates every row and decodes the columns a selection
 * needs; `decodeRows` decodes the other columns of the rows the selection kept. Handles
 * stay numbers until a row is output (`Handles`).
 *
 * It accepts exactly what the row executor's decoder (dag_exec.ts `RowDecoder` over the
 * row codec) accepts: the same key checks, every stored column validated (UTF-8 text,
 * decimal digits, tags, lengths) even when not read. It throws on anything else; the
 * batch executor then reruns the batch through `RowDecoder`, which throws the row
 * executor's error at the same pair. Values equal the row executor's: `readStoredDagValue`
 * of the stored value, or of the column's origin default when the row predates it.
 */
import { tableId as toTableId } from "../../base/mod.ts";
import { recordPrefix, rowKeyBytes } from "../../codec/mod.ts";
import type { DagColumn } from "../dag.ts";
import { type DagPair, handleValue, readStoredDagValue } from "../dag_exec.ts";
import type { Value } from "../value.ts";
import { type Column, Tag } from "./chunk.ts";

const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

function corrupt(why: string): Error {
  return new Error(`batch decode: ${why}`);
}

/** Text of `bytes` (UTF-8, validated), ASCII without the decoder. */
function utf8Text(bytes: Uint8Array, from: number, to: number): string {
  if (to - from <= 24) {
    let ascii = true;
    for (let i = from; i < to; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = "";
      for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
      return s;
    }
  }
  return fromUtf8.decode(bytes.subarray(from, to));
}

/** Throws unless `bytes[from, to)` is valid UTF-8. */
function checkUtf8(bytes: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    if (bytes[i]! >= 0x80) {
      fromUtf8.decode(bytes.subarray(from, to));
      return;
    }
  }
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** The handles of a batch: numbers within ±2^53, else bigints. */
export class Handles {
  private readonly nums: Float64Array;
  private readonly bigs: (bigint | undefined)[] = [];

  constructor(length: number) {
    this.nums = new Float64Array(length);
  }

  setFromKey(i: number, key: Uint8Array): void {
    const at = key.length - 8;
    const hi = ((key[at]! ^ 0x80) << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) |
      key[at + 3]!;
    const lo = u32(key, at + 4);
    if (hi >= -0x20_0000 && hi < 0x20_0000) {
      this.nums[i] = hi * 0x1_0000_0000 + lo;
    } else {
      this.bigs[i] = (BigInt(hi) << 32n) + BigInt(lo);
    }
  }

  set(i: number, handle: bigint): void {
    this.bigs[i] = handle;
  }

  /** Handle `i` as a number when it is one exactly, else undefined. */
  numberAt(i: number): number | undefined {
    return this.bigs[i] === undefined ? this.nums[i]! : undefined;
  }

  at(i: number): bigint {
    return this.bigs[i] ?? BigInt(this.nums[i]!);
  }
}

/** Decodes table row pairs into columns. */
export class TableBatchDecoder {
  private readonly columns: readonly DagColumn[];
  private readonly handleSlot: number | null;
  private readonly prefix: Uint8Array;
  /** Output slot by column id (ids below `slotsDense.length`), -1: not output. */
  private readonly slotsDense: Int32Array;
  private readonly slotsSparse: ReadonlyMap<number, number>;
  private readonly scratch = new Uint8Array(8);
  private readonly scratchDouble = new Float64Array(this.scratch.buffer);
  private readonly littleEndian = new Uint16Array(new Uint8Array([1, 0]).buffer)[0] === 1;
  private readonly filled: Uint8Array;
  private bytes: Uint8Array = new Uint8Array(0);
  private at = 0;

  constructor(scan: { readonly tableId: number; readonly columns: readonly DagColumn[];
    readonly handleSlot: number | null }) {
    this.columns = scan.columns;
    this.handleSlot = scan.handleSlot;
    this.prefix = recordPrefix(toTableId(scan.tableId));
    this.filled = new Uint8Array(scan.columns.length);
    const sparse = new Map<number, number>();
    let maxId = -1;
    scan.columns.forEach((c, i) => {
      if (i !== scan.handleSlot) {
        sparse.set(c.id, i);
        if (c.id < 4096) maxId = Math.max(maxId, c.id);
      }
    });
    const dense = new Int32Array(maxId + 1).fill(-1);
    for (const [id, slot] of sparse) if (id < dense.length) dense[id] = slot;
    this.slotsDense = dense;
    this.slotsSparse = sparse;
  }

  private slotOf(id: number): number {
    if (id < this.slotsDense.length) return this.slotsDense[id]!;
    return this.slotsSparse.get(id) ?? -1;
  }

  /**
   * Checks every pair as the row decoder would (throws on anything it rejects), returns
   * the batch's handles, and decodes the columns marked in `read` into `columns`.
   */
  decode(pairs: readonly DagPair[], read: readonly boolean[], columns: readonly Column[]):
    Handles {
    const n = pairs.length;
    const handles = new Handles(n);
    for (let i = 0; i < n; i++) {
      const key = pairs[i]!.key;
      if (key.length !== rowKeyBytes) throw corrupt("not a row key");
      for (let p = 0; p < this.prefix.length; p++) {
        if (key[p] !== this.prefix[p]) throw corrupt("another table's key");
      }
      handles.setFromKey(i, key);
      this.decodeRow(pairs[i]!.value, i, read, columns, true);
      this.finishRow(i, read, columns, handles);
    }
    return handles;
  }

  /** Decodes the columns marked in `read` of rows `sel[0 … count)` (already checked). */
  decodeRows(pairs: readonly DagPair[], sel: Int32Array, count: number,
    read: readonly boolean[], columns: readonly Column[], handles: Handles): void {
    for (let k = 0; k < count; k++) this.decodeOne(pairs, sel[k]!, read, columns, handles);
  }

  /** Decodes the columns marked in `read` of row `i` (already checked). */
  decodeOne(pairs: readonly DagPair[], i: number, read: readonly boolean[],
    columns: readonly Column[], handles: Handles): void {
    this.decodeRow(pairs[i]!.value, i, read, columns, false);
    this.finishRow(i, read, columns, handles);
  }

  /** The handle column and origin defaults of row `i`'s read columns it lacks. */
  private finishRow(i: number, read: readonly boolean[], columns: readonly Column[],
    handles: Handles): void {
    const filled = this.filled;
    for (let c = 0; c < columns.length; c++) {
      if (read[c] !== true) continue;
      if (c === this.handleSlot) {
        const type = this.columns[c]!.type;
        const h = handles.numberAt(i);
        const unsigned = type.kind === "int" && type.unsigned;
        if (h !== undefined && (!unsigned || h >= 0)) {
          columns[c]!.setNumber(i, unsigned ? Tag.uint : Tag.int, h);
        } else {
          columns[c]!.set(i, handleValue(this.columns[c]!, handles.at(i)));
        }
      } else if (filled[c] === 0) {
        const col = this.columns[c]!;
        columns[c]!.set(i, readStoredDagValue(col.type, col.originDefault));
      }
    }
  }

  private byte(): number {
    if (this.at >= this.bytes.length) throw corrupt("truncated");
    return this.bytes[this.at++]!;
  }

  private varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const x = this.byte();
      v += (x & 0x7f) * scale;
      if ((x & 0x80) === 0) return v;
      scale *= 128;
    }
    throw corrupt("varint too long");
  }

  private skip(k: number): number {
    if (this.at + k > this.bytes.length) throw corrupt("truncated");
    const from = this.at;
    this.at += k;
    return from;
  }

  private decodeRow(b: Uint8Array, row: number, read: readonly boolean[],
    columns: readonly Column[], check: boolean): void {
    this.bytes = b;
    this.at = 0;
    this.filled.fill(0);
    if (this.byte() !== 0x01) throw corrupt("unknown version");
    const count = this.varint();
    for (let i = 0; i < count; i++) {
      const id = this.varint();
      const tag = this.byte();
      const slot = this.slotOf(id);
      const out = slot >= 0 && read[slot] === true ? columns[slot]! : null;
      switch (tag) {
        case 0:
          if (out !== null) out.setNull(row);
          break;
        case 1:
        case 2: {
          const p = this.skip(8);
          if (out === null) break;
          const high = u32(b, p);
          const low = u32(b, p + 4);
          const hi = tag === 1 ? high | 0 : high;
          if (hi >= -0x20_0000 && hi < 0x20_0000) {
            const v = hi * 0x1_0000_0000 + low;
            if (v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER) {
              out.setNumber(row, tag === 1 ? Tag.int : Tag.uint, v);
              break;
            }
            out.set(row, { kind: tag === 1 ? "int" : "uint", value: BigInt(v) });
            break;
          }
          out.set(row, { kind: tag === 1 ? "int" : "uint",
            value: (BigInt(hi) << 32n) + BigInt(low) });
          break;
        }
        case 3: {
          const p = this.skip(8);
          if (out === null) break;
          const scratch = this.scratch;
          if (this.littleEndian) {
            for (let k = 0; k < 8; k++) scratch[7 - k] = b[p + k]!;
          } else {
            for (let k = 0; k < 8; k++) scratch[k] = b[p + k]!;
          }
          out.setNumber(row, Tag.double, this.scratchDouble[0]!);
          break;
        }
        case 4: {
          const scale = this.byte();
          const len = this.varint();
          const p = this.skip(len);
          if (check || out !== null) {
            let ok = len > 0;
            for (let k = 0; k < len && ok; k++) {
              const c = b[p + k]!;
              ok = (c >= 0x30 && c <= 0x39) || (k === 0 && c === 0x2d && len > 1);
            }
            if (!ok) throw corrupt("bad decimal");
          }
          if (out === null) break;
          let digits = "";
          for (let k = 0; k < len; k++) digits += String.fromCharCode(b[p + k]!);
          this.put(out, slot, row, { kind: "decimal", unscaled: BigInt(digits), scale });
          break;
        }
        case 5: {
          const len = this.varint();
          const p = this.skip(len);
          if (out === null) {
            if (check) checkUtf8(b, p, p + len);
            break;
          }
          this.put(out, slot, row, { kind: "string", value: utf8Text(b, p, p + len) });
          break;
        }
        case 6: {
          const p = this.skip(12);
          if (out === null) break;
          this.put(out, slot, row, { kind: "datetime", fsp: b[p + 11]!, value: {
            year: (b[p]! << 8) | b[p + 1]!, month: b[p + 2]!, day: b[p + 3]!,
            hour: b[p + 4]!, minute: b[p + 5]!, second: b[p + 6]!,
            microsecond: u32(b, p + 7) } });
          break;
        }
        default:
          throw corrupt(`unknown tag ${tag}`);
      }
      if (slot >= 0) this.filled[slot] = 1;
    }
    if (this.at !== b.length) throw corrupt("bytes after the last column");
  }

  private put(out: Column, slot: number, row: number, value: Value): void {
    const type = this.columns[slot]!.type;
    out.set(row, type.kind === "string" || type.kind === "decimal" ? value
      : readStoredDagValue(type, value));
  }
}
