// metrics.columns: a run's metric history in columns, beside metrics.jsonl (which stays the truth).
// A chart asks for a 1,000,000-point history by range and resolution; parsing that many JSON
// lines takes seconds, reading these columns tens of milliseconds.
//
// Layout (little-endian; every offset a multiple of 8 from the file's start):
//
//   file header  16 bytes   "CSCOLS01" (8), format version u32 (1), reserved u32 (0)
//   block        repeated   appended whole; each covers the next stretch of metrics.jsonl
//     prefix     16 bytes   magic u32 0x4b4c4243 ("CBLK"), header length u32, body length u32,
//                           CRC-32C u32 of header + body
//     header     JSON       { jsonlEnd, lastLineCrc, tables: [{ kind, rows, stepMin, stepMax, ordered,
//                           columns: [{ name, type, min, max, count }] }] }, padded with spaces to 8
//     body                  per table, in order: steps Float64[rows], times Float64[rows] (epoch ms,
//                           NaN: none), then each column's values, Float32 or Float64 [rows]
//                           (NaN: null or absent), each padded to 8 bytes
//
// - `jsonlEnd` is the byte offset in metrics.jsonl just past the last line the block covers, and
//   `lastLineCrc` the CRC-32C of that line (without its newline): blocks cover a prefix of the log,
//   so a reader takes the blocks, then parses the log from the last block's `jsonlEnd`. A log that
//   no longer holds that line at that offset (replaced, set aside) makes the file stale: rebuilt.
// - A table holds one kind's rows (train or validation; checkpoint records are not points). Its
//   step range and each column's min/max let a range read skip blocks without touching their body.
// - A block's column is Float32 when every value of it is one exactly (a trainer's losses are:
//   they are float32 tensors' values, whatever the log's JSON spells), else Float64: every value
//   comes back exactly as metrics.jsonl holds it. Steps and times are Float64, exact.
// - A torn last block (a writer killed mid-append) is ignored; damage anywhere else makes the
//   whole file unusable: the reader says which file and falls back to metrics.jsonl.
import { z } from 'zod';
import { crc32c } from '../base/crc32c.js';
import { CheckpointFormatError } from '../base/errors.js';

export { COLUMNS_FILE } from './layout.js';
export const FILE_MAGIC = 'CSCOLS01';
export const FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = 16;
export const BLOCK_MAGIC = 0x4b4c4243;
const PREFIX_BYTES = 16;
/** Rows a writer gathers before it appends a block: the log's unblocked tail stays short to parse. */
export const BLOCK_ROWS = 4096;

export type ColumnKind = 'train' | 'validation';
export type ColumnValues = Float32Array | Float64Array;

/** One kind's rows of a block, or of the log's tail, as columns. */
export interface Table {
  readonly kind: ColumnKind;
  readonly rows: number;
  readonly steps: Float64Array;
  readonly times: Float64Array;
  readonly columns: ReadonlyMap<string, ColumnValues>;
  readonly stepMin: number;
  readonly stepMax: number;
  /** Steps strictly ascending. */
  readonly ordered: boolean;
}

export interface Block {
  readonly jsonlEnd: number;
  readonly lastLineCrc: number;
  readonly tables: readonly Table[];
}

const ColumnHeaderSchema = z.object({
  name: z.string().min(1),
  type: z.enum(['f32', 'f64']),
  min: z.number().nullable(),
  max: z.number().nullable(),
  count: z.number().int().nonnegative(),
});
const TableHeaderSchema = z.object({
  kind: z.enum(['train', 'validation']),
  rows: z.number().int().positive(),
  stepMin: z.number(),
  stepMax: z.number(),
  ordered: z.boolean(),
  columns: z.array(ColumnHeaderSchema),
});
const BlockHeaderSchema = z.object({
  jsonlEnd: z.number().int().nonnegative(),
  lastLineCrc: z.number().int().nonnegative(),
  tables: z.array(TableHeaderSchema),
});
type ColumnHeader = z.infer<typeof ColumnHeaderSchema>;
type TableHeader = z.infer<typeof TableHeaderSchema>;

