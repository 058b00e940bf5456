// Names on disk. DESIGN.md "Checkpoint on disk" is the source; docs/FORMAT.md documents them.
import path from 'node:path';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const POLICY_FILE = 'retention.json';
export const LOCK_FILE = '.lock';
export const MANIFEST_FILE = 'manifest.json';
export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRASH_DIR = '.trash';
export const STATE_DIR = '.studio';
/** Anything being written starts with this prefix and is never listed, watched or kept. */
export const TMP_PREFIX = '.tmp-';

const CHECKPOINT_DIGITS = 9;
const CHECKPOINT_PATTERN = /^ckpt-(\d+)$/;
/** A run name is one path segment we can show and type safely. */
const RUN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkpointDirName(step: number): string {
  return `ckpt-${String(step).padStart(CHECKPOINT_DIGITS, '0')}`;
}

export function parseCheckpointDirName(name: string): number | null {
  const match = CHECKPOINT_PATTERN.exec(name);
  return match ? Number(match[1]) : null;
}

export function isValidRunName(name: string): boolean {
  return RUN_NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}

export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}

export function checkpointPath(workspace: string, run: string, step: number): string {
  return path.join(workspace, run, checkpointDirName(step));
}

/** The id a checkpoint is known by in the CLI, the app and lineage pointers. */
export function checkpointId(run: string, step: number): string {
  return `${run}/${checkpointDirName(step)}`;
}
