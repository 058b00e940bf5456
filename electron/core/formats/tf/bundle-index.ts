// A bundle's `.index` decoded into its header and one checked description per tensor. Everything
// that can be judged from the index alone is judged here: dtype, shape, sizes against the shape,
// shard numbers; offsets against the data files' real sizes are checked by the caller.
import { quoted } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import type { ForeignDtype } from '../foreign.js';
import { ByteReader } from './byte-reader.js';
import { type BundleHeader, decodeEntry, decodeHeader } from './bundle-protos.js';
import { MAX_SHARDS } from './bundle-files.js';
import { readTable } from './sstable-reader.js';
import { dtypeFromTf, tfElementBytes } from './tf-dtypes.js';

export interface IndexedTensor {
  readonly name: string;
  readonly dtype: ForeignDtype;
  readonly shape: readonly number[];
  readonly elements: number;
  readonly shardId: number;
  readonly offset: number;
  readonly size: number;
  /** As stored (masked). */
  readonly maskedCrc32c: number;
  /** The entry's offset in the index file, for errors. */
  readonly at: number;
}

export interface BundleIndex {
  readonly header: BundleHeader;
  readonly tensors: readonly IndexedTensor[];
  readonly dataBlockCompression: readonly ('none' | 'snappy')[];
}

/** The bundle format version this reader understands (tensor_bundle.cc kTensorBundleVersion). */
const BUNDLE_VERSION = 1;

export function decodeBundleIndex(bytes: Uint8Array, file: string): BundleIndex {
  const table = readTable(bytes, file);
  const first = table.entries[0];
  if (first === undefined || first.key !== '') throw new CheckpointFormatError(file, 'has no bundle header (the entry under the empty key)', first?.at ?? 0);
  const header = decodeHeader(new ByteReader(first.value, file, first.at));
  if (header.endianness === 1) {
    throw new CheckpointFormatError(file, 'is a big-endian bundle; only little-endian checkpoints (every common machine) can be read', first.at);
  }
  if (header.endianness !== 0) throw new CheckpointFormatError(file, `has endianness ${header.endianness}; expected 0 (little) or 1 (big)`, first.at);
  if (header.numShards < 1 || header.numShards > MAX_SHARDS) {
    throw new CheckpointFormatError(file, `says it has ${header.numShards} data shards; expected 1 to ${MAX_SHARDS}`, first.at);
  }
  if (header.version.minConsumer > BUNDLE_VERSION || header.version.badConsumers.includes(BUNDLE_VERSION)) {
    throw new CheckpointFormatError(
      file,
      `needs a reader of bundle version ${header.version.minConsumer} or later; this one reads version ${BUNDLE_VERSION}`,
      first.at,
    );
  }
  const tensors = table.entries
    .slice(1)
    .map(
      (entry) =>
        describeFast(entry.key, entry.value, header.numShards, entry.at) ??
        describe(entry.key, new ByteReader(entry.value, file, entry.at), header.numShards, file, entry.at),
    );
  return { header, tensors, dataBlockCompression: table.dataBlockCompression };
}

/**
 * The common entry (known dtype, a shape of plain sizes, safe offset and size agreeing with the
 * shape, no slices, fields as BundleWriter writes them) read straight from its bytes, without
 * bigints or generators: parsing the index of 10,000 variables is mostly this. Anything else —
 * including every damaged entry — returns null and is read, and judged, by `describe`.
 */
