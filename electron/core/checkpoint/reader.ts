// Reads and verifies checkpoints. Nothing is trusted: file kinds, sizes, header consistency and
// every tensor's CRC32C are checked, and each problem names the file, the tensor and what is
// wrong. Files are read in chunks, so a file's size is limited only by the disk (a single
// tensor loaded into memory is limited by what one buffer can hold).
import { constants as bufferConstants } from 'node:buffer';
import { type Stats, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32c, formatCrc } from '../base/crc32c.js';
import { CheckpointFormatError, DamagedTensorError, errorMessage } from '../base/errors.js';
import { shown } from '../base/describe-value.js';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE } from './layout.js';
import { type Manifest, type ManifestSummary, type TensorEntry, type TensorFile, parseManifest, parseManifestSummary } from './manifest.js';
import { describeFileKind, isMissing, openRegular, readSmallTextSync } from '../base/regular-file.js';
import { type SafetensorsHeader, type Tensor, type TensorLocation, readSafetensorsHeaderFrom } from './safetensors.js';
import { wholenessProblem } from './wholeness.js';
import { type ForeignPartVerifier, hasForeignPart } from './foreign-part.js';
import type { Problem } from './problem.js';
import type { RandomAccessFile } from '../storage/storage.js';

/** What a quick look (manifest + file sizes, no data read) says about a checkpoint folder. */
export type Structure<M = Manifest> =
  | { readonly kind: 'complete'; readonly manifest: M; readonly bytes: number; readonly signature: string }
  | { readonly kind: 'incomplete'; readonly reason: string; readonly manifest?: M }
  | { readonly kind: 'damaged'; readonly reason: string; readonly manifest?: M };

/**
 * Synchronous on purpose: it is a handful of small syscalls, and the catalog calls it for
 * thousands of folders, where promise-based fs costs several times the syscalls themselves.
 */
export function inspectStructure(dir: string): Structure {
  return inspectWith(dir, parseManifest, (manifest) => manifest.tensors);
}

/** The same check with only the manifest's summary validated: what the catalog lists. */
export function inspectSummary(dir: string): Structure<ManifestSummary> {
  return inspectWith(dir, parseManifestSummary, () => undefined);
}

const NO_THROW = { throwIfNoEntry: false } as const;

function inspectWith<M extends ManifestSummary>(
  dir: string,
  parse: (file: string, text: string) => M,
  tensorsOf: (manifest: M) => readonly TensorEntry[] | undefined,
): Structure<M> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let manifest: M;
  let read: { text: string; bytes: number; crc: number };
  try {
    read = readSmallTextSync(manifestPath);
  } catch (error) {
    if (isMissing(error)) return { kind: 'incomplete', reason: `${manifestPath}: missing (the checkpoint was never finished)` };
    return { kind: 'damaged', reason: error instanceof CheckpointFormatError ? error.message : `${manifestPath}: ${errorMessage(error)}` };
  }
  try {
    manifest = parse(manifestPath, read.text);
  } catch (error) {
    return { kind: 'damaged', reason: errorMessage(error) };
  }
  let bytes = read.bytes;
  // The manifest by its content (its checksum costs less than a stat), the other files by size and time.
  let signature = `${MANIFEST_FILE}:${read.bytes}:${read.crc}`;
  for (const [file, expected] of Object.entries(manifest.files)) {
    const target = path.join(dir, file);
    let info: Stats | undefined;
    try {
      info = statSync(target, NO_THROW);
    } catch (error) {
      return { kind: 'damaged', manifest, reason: `${target}: ${errorMessage(error)}` };
    }
    if (!info) return { kind: 'damaged', manifest, reason: `${target}: missing` };
    if (!info.isFile()) return { kind: 'damaged', manifest, reason: `${target}: is ${describeFileKind(info)}, not a regular file` };
    if (info.size !== expected.bytes) {
      const what = info.size < expected.bytes ? 'truncated' : 'longer than written';
      return { kind: 'damaged', manifest, reason: `${target}: ${what}: ${info.size} bytes, the manifest says ${expected.bytes}` };
    }
    bytes += info.size;
    signature += `|${file}:${info.size}:${info.mtimeMs}`;
  }
  const foreign = manifest.foreign;
  if (foreign) {
    // Copied files sit beside the manifest; linked ones where they were, and may have changed there.
    const base = foreign.linked ?? dir;
    for (const file of foreign.files) {
      const target = path.join(base, file.name);
      // The name is the manifest's: said only through the one rule for text read from a file.
      const named = path.join(base, shown(file.name));
      let info: Stats | undefined;
      try {
        info = statSync(target, NO_THROW);
      } catch (error) {
        return { kind: 'damaged', manifest, reason: `${named}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'an unknown error'})` };
      }
      const outside = foreign.linked === null ? '' : ' (in the linked folder, outside the workspace)';
      if (!info) return { kind: 'damaged', manifest, reason: `${named}: missing${outside}` };
      if (!info.isFile()) return { kind: 'damaged', manifest, reason: `${named}: is ${describeFileKind(info)}, not a regular file` };
      if (info.size !== file.bytes) return { kind: 'damaged', manifest, reason: `${named}: ${info.size} bytes, ${file.bytes} when it was imported${outside}` };
      if (file.mtimeMs !== undefined && info.mtimeMs !== file.mtimeMs)
        return { kind: 'damaged', manifest, reason: `${named}: changed since it was imported${outside}` };
      // A linked file counts for the signature but not the workspace's disk use.
      if (foreign.linked === null) bytes += info.size;
      signature += `|${file.name}:${info.size}:${info.mtimeMs}`;
    }
  }
  const problem = wholenessProblem(dir, manifest, tensorsOf(manifest));
  if (problem) return { kind: problem.status, manifest, reason: problem.reason };
  // Any later write to the folder's files invalidates a verification.
  return { kind: 'complete', manifest, bytes, signature };
}

