// A folder that is one checkpoint: a Trainer `checkpoint-N/`, or a model folder written by
// save_pretrained. Its weights are the shards an index names, or else every .safetensors file
// in it; trainer_state.json gives the step and metrics; every other file is kept, not read.
import path from 'node:path';
import { CheckpointFormatError } from '../../checkpoint/errors.js';
import type { ForeignCheckpoint, ForeignFile, ForeignTensor } from '../foreign.js';
import { type FolderListing, checkpointFolderStep } from './folder-listing.js';
import { isIndexName, readShardedIndex } from './sharded.js';
import { type TensorFile, SAFETENSORS_SUFFIX, listNames, metadataNote, readTensorFile, uniqueTensors } from './tensor-file.js';
import { TRAINER_STATE_FILE, bestNote, metricsAtStep, readTrainerState } from './trainer-state.js';

/** Whether the folder holds weights we read: an index or a .safetensors file. */
export function holdsWeights(listing: FolderListing): boolean {
  return [...listing.files.keys()].some((name) => isIndexName(name) || name.endsWith(SAFETENSORS_SUFFIX));
}

/** Whether the folder is one checkpoint (rather than loose files, each its own). */
export function isCheckpointFolder(listing: FolderListing): boolean {
  const weights = [...listing.files.keys()].filter((name) => name.endsWith(SAFETENSORS_SUFFIX));
  return (
    [...listing.files.keys()].some(isIndexName) ||
    listing.files.has(TRAINER_STATE_FILE) ||
    checkpointFolderStep(path.basename(listing.dir)) !== null ||
    weights.length === 1
  );
}

export async function openCheckpointFolder(listing: FolderListing, options: { readonly ignoreFolders?: ReadonlySet<string> } = {}): Promise<ForeignCheckpoint> {
  const { dir } = listing;
  const name = path.basename(dir);
  const files: ForeignFile[] = [];
  const notes: string[] = [];
  const claimed = new Set<string>();
  let tensors: ForeignTensor[];
  let label: string;

  const indexes = [...listing.files.keys()].filter(isIndexName);
  if (indexes.length > 0) {
    const shardsOf = new Map<string, string>(); // shard → index naming it
    const owner = new Map<string, string>();
    tensors = [];
    for (const index of indexes) {
      const read = await readShardedIndex(dir, index, listing.files.get(index) ?? 0);
      files.push({ name: index, bytes: read.bytes, role: 'index' });
      claimed.add(index);
      for (const shard of read.shards) {
        const other = shardsOf.get(shard.name);
        if (other !== undefined) throw new CheckpointFormatError(path.join(dir, index), `names shard ${shard.name}, which ${other} names too`);
        shardsOf.set(shard.name, index);
        files.push({ name: shard.name, bytes: shard.bytes, role: 'tensors' });
        claimed.add(shard.name);
      }
      for (const tensor of read.tensors) {
        const other = owner.get(tensor.name);
        if (other !== undefined) throw new CheckpointFormatError(path.join(dir, index), `tensor "${tensor.name}" is also mapped by ${other}`);
        owner.set(tensor.name, index);
        tensors.push(tensor);
      }
      notes.push(...read.notes);
    }
    const unnamed = [...listing.files.keys()].filter((file) => file.endsWith(SAFETENSORS_SUFFIX) && !claimed.has(file));
    if (unnamed.length > 0) notes.push(`safetensors files no index names (kept, not read): ${listNames(unnamed)}`);
    label = `sharded safetensors (${indexes.join(', ')}, ${shardsOf.size} shard${shardsOf.size === 1 ? '' : 's'})`;
  } else {
    const weights: TensorFile[] = [];
    for (const file of [...listing.files.keys()].filter((f) => f.endsWith(SAFETENSORS_SUFFIX))) weights.push(await readTensorFile(dir, file));
    tensors = uniqueTensors(weights, (tensor, first, second) => new CheckpointFormatError(second.path, `tensor "${tensor}" is also in ${first}, in the same folder`));
    for (const file of weights) {
      files.push({ name: file.name, bytes: file.bytes, role: 'tensors' });
      claimed.add(file.name);
      const note = metadataNote(file);
      if (note !== null) notes.push(note);
    }
    label = weights.length === 1 ? 'safetensors' : `safetensors (${weights.length} files)`;
  }

  const nameStep = checkpointFolderStep(name);
  let step = nameStep;
  let stepSource = nameStep === null ? null : `the folder name ${name}`;
  let metrics: Record<string, number | null> = {};
  if (listing.files.has(TRAINER_STATE_FILE)) {
    const state = await readTrainerState(path.join(dir, TRAINER_STATE_FILE));
    files.push({ name: TRAINER_STATE_FILE, bytes: listing.files.get(TRAINER_STATE_FILE) ?? 0, role: 'metadata' });
    claimed.add(TRAINER_STATE_FILE);
    label = `Hugging Face Trainer checkpoint, ${label}`;
    if (state.global_step !== undefined) {
      step = state.global_step;
      if (nameStep === null) stepSource = `${TRAINER_STATE_FILE} global_step`;
      else if (nameStep === state.global_step) stepSource = `${TRAINER_STATE_FILE} global_step and the folder name ${name}`;
      else {
        stepSource = `${TRAINER_STATE_FILE} global_step`;
        notes.push(`${TRAINER_STATE_FILE} says global_step ${state.global_step} but the folder is named ${name} (step ${nameStep}); the step is taken from ${TRAINER_STATE_FILE}`);
      }
    }
    if (step !== null) metrics = metricsAtStep(state, step);
    const best = bestNote(state);
    if (best !== null) notes.push(best);
  }

  const kept = [...listing.files.entries()].filter(([file]) => !claimed.has(file));
  for (const [file, bytes] of kept) files.push({ name: file, bytes, role: 'kept' });
  if (kept.length > 0) notes.push(`kept, not read: ${listNames(kept.map(([file]) => file))}`);
  const shardFolders = new Set([...claimed].filter((file) => file.includes('/')).map((file) => file.split('/')[0]));
  const folders = listing.folders.filter((folder) => !options.ignoreFolders?.has(folder) && !shardFolders.has(folder));
  if (folders.length > 0) notes.push(`subfolders not read or copied: ${listNames(folders.map((f) => `${f}/`))}`);
  if (listing.others.length > 0) notes.push(`not followed: ${listNames(listing.others.map((o) => `${o.name} (${o.kind})`))}`);

  return { format: 'safetensors', formatLabel: label, dir, name, step, stepSource, savedAt: null, files, tensors, metrics, notes };
}
