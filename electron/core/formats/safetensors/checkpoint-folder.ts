// A folder that is one checkpoint: a Trainer `checkpoint-N/`, or a model folder written by
// save_pretrained. Its weights are the shards an index names, or else every .safetensors file
// in it; trainer_state.json gives the step and metrics; every other file is kept, not read.
import path from 'node:path';
import { quoted, shown } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import type { ForeignCheckpoint, ForeignFile, ForeignTensor } from '../foreign.js';
import { type FolderListing, checkpointFolderStep } from './folder-listing.js';
import { isIndexName, readShardedIndex } from './sharded.js';
import { type TensorFile, SAFETENSORS_SUFFIX, listNames, metadataNote, readTensorFile, uniqueTensors } from './tensor-file.js';
import { TRAINER_STATE_FILE, bestNote, metricsAtStep, readTrainerState } from './trainer-state.js';

const weightNames = (listing: FolderListing): string[] => [...listing.files.keys()].filter((name) => name.endsWith(SAFETENSORS_SUFFIX));
const indexNames = (listing: FolderListing): string[] => [...listing.files.keys()].filter(isIndexName);

/** Whether the folder holds weights we read: an index or a .safetensors file. */
export function holdsWeights(listing: FolderListing): boolean {
  return indexNames(listing).length > 0 || weightNames(listing).length > 0;
}

/** Whether the folder is one checkpoint (rather than loose files, each its own). */
export function isCheckpointFolder(listing: FolderListing): boolean {
  return (
    indexNames(listing).length > 0 ||
    listing.files.has(TRAINER_STATE_FILE) ||
    checkpointFolderStep(path.basename(listing.dir)) !== null ||
    weightNames(listing).length === 1
  );
}

interface Weights {
  readonly files: ForeignFile[];
  readonly tensors: ForeignTensor[];
  readonly notes: string[];
  readonly label: string;
}

/** The shards every index names; a shard or tensor claimed by two indexes is refused. */
async function indexedWeights(listing: FolderListing, indexes: readonly string[]): Promise<Weights> {
  const files: ForeignFile[] = [];
  const tensors: ForeignTensor[] = [];
  const notes: string[] = [];
  const shardIndex = new Map<string, string>();
  const tensorIndex = new Map<string, string>();
  for (const index of indexes) {
    const indexFile = path.join(listing.dir, index);
    const read = await readShardedIndex(listing.dir, index, listing.files.get(index) ?? 0);
    files.push({ name: index, bytes: read.bytes, role: 'index' });
    for (const shard of read.shards) {
      const other = shardIndex.get(shard.name);
      if (other !== undefined) throw new CheckpointFormatError(indexFile, `names shard ${shown(shard.name)}, which ${other} names too`);
      shardIndex.set(shard.name, index);
      files.push({ name: shard.name, bytes: shard.bytes, role: 'tensors' });
    }
    for (const tensor of read.tensors) {
      const other = tensorIndex.get(tensor.name);
      if (other !== undefined) throw new CheckpointFormatError(indexFile, `tensor ${quoted(tensor.name)} is also mapped by ${other}`);
      tensorIndex.set(tensor.name, index);
      tensors.push(tensor);
    }
    notes.push(...read.notes);
  }
  const count = shardIndex.size;
  return { files, tensors, notes, label: `sharded safetensors (${indexes.join(', ')}, ${count} shard${count === 1 ? '' : 's'})` };
}

/** Every .safetensors file of the folder, no tensor in two of them. */
async function folderWeights(listing: FolderListing): Promise<Weights> {
  const weights: TensorFile[] = [];
  for (const name of weightNames(listing)) weights.push(await readTensorFile(listing.dir, name));
  const tensors = uniqueTensors(
    weights,
    (tensor, first, second) => new CheckpointFormatError(second.path, `tensor ${quoted(tensor)} is also in ${first}, in the same folder`),
  );
  const notes = weights.map(metadataNote).filter((note) => note !== null);
  const files = weights.map((file) => ({ name: file.name, bytes: file.bytes, role: 'tensors' as const }));
  return { files, tensors, notes, label: weights.length === 1 ? 'safetensors' : `safetensors (${weights.length} files)` };
}

