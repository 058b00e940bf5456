// Another program's checkpoint in a workspace in S3, read in place (issue 18): inspect and export
// read it through its format's reader, which reaches the objects by their s3:// addresses
// (storage/file-access.ts) with ranged GETs; nothing is copied down to disk first. A checkpoint of
// ours in the same workspace is left to the callers' own paths (null).
import type { CheckpointInfo, RunMeta, TensorRow } from '../../contract.js';
import type { StoredWorkspace } from '../checkpoint/stored-store.js';
import { exportCheckpoint } from '../export/export-checkpoint.js';
import { inspectForeign } from '../formats/in-place.js';
import { RefusedError } from '../base/errors.js';
import { isForeignFormat, readerFor } from '../formats/registry.js';
import { storageReadProblem } from '../formats/storage-readers.js';
import { type Located, TargetLocator } from './locate.js';
import { inPlaceRunMeta } from './metric-history.js';

/** The checkpoint a target names, when it is one read in place from the prefix. */
export function storedInPlaceCheckpoint(
  workspace: StoredWorkspace,
  target: string,
): (CheckpointInfo & { readonly source: { readonly format: string } }) | null {
  const checkpoint = workspace.resolve(target);
  if (checkpoint.origin !== 'foreign' || checkpoint.source === null || !workspace.catalog.isInPlace(checkpoint.run)) return null;
  return checkpoint as CheckpointInfo & { readonly source: { readonly format: string } };
}

function located(checkpoint: CheckpointInfo & { readonly source: { readonly format: string } }): Located {
  const { format } = checkpoint.source;
  if (!isForeignFormat(format)) throw new RefusedError(checkpoint.path, `no reader for the format ${format}`);
  const unreadable = storageReadProblem(checkpoint.path, format);
  if (unreadable !== null) throw new RefusedError(checkpoint.path, unreadable);
  return { kind: 'foreign', reader: readerFor(format), path: checkpoint.path };
}

/** Finds only the one checkpoint it was made for: an export reads it where it lies. */
class InPlaceLocator extends TargetLocator {
  constructor(private readonly found: Located) {
    super(null);
  }

  override async locate(): Promise<Located> {
    return this.found;
  }
}

export async function inspectStoredInPlace(workspace: StoredWorkspace, target: string): Promise<TensorRow[] | null> {
  const checkpoint = storedInPlaceCheckpoint(workspace, target);
  if (!checkpoint) return null;
  const found = located(checkpoint);
  return found.kind === 'foreign' ? inspectForeign(found.reader, found.path) : null;
}

export async function exportStoredInPlace(
  workspace: StoredWorkspace,
  params: Parameters<typeof exportCheckpoint>[1],
): Promise<Awaited<ReturnType<typeof exportCheckpoint>> | null> {
  const checkpoint = storedInPlaceCheckpoint(workspace, params.target);
  if (!checkpoint) return null;
  return exportCheckpoint(new InPlaceLocator(located(checkpoint)), { ...params, target: checkpoint.path });
}

/** A run's configuration: for another program's run, what its folder says (as on disk); for ours, its run.json. */
export function storedRunConfig(workspace: StoredWorkspace, run: string): RunMeta {
  const info = workspace.catalog.getRun(run);
  if (info && workspace.catalog.isInPlace(run)) return inPlaceRunMeta(info, workspace.catalog.inPlaceConfig(run));
  return workspace.runMeta(run);
}
