// TFRecord framing, as tensorflow/core/lib/io/record_writer.cc writes each record:
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of the data
// (and record_reader.cc reads it). Event files are a sequence of such records, uncompressed.
import { crc32c } from '../../base/crc32c.js';
import { maskCrc } from '../tf/masked-crc.js';

export const LENGTH_BYTES = 8;
export const HEADER_BYTES = LENGTH_BYTES + 4;
export const FOOTER_BYTES = 4;
/** Framing around each record's data. */
export const FRAMING_BYTES = HEADER_BYTES + FOOTER_BYTES;

/**
 * No event record is near this: a serialized protocol buffer cannot exceed 2 GiB, and the largest
 * events (a model's GraphDef, an image) are megabytes. A longer length prefix is damage, and is
 * never allocated for.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

// CRC-32C in JavaScript for short inputs (slice-by-8 tables): a call into the native CRC costs
// 130–180 ns whatever the length, measured here, and most records are a scalar of 50–100 bytes,
// which the tables check in 40–60 ns (the 8-byte length field: 12 ns). Longer data goes native.
const JS_CRC_MAX_BYTES = 128;
const TABLES = Array.from({ length: 8 }, () => new Uint32Array(256));
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
for (let i = 0; i < 256; i += 1) {
  let c = i;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  T0[i] = c >>> 0;
}
for (let k = 1; k < 8; k += 1) {
  const previous = TABLES[k - 1] as Uint32Array;
  const table = TABLES[k] as Uint32Array;
  for (let i = 0; i < 256; i += 1) {
    const entry = previous[i] as number;
    table[i] = (entry >>> 8) ^ (T0[entry & 0xff] as number);
  }
}

function smallCrc32c(b: Uint8Array, start: number, end: number): number {
  let c = ~0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24));
    c =
      (T7[a & 0xff] as number) ^
      (T6[(a >>> 8) & 0xff] as number) ^
      (T5[(a >>> 16) & 0xff] as number) ^
      (T4[a >>> 24] as number) ^
      (T3[b[i + 4] as number] as number) ^
      (T2[b[i + 5] as number] as number) ^
      (T1[b[i + 6] as number] as number) ^
      (T0[b[i + 7] as number] as number);
  }
  for (; i < end; i += 1) c = (T0[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

function crc32cOf(buf: Buffer, start: number, end: number): number {
  return end - start <= JS_CRC_MAX_BYTES ? smallCrc32c(buf, start, end) : crc32c(buf.subarray(start, end));
}

/** Whether the record header at `buf[at]` holds the masked CRC of its length field. */
export function lengthCrcMatches(buf: Buffer, at: number): boolean {
  return maskCrc(smallCrc32c(buf, at, at + LENGTH_BYTES)) === buf.readUInt32LE(at + LENGTH_BYTES);
}

/** The record's data length as a number (exact: anything beyond 2^53 is far beyond MAX_RECORD_BYTES anyway). */
export function recordLength(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 2 ** 32;
}

/** Whether the data at `buf[start, end)` matches the masked CRC stored right after it. */
export function dataCrcMatches(buf: Buffer, start: number, end: number): boolean {
  return maskCrc(crc32cOf(buf, start, end)) === buf.readUInt32LE(end);
}

/** One record framed as record_writer.cc frames it. */
export function frameRecord(data: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(FRAMING_BYTES + data.length);
  record.writeBigUInt64LE(BigInt(data.length), 0);
  record.writeUInt32LE(maskCrc(smallCrc32c(record, 0, LENGTH_BYTES)), LENGTH_BYTES);
  record.set(data, HEADER_BYTES);
  record.writeUInt32LE(maskCrc(crc32cOf(record, HEADER_BYTES, HEADER_BYTES + data.length)), HEADER_BYTES + data.length);
  return record;
}
