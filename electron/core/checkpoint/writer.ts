// Writes one checkpoint atomically. The caller holds the run's lock (see run-writer.ts).
// Order matters: data files, then the manifest, each fsynced; then the folder; then the rename
// that makes it a checkpoint; then the run folder, so the rename itself survives a power cut.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32c, formatCrc } from '../base/crc32c.js';
import { type UnsyncedFile, fsyncPath, writeAtomically, writeFileUnsynced } from '../base/durable-fs.js';
import { temporaryName } from '../base/temporaries.js';
import { CheckpointFormatError } from '../base/errors.js';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE, checkpointDirName } from './layout.js';
import {
  type CheckpointRef,
  FORMAT_NAME,
  FORMAT_VERSION,
  type Manifest,
  ManifestSchema,
  type SaveCost,
  type TensorEntry,
  type TensorFile,
  WRITER_PROGRAM,
} from './manifest.js';
import { type Tensor, encodeSafetensors } from './safetensors.js';
import { STUDIO_VERSION } from '../version.js';

export interface TrainingState {
  readonly step: number;
  readonly epoch: number;
  readonly batchInEpoch: number;
  readonly trainingTimeMs: number;
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly rng: Manifest['rng'];
  readonly backend: string;
  readonly parent: CheckpointRef | null;
  readonly model: readonly Tensor[];
  readonly optimizer: readonly Tensor[];
  readonly cost?: SaveCost;
  readonly extra?: Manifest['extra'];
  readonly origin?: Manifest['origin'];
}

/** The writer's steps, in order; a crash after any of them must leave no listed half-checkpoint. */
export const WRITER_STEPS = ['folder-created', 'model-written', 'optimizer-written', 'manifest-written', 'folder-synced', 'renamed', 'run-synced'] as const;
export type WriterStep = (typeof WRITER_STEPS)[number];

export interface WriteOptions {
  /** Test seam for crash simulation: throwing here stops the writer right after that step. */
  readonly afterStep?: (step: WriterStep) => void | Promise<void>;
}

export interface WrittenCheckpoint {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly bytes: number;
}

const STEP_TAKEN = 'a checkpoint with this step already exists; checkpoints are never overwritten';

export async function writeCheckpoint(runDir: string, run: string, state: TrainingState, options: WriteOptions = {}): Promise<WrittenCheckpoint> {
  const finalDir = path.join(runDir, checkpointDirName(state.step));
  const tmpDir = path.join(runDir, temporaryName(checkpointDirName(state.step)));
  const after = options.afterStep ?? (() => undefined);
  // We hold the run lock, so nobody of ours can create finalDir meanwhile; the placement's own
  // check guards against another program's folder.
  const { manifest, bytes } = await writeAtomically(tmpDir, finalDir, (stage) => writeFolder(stage, run, state, after), {
    synced: true,
    taken: STEP_TAKEN,
    afterRename: () => after('renamed'),
  });
  await after('run-synced');
  return { dir: finalDir, manifest, bytes };
}

/** Writes the checkpoint's files into `tmpDir` and fsyncs them and the folder. */
async function writeFolder(
  tmpDir: string,
  run: string,
  state: TrainingState,
  after: (step: WriterStep) => void | Promise<void>,
): Promise<Omit<WrittenCheckpoint, 'dir'>> {
  await mkdir(tmpDir);
  await after('folder-created');
  // The two tensor files are written at once, and their fsyncs overlap with the manifest's:
  // every fsync still completes before the folder is synced and renamed.
  const written = await Promise.allSettled([writeTensorFile(tmpDir, MODEL_FILE, state.model), writeTensorFile(tmpDir, OPTIMIZER_FILE, state.optimizer)]);
  const failed = written.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const r of written) if (r.status === 'fulfilled') await r.value.file.abandon();
    throw failed.reason;
  }
  const [model, optimizer] = written.map((r) => (r as PromiseFulfilledResult<WrittenTensorFile>).value) as [WrittenTensorFile, WrittenTensorFile];
  let manifest: Manifest;
  let manifestBytes: Buffer;
  let manifestFile: UnsyncedFile;
  try {
    manifest = buildManifest(run, state, [model, optimizer]);
    manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
    manifestFile = await writeFileUnsynced(path.join(tmpDir, MANIFEST_FILE), [manifestBytes]);
  } catch (error) {
    await Promise.all([model.file.abandon(), optimizer.file.abandon()]);
    throw error;
  }
  // Every entry of the folder exists now, so its fsync can run alongside the files' own.
  await Promise.all([model.file.sync(), optimizer.file.sync(), manifestFile.sync(), fsyncPath(tmpDir)]);
  await after('model-written');
  await after('optimizer-written');
  await after('manifest-written');
  await after('folder-synced');
  return { manifest, bytes: model.bytes + optimizer.bytes + manifestBytes.length };
}

