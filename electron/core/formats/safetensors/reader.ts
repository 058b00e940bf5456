// The safetensors reader (FORMATS.md §5): a .safetensors file, a sharded model through its
// *.safetensors.index.json, a folder that is one checkpoint (a Trainer checkpoint-N/ or a
// save_pretrained folder), a Trainer output_dir holding several checkpoint-N/, or a folder of
// loose .safetensors files, each its own checkpoint.
import path from 'node:path';
import { CheckpointFormatError } from '../../base/errors.js';
import { resolveFilePath, statFile } from '../../storage/file-access.js';
import type { ForeignCheckpoint, ForeignReader, ForeignSource } from '../foreign.js';
import { holdsWeights, isCheckpointFolder, openCheckpointFolder } from './checkpoint-folder.js';
import { type FolderListing, checkpointFolderStep, listFolder } from './folder-listing.js';
import { aboutFile } from './fs-problem.js';
import { readTensors } from './read-tensors.js';
import { isIndexName, readShardedIndex } from './sharded.js';
import { sniffSafetensors } from './sniff.js';
import { SAFETENSORS_SUFFIX, listNames, metadataNote, readTensorFile, tensorsOf } from './tensor-file.js';

async function openFile(file: string): Promise<ForeignCheckpoint> {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const read = await readTensorFile(dir, name);
  const note = metadataNote(read);
  return {
    format: 'safetensors',
    formatLabel: 'safetensors file',
    dir,
    name,
    step: null,
    stepSource: null,
    savedAt: null,
    files: [{ name, bytes: read.bytes, role: 'tensors' }],
    tensors: tensorsOf(read),
    metrics: {},
    notes: note === null ? [] : [note],
  };
}

async function openIndex(file: string, bytes: number): Promise<ForeignCheckpoint> {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const index = await readShardedIndex(dir, name, bytes);
  return {
    format: 'safetensors',
    formatLabel: `sharded safetensors (${index.shards.length} shard${index.shards.length === 1 ? '' : 's'})`,
    dir,
    name,
    step: null,
    stepSource: null,
    savedAt: null,
    files: [{ name, bytes, role: 'index' }, ...index.shards.map((shard) => ({ name: shard.name, bytes: shard.bytes, role: 'tensors' as const }))],
    tensors: index.tensors,
    metrics: {},
    notes: index.notes,
  };
}

/** Steps ascending, then those without one, by name. */
function oldestFirst(a: ForeignCheckpoint, b: ForeignCheckpoint): number {
  if (a.step !== null && b.step !== null && a.step !== b.step) return a.step - b.step;
  if (a.step === null && b.step !== null) return 1;
  if (a.step !== null && b.step === null) return -1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function source(target: string, checkpoints: ForeignCheckpoint[], latest: string | null, notes: string[]): ForeignSource {
  return { format: 'safetensors', path: target, checkpoints: checkpoints.sort(oldestFirst), latest, notes };
}

/** A Trainer output_dir: each checkpoint-N/ holding weights, and the folder itself if save_model wrote there. */
async function openOutputFolder(listing: FolderListing, runFolders: readonly string[]): Promise<ForeignSource> {
  const checkpoints: ForeignCheckpoint[] = [];
  const notes: string[] = [];
  const skipped: string[] = [];
  for (const folder of runFolders) {
    const sub = await listFolder(path.join(listing.dir, folder));
    if (holdsWeights(sub)) checkpoints.push(await openCheckpointFolder(sub));
    else skipped.push(`${folder}/`);
  }
  if (skipped.length > 0) notes.push(`checkpoint folders without safetensors weights, not read: ${listNames(skipped)}`);
  if (holdsWeights(listing)) {
    checkpoints.push(await openCheckpointFolder(listing, { ignoreFolders: new Set(runFolders) }));
    notes.push(`the folder itself holds weights too (Trainer.save_model writes the final model there): read as checkpoint ${path.basename(listing.dir)}`);
  } else {
    const others = listing.folders.filter((folder) => !runFolders.includes(folder));
    if (others.length > 0) notes.push(`subfolders not read: ${listNames(others.map((f) => `${f}/`))}`);
  }
  // Trainer resumes from the checkpoint-N with the highest N (trainer_utils.py get_last_checkpoint).
  const sorted = checkpoints.sort(oldestFirst);
  const latest = sorted.findLast((c) => c.step !== null) ?? null;
  return source(listing.dir, sorted, latest?.name ?? null, notes);
}

async function openFolder(dir: string): Promise<ForeignSource> {
  const listing = await listFolder(dir);
  const runFolders = listing.folders.filter((folder) => checkpointFolderStep(folder) !== null);
  if (runFolders.length > 0) {
    const source = await openOutputFolder(listing, runFolders);
    if (source.checkpoints.length > 0) return source;
  }
  if (!holdsWeights(listing)) {
    throw new CheckpointFormatError(dir, 'holds no .safetensors file, no *.safetensors.index.json and no checkpoint-N folder with either');
  }
  if (isCheckpointFolder(listing)) {
    const checkpoint = await openCheckpointFolder(listing);
    return source(dir, [checkpoint], checkpoint.name, []);
  }
  // Several unrelated files and nothing that ties them together: each is a checkpoint of its own.
  const weights = [...listing.files.keys()].filter((name) => name.endsWith(SAFETENSORS_SUFFIX));
  const checkpoints: ForeignCheckpoint[] = [];
  for (const name of weights) checkpoints.push(await openFile(path.join(dir, name)));
  const rest = [...listing.files.keys()].filter((name) => !name.endsWith(SAFETENSORS_SUFFIX));
  const notes = rest.length > 0 ? [`files that belong to no checkpoint, not read: ${listNames(rest)}`] : [];
  return source(dir, checkpoints, null, notes);
}

export const safetensorsReader: ForeignReader = {
  format: 'safetensors',
  sniff: sniffSafetensors,
  async open(target) {
    const absolute = resolveFilePath(target);
    const info = await aboutFile(absolute, async () => {
      const found = await statFile(absolute);
      if (found === null) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return found;
    });
    if (info.kind === 'folder') return openFolder(absolute);
    if (info.kind !== 'file') throw new CheckpointFormatError(absolute, `is ${info.description}, not a safetensors file or folder`);
    const checkpoint = isIndexName(path.basename(absolute)) ? await openIndex(absolute, info.bytes) : await openFile(absolute);
    return source(absolute, [checkpoint], checkpoint.name, []);
  },
  read: readTensors,
};
