// Imports one source folder into a workspace. Whatever the format, the same steps:
//  1. the importer writes our format into a staging folder under the workspace's .studio/, named
//     as our temporaries are (a crash leaves it to the next writer's clean-up, see temporaries.ts);
//  2. every staged checkpoint is verified (sizes, headers, every tensor's CRC-32C) from the copy;
//  3. a new run is renamed into place whole; checkpoints for an existing run are renamed into it
//     under its lock, after checking that none of their steps is taken.
// Any failure or a cancel removes the staging folder: the workspace is as it was. The source is
// only ever read.
import { StudioError } from '../../contract.js';
import { lstat, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { ImportPhase, RunMeta } from '../../contract.js';
import { fsyncPath, writeFileDurably } from '../base/durable-fs.js';
import { RefusedError } from '../base/errors.js';
import { RUN_FILE, STATE_DIR, folderCheckpointId, runNameProblem } from '../checkpoint/layout.js';
import { showName } from '../checkpoint/names.js';
import { describeProblem } from '../checkpoint/problem.js';
import { inspectSummary, verifyCheckpoint } from '../checkpoint/reader.js';
import { storedForeignParts } from '../formats/stored-foreign.js';
import { acquireRunLock } from '../checkpoint/run-lock.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { temporaryName } from '../base/temporaries.js';
import { detectSource } from './detect.js';
import type { Importer, StagedSource } from './importer.js';
import { copyDurably } from './copy-file.js';
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
  readonly onProgress?: (progress: { phase: ImportPhase; bytesDone: number; bytesTotal: number }) => void;
  /** copy (the default): the files come into the workspace; link: a foreign source is read in place and never written. */
  readonly mode?: 'copy' | 'link';
  /** Which importer read the folder, as soon as it is known (for a refusal's report). */
  readonly onDetected?: (importer: Importer) => void;
}

/** Thrown when the import was cancelled; nothing of it stays. */
export class ImportCancelledError extends StudioError {
  constructor(source: string) {
    super('refused', `${source}: import cancelled; nothing of it was kept`);
  }
}

export async function importFolder(store: CheckpointStore, source: string, options: ImportFolderOptions = {}): Promise<ImportedSource> {
  const signal = options.signal ?? new AbortController().signal;
  const { importer, source: folder } = await detectSource(source);
  options.onDetected?.(importer);
  const mode = options.mode ?? 'copy';
  if (mode === 'link' && !isForeignFormat(importer.format)) {
    throw new RefusedError(
      folder.path,
      `is ${importer.format === 'checkpoint-studio run' ? 'a run' : 'a checkpoint'} of this program; --link is for other programs' checkpoints, ours are copied (import it without --link)`,
    );
  }
  const destination = await chooseRun(store, importer, folder.path, options.into);
  const stateDir = path.join(store.root, STATE_DIR);
  const madeStateDir = await mkdir(stateDir).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return false;
      throw error;
    },
  );
  const stageDir = path.join(stateDir, temporaryName('import'));
  let placed = false;
  let bytesTotal = 0;
  let bytesDone = 0;
  let phase: ImportPhase = 'reading';
  const report = (): void => options.onProgress?.({ phase, bytesDone, bytesTotal });
  const checkCancel = (): void => {
    if (signal.aborted) throw new ImportCancelledError(folder.path);
  };
  try {
    await mkdir(stageDir);
    const staged = await importer.stage(folder, stageDir, {
      run: destination.run,
      signal,
      at: new Date().toISOString(),
      parentResolves: (ref) => store.catalog.list(ref.run).some((c) => c.step === ref.step && c.sameStepAs.length === 0),
      setTotal: (bytes) => {
        bytesTotal = bytes;
        report();
      },
      phase: (next) => {
        checkCancel();
        phase = next;
        report();
      },
      mode,
      readBytes: (n) => {
        bytesDone += n;
        report();
      },
      copyFile: (from, to) =>
        copyDurably(from, to, signal, (n) => {
          bytesDone += n;
          report();
        }).catch((error: unknown) => {
          if (signal.aborted) throw new ImportCancelledError(folder.path);
          throw error;
        }),
    });
    checkCancel();
    phase = 'verifying';
    bytesDone = 0;
    report();
    // What was verified, by the signature it had before: a rename keeps sizes and times, so the
    // placed checkpoint is known verified without reading its bytes twice.
    const signatures = new Map<string, string>();
    for (const checkpoint of staged.checkpoints) {
      const dir = path.join(stageDir, checkpoint.dirName);
      const before = inspectSummary(dir);
      if (checkpoint.verified && before.kind === 'complete') {
        signatures.set(checkpoint.dirName, before.signature);
        continue;
      }
      const verified = await verifyCheckpoint(dir, storedForeignParts);
      checkCancel();
      if (before.kind === 'complete') signatures.set(checkpoint.dirName, before.signature);
      if (!verified.ok) {
        // Name the source's file, not our staging copy's.
        const problems = verified.problems.map((p) => describeProblem({ ...p, file: p.file.split(dir).join(checkpoint.from) }));
        throw new StudioError('damaged', problems.length > 0 ? problems.join('; ') : `${checkpoint.from}: does not verify`);
      }
      bytesDone += Object.values(verified.manifest?.files ?? {}).reduce((sum, f) => sum + (f?.bytes ?? 0), 0);
      report();
    }
    phase = 'placing';
    report();
    checkCancel();
    const result = destination.exists
      ? await placeIntoRun(store, destination.run, stageDir, staged, signatures)
      : await placeNewRun(store, destination.run, stageDir, staged, importer, folder.path, signatures);
    placed = true;
    phase = 'done';
    report();
    return { format: importer.format, run: destination.run, newRun: !destination.exists, checkpoints: result, notes: [...destination.notes, ...staged.notes] };
  } finally {
    if (!placed || destination.exists) await rm(stageDir, { recursive: true, force: true }).catch(() => undefined);
    if (madeStateDir) await rmdir(stateDir).catch(() => undefined);
  }
}

