// One tensor of one checkpoint, found without reading its values: where its bytes are, its dtype,
// the key its figures are cached under, and its values' bytes on request. The key changes with
// the bytes: for ours, the CRC-32C the manifest records plus the file's size and modification time
// (a file changed under an unchanged manifest misses the cache, and its read then fails the
// CRC); for another program's checkpoint, the size and time of the files it is read from, its
// format's own checksum and the CRC-32C a verification recorded, where there are any.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { quoted } from '../base/describe-value.js';
import { crc32c, formatCrc } from '../base/crc32c.js';
import { CheckpointFormatError, DamagedTensorError } from '../base/errors.js';
import { openRegular } from '../base/regular-file.js';
import { type ManifestWithForeignPart, hasForeignPart } from '../checkpoint/foreign-part.js';
import { MANIFEST_FILE } from '../checkpoint/layout.js';
import { type Manifest, type TensorEntry, readManifest } from '../checkpoint/manifest.js';
import { readSafetensorsHeaderFrom } from '../checkpoint/safetensors.js';
import type { ForeignCheckpoint, ForeignReader, ForeignTensor } from '../formats/foreign.js';
import { isForeignFormat, readerFor } from '../formats/registry.js';
import { storedManifest } from '../checkpoint/stored-checkpoint.js';
import type { StoredCheckpointAt } from '../checkpoint/stored-at.js';
import type { RandomAccessFile, Storage } from '../storage/storage.js';
import { foreignFilePath, readStoredForeign, storedForeignCheckpoint, storedForeignDir } from '../formats/stored-foreign.js';
import { type NumericDtype, isNumericDtype } from './tensor-values.js';

/** A checkpoint as the worker is told of it: ours (or imported: a manifest), ours in a bucket (issue 18), or another program's read in place. */
export type CheckpointRef =
  | { readonly kind: 'studio'; readonly id: string; readonly step: number; readonly dir: string }
  | ({ readonly kind: 'stored'; readonly id: string; readonly step: number } & StoredCheckpointAt)
  | {
      readonly kind: 'in-place';
      readonly id: string;
      readonly step: number;
      readonly path: string;
      readonly format: string;
      readonly name: string;
      /** Each tensor's CRC-32C as the last full verification recorded it. */
      readonly verifiedCrcs: Readonly<Record<string, number>>;
    };

export interface TensorSource {
  /** The file its bytes are in: what an error names. */
  readonly file: string;
  readonly dtype: NumericDtype;
  readonly shape: readonly number[];
  readonly key: string;
  /** The values' bytes (logical: dequantized where the format quantizes), in order, checked against every checksum there is. */
  chunks(): AsyncIterable<Uint8Array>;
}

/** Bytes read per step when streaming one of our tensors: a multiple of every element size. */
const CHUNK_BYTES = 8 << 20;
/** Bumped when what is cached under a key changes meaning. */
const KEY_VERSION = 1;

function cacheKey(parts: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([KEY_VERSION, parts]))
    .digest('hex');
}

async function fileStamp(file: string): Promise<[number, number]> {
  const info = await stat(file);
  return [info.size, info.mtimeMs];
}

function numericDtype(file: string, name: string, dtype: string): NumericDtype {
  if (!isNumericDtype(dtype)) throw new DamagedTensorError(file, name, `is ${dtype}; distributions are computed of real numbers (floats, integers, booleans)`);
  return dtype;
}

type Opened = { readonly handle: RandomAccessFile; readonly size: number };

const openLocal = (file: string) => async (): Promise<Opened> => {
  const { handle, stats } = await openRegular(file);
  return { handle, size: stats.size };
};

