// Writes tensors as a TensorFlow tensor bundle, byte for byte as BundleWriter does
// (tensor_bundle.cc): one data shard with the tensors back to back in key order, an index table
// with the header under the empty key, and a `checkpoint` state file naming the new prefix.
import { StudioError } from '../../../contract.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from '../../base/crc32c.js';
import { tensorByteLength } from '../../base/dtypes.js';
import { writeAtomically, writeFileAtomic, writeFileDurably } from '../../base/durable-fs.js';
import { quoted } from '../../base/describe-value.js';
import { CheckpointFormatError, RefusedError } from '../../base/errors.js';
import { exists } from '../../base/path-state.js';
import { isMissing } from '../../base/regular-file.js';
import { temporaryName } from '../../base/temporaries.js';
import type { ExportTensor } from '../foreign.js';
import { encodeEntry, encodeHeader } from './bundle-protos.js';
import { dataFileName, indexFileName } from './bundle-files.js';
import { CHECKPOINT_STATE_FILE, type CheckpointState, formatCheckpointState, parseCheckpointState } from './checkpoint-state.js';
import { maskCrc } from './masked-crc.js';
import { buildTable } from './sstable-writer.js';
import { dtypeToTf } from './tf-dtypes.js';

export interface WrittenBundle {
  readonly indexFile: string;
  readonly dataFile: string;
  readonly stateFile: string;
}

function usage(problem: string): StudioError {
  return new StudioError('usage', problem);
}

function checkTensor(t: ExportTensor, seen: Set<string>): number {
  if (t.name === '') throw usage('a tensor has an empty name; TensorFlow keeps the empty key for the bundle header');
  if (Buffer.from(t.name, 'utf8').toString('utf8') !== t.name) throw usage(`tensor ${quoted(t.name)}: its name is not valid Unicode text`);
  if (seen.has(t.name)) throw usage(`tensor ${quoted(t.name)} is given twice`);
  seen.add(t.name);
  const code = dtypeToTf(t.dtype);
  if (code === null) throw usage(`tensor ${quoted(t.name)}: dtype ${t.dtype} has no TensorFlow equivalent a bundle can hold`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw usage(`tensor ${quoted(t.name)}: shape [${t.shape.join(', ')}] is not a list of sizes`);
  const expected = tensorByteLength(t.dtype, t.shape);
  if (expected !== t.data.byteLength)
    throw usage(`tensor ${quoted(t.name)}: ${t.data.byteLength} bytes given, shape [${t.shape.join(', ')}] of ${t.dtype} needs ${expected}`);
  return code;
}

/** The step counter TensorFlow's own training loops create (tf.train.get_or_create_global_step: int64 scalar). */
function globalStepTensor(step: number): ExportTensor {
  if (!Number.isSafeInteger(step) || step < 0) throw usage(`step ${step} is not a whole number ≥ 0`);
  const data = Buffer.alloc(8);
  data.writeBigInt64LE(BigInt(step), 0);
  return { name: 'global_step', dtype: 'I64', shape: [], data };
}

/**
 * Writes `<outDir>/<prefix>.index`, `<prefix>.data-00000-of-00001` and updates `<outDir>/checkpoint`.
 * With `step`, a `global_step` int64 scalar is added unless a tensor of that name is given.
 */
export async function writeTfBundle(
  outDir: string,
  prefix: string,
  tensors: readonly ExportTensor[],
  options: { readonly step?: number } = {},
): Promise<WrittenBundle> {
  if (prefix === '' || prefix === '.' || prefix === '..' || /[\\/]/.test(prefix))
    throw usage(`"${prefix}" is not a checkpoint name (a plain file name, no folders)`);
  const all = options.step !== undefined && !tensors.some((t) => t.name === 'global_step') ? [...tensors, globalStepTensor(options.step)] : [...tensors];
  const seen = new Set<string>();
  const keyed = all.map((t) => ({ t, code: checkTensor(t, seen), key: Buffer.from(t.name, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));

  const entries: { key: Uint8Array; value: Uint8Array }[] = [{ key: new Uint8Array(0), value: encodeHeader(1) }];
  let offset = 0;
  for (const { t, code, key } of keyed) {
    entries.push({
      key,
      value: encodeEntry({ dtype: code, shape: t.shape, shardId: 0, offset, size: t.data.byteLength, maskedCrc32c: maskCrc(crc32c(t.data)) }),
    });
    offset += t.data.byteLength;
  }

  const dataFile = path.join(outDir, dataFileName(prefix, 0, 1));
  const indexFile = path.join(outDir, indexFileName(prefix));
  // A bundle of the same prefix is never written over: its files are placed, not replaced.
  const taken = 'already exists; a checkpoint of this name is never written over: choose another prefix';
  for (const file of [dataFile, indexFile]) if (await exists(file)) throw new RefusedError(file, taken);
  const place = (file: string, chunks: readonly Uint8Array[]): Promise<number> =>
    writeAtomically(path.join(outDir, temporaryName(path.basename(file))), file, (stage) => writeFileDurably(stage, chunks), { taken });
  await place(
    dataFile,
    keyed.map(({ t }) => t.data),
  );
  await place(indexFile, [buildTable(entries)]);
  const stateFile = await addToCheckpointState(outDir, prefix);
  return { indexFile, dataFile, stateFile };
}

/** Writes `<dir>/checkpoint` (atomically) with the given state. */
export async function writeCheckpointStateFile(dir: string, state: CheckpointState): Promise<string> {
  const file = path.join(dir, CHECKPOINT_STATE_FILE);
  await writeFileAtomic(file, formatCheckpointState(state));
  return file;
}

/** As a Saver does: the new prefix becomes the latest and the last of the kept list; an unreadable old file is refused, not overwritten. */
async function addToCheckpointState(dir: string, prefix: string): Promise<string> {
  const file = path.join(dir, CHECKPOINT_STATE_FILE);
  let previous: CheckpointState | null = null;
  try {
    previous = parseCheckpointState(await readFile(file, 'utf8'), file);
  } catch (error) {
    if (!isMissing(error)) {
      if (error instanceof CheckpointFormatError)
        throw new CheckpointFormatError(file, `${error.problem}; it is left as it is and the new checkpoint is not added to it`, error.byteOffset);
      throw error;
    }
  }
  const paths = [...(previous?.allModelCheckpointPaths ?? []).filter((p) => p !== prefix), prefix];
  const oldTimes = previous?.allModelCheckpointTimestamps ?? [];
  const keepTimes = previous !== null && oldTimes.length === previous.allModelCheckpointPaths.length && oldTimes.length > 0;
  const times = keepTimes ? [...(previous?.allModelCheckpointPaths ?? []).flatMap((p, i) => (p === prefix ? [] : [oldTimes[i] ?? 0])), Date.now() / 1000] : [];
  return writeCheckpointStateFile(dir, {
    modelCheckpointPath: prefix,
    allModelCheckpointPaths: paths,
    allModelCheckpointTimestamps: times,
    lastPreservedTimestamp: previous?.lastPreservedTimestamp ?? null,
  });
}
