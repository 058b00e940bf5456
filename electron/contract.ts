// The one definition of everything that crosses a process boundary: the data the core hands its
// hosts, the StudioApi they call, its events and its errors. Schemas first (every host validates
// what it receives with them), types inferred from the schemas. This file imports nothing but zod,
// so the renderer, the Electron main process, browser mode and the CLI all share it.
import { z } from 'zod';

const count = z.int().nonnegative();
const positive = z.int().positive();

// ─── Errors ──────────────────────────────────────────────────────────────────────────────────

/**
 * What kind of failure: hosts map it to an exit code or a UI state, never an error's class name.
 * not-found: a workspace, run, checkpoint or trash entry that is not there. refused: a request the
 * store declines to protect data or because it cannot apply. damaged: bytes on disk are not what
 * they should be. usage: a malformed request (a flag, an argument). busy: something else holds the
 * resource (a trainer running, a run locked). io: the system said no (permissions, a full disk).
 * internal: a bug of ours.
 */
export const ErrorCodeSchema = z.enum(['not-found', 'refused', 'damaged', 'usage', 'busy', 'io', 'internal']);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** An error as it crosses a boundary: a stable code and one line naming the file or the flag. */
export const StudioErrorDataSchema = z.object({ code: ErrorCodeSchema, message: z.string() });
export type StudioErrorData = z.infer<typeof StudioErrorDataSchema>;

/**
 * An error whose message is already a sentence for the user (it names the file or the flag): what
 * the core raises, and what a client's call rejects with, in every host.
 */
export class StudioError extends Error {
  override readonly name = 'StudioError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ─── Checkpoints, runs, the trash ────────────────────────────────────────────────────────────

export const MetricModeSchema = z.enum(['min', 'max']);
export type MetricMode = z.infer<typeof MetricModeSchema>;

export const CheckpointRefSchema = z.object({ run: z.string().min(1), step: count });
export type CheckpointRef = z.infer<typeof CheckpointRefSchema>;

export const CheckpointStatusSchema = z.enum(['verified', 'unverified', 'damaged', 'incomplete']);
export type CheckpointStatus = z.infer<typeof CheckpointStatusSchema>;

/**
 * Why the store refuses to delete a checkpoint: it is pinned, its run is being written by a live
 * process, or another run continued from it. The core computes these from the rules it enforces
 * on delete; the page shows them as they are.
 */
export const CheckpointProtectionSchema = z.object({ kind: z.enum(['pinned', 'writer', 'parent']), reason: z.string() });
export type CheckpointProtection = z.infer<typeof CheckpointProtectionSchema>;

export const CheckpointInfoSchema = z.object({
  /** `<run>/<folder name>`: stable, and what the CLI and the app select by. */
  id: z.string(),
  run: z.string(),
  step: count,
  /** False for another program's checkpoint whose files record no step (a lone `.h5`): `step` is then 0 and means nothing. */
  stepKnown: z.boolean(),
  path: z.string(),
  status: CheckpointStatusSchema,
  /** Why it is damaged or incomplete; null otherwise. */
  statusReason: z.string().nullable(),
  bytes: count,
  epoch: count.nullable(),
  batchInEpoch: count.nullable(),
  createdAt: z.string().nullable(),
  trainingTimeMs: z.number().nullable(),
  /** How long this save held the training loop (the in-memory snapshot); null when not recorded. */
  saveBlockedMs: z.number().nullable(),
  /** A diverged metric (NaN) is null. */
  metrics: z.record(z.string(), z.number().nullable()),
  backend: z.string().nullable(),
  parent: CheckpointRefSchema.nullable(),
  /** `trained` by this program; `imported` or `foreign` (another writer) are never pruned by policy. */
  origin: z.enum(['trained', 'imported', 'foreign']),
  /** The folder is a symbolic link, or its files are read in place from a linked folder: never pruned by policy. */
  linked: z.boolean(),
  /** Imported from another program's format: which, its name there, and the folder read in place when linked. */
  source: z.object({ format: z.string(), label: z.string(), name: z.string(), linkedFrom: z.string().nullable() }).nullable(),
  pinned: z.boolean(),
  /**
   * Ids of other folders of the same run holding the same step (`ckpt-12` beside
   * `ckpt-000000012`). Non-empty means ambiguous: never resumed from or pruned until a person
   * removes or renames one of them.
   */
  sameStepAs: z.array(z.string()),
  /** What keeps it from being deleted, and why; empty when a delete may take it. */
  protectedBy: z.array(CheckpointProtectionSchema),
  /**
   * Another program's checkpoint read where it lies (a TensorFlow group, a Keras file, a Hugging
   * Face checkpoint folder): the files that make it, relative to its run's folder. Null for ours.
   */
  files: z.array(z.object({ name: z.string(), bytes: count })).nullable(),
  /** What a user should know about it: where its step came from, a metric step it could not be matched to. */
  notes: z.array(z.string()),
});
export type CheckpointInfo = z.infer<typeof CheckpointInfoSchema>;

export const RunWriterSchema = z.object({ pid: z.int(), host: z.string(), since: z.string() });

/** A run of ours (`studio`), or another program's folder read in place, by the layout that read it. */
export const RunLayoutSchema = z.enum(['studio', 'tf-folder', 'keras-files', 'hf-trainer', 'safetensors-files', 'tfjs-model', 'tensorboard']);
export type RunLayout = z.infer<typeof RunLayoutSchema>;

/** How people name what a layout reads, and the files that make one: what opening a folder looks for. */
export interface RunLayoutKind {
  /** A workspace's summary counts by these: "10 TensorFlow checkpoints" (a TensorBoard run holds none: runs are counted). */
  readonly one: string;
  readonly many: string;
  /** A short tag for a run read by it, in a list of runs. */
  readonly tag: string;
  /** The files it is recognised by, at any depth of the opened folder. */
  readonly files: string;
}

/**
 * What opening a folder looks for, one entry per layout: the app's empty state lists them, and its
 * summary of what was found counts by them. The one definition: nothing else re-types this list.
 */
export const RUN_LAYOUT_KINDS = {
  studio: {
    one: 'Checkpoint Studio checkpoint',
    many: 'Checkpoint Studio checkpoints',
    tag: 'Checkpoint Studio',
    files: 'run folders with run.json and ckpt-N/ folders',
  },
  'tf-folder': {
    one: 'TensorFlow checkpoint',
    many: 'TensorFlow checkpoints',
    tag: 'TensorFlow',
    files: '<prefix>.index with its .data-NNNNN-of-NNNNN shards (and .meta), with or without a checkpoint state file',
  },
  'keras-files': { one: 'Keras file', many: 'Keras files', tag: 'Keras', files: '.h5, .hdf5, .weights.h5 and .keras files' },
  'safetensors-files': {
    one: 'safetensors file',
    many: 'safetensors files',
    tag: 'safetensors',
    files: '.safetensors files and sharded indexes (.safetensors.index.json)',
  },
  'hf-trainer': {
    one: 'Hugging Face checkpoint',
    many: 'Hugging Face checkpoints',
    tag: 'Hugging Face',
    files: 'checkpoint-N/ folders with trainer_state.json',
  },
  'tfjs-model': { one: 'TensorFlow.js model', many: 'TensorFlow.js models', tag: 'TensorFlow.js', files: 'model.json with its weight files' },
  tensorboard: { one: 'TensorBoard run', many: 'TensorBoard runs', tag: 'TensorBoard', files: 'folders of events.out.tfevents.* files (metrics only)' },
} as const satisfies Readonly<Record<RunLayout, RunLayoutKind>>;

export const RunInfoSchema = z.object({
  /** Ours: the run's folder name. Another program's: its folder's path relative to the workspace (`.` for the workspace itself). */
  name: z.string(),
  path: z.string(),
  layout: RunLayoutSchema,
  /** For people, another program's folder: "TensorFlow checkpoint folder", … Null for ours. */
  label: z.string().nullable(),
  /** The checkpoint the folder's own state calls latest (TensorFlow's `checkpoint` file), by id; null where it says none. */
  latest: z.string().nullable(),
  createdAt: z.string().nullable(),
  /** The checkpoint this run was continued from. */
  parent: CheckpointRefSchema.nullable(),
  checkpointCount: count,
  bytes: count,
  /** The live process writing this run, if any. */
  writer: RunWriterSchema.nullable(),
  /** What a user should know about the folder: a state file that names missing checkpoints, a step that is a guess. */
  notes: z.array(z.string()),
});
export type RunInfo = z.infer<typeof RunInfoSchema>;

/** A folder of the workspace that looks like a run but cannot be listed, and why. */
export const SkippedFolderSchema = z.object({ name: z.string(), reason: z.string() });
export type SkippedFolder = z.infer<typeof SkippedFolderSchema>;

export const CatalogSnapshotSchema = z.object({
  workspace: z.string(),
  runs: z.array(RunInfoSchema),
  checkpoints: z.array(CheckpointInfoSchema),
  skipped: z.array(SkippedFolderSchema),
});
export type CatalogSnapshot = z.infer<typeof CatalogSnapshotSchema>;

export const CatalogEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('added'), checkpoint: CheckpointInfoSchema }),
  z.object({ type: z.literal('changed'), checkpoint: CheckpointInfoSchema }),
  z.object({ type: z.literal('removed'), id: z.string(), run: z.string(), step: count }),
]);
export type CatalogEvent = z.infer<typeof CatalogEventSchema>;

