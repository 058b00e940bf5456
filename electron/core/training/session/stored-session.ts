// The parts of a session that differ when the workspace is on S3: the checkpoint it continues
// from is read back through the seam (every CRC checked), the run is created there under a lease,
// and the best value a continuation starts from is taken from the workspace's listing.
import { StudioError } from '../../../contract.js';
import { checkpointDirName, checkpointId, parseCheckpointDirName } from '../../checkpoint/layout.js';
import type { LoadedCheckpoint } from '../../checkpoint/reader.js';
import type { NewRunMeta } from '../../checkpoint/run-files.js';
import { listStoredWorkspace } from '../../checkpoint/stored-listing.js';
import { loadStoredCheckpoint, storedManifest } from '../../checkpoint/stored-checkpoint.js';
import { StoredRunWriter } from '../../checkpoint/stored-run-writer.js';
import { StoredWorkspace } from '../../checkpoint/stored-store.js';
import type { TrainRequest } from '../process/train-request.js';
import { type ForeignStart, type ParentCheckpoint, loadImportedStart, loadInPlaceStart } from './foreign-start.js';
import { storedForeignDir } from '../../formats/stored-foreign.js';
import { mountStorage } from '../../storage/file-access.js';
import type { TrainingConfig } from '../engine/training-loop.js';
import type { StoredTrainingWorkspace } from './session-control.js';
import type { SessionEvent } from '../../../contract.js';

/** `run/ckpt-000000100` → its run and step; anything else is refused, naming it. */
function parseStoredId(id: string): { run: string; step: number } {
  const slash = id.lastIndexOf('/');
  const step = slash === -1 ? null : parseCheckpointDirName(id.slice(slash + 1));
  if (step === null || slash === 0) throw new StudioError('usage', `${id}: not a checkpoint of an S3 workspace (expected run/ckpt-<step>)`);
  return { run: id.slice(0, slash), step };
}

/** The checkpoint a continuation starts from, read back from the store; it must still be the one the Studio resolved. */
export async function loadStoredStart(
  workspace: StoredTrainingWorkspace,
  resume: NonNullable<TrainRequest['resume']>,
): Promise<{ parent: ParentCheckpoint; loaded: LoadedCheckpoint }> {
  if (resume.foreignMap || resume.inPlace)
    throw new StudioError('refused', `${resume.id}: continuing another program's checkpoint from S3 is not supported yet`);
  const { run, step } = parseStoredId(resume.id);
  if (run !== resume.run || step !== resume.step)
    throw new StudioError('refused', `${resume.id}: is step ${step} of ${run}, not step ${resume.step} of ${resume.run}`);
  const id = checkpointId(run, step);
  const loaded = await loadStoredCheckpoint(workspace.storage, `${run}/${checkpointDirName(step)}/`);
  if (loaded.manifest.run !== run || loaded.manifest.step !== step)
    throw new StudioError('refused', `${workspace.storage.locate(id)}: its manifest says step ${loaded.manifest.step} of ${loaded.manifest.run}`);
  const parent: ParentCheckpoint = { id, run, step, path: workspace.storage.locate(id), trainingTimeMs: loaded.manifest.trainingTimeMs };
  return { parent, loaded };
}

/**
 * Another program's checkpoint imported into the workspace (issue 18): its manifest read from the
 * store, its files read where they lie beside it, each tensor against the CRC-32C recorded at import.
 */
export async function loadStoredImportedStart(
  workspace: StoredTrainingWorkspace,
  resume: NonNullable<TrainRequest['resume']> & { readonly foreignMap: Record<string, string> },
  config: TrainingConfig,
): Promise<{ parent: ParentCheckpoint; foreign: ForeignStart }> {
  const { run, step } = parseStoredId(resume.id);
  if (run !== resume.run || step !== resume.step)
    throw new StudioError('refused', `${resume.id}: is step ${step} of ${run}, not step ${resume.step} of ${resume.run}`);
  const folder = `${run}/${checkpointDirName(step)}/`;
  const manifest = await storedManifest(workspace.storage, folder);
  const id = checkpointId(run, step);
  const parent: ParentCheckpoint = { id, run, step, path: workspace.storage.locate(id), trainingTimeMs: null };
  return { parent, foreign: await loadImportedStart(parent, storedForeignDir(workspace.storage, folder), manifest, config, resume.foreignMap) };
}

/**
 * Another program's checkpoint in the workspace's prefix, read in place (issue 18), as the Studio
 * resolved it: its reader reaches the objects by their s3:// addresses over this session's client.
 */
export async function loadStoredInPlaceStart(
  workspace: StoredTrainingWorkspace,
  resume: NonNullable<TrainRequest['resume']> & {
    readonly inPlace: { path: string; format: string; name: string };
    readonly foreignMap: Record<string, string>;
  },
  config: TrainingConfig,
): Promise<{ parent: ParentCheckpoint; foreign: ForeignStart }> {
  const parent: ParentCheckpoint = { id: resume.id, run: resume.run, step: resume.step, path: resume.inPlace.path, trainingTimeMs: null };
  const unmount = mountStorage(workspace.storage);
  try {
    return { parent, foreign: await loadInPlaceStart(parent, resume.inPlace, config, resume.foreignMap) };
  } finally {
    unmount();
  }
}

/** The best value of `metric` among the committed checkpoints of `run` (a continuation saves on a new best only past it). */
export async function storedBestValue(workspace: StoredTrainingWorkspace, run: string, metric: string, mode: 'min' | 'max'): Promise<number | null> {
  const listing = await listStoredWorkspace(workspace.storage, { writeIndex: false });
  let best: number | null = null;
  for (const checkpoint of listing.runs.find((r) => r.name === run)?.checkpoints ?? []) {
    const value = checkpoint.manifest?.metrics[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    if (best === null || (mode === 'min' ? value < best : value > best)) best = value;
  }
  return best;
}

export function createStoredRun(
  workspace: StoredTrainingWorkspace,
  run: string,
  meta: NewRunMeta,
  onEvent: (event: SessionEvent) => void,
): Promise<StoredRunWriter> {
  return StoredRunWriter.create(workspace.storage, workspace.connection, run, meta, { onWarning: (message) => onEvent({ type: 'warning', message }) });
}

const workspaces = new WeakMap<StoredTrainingWorkspace, Promise<StoredWorkspace>>();

/**
 * The workspace as a store, for what a trainer does to its run besides saving (its retention
 * policy): opened once per session, over the session's own client. A failed opening is tried again
 * next time.
 */
export function storedWorkspaceOf(workspace: StoredTrainingWorkspace): Promise<StoredWorkspace> {
  let opened = workspaces.get(workspace);
  if (opened === undefined) {
    opened = StoredWorkspace.on(workspace.storage, 'write', workspace.connection);
    opened.catch(() => workspaces.delete(workspace));
    workspaces.set(workspace, opened);
  }
  return opened;
}
