// One side of a comparison that is a checkpoint of ours in a bucket (issue 18): the same Side as
// a folder's (compare-side.ts), its tensors read by ranged GETs through the storage's
// RandomAccessFile, never downloaded whole. Opening reads the manifest and each file's safetensors
// header; tensor bytes are read on request, in file order, each checked against the CRC-32C its
// manifest records, and a large tensor is streamed a chunk at a time (stream-pair.ts) as on disk.
// One imported from another program is read from that program's files beside its manifest, where
// they lie, by the same readers as on disk, against the CRC-32C recorded at import.
import { formatCrc } from '../base/crc32c.js';
import { CheckpointFormatError, DamagedTensorError } from '../base/errors.js';
import { type ManifestWithForeignPart, hasForeignPart } from '../checkpoint/foreign-part.js';
import { OPTIMIZER_FILE } from '../checkpoint/layout.js';
import type { Manifest, TensorFile } from '../checkpoint/manifest.js';
import { readSafetensorsHeaderFrom } from '../checkpoint/safetensors.js';
import { storedManifest } from '../checkpoint/stored-checkpoint.js';
import type { StoredCheckpointAt } from '../checkpoint/stored-at.js';
import { storageOf } from '../checkpoint/stored-open.js';
import { readFileTensors } from '../formats/safetensors/read-tensors.js';
import type { ForeignTensor } from '../formats/foreign.js';
import { storedForeignDir } from '../formats/stored-foreign.js';
import { isStoragePath, openFile, shownPath } from '../storage/file-access.js';
import type { RandomAccessFile, Storage } from '../storage/storage.js';
import { type Side, type SideTensor, type TensorBytes, type TensorRange, importedSide } from './compare-side.js';

const OUR_FORMAT = 'checkpoint-studio';

interface StoredFile {
  readonly name: TensorFile;
  readonly key: string;
  /** Its address, for errors. */
  readonly file: string;
  readonly bytes: number;
  readonly tensors: readonly ForeignTensor[];
}

/** Opens an object for reads from its start, or from `start` (a streamed tensor's bytes: its first GET starts there, not at the header). */
async function openObject(storage: Storage, key: string, expectedBytes: number | undefined, start = 0): Promise<RandomAccessFile> {
  const opened = start > 0 && storage.openAt ? await storage.openAt(key, start) : await storage.open(key);
  if (opened === null) throw new CheckpointFormatError(storage.locate(key), 'does not exist');
  if (expectedBytes !== undefined && opened.size !== expectedBytes) {
    await opened.file.close();
    throw new CheckpointFormatError(storage.locate(key), `is ${opened.size} bytes, the manifest says ${expectedBytes}`);
  }
  return opened.file;
}

async function describeFile(storage: Storage, folder: string, manifest: Manifest, name: TensorFile): Promise<StoredFile> {
  const key = `${folder}${name}`;
  const file = storage.locate(key);
  const bytes = manifest.files[name]?.bytes ?? 0;
  const handle = await openObject(storage, key, bytes);
  try {
    const header = await readSafetensorsHeaderFrom(handle, file, bytes);
    const role = name === OPTIMIZER_FILE ? 'optimizer' : 'model';
    const tensors = header.tensors.map((t): ForeignTensor => ({
      name: t.name,
      displayName: t.name,
      dtype: t.dtype,
      shape: t.shape,
      file: name,
      offset: t.begin,
      bytes: t.end - t.begin,
      role,
    }));
    return { name, key, file, bytes, tensors: tensors.sort((a, b) => a.offset - b.offset) };
  } finally {
    await handle.close();
  }
}

/**
 * An imported checkpoint in a bucket: its files, beside its manifest, read where they lie through
 * storage/file-access.ts, as on disk; a large tensor's file is opened by its address there too.
 */