export const RetentionPolicySchema = z.object({
  keepLast: positive.optional(),
  keepBest: z.object({ k: positive, metric: z.string().min(1), mode: MetricModeSchema }).optional(),
  keepEverySteps: positive.optional(),
  keepEveryHours: z.number().positive().optional(),
  /** Disk budget for the run, in bytes. */
  maxBytes: positive.optional(),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicySchema>;

export const RetentionDecisionSchema = z.object({ id: z.string(), step: count, bytes: count, reasons: z.array(z.string()) });
export type RetentionDecision = z.infer<typeof RetentionDecisionSchema>;

export const RetentionPlanSchema = z.object({
  run: z.string(),
  /** The policy this plan was made with; applying re-checks against the same one. */
  policy: RetentionPolicySchema,
  keep: z.array(RetentionDecisionSchema),
  delete: z.array(RetentionDecisionSchema),
  bytesFreed: count,
  /** Things the user should know, e.g. a disk budget that protected checkpoints alone exceed. */
  warnings: z.array(z.string()),
});
export type RetentionPlan = z.infer<typeof RetentionPlanSchema>;

export const TrashEntrySchema = z.object({
  id: z.string(),
  /** What was deleted together (one bulk delete or one policy pass); undo restores a batch. */
  batch: z.string(),
  originalPath: z.string(),
  checkpointId: z.string(),
  deletedAt: z.string(),
  bytes: count,
  reason: z.string(),
});
export type TrashEntry = z.infer<typeof TrashEntrySchema>;

export const TrashProblemSchema = z.object({ name: z.string(), problem: z.string() });
export type TrashProblem = z.infer<typeof TrashProblemSchema>;

export const TrashListingSchema = z.object({ entries: z.array(TrashEntrySchema), problems: z.array(TrashProblemSchema), bytes: count });
export type TrashListing = z.infer<typeof TrashListingSchema>;

export const PurgeResultSchema = z.object({ purged: z.array(TrashEntrySchema), bytes: count, problems: z.array(TrashProblemSchema) });
export type PurgeResult = z.infer<typeof PurgeResultSchema>;

export const TensorRowSchema = z.object({
  file: z.string(),
  name: z.string(),
  dtype: z.string(),
  shape: z.array(count),
  bytes: count,
  /** For another program's checkpoint: what the tensor is for, and the variable an optimizer slot belongs to. */
  role: z.enum(['model', 'optimizer', 'step', 'other']).optional(),
  slotOf: z.string().optional(),
});
export type TensorRow = z.infer<typeof TensorRowSchema>;

export const ProblemSchema = z.object({ file: z.string(), tensor: z.string().optional(), problem: z.string() });
export type Problem = z.infer<typeof ProblemSchema>;

export const VerifyResultSchema = z.object({
  /** The checkpoint's id, or its folder's path when it is outside any workspace. */
  id: z.string(),
  path: z.string(),
  ok: z.boolean(),
  status: z.enum(['complete', 'incomplete', 'damaged']),
  problems: z.array(ProblemSchema),
});
export type VerifyResult = z.infer<typeof VerifyResultSchema>;

export const VerifyReportSchema = z.object({
  results: z.array(VerifyResultSchema),
  /** A verify cache that could not be written, for instance: the results stand. */
  warnings: z.array(z.string()),
});
export type VerifyReport = z.infer<typeof VerifyReportSchema>;

// ─── Training ────────────────────────────────────────────────────────────────────────────────

export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export const BackendPreferenceSchema = z.enum(BACKEND_PREFERENCES);
export type BackendPreference = z.infer<typeof BackendPreferenceSchema>;
export type BackendName = Exclude<BackendPreference, 'auto'>;

export const ModelSpecSchema = z.object({
  kind: z.enum(['mlp', 'cnn']),
  /** Units of each hidden dense layer. */
  width: positive.default(128),
  /** Hidden dense layers (mlp; 0 is softmax regression) or convolution layers (cnn). */
  depth: count.default(1),
  /** Filters of each convolution (cnn). */
  filters: positive.default(32),
});
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const OPTIMIZER_NAMES = ['adam', 'sgd', 'momentum', 'rmsprop'] as const;

export const OptimizerSpecSchema = z.object({
  name: z.enum(OPTIMIZER_NAMES),
  learningRate: z.number().positive(),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-7),
  momentum: z.number().min(0).lt(1).default(0.9),
  rho: z.number().min(0).lt(1).default(0.9),
});
export type OptimizerSpec = z.infer<typeof OptimizerSpecSchema>;

export const DEFAULT_LEARNING_RATE: Readonly<Record<OptimizerSpec['name'], number>> = { adam: 0.001, sgd: 0.1, momentum: 0.01, rmsprop: 0.001 };
/**
 * What a new run uses where the request says nothing (a command line's flags left out), and how
 * often it logs its train metrics (a continuation keeps its parent's). The model preset's own
 * sizes are ModelSpecSchema's defaults.
 */
export const TRAINING_DEFAULTS = { model: 'mlp', optimizer: 'adam', batchSize: 64, epochs: 2, seed: 42, logEvery: 10 } as const;

/** The name a new run gets when the request gives none: its model kind and the time (UTC), `mlp-2025-01-31_09-30-00`. */
export function newRunName(modelKind: string, at: Date = new Date()): string {
  return `${modelKind}-${at.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19)}`;
}

/**
 * The name a continued run gets when the request gives none: `<parent run>-from-<step>`. A run read
 * in place is named by its path (`logs/run1`, or `.` for the workspace's own folder), which a run
 * of ours cannot be: its last name stands for it (`run1-from-500`, `<workspace folder>-from-500`).
 */
export function continuedRunName(parent: { readonly run: string; readonly step: number }, workspaceName = 'continued'): string {
  const base =
    parent.run === '.'
      ? workspaceName
      : (parent.run
          .split('/')
          .filter((part) => part !== '')
          .at(-1) ?? 'continued');
  return `${base.replace(/^\.+/, '')}-from-${parent.step}`;
}

/** Everything that decides what a run computes: continuing a run reuses all of it. */
export const TrainingConfigSchema = z.object({
  model: ModelSpecSchema,
  optimizer: OptimizerSpecSchema,
  batchSize: positive,
  epochs: positive,
  seed: count,
  /** Examples held out for validation; 0 for none. */
  validationCount: count,
  /** Use only the first N training examples (small, fast runs). */
  trainLimit: positive.optional(),
  /** The folder of the four MNIST-format IDX files; null for the bundled MNIST. */
  dataDir: z.string().nullable().default(null),
});
export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;

export const SaveBestSchema = z.object({ metric: z.enum(['val_loss', 'val_accuracy']), mode: MetricModeSchema });

export const CheckpointPolicySchema = z.object({
  everySteps: positive.optional(),
  everyEpochs: positive.optional(),
  everySeconds: z.number().positive().optional(),
  best: SaveBestSchema.optional(),
  /** Save when a graceful stop is requested (and at the natural end of training). */
  onStop: z.boolean().default(true),
});
export type CheckpointPolicy = z.infer<typeof CheckpointPolicySchema>;

/** A new run's configuration: the validation split defaults to the smaller of 5,000 and 10% of the data. */
export const NewTrainingConfigSchema = TrainingConfigSchema.extend({ validationCount: count.optional() });

/** A new run. */
export const StartTrainingSchema = z.object({
  /** Default: the model kind and the time (newRunName). */
  run: z.string().optional(),
  config: NewTrainingConfigSchema,
  backend: BackendPreferenceSchema.default('auto'),
  checkpoints: CheckpointPolicySchema.default({ onStop: true }),
  retention: RetentionPolicySchema.default({}),
  /** Stop (and save) after this many steps of this session. */
  maxSteps: positive.optional(),
  /** Log train loss and accuracy every this many steps. */
  logEvery: positive.default(TRAINING_DEFAULTS.logEvery),
});
export type StartTraining = z.input<typeof StartTrainingSchema>;

/**
 * What a continued run may change: how long it trains, its learning rate, and how it saves.
 * Everything else (model, data, batch size, seed, validation split) is the parent's, or the
 * resume would not be exact; the backend too, unless asked for, with a warning.
 */
export const ContinueOverridesSchema = z.object({
  epochs: positive.optional(),
  learningRate: z.number().positive().optional(),
  checkpoints: CheckpointPolicySchema.optional(),
  retention: RetentionPolicySchema.optional(),
  backend: BackendPreferenceSchema.optional(),
  maxSteps: positive.optional(),
  logEvery: positive.optional(),
  /**
   * Values a continuation cannot change, as a request stated them (a command line's flags): each
   * must equal what the checkpoint recorded, or the request is refused with the difference.
   */
  fixed: z
    .object({
      model: ModelSpecSchema.partial().optional(),
      dataDir: z.string().nullable().optional(),
      batchSize: positive.optional(),
      seed: count.optional(),
      validationCount: count.optional(),
      trainLimit: positive.optional(),
      optimizer: z.enum(OPTIMIZER_NAMES).optional(),
    })
    .optional(),
});
export type ContinueOverrides = z.input<typeof ContinueOverridesSchema>;

export const ContinueTrainingSchema = z.object({
  /** A checkpoint id or path, `latest` or `best`. */
  from: z.string().min(1),
  /** For `best`: the metric and its direction. For `latest` and `best`: within this run only. */
  metric: z.string().optional(),
  mode: MetricModeSchema.optional(),
  fromRun: z.string().optional(),
  /** The new run's name; default `<parent run>-from-<step>` (continuedRunName). */
  run: z.string().optional(),
  overrides: ContinueOverridesSchema.default({}),
  /**
   * Continuing another program's checkpoint: which of its tensors each of our weights takes
   * (`{"dense_0/kernel": "Variable_1"}`). Without it, weights are matched by shape, and the
   * match is said in the reply's notes.
   */
  map: z.record(z.string(), z.string()).optional(),
});
export type ContinueTraining = z.input<typeof ContinueTrainingSchema>;

export const TrainingStartedSchema = z.object({
  run: z.string(),
  resumedFrom: CheckpointRefSchema.nullable(),
  /** One line per recorded value a request changed (a continued run's learning rate, say). */
  notes: z.array(z.string()),
});
export type TrainingStarted = z.infer<typeof TrainingStartedSchema>;

/**
 * idle: nothing started yet. starting: launched, setting up (backend, data, run). running /
 * paused: as the session last reported. stopping: a stop or kill is under way. exited: ended as
 * asked, or by itself with code 0. crashed: ended any other way.
 */
export const TrainerStateSchema = z.enum(['idle', 'starting', 'running', 'paused', 'stopping', 'exited', 'crashed']);
export type TrainerState = z.infer<typeof TrainerStateSchema>;

export const TrainerExitSchema = z.object({ code: z.int().nullable(), signal: z.string().nullable() });
export type TrainerExit = z.infer<typeof TrainerExitSchema>;

export const TrainerCrashSchema = TrainerExitSchema.extend({
  /** The last lines the trainer wrote to stderr. */
  stderrTail: z.array(z.string()),
});
export type TrainerCrash = z.infer<typeof TrainerCrashSchema>;

export const TrainingStatusSchema = z.object({
  state: TrainerStateSchema,
  /** The run being (or last) trained by this Studio. */
  run: z.string().nullable(),
  lastExit: TrainerExitSchema.nullable(),
});
export type TrainingStatus = z.infer<typeof TrainingStatusSchema>;

/** One step of a replay set beside what the original training logged there: its loss, or its weights' hash. */
export const ResumeComparisonSchema = z.discriminatedUnion('kind', [
  /** A diverged replay's loss (NaN) is null. */
  z.object({ kind: z.literal('loss'), step: count, expected: z.number(), actual: z.number().nullable(), equal: z.boolean() }),
  z.object({ kind: z.literal('weights'), step: count, expected: z.string(), actual: z.string(), equal: z.boolean() }),
]);
export type ResumeComparison = z.infer<typeof ResumeComparisonSchema>;

/** Steps verifyResume replays when not told how many. */
export const VERIFY_RESUME_STEPS = 20;

const Tally = z.object({ compared: count, identical: count });

/** What replaying the steps after a checkpoint showed: it resumes exactly when every comparison is equal (and there was one). */
export const VerifyResumeReportSchema = z.object({
  checkpoint: z.string(),
  /** The backend the replay ran on, and the one that wrote the checkpoint (null when not recorded). */
  backend: z.string(),
  originalBackend: z.string().nullable(),
  replayedSteps: count,
  /** Runs whose logs the replay was compared with: the checkpoint's own, and runs continued from it. */
  sources: z.array(z.string()),
  losses: Tally,
  weightHashes: Tally,
  comparisons: z.array(ResumeComparisonSchema),
  ok: z.boolean(),
});
export type VerifyResumeReport = z.infer<typeof VerifyResumeReportSchema>;

/** What a training session reports, in order. */
export const SessionEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('started'),
    run: z.string(),
    backend: z.string(),
    /** Why the native backend is not in use; null when it is. */
    backendReason: z.string().nullable(),
    parameters: count,
    batchesPerEpoch: count,
    totalSteps: count,
    step: count,
    resumedFrom: CheckpointRefSchema.nullable(),
  }),
  z.object({
    type: z.literal('progress'),
    step: count,
    epoch: count,
    batchInEpoch: count,
    loss: z.number().nullable(),
    accuracy: z.number().nullable(),
    samplesPerSecond: z.number(),
    etaMs: z.number().nullable(),
    elapsedMs: z.number(),
    totalSteps: count,
  }),
  /** A point on the charts, as metrics.jsonl records it. */
  z.object({
    type: z.literal('metric'),
    kind: z.enum(['train', 'validation']),
    step: count,
    epoch: count,
    /** loss and accuracy (train: this step's and the means since the last point). */
    values: z.record(z.string(), z.number().nullable()),
    time: z.string(),
  }),
  z.object({ type: z.literal('validation'), step: count, epoch: count, loss: z.number().nullable(), accuracy: z.number().nullable() }),
  z.object({
    type: z.literal('checkpoint'),
    id: z.string(),
    step: count,
    path: z.string(),
    reason: z.string(),
    blockedMs: z.number(),
    writeMs: z.number(),
    bytes: count,
    /** Time the loop was blocked by saves so far, as a share of training time. */
    overheadShare: z.number(),
  }),
  z.object({ type: z.literal('paused'), step: count }),
  z.object({ type: z.literal('resumed'), step: count }),
  z.object({ type: z.literal('warning'), message: z.string() }),
  z.object({
    type: z.literal('finished'),
    run: z.string(),
    step: count,
    epoch: count,
    reason: z.enum(['completed', 'max-steps', 'stopped']),
    overheadShare: z.number(),
    lastCheckpoint: z.string().nullable(),
  }),
]);
export type SessionEvent = z.infer<typeof SessionEventSchema>;