/** Reads in chunks this large, so checksums of what arrived overlap the read of what follows. */
const READ_CHUNK = 16 << 20;
/** Loaded tensors share buffers of at most this size (one for a typical checkpoint file). */
const LOAD_SEGMENT = 1 << 30;

export interface FileCheck {
  readonly tensors: Tensor[];
  readonly problems: Problem[];
}

/** A tensor whose checksum is being computed as its bytes stream past. */
interface Pending {
  readonly location: TensorLocation;
  readonly entry: TensorEntry;
  crc: number;
  /** Where the loaded bytes go, when loading. */
  target: Uint8Array | null;
}

/**
 * Checks one tensor file against its manifest entries, tensor by tensor. With `load`, the
 * tensors' bytes are kept (in a few large buffers); without it, they stream through two
 * reusable chunks and only checksums remain, so verifying needs little memory whatever the size.
 */
async function checkTensorFile(
  dir: string,
  file: TensorFile,
  entries: readonly TensorEntry[],
  options: { load: boolean; stopAtFirst: boolean },
): Promise<FileCheck> {
  const target = path.join(dir, file);
  let opened: { handle: FileHandle; stats: Stats };
  try {
    opened = await openRegular(target);
  } catch (error) {
    return { tensors: [], problems: [{ file: target, problem: error instanceof CheckpointFormatError ? error.problem : errorMessage(error) }] };
  }
  return checkTensorSource({ file: opened.handle, size: opened.stats.size }, target, entries, options);
}

/** checkTensorFile on a source opened elsewhere (an S3 object: stored-checkpoint.ts), named `target` in problems; closes it. */
export async function checkTensorSource(
  source: { readonly file: RandomAccessFile; readonly size: number },
  target: string,
  entries: readonly TensorEntry[],
  options: { load: boolean; stopAtFirst: boolean },
): Promise<FileCheck> {
  const { file: handle, size } = source;
  try {
    let header: SafetensorsHeader;
    try {
      header = await readSafetensorsHeaderFrom(handle, target, size);
    } catch (error) {
      return { tensors: [], problems: [{ file: target, problem: error instanceof CheckpointFormatError ? error.problem : errorMessage(error) }] };
    }
    const problems: Problem[] = [];
    const expected = new Map(entries.map((e) => [e.name, e]));
    const pending: Pending[] = [];
    for (const location of [...header.tensors].sort((a, b) => a.begin - b.begin)) {
      const entry = expected.get(location.name);
      if (!entry) {
        problems.push({ file: target, tensor: location.name, problem: 'present in the file but has no manifest entry' });
        continue;
      }
      expected.delete(location.name);
      const mismatch = compareShape(entry, location);
      if (mismatch) problems.push({ file: target, tensor: location.name, problem: mismatch });
      else pending.push({ location, entry, crc: 0, target: null });
    }
    for (const missing of expected.keys()) problems.push({ file: target, tensor: missing, problem: 'listed in the manifest but missing from the file' });
    if (options.stopAtFirst && problems.length > 0) return { tensors: [], problems: problems.slice(0, 1) };
    let ranges: Range[] = [{ from: header.dataStart, to: size, memory: null }];
    if (options.load) {
      const allocated = allocateTensors(target, pending);
      if (!Array.isArray(allocated)) return { tensors: [], problems: [...problems, allocated] };
      ranges = allocated;
    }
    const tensors: Tensor[] = [];
    const streamed = await streamData(handle, target, ranges, pending, (done) => {
      const actual = formatCrc(done.crc);
      if (actual !== done.entry.crc32c) {
        problems.push({
          file: target,
          tensor: done.location.name,
          problem: `CRC32C mismatch: computed ${actual}, the manifest says ${done.entry.crc32c} (the bytes were changed)`,
        });
        return !options.stopAtFirst;
      }
      if (done.target) tensors.push({ name: done.location.name, dtype: done.location.dtype, shape: done.location.shape, data: done.target });
      return true;
    });
    if (streamed) problems.push(streamed);
    return { tensors, problems };
  } finally {
    await handle.close();
  }
}