function importedStoredSide(storage: Storage, dir: string, manifest: ManifestWithForeignPart): Side {
  const side = importedSide(dir, manifest);
  const shown = (file: string): string => (isStoragePath(file) ? shownPath(file) : file);
  // A file beside the manifest is an object of this storage, opened at the tensor's first byte; a linked one is wherever it was linked from.
  const openAt = (file: string, offset: number) => async (): Promise<{ handle: RandomAccessFile; size: number }> => {
    const address = shown(file);
    if (address.startsWith(storage.address)) {
      const key = address.slice(storage.address.length);
      const opened = offset > 0 && storage.openAt ? await storage.openAt(key, offset) : await storage.open(key);
      if (opened === null) throw new CheckpointFormatError(address, 'does not exist');
      return { handle: opened.file, size: opened.size };
    }
    const opened = await openFile(file, { sequential: true });
    return { handle: opened.file, size: opened.size };
  };
  const named = (t: SideTensor): SideTensor => ({ ...t, file: shown(t.file) });
  return {
    ...side,
    tensors: side.tensors.map(named),
    read: async function* (names) {
      for await (const item of side.read(names)) yield { ...item, tensor: named(item.tensor) };
    },
    ...(side.ranges ? { ranges: new Map([...side.ranges].map(([name, r]) => [name, { ...r, file: shown(r.file), open: openAt(r.file, r.offset) }])) } : {}),
  };
}

const sideTensor = (file: StoredFile, t: ForeignTensor): SideTensor => ({ name: t.name, dtype: t.dtype, shape: t.shape, role: t.role, file: file.file });

export async function openStoredSide(at: StoredCheckpointAt): Promise<Side> {
  const storage = storageOf(at);
  const dir = storage.locate(at.folder.replace(/\/$/, ''));
  const manifest = await storedManifest(storage, at.folder);
  if (hasForeignPart(manifest)) return importedStoredSide(storage, storedForeignDir(storage, at.folder), manifest);
  const files: StoredFile[] = [];
  for (const name of Object.keys(manifest.files) as TensorFile[]) files.push(await describeFile(storage, at.folder, manifest, name));
  const recorded = new Map(manifest.tensors.map((t) => [`${t.file}/${t.name}`, t.crc32c]));
  const mismatch = (file: string, name: string) => (actual: string) =>
    `CRC32C mismatch: computed ${actual}, the manifest says ${recorded.get(`${file}/${name}`) ?? 'nothing'}`;

  async function* read(names: ReadonlySet<string>): AsyncGenerator<TensorBytes> {
    for (const file of files) {
      const wanted = file.tensors.filter((t) => names.has(t.name));
      if (wanted.length === 0) continue;
      const handle = await openObject(storage, file.key, file.bytes);
      try {
        for await (const item of readFileTensors(handle, file.file, wanted, undefined)) {
          const expected = recorded.get(`${file.name}/${item.tensor.name}`);
          const actual = formatCrc(item.storedCrc32c);
          if (expected !== actual) throw new DamagedTensorError(file.file, item.tensor.name, mismatch(file.name, item.tensor.name)(actual));
          yield { tensor: sideTensor(file, item.tensor), data: item.data };
        }
      } finally {
        await handle.close();
      }
    }
  }

  const ranges = new Map<string, TensorRange>();
  for (const file of files)
    for (const t of file.tensors)
      ranges.set(t.name, {
        file: file.file,
        offset: t.offset,
        bytes: t.bytes,
        fileBytes: file.bytes,
        position: ranges.size,
        checksum: { expected: recorded.get(`${file.name}/${t.name}`), mismatch: mismatch(file.name, t.name) },
        open: async () => ({ handle: await openObject(storage, file.key, file.bytes, t.offset), size: file.bytes }),
      });
  return {
    path: dir,
    format: OUR_FORMAT,
    step: manifest.step,
    foreignNames: false,
    tensors: files.flatMap((file) => file.tensors.map((t) => sideTensor(file, t))),
    read,
    ranges,
    notes: [],
  };
}