// ─── Run files ───────────────────────────────────────────────────────────────────────────────

export const RunMetaSchema = z.looseObject({
  formatVersion: z.literal(1),
  name: z.string(),
  createdAt: z.iso.datetime(),
  parent: CheckpointRefSchema.nullable(),
  /** Model, dataset, hyper-parameters: owned by the trainer. */
  config: z.record(z.string(), z.json()).default({}),
});
export type RunMeta = z.infer<typeof RunMetaSchema>;

export const MetricRecordSchema = z.record(z.string(), z.json());
export type MetricRecord = z.infer<typeof MetricRecordSchema>;

export const MetricPageSchema = z.object({
  run: z.string(),
  records: z.array(MetricRecordSchema),
  /** Pass as `after` for the next page; null at the end of what is written so far. */
  next: z.string().nullable(),
});
export type MetricPage = z.infer<typeof MetricPageSchema>;

// Issue 17 (live): how far a run being written is, from its log and run.json, whoever writes it.
/** A run's progress as its metrics.jsonl and run.json tell it, for any writer (the app's trainer, the command line, another program). */
export const RunProgressSchema = z.object({
  run: z.string(),
  /** The last logged train step. */
  step: count,
  /** The epoch of that step as the log counts it (from 0); null when the log does not say. */
  epoch: count.nullable(),
  /** What run.json plans, where it says: the step training ends at, and its epochs. */
  plannedSteps: count.nullable(),
  plannedEpochs: count.nullable(),
  samplesPerSecond: z.number().nullable(),
  /** The last train step's loss (null when it diverged or is not logged). */
  loss: z.number().nullable(),
  /** Over the last logged steps, by their wall times. */
  stepsPerSecond: z.number().nullable(),
  /** Time left to plannedSteps at that speed; null without a plan or a speed. */
  etaMs: z.number().nullable(),
  /** The wall time of the last record (ISO), as the writer stamped it; null when none is stamped. */
  lastRecordAt: z.string().nullable(),
  /** The last checkpoint the log records. */
  lastCheckpoint: z.object({ step: count, time: z.string().nullable() }).nullable(),
});
export type RunProgress = z.infer<typeof RunProgressSchema>;
// ─── Issue 17 (columns): a run's history by range and resolution (metricSeries) ─────────────

