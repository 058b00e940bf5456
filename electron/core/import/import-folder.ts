// Imports one source folder into a workspace. Whatever the format, the same steps:
//  1. the importer writes our format into a staging folder under the workspace's .studio/, named
//     as our temporaries are (a crash leaves it to the next writer's clean-up, see temporaries.ts);
//  2. every staged checkpoint is verified (sizes, headers, every tensor's CRC-32C) from the copy;
//  3. a new run is placed whole (placeAtomically: one rename, never over anything); checkpoints
//     for an existing run are placed into it under its lock, after checking that none of their
//     steps is taken.
// Any failure or a cancel removes the staging folder: the workspace is as it was. The source is
// only ever read.
import { StudioError } from '../../contract.js';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { RunMeta } from '../../contract.js';
import { placeAtomically, writeFileDurably } from '../base/durable-fs.js';
import { RefusedError } from '../base/errors.js';
import { exists, pathKind } from '../base/path-state.js';
import { RUN_FILE, STATE_DIR, folderCheckpointId, runNameProblem } from '../checkpoint/layout.js';
import { firstFreeName, showName } from '../checkpoint/names.js';
import { describeProblem } from '../checkpoint/problem.js';
import { inspectSummary, verifyCheckpoint } from '../checkpoint/reader.js';
import { storedForeignParts } from '../formats/stored-foreign.js';
import { acquireRunLock } from '../checkpoint/run-lock.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { temporaryName } from '../base/temporaries.js';
import { detectSource } from './detect.js';
import type { Importer, StagedSource } from './importer.js';
import { copyDurably } from './copy-file.js';
import { ImportCancelledError, ImportProgress, type ProgressListener } from './import-progress.js';
import type { SourceFolder } from './source-folder.js';
import { isForeignFormat } from '../formats/registry.js';

export const DEFAULT_IMPORT_RUN = 'imported';

export interface ImportedSource {
  readonly format: string;
  readonly run: string;
  readonly newRun: boolean;
  readonly checkpoints: readonly string[];
  readonly notes: readonly string[];
}

export interface ImportFolderOptions {
  /** The run loose checkpoints go into (default `imported`); for a run folder, the new run's name. */
  readonly into?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** copy (the default): the files come into the workspace; link: a foreign source is read in place and never written. */
  readonly mode?: 'copy' | 'link';
  /** Which importer read the folder, as soon as it is known (for a refusal's report). */
  readonly onDetected?: (importer: Importer) => void;
  /** Where the import ends up when `store` only stages it (a workspace in S3): its runs' names are taken too. */
  readonly destination?: ImportDestination;
}

export interface ImportDestination {
  /** The run's address there, for errors. */
  locate(run: string): string;
  hasRun(run: string): boolean;
}

export { ImportCancelledError };

export async function importFolder(store: CheckpointStore, source: string, options: ImportFolderOptions = {}): Promise<ImportedSource> {
  const { importer, source: folder } = await detectSource(source);
  options.onDetected?.(importer);
  const mode = options.mode ?? 'copy';
  refuseLinkingOurs(importer, folder.path, mode);
  const destination = await chooseRun(store, importer, folder.path, options.into, options.destination);
  const progress = new ImportProgress(folder.path, options.signal ?? new AbortController().signal, options.onProgress);
  return withStagingFolder(store.root, async (stageDir) => {
    const staged = await stageSource(store, importer, folder, stageDir, { run: destination.run, mode, progress });
    const signatures = await verifyStaged(stageDir, staged, progress);
    progress.enter('placing');
    const checkpoints = destination.exists
      ? await placeIntoRun(store, destination.run, stageDir, staged, signatures, progress)
      : await placeNewRun(store, destination.run, stageDir, staged, { importer, source: folder.path, signatures, progress });
    progress.enter('done');
    return { format: importer.format, run: destination.run, newRun: !destination.exists, checkpoints, notes: [...destination.notes, ...staged.notes] };
  });
}

function refuseLinkingOurs(importer: Importer, source: string, mode: 'copy' | 'link'): void {
  if (mode !== 'link' || isForeignFormat(importer.format)) return;
  throw new RefusedError(
    source,
    `is ${importer.format === 'checkpoint-studio run' ? 'a run' : 'a checkpoint'} of this program; --link is for other programs' checkpoints, ours are copied (import it without --link)`,
  );
}

/**
 * Runs `stage` with a fresh staging folder under the workspace's .studio/ (made for the while if
 * missing), and removes whatever of it is left afterwards, whether the import went through or not.
 */
