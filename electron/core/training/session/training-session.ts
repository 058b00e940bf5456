// A whole training session, as the trainer process runs it (session/trainer-main.ts): checks the
// request again where it is executed, loads the backend and the data, creates the run in the
// store (continuing from a checkpoint when asked) and restores the loop, then hands over to
// SessionRun (session-run.ts), which trains. A start that fails leaves no run folder behind.
// Into an S3 workspace (stored-session.ts) the run is created there under a lease and a
// continuation's checkpoint is read back from there; retention is left to the workspace store.
import { type CheckpointInfo, StudioError } from '../../../contract.js';
import type { LoadedCheckpoint } from '../../checkpoint/reader.js';
import { isPolicyEmpty } from '../../checkpoint/retention.js';
import { type NewRunMeta, checkRunName, removeAbandonedRun } from '../../checkpoint/run-files.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import type { TrainingRunWriter } from '../../checkpoint/training-run-writer.js';
import { loadMnistLike } from '../data/mnist-dataset.js';
import { type TrainingData, holdOutValidation } from '../data/splits.js';
import { selectBackend } from '../engine/backend.js';
import { type TrainingConfig, TrainingConfigSchema, TrainingLoop } from '../engine/training-loop.js';
import { fixedFieldDifferences } from '../process/continuation.js';
import type { TrainRequest } from '../process/train-request.js';
import { type ForeignStart, type ParentCheckpoint, loadForeignStart, loadInPlaceStart } from './foreign-start.js';
import { type SessionOptions, type StoredTrainingWorkspace, isStoredWorkspace, localStore } from './session-control.js';
import { createStoredRun, loadStoredImportedStart, loadStoredInPlaceStart, loadStoredStart, storedWorkspaceOf } from './stored-session.js';
import { type SessionResult, SessionRun } from './session-run.js';
import { MetricColumnsLog } from '../../checkpoint/metric-columns-log.js';
import { TensorBoardLog } from './tensorboard-log.js';

// The session's inputs, exported from its one entry point for whoever runs it.
export { type SessionControl, type SessionOptions, type StoredTrainingWorkspace, newControl } from './session-control.js';
export type { SessionResult };

/** Where the session starts: a new model, our checkpoint, or another program's weights mapped onto ours. */
interface StartingPoint {
  readonly parent: ParentCheckpoint | null;
  /** The parent's tensors: dropped once the loop holds its own copy, so their memory can go. */
  weights: { readonly loaded: LoadedCheckpoint } | { readonly foreign: ForeignStart } | null;
}

/** The backend and the data the session trains on. */
interface Ground {
  readonly backendName: string;
  readonly backendReason: string | null;
  readonly data: TrainingData;
  readonly dataSource: string;
  readonly dataFingerprint: string;
}

/** What a continued run must match in its parent's checkpoint, checked before anything is created. */
function checkContinuation(parent: Pick<CheckpointInfo, 'id' | 'path'>, loaded: LoadedCheckpoint, request: TrainRequest): void {
  const recorded = TrainingConfigSchema.safeParse(loaded.manifest.extra.config);
  if (!recorded.success) throw new StudioError('refused', `${parent.path}: holds no training configuration this trainer wrote; it cannot be continued here`);
  const differences = fixedFieldDifferences(recorded.data, request.config);
  if (differences.length > 0) throw new StudioError('refused', `${parent.id}: cannot continue exactly: ${differences.join('; ')}`);
}

/** Reads the checkpoint a continuation starts from, checking it is still the one the Studio resolved. */
async function findStart(store: CheckpointStore | StoredTrainingWorkspace, request: TrainRequest, config: TrainingConfig): Promise<StartingPoint> {
  const resume = request.resume;
  if (!resume) return { parent: null, weights: null };
  if (isStoredWorkspace(store)) {
    if (resume.inPlace && resume.foreignMap) {
      const { parent, foreign } = await loadStoredInPlaceStart(store, { ...resume, inPlace: resume.inPlace, foreignMap: resume.foreignMap }, config);
      return { parent, weights: { foreign } };
    }
    if (resume.foreignMap) {
      const { parent, foreign } = await loadStoredImportedStart(store, { ...resume, foreignMap: resume.foreignMap }, config);
      return { parent, weights: { foreign } };
    }
    const { parent, loaded } = await loadStoredStart(store, resume);
    checkContinuation(parent, loaded, request);
    return { parent, weights: { loaded } };
  }
  // Another program's checkpoint read in place: read where it is, as the Studio resolved it (this
  // process lists no other program's folders).
  if (resume.inPlace && resume.foreignMap) {
    const parent: ParentCheckpoint = { id: resume.id, run: resume.run, step: resume.step, path: resume.inPlace.path, trainingTimeMs: null };
    return { parent, weights: { foreign: await loadInPlaceStart(parent, resume.inPlace, config, resume.foreignMap) } };
  }
  const parent = store.resolveResumable(resume.id);
  if (parent.run !== resume.run || parent.step !== resume.step) {
    throw new StudioError('refused', `${resume.id}: now holds ${parent.run} step ${parent.step}, not step ${resume.step} of ${resume.run}`);
  }
  if (resume.foreignMap) return { parent, weights: { foreign: await loadForeignStart(parent, config, resume.foreignMap) } };
  const loaded = await store.load(parent.id);
  checkContinuation(parent, loaded, request);
  return { parent, weights: { loaded } };
}

