// A Hugging Face Trainer's output folder: `checkpoint-<global_step>/` folders (trainer_utils.py
// PREFIX_CHECKPOINT_DIR), each one checkpoint, moved whole; trainer_state.json inside gives the
// metrics at its step. A checkpoint folder is whole once it holds weights and its trainer state,
// which Trainer writes after the weights.
import path from 'node:path';
import { errorMessage } from '../base/errors.js';
import type { FolderListing, InPlaceCheckpoint, InPlaceFile, InPlaceRun } from '../checkpoint/in-place.js';
import { FORMAT_NAMES } from '../formats/registry.js';
import { checkpointFolderStep } from '../formats/safetensors/folder-listing.js';
import { SAFETENSORS_SUFFIX } from '../formats/safetensors/tensor-file.js';
import { TRAINER_STATE_FILE, metricsAtStep, readTrainerState } from '../formats/safetensors/trainer-state.js';
import { listFiles } from '../storage/file-access.js';

const WEIGHT_NAMES = [/\.safetensors$/, /^pytorch_model.*\.bin$/, /\.safetensors\.index\.json$/];

async function folderFiles(dir: string, folder: string): Promise<InPlaceFile[]> {
  const files: InPlaceFile[] = [];
  for (const entry of await listFiles(path.join(dir, folder)).catch(() => [])) {
    if (entry.kind === 'file') files.push({ name: `${folder}/${entry.name}`, bytes: entry.bytes, mtimeMs: entry.mtimeMs });
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

async function checkpointFolder(dir: string, folder: string, step: number): Promise<InPlaceCheckpoint> {
  const files = await folderFiles(dir, folder);
  const base = (f: InPlaceFile): string => f.name.slice(folder.length + 1);
  const hasWeights = files.some((f) => WEIGHT_NAMES.some((pattern) => pattern.test(base(f))));
  const hasState = files.some((f) => base(f) === TRAINER_STATE_FILE);
  const notes: string[] = [];
  let metrics: Record<string, number | null> = {};
  if (hasState) {
    try {
      metrics = metricsAtStep(await readTrainerState(path.join(dir, folder, TRAINER_STATE_FILE)), step);
    } catch (error) {
      notes.push(`its ${TRAINER_STATE_FILE} cannot be read, so it carries no metrics: ${errorMessage(error)}`);
    }
  }
  const reason = !hasWeights ? 'it holds no weights yet' : !hasState ? `it holds no ${TRAINER_STATE_FILE} yet (Trainer writes it after the weights)` : null;
  return {
    name: folder,
    folder,
    step,
    epoch: null,
    stepSource: `step ${step} from the folder's name (Trainer names it by its global step)`,
    files,
    complete: reason === null,
    incompleteReason: reason,
    format: 'safetensors',
    formatLabel: FORMAT_NAMES.safetensors,
    savedAt: Math.max(0, ...files.map((f) => f.mtimeMs)),
    metrics,
    notes,
  };
}

export async function scanHfTrainer(listing: FolderListing): Promise<InPlaceRun | null> {
  const folders = listing.entries.filter((e) => e.kind === 'folder' && checkpointFolderStep(e.name) !== null);
  if (folders.length === 0) return null;
  const checkpoints: InPlaceCheckpoint[] = [];
  for (const folder of folders) checkpoints.push(await checkpointFolder(listing.dir, folder.name, checkpointFolderStep(folder.name) as number));
  // By content: a Trainer's folder holds weights or its trainer state; `checkpoint-3/` folders of something else do not.
  if (!checkpoints.some((c) => c.files.some((f) => f.name.endsWith(`/${TRAINER_STATE_FILE}`) || f.name.endsWith(SAFETENSORS_SUFFIX)))) return null;
  checkpoints.sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
  return {
    file: null,
    layout: 'hf-trainer',
    label: 'Hugging Face Trainer output',
    checkpoints,
    latest: null,
    claimed: folders.map((f) => f.name),
    config: null,
    series: [],
    notes: [],
  };
}