/** Whether a value of the column is no Float32: the column is stored as Float64 so that it reads back exactly. */
function needsFloat64(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] as number;
    if (Math.fround(value) !== value && !Number.isNaN(value)) return true;
  }
  return false;
}

const padded = (bytes: number): number => Math.ceil(bytes / 8) * 8;

function columnHeader(name: string, values: ArrayLike<number>): ColumnHeader {
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] as number;
    if (Number.isNaN(value)) continue;
    count += 1;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const finite = count > 0 && Number.isFinite(min) && Number.isFinite(max);
  return { name, type: needsFloat64(values) ? 'f64' : 'f32', min: finite ? min : null, max: finite ? max : null, count };
}

/** One kind's rows as they are gathered, before they become a block's table. */
export interface TableRows {
  readonly kind: ColumnKind;
  readonly steps: number[];
  readonly times: number[];
  /** Each as long as `steps`; NaN where a row has no value. */
  readonly columns: Map<string, number[]>;
}

function tableHeader(rows: TableRows): TableHeader {
  let ordered = true;
  let stepMin = Infinity;
  let stepMax = -Infinity;
  rows.steps.forEach((step, i) => {
    if (i > 0 && step <= (rows.steps[i - 1] as number)) ordered = false;
    stepMin = Math.min(stepMin, step);
    stepMax = Math.max(stepMax, step);
  });
  const columns = [...rows.columns].map(([name, values]) => columnHeader(name, values));
  return { kind: rows.kind, rows: rows.steps.length, stepMin, stepMax, ordered, columns };
}

/** The file's first 16 bytes. */
export function encodeFileHeader(): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  header.write(FILE_MAGIC, 0, 'latin1');
  header.writeUInt32LE(FORMAT_VERSION, 8);
  return header;
}

/** A block covering metrics.jsonl up to `jsonlEnd`, whose last line's CRC-32C is `lastLineCrc`. */
export function encodeBlock(tables: readonly TableRows[], jsonlEnd: number, lastLineCrc: number): Buffer {
  const present = tables.filter((t) => t.steps.length > 0);
  const headers = present.map(tableHeader);
  let json = JSON.stringify({ jsonlEnd, lastLineCrc, tables: headers });
  json += ' '.repeat(padded(Buffer.byteLength(json)) - Buffer.byteLength(json));
  const headerBytes = Buffer.from(json, 'utf8');
  const parts: Buffer[] = [];
  present.forEach((table, t) => {
    parts.push(Buffer.from(Float64Array.from(table.steps).buffer), Buffer.from(Float64Array.from(table.times).buffer));
    for (const column of (headers[t] as TableHeader).columns) {
      const values = table.columns.get(column.name) ?? [];
      const typed = column.type === 'f64' ? Float64Array.from(values) : Float32Array.from(values);
      const bytes = Buffer.from(typed.buffer);
      parts.push(bytes, Buffer.alloc(padded(bytes.length) - bytes.length));
    }
  });
  const body = Buffer.concat(parts);
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt32LE(BLOCK_MAGIC, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  prefix.writeUInt32LE(body.length, 8);
  prefix.writeUInt32LE(crc32c(body, crc32c(headerBytes)), 12);
  return Buffer.concat([prefix, headerBytes, body]);
}

/** A typed view of the file's bytes when they are aligned (they are, as written), else a copy. */
function floats<T extends ColumnValues>(kind: 'f32' | 'f64', bytes: Buffer, offset: number, count: number): T {
  const width = kind === 'f64' ? 8 : 4;
  const start = bytes.byteOffset + offset;
  if (start % width === 0) return (kind === 'f64' ? new Float64Array(bytes.buffer, start, count) : new Float32Array(bytes.buffer, start, count)) as T;
  const copy = Uint8Array.prototype.slice.call(bytes, offset, offset + count * width);
  return (kind === 'f64' ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer)) as T;
}