function describeFast(name: string, bytes: Uint8Array, numShards: number, at: number): IndexedTensor | null {
  let pos = 0;
  const end = bytes.length;
  // A varint of at most 7 bytes (< 2^49) as a number, or -1: bigger ones take the careful path.
  const varint = (): number => {
    let result = 0;
    for (let i = 0; i < 7; i++) {
      if (pos >= end) return -1;
      const byte = bytes[pos++] as number;
      result += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return result;
    }
    return -1;
  };
  let dtypeCode = 0;
  let shardId = 0;
  let offset = 0;
  let size = 0;
  let crc = 0;
  const shape: number[] = [];
  while (pos < end) {
    const key = varint();
    if (key < 0) return null;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const value = varint();
      if (value < 0) return null;
      if (field === 1) dtypeCode = value;
      else if (field === 3) shardId = value;
      else if (field === 4) offset = value;
      else if (field === 5) size = value;
      else return null;
    } else if (wire === 5 && field === 6) {
      if (pos + 4 > end) return null;
      crc = ((bytes[pos] as number) | ((bytes[pos + 1] as number) << 8) | ((bytes[pos + 2] as number) << 16) | ((bytes[pos + 3] as number) << 24)) >>> 0;
      pos += 4;
    } else if (wire === 2 && field === 2) {
      const length = varint();
      if (length < 0 || pos + length > end) return null;
      const shapeEnd = pos + length;
      while (pos < shapeEnd) {
        // TensorShapeProto.dim (field 2): a Dim message holding size (field 1) only.
        if (bytes[pos++] !== 0x12) return null;
        const dimLength = varint();
        if (dimLength < 0 || pos + dimLength > shapeEnd) return null;
        const dimEnd = pos + dimLength;
        let dim = 0;
        if (pos < dimEnd) {
          if (bytes[pos++] !== 0x08) return null;
          dim = varint();
          if (dim < 0 || pos !== dimEnd) return null;
        }
        shape.push(dim);
      }
    } else return null;
  }
  const dtype = dtypeFromTf(dtypeCode);
  if (typeof dtype !== 'string') return null;
  const elementBytes = tfElementBytes(dtype);
  if (elementBytes === null || shardId >= numShards) return null;
  let elements = 1;
  for (const dim of shape) elements *= dim;
  if (!Number.isSafeInteger(elements * elementBytes) || size !== elements * elementBytes) return null;
  return { name, dtype, shape, elements, shardId, offset, size, maskedCrc32c: crc, at };
}

function describe(name: string, value: ByteReader, numShards: number, file: string, at: number): IndexedTensor {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, `tensor ${quoted(name)}: ${problem}`, at);
  };
  const entry = decodeEntry(value, name);
  if (entry.sliceCount > 0) fail('is a partitioned variable (saved in slices), which is not supported; save it unpartitioned');
  const dtype = dtypeFromTf(entry.dtype);
  if (typeof dtype !== 'string') return fail(`has dtype ${dtype.refused}, which cannot be imported`);
  if (entry.unknownRank) fail('has a shape of unknown rank');
  let elements = entry.dims.includes(0n) ? 0n : 1n;
  for (const dim of entry.dims) {
    if (dim < 0n) fail(`has a negative dimension ${dim}`);
    elements *= dim;
    // Stop before the product grows without bound (a damaged entry can list thousands of dims).
    if (elements > BigInt(Number.MAX_SAFE_INTEGER))
      fail(`has shape [${entry.dims.slice(0, 8).join(', ')}${entry.dims.length > 8 ? ', …' : ''}], more elements than any file can hold`);
  }
  if (entry.offset < 0n || entry.offset > BigInt(Number.MAX_SAFE_INTEGER)) fail(`has offset ${entry.offset}, outside any file`);
  if (entry.size < 0n || entry.size > BigInt(Number.MAX_SAFE_INTEGER)) fail(`has size ${entry.size}, outside any file`);
  if (entry.shardId < 0 || entry.shardId >= numShards) fail(`is in shard ${entry.shardId}, but the bundle has ${numShards}`);
  const elementBytes = tfElementBytes(dtype);
  if (elementBytes !== null && entry.size !== elements * BigInt(elementBytes)) {
    fail(`stores ${entry.size} bytes, but shape [${entry.dims.join(', ')}] of ${dtype} needs ${elements * BigInt(elementBytes)}`);
  }
  if (elementBytes === null && entry.size !== 0n && entry.size < elements + 4n) {
    fail(`stores ${entry.size} bytes, too few for ${elements} strings and their lengths' checksum`);
  }
  return {
    name,
    dtype,
    shape: entry.dims.map(Number),
    elements: Number(elements),
    shardId: entry.shardId,
    offset: Number(entry.offset),
    size: Number(entry.size),
    maskedCrc32c: entry.crc32c,
    at,
  };
}
