// Proves that a checkpoint resumes exactly: restore it, replay the next steps, and compare the
// losses and weight hashes with what the original run logged when it trained through them.
// The trainer process runs this for the Studio's verifyResume (trainer-main.ts); it writes nothing.
import path from 'node:path';
import { type CheckpointInfo, type ResumeComparison, type RunInfo, StudioError, type VerifyResumeReport } from '../../../contract.js';
import type { LoadedCheckpoint } from '../../checkpoint/reader.js';
import { readMetrics } from '../../checkpoint/run-files.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import type { StoredWorkspace } from '../../checkpoint/stored-store.js';
import { selectBackend } from '../engine/backend.js';
import { loadMnistLike } from '../data/mnist-dataset.js';
import { holdOutValidation } from '../data/splits.js';
import { weightsHash } from '../engine/weights-hash.js';
import { TrainingConfigSchema, TrainingLoop } from '../engine/training-loop.js';
import type { VerifyResumeRequest } from '../process/verify-resume-request.js';
import { finite } from './session-measures.js';

interface Expected {
  readonly losses: Map<number, number>;
  readonly hashes: Map<number, string>;
  readonly sources: string[];
}

/** What a replay reads of a workspace, in a folder or in S3 (issue 18): the same answer either way. */
export interface ReplayWorkspace {
  resolveResumable(selector: string): CheckpointInfo;
  load(id: string): Promise<LoadedCheckpoint>;
  readonly catalog: { listRuns(): RunInfo[] };
  /** A run's metric records as its log holds them. */
  metrics(run: string): Promise<readonly Record<string, unknown>[]>;
}

export function replayOnDisk(store: CheckpointStore): ReplayWorkspace {
  return {
    resolveResumable: (selector) => store.resolveResumable(selector),
    load: (id) => store.load(id),
    catalog: store.catalog,
    metrics: (run) => readMetrics(path.join(store.root, run)),
  };
}

/** The metrics are those its listing read (a replay opens the workspace for this one question). */
export function replayInBucket(workspace: StoredWorkspace): ReplayWorkspace {
  return {
    resolveResumable: (selector) => workspace.resolveResumable(selector),
    load: (id) => workspace.load(id),
    catalog: workspace.catalog,
    metrics: async (run) => workspace.catalog.history(run),
  };
}

/** What the original training logged after `checkpoint`: its own run's later steps, or a run continued from it. */
async function expectedAfter(store: ReplayWorkspace, checkpoint: CheckpointInfo): Promise<Expected> {
  const runs = [
    checkpoint.run,
    ...store.catalog
      .listRuns()
      .filter((r) => r.parent?.run === checkpoint.run && r.parent.step === checkpoint.step)
      .map((r) => r.name),
  ];
  const losses = new Map<number, number>();
  const hashes = new Map<number, string>();
  const sources: string[] = [];
  for (const run of runs) {
    const records = await store.metrics(run);
    let used = false;
    for (const record of records) {
      const step = record.step;
      if (typeof step !== 'number' || step <= checkpoint.step) continue;
      if (record.kind === 'train' && typeof record.loss === 'number' && !losses.has(step)) {
        losses.set(step, record.loss);
        used = true;
      }
      if (record.kind === 'checkpoint' && typeof record.weightsHash === 'string' && !hashes.has(step)) {
        hashes.set(step, record.weightsHash);
        used = true;
      }
    }
    if (used) sources.push(run);
  }
  return { losses, hashes, sources };
}

const tally = (comparisons: readonly ResumeComparison[], kind: ResumeComparison['kind']): { compared: number; identical: number } => {
  const of = comparisons.filter((c) => c.kind === kind);
  return { compared: of.length, identical: of.filter((c) => c.equal).length };
};

/**
 * Replays `request.steps` steps after the checkpoint. `shouldStop` is asked between steps: the
 * replay gives up (an error) once it says so.
 */
export async function verifyResume(store: ReplayWorkspace, request: VerifyResumeRequest, shouldStop: () => boolean = () => false): Promise<VerifyResumeReport> {
  const checkpoint = store.resolveResumable(request.checkpoint);
  const loaded = await store.load(checkpoint.id);
  const parsed = TrainingConfigSchema.safeParse(loaded.manifest.extra.config);
  if (!parsed.success) throw new StudioError('refused', `${checkpoint.path}: holds no training configuration this trainer wrote; it cannot be replayed`);
  const expected = await expectedAfter(store, checkpoint);
  if (expected.losses.size === 0 && expected.hashes.size === 0) {
    throw new StudioError(
      'refused',
      `${checkpoint.id}: the original run logged nothing after step ${checkpoint.step}, so there is nothing to compare the replay with`,
    );
  }
  // The same backend as the original, unless told otherwise: exactness is promised per backend.
  const original = checkpoint.backend;
  const preference = request.backend ?? (original === 'cpu' || original === 'wasm' || original === 'tensorflow' ? original : 'auto');
  const backend = await selectBackend(preference);
  const mnist = await loadMnistLike(request.dataDir ?? parsed.data.dataDir ?? undefined);
  const recorded = loaded.manifest.extra.dataFingerprint;
  if (typeof recorded === 'string' && recorded !== mnist.fingerprint) {
    throw new StudioError(
      'refused',
      `${mnist.source}: these data files are not the ones ${checkpoint.id} was trained on (their checksums differ); give the run's dataset folder`,
    );
  }
  const data = holdOutValidation(mnist, parsed.data.validationCount, parsed.data.trainLimit);
  // The replay may run past the epochs the run was configured for (a continued run can train
  // longer); the data order does not depend on the epoch count.
  const batches = Math.ceil((parsed.data.trainLimit ?? data.train.count) / parsed.data.batchSize);
  const config = { ...parsed.data, epochs: Math.max(parsed.data.epochs, loaded.manifest.epoch + Math.ceil(request.steps / batches) + 1) };
  const loop = TrainingLoop.restore(config, data, loaded);
  const comparisons: ResumeComparison[] = [];
  let replayed = 0;
  try {
    while (replayed < request.steps && !loop.finished) {
      if (shouldStop()) throw new StudioError('refused', `${checkpoint.id}: the replay was stopped after ${replayed} of ${request.steps} steps`);
      const result = loop.trainStep();
      replayed += 1;
      const loss = expected.losses.get(result.step);
      if (loss !== undefined)
        comparisons.push({ kind: 'loss', step: result.step, expected: loss, actual: finite(result.loss), equal: Object.is(loss, result.loss) });
      const hash = expected.hashes.get(loop.step);
      if (hash !== undefined) {
        const actual = weightsHash(loop.snapshot().model);
        comparisons.push({ kind: 'weights', step: loop.step, expected: hash, actual, equal: hash === actual });
      }
    }
  } finally {
    loop.dispose();
  }
  return {
    checkpoint: checkpoint.id,
    backend: backend.name,
    originalBackend: original,
    replayedSteps: replayed,
    sources: expected.sources,
    losses: tally(comparisons, 'loss'),
    weightHashes: tally(comparisons, 'weights'),
    comparisons,
    ok: comparisons.length > 0 && comparisons.every((c) => c.equal),
  };
}
