// What a folder's `checkpoint` state file says that its files do not bear out: checkpoints it lists
// that are gone, checkpoints present that it does not list, and what TensorFlow itself would make
// of the file (checkpoint_management.py: get_checkpoint_state, latest_checkpoint, and
// CheckpointManager.__init__, which pairs paths and timestamps with zip()).
import { shown } from '../../base/describe-value.js';
import type { CheckpointState } from './checkpoint-state.js';
import { stateEntry } from './state-paths.js';

export interface StateProblems {
  /** The latest the file names (folder-relative), or null when it names none. */
  readonly latest: string | null;
  /** Checkpoints the file names (in its list or as the latest) whose files are not in the folder, in the file's order. */
  readonly missing: readonly string[];
  /** Checkpoints in the folder that the file does not name, in the order given. */
  readonly unlisted: readonly string[];
  /** What TensorFlow would make of the file, where that is not the plain reading. */
  readonly notes: readonly string[];
}

/** `present`: the folder-relative prefixes of the complete checkpoints in `dir`. */
export function stateProblems(state: CheckpointState, present: Iterable<string>, dir: string): StateProblems {
  const here = new Set(present);
  const notes: string[] = [];
  const listed = state.allModelCheckpointPaths.map((p) => {
    const entry = stateEntry(dir, p);
    if (entry.how === 'basename')
      notes.push(`${shown(p)} is a path outside this folder; it is taken to mean ${shown(entry.name)} here, which TensorFlow would not find.`);
    return entry.name;
  });
  const latest = state.modelCheckpointPath ? stateEntry(dir, state.modelCheckpointPath).name : null;
  if (latest === null)
    notes.push('It names no latest checkpoint (no model_checkpoint_path): TensorFlow refuses such a file (get_checkpoint_state raises ValueError).');
  else if (listed.length > 0 && listed.at(-1) !== latest) notes.push(`Its latest, ${shown(latest)}, is not the last of its list, where TensorFlow keeps it.`);
  const paths = listed.length;
  const times = state.allModelCheckpointTimestamps.length;
  if (times > 0 && times !== paths) {
    notes.push(
      times < paths
        ? `It lists ${paths} checkpoints but only ${times} timestamps; a restarted CheckpointManager pairs them in order and forgets the last ${paths - times}.`
        : `It lists ${times} timestamps for ${paths} checkpoints; TensorFlow ignores the last ${times - paths}.`,
    );
  }
  const named = [...listed, ...(latest === null ? [] : [latest])];
  const missing = [...new Set(named.filter((name) => !here.has(name)))];
  const unlisted = [...here].filter((name) => !named.includes(name));
  return { latest, missing, unlisted, notes };
}

function list(names: readonly string[]): string {
  const head = names.slice(0, 8).map(shown);
  if (names.length > 8) return `${head.join(', ')} and ${names.length - 8} more`;
  return head.length <= 1 ? head.join('') : `${head.slice(0, -1).join(', ')} and ${head.at(-1)}`;
}

/**
 * One sentence for people: what is missing and what is present. Null when the file and the folder
 * agree. `file` is the state file's path, named first.
 */
export function describeStateProblems(problems: StateProblems, present: readonly string[], file: string): string | null {
  if (problems.missing.length === 0) return null;
  const latestGone = problems.latest !== null && problems.missing.includes(problems.latest);
  const holds = present.length === 0 ? 'the folder holds no complete checkpoint' : `the folder holds ${list(present)}`;
  const latest = latestGone ? `; its latest, ${shown(problems.latest as string)}, is among them, so tf.train.latest_checkpoint returns None` : '';
  return `${file} names ${list(problems.missing)}, which ${problems.missing.length === 1 ? 'is' : 'are'} not in the folder${latest}; ${holds}.`;
}
