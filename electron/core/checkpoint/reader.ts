// Reads and verifies checkpoints. Nothing is trusted: sizes, header consistency and every
// tensor's CRC32C are checked, and each problem names the file, the tensor and what is wrong.
import { type Stats, closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { crc32c, formatCrc } from './crc32c.js';
import { CheckpointFormatError, DamagedTensorError, errorMessage } from './errors.js';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE } from './layout.js';
import { type Manifest, type ManifestSummary, type TensorEntry, type TensorFile, parseManifest, parseManifestSummary } from './manifest.js';
import { type SafetensorsHeader, type Tensor, type TensorLocation, parseSafetensorsHeader } from './safetensors.js';

export interface Problem {
  readonly file: string;
  readonly tensor?: string;
  readonly problem: string;
}

export function describeProblem(p: Problem): string {
  return `${p.file}${p.tensor === undefined ? '' : `: tensor "${p.tensor}"`}: ${p.problem}`;
}

/** What a quick look (manifest + file sizes, no data read) says about a checkpoint folder. */
export type Structure<M = Manifest> =
  | { readonly kind: 'complete'; readonly manifest: M; readonly bytes: number; readonly signature: string }
  | { readonly kind: 'incomplete'; readonly reason: string }
  | { readonly kind: 'damaged'; readonly reason: string; readonly manifest?: M };

const SMALL_READ = 64 * 1024;
const smallBuffer = Buffer.allocUnsafe(SMALL_READ);

/** Reads a file expected to be small with open/read/close and no stat. */
function readSmallFile(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, smallBuffer, 0, SMALL_READ, 0);
    // The common case: the whole manifest in one read, decoded straight from the shared buffer.
    if (read < SMALL_READ) return smallBuffer.toString('utf8', 0, read);
    // A large manifest: read it whole (the positioned read above left the file offset at 0).
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Synchronous on purpose: it is a handful of small syscalls, and the catalog calls it for
 * thousands of folders, where promise-based fs costs several times the syscalls themselves.
 */
export function inspectStructure(dir: string): Structure {
  return inspectWith(dir, parseManifest);
}

/** The same check with only the manifest's summary validated: what the catalog lists. */
export function inspectSummary(dir: string): Structure<ManifestSummary> {
  return inspectWith(dir, parseManifestSummary);
}

function inspectWith<M extends ManifestSummary>(dir: string, parse: (file: string, text: string) => M): Structure<M> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let manifest: M;
  let text: string;
  try {
    text = readSmallFile(manifestPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'incomplete', reason: `${manifestPath}: missing (the checkpoint was never finished)` };
    return { kind: 'damaged', reason: `${manifestPath}: ${errorMessage(error)}` };
  }
  try {
    manifest = parse(manifestPath, text);
  } catch (error) {
    return { kind: 'damaged', reason: errorMessage(error) };
  }
  const manifestBytes = Buffer.byteLength(text);
  let bytes = manifestBytes;
  // The manifest enters the signature by content, which saves a stat per checkpoint.
  const signature: string[] = [`${MANIFEST_FILE}:${manifestBytes}:${crc32c(Buffer.from(text))}`];
  for (const [file, expected] of Object.entries(manifest.files)) {
    const target = path.join(dir, file);
    let info: Stats;
    try {
      info = statSync(target);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : errorMessage(error);
      return { kind: 'damaged', manifest, reason: `${target}: ${reason}` };
    }
    if (info.size !== expected.bytes) {
      const what = info.size < expected.bytes ? 'truncated' : 'longer than written';
      return { kind: 'damaged', manifest, reason: `${target}: ${what}: ${info.size} bytes, the manifest says ${expected.bytes}` };
    }
    bytes += info.size;
    signature.push(`${file}:${info.size}:${info.mtimeMs}`);
  }
  // Sizes and modification times: any later write to the folder's files invalidates a verification.
  return { kind: 'complete', manifest, bytes, signature: signature.join('|') };
}

interface FileCheck {
  readonly tensors: Tensor[];
  readonly problems: Problem[];
}

/** Reads in chunks this large, so checksums of what arrived overlap the read of what follows. */
const READ_CHUNK = 16 << 20;

/**
 * Reads a whole file into one buffer, calling `arrived(bytesSoFar)` after each chunk while the
 * next chunk's read is already in flight on libuv's threads.
 */