interface Destination {
  readonly run: string;
  /** The run exists: checkpoints go into it. */
  readonly exists: boolean;
  readonly notes: readonly string[];
}

async function taken(store: CheckpointStore, run: string): Promise<boolean> {
  if (store.catalog.getRun(run)) return true;
  return lstat(path.join(store.root, run)).then(
    () => true,
    () => false,
  );
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

async function chooseRun(store: CheckpointStore, importer: Importer, source: string, into: string | undefined): Promise<Destination> {
  if (importer.kind === 'checkpoints') {
    const run = into ?? DEFAULT_IMPORT_RUN;
    checkName(run, 'the run to import into');
    return { run, exists: await taken(store, run), notes: [] };
  }
  if (into !== undefined) {
    checkName(into, 'the new run');
    if (await taken(store, into))
      throw new RefusedError(path.join(store.root, into), 'a run of this name exists; a run folder is imported as a new run (choose another name)');
    return { run: into, exists: false, notes: [] };
  }
  const base = runBaseName(source);
  checkName(base, "the source's name");
  for (let i = 1; ; i += 1) {
    const run = i === 1 ? base : `${base}-${i}`;
    if (!(await taken(store, run)))
      return { run, exists: false, notes: i === 1 ? [] : [`imported as run "${showName(run)}": the workspace already has a run "${showName(base)}"`] };
  }
}

/** A run made whole in the staging folder, then renamed into the workspace in one step. */
/** Tells the catalog which placed checkpoints were verified; a failure to remember is no failure of the import. */
async function rememberVerified(store: CheckpointStore, run: string, signatures: ReadonlyMap<string, string>): Promise<void> {
  await store.catalog.rememberVerified([...signatures].map(([dirName, signature]) => ({ id: folderCheckpointId(run, dirName), signature })));
}

async function placeNewRun(
  store: CheckpointStore,
  run: string,
  stageDir: string,
  staged: StagedSource,
  importer: Importer,
  source: string,
  signatures: ReadonlyMap<string, string>,
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
  await fsyncPath(stageDir);
  const target = path.join(store.root, run);
  // rename() replaces an empty folder silently: check first (a name taken since chooseRun is refused).
  if (
    await lstat(target).then(
      () => true,
      () => false,
    )
  )
    throw new RefusedError(target, 'a folder of this name appeared during the import; nothing was imported, try again');
  await rename(stageDir, target);
  await fsyncPath(store.root);
  await fsyncPath(path.dirname(stageDir));
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
): Promise<string[]> {
  const runDir = store.runDir(run);
  const info = await lstat(runDir);
  if (info.isSymbolicLink() || !info.isDirectory())
    throw new RefusedError(runDir, 'is not a run folder of this workspace (a link or a file); import into another run');
  const lock = await acquireRunLock(runDir);
  try {
    await store.catalog.refreshRun(run);
    for (const checkpoint of staged.checkpoints) {
      const holder = store.catalog.list(run).find((c) => c.step === checkpoint.step);
      const target = path.join(runDir, checkpoint.dirName);
      if (
        holder ||
        (await lstat(target).then(
          () => true,
          () => false,
        ))
      ) {
        throw new RefusedError(
          checkpoint.from,
          `run "${showName(run)}" already holds step ${checkpoint.step} (${holder?.id ?? folderCheckpointId(run, checkpoint.dirName)}); checkpoints are never overwritten: import into another run`,
        );
      }
    }
    for (const checkpoint of staged.checkpoints) await rename(path.join(stageDir, checkpoint.dirName), path.join(runDir, checkpoint.dirName));
    await fsyncPath(runDir);
  } finally {
    await lock.release();
  }
  await rememberVerified(store, run, signatures);
  await store.catalog.refreshRun(run);
  return staged.checkpoints.map((c) => folderCheckpointId(run, c.dirName));
}