interface WrittenTensorFile {
  readonly file: UnsyncedFile;
  readonly name: TensorFile;
  readonly bytes: number;
  readonly entries: readonly TensorEntry[];
}

async function writeTensorFile(dir: string, name: TensorFile, tensors: readonly Tensor[]): Promise<WrittenTensorFile> {
  const target = path.join(dir, name);
  const encoded = encodeTensorFile(target, name, tensors);
  // Checksums are computed while the writes are in flight (they run on libuv's threads), so
  // the CRC pass costs no wall time on top of the disk's.
  const writing = writeFileUnsynced(target, encoded.chunks);
  const entries = await encoded.entries();
  const file = await writing;
  if (file.bytes !== encoded.bytes) {
    await file.abandon();
    throw new CheckpointFormatError(target, `wrote ${file.bytes} bytes, expected ${encoded.bytes}`);
  }
  return { file, name, bytes: file.bytes, entries };
}

export interface EncodedTensorFile {
  readonly name: TensorFile;
  /** The file's bytes: its header, then views of the tensors' own memory (nothing copied). */
  readonly chunks: readonly Uint8Array[];
  readonly bytes: number;
  /** The manifest's entries, CRC-32C computed with a yield per megabyte: call it while the bytes go out. */
  entries(): Promise<TensorEntry[]>;
}

/** One tensor file of a checkpoint, ready to be written anywhere (a file here, an S3 object in storage-writer.ts). */
export function encodeTensorFile(target: string, name: TensorFile, tensors: readonly Tensor[]): EncodedTensorFile {
  const encoded = encodeSafetensors(target, tensors, { format: FORMAT_NAME });
  return {
    name,
    chunks: [encoded.header, ...encoded.payloads],
    bytes: encoded.totalBytes,
    async entries() {
      const crcs = await checksumsInterleaved(encoded.ordered);
      return encoded.ordered.map((tensor, i) => ({
        file: name,
        name: tensor.name,
        dtype: tensor.dtype,
        shape: [...tensor.shape],
        bytes: tensor.data.byteLength,
        crc32c: formatCrc(crcs[i] as number),
      }));
    },
  };
}

/** Yields to the event loop after each large tensor so the concurrent writer can issue its next write. */
const YIELD_AFTER_BYTES = 1 << 20;

async function checksumsInterleaved(tensors: readonly Tensor[]): Promise<number[]> {
  const crcs: number[] = [];
  let sinceYield = 0;
  for (const tensor of tensors) {
    crcs.push(crc32c(tensor.data));
    sinceYield += tensor.data.byteLength;
    if (sinceYield >= YIELD_AFTER_BYTES) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return crcs;
}

/** The manifest of a checkpoint whose tensor files are written (it names their sizes and checksums). */
export function buildManifest(
  run: string,
  state: TrainingState,
  files: readonly { readonly name: TensorFile; readonly bytes: number; readonly entries: readonly TensorEntry[] }[],
): Manifest {
  const manifest: Manifest = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    run,
    step: state.step,
    epoch: state.epoch,
    batchInEpoch: state.batchInEpoch,
    createdAt: new Date().toISOString(),
    trainingTimeMs: state.trainingTimeMs,
    // JSON has no NaN or Infinity: a diverged metric is stored as null (see ManifestSchema.metrics).
    metrics: Object.fromEntries(Object.entries(state.metrics).map(([k, v]) => [k, v !== null && Number.isFinite(v) ? v : null])),
    rng: state.rng,
    backend: state.backend,
    parent: state.parent,
    origin: state.origin ?? 'trained',
    writer: { program: WRITER_PROGRAM, version: STUDIO_VERSION, host: os.hostname(), pid: process.pid },
    files: Object.fromEntries(files.map((f) => [f.name, { bytes: f.bytes }])),
    tensors: files.flatMap((f) => f.entries),
    // The tensor files are on disk by now, so the save knows its size; writeMs is the caller's.
    ...(state.cost ? { cost: { ...state.cost, bytes: files.reduce((sum, f) => sum + f.bytes, 0) } } : {}),
    extra: state.extra ?? {},
  };
  // Refuse to write what we could not read back.
  return ManifestSchema.parse(manifest);
}
