// The tensors a run's checkpoints hold, by name, read from manifests and indexes (no tensor
// bytes): what a user chooses a distribution from.
import path from 'node:path';
import type { RunTensor, RunTensors } from '../../contract.js';
import { errorMessage } from '../base/errors.js';
import { hasForeignPart } from '../checkpoint/foreign-part.js';
import { MANIFEST_FILE, OPTIMIZER_FILE } from '../checkpoint/layout.js';
import { readManifest } from '../checkpoint/manifest.js';
import { storedManifest } from '../checkpoint/stored-checkpoint.js';
import { type CheckpointRef, openInPlace } from './checkpoint-tensor.js';
import { isNumericDtype } from './tensor-values.js';

type Described = Pick<RunTensor, 'name' | 'dtype' | 'shape' | 'role'>;

async function tensorsOf(ref: CheckpointRef): Promise<Described[]> {
  if (ref.kind === 'in-place')
    return (await openInPlace(ref)).checkpoint.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], role: t.role }));
  const manifest =
    ref.kind === 'stored'
      ? await storedManifest((await import('../checkpoint/stored-open.js')).storageOf(ref), ref.folder)
      : await readManifest(path.join(ref.dir, MANIFEST_FILE));
  if (hasForeignPart(manifest)) return manifest.foreign.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, role: t.role }));
  return manifest.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, role: t.file === OPTIMIZER_FILE ? 'optimizer' : 'model' }));
}

const ROLE_ORDER: Record<RunTensor['role'], number> = { model: 0, optimizer: 1, step: 2, other: 3 };

export async function runTensors(run: string, checkpoints: readonly CheckpointRef[]): Promise<RunTensors> {
  const byName = new Map<string, RunTensor>();
  const problems: RunTensors['problems'] = [];
  // Oldest first, so each tensor is described as the newest checkpoint holding it has it.
  for (const ref of [...checkpoints].sort((a, b) => a.step - b.step)) {
    let tensors: Described[];
    try {
      tensors = await tensorsOf(ref);
    } catch (error) {
      problems.push({ id: ref.id, message: errorMessage(error) });
      continue;
    }
    for (const tensor of tensors) {
      const seen = byName.get(tensor.name)?.checkpoints ?? 0;
      byName.set(tensor.name, { ...tensor, checkpoints: seen + 1, numeric: isNumericDtype(tensor.dtype) });
    }
  }
  const tensors = [...byName.values()].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.name.localeCompare(b.name));
  return { run, tensors, problems };
}
