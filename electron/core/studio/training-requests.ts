// Turns what a host asks for (a new run, or continuing from a checkpoint) into the exact request
// the trainer executes, checking everything that can be checked before TensorFlow.js or the data
// load: the run name, the dataset folder and its size, the numbers, the parent checkpoint and
// what a continuation may change. A bad request fails here, in milliseconds, naming the value.
import path from 'node:path';
import {
  type CheckpointInfo,
  type CheckpointPolicy,
  CheckpointPolicySchema,
  type ContinueTraining,
  ContinueTrainingSchema,
  type RetentionPolicy,
  type S3Connection,
  RetentionPolicySchema,
  type StartTraining,
  StartTrainingSchema,
  type TrainingConfig,
  TrainingConfigSchema,
  type TrainingStarted,
  studioMethods,
  DEFAULT_LEARNING_RATE,
  ModelSpecSchema,
  TRAINING_DEFAULTS,
  StudioError,
  continuedRunName,
  newRunName,
} from '../../contract.js';
import type { z } from 'zod';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { exists } from '../base/path-state.js';
import { isForeignFormat, readerFor, sniffForeign } from '../formats/registry.js';
import { importFolder } from '../import/import-folder.js';
import { storageReadProblem } from '../formats/storage-readers.js';
import { type MappingPlan, type SourceTensor, mapFileOf, planMapping } from '../training/foreign-mapping.js';
import { MANIFEST_FILE, RUN_FILE } from '../checkpoint/layout.js';
import { type Manifest, parseManifest, readManifest } from '../checkpoint/manifest.js';
import { firstFreeName, showName } from '../checkpoint/names.js';
import { isUnsavedRun, readRunMeta } from '../checkpoint/run-files.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { StoredWorkspace } from '../checkpoint/stored-store.js';
import { countTrainingExamples, defaultMnistDir } from '../training/data/mnist-dataset.js';
import { applyOverrides, fixedFieldDifferences } from '../training/process/continuation.js';
import type { TrainRequest } from '../training/process/train-request.js';
import type { VerifyResumeRequest } from '../training/process/verify-resume-request.js';

export interface PreparedTraining {
  readonly request: TrainRequest;
  readonly started: TrainingStarted;
}

/** Keras's default split, capped: 10% of the examples, at most 5,000. */
export function defaultValidationCount(trainExamples: number): number {
  return Math.min(5000, Math.floor(trainExamples / 10));
}

/** Where a training writes: a workspace folder, or a prefix in S3 (issue 18). */
export type TrainingWorkspace = CheckpointStore | StoredWorkspace;

/** Where the request sends the trainer, and (for S3) how it reaches the store; never credentials. */
function destination(store: TrainingWorkspace): Pick<TrainRequest, 'workspace' | 's3'> {
  return store instanceof StoredWorkspace ? { workspace: store.root, s3: store.connection } : { workspace: store.root };
}

async function parentManifest(store: TrainingWorkspace, parent: CheckpointInfo): Promise<Manifest> {
  if (!(store instanceof StoredWorkspace)) return readManifest(path.join(parent.path, MANIFEST_FILE));
  const key = `${parent.id}/${MANIFEST_FILE}`;
  return parseManifest(store.storage.locate(key), new TextDecoder().decode(await store.storage.read(key)));
}

/** The run name is usable and free (or an abandoned start of that name, which the trainer takes over). */
async function checkRunFree(store: TrainingWorkspace, run: string): Promise<void> {
  if (store instanceof StoredWorkspace) {
    // A run that never saved (a start that died) is taken over by the trainer, as on disk.
    if ((store.catalog.getRun(run)?.checkpointCount ?? 0) > 0)
      throw new RefusedError(store.storage.locate(run), 'a run with this name already exists; continue from it, or choose another name');
    return;
  }
  const dir = store.runDir(run);
  if (store.catalog.getRun(run) || (await exists(path.join(dir, RUN_FILE)))) {
    if (await isUnsavedRun(dir)) return;
    throw new RefusedError(dir, 'a run with this name already exists; continue from it, or choose another name');
  }
}

