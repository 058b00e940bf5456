// What must change beside a TensorFlow folder's checkpoints: its `checkpoint` state file,
// rewritten as TensorFlow would have left it (formats/tf/state-edit.ts): deleted prefixes leave it
// with their timestamps, a deleted latest passes to the newest remaining, and with none left the
// file goes (TensorFlow cannot read a state file that names no latest).
import path from 'node:path';
import { isAbsence } from '../base/path-state.js';
import type { InPlaceRun, Rewrite } from '../checkpoint/in-place.js';
import { CHECKPOINT_STATE_FILE, decodeStateFile, formatCheckpointState } from '../formats/tf/checkpoint-state.js';
import { removeFromState, setLatestInState } from '../formats/tf/state-edit.js';
import { readWhole, statFile } from '../storage/file-access.js';

const MAX_STATE_BYTES = 4 * 1024 * 1024;

/** The state file's text, on disk or in an open S3 workspace (storage/file-access.ts). */
async function stateText(dir: string): Promise<string | null> {
  const file = path.join(dir, CHECKPOINT_STATE_FILE);
  try {
    const found = await statFile(file);
    if (found === null || found.kind !== 'file' || found.bytes > MAX_STATE_BYTES) return null;
    return decodeStateFile(await readWhole(file, MAX_STATE_BYTES), file);
  } catch (error) {
    if (isAbsence(error)) return null;
    throw error;
  }
}

export async function tfRewritesForDelete(dir: string, run: InPlaceRun, names: readonly string[]): Promise<Rewrite[]> {
  const before = await stateText(dir);
  if (before === null) return [];
  const gone = new Set(names);
  const present = run.checkpoints.filter((c) => c.complete && !gone.has(c.name)).map((c) => c.name);
  const edit = removeFromState(before, names, { dir, file: path.join(dir, CHECKPOINT_STATE_FILE), present });
  return edit.text === before ? [] : [{ name: CHECKPOINT_STATE_FILE, before, after: edit.text }];
}

export async function tfRewritesForLatest(dir: string, run: InPlaceRun, name: string): Promise<Rewrite[]> {
  const checkpoint = run.checkpoints.find((c) => c.name === name);
  const before = await stateText(dir);
  if (before === null) {
    // No state file yet (an Exporter's folder, say): one as Saver writes it, naming this checkpoint.
    const after = formatCheckpointState({
      modelCheckpointPath: name,
      allModelCheckpointPaths: [name],
      allModelCheckpointTimestamps: [],
      lastPreservedTimestamp: null,
    });
    return [{ name: CHECKPOINT_STATE_FILE, before: null, after }];
  }
  const timestamp = checkpoint ? checkpoint.savedAt / 1000 : undefined;
  const edit = setLatestInState(before, name, { dir, file: path.join(dir, CHECKPOINT_STATE_FILE), ...(timestamp !== undefined ? { timestamp } : {}) });
  return edit.text === before || edit.text === null ? [] : [{ name: CHECKPOINT_STATE_FILE, before, after: edit.text }];
}