/** Per bucket of a series too long to send whole: its step span, how many points, and per metric the raw min, max and mean. */
export const MetricBucketsSchema = z.object({
  first: z.array(z.number()),
  last: z.array(z.number()),
  count: z.array(count),
  stats: z.record(z.string(), z.object({ min: z.array(z.number().nullable()), max: z.array(z.number().nullable()), mean: z.array(z.number().nullable()) })),
});
export type MetricBuckets = z.infer<typeof MetricBucketsSchema>;

/**
 * One kind's points over the range asked: every point when they are few enough (`exact`), else
 * per bucket its first and last point and each metric's min and max point (M4 selection: real
 * points, which draw the same line at the bucket's width), in step order, with `buckets` beside.
 * Metric names are as the log writes them (a validation `loss`, not `val_loss`); null is no value.
 */
export const MetricKindSeriesSchema = z.object({
  kind: z.enum(['train', 'validation']),
  /** Points in the range. */
  total: count,
  exact: z.boolean(),
  steps: z.array(z.number()),
  /** Epoch milliseconds. */
  times: z.array(z.number().nullable()),
  columns: z.record(z.string(), z.array(z.number().nullable())),
  buckets: MetricBucketsSchema.nullable(),
});
export type MetricKindSeries = z.infer<typeof MetricKindSeriesSchema>;

export const MetricSeriesSchema = z.object({
  run: z.string(),
  /** The steps the answer covers (the range asked, narrowed to the points there); null when there are none. */
  from: z.number().nullable(),
  to: z.number().nullable(),
  kinds: z.array(MetricKindSeriesSchema),
  /** Read from metrics.columns (and the log past it), from metrics.jsonl alone, or from another program's logs read in place. */
  source: z.enum(['columns', 'log', 'in-place']),
  /** Why metrics.columns could not be used (naming it), when it could not. */
  warning: z.string().nullable(),
});
export type MetricSeries = z.infer<typeof MetricSeriesSchema>;

// ─── Issue 17 (exact smoothing): a run too long to send whole, smoothed by the Studio over every point ───

/**
 * Smoothing (electron/shared/smoothing.ts, the page's own) applied by the Studio to each metric of
 * the run over all its points, from its first, before the answer is bucketed: the columns (and
 * the buckets' min, max and mean) are then those of the smoothed curve.
 */
export const MetricSmoothingSchema = z.object({
  /** The EMA's weight, as the charts' slider: 0 leaves the values as they are. */
  weight: z.number().min(0).max(0.999),
  mode: z.enum(['points', 'steps']).default('points'),
  /** Steps per point in `steps` mode (the charts' stepUnit of the span they draw). */
  unit: z.number().positive().max(Number.MAX_SAFE_INTEGER).default(1),
});
export type MetricSmoothing = z.infer<typeof MetricSmoothingSchema>;