function compareShape(entry: TensorEntry, location: TensorLocation): string | null {
  if (entry.dtype !== location.dtype) return `dtype is ${location.dtype}, the manifest says ${entry.dtype}`;
  if (entry.shape.length !== location.shape.length || entry.shape.some((d, i) => d !== location.shape[i])) {
    return `shape is [${location.shape.join(', ')}], the manifest says [${entry.shape.join(', ')}]`;
  }
  const bytes = location.end - location.begin;
  if (entry.bytes !== bytes) return `${bytes} bytes, the manifest says ${entry.bytes}`;
  return null;
}

/** A contiguous byte range of the file and, when loading, the memory it is read into. */
interface Range {
  readonly from: number;
  readonly to: number;
  readonly memory: Uint8Array | null;
}

/**
 * Gives every tensor to be loaded its place in memory: consecutive tensors share one buffer of
 * up to LOAD_SEGMENT bytes (a typical file is one allocation, tensors are views into it).
 * Returns the file ranges to read, or the problem that makes loading impossible.
 */
function allocateTensors(file: string, pending: readonly Pending[]): Range[] | Problem {
  const ranges: Range[] = [];
  let i = 0;
  while (i < pending.length) {
    const first = (pending[i] as Pending).location;
    let j = i;
    let size = 0;
    // Tensors are contiguous in a valid file, so a run of them maps to one range of bytes.
    while (j < pending.length) {
      const next = (pending[j] as Pending).location;
      const bytes = next.end - next.begin;
      if (bytes > bufferConstants.MAX_LENGTH) {
        return {
          file,
          tensor: next.name,
          problem: `is ${bytes} bytes, more than this Node.js can hold in one buffer (${bufferConstants.MAX_LENGTH}); it can be verified but not loaded`,
        };
      }
      if (j > i && (size + bytes > LOAD_SEGMENT || next.begin !== first.begin + size)) break;
      size += bytes;
      j += 1;
    }
    // Uninitialised: every byte is about to be read over, and zero-filling hundreds of MB first
    // measured as a third of the load time at 600 MB.
    const memory = Buffer.allocUnsafeSlow(size);
    for (let k = i; k < j; k += 1) {
      const tensor = pending[k] as Pending;
      tensor.target = memory.subarray(tensor.location.begin - first.begin, tensor.location.end - first.begin);
    }
    ranges.push({ from: first.begin, to: first.begin + size, memory });
    i = j;
  }
  return ranges;
}

/**
 * Reads the ranges in chunks, the next chunk's read in flight while the last one's checksums are
 * computed. Loaded ranges are read straight into their memory; the others pass through two
 * reused chunk buffers. `finished` is called for each tensor (in file order) once all its bytes
 * have arrived; returning false stops early. Returns a problem if the file changed under us.
 */