async function withStagingFolder<T>(root: string, stage: (stageDir: string) => Promise<T>): Promise<T> {
  const stateDir = path.join(root, STATE_DIR);
  const madeStateDir = await mkdir(stateDir).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return false;
      throw error;
    },
  );
  const stageDir = path.join(stateDir, temporaryName('import'));
  try {
    await mkdir(stageDir);
    return await stage(stageDir);
  } finally {
    // A new run took the staging folder whole (nothing is left to remove); checkpoints placed
    // into an existing run left it empty.
    await rm(stageDir, { recursive: true, force: true }).catch(() => undefined);
    if (madeStateDir) await rmdir(stateDir).catch(() => undefined);
  }
}

/** The importer writes our format into the staging folder, reporting progress and honouring a cancel. */
function stageSource(
  store: CheckpointStore,
  importer: Importer,
  folder: SourceFolder,
  stageDir: string,
  { run, mode, progress }: { run: string; mode: 'copy' | 'link'; progress: ImportProgress },
): Promise<StagedSource> {
  return importer.stage(folder, stageDir, {
    run,
    signal: progress.signal,
    at: new Date().toISOString(),
    parentResolves: (ref) => store.catalog.list(ref.run).some((c) => c.step === ref.step && c.sameStepAs.length === 0),
    setTotal: (bytes) => progress.setTotal(bytes),
    phase: (next) => {
      progress.checkCancel();
      progress.enter(next);
    },
    mode,
    readBytes: (n) => progress.add(n),
    copyFile: (from, to) =>
      copyDurably(from, to, progress.signal, (n) => progress.add(n)).catch((error: unknown) => {
        progress.checkCancel();
        throw error;
      }),
  });
}

/**
 * Verifies every staged checkpoint from the copy (sizes, headers, every tensor's CRC-32C), and
 * returns what was verified by the signature it had before: a rename keeps sizes and times, so
 * the placed checkpoint is known verified without reading its bytes twice.
 */
async function verifyStaged(stageDir: string, staged: StagedSource, progress: ImportProgress): Promise<Map<string, string>> {
  progress.checkCancel();
  progress.enter('verifying');
  const signatures = new Map<string, string>();
  for (const checkpoint of staged.checkpoints) {
    const dir = path.join(stageDir, checkpoint.dirName);
    const before = inspectSummary(dir);
    if (checkpoint.verified && before.kind === 'complete') {
      signatures.set(checkpoint.dirName, before.signature);
      continue;
    }
    const verified = await verifyCheckpoint(dir, storedForeignParts);
    progress.checkCancel();
    if (before.kind === 'complete') signatures.set(checkpoint.dirName, before.signature);
    if (!verified.ok) {
      // Name the source's file, not our staging copy's.
      const problems = verified.problems.map((p) => describeProblem({ ...p, file: p.file.split(dir).join(checkpoint.from) }));
      throw new StudioError('damaged', problems.length > 0 ? problems.join('; ') : `${checkpoint.from}: does not verify`);
    }
    progress.add(Object.values(verified.manifest?.files ?? {}).reduce((sum, f) => sum + (f?.bytes ?? 0), 0));
  }
  return signatures;
}

interface Destination {
  readonly run: string;
  /** The run exists: checkpoints go into it. */
  readonly exists: boolean;
  readonly notes: readonly string[];
}

async function taken(store: CheckpointStore, run: string): Promise<boolean> {
  return store.catalog.getRun(run) !== undefined || (await exists(path.join(store.root, run)));
}

function checkName(name: string, what: string): void {
  const problem = runNameProblem(name);
  if (problem) throw new RefusedError(JSON.stringify(name), `cannot be a run name (${what}): ${problem}`);
}

/** A run's name from what was imported: a folder's name, a file's without its format's extension. */
export function runBaseName(source: string): string {
  let name = path.basename(source);
  // A SavedModel's variables/ folder is named for the model that holds it.
  if (name === 'variables' && path.basename(path.dirname(source)) !== '') name = path.basename(path.dirname(source));
  return (
    name
      .replace(/\.data-\d{5}-of-\d{5}$/, '')
      .replace(/(\.weights)?\.(index|json|safetensors|h5|hdf5)$/, '')
      .replace(/\.safetensors\.index$/, '') || name
  );
}

