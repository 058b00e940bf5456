// Runs and checkpoints of other programs' folders as the page names them. Such a run is named by
// its path relative to the workspace (`.` for the workspace itself, `logs/fit/run1`, a file's path
// for a one-file run): the page shows its last two parts, or the workspace folder's own name for
// `.`, and puts the whole path on hover. Our own runs' names are plain names, shown as they are.
import type { CheckpointInfo } from './contract';

const parts = (text: string): string[] => text.split(/[\\/]/).filter((p) => p !== '');

/**
 * A run's name in two parts, so a narrow place can cut the folders before it in the middle and
 * keep its own name whole: `logs/fit/mnist/` and `run1` for `logs/fit/mnist/run1`.
 */
export function runNameParts(run: string, workspace: string | null): { readonly head: string; readonly tail: string } {
  if (run === '.') return { head: '', tail: (workspace ? parts(workspace).at(-1) : undefined) ?? 'this folder' };
  const names = parts(run);
  const tail = names.at(-1) ?? run;
  return { head: names.length > 1 ? `${names.slice(0, -1).join('/')}/` : '', tail };
}

/** A run's name, short enough for a line of text: `…/mnist/run1` for `logs/fit/mnist/run1`. */
export function runDisplayName(run: string, workspace: string | null): string {
  if (run === '.') return runNameParts(run, workspace).tail;
  const names = parts(run);
  return names.length > 2 ? `…/${names.slice(-2).join('/')}` : run;
}

/** What hovering a run's name shows: its whole path (relative to the workspace), or the workspace's for `.`. */
export function runFullName(run: string, workspace: string | null): string {
  return run === '.' ? (workspace ?? run) : run;
}

/** Another program's checkpoint read where it lies (its files listed), not one of ours nor a copy imported. */
export function isInPlace(checkpoint: CheckpointInfo): boolean {
  return checkpoint.files !== null;
}

/** A checkpoint's own name: its name in the other program's folder (`model-5000`), else its folder's (`ckpt-000001200`). */
export function checkpointName(checkpoint: CheckpointInfo): string {
  return checkpoint.source?.name ?? parts(checkpoint.id).at(-1) ?? checkpoint.id;
}

/** A step as the page shows it: "—" where the checkpoint's files record none. */
export function stepText(checkpoint: CheckpointInfo): string {
  return checkpoint.stepKnown ? String(checkpoint.step) : '—';
}