export const MetricSeriesParamsSchema = z.object({
  run: z.string().min(1),
  /** Only these metrics (as the log names them; `val_x` also finds validation's `x`). */
  metrics: z.array(z.string().min(1)).max(1000).optional(),
  from: z.number().optional(),
  to: z.number().optional(),
  /** About how many buckets to answer with over the range. */
  points: positive.max(100_000).default(1000),
  /**
   * Every point, not buckets, while the range holds at most this many (default: `points`). The
   * charts smooth what they are given: a run read whole is smoothed on its full data.
   */
  whole: positive.max(1_000_000).optional(),
  /** Issue 17 (exact smoothing): the answer is of the smoothed curve, smoothed over every point of the run. */
  smoothing: MetricSmoothingSchema.optional(),
});

// ─── The user's settings ─────────────────────────────────────────────────────────────────────

/** How many recently opened workspaces are remembered. */
export const RECENT_WORKSPACES = 10;
/** The renderer's view state is small (smoothing, axes, visible runs): a bound keeps a bug from growing the file. */
export const MAX_VIEW_STATE_BYTES = 64 * 1024;

/**
 * What the app remembers for its user across restarts, in both hosts: the workspaces opened lately
 * (newest first) and the view state the screens keep (each screen validates its own part).
 */
/**
 * Issue 18: how to reach an S3-compatible store, as a user gives it (never credentials: those come
 * from the AWS chain, in the process that talks to the store, and are never sent to the page).
 */
export const S3ConnectionSchema = z.object({
  /** An http(s) URL; else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS's own. */
  endpoint: z.string().min(1).optional(),
  /** Bucket in the path, not the host name (automatic for an IP address or localhost). */
  pathStyle: z.boolean().optional(),
  /** A profile of ~/.aws/config and ~/.aws/credentials. */
  profile: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
});
export type S3Connection = z.infer<typeof S3ConnectionSchema>;

/** Another program's folder is changed only after this long without a change to its files (0: at once). */
export const QuietSecondsSchema = z.number().min(0).max(3600);
export const DEFAULT_QUIET_SECONDS = 10;

export const SettingsSchema = z.object({
  recentWorkspaces: z.array(z.string().min(1)).max(RECENT_WORKSPACES).default([]),
  view: z.record(z.string(), z.json()).default({}),
  /** How long a folder another program writes must have been quiet before the Studio deletes from it or rewrites its state file. */
  quietSeconds: QuietSecondsSchema.default(DEFAULT_QUIET_SECONDS),
});
export type Settings = z.infer<typeof SettingsSchema>;

const ViewPatchSchema = z
  .record(z.string(), z.json())
  .refine((view) => JSON.stringify(view).length <= MAX_VIEW_STATE_BYTES, `view state is limited to ${MAX_VIEW_STATE_BYTES} bytes`);
// ─── Import ──────────────────────────────────────────────────────────────────────────────────

/** A client's own id for one import, so it can follow and cancel the import before the call returns. */
export const ImportIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an import id is 1 to 64 letters, digits or dashes');

/** What one source folder became: the run it went into and the checkpoints it added, or why it was refused. */
export const ImportSourceResultSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    source: z.string(),
    /** Which importer read it (`checkpoint-studio run`, `checkpoint-studio checkpoint`, …). */
    format: z.string(),
    run: z.string(),
    /** True when the import created the run. */
    newRun: z.boolean(),
    checkpoints: z.array(z.string()),
    /** What the user should know: a renamed run, lineage dropped, files left out. */
    notes: z.array(z.string()),
  }),
  z.object({ ok: z.literal(false), source: z.string(), format: z.string().nullable(), error: StudioErrorDataSchema }),
]);
export type ImportSourceResult = z.infer<typeof ImportSourceResultSchema>;

export const ImportReportSchema = z.object({
  importId: z.string(),
  results: z.array(ImportSourceResultSchema),
  /** Cancelled before every source was done: the one in progress and those after it left nothing behind. */
  cancelled: z.boolean(),
});
export type ImportReport = z.infer<typeof ImportReportSchema>;

/** What a path holds, read without importing: its format, each checkpoint with its step, and what to know. */
export const SourceDescriptionSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    source: z.string(),
    format: z.string(),
    formatLabel: z.string(),
    checkpoints: z.array(
      z.object({
        name: z.string(),
        step: count.nullable(),
        stepSource: z.string().nullable(),
        tensors: count,
        bytes: count,
        metrics: z.record(z.string(), z.number().nullable()),
        latest: z.boolean(),
      }),
    ),
    notes: z.array(z.string()),
  }),
  z.object({ ok: z.literal(false), source: z.string(), error: StudioErrorDataSchema }),
]);
export type SourceDescription = z.infer<typeof SourceDescriptionSchema>;

export const EXPORT_FORMATS = ['tf', 'tfjs', 'safetensors'] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

export const ExportResultSchema = z.object({
  /** What was written: a folder (tf, tfjs) or a file (safetensors). */
  out: z.string(),
  format: ExportFormatSchema,
  /** The files written, relative to `out` (its own name for a single file). */
  files: z.array(z.string()),
  tensors: count,
  step: count,
  notes: z.array(z.string()),
});
export type ExportResult = z.infer<typeof ExportResultSchema>;

export const ImportModeSchema = z.enum(['copy', 'link']);
export type ImportMode = z.infer<typeof ImportModeSchema>;

export const ImportPhaseSchema = z.enum(['reading', 'copying', 'verifying', 'placing', 'done']);
export type ImportPhase = z.infer<typeof ImportPhaseSchema>;

export const ImportProgressSchema = z.object({ importId: z.string(), source: z.string(), phase: ImportPhaseSchema, bytesDone: count, bytesTotal: count });
export type ImportProgress = z.infer<typeof ImportProgressSchema>;

// ─── Compare two checkpoints (issue 17) ──────────────────────────────────────────────────────

/** relChange below this calls a tensor one that stopped moving, unless the caller says otherwise. */
export const DEFAULT_STOPPED_BELOW = 1e-6;

/** A client's own id for one comparison, so it can follow and cancel it before the call returns. */
export const CompareIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a comparison id is 1 to 64 letters, digits or dashes');

/** One side of a comparison: what the user named, and what it resolved to. */
export const CompareSideSchema = z.object({
  target: z.string(),
  /** A checkpoint id, or the path of a checkpoint outside the workspace. */
  label: z.string(),
  path: z.string(),
  /** `checkpoint-studio`, or the foreign format read (`tf-bundle`, `safetensors`, …). */
  format: z.string(),
  step: count.nullable(),
});
export type CompareSide = z.infer<typeof CompareSideSchema>;

/** A figure that is null where it has no value (see each field); also null if float64 overflowed. */
const figure = z.number().nullable();

/** One pair of tensors of the same shape, compared element by element in float64. */
export const TensorComparisonSchema = z.object({
  name: z.string(),
  /** B's name for it: equal to `name`, or another where the tensors were paired through a weight mapping. */
  nameB: z.string(),
  dtype: z.string(),
  dtypeB: z.string(),
  shape: z.array(count),
  elements: count,
  /** Positions where both values are finite; the figures below are over these alone. */
  finite: count,
  l2A: figure,
  l2B: figure,
  l2Diff: figure,
  /** l2Diff / l2A; 0 when both are 0; null when l2A is 0 but l2Diff is not (moved away from all zeros). */
  relChange: figure,
  maxAbsDiff: figure,
  /** null when either norm is 0. */
  cosine: figure,
  nanA: count,
  nanB: count,
  infA: count,
  infB: count,
  /** NaN values in A and in B together; likewise infinities. */
  nanCount: count,
  infCount: count,
  /** relChange is below the result's stoppedMovingBelow. */
  stoppedMoving: z.boolean(),
});
export type TensorComparison = z.infer<typeof TensorComparisonSchema>;