/** Our tensor's bytes, streamed from its safetensors file (on disk, or an object read by ranged GETs), its CRC-32C compared with the manifest's at the end. */
async function* streamOurs(file: string, entry: TensorEntry, open: () => Promise<Opened> = openLocal(file)): AsyncGenerator<Uint8Array> {
  const { handle, size } = await open();
  try {
    const header = await readSafetensorsHeaderFrom(handle, file, size);
    const location = header.tensors.find((t) => t.name === entry.name);
    if (!location) throw new DamagedTensorError(file, entry.name, 'listed in the manifest but missing from the file');
    if (location.dtype !== entry.dtype || location.end - location.begin !== entry.bytes)
      throw new DamagedTensorError(
        file,
        entry.name,
        `is ${location.dtype} of ${location.end - location.begin} bytes, the manifest says ${entry.dtype} of ${entry.bytes}`,
      );
    let crc = 0;
    for (let offset = location.begin; offset < location.end;) {
      const length = Math.min(CHUNK_BYTES, location.end - offset);
      const buffer = new Uint8Array(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      if (bytesRead < length) throw new DamagedTensorError(file, entry.name, `the file ended at byte ${offset + bytesRead}, inside the tensor`);
      crc = crc32c(buffer, crc);
      yield buffer;
      offset += length;
    }
    const actual = formatCrc(crc);
    if (actual !== entry.crc32c)
      throw new DamagedTensorError(file, entry.name, `CRC32C mismatch: computed ${actual}, the manifest says ${entry.crc32c} (the bytes were changed)`);
  } finally {
    await handle.close();
  }
}

async function* foreignValues(read: AsyncIterable<{ readonly data: Uint8Array }>): AsyncGenerator<Uint8Array> {
  for await (const item of read) yield item.data;
}

async function foreignStamps(checkpoint: ForeignCheckpoint, tensor: ForeignTensor): Promise<[string, number, number][]> {
  // The tensor's own file and every index that says where it lies (a TensorFlow .index, a model.json).
  const files = checkpoint.files.filter((f) => f.name === tensor.file || f.role === 'index');
  const stamps: [string, number, number][] = [];
  for (const file of files) stamps.push([file.name, ...(await fileStamp(path.join(checkpoint.dir, file.name)))]);
  return stamps;
}

async function studioSource(ref: Extract<CheckpointRef, { kind: 'studio' }>, name: string): Promise<TensorSource | null> {
  const manifest: Manifest = await readManifest(path.join(ref.dir, MANIFEST_FILE));
  if (hasForeignPart(manifest)) {
    const entry = manifest.foreign.tensors.find((t) => t.name === name);
    if (!entry) return null;
    const checkpoint = storedForeignCheckpoint(ref.dir, manifest);
    const tensor = checkpoint.tensors.find((t) => t.name === name) as ForeignTensor;
    const file = path.join(checkpoint.dir, entry.file);
    return {
      file,
      dtype: numericDtype(file, name, entry.dtype),
      shape: entry.shape,
      key: cacheKey({ name, dtype: entry.dtype, shape: entry.shape, crc: entry.crc32c, files: await foreignStamps(checkpoint, tensor) }),
      chunks: () => foreignValues(readStoredForeign(ref.dir, manifest, new Set([name]))),
    };
  }
  const entry = manifest.tensors.find((t) => t.name === name);
  if (!entry) return null;
  const file = path.join(ref.dir, entry.file);
  return {
    file,
    dtype: numericDtype(file, name, entry.dtype),
    shape: entry.shape,
    key: cacheKey({ name, dtype: entry.dtype, shape: entry.shape, crc: entry.crc32c, file: await fileStamp(file) }),
    chunks: () => streamOurs(file, entry),
  };
}

/** The checkpoint named `name` among those its path holds (a folder of several is read by the one the catalog named). */
export async function openInPlace(ref: {
  readonly path: string;
  readonly format: string;
  readonly name: string;
}): Promise<{ reader: ForeignReader; checkpoint: ForeignCheckpoint }> {
  if (!isForeignFormat(ref.format)) throw new CheckpointFormatError(ref.path, `no reader for the format ${quoted(ref.format)}`);
  const reader = readerFor(ref.format);
  const source = await reader.open(ref.path);
  const checkpoint = source.checkpoints.find((c) => c.name === ref.name) ?? (source.checkpoints.length === 1 ? source.checkpoints[0] : undefined);
  if (!checkpoint) throw new CheckpointFormatError(ref.path, `holds no checkpoint named ${quoted(ref.name)}`);
  return { reader, checkpoint };
}

async function inPlaceSource(ref: Extract<CheckpointRef, { kind: 'in-place' }>, name: string): Promise<TensorSource | null> {
  const { reader, checkpoint } = await openInPlace(ref);
  const tensor = checkpoint.tensors.find((t) => t.name === name);
  if (!tensor) return null;
  const file = path.join(checkpoint.dir, tensor.file);
  return {
    file,
    dtype: numericDtype(file, name, tensor.dtype),
    shape: tensor.shape,
    key: cacheKey({
      name,
      dtype: tensor.dtype,
      shape: tensor.shape,
      stored: tensor.storedCrc32c ?? null,
      verified: ref.verifiedCrcs[name] ?? null,
      files: await foreignStamps(checkpoint, tensor),
    }),
    chunks: () => foreignValues(reader.read(checkpoint, { names: new Set([name]) })),
  };
}

/**
 * Imported from another program into a bucket: read where its files lie (through the file access),
 * keyed as one of ours in a bucket, by what was recorded at import and its objects' ETags and sizes.
 */
async function storedImportedSource(storage: Storage, folder: string, manifest: ManifestWithForeignPart, name: string): Promise<TensorSource | null> {
  const entry = manifest.foreign.tensors.find((t) => t.name === name);
  if (!entry) return null;
  const dir = storedForeignDir(storage, folder);
  const checkpoint = storedForeignCheckpoint(dir, manifest);
  const file = foreignFilePath(checkpoint.dir, entry.file);
  const objects: [string, number, string | null][] = [];
  for (const f of checkpoint.files.filter((f) => f.name === entry.file || f.role === 'index')) {
    const object = await storage.stat(`${folder}${f.name}`);
    if (object === null) throw new CheckpointFormatError(foreignFilePath(checkpoint.dir, f.name), 'does not exist');
    objects.push([f.name, object.size, object.tag]);
  }
  return {
    file,
    dtype: numericDtype(file, name, entry.dtype),
    shape: entry.shape,
    key: cacheKey({ name, dtype: entry.dtype, shape: entry.shape, crc: entry.crc32c, objects }),
    chunks: () => foreignValues(readStoredForeign(dir, manifest, new Set([name]))),
  };
}

/**
 * One of ours in a bucket: keyed by the manifest's CRC-32C and the object's ETag and size (a
 * replaced object misses the cache, and its read then fails the CRC), read by ranged GETs.
 */
async function storedSource(ref: Extract<CheckpointRef, { kind: 'stored' }>, name: string): Promise<TensorSource | null> {
  // Loaded only for a checkpoint in a bucket: a worker reading folders never loads the S3 client.
  const storage = (await import('../checkpoint/stored-open.js')).storageOf(ref);
  const manifest = await storedManifest(storage, ref.folder);
  if (hasForeignPart(manifest)) return storedImportedSource(storage, ref.folder, manifest, name);
  const entry = manifest.tensors.find((t) => t.name === name);
  if (!entry) return null;
  const key = `${ref.folder}${entry.file}`;
  const file = storage.locate(key);
  const object = await storage.stat(key);
  if (object === null) throw new CheckpointFormatError(file, 'does not exist');
  const open = async (): Promise<Opened> => {
    const opened = await storage.open(key);
    if (opened === null) throw new CheckpointFormatError(file, 'does not exist');
    return { handle: opened.file, size: opened.size };
  };
  return {
    file,
    dtype: numericDtype(file, name, entry.dtype),
    shape: entry.shape,
    key: cacheKey({ name, dtype: entry.dtype, shape: entry.shape, crc: entry.crc32c, object: [object.size, object.tag] }),
    chunks: () => streamOurs(file, entry, open),
  };
}

/** The tensor `name` of the checkpoint, or null when it has none of that name. Reads no tensor bytes. */
export function tensorSource(ref: CheckpointRef, name: string): Promise<TensorSource | null> {
  if (ref.kind === 'stored') return storedSource(ref, name);
  return ref.kind === 'studio' ? studioSource(ref, name) : inPlaceSource(ref, name);
}