function decodeTables(file: string, bytes: Buffer, bodyStart: number, bodyEnd: number, headers: readonly TableHeader[], base: number): Table[] {
  let at = bodyStart;
  const tables: Table[] = [];
  for (const header of headers) {
    const need = header.rows * 16 + header.columns.reduce((sum, c) => sum + padded(header.rows * (c.type === 'f64' ? 8 : 4)), 0);
    if (at + need > bodyEnd) throw new CheckpointFormatError(file, `block body too short for its ${header.kind} table of ${header.rows} rows`, base + at);
    const steps = floats<Float64Array>('f64', bytes, at, header.rows);
    const times = floats<Float64Array>('f64', bytes, at + header.rows * 8, header.rows);
    at += header.rows * 16;
    const columns = new Map<string, ColumnValues>();
    for (const column of header.columns) {
      columns.set(column.name, floats(column.type, bytes, at, header.rows));
      at += padded(header.rows * (column.type === 'f64' ? 8 : 4));
    }
    tables.push({ kind: header.kind, rows: header.rows, steps, times, columns, stepMin: header.stepMin, stepMax: header.stepMax, ordered: header.ordered });
  }
  return tables;
}

export interface DecodedColumns {
  readonly blocks: readonly Block[];
  /** Bytes of whole blocks: a torn block after them is left out. */
  readonly validBytes: number;
}

function readBlockHeader(file: string, bytes: Buffer, at: number, headerLength: number, base: number): z.infer<typeof BlockHeaderSchema> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8', at + PREFIX_BYTES, at + PREFIX_BYTES + headerLength));
  } catch {
    throw new CheckpointFormatError(file, 'block header is not JSON', base + at + PREFIX_BYTES);
  }
  const parsed = BlockHeaderSchema.safeParse(value);
  if (!parsed.success)
    throw new CheckpointFormatError(file, `block header is not one this program writes (${parsed.error.issues[0]?.message ?? 'invalid'})`, base + at);
  return parsed.data;
}

/**
 * Every whole block of a metrics.columns file's bytes. A block cut short or failing its CRC at
 * the end is a torn append and is left out; anything else wrong throws, naming `file`.
 */
export function decodeColumns(file: string, bytes: Buffer): DecodedColumns {
  if (bytes.length < FILE_HEADER_BYTES || bytes.toString('latin1', 0, 8) !== FILE_MAGIC) {
    throw new CheckpointFormatError(file, `not a metric columns file (it does not start with "${FILE_MAGIC}")`, 0);
  }
  const version = bytes.readUInt32LE(8);
  if (version !== FORMAT_VERSION) throw new CheckpointFormatError(file, `format version ${version}; this program reads version ${FORMAT_VERSION}`, 8);
  const { blocks, validBytes } = decodeBlocks(file, bytes.subarray(FILE_HEADER_BYTES), FILE_HEADER_BYTES);
  return { blocks, validBytes: FILE_HEADER_BYTES + validBytes };
}

/**
 * The whole blocks in `bytes`, which the file holds from offset `base` on (blocks appended since
 * a first read are decoded alone); `validBytes` counts from the start of `bytes`.
 */
export function decodeBlocks(file: string, bytes: Buffer, base: number): DecodedColumns {
  const blocks: Block[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + PREFIX_BYTES > bytes.length) break;
    if (bytes.readUInt32LE(at) !== BLOCK_MAGIC) throw new CheckpointFormatError(file, 'expected a block here', base + at);
    const headerLength = bytes.readUInt32LE(at + 4);
    const bodyLength = bytes.readUInt32LE(at + 8);
    const end = at + PREFIX_BYTES + headerLength + bodyLength;
    if (end > bytes.length) break;
    const stored = bytes.readUInt32LE(at + 12);
    const header = bytes.subarray(at + PREFIX_BYTES, at + PREFIX_BYTES + headerLength);
    const body = bytes.subarray(at + PREFIX_BYTES + headerLength, end);
    if (crc32c(body, crc32c(header)) !== stored) {
      if (end === bytes.length) break;
      throw new CheckpointFormatError(file, 'block fails its CRC-32C check', base + at);
    }
    const parsed = readBlockHeader(file, bytes, at, headerLength, base);
    blocks.push({
      jsonlEnd: parsed.jsonlEnd,
      lastLineCrc: parsed.lastLineCrc,
      tables: decodeTables(file, bytes, at + PREFIX_BYTES + headerLength, end, parsed.tables, base),
    });
    at = end;
  }
  return { blocks, validBytes: at };
}
