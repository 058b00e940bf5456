// A checkpoint read in place, read whole through its format's reader: every tensor's bytes, the
// format's own checksums where it has them (TensorFlow's), and each tensor's CRC-32C for the store
// to keep where it has none.
import path from 'node:path';
import { shown } from '../base/describe-value.js';
import { CheckpointFormatError, DamagedTensorError, errorMessage } from '../base/errors.js';
import type { InPlaceVerification } from '../checkpoint/in-place.js';
import type { Problem } from '../checkpoint/problem.js';
import type { ForeignCheckpoint } from '../formats/foreign.js';
import { isForeignFormat, readerFor } from '../formats/registry.js';
import { storageReadProblem } from '../formats/storage-readers.js';

/** Formats whose files carry checksums of their own, checked as the tensors are read. */
const OWN_CHECKSUMS = new Set(['tf-bundle']);

function problemOf(error: unknown, fallback: string): Problem {
  if (error instanceof DamagedTensorError) return { file: error.file, tensor: shown(error.tensor), problem: error.problem };
  if (error instanceof CheckpointFormatError)
    return { file: error.file, problem: error.byteOffset === undefined ? error.problem : `byte ${error.byteOffset}: ${error.problem}` };
  return { file: fallback, problem: errorMessage(error) };
}

export async function verifyInPlace(target: { readonly path: string; readonly format: string; readonly name: string }): Promise<InPlaceVerification> {
  const ownChecksums = OWN_CHECKSUMS.has(target.format);
  if (!isForeignFormat(target.format))
    return { problems: [{ file: target.path, problem: `no reader for the format ${shown(target.format)}` }], crcs: {}, ownChecksums };
  const unreadable = storageReadProblem(target.path, target.format);
  if (unreadable !== null) return { problems: [{ file: target.path, problem: unreadable }], crcs: {}, ownChecksums };
  const reader = readerFor(target.format);
  const crcs: Record<string, number> = {};
  const problems: Problem[] = [];
  let checkpoint: ForeignCheckpoint | undefined;
  try {
    const source = await reader.open(target.path);
    checkpoint = source.checkpoints.find((c) => c.name === target.name) ?? (source.checkpoints.length === 1 ? source.checkpoints[0] : undefined);
    if (!checkpoint) return { problems: [{ file: target.path, problem: `holds no checkpoint named ${shown(target.name)}` }], crcs, ownChecksums };
    for await (const item of reader.read(checkpoint)) crcs[item.tensor.name] = item.storedCrc32c;
  } catch (error) {
    problems.push(problemOf(error, target.path));
  }
  for (const tensor of checkpoint?.tensors ?? []) {
    if (problems.length === 0 && crcs[tensor.name] === undefined)
      problems.push({ file: path.join(checkpoint?.dir ?? target.path, tensor.file), tensor: shown(tensor.name), problem: 'listed, but not read' });
  }
  return { problems, crcs, ownChecksums };
}
