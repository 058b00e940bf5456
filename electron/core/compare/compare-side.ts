// One side of a comparison, opened for reading a tensor at a time: a checkpoint folder of ours
// (trained here, or imported from another program's files), or another program's checkpoint read
// where it is. Only headers and indexes are read on opening; tensor bytes are read on request, in
// file order, each checked against the checksum its manifest or format stores.
import path from 'node:path';
import { formatCrc } from '../base/crc32c.js';
import { CheckpointFormatError, DamagedTensorError } from '../base/errors.js';
import { OPTIMIZER_FILE } from '../checkpoint/layout.js';
import { type Manifest, type TensorFile } from '../checkpoint/manifest.js';
import { type ManifestWithForeignPart, hasForeignPart } from '../checkpoint/foreign-part.js';
import { inspectStructure } from '../checkpoint/reader.js';
import { readSafetensorsHeader } from '../checkpoint/safetensors.js';
import { type ForeignCheckpoint, type ForeignTensor, type ForeignTensorData, checkpointPath } from '../formats/foreign.js';
import { readerFor } from '../formats/registry.js';
import { readTensors } from '../formats/safetensors/read-tensors.js';
import { readStoredForeign, storedForeignCheckpoint } from '../formats/stored-foreign.js';
import type { RandomAccessFile } from '../storage/storage.js';
import type { SideSpec } from './compare-protocol.js';

export interface SideTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly role: ForeignTensor['role'];
  readonly slot?: ForeignTensor['slot'];
  /** The file that holds it, for errors. */
  readonly file: string;
}

export interface TensorBytes {
  readonly tensor: SideTensor;
  /** Logical values, little-endian, row-major. */
  readonly data: Uint8Array;
}

/**
 * Where a tensor's logical bytes lie whole in a file (safetensors, ours or another program's), so
 * a comparison can read it a chunk at a time instead of whole (stream-pair.ts).
 */
export interface TensorRange {
  /** Absolute. */
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  /** The file's size when the side was opened: a file that changed since is refused, as readTensors does. */
  readonly fileBytes: number | undefined;
  /** Its place in the order `read` hands tensors out (file order, then offset). */
  readonly position: number;
  /** The CRC-32C its bytes must have, and how a mismatch is told; null where none is recorded. */
  readonly checksum: { readonly expected: string | undefined; readonly mismatch: (actual: string) => string } | null;
  /** How to open its file where it is not one of this machine (an S3 object: stored-side.ts); absent: `file` is a path. */
  readonly open?: () => Promise<{ readonly handle: RandomAccessFile; readonly size: number }>;
}

export interface Side {
  readonly path: string;
  readonly format: string;
  readonly step: number | null;
  /** Another program's names, which pairing may map to our presets' names. */
  readonly foreignNames: boolean;
  readonly tensors: readonly SideTensor[];
  /** The named tensors, in file order, one at a time. */
  read(names: ReadonlySet<string>): AsyncIterable<TensorBytes>;
  /** Every tensor's range, for a side whose tensors all lie whole in files; absent otherwise. */
  readonly ranges?: ReadonlyMap<string, TensorRange>;
  readonly notes: readonly string[];
}

const OUR_FORMAT = 'checkpoint-studio';

function sideTensor(checkpoint: ForeignCheckpoint, tensor: ForeignTensor): SideTensor {
  return {
    name: tensor.name,
    dtype: tensor.dtype,
    shape: tensor.shape,
    role: tensor.role,
    ...(tensor.slot ? { slot: tensor.slot } : {}),
    file: path.join(checkpoint.dir, tensor.file),
  };
}

