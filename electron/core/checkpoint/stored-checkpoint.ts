// Verify and load one of our checkpoints where its files are objects (S3), with the same checks
// as on disk (reader.ts): the manifest, the one rule of wholeness, each file's size, its
// safetensors header against the manifest, and every tensor's CRC-32C, streamed by ranged reads
// so a checkpoint of any size is verified in little memory.
import { CheckpointFormatError, DamagedTensorError } from '../base/errors.js';
import type { RandomAccessFile, Storage } from '../storage/storage.js';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE } from './layout.js';
import { type Manifest, type TensorFile, parseManifest } from './manifest.js';
import type { Problem } from './problem.js';
import { type LoadedCheckpoint, type VerifyResult, checkTensorSource } from './reader.js';
import type { Tensor } from './safetensors.js';
import { wholenessProblem } from './wholeness.js';

/** Manifests are small; anything this large is not one of ours. */
const MAX_MANIFEST_BYTES = 64 << 20;

type Read = { readonly manifest: Manifest } | { readonly problem: Problem; readonly structure: 'incomplete' | 'damaged' };

/** The whole of an object opened for reads (no more than its size says). */
async function readWhole(opened: { readonly file: RandomAccessFile; readonly size: number }): Promise<Uint8Array> {
  const bytes = new Uint8Array(opened.size);
  for (let done = 0; done < bytes.length;) {
    const { bytesRead } = await opened.file.read(bytes, done, bytes.length - done, done);
    if (bytesRead === 0) return bytes.subarray(0, done);
    done += bytesRead;
  }
  return bytes;
}

async function readStoredManifest(storage: Storage, folder: string): Promise<Read> {
  const key = `${folder}${MANIFEST_FILE}`;
  const file = storage.locate(key);
  // One GET, which tells the size before the body is read (no HEAD first: a round trip saved on every load).
  const opened = await storage.open(key);
  if (opened === null) return { structure: 'incomplete', problem: { file, problem: 'missing (the checkpoint was never committed)' } };
  try {
    if (opened.size > MAX_MANIFEST_BYTES) return { structure: 'damaged', problem: { file, problem: `is ${opened.size} bytes: not a manifest of ours` } };
    return { manifest: parseManifest(file, new TextDecoder().decode(await readWhole(opened))) };
  } catch (error) {
    if (error instanceof CheckpointFormatError) return { structure: 'damaged', problem: { file, problem: error.problem } };
    throw error;
  } finally {
    await opened.file.close();
  }
}

/** The manifest of the checkpoint under `folder`; throws, naming the file, when it is missing or not ours. */
export async function storedManifest(storage: Storage, folder: string): Promise<Manifest> {
  const read = await readStoredManifest(storage, folder);
  if (!('manifest' in read)) throw new CheckpointFormatError(read.problem.file, read.problem.problem);
  return read.manifest;
}

/** The checkpoint under `folder` (a key ending in '/'), every problem found. */
export async function verifyStoredCheckpoint(storage: Storage, folder: string): Promise<VerifyResult> {
  const dir = storage.locate(folder.replace(/\/$/, ''));
  const read = await readStoredManifest(storage, folder);
  if (!('manifest' in read)) return { dir, ok: false, structure: read.structure, problems: [read.problem] };
  const { manifest } = read;
  const problems: Problem[] = [];
  const whole = wholenessProblem(dir, manifest, manifest.tensors, (file) => storage.locate(`${folder}${file}`));
  if (whole) problems.push({ file: dir, problem: whole.reason });
  for (const [name, expected] of Object.entries(manifest.files) as [TensorFile, { bytes: number }][]) {
    const file = storage.locate(`${folder}${name}`);
    const opened = await storage.open(`${folder}${name}`);
    if (opened === null) {
      problems.push({ file, problem: 'missing' });
      continue;
    }
    if (opened.size !== expected.bytes) problems.push({ file, problem: `is ${opened.size} bytes, the manifest says ${expected.bytes}` });
    const check = await checkTensorSource(
      opened,
      file,
      manifest.tensors.filter((t) => t.file === name),
      { load: false, stopAtFirst: false },
    );
    problems.push(...check.problems);
  }
  const structure = whole?.status === 'incomplete' && problems.length === 1 ? 'incomplete' : problems.length === 0 ? 'complete' : 'damaged';
  return { dir, ok: problems.length === 0, structure, problems, manifest };
}

type Opening = Promise<{ readonly opened: Awaited<ReturnType<Storage['open']>> } | { readonly error: unknown }>;

/** Starts opening a tensor file now, its failure held until it is looked at. */
function startOpening(storage: Storage, key: string): Opening {
  return storage.open(key).then(
    (opened) => ({ opened }),
    (error: unknown) => ({ error }),
  );
}

async function closeUnused(openings: readonly Opening[]): Promise<void> {
  for (const opening of openings) {
    const got = await opening;
    if ('opened' in got) await got.opened?.file.close();
  }
}

async function loadFile(storage: Storage, folder: string, manifest: Manifest, name: TensorFile, opening: Opening): Promise<Tensor[]> {
  const file = storage.locate(`${folder}${name}`);
  const got = await opening;
  if ('error' in got) throw got.error;
  if (got.opened === null) throw new CheckpointFormatError(file, 'missing');
  const check = await checkTensorSource(
    got.opened,
    file,
    manifest.tensors.filter((t) => t.file === name),
    { load: true, stopAtFirst: true },
  );
  const first = check.problems[0];
  if (first)
    throw first.tensor === undefined ? new CheckpointFormatError(first.file, first.problem) : new DamagedTensorError(first.file, first.tensor, first.problem);
  return check.tensors;
}

/** The checkpoint's tensors, for resuming on this machine; throws on the first problem, naming file and tensor. */
export async function loadStoredCheckpoint(storage: Storage, folder: string): Promise<LoadedCheckpoint> {
  const dir = storage.locate(folder.replace(/\/$/, ''));
  // The tensor files' GETs start with the manifest's, not after it: two round trips fewer before
  // the bytes flow. Nothing is taken from them until the manifest says the checkpoint is whole.
  const openings = new Map(([MODEL_FILE, OPTIMIZER_FILE] as const).map((name) => [name, startOpening(storage, `${folder}${name}`)]));
  let manifest: Manifest;
  try {
    const read = await readStoredManifest(storage, folder);
    if (!('manifest' in read)) throw new CheckpointFormatError(read.problem.file, read.problem.problem);
    manifest = read.manifest;
    const whole = wholenessProblem(dir, manifest, manifest.tensors, (file) => storage.locate(`${folder}${file}`));
    if (whole) throw new CheckpointFormatError(dir, whole.reason);
  } catch (error) {
    await closeUnused([...openings.values()]);
    throw error;
  }
  const unused = [...openings].filter(([name]) => !(name in manifest.files)).map(([, opening]) => opening);
  await closeUnused(unused);
  // Both files at once: each is a stream of ranged GETs, and one stream does not fill the link.
  const loads = ([MODEL_FILE, OPTIMIZER_FILE] as const).map((name) =>
    name in manifest.files ? loadFile(storage, folder, manifest, name, openings.get(name) as Opening) : Promise.resolve([]),
  );
  const settled = await Promise.allSettled(loads);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const [model, optimizer] = settled.map((s) => (s.status === 'fulfilled' ? s.value : []));
  return { dir, manifest, model: model ?? [], optimizer: optimizer ?? [] };
}
