// BundleHeaderProto and BundleEntryProto (tensorflow/core/protobuf/tensor_bundle.proto), the values
// of a bundle's `.index` table: the header under the empty key, one entry per tensor.
import { quoted } from '../../base/describe-value.js';
import type { ByteReader } from './byte-reader.js';
import { WireWriter, signed64, subReader, wireFields } from './protobuf-wire.js';

export interface BundleHeader {
  readonly numShards: number;
  /** 0 little-endian, 1 big-endian. */
  readonly endianness: number;
  readonly version: { readonly producer: number; readonly minConsumer: number; readonly badConsumers: readonly number[] };
}

export interface BundleEntry {
  /** TensorFlow's DataType enum value (core/framework/types.proto). */
  readonly dtype: number;
  /** Dimension sizes as stored (int64; may be negative or huge in a damaged file). */
  readonly dims: readonly bigint[];
  readonly unknownRank: boolean;
  readonly shardId: number;
  readonly offset: bigint;
  readonly size: bigint;
  /** Masked, as stored. */
  readonly crc32c: number;
  readonly sliceCount: number;
}

function int32(value: bigint): number {
  return Number(BigInt.asIntN(32, value));
}

export function decodeHeader(reader: ByteReader): BundleHeader {
  let numShards = 0;
  let endianness = 0;
  let version: BundleHeader['version'] = { producer: 0, minConsumer: 0, badConsumers: [] };
  for (const f of wireFields(reader, 'bundle header')) {
    if (f.field === 1 && f.wire === 0) numShards = int32(f.varint);
    else if (f.field === 2 && f.wire === 0) endianness = int32(f.varint);
    else if (f.field === 3 && f.wire === 2) version = decodeVersion(subReader(reader, f));
  }
  return { numShards, endianness, version };
}

function decodeVersion(reader: ByteReader): BundleHeader['version'] {
  let producer = 0;
  let minConsumer = 0;
  const badConsumers: number[] = [];
  for (const f of wireFields(reader, 'bundle version')) {
    if (f.field === 1 && f.wire === 0) producer = int32(f.varint);
    else if (f.field === 2 && f.wire === 0) minConsumer = int32(f.varint);
    else if (f.field === 3 && f.wire === 0) badConsumers.push(int32(f.varint));
    else if (f.field === 3 && f.wire === 2) {
      const packed = subReader(reader, f);
      while (!packed.atEnd()) badConsumers.push(int32(packed.varintBig()));
    }
  }
  return { producer, minConsumer, badConsumers };
}

export function decodeEntry(reader: ByteReader, key: string): BundleEntry {
  let dtype = 0;
  const dims: bigint[] = [];
  let unknownRank = false;
  let shardId = 0;
  let offset = 0n;
  let size = 0n;
  let crc = 0;
  let sliceCount = 0;
  for (const f of wireFields(reader, `entry of ${quoted(key)}`)) {
    if (f.field === 1 && f.wire === 0) dtype = int32(f.varint);
    else if (f.field === 2 && f.wire === 2) {
      // A repeated message field may be split; proto merges the parts, so dims accumulate.
      const shape = decodeShape(subReader(reader, f), key);
      for (const dim of shape.dims) dims.push(dim);
      unknownRank ||= shape.unknownRank;
    } else if (f.field === 3 && f.wire === 0) shardId = int32(f.varint);
    else if (f.field === 4 && f.wire === 0) offset = signed64(f.varint);
    else if (f.field === 5 && f.wire === 0) size = signed64(f.varint);
    else if (f.field === 6 && f.wire === 5) crc = f.fixed32;
    else if (f.field === 7 && f.wire === 2) sliceCount++;
  }
  return { dtype, dims, unknownRank, shardId, offset, size, crc32c: crc, sliceCount };
}

function decodeShape(reader: ByteReader, key: string): { dims: bigint[]; unknownRank: boolean } {
  const dims: bigint[] = [];
  let unknownRank = false;
  for (const f of wireFields(reader, `shape of ${quoted(key)}`)) {
    if (f.field === 2 && f.wire === 2) {
      let size = 0n;
      for (const d of wireFields(subReader(reader, f), `dimension of ${quoted(key)}`)) {
        if (d.field === 1 && d.wire === 0) size = signed64(d.varint);
      }
      dims.push(size);
    } else if (f.field === 3 && f.wire === 0) unknownRank = f.varint !== 0n;
  }
  return { dims, unknownRank };
}

/** As BundleWriter::Finish writes it: num_shards, little-endian (the default, so omitted), version {producer 1}. */
export function encodeHeader(numShards: number): Uint8Array {
  const version = new WireWriter().varintField(1, 1).varintField(2, 0).finish();
  return new WireWriter().varintField(1, numShards).varintField(2, 0).bytesField(3, version).finish();
}

/** proto3 field order, defaults omitted; the shape is always present (BundleWriter::Add sets it, even for a scalar). */
export function encodeEntry(entry: {
  dtype: number;
  shape: readonly number[];
  shardId: number;
  offset: number;
  size: number;
  maskedCrc32c: number;
}): Uint8Array {
  const shape = new WireWriter();
  for (const dim of entry.shape) shape.bytesField(2, new WireWriter().varintField(1, dim).finish());
  return new WireWriter()
    .varintField(1, entry.dtype)
    .bytesField(2, shape.finish())
    .varintField(3, entry.shardId)
    .varintField(4, entry.offset)
    .varintField(5, entry.size)
    .fixed32Field(6, entry.maskedCrc32c)
    .finish();
}