/** Loads TensorFlow.js's backend and the data, refusing data a continuation was not trained on. */
async function prepareGround(request: TrainRequest, config: TrainingConfig, start: StartingPoint): Promise<Ground> {
  const backend = await selectBackend(request.backend);
  const mnist = await loadMnistLike(config.dataDir ?? undefined);
  const parentFingerprint = start.weights && 'loaded' in start.weights ? start.weights.loaded.manifest.extra.dataFingerprint : undefined;
  if (typeof parentFingerprint === 'string' && parentFingerprint !== mnist.fingerprint) {
    throw new StudioError(
      'refused',
      `${mnist.source}: these data files are not the ones ${start.parent?.id ?? 'the parent'} was trained on (their checksums differ), so it cannot be continued exactly`,
    );
  }
  const data = holdOutValidation(mnist, config.validationCount, config.trainLimit);
  if (config.validationCount === 0 && request.checkpoints.best) {
    throw new StudioError('usage', `saving on a new best ${request.checkpoints.best.metric} needs a validation split: give it some examples`);
  }
  // A backend chosen for the user (a continuation's) says why, rather than "requested explicitly".
  const backendReason = request.backendWhy !== undefined && backend.name === request.backend ? request.backendWhy : backend.reason;
  return { backendName: backend.name, backendReason, data, dataSource: mnist.source, dataFingerprint: mnist.fingerprint };
}

function runMeta(request: TrainRequest, config: TrainingConfig, start: StartingPoint, ground: Ground): NewRunMeta {
  const parent = start.parent;
  return {
    parent: parent ? { run: parent.run, step: parent.step } : null,
    config: {
      training: config,
      data: ground.dataSource,
      dataFingerprint: ground.dataFingerprint,
      backend: ground.backendName,
      checkpoints: request.checkpoints,
      retention: request.retention,
      logEvery: request.logEvery,
      ...(request.changes.length > 0 ? { changes: request.changes } : {}),
      plan: planOfSession(request, config, ground, start),
    },
  };
}

/**
 * Where this session means to end, for whoever shows its progress from the files alone (another
 * process: the command line's run seen in the app): the step (as the trainer counts totalSteps,
 * or sooner with --max-steps) and the epochs.
 */
function planOfSession(request: TrainRequest, config: TrainingConfig, ground: Ground, start: StartingPoint): { steps: number; epochs: number } {
  const stepsBefore = start.weights && 'loaded' in start.weights ? start.weights.loaded.manifest.step : 0;
  const total = stepsBefore + config.epochs * Math.ceil(ground.data.train.count / config.batchSize);
  return { steps: request.maxSteps !== undefined ? Math.min(total, stepsBefore + request.maxSteps) : total, epochs: config.epochs };
}

/** The loop at the session's first step: new, restored from our checkpoint, or started from foreign weights. */
function restoreLoop(config: TrainingConfig, data: TrainingData, start: StartingPoint): TrainingLoop {
  const weights = start.weights;
  start.weights = null;
  if (!weights) return TrainingLoop.create(config, data);
  return 'foreign' in weights ? TrainingLoop.startFrom(config, data, weights.foreign) : TrainingLoop.restore(config, data, weights.loaded);
}

/** A run in a local store, with its TensorBoard event file and its metrics as columns beside metrics.jsonl. */
async function createRun(store: CheckpointStore, run: string, meta: NewRunMeta): Promise<TrainingRunWriter> {
  const writer = await store.createRun(run, meta);
  writer.addMetricsLog(new TensorBoardLog(writer.dir));
  // The history as columns too, for charts of millions of points; metrics.jsonl stays the truth.
  const columns = await MetricColumnsLog.open(writer.dir).catch(() => null);
  if (columns) writer.addMetricsLog(columns);
  return writer;
}

export async function runTrainingSession(options: SessionOptions): Promise<SessionResult> {
  const { store, request } = options;
  const config = TrainingConfigSchema.parse(request.config);
  // Everything that can be refused is checked before anything is created: a bad request leaves
  // no run folder behind to block the next try.
  const start = await findStart(store, request, config);
  checkRunName(request.run);
  const ground = await prepareGround(request, config, start);
  const local = localStore(store);
  const meta = runMeta(request, config, start, ground);
  const writer: TrainingRunWriter = isStoredWorkspace(store)
    ? await createStoredRun(store, request.run, meta, options.onEvent)
    : await createRun(store, request.run, meta);
  const run = request.run;
  try {
    if (!isPolicyEmpty(request.retention)) {
      if (local) await local.setPolicy(run, request.retention);
      else if (isStoredWorkspace(options.store)) await (await storedWorkspaceOf(options.store)).setPolicy(run, request.retention);
    }
    const loop = restoreLoop(config, ground.data, start);
    try {
      return await SessionRun.run(options, { writer, run, loop, config, parent: start.parent, ...ground });
    } finally {
      loop.dispose();
    }
  } catch (error) {
    // A start that failed before training (nothing saved, nothing logged) leaves nothing
    // behind: the same --run can be tried again.
    await writer.close();
    if (local && (await removeAbandonedRun(writer.location))) await local.catalog.refreshRun(run);
    throw error;
  } finally {
    await writer.close();
  }
}
