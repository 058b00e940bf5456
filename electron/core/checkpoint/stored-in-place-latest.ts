// "Make latest" in another program's folder on S3 (issue 18), as on disk (in-place-changes.ts):
// the folder's state file (TensorFlow's `checkpoint`) is rewritten by its layout so the chosen
// checkpoint is latest, and the change is a trash entry that moves no object, so undo puts the
// state file back, only while it still holds what the change wrote. Judged on a listing taken now.
import type { CheckpointInfo } from '../../contract.js';
import { RefusedError } from '../base/errors.js';
import { shownPath } from '../storage/file-access.js';
import type { Storage } from '../storage/storage.js';
import { assertQuiet, folderKeyOf } from './stored-in-place-delete.js';
import type { StoredCatalog } from './stored-catalog.js';
import type { StoredRewrite } from './stored-trash-journal.js';
import type { StoredTrashTarget } from './stored-trash.js';

/** The trash target that makes `checkpoint` its folder's latest, or null when it already is; changes nothing. */
export async function inPlaceLatestTarget(
  storage: Storage,
  catalog: StoredCatalog,
  checkpoint: CheckpointInfo,
  quietMs: number,
): Promise<StoredTrashTarget | null> {
  if (checkpoint.status !== 'verified' && checkpoint.status !== 'unverified')
    throw new RefusedError(checkpoint.id, `is ${checkpoint.status}; only a whole checkpoint can be made latest`);
  const reading = catalog.inPlaceRun(checkpoint.run);
  if (!reading) throw new RefusedError(checkpoint.path, 'its folder no longer holds this run (it changed since it was listed); nothing was changed');
  const { found, layouts } = reading;
  const name = checkpoint.source?.name ?? '';
  const own = found.run.checkpoints.find((c) => c.name === name);
  if (!own) throw new RefusedError(checkpoint.path, 'is no longer in its folder (it changed since it was listed); nothing was changed');
  const folderKey = folderKeyOf(storage, found);
  const rewrites: StoredRewrite[] = (await layouts.rewritesForLatest(found.dir, found.run, name)).map((r) => ({
    key: `${folderKey}${r.name}`,
    before: r.before,
    after: r.after,
  }));
  if (rewrites.length === 0) return null;
  const direct = (await storage.children(folderKey)).objects;
  assertQuiet(storage, shownPath(found.dir), folderKey, direct, quietMs, new Set(rewrites.map((r) => r.key)));
  // No object moves: the state file is the entry's marker, and it is never taken away.
  const prefix = own.folder !== null ? `${folderKey}${own.folder}/` : `${folderKey}${name}`;
  const origin = {
    dir: folderKey.replace(/\/$/, ''),
    prefix,
    marker: (rewrites[0] as StoredRewrite).key,
    checkpointId: checkpoint.id,
    originalPath: checkpoint.id,
    rewrites,
  };
  return { checkpointId: checkpoint.id, run: checkpoint.run, step: checkpoint.step, folder: prefix, bytes: 0, inPlace: { origin, objects: [] } };
}