/** A safetensors checkpoint's tensors as ranges of its files, in the order readTensors reads them. */
function rangesOf(checkpoint: ForeignCheckpoint, checksum: (tensor: ForeignTensor) => TensorRange['checksum']): Map<string, TensorRange> {
  const fileOrder = new Map(checkpoint.files.map((file, index) => [file.name, index]));
  const sizes = new Map(checkpoint.files.map((file) => [file.name, file.bytes]));
  const ordered = [...checkpoint.tensors].sort((a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.offset - b.offset);
  return new Map(
    ordered.map((t, position) => [
      t.name,
      {
        file: path.join(checkpoint.dir, ...t.file.split('/')),
        offset: t.offset,
        bytes: t.bytes,
        fileBytes: sizes.get(t.file),
        position,
        checksum: checksum(t),
      },
    ]),
  );
}

async function* asBytes(checkpoint: ForeignCheckpoint, items: AsyncIterable<ForeignTensorData>): AsyncGenerator<TensorBytes> {
  for await (const item of items) yield { tensor: sideTensor(checkpoint, item.tensor), data: item.data };
}

/** Our own checkpoint's safetensors files, described as a reader of the format would, so the same chunked reads serve. */
async function nativeCheckpoint(dir: string, manifest: Manifest): Promise<ForeignCheckpoint> {
  const files = Object.keys(manifest.files) as TensorFile[];
  const tensors: ForeignTensor[] = [];
  for (const file of files) {
    const header = await readSafetensorsHeader(path.join(dir, file));
    for (const t of header.tensors) {
      const role = file === OPTIMIZER_FILE ? 'optimizer' : 'model';
      tensors.push({ name: t.name, displayName: t.name, dtype: t.dtype, shape: t.shape, file, offset: t.begin, bytes: t.end - t.begin, role });
    }
  }
  return {
    format: 'safetensors',
    formatLabel: OUR_FORMAT,
    dir,
    name: path.basename(dir),
    step: manifest.step,
    stepSource: null,
    savedAt: null,
    files: files.map((name) => ({ name, bytes: manifest.files[name]?.bytes ?? 0, role: 'tensors' as const })),
    tensors,
    metrics: {},
    notes: [],
  };
}

async function openOurs(dir: string): Promise<Side> {
  const structure = inspectStructure(dir);
  if (structure.kind !== 'complete') throw new CheckpointFormatError(dir, structure.reason);
  const { manifest } = structure;
  if (hasForeignPart(manifest)) return importedSide(dir, manifest);
  const checkpoint = await nativeCheckpoint(dir, manifest);
  const recorded = new Map(manifest.tensors.map((t) => [`${t.file}/${t.name}`, t.crc32c]));
  async function* read(names: ReadonlySet<string>): AsyncGenerator<TensorBytes> {
    for await (const item of readTensors(checkpoint, { names })) {
      const expected = recorded.get(`${item.tensor.file}/${item.tensor.name}`);
      const actual = formatCrc(item.storedCrc32c);
      if (expected !== actual)
        throw new DamagedTensorError(
          path.join(dir, item.tensor.file),
          item.tensor.name,
          `CRC32C mismatch: computed ${actual}, the manifest says ${expected ?? 'nothing'}`,
        );
      yield { tensor: sideTensor(checkpoint, item.tensor), data: item.data };
    }
  }
  return {
    path: dir,
    format: OUR_FORMAT,
    step: manifest.step,
    foreignNames: false,
    tensors: checkpoint.tensors.map((t) => sideTensor(checkpoint, t)),
    read,
    ranges: rangesOf(checkpoint, (t) => ({
      expected: recorded.get(`${t.file}/${t.name}`),
      mismatch: (actual) => `CRC32C mismatch: computed ${actual}, the manifest says ${recorded.get(`${t.file}/${t.name}`) ?? 'nothing'}`,
    })),
    notes: [],
  };
}

/** A checkpoint imported from another program's files, read from them (in `dir`, on disk or, through storage/file-access.ts, in a bucket). */
export function importedSide(dir: string, manifest: ManifestWithForeignPart): Side {
  const checkpoint = storedForeignCheckpoint(dir, manifest);
  return {
    path: dir,
    format: checkpoint.format,
    step: manifest.step,
    foreignNames: true,
    tensors: checkpoint.tensors.map((t) => sideTensor(checkpoint, t)),
    read: (names) => asBytes(checkpoint, readStoredForeign(dir, manifest, names)),
    ...(checkpoint.format === 'safetensors' ? { ranges: rangesOf(checkpoint, importedChecksum(manifest.foreign.tensors)) } : {}),
    notes: [],
  };
}

/** What an imported checkpoint's manifest recorded of each tensor's bytes, as readStoredForeign checks them. */
function importedChecksum(entries: readonly { name: string; crc32c: string }[]): (tensor: ForeignTensor) => TensorRange['checksum'] {
  const recorded = new Map(entries.map((t) => [t.name, t.crc32c]));
  return (t) => ({
    expected: recorded.get(t.name),
    mismatch: (actual) => `CRC32C mismatch: computed ${actual}, ${recorded.get(t.name)} when it was imported (the bytes were changed)`,
  });
}

async function openForeign(spec: Extract<SideSpec, { kind: 'foreign' }>): Promise<Side> {
  const reader = readerFor(spec.format);
  const source = await reader.open(spec.path);
  const checkpoint =
    source.checkpoints.find((c) => checkpointPath(c) === spec.path) ?? source.checkpoints.find((c) => c.name === source.latest) ?? source.checkpoints.at(-1);
  if (!checkpoint) throw new CheckpointFormatError(spec.path, 'holds no checkpoint');
  const notes =
    source.checkpoints.length > 1 && checkpointPath(checkpoint) !== spec.path
      ? [
          `${spec.path}: compared ${checkpoint.name}, the ${source.latest === checkpoint.name ? 'latest' : 'last'} of its ${source.checkpoints.length} checkpoints`,
        ]
      : [];
  return {
    path: checkpointPath(checkpoint),
    format: spec.format,
    step: checkpoint.step,
    foreignNames: true,
    tensors: checkpoint.tensors.map((t) => sideTensor(checkpoint, t)),
    read: (names) => asBytes(checkpoint, reader.read(checkpoint, { names })),
    // safetensors stores no checksum: its bytes are read as they are, whole or in chunks.
    ...(checkpoint.format === 'safetensors' ? { ranges: rangesOf(checkpoint, () => null) } : {}),
    notes,
  };
}

export async function openSide(spec: SideSpec): Promise<Side> {
  // Loaded only for a side in a bucket: a comparison of folders never loads the S3 client.
  if (spec.kind === 'stored') return (await import('./stored-side.js')).openStoredSide(spec);
  return spec.kind === 'ours' ? openOurs(spec.dir) : openForeign(spec);
}
