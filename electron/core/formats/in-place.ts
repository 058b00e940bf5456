// Another program's checkpoints read where they are, without importing: their tensors listed,
// and every byte read through the format's reader (which checks the format's own checksums).
import path from 'node:path';
import type { TensorRow, VerifyResult } from '../../contract.js';
import { shown } from '../base/describe-value.js';
import { CheckpointFormatError, DamagedTensorError, errorMessage } from '../base/errors.js';
import { type ForeignCheckpoint, type ForeignReader, type ForeignTensor, checkpointPath } from './foreign.js';

export function tensorRow(tensor: ForeignTensor): TensorRow {
  return {
    file: tensor.file,
    name: tensor.name,
    dtype: tensor.dtype,
    shape: [...tensor.shape],
    bytes: tensor.bytes,
    role: tensor.role,
    ...(tensor.slot ? { slotOf: tensor.slot.variable } : {}),
  };
}

/** The tensors of the checkpoint `target` names, or of the one its source calls latest (else its last). */
export async function inspectForeign(reader: ForeignReader, target: string): Promise<TensorRow[]> {
  const source = await reader.open(target);
  const chosen = source.checkpoints.find((c) => c.name === source.latest) ?? source.checkpoints.at(-1);
  if (!chosen) throw new CheckpointFormatError(target, 'holds no checkpoint');
  return chosen.tensors.map(tensorRow);
}

async function verifyOne(reader: ForeignReader, checkpoint: ForeignCheckpoint): Promise<VerifyResult> {
  const id = checkpointPath(checkpoint);
  const seen = new Set<string>();
  const problems: VerifyResult['problems'] = [];
  try {
    for await (const item of reader.read(checkpoint)) seen.add(item.tensor.name);
    for (const t of checkpoint.tensors)
      if (!seen.has(t.name)) problems.push({ file: path.join(checkpoint.dir, t.file), tensor: shown(t.name), problem: 'listed, but not read' });
  } catch (error) {
    if (error instanceof DamagedTensorError) problems.push({ file: error.file, tensor: shown(error.tensor), problem: error.problem });
    else if (error instanceof CheckpointFormatError)
      problems.push({ file: error.file, problem: error.byteOffset === undefined ? error.problem : `byte ${error.byteOffset}: ${error.problem}` });
    else problems.push({ file: id, problem: errorMessage(error) });
  }
  return { id, path: checkpoint.dir, ok: problems.length === 0, status: problems.length === 0 ? 'complete' : 'damaged', problems };
}

/** Every checkpoint `target` holds, each read whole. A source that cannot be opened is one damaged result. */
export async function verifyForeign(reader: ForeignReader, target: string): Promise<VerifyResult[]> {
  let checkpoints: readonly ForeignCheckpoint[];
  try {
    checkpoints = (await reader.open(target)).checkpoints;
  } catch (error) {
    const problem =
      error instanceof CheckpointFormatError
        ? { file: error.file, problem: error.byteOffset === undefined ? error.problem : `byte ${error.byteOffset}: ${error.problem}` }
        : { file: target, problem: errorMessage(error) };
    return [{ id: target, path: target, ok: false, status: 'damaged', problems: [problem] }];
  }
  const results: VerifyResult[] = [];
  for (const checkpoint of checkpoints) results.push(await verifyOne(reader, checkpoint));
  return results;
}