async function streamData(
  handle: RandomAccessFile,
  file: string,
  ranges: readonly Range[],
  tensors: readonly Pending[],
  finished: (tensor: Pending) => boolean,
): Promise<Problem | null> {
  const largest = Math.max(0, ...ranges.filter((r) => r.memory === null).map((r) => r.to - r.from));
  const chunkSize = Math.min(READ_CHUNK, largest);
  const chunks = chunkSize > 0 ? [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)] : [];
  let turn = 0;
  const reads = (function* (): Generator<{ offset: number; length: number; buffer: Uint8Array }> {
    for (const range of ranges) {
      for (let offset = range.from; offset < range.to;) {
        const length = Math.min(READ_CHUNK, range.to - offset);
        const buffer = range.memory ? range.memory.subarray(offset - range.from, offset - range.from + length) : (chunks[turn++ % 2] as Buffer);
        yield { offset, length, buffer };
        offset += length;
      }
    }
  })();
  const issue = (): { offset: number; length: number; buffer: Uint8Array; done: Promise<number> } | null => {
    const step = reads.next();
    return step.done ? null : { ...step.value, done: readFully(handle, step.value.buffer, step.value.length, step.value.offset) };
  };
  let next = 0;
  let inFlight = issue();
  while (inFlight) {
    const { offset, length, buffer } = inFlight;
    const read = await inFlight.done;
    if (read < length) return { file, problem: `file shrank while being read (it ended at byte ${offset + read})` };
    inFlight = issue();
    // Feed the arrived bytes to every tensor they overlap, in order.
    while (next < tensors.length) {
      const tensor = tensors[next] as Pending;
      if (tensor.location.begin >= offset + length && tensor.location.end > tensor.location.begin) break;
      const from = Math.max(offset, tensor.location.begin);
      const to = Math.min(offset + length, tensor.location.end);
      if (to > from) tensor.crc = crc32c(buffer.subarray(from - offset, to - offset), tensor.crc);
      if (tensor.location.end > offset + length) break;
      next += 1;
      if (!finished(tensor)) {
        if (inFlight) await inFlight.done.catch(() => 0);
        return null;
      }
    }
  }
  // Zero-byte tensors after the last byte read have nothing to arrive with.
  while (next < tensors.length) if (!finished(tensors[next++] as Pending)) break;
  return null;
}

async function readFully(handle: RandomAccessFile, buffer: Uint8Array, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
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

/** Full verification: every problem found, not just the first. A foreign part is checked by `foreign`. */
export async function verifyCheckpoint(dir: string, foreign: ForeignPartVerifier): Promise<VerifyResult> {
  const structure = inspectStructure(dir);
  if (!structure.manifest) {
    const file = structure.kind === 'incomplete' ? dir : path.join(dir, MANIFEST_FILE);
    return { dir, ok: false, structure: structure.kind, problems: [{ file, problem: structure.kind === 'complete' ? 'unreachable' : structure.reason }] };
  }
  const manifest = structure.manifest;
  // A size that differs from the manifest, or a missing part, is a problem even when the files parse.
  const problems: Problem[] = structure.kind === 'complete' ? [] : [{ file: dir, problem: structure.reason }];
  if (hasForeignPart(manifest)) problems.push(...(await foreign.verify(dir, manifest)));
  for (const file of Object.keys(manifest.files) as TensorFile[]) {
    const check = await checkTensorFile(dir, file, entriesFor(manifest, file), { load: false, stopAtFirst: false });
    problems.push(...check.problems);
  }
  const kind = structure.kind === 'incomplete' && problems.length === 1 ? 'incomplete' : problems.length === 0 ? 'complete' : 'damaged';
  return { dir, ok: problems.length === 0, structure: kind, problems, manifest };
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
  if (structure.kind !== 'complete') throw new CheckpointFormatError(dir, structure.reason);
  const { manifest } = structure;
  if (hasForeignPart(manifest)) {
    throw new CheckpointFormatError(
      dir,
      `holds ${manifest.foreign.formatLabel} tensors, not this trainer's; continue from it with "train --resume", which maps its tensors to a model preset`,
    );
  }
  const loaded: Record<TensorFile, Tensor[]> = { [MODEL_FILE]: [], [OPTIMIZER_FILE]: [] };
  for (const file of [MODEL_FILE, OPTIMIZER_FILE] as const) {
    if (!(file in manifest.files)) continue;
    const check = await checkTensorFile(dir, file, entriesFor(manifest, file), { load: true, stopAtFirst: true });
    const first = check.problems[0];
    if (first) {
      throw first.tensor === undefined ? new CheckpointFormatError(first.file, first.problem) : new DamagedTensorError(first.file, first.tensor, first.problem);
    }
    loaded[file] = check.tensors;
  }
  return { dir, manifest, model: loaded[MODEL_FILE], optimizer: loaded[OPTIMIZER_FILE] };
}