/** Whether `name` cannot be a new run: checkRunFree refuses it (other failures are raised). */
async function runTaken(store: TrainingWorkspace, name: string): Promise<boolean> {
  try {
    await checkRunFree(store, name);
    return false;
  } catch (error) {
    if (error instanceof RefusedError) return true;
    throw error;
  }
}

/**
 * The new run's name: the one the request gives, which must be free, or else the default
 * (newRunName, continuedRunName), numbered when taken.
 */
async function chooseRunName(store: TrainingWorkspace, requested: string | undefined, byDefault: string): Promise<string> {
  if (requested === undefined) return firstFreeName(byDefault, (name) => runTaken(store, name));
  await checkRunFree(store, requested);
  return requested;
}

/** The dataset's folder (absolute), checked to hold the four files, and its number of training examples. */
async function checkData(dataDir: string | null): Promise<{ dataDir: string | null; examples: number }> {
  const folder = dataDir === null ? null : path.resolve(dataDir);
  const examples = await countTrainingExamples(folder ?? defaultMnistDir());
  return { dataDir: folder, examples };
}

function checkNumbers(config: TrainingConfig, examples: number, checkpoints: CheckpointPolicy, where: string): void {
  if (config.validationCount >= examples) {
    throw new StudioError('usage', `${where}: the validation split (${config.validationCount}) must be smaller than the ${examples} training examples`);
  }
  if (config.validationCount === 0 && checkpoints.best) {
    throw new StudioError('usage', `saving on a new best ${checkpoints.best.metric} needs a validation split: give the validation split some examples`);
  }
}

export async function prepareNewRun(store: TrainingWorkspace, params: StartTraining): Promise<PreparedTraining> {
  const parsed = StartTrainingSchema.parse(params);
  const { dataDir, examples } = await checkData(parsed.config.dataDir);
  const config = TrainingConfigSchema.parse({ ...parsed.config, dataDir, validationCount: parsed.config.validationCount ?? defaultValidationCount(examples) });
  checkNumbers(config, examples, parsed.checkpoints, dataDir ?? 'the bundled MNIST');
  const run = await chooseRunName(store, parsed.run, newRunName(config.model.kind));
  return {
    request: {
      ...destination(store),
      run,
      config,
      resume: null,
      backend: parsed.backend,
      checkpoints: parsed.checkpoints,
      retention: parsed.retention,
      ...(parsed.maxSteps !== undefined ? { maxSteps: parsed.maxSteps } : {}),
      logEvery: parsed.logEvery,
      changes: [],
    },
    started: { run, resumedFrom: null, notes: [] },
  };
}

