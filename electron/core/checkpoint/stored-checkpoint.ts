// Verify and load one of our checkpoints where its files are objects (S3), with the same checks
// as on disk (reader.ts): the manifest, the one rule of wholeness, each file's size, its
// safetensors header against the manifest, and every tensor's CRC-32C, streamed by ranged reads
// so a checkpoint of any size is verified in little memory.
import { CheckpointFormatError, DamagedTensorError } from '../base/errors.js';
import type { Storage } from '../storage/storage.js';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE } from './layout.js';
import { type Manifest, type TensorFile, parseManifest } from './manifest.js';
import type { Problem } from './problem.js';
import { type LoadedCheckpoint, type VerifyResult, checkTensorSource } from './reader.js';
import type { Tensor } from './safetensors.js';
import { wholenessProblem } from './wholeness.js';

/** Manifests are small; anything this large is not one of ours. */
const MAX_MANIFEST_BYTES = 64 << 20;

type Read = { readonly manifest: Manifest } | { readonly problem: Problem; readonly structure: 'incomplete' | 'damaged' };

async function readStoredManifest(storage: Storage, folder: string): Promise<Read> {
  const key = `${folder}${MANIFEST_FILE}`;
  const file = storage.locate(key);
  const object = await storage.stat(key);
  if (object === null) return { structure: 'incomplete', problem: { file, problem: 'missing (the checkpoint was never committed)' } };
  if (object.size > MAX_MANIFEST_BYTES) return { structure: 'damaged', problem: { file, problem: `is ${object.size} bytes: not a manifest of ours` } };
  try {
    return { manifest: parseManifest(file, new TextDecoder().decode(await storage.read(key))) };
  } catch (error) {
    if (error instanceof CheckpointFormatError) return { structure: 'damaged', problem: { file, problem: error.problem } };
    throw error;
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

/** The checkpoint's tensors, for resuming on this machine; throws on the first problem, naming file and tensor. */
export async function loadStoredCheckpoint(storage: Storage, folder: string): Promise<LoadedCheckpoint> {
  const dir = storage.locate(folder.replace(/\/$/, ''));
  const read = await readStoredManifest(storage, folder);
  if (!('manifest' in read)) throw new CheckpointFormatError(read.problem.file, read.problem.problem);
  const { manifest } = read;
  const whole = wholenessProblem(dir, manifest, manifest.tensors, (file) => storage.locate(`${folder}${file}`));
  if (whole) throw new CheckpointFormatError(dir, whole.reason);
  // Both files at once: each is a stream of ranged GETs, and one stream does not fill the link.
  const [model, optimizer] = await Promise.all(
    ([MODEL_FILE, OPTIMIZER_FILE] as const).map(async (name): Promise<Tensor[]> => {
      if (!(name in manifest.files)) return [];
      const file = storage.locate(`${folder}${name}`);
      const opened = await storage.open(`${folder}${name}`);
      if (opened === null) throw new CheckpointFormatError(file, 'missing');
      const check = await checkTensorSource(
        opened,
        file,
        manifest.tensors.filter((t) => t.file === name),
        { load: true, stopAtFirst: true },
      );
      const first = check.problems[0];
      if (first)
        throw first.tensor === undefined
          ? new CheckpointFormatError(first.file, first.problem)
          : new DamagedTensorError(first.file, first.tensor, first.problem);
      return check.tensors;
    }),
  );
  return { dir, manifest, model: model ?? [], optimizer: optimizer ?? [] };
}
