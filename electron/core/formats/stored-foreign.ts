// An imported foreign checkpoint, read back from what its manifest recorded: the same reader that
// imported it reads its files again (beside the manifest, or in the linked folder) and every
// tensor must come out with the CRC-32C recorded at import, as well as any checksum the format
// itself stores.
import path from 'node:path';
import { quoted } from '../base/describe-value.js';
import { CheckpointFormatError, DamagedTensorError, errorMessage } from '../base/errors.js';
import { formatCrc } from '../base/crc32c.js';
import type { ForeignPartVerifier, ManifestWithForeignPart } from '../checkpoint/foreign-part.js';
import { MANIFEST_FILE } from '../checkpoint/layout.js';
import type { ForeignPart, ForeignTensorEntry } from '../checkpoint/manifest.js';
import type { Problem } from '../checkpoint/problem.js';
import { isStoragePath, mountStorage, shownPath } from '../storage/file-access.js';
import type { Storage } from '../storage/storage.js';
import type { ForeignCheckpoint, ForeignDtype, ForeignTensor, ForeignTensorData } from './foreign.js';
import { isForeignFormat, readerFor } from './registry.js';

/** A file of a folder on disk or of one in a bucket, named as a user would write it (`path.join` would make `s3://` into `s3:/`). */
export function foreignFilePath(dir: string, file: string): string {
  return isStoragePath(dir) ? `${shownPath(dir).replace(/\/+$/, '')}/${file}` : path.join(dir, file);
}

const mounted = new WeakSet<Storage>();

/**
 * The address of an imported checkpoint's folder in a bucket (issue 18), readable by the formats'
 * readers where it lies: the storage is mounted for the life of the thread that asks, as the
 * storage itself is opened once for that life (checkpoint/stored-open.ts: a worker, the trainer).
 */
export function storedForeignDir(storage: Storage, folder: string): string {
  if (!mounted.has(storage)) {
    mountStorage(storage);
    mounted.add(storage);
  }
  return shownPath(storage.locate(folder)).replace(/\/+$/, '');
}

/** The same for the length of `use` only: for a thread that outlives the storage (the app's, whose workspaces close). */
export async function withStoredForeignDir<T>(storage: Storage, folder: string, use: (dir: string) => Promise<T>): Promise<T> {
  const unmount = mountStorage(storage);
  try {
    return await use(shownPath(storage.locate(folder)).replace(/\/+$/, ''));
  } finally {
    unmount();
  }
}

/** The folder a stored foreign checkpoint's files are read from. */
export function foreignFilesDir(dir: string, part: Pick<ForeignPart, 'linked'>): string {
  return part.linked ?? dir;
}

function toTensor(entry: ForeignTensorEntry): ForeignTensor {
  const { crc32c: _recorded, ...tensor } = entry;
  return { ...tensor, dtype: tensor.dtype as ForeignDtype };
}

/** The checkpoint as its reader described it at import, with its files where they are now. */
export function storedForeignCheckpoint(dir: string, manifest: ManifestWithForeignPart): ForeignCheckpoint {
  const part = manifest.foreign;
  // The store records the format's name without knowing the formats; it is judged here.
  if (!isForeignFormat(part.format)) {
    throw new CheckpointFormatError(path.join(dir, MANIFEST_FILE), `foreign.format: ${quoted(part.format)} is not a format this program reads`);
  }
  return {
    format: part.format,
    formatLabel: part.formatLabel,
    dir: foreignFilesDir(dir, part),
    name: part.name,
    step: part.step,
    stepSource: part.stepSource,
    savedAt: part.savedAt,
    files: part.files.map(({ name, bytes, role }) => ({ name, bytes, role })),
    tensors: part.tensors.map(toTensor),
    metrics: manifest.metrics,
    notes: part.notes,
  };
}

/** Reads every tensor (or those named), checking each against the CRC recorded at import. */
export async function* readStoredForeign(dir: string, manifest: ManifestWithForeignPart, names?: ReadonlySet<string>): AsyncGenerator<ForeignTensorData> {
  const checkpoint = storedForeignCheckpoint(dir, manifest);
  const recorded = new Map(manifest.foreign.tensors.map((t) => [t.name, t.crc32c]));
  for await (const item of readerFor(checkpoint.format).read(checkpoint, names ? { names } : {})) {
    const expected = recorded.get(item.tensor.name);
    const actual = formatCrc(item.storedCrc32c);
    if (expected !== actual) {
      throw new DamagedTensorError(
        foreignFilePath(checkpoint.dir, item.tensor.file),
        item.tensor.name,
        `CRC32C mismatch: computed ${actual}, ${expected} when it was imported (the bytes were changed)`,
      );
    }
    yield item;
  }
}

/** Every problem of a stored foreign checkpoint's tensors (stops at the first unreadable file). */
export async function verifyStoredForeign(dir: string, manifest: ManifestWithForeignPart): Promise<Problem[]> {
  const seen = new Set<string>();
  try {
    for await (const item of readStoredForeign(dir, manifest)) seen.add(item.tensor.name);
  } catch (error) {
    if (error instanceof DamagedTensorError) return [{ file: error.file, tensor: error.tensor, problem: error.problem }];
    if (error instanceof CheckpointFormatError)
      return [{ file: error.file, problem: error.byteOffset === undefined ? error.problem : `byte ${error.byteOffset}: ${error.problem}` }];
    return [{ file: foreignFilesDir(dir, manifest.foreign), problem: errorMessage(error) }];
  }
  const base = foreignFilesDir(dir, manifest.foreign);
  return manifest.foreign.tensors
    .filter((t) => !seen.has(t.name))
    .map((t) => ({ file: foreignFilePath(base, t.file), tensor: t.name, problem: 'recorded at import, but the reader did not find it' }));
}

/** The store's view of this layer: how an imported checkpoint's foreign part is verified. */
export const storedForeignParts: ForeignPartVerifier = { verify: verifyStoredForeign };
