// Names on disk. DESIGN.md "Checkpoint on disk" is the source; docs/FORMAT.md documents them.
import path from 'node:path';
import { plainNameProblem } from './names.js';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
/** metrics.jsonl again as columns (checkpoint/metric-columns.ts): derived, rebuilt from the log when missing or stale. */
export const COLUMNS_FILE = 'metrics.columns';
export const POLICY_FILE = 'retention.json';
export const LOCK_FILE = '.lock';
export const MANIFEST_FILE = 'manifest.json';
export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
/**
 * A TensorBoard event file (events.out.tfevents.*): our runs write one beside metrics.jsonl.
 * TensorBoard's own rule is that the base name contains "tfevents"; so is ours, here and in
 * formats/tensorboard/, which reads and writes them.
 */
export const EVENT_FILE_INFIX = 'tfevents';
export function isEventFileName(name: string): boolean {
  return name.includes(EVENT_FILE_INFIX);
}
export const TRASH_DIR = '.trash';
export const STATE_DIR = '.studio';

const CHECKPOINT_DIGITS = 9;
/** At most 15 digits: every such step is a safe integer. */
const CHECKPOINT_PATTERN = /^ckpt-(\d{1,15})$/;

export function checkpointDirName(step: number): string {
  return `ckpt-${String(step).padStart(CHECKPOINT_DIGITS, '0')}`;
}

export function parseCheckpointDirName(name: string): number | null {
  const match = CHECKPOINT_PATTERN.exec(name);
  return match ? Number(match[1]) : null;
}

/** Why `name` cannot be a run's folder name, or null. Hidden names belong to the store itself. */
export function runNameProblem(name: string): string | null {
  if (name.startsWith('.')) return 'a run name cannot start with "." (such folders belong to the store)';
  return plainNameProblem(name);
}

export function isValidRunName(name: string): boolean {
  return runNameProblem(name) === null;
}

export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}

export function checkpointPath(workspace: string, run: string, step: number): string {
  return path.join(workspace, run, checkpointDirName(step));
}

/** The id lineage pointers (run + step) refer to: the step's canonical folder name. */
export function checkpointId(run: string, step: number): string {
  return `${run}/${checkpointDirName(step)}`;
}

/**
 * The id a checkpoint folder is known by in the CLI and the app: its run and its folder's own
 * name, so that two folders holding one step (`ckpt-000000012` and `ckpt-12`) stay two entries.
 */
export function folderCheckpointId(run: string, dirName: string): string {
  return `${run}/${dirName}`;
}