/** What the parent run recorded about how it saved, to continue the same way unless told otherwise. */
async function recordedPolicies(
  store: TrainingWorkspace,
  parent: CheckpointInfo,
): Promise<{ checkpoints: CheckpointPolicy; retention: RetentionPolicy; backend: string | null; logEvery: number | null }> {
  const meta = store instanceof StoredWorkspace ? store.catalog.meta(parent.run) : await readRunMeta(store.runDir(parent.run)).catch(() => null);
  const config = meta?.config ?? {};
  const checkpoints = CheckpointPolicySchema.safeParse(config.checkpoints);
  const retention = RetentionPolicySchema.safeParse(config.retention);
  return {
    checkpoints: checkpoints.success ? checkpoints.data : { onStop: true },
    retention: retention.success ? retention.data : {},
    backend: typeof config.backend === 'string' ? config.backend : parent.backend,
    logEvery: typeof config.logEvery === 'number' ? config.logEvery : null,
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

type ParsedContinuation = z.infer<typeof ContinueTrainingSchema>;

/**
 * The checkpoint a continuation starts from: one of the workspace, or another program's
 * checkpoint named by its path, which is imported first (copied, like `import`), so the new run's
 * parent is a checkpoint of the workspace.
 */
async function resolveParent(store: TrainingWorkspace, parsed: ParsedContinuation): Promise<{ parent: CheckpointInfo; notes: string[] }> {
  const selector = {
    ...(parsed.fromRun !== undefined ? { run: parsed.fromRun } : {}),
    ...(parsed.metric !== undefined ? { metric: parsed.metric } : {}),
    ...(parsed.mode ? { mode: parsed.mode } : {}),
  };
  try {
    return { parent: store.resolveResumable(parsed.from, selector), notes: [] };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    // Another program's folder is imported into a workspace on disk; one in S3 takes only what is already in it.
    if (store instanceof StoredWorkspace) throw error;
    // Moved to the trash (by hand, or by a retention policy since it was listed): say so, and how to bring it back.
    const trashed = await store.trashedError(parsed.from);
    if (trashed) throw trashed;
    const source = path.resolve(parsed.from);
    const reader = await sniffForeign(source);
    if (!reader) throw error;
    const opened = await reader.open(source);
    const latest = opened.checkpoints.findIndex((c) => c.name === opened.latest);
    const chosen = latest >= 0 ? latest : opened.checkpoints.length - 1;
    const candidate = opened.checkpoints[chosen];
    // Refused before anything is imported: a checkpoint no preset takes stays out of the workspace.
    if (candidate) planFor(parsed, candidate.tensors, path.join(candidate.dir, candidate.name));
    const imported = await importFolder(store, source, { mode: 'copy' });
    const id = imported.checkpoints[chosen];
    if (id === undefined) throw new RefusedError(source, 'holds no checkpoint to continue from');
    const parent = store.resolveResumable(id);
    return {
      parent,
      notes: [
        `imported ${source} as run ${showName(imported.run)} (${imported.checkpoints.length} checkpoint${imported.checkpoints.length === 1 ? '' : 's'}); continuing ${parent.id}`,
      ],
    };
  }
}

function planFor(parsed: ParsedContinuation, tensors: readonly SourceTensor[], where: string): MappingPlan {
  const fixed = parsed.overrides.fixed ?? {};
  const spec = fixed.model?.kind !== undefined ? ModelSpecSchema.parse(fixed.model) : undefined;
  return planMapping(tensors, { where, spec, map: parsed.map, optimizer: fixed.optimizer ?? TRAINING_DEFAULTS.optimizer });
}

/**
 * The tensors of another program's checkpoint: recorded in its manifest when it was imported, or
 * read where it lies (a folder read in place), in which case the trainer reads it there too.
 */
async function foreignTensors(
  store: TrainingWorkspace,
  parent: CheckpointInfo,
): Promise<{ tensors: readonly SourceTensor[]; formatLabel: string; inPlace: { path: string; format: string; name: string } | null }> {
  const source = parent.source;
  if (parent.files !== null && source) {
    if (!isForeignFormat(source.format)) throw new RefusedError(parent.id, 'is in a format no reader here reads');
    const unreadable = storageReadProblem(parent.path, source.format);
    if (unreadable !== null) throw new RefusedError(parent.path, unreadable);
    const opened = await readerFor(source.format).open(parent.path);
    const checkpoint = opened.checkpoints.find((c) => c.name === source.name) ?? (opened.checkpoints.length === 1 ? opened.checkpoints[0] : undefined);
    if (!checkpoint) throw new NotFoundError(parent.path, `no longer holds ${parent.id}`);
    return { tensors: checkpoint.tensors, formatLabel: source.label, inPlace: { path: parent.path, format: source.format, name: source.name } };
  }
  const manifest = await parentManifest(store, parent);
  if (!manifest.foreign) throw new RefusedError(parent.id, 'holds no training configuration this trainer wrote, so training cannot continue from it here');
  return { tensors: manifest.foreign.tensors, formatLabel: manifest.foreign.formatLabel, inPlace: null };
}

/** Continuing another program's checkpoint: a new configuration, its weights mapped onto a preset. */
async function prepareForeignContinuation(
  store: TrainingWorkspace,
  parsed: ParsedContinuation,
  parent: CheckpointInfo,
  notes: string[],
): Promise<PreparedTraining> {
  const source = await foreignTensors(store, parent);
  const overrides = parsed.overrides;
  const fixed = overrides.fixed ?? {};
  const optimizerName = fixed.optimizer ?? TRAINING_DEFAULTS.optimizer;
  const plan = planFor(parsed, source.tensors, parent.id);
  const { dataDir, examples } = await checkData(fixed.dataDir ?? null);
  const config = TrainingConfigSchema.parse({
    model: plan.spec,
    optimizer: { name: optimizerName, learningRate: overrides.learningRate ?? DEFAULT_LEARNING_RATE[optimizerName] },
    batchSize: fixed.batchSize ?? TRAINING_DEFAULTS.batchSize,
    epochs: overrides.epochs ?? TRAINING_DEFAULTS.epochs,
    seed: fixed.seed ?? TRAINING_DEFAULTS.seed,
    validationCount: fixed.validationCount ?? defaultValidationCount(examples),
    ...(fixed.trainLimit !== undefined ? { trainLimit: fixed.trainLimit } : {}),
    dataDir,
  });
  const checkpoints = CheckpointPolicySchema.parse(overrides.checkpoints ?? { onStop: true });
  const retention = RetentionPolicySchema.parse(overrides.retention ?? {});
  checkNumbers(config, examples, checkpoints, parent.id);
  const run = await chooseRunName(store, parsed.run, continuedRunName(parent, path.basename(store.root)));
  const map = mapFileOf(plan);
  const said = [
    ...notes,
    `continuing ${source.formatLabel} ${parent.id} as ${config.model.kind} (depth ${config.model.depth}${config.model.depth > 0 ? `, width ${config.model.width}` : ''}${config.model.kind === 'cnn' ? `, ${config.model.filters} filters` : ''}): ${plan.notes.join('; ')}`,
    `mapping (a --map file takes this form): ${JSON.stringify(map)}`,
    ...(plan.optimizer.length > 0 ? [`optimizer state carried over: ${plan.optimizer.map((o) => `${o.ours} <- ${o.theirs}`).join(', ')}`] : []),
    ...plan.warnings,
    `the source records no position in the data: training starts a new pass over it at step ${parent.step}`,
  ];
  return {
    request: {
      ...destination(store),
      run,
      config,
      resume: { id: parent.id, run: parent.run, step: parent.step, foreignMap: map, ...(source.inPlace ? { inPlace: source.inPlace } : {}) },
      backend: overrides.backend ?? 'auto',
      checkpoints,
      retention,
      ...(overrides.maxSteps !== undefined ? { maxSteps: overrides.maxSteps } : {}),
      logEvery: overrides.logEvery ?? TRAINING_DEFAULTS.logEvery,
      changes: said,
    },
    started: { run, resumedFrom: { run: parent.run, step: parent.step }, notes: said },
  };
}

export async function prepareContinuation(store: TrainingWorkspace, params: ContinueTraining): Promise<PreparedTraining> {
  const parsed = ContinueTrainingSchema.parse(params);
  const { parent, notes: resolved } = await resolveParent(store, parsed);
  if (parent.source) return prepareForeignContinuation(store, parsed, parent, resolved);
  if (parsed.map)
    throw new StudioError(
      'usage',
      `${parent.id}: a map is for continuing another program's checkpoint; this one was trained here and continues with its own names`,
    );
  const manifest = await parentManifest(store, parent);
  const recorded = TrainingConfigSchema.safeParse(manifest.extra.config);
  if (!recorded.success) throw new RefusedError(parent.id, 'holds no training configuration this trainer wrote, so training cannot continue from it here');
  const overrides = parsed.overrides;
  // What the request stated but a continuation cannot change must equal the record.
  const fixed = overrides.fixed ?? {};
  const stated: TrainingConfig = TrainingConfigSchema.parse({
    ...recorded.data,
    model: { ...recorded.data.model, ...(fixed.model ?? {}) },
    ...(fixed.dataDir !== undefined ? { dataDir: fixed.dataDir === null ? null : path.resolve(fixed.dataDir) } : {}),
    ...(fixed.batchSize !== undefined ? { batchSize: fixed.batchSize } : {}),
    ...(fixed.seed !== undefined ? { seed: fixed.seed } : {}),
    ...(fixed.validationCount !== undefined ? { validationCount: fixed.validationCount } : {}),
    ...(fixed.trainLimit !== undefined ? { trainLimit: fixed.trainLimit } : {}),
    ...(fixed.optimizer !== undefined ? { optimizer: { ...recorded.data.optimizer, name: fixed.optimizer } } : {}),
  });
  const refused = fixedFieldDifferences(recorded.data, stated);
  if (refused.length > 0) throw new StudioError('usage', `continuing ${parent.id} cannot change ${refused.join('; ')}`);
  const { config, changes } = applyOverrides(recorded.data, overrides);
  const { examples } = await checkData(config.dataDir).catch((error: unknown) => {
    throw new StudioError(
      'not-found',
      `${parent.id} was trained on ${config.dataDir ?? 'the bundled MNIST'}, which cannot be read now: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const before = await recordedPolicies(store, parent);
  const checkpoints = overrides.checkpoints ? CheckpointPolicySchema.parse(overrides.checkpoints) : before.checkpoints;
  if (overrides.checkpoints && !same(checkpoints, before.checkpoints))
    changes.push(`checkpoint policy ${JSON.stringify(checkpoints)} (the parent's was ${JSON.stringify(before.checkpoints)})`);
  const retention = overrides.retention ? RetentionPolicySchema.parse(overrides.retention) : before.retention;
  if (overrides.retention && !same(retention, before.retention))
    changes.push(`retention ${JSON.stringify(retention)} (the parent's was ${JSON.stringify(before.retention)})`);
  checkNumbers(config, examples, checkpoints, parent.id);
  const recordedBackend = before.backend === 'tensorflow' || before.backend === 'wasm' || before.backend === 'cpu' ? before.backend : 'auto';
  const backend = overrides.backend ?? recordedBackend;
  if (overrides.backend !== undefined && overrides.backend !== recordedBackend) {
    changes.push(
      `backend ${overrides.backend} (the parent trained on ${before.backend ?? 'an unknown backend'}; a continuation is exact only on the same backend)`,
    );
  }
  const run = await chooseRunName(store, parsed.run, continuedRunName(parent));
  const logEvery = overrides.logEvery ?? before.logEvery ?? TRAINING_DEFAULTS.logEvery;
  return {
    request: {
      ...destination(store),
      run,
      config,
      resume: { id: parent.id, run: parent.run, step: parent.step },
      backend,
      ...(overrides.backend === undefined && backend !== 'auto' ? { backendWhy: `the backend ${parent.run} trained on, so the continuation is exact` } : {}),
      checkpoints,
      retention,
      ...(overrides.maxSteps !== undefined ? { maxSteps: overrides.maxSteps } : {}),
      logEvery,
      changes,
    },
    started: {
      run,
      resumedFrom: { run: parent.run, step: parent.step },
      notes: changes.length > 0 ? [`run ${showName(run)} continues ${parent.id} with ${changes.join('; ')}`] : [],
    },
  };
}

type VerifyResumeParams = z.output<(typeof studioMethods)['verifyResume']['params']>;

/** The replay verifyResume asks of a trainer: the checkpoint resolved to its exact id (one that can be resumed), the data folder absolute. */
export function prepareVerifyResume(
  store: Pick<CheckpointStore, 'root' | 'resolveResumable'> & { readonly connection?: S3Connection },
  params: VerifyResumeParams,
): VerifyResumeRequest {
  const selector = {
    ...(params.run !== undefined ? { run: params.run } : {}),
    ...(params.metric !== undefined ? { metric: params.metric } : {}),
    ...(params.mode !== undefined ? { mode: params.mode } : {}),
  };
  const checkpoint = store.resolveResumable(params.checkpoint, selector);
  return {
    workspace: store.root,
    checkpoint: checkpoint.id,
    steps: params.steps,
    ...(params.backend !== undefined ? { backend: params.backend } : {}),
    ...(params.dataDir !== undefined ? { dataDir: path.resolve(params.dataDir) } : {}),
    // A workspace in S3 (StoredWorkspace): the replay reaches it as the Studio does.
    ...(store.connection !== undefined ? { s3: store.connection } : {}),
  };
}