async function readFileOverlapped(file: string, arrived: (bytesSoFar: number, bytes: Buffer) => void): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    let done = 0;
    let pending = size > 0 ? handle.read(bytes, 0, Math.min(READ_CHUNK, size), 0) : null;
    while (pending) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) throw new CheckpointFormatError(file, `file shrank while being read (${done} of ${size} bytes)`, done);
      done += bytesRead;
      pending = done < size ? handle.read(bytes, done, Math.min(READ_CHUNK, size - done), done) : null;
      arrived(done, bytes);
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Checks one tensor file against its manifest entries, tensor by tensor. */
async function checkTensorFile(dir: string, file: TensorFile, entries: readonly TensorEntry[], stopAtFirst: boolean): Promise<FileCheck> {
  const target = path.join(dir, file);
  const problems: Problem[] = [];
  const tensors: Tensor[] = [];
  const expected = new Map(entries.map((e) => [e.name, e]));
  let header: SafetensorsHeader | null = null;
  let headerError: string | null = null;
  let next = 0;
  // Tensors are checked as soon as their bytes have arrived.
  const checkArrived = (bytesSoFar: number, bytes: Buffer): void => {
    if (headerError !== null) return;
    if (header === null) {
      if (bytesSoFar < 8) return;
      const needed = 8 + Number(bytes.readBigUInt64LE(0));
      if (bytesSoFar < needed && bytesSoFar < bytes.byteLength) return;
      try {
        header = parseSafetensorsHeader(target, bytes.byteLength, bytes.subarray(0, Math.min(bytesSoFar, bytes.byteLength)));
      } catch (error) {
        headerError = error instanceof CheckpointFormatError ? error.problem : errorMessage(error);
        return;
      }
    }
    const ordered = [...header.tensors].sort((a, b) => a.begin - b.begin);
    while (next < ordered.length && (ordered[next] as TensorLocation).end <= bytesSoFar) {
      if (stopAtFirst && problems.length > 0) return;
      const location = ordered[next] as TensorLocation;
      next += 1;
      const entry = expected.get(location.name);
      if (!entry) {
        problems.push({ file: target, tensor: location.name, problem: 'present in the file but has no manifest entry' });
        continue;
      }
      expected.delete(location.name);
      const data = bytes.subarray(location.begin, location.end);
      const problem = compareTensor(entry, location.dtype, location.shape, data);
      if (problem) problems.push({ file: target, tensor: location.name, problem });
      else tensors.push({ name: location.name, dtype: location.dtype, shape: location.shape, data });
    }
  };
  try {
    await readFileOverlapped(target, checkArrived);
  } catch (error) {
    return { tensors, problems: [{ file: target, problem: errorMessage(error) }] };
  }
  if (headerError !== null) return { tensors, problems: [{ file: target, problem: headerError }] };
  if (header === null) return { tensors, problems: [{ file: target, problem: 'file is shorter than the 8-byte safetensors header length' }] };
  if (!(stopAtFirst && problems.length > 0)) {
    for (const missing of expected.keys()) {
      problems.push({ file: target, tensor: missing, problem: 'listed in the manifest but missing from the file' });
      if (stopAtFirst) break;
    }
  }
  return { tensors, problems };
}

function compareTensor(entry: TensorEntry, dtype: string, shape: readonly number[], data: Uint8Array): string | null {
  if (entry.dtype !== dtype) return `dtype is ${dtype}, the manifest says ${entry.dtype}`;
  if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
    return `shape is [${shape.join(', ')}], the manifest says [${entry.shape.join(', ')}]`;
  }
  if (entry.bytes !== data.byteLength) return `${data.byteLength} bytes, the manifest says ${entry.bytes}`;
  const actual = formatCrc(crc32c(data));
  if (actual !== entry.crc32c) return `CRC32C mismatch: computed ${actual}, the manifest says ${entry.crc32c} (the bytes were changed)`;
  return null;
}

function entriesFor(manifest: Manifest, file: TensorFile): TensorEntry[] {
  return manifest.tensors.filter((t) => t.file === file);
}

export interface VerifyResult {
  readonly dir: string;
  readonly ok: boolean;
  readonly structure: Structure['kind'];
  readonly problems: readonly Problem[];
  readonly manifest?: Manifest;
}

/** Full verification: every problem found, not just the first. */
export async function verifyCheckpoint(dir: string): Promise<VerifyResult> {
  const structure = inspectStructure(dir);
  if (structure.kind === 'incomplete') {
    return { dir, ok: false, structure: structure.kind, problems: [{ file: dir, problem: structure.reason }] };
  }
  if (structure.kind === 'damaged' && !structure.manifest) {
    return { dir, ok: false, structure: structure.kind, problems: [{ file: path.join(dir, MANIFEST_FILE), problem: structure.reason }] };
  }
  const manifest = structure.manifest as Manifest;
  // A size that differs from the manifest is damage even when the files still parse.
  const problems: Problem[] = structure.kind === 'damaged' ? [{ file: dir, problem: structure.reason }] : [];
  for (const file of Object.keys(manifest.files) as TensorFile[]) {
    const check = await checkTensorFile(dir, file, entriesFor(manifest, file), false);
    problems.push(...check.problems);
  }
  for (const entry of manifest.tensors) {
    if (!(entry.file in manifest.files)) problems.push({ file: path.join(dir, entry.file), tensor: entry.name, problem: 'its file is not listed' });
  }
  return { dir, ok: problems.length === 0, structure: problems.length === 0 ? 'complete' : 'damaged', problems, manifest };
}

export interface LoadedCheckpoint {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly model: readonly Tensor[];
  readonly optimizer: readonly Tensor[];
}

/** Loads a checkpoint for resuming; throws on the first problem, naming file and tensor. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const structure = inspectStructure(dir);
  if (structure.kind === 'incomplete') throw new CheckpointFormatError(dir, structure.reason);
  if (structure.kind === 'damaged') throw new CheckpointFormatError(dir, structure.reason);
  const { manifest } = structure;
  const loaded: Record<TensorFile, Tensor[]> = { [MODEL_FILE]: [], [OPTIMIZER_FILE]: [] };
  for (const file of [MODEL_FILE, OPTIMIZER_FILE] as const) {
    if (!(file in manifest.files)) continue;
    const check = await checkTensorFile(dir, file, entriesFor(manifest, file), true);
    const first = check.problems[0];
    if (first) {
      throw first.tensor === undefined
        ? new CheckpointFormatError(first.file, first.problem)
        : new DamagedTensorError(first.file, first.tensor, first.problem);
    }
    loaded[file] = check.tensors;
  }
  return { dir, manifest, model: loaded[MODEL_FILE], optimizer: loaded[OPTIMIZER_FILE] };
}