/** A pair found but not compared: shapes differ, or a dtype whose values we do not compare (strings). */
export const TensorMismatchSchema = z.object({
  name: z.string(),
  nameB: z.string(),
  dtype: z.string(),
  dtypeB: z.string(),
  shape: z.array(count),
  shapeB: z.array(count),
  reason: z.string(),
});
export type TensorMismatch = z.infer<typeof TensorMismatchSchema>;

export const UnpairedTensorSchema = z.object({ name: z.string(), dtype: z.string(), shape: z.array(count) });

export const CompareResultSchema = z.object({
  a: CompareSideSchema,
  b: CompareSideSchema,
  /** The threshold: relChange below it is "stopped moving". */
  stoppedMovingBelow: z.number().positive(),
  /** In A's file order. */
  tensors: z.array(TensorComparisonSchema),
  notCompared: z.array(TensorMismatchSchema),
  onlyInA: z.array(UnpairedTensorSchema),
  onlyInB: z.array(UnpairedTensorSchema),
  /** Names (A's) of the tensors that stopped moving. */
  stoppedMoving: z.array(z.string()),
  /** How tensors were paired (a weight mapping), and anything else to know. */
  notes: z.array(z.string()),
});
export type CompareResult = z.infer<typeof CompareResultSchema>;

export const CompareProgressSchema = z.object({ compareId: z.string(), done: count, total: count, tensor: z.string().nullable() });
export type CompareProgress = z.infer<typeof CompareProgressSchema>;
// ─── Distributions over time, read from a run's checkpoint files (issue 17) ─────────────────

/** A tensor the checkpoints of a run hold, by name: what the Distributions view lets a user choose. */
export const RunTensorSchema = z.object({
  name: z.string(),
  dtype: z.string(),
  /** As the newest checkpoint holding it has it. */
  shape: z.array(count),
  /** Weights, optimizer state (ours: `optimizer/…` slots), a step counter, or something else. */
  role: z.enum(['model', 'optimizer', 'step', 'other']),
  /** How many of the run's checkpoints hold it. */
  checkpoints: count,
  /** False for strings and types without real numbers: listed, but no distribution is computed. */
  numeric: z.boolean(),
});
export type RunTensor = z.infer<typeof RunTensorSchema>;

export const RunTensorsSchema = z.object({
  run: z.string(),
  tensors: z.array(RunTensorSchema),
  /** Checkpoints whose tensors could not be listed (a damaged manifest, a missing file), each naming the file. */
  problems: z.array(z.object({ id: z.string(), message: z.string() })),
});
export type RunTensors = z.infer<typeof RunTensorsSchema>;

/** One checkpoint's figures for the tensor. NaN and ±Inf are counted apart; the rest are of the finite values (null when there are none). */
export const DistributionPointSchema = z.object({
  id: z.string(),
  step: count,
  count: count,
  finite: count,
  nan: count,
  inf: count,
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  /** At the run's `quantileLevels`; null when no value is finite. */
  quantiles: z.array(z.number()).nullable(),
  /** `exact`: every value sorted; `histogram`: from a fine histogram, each within `quantileError` of the exact value. */
  quantileMethod: z.enum(['exact', 'histogram']),
  quantileError: z.number().nonnegative(),
  /** Counts of finite values in the run's shared bins. */
  histogram: z.array(count),
  /** Taken from the workspace's cache: no tensor byte was read for it. */
  cached: z.boolean(),
});
export type DistributionPoint = z.infer<typeof DistributionPointSchema>;

export const TensorDistributionsSchema = z.object({
  run: z.string(),
  tensor: z.string(),
  quantileLevels: z.array(z.number()),
  /** The histograms' bins, equal in width over [lo, hi] and the same for every checkpoint; null when no value is finite. */
  range: z.object({ lo: z.number(), hi: z.number(), bins: z.int().positive() }).nullable(),
  /** Oldest step first. */
  points: z.array(DistributionPointSchema),
  /** Checkpoints of the run that hold no tensor of that name. */
  missing: z.array(z.string()),
  /** Checkpoints that could not be read: the message names the file and the tensor. */
  problems: z.array(z.object({ id: z.string(), message: z.string() })),
  /** Tensor bytes read to answer (0 when everything came from the cache). */
  bytesRead: count,
  /** Where figures were cached: `workspace` (`.studio/distributions`), or `none` with the reason in `notes`. */
  // Issue 18: `machine`: this user's cache folder, for a workspace in S3 (reading never writes into a bucket).
  cache: z.enum(['workspace', 'none', 'machine']),
  notes: z.array(z.string()),
});
export type TensorDistributions = z.infer<typeof TensorDistributionsSchema>;

export const DistributionProgressSchema = z.object({ run: z.string(), tensor: z.string(), done: count, total: count });
export type DistributionProgress = z.infer<typeof DistributionProgressSchema>;

// Issue 17, second round (smalls): distributions cancellable, by an id the client gives its request, as comparisons are.
export const DistributionsIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a distributions id is 1 to 64 letters, digits or dashes');

// ─── The API ─────────────────────────────────────────────────────────────────────────────────

const none = z.object({}).default({});
const ids = z.object({ ids: z.array(z.string().min(1)).min(1) });
const checkpointOut = CheckpointInfoSchema;

/**
 * Every request a host can make: its parameters (one object, validated by every host) and its
 * result. StudioApi below is derived from this table, so no second declaration can drift.
 */