interface Progress {
  readonly step: number | null;
  readonly stepSource: string | null;
  readonly metrics: Record<string, number | null>;
  readonly notes: string[];
}

/** Step and metrics from trainer_state.json, checked against the folder's name `checkpoint-N`. */
async function trainerProgress(listing: FolderListing, name: string): Promise<Progress> {
  const nameStep = checkpointFolderStep(name);
  const fromName: Progress = { step: nameStep, stepSource: nameStep === null ? null : `the folder name ${name}`, metrics: {}, notes: [] };
  if (!listing.files.has(TRAINER_STATE_FILE)) return fromName;
  const state = await readTrainerState(path.join(listing.dir, TRAINER_STATE_FILE));
  const notes: string[] = [];
  let { step, stepSource } = fromName;
  if (state.global_step !== undefined) {
    step = state.global_step;
    stepSource = nameStep === state.global_step ? `${TRAINER_STATE_FILE} global_step and the folder name ${name}` : `${TRAINER_STATE_FILE} global_step`;
    if (nameStep !== null && nameStep !== state.global_step) {
      notes.push(
        `${TRAINER_STATE_FILE} says global_step ${state.global_step} but the folder is named ${name} (step ${nameStep}); the step is taken from ${TRAINER_STATE_FILE}`,
      );
    }
  }
  const best = bestNote(state);
  if (best !== null) notes.push(best);
  return { step, stepSource, metrics: step === null ? {} : metricsAtStep(state, step), notes };
}

export async function openCheckpointFolder(listing: FolderListing, options: { readonly ignoreFolders?: ReadonlySet<string> } = {}): Promise<ForeignCheckpoint> {
  const { dir } = listing;
  const name = path.basename(dir);
  const indexes = indexNames(listing);
  const weights = indexes.length > 0 ? await indexedWeights(listing, indexes) : await folderWeights(listing);
  const progress = await trainerProgress(listing, name);
  const files = [...weights.files];
  const notes = [...weights.notes, ...progress.notes];
  if (listing.files.has(TRAINER_STATE_FILE)) files.push({ name: TRAINER_STATE_FILE, bytes: listing.files.get(TRAINER_STATE_FILE) ?? 0, role: 'metadata' });

  const claimed = new Set(files.map((file) => file.name));
  const unindexed = weightNames(listing).filter((file) => !claimed.has(file));
  if (unindexed.length > 0) notes.push(`safetensors files no index names (kept, not read): ${listNames(unindexed)}`);
  const kept = [...listing.files.entries()].filter(([file]) => !claimed.has(file));
  for (const [file, bytes] of kept) files.push({ name: file, bytes, role: 'kept' });
  if (kept.length > 0) notes.push(`kept, not read: ${listNames(kept.map(([file]) => file))}`);
  // A shard an index names inside a subfolder makes that subfolder part of the checkpoint.
  const shardFolders = new Set([...claimed].filter((file) => file.includes('/')).map((file) => file.split('/')[0]));
  const folders = listing.folders.filter((folder) => !options.ignoreFolders?.has(folder) && !shardFolders.has(folder));
  if (folders.length > 0) notes.push(`subfolders not read or copied: ${listNames(folders.map((f) => `${f}/`))}`);
  if (listing.others.length > 0) notes.push(`not followed: ${listNames(listing.others.map((o) => `${o.name} (${o.kind})`))}`);

  const label = listing.files.has(TRAINER_STATE_FILE) ? `Hugging Face Trainer checkpoint, ${weights.label}` : weights.label;
  return {
    format: 'safetensors',
    formatLabel: label,
    dir,
    name,
    step: progress.step,
    stepSource: progress.stepSource,
    savedAt: null,
    files,
    tensors: weights.tensors,
    metrics: progress.metrics,
    notes,
  };
}
