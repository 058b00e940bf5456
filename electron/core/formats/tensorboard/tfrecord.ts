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

// CRC-32C by table for the 8-byte length field: a call into the native CRC costs about 120 ns
// whatever the length (measured here), the table 20 ns for 8 bytes; the data goes to the native one.
const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i += 1) {
  let c = i;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[i] = c >>> 0;
}

function smallCrc32c(buf: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i += 1) c = (TABLE[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
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
  return maskCrc(crc32c(buf.subarray(start, end))) === buf.readUInt32LE(end);
}

/** One record framed as record_writer.cc frames it. */
export function frameRecord(data: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(FRAMING_BYTES + data.length);
  record.writeBigUInt64LE(BigInt(data.length), 0);
  record.writeUInt32LE(maskCrc(smallCrc32c(record, 0, LENGTH_BYTES)), LENGTH_BYTES);
  record.set(data, HEADER_BYTES);
  record.writeUInt32LE(maskCrc(crc32c(data)), HEADER_BYTES + data.length);
  return record;
}