export const studioMethods = {
  /**
   * Opens a workspace folder and returns what it holds. `create` makes a missing folder (a first
   * training); `readOnly` promises that nothing in it will be created, changed or removed.
   */
  openWorkspace: {
    params: z.object({
      path: z.string().min(1),
      create: z.boolean().default(false),
      readOnly: z.boolean().default(false),
      /** For this opening only, instead of the setting: how long another program's folder must have been quiet before it is changed. */
      quietSeconds: QuietSecondsSchema.optional(),
      /** For an `s3://bucket/prefix` path: how to reach the store (issue 18). */
      s3: S3ConnectionSchema.optional(),
    }),
    result: CatalogSnapshotSchema,
  },
  snapshot: { params: none, result: CatalogSnapshotSchema },
  listRuns: { params: none, result: z.array(RunInfoSchema) },
  listCheckpoints: { params: z.object({ run: z.string().optional() }).default({}), result: z.array(CheckpointInfoSchema) },
  /** The tensors of a checkpoint (id or folder) or of a safetensors file, anywhere. */
  inspect: { params: z.object({ target: z.string().min(1) }), result: z.array(TensorRowSchema) },
  /** Every byte of the given checkpoints (ids or folders, anywhere), or of the whole workspace. */
  verify: { params: z.object({ targets: z.array(z.string().min(1)).default([]) }).default({ targets: [] }), result: VerifyReportSchema },
  latest: { params: z.object({ run: z.string().optional() }).default({}), result: checkpointOut },
  /**
   * What to mark on each checkpoint, by id: `latest` (the workspace's), `latest(<run>)` (each
   * run's, when there are several), `best <metric>` (when a metric is given), `best(<run>) <metric>`
   * (each run's best, when there are several: what `best` with that run answers).
   */
  marks: {
    params: z.object({ metric: z.string().min(1).optional(), mode: MetricModeSchema.default('min') }).default({ mode: 'min' }),
    result: z.record(z.string(), z.array(z.string())),
  },
  best: { params: z.object({ metric: z.string().min(1), mode: MetricModeSchema.default('min'), run: z.string().optional() }), result: checkpointOut },
  pin: { params: ids, result: z.array(CheckpointInfoSchema) },
  unpin: { params: ids, result: z.array(CheckpointInfoSchema) },
  /** A dry run: what a policy (the one given, or each run's saved one) keeps and deletes, and why. */
  planRetention: {
    params: z.object({ run: z.string().optional(), policy: RetentionPolicySchema.optional() }).default({}),
    result: z.array(RetentionPlanSchema),
  },
  /** Deletes exactly what the plans would, re-checking every protection at that moment. */
  applyRetention: { params: z.object({ plans: z.array(RetentionPlanSchema) }), result: z.array(TrashEntrySchema) },
  /** Saves a policy as a run's own (or every run's, with allRuns). */
  setRetentionPolicy: {
    params: z.object({ run: z.string().optional(), allRuns: z.boolean().default(false), policy: RetentionPolicySchema }),
    result: z.array(z.string()),
  },
  /**
   * Makes a checkpoint of another program's folder the one its own state calls latest (TensorFlow's
   * `checkpoint` file, rewritten as TensorFlow writes it).
   */
  makeLatest: {
    params: z.object({ target: z.string().min(1) }),
    /** The checkpoint as it is now, and the trash entry whose undo (undoDelete of its batch) puts the state file back; null when it already was the latest. */
    result: z.object({ checkpoint: checkpointOut, undo: TrashEntrySchema.nullable() }),
  },
  /** Moves checkpoints (ids or folders) to the workspace trash, as one batch. */
  deleteCheckpoints: { params: z.object({ targets: z.array(z.string().min(1)).min(1) }), result: z.array(TrashEntrySchema) },
  listTrash: { params: none, result: TrashListingSchema },
  restoreFromTrash: { params: ids, result: z.array(TrashEntrySchema) },
  /** Restores the most recent batch (or the one named), whole or not at all. */
  undoDelete: { params: z.object({ batch: z.string().optional() }).default({}), result: z.array(TrashEntrySchema) },
  /** Removes trash entries for good: all of them, those deleted `olderThanMs` ago, or those of the named batches. */
  purgeTrash: {
    params: z.object({ olderThanMs: z.number().nonnegative().optional(), batches: z.array(z.string().min(1)).min(1).optional() }).default({}),
    result: PurgeResultSchema,
  },
  startTraining: { params: StartTrainingSchema, result: TrainingStartedSchema },
  continueTraining: { params: ContinueTrainingSchema, result: TrainingStartedSchema },
  pauseTraining: { params: none, result: TrainingStatusSchema },
  resumeTraining: { params: none, result: TrainingStatusSchema },
  saveNow: { params: none, result: TrainingStatusSchema },
  /** Graceful: the trainer saves at its current step, then exits. Resolves once it has. */
  stopTraining: { params: none, result: TrainingStatusSchema },
  /** At once, without saving; the last complete checkpoint stays intact. */
  killTraining: { params: none, result: TrainingStatusSchema },
  trainingStatus: { params: none, result: TrainingStatusSchema },
  /**
   * Proves a checkpoint resumes exactly: restores it in a trainer process, replays the `steps`
   * after it, and compares each loss and weights hash with what the original training logged
   * (its own run's, or a run continued from it). Nothing is written. On the backend that wrote it
   * unless told; `dataDir` is the run's dataset folder if it has moved since.
   */
  verifyResume: {
    params: z.object({
      /** A checkpoint id or folder, `latest`, or `best` (by `metric`); `run` limits latest and best to one run. */
      checkpoint: z.string().min(1),
      run: z.string().min(1).optional(),
      metric: z.string().min(1).optional(),
      mode: MetricModeSchema.optional(),
      steps: positive.max(1_000_000).default(VERIFY_RESUME_STEPS),
      backend: BackendPreferenceSchema.optional(),
      dataDir: z.string().min(1).optional(),
    }),
    result: VerifyResumeReportSchema,
  },
  /** A run's metrics.jsonl, a page at a time; `after` is the previous page's `next`. */
  metricHistory: {
    params: z.object({ run: z.string().min(1), after: z.string().optional(), limit: positive.max(100_000).default(10_000) }),
    result: MetricPageSchema,
  },
  /**
   * Shows a checkpoint's folder in the file manager of the machine the Studio runs on. Only
   * checkpoints of the open workspace: never an arbitrary path. `opened` is false where there is
   * no file manager (a server without a desktop); the path is returned either way.
   */
  revealInFolder: { params: z.object({ target: z.string().min(1) }), result: z.object({ path: z.string(), opened: z.boolean() }) },
  /** What the app remembers for its user (recent workspaces, view state). */
  settings: { params: none, result: SettingsSchema },
  /**
   * Replaces the view state's named keys (a key set to null is removed) and forgets the listed
   * recent workspaces; returns the settings as saved.
   */
  updateSettings: {
    params: z
      .object({ view: ViewPatchSchema.optional(), forgetWorkspaces: z.array(z.string().min(1)).optional(), quietSeconds: QuietSecondsSchema.optional() })
      .default({}),
    result: SettingsSchema,
  },
  /**
   * Imports folders (absolute paths): a run folder of ours becomes a new run, a checkpoint folder
   * goes into the run `into` (default `imported`). Each is copied, verified and only then made
   * visible; a refused one leaves the workspace as it was. `importId` (the client's own) names the
   * import in its progress events and for cancelImport.
   */
  importFolders: {
    params: z.object({
      sources: z.array(z.string().min(1)).min(1),
      into: z.string().min(1).optional(),
      mode: ImportModeSchema.optional(),
      importId: ImportIdSchema.optional(),
      /** For sources that are s3:// addresses (copied down first; issue 18): how to reach their store. */
      s3: S3ConnectionSchema.optional(),
    }),
    result: ImportReportSchema,
  },
  /**
   * Writes a checkpoint (an id, a folder, or another program's checkpoint anywhere) in another
   * format: a TensorFlow bundle folder, a TensorFlow.js model folder, or one safetensors file.
   * `out` must not exist; it appears whole or not at all.
   */
  exportCheckpoint: { params: z.object({ target: z.string().min(1), format: ExportFormatSchema, out: z.string().min(1) }), result: ExportResultSchema },
  /** What each path holds (our folders or another program's checkpoints), read in place; nothing is imported. */
  describeSources: { params: z.object({ sources: z.array(z.string().min(1)).min(1) }), result: z.array(SourceDescriptionSchema) },
  /** Stops an import: what it was copying is removed; sources already imported stay. False when no such import runs. */
  cancelImport: { params: z.object({ importId: ImportIdSchema }), result: z.object({ cancelled: z.boolean() }) },
  /** A run's run.json: what it trained and where it came from. */
  runConfig: { params: z.object({ run: z.string().min(1) }), result: RunMetaSchema },
  // Compare two checkpoints (issue 17).
  /**
   * Compares two checkpoints tensor by tensor (each an id, `latest`, `best` by `metric`, a folder or
   * another program's checkpoint, as inspect takes them), read from the files a tensor at a time in a worker thread.
   * Tensors pair by name, else through the weight mapping training uses for foreign checkpoints.
   * `compareId` (the client's own) names it in compare:progress events and for cancelCompare.
   */
  compareCheckpoints: {
    params: z.object({
      a: z.string().min(1),
      b: z.string().min(1),
      stoppedBelow: z.number().positive().max(1).default(DEFAULT_STOPPED_BELOW),
      compareId: CompareIdSchema.optional(),
      /** What `best` (as A or B) is judged by. */
      metric: z.string().min(1).optional(),
      mode: MetricModeSchema.default('min'),
    }),
    result: CompareResultSchema,
  },
  /** Stops a comparison; its call then fails (code `refused`, saying it was cancelled). False when no such comparison runs. */
  cancelCompare: { params: z.object({ compareId: CompareIdSchema }), result: z.object({ cancelled: z.boolean() }) },
  // Issue 17 (live).
  /** How far a run is, from its log's last records and run.json's plan; null for a run that has logged no step. */
  runProgress: { params: z.object({ run: z.string().min(1) }), result: RunProgressSchema.nullable() },
  /**
   * Checkpoints' files stat'ed again (present, with their manifest's sizes; no hashing): the ones
   * in view, so one whose file went missing after listing shows damaged without Verify. Answers
   * each one's listing as it is now (a changed one is also sent as `catalog:changed`).
   */
  checkFiles: { params: z.object({ ids: z.array(z.string().min(1)).max(1000) }), result: z.array(CheckpointInfoSchema) },
  // Distributions over time (issue 17): a run's tensors, and one tensor's figures at every checkpoint.
  /** The tensors a run's checkpoints hold (weights and optimizer state), by name. */
  tensorNames: { params: z.object({ run: z.string().min(1) }), result: RunTensorsSchema },
  /** One tensor's distribution at each of a run's checkpoints, computed in a worker from the files, cached in `.studio/`; progress as `distributions:progress`. */
  tensorDistributions: {
    params: z.object({
      run: z.string().min(1),
      tensor: z.string().min(1),
      bins: z.int().min(1).max(200).default(30),
      /** Names this request for cancelDistributions (issue 17, second round). */
      distributionsId: DistributionsIdSchema.optional(),
    }),
    result: TensorDistributionsSchema,
  },
  /**
   * Stops waiting for a tensorDistributions request: its call fails (code `refused`, saying it was
   * cancelled), and its worker stops unless another request waits on the same figures. False when
   * no such request runs. (Issue 17, second round.)
   */
  cancelDistributions: { params: z.object({ distributionsId: DistributionsIdSchema }), result: z.object({ cancelled: z.boolean() }) },
  // Issue 17 (columns): a run's history by range and resolution, from metrics.columns.
  metricSeries: { params: MetricSeriesParamsSchema, result: MetricSeriesSchema },
} as const;

