// A bundle's `.index` decoded into its header and one checked description per tensor. Everything
// that can be judged from the index alone is judged here: dtype, shape, sizes against the shape,
// shard numbers; offsets against the data files' real sizes are checked by the caller.
import { CheckpointFormatError } from '../../checkpoint/errors.js';
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
    throw new CheckpointFormatError(file, `needs a reader of bundle version ${header.version.minConsumer} or later; this one reads version ${BUNDLE_VERSION}`, first.at);
  }
  const tensors = table.entries.slice(1).map((entry) => describe(entry.key, new ByteReader(entry.value, file, entry.at), header.numShards, file, entry.at));
  return { header, tensors, dataBlockCompression: table.dataBlockCompression };
}

function describe(name: string, value: ByteReader, numShards: number, file: string, at: number): IndexedTensor {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, `tensor "${name}": ${problem}`, at);
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
    if (elements > BigInt(Number.MAX_SAFE_INTEGER)) fail(`has shape [${entry.dims.slice(0, 8).join(', ')}${entry.dims.length > 8 ? ', …' : ''}], more elements than any file can hold`);
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