async function chooseRun(
  store: CheckpointStore,
  importer: Importer,
  source: string,
  into: string | undefined,
  destination: ImportDestination | undefined,
): Promise<Destination> {
  if (importer.kind === 'checkpoints') {
    // Into a run that may exist: the destination refuses a step it already holds when they go up.
    const run = into ?? DEFAULT_IMPORT_RUN;
    checkName(run, 'the run to import into');
    return { run, exists: await taken(store, run), notes: [] };
  }
  const takenAnywhere = async (run: string): Promise<boolean> => (destination?.hasRun(run) ?? false) || (await taken(store, run));
  if (into !== undefined) {
    checkName(into, 'the new run');
    if (await takenAnywhere(into))
      throw new RefusedError(
        destination?.locate(into) ?? path.join(store.root, into),
        `a run of this name exists; ${isForeignFormat(importer.format) ? "another program's checkpoints" : 'a run folder'} become a new run of their own (choose another name)`,
      );
    return { run: into, exists: false, notes: [] };
  }
  const base = runBaseName(source);
  checkName(base, "the source's name");
  const run = await firstFreeName(base, takenAnywhere);
  return { run, exists: false, notes: run === base ? [] : [`imported as run "${showName(run)}": the workspace already has a run "${showName(base)}"`] };
}

/** Tells the catalog which placed checkpoints were verified; a failure to remember is no failure of the import. */
async function rememberVerified(store: CheckpointStore, run: string, signatures: ReadonlyMap<string, string>): Promise<void> {
  await store.catalog.rememberVerified([...signatures].map(([dirName, signature]) => ({ id: folderCheckpointId(run, dirName), signature })));
}

/** A run made whole in the staging folder, then renamed into the workspace in one step. */
async function placeNewRun(
  store: CheckpointStore,
  run: string,
  stageDir: string,
  staged: StagedSource,
  { importer, source, signatures, progress }: { importer: Importer; source: string; signatures: ReadonlyMap<string, string>; progress: ImportProgress },
): Promise<string[]> {
  const meta: RunMeta & { imported: unknown } = {
    formatVersion: 1,
    name: run,
    createdAt: new Date().toISOString(),
    parent: staged.runMeta?.parent ?? null,
    config: staged.runMeta?.config ?? {},
    // An addition within format version 1 (docs/FORMAT.md §4).
    imported: { source, format: importer.format },
  };
  await writeFileDurably(path.join(stageDir, RUN_FILE), [Buffer.from(`${JSON.stringify(meta, null, 2)}\n`, 'utf8')]);
  // A name taken since chooseRun is refused, never written over.
  await placeAtomically(stageDir, path.join(store.root, run), {
    check: () => progress.checkCancel(),
    taken: 'a folder of this name appeared during the import; nothing was imported, try again',
  });
  await rememberVerified(store, run, signatures);
  await store.catalog.refreshRun(run);
  return staged.checkpoints.map((c) => folderCheckpointId(run, c.dirName));
}

/** Checkpoints into an existing run: under its lock, all steps checked free before any is moved. */
async function placeIntoRun(
  store: CheckpointStore,
  run: string,
  stageDir: string,
  staged: StagedSource,
  signatures: ReadonlyMap<string, string>,
  progress: ImportProgress,
): Promise<string[]> {
  const runDir = store.runDir(run);
  if ((await pathKind(runDir)) !== 'directory')
    throw new RefusedError(runDir, 'is not a run folder of this workspace (a link or a file); import into another run');
  const lock = await acquireRunLock(runDir);
  try {
    await store.catalog.refreshRun(run);
    for (const checkpoint of staged.checkpoints) {
      const holder = store.catalog.list(run).find((c) => c.step === checkpoint.step);
      if (holder || (await exists(path.join(runDir, checkpoint.dirName)))) throw stepTaken(run, checkpoint, holder?.id);
    }
    progress.checkCancel();
    for (const checkpoint of staged.checkpoints) {
      await placeAtomically(path.join(stageDir, checkpoint.dirName), path.join(runDir, checkpoint.dirName), { taken: stepTaken(run, checkpoint).problem });
    }
  } finally {
    await lock.release();
  }
  await rememberVerified(store, run, signatures);
  await store.catalog.refreshRun(run);
  return staged.checkpoints.map((c) => folderCheckpointId(run, c.dirName));
}

function stepTaken(run: string, checkpoint: StagedSource['checkpoints'][number], holder?: string): RefusedError {
  return new RefusedError(
    checkpoint.from,
    `run "${showName(run)}" already holds step ${checkpoint.step} (${holder ?? folderCheckpointId(run, checkpoint.dirName)}); checkpoints are never overwritten: import into another run`,
  );
}