export type StudioMethod = keyof typeof studioMethods;
export type StudioParams<M extends StudioMethod> = z.input<(typeof studioMethods)[M]['params']>;
export type StudioResult<M extends StudioMethod> = z.output<(typeof studioMethods)[M]['result']>;

/** Event name → its one payload's schema. */
export const studioEvents = {
  'catalog:added': CheckpointInfoSchema,
  'catalog:changed': CheckpointInfoSchema,
  'catalog:removed': z.object({ id: z.string(), run: z.string(), step: count }),
  /** The workspace itself was opened, re-read or replaced: take the snapshot anew. */
  'catalog:reset': CatalogSnapshotSchema,
  'training:event': SessionEventSchema,
  'training:state': TrainingStatusSchema,
  'training:crashed': TrainerCrashSchema,
  /** What went wrong in the trainer: fatal ones end the session (it exits with an error). */
  'training:error': StudioErrorDataSchema.extend({ fatal: z.boolean() }),
  /** The trainer's own console lines (warnings it printed, for instance). */
  'training:log': z.object({ level: z.enum(['debug', 'info', 'warn', 'error']), text: z.string() }),
  /** Metric records a run gained since it was last read (another program's log grew): the charts add them to what metricHistory gave. */
  'metrics:appended': z.object({ run: z.string(), records: z.array(MetricRecordSchema) }),
  // Issue 17 (live).
  /** A run's log grew (any writer): its progress now. Sent with the `metrics:appended` of the same records, or after the trainer's own. */
  'run:progress': RunProgressSchema,
  /** How far an import is, per source (see importFolders). */
  'import:progress': ImportProgressSchema,
  warning: z.object({ message: z.string() }),
  // Compare two checkpoints (issue 17): how far a comparison is, in tensors.
  'compare:progress': CompareProgressSchema,
  /** How many of a run's checkpoints tensorDistributions has done (issue 17). */
  'distributions:progress': DistributionProgressSchema,
} as const;

export type StudioEventName = keyof typeof studioEvents;
export type StudioEventPayload<E extends StudioEventName> = z.output<(typeof studioEvents)[E]>;
export type StudioListener<E extends StudioEventName> = (payload: StudioEventPayload<E>) => void;

/** A method's arguments: its one parameter object, which may be left out when every field has a default. */
export type StudioArgs<M extends StudioMethod> = undefined extends StudioParams<M> ? [params?: StudioParams<M>] : [params: StudioParams<M>];

/** The one object every host implements and every client (CLI, renderer) talks to. */
export type StudioApi = {
  [M in StudioMethod]: (...args: StudioArgs<M>) => Promise<StudioResult<M>>;
} & {
  /** Subscribes; returns the unsubscribe function. */
  on<E extends StudioEventName>(event: E, listener: StudioListener<E>): () => void;
};

// ─── Browser mode: the StudioApi over one WebSocket ──────────────────────────────────────────

const METHOD_NAMES = Object.keys(studioMethods) as [StudioMethod, ...StudioMethod[]];
const EVENT_NAMES = Object.keys(studioEvents) as [StudioEventName, ...StudioEventName[]];

/**
 * The subprotocol of browser mode's WebSocket. The page also offers WS_TOKEN_PROTOCOL_PREFIX followed
 * by its token: that is how the token reaches the server (never in a URL or a cookie, which would
 * carry it to other places); the server answers with WS_PROTOCOL alone.
 */
export const WS_PROTOCOL = 'checkpoint-studio';
export const WS_TOKEN_PROTOCOL_PREFIX = 'checkpoint-studio.token.';
/** The request header that carries browser mode's token on an upload. */
export const TOKEN_HEADER = 'x-checkpoint-studio-token';

/** Client → host: one call. The host answers with the same `id`. A call without `params` is one with `{}`. */
export const WsCallSchema = z.object({ type: z.literal('call'), id: z.int().positive(), method: z.enum(METHOD_NAMES), params: z.unknown().default({}) });
export type WsCall = z.infer<typeof WsCallSchema>;

/** Host → client: a call's result or error, or an event. Payloads are checked against studioMethods / studioEvents. */
export const WsReplySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('result'), id: z.int().positive(), result: z.unknown() }),
  z.object({ type: z.literal('error'), id: z.int().nonnegative(), error: StudioErrorDataSchema }),
  z.object({ type: z.literal('event'), event: z.enum(EVENT_NAMES), payload: z.unknown() }),
]);
export type WsReply = z.infer<typeof WsReplySchema>;
