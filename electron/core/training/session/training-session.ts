// A whole training session: backend, data, a new run in the store (continuing from a checkpoint
// when asked), the loop, the checkpoint policy, background saves, retention, and events.
// The trainer process and the CLI both run this; neither knows how training works.
import { StudioError } from '../../../contract.js';
import path from 'node:path';
import type { CheckpointInfo } from '../../../contract.js';
import type { LoadedCheckpoint } from '../../checkpoint/reader.js';
import { checkRunName, removeAbandonedRun } from '../../checkpoint/run-files.js';
import type { RunWriter } from '../../checkpoint/run-writer.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import { isPolicyEmpty } from '../../checkpoint/retention.js';
import { BackgroundSaver, type SavedCheckpoint } from './background-saver.js';
import { selectBackend } from '../engine/backend.js';
import { loadMnistLike } from '../data/mnist-dataset.js';
import type { SessionEvent } from '../../../contract.js';
import { overheadWarning } from './session-events.js';
import { holdOutValidation } from '../data/splits.js';
import { type ForeignStart, loadForeignStart } from './foreign-start.js';
import { type StepResult, type TrainingConfig, TrainingConfigSchema, TrainingLoop } from '../engine/training-loop.js';
import { fixedFieldDifferences } from '../process/continuation.js';
import type { TrainRequest } from '../process/train-request.js';

export interface SessionControl {
  stopRequested: boolean;
  paused: boolean;
  saveRequested: boolean;
  /** Called when paused or stopRequested change, to wake a paused loop. */
  wake?: () => void;
}

export function newControl(): SessionControl {
  return { stopRequested: false, paused: false, saveRequested: false };
}

export interface SessionOptions {
  readonly store: CheckpointStore;
  /** Resolved and checked by the Studio; checked again here, where it is executed. */
  readonly request: TrainRequest;
  readonly control: SessionControl;
  readonly onEvent: (event: SessionEvent) => void;
  /** Progress events at most this often (the loop itself is not throttled). */
  readonly progressIntervalMs?: number;
}

export interface SessionResult {
  readonly run: string;
  readonly step: number;
  readonly reason: 'completed' | 'max-steps' | 'stopped';
  readonly saved: readonly SavedCheckpoint[];
  readonly overheadShare: number;
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Saves a retention pass may fall behind by before the next save waits for it. */
const RETENTION_BACKLOG = 4;

/** A diverged loss is NaN or Infinity: events and manifests carry null for it (JSON has no NaN). */
const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

/** What a continued run must match in its parent's checkpoint, checked before anything is created. */
function checkContinuation(parent: CheckpointInfo, loaded: LoadedCheckpoint, request: TrainRequest): void {
  const recorded = TrainingConfigSchema.safeParse(loaded.manifest.extra.config);
  if (!recorded.success) throw new StudioError('refused', `${parent.path}: holds no training configuration this trainer wrote; it cannot be continued here`);
  const differences = fixedFieldDifferences(recorded.data, request.config);
  if (differences.length > 0) throw new StudioError('refused', `${parent.id}: cannot continue exactly: ${differences.join('; ')}`);
}

export async function runTrainingSession(options: SessionOptions): Promise<SessionResult> {
  const { store, request } = options;
  const config = TrainingConfigSchema.parse(request.config);
  // Everything that can be refused is checked before anything is created: a bad request leaves
  // no run folder behind to block the next try.
  let parent: CheckpointInfo | null = null;
  let loaded: LoadedCheckpoint | null = null;
  let foreignStart: ForeignStart | null = null;
  if (request.resume) {
    parent = store.resolveResumable(request.resume.id);
    if (parent.run !== request.resume.run || parent.step !== request.resume.step) {
      throw new StudioError(
        'refused',
        `${request.resume.id}: now holds ${parent.run} step ${parent.step}, not step ${request.resume.step} of ${request.resume.run}`,
      );
    }
    if (request.resume.foreignMap) foreignStart = await loadForeignStart(parent, config, request.resume.foreignMap);
    else {
      loaded = await store.load(parent.id);
      checkContinuation(parent, loaded, request);
    }
  }
  checkRunName(request.run);
  const backend = await selectBackend(request.backend);
  const mnist = await loadMnistLike(config.dataDir ?? undefined);
  const parentFingerprint = loaded?.manifest.extra.dataFingerprint;
  if (typeof parentFingerprint === 'string' && parentFingerprint !== mnist.fingerprint) {
    throw new StudioError(
      'refused',
      `${mnist.source}: these data files are not the ones ${parent?.id ?? 'the parent'} was trained on (their checksums differ), so it cannot be continued exactly`,
    );
  }
  const data = holdOutValidation(mnist, config.validationCount, config.trainLimit);
  if (config.validationCount === 0 && request.checkpoints.best) {
    throw new StudioError('usage', `saving on a new best ${request.checkpoints.best.metric} needs a validation split: give it some examples`);
  }
  const parentRef = parent ? { run: parent.run, step: parent.step } : null;
  const writer = await store.createRun(request.run, {
    parent: parentRef,
    config: {
      training: config,
      data: mnist.source,
      dataFingerprint: mnist.fingerprint,
      backend: backend.name,
      checkpoints: request.checkpoints,
      retention: request.retention,
      logEvery: request.logEvery,
      ...(request.changes.length > 0 ? { changes: request.changes } : {}),
    },
  });
  const run = request.run;
  try {
    if (!isPolicyEmpty(request.retention)) await store.setPolicy(run, request.retention);
    const loop = foreignStart
      ? TrainingLoop.startFrom(config, data, foreignStart)
      : loaded
        ? TrainingLoop.restore(config, data, loaded)
        : TrainingLoop.create(config, data);
    foreignStart = null;
    loaded = null;
    try {
      // A backend chosen for the user (a continuation's) says why, rather than "requested explicitly".
      const backendReason = request.backendWhy !== undefined && backend.name === request.backend ? request.backendWhy : backend.reason;
      return await drive(options, { writer, run, loop, config, parent, backendName: backend.name, backendReason, dataFingerprint: mnist.fingerprint });
    } finally {
      loop.dispose();
    }
  } catch (error) {
    // A start that failed before training (nothing saved, nothing logged) leaves nothing
    // behind: the same --run can be tried again.
    await writer.close();
    if (await removeAbandonedRun(writer.dir)) await store.catalog.refreshRun(run);
    throw error;
  } finally {
    await writer.close();
  }
}

interface Context {
  readonly writer: RunWriter;
  readonly run: string;
  readonly loop: TrainingLoop;
  readonly config: TrainingConfig;
  readonly parent: CheckpointInfo | null;
  readonly backendName: string;
  readonly backendReason: string | null;
  readonly dataFingerprint: string;
}

async function drive(options: SessionOptions, ctx: Context): Promise<SessionResult> {
  const { store, control, onEvent } = options;
  const { checkpoints, logEvery, maxSteps } = options.request;
  const { writer, run, loop, config, parent } = ctx;
  const totalSteps = loop.stepsBefore + config.epochs * loop.batchesPerEpoch;
  const sessionStartStep = loop.step;
  const saved: SavedCheckpoint[] = [];
  const errors: Error[] = [];
  let blockedMs = 0;
  const startedAt = performance.now();
  let pausedMs = 0;
  const trainingMs = (): number => performance.now() - startedAt - pausedMs;
  const previousTrainingMs = parent?.trainingTimeMs ?? 0;

  const saver = new BackgroundSaver(
    writer.dir,
    run,
    async (done) => {
      await store.catalog.refreshCheckpoint(run, path.basename(done.dir));
      await writer.appendMetrics({
        kind: 'checkpoint',
        step: done.step,
        reason: done.reason,
        blockedMs: done.blockedMs,
        writeMs: done.writeMs,
        bytes: done.bytes,
        weightsHash: done.weightsHash,
        time: new Date().toISOString(),
      });
      void requestRetention();
    },
    (error) => errors.push(error),
    // The event goes out the moment the checkpoint is on disk, not after the bookkeeping of
    // earlier saves (which runs one at a time), so the dashboard never lags a frequent saver.
    (done) => {
      saved.push(done);
      const share = blockedMs / Math.max(1, trainingMs());
      onEvent({
        type: 'checkpoint',
        id: `${run}/${path.basename(done.dir)}`,
        step: done.step,
        path: done.dir,
        reason: done.reason,
        blockedMs: done.blockedMs,
        writeMs: done.writeMs,
        bytes: done.bytes,
        overheadShare: share,
      });
    },
  );

  // Read once: this session owns the run's policy while it holds the lock.
  const policy = await store.getPolicy(run);

  /**
   * Retention runs one pass at a time, and the saves that land while a pass runs are covered by
   * one more pass after it, not one each: deleting costs a few fsyncs per checkpoint, and a run
   * that saves every step would otherwise pile up checkpoints faster than they go.
   */
  let retentionPass: Promise<void> | null = null;
  let retentionAgain = false;
  let savedSinceRetention = 0;
  function requestRetention(): Promise<void> {
    if (isPolicyEmpty(policy)) return Promise.resolve();
    if (retentionPass) {
      retentionAgain = true;
      return retentionPass;
    }
    retentionPass = (async () => {
      do {
        retentionAgain = false;
        try {
          await applyRetention();
        } catch (error) {
          // A retention pass that cannot run must not stop training: nothing was deleted.
          onEvent({ type: 'warning', message: `retention was not applied at step ${loop.step}: ${(error as Error).message}` });
        }
      } while (retentionAgain);
    })().finally(() => {
      retentionPass = null;
    });
    return retentionPass;
  }

  async function applyRetention(): Promise<void> {
    if (isPolicyEmpty(policy)) return;
    // Like TensorFlow's max_to_keep, but never the best by the metric this session saves on.
    const reasons = new Map<string, string>(parent ? [[parent.id, 'this training continued from it']] : []);
    const best = checkpoints.best ? store.catalog.best(checkpoints.best.metric, checkpoints.best.mode, run) : null;
    if (best && checkpoints.best) reasons.set(best.id, `best ${checkpoints.best.metric} of this training`);
    const keep = new Set(reasons.keys());
    // The catalog is kept current by this session (each save refreshes its checkpoint), so the
    // plan needs no rescan of what may be thousands of checkpoints.
    const plan = await store.planRetention(run, { protectedIds: keep, protectedReasons: reasons, refresh: false });
    if (plan.delete.length > 0)
      await store.applyRetention(plan, { lockToken: writer.lock.token, protectedIds: keep, protectedReasons: reasons, refresh: false });
  }

  let windowLoss = 0;
  let windowAccuracy = 0;
  let windowSteps = 0;
  let lastTrain: { loss: number; accuracy: number } | null = null;
  let lastValidation: { loss: number; accuracy: number; step: number } | null = null;
  let bestValue: number | null = null;
  if (checkpoints.best && parent) {
    const best = store.catalog.best(checkpoints.best.metric, checkpoints.best.mode, parent.run);
    const value = best?.metrics[checkpoints.best.metric];
    if (typeof value === 'number') bestValue = value;
  }
  let lastSaveAt = performance.now();
  let overheadWarned = false;
  let lastSavedStep = -1;

  // Each checkpoint carries the training metrics at its step: the means over the steps since the
  // last logged point (or that point's, when it was just logged).
  const trainNow = (): { loss: number; accuracy: number } | null =>
    windowSteps > 0 ? { loss: windowLoss / windowSteps, accuracy: windowAccuracy / windowSteps } : lastTrain;
  const metricsNow = (): Record<string, number | null> => {
    const train = trainNow();
    return {
      ...(train ? { loss: finite(train.loss), accuracy: finite(train.accuracy) } : {}),
      // Validation metrics belong only to the checkpoint taken where they were measured: carried
      // forward, they would make a later checkpoint look as good as the one that earned them.
      ...(lastValidation && lastValidation.step === loop.step ? { val_loss: finite(lastValidation.loss), val_accuracy: finite(lastValidation.accuracy) } : {}),
    };
  };

  async function save(reason: string): Promise<void> {
    if (loop.step === lastSavedStep) return;
    const before = performance.now();
    // Waiting for room behind a slow disk blocks training too, so it is counted. So does waiting
    // for retention when saves outrun it: the run's folder stays near its policy's size.
    if (savedSinceRetention >= RETENTION_BACKLOG && !isPolicyEmpty(policy)) {
      await saver.drain();
      await requestRetention();
      savedSinceRetention = 0;
    }
    await saver.waitForRoom();
    const snapshot = loop.snapshot(saver.allocate);
    const blocked = performance.now() - before;
    blockedMs += blocked;
    saver.submit(
      {
        ...snapshot,
        trainingTimeMs: previousTrainingMs + trainingMs(),
        metrics: metricsNow(),
        backend: ctx.backendName,
        parent: parent ? { run: parent.run, step: parent.step } : null,
        extra: { config, parameters: loop.parameterCount, dataFingerprint: ctx.dataFingerprint },
      },
      blocked,
      reason,
    );
    lastSavedStep = loop.step;
    savedSinceRetention += 1;
    lastSaveAt = performance.now();
    const share = blockedMs / Math.max(1, trainingMs());
    const warning = overheadWarned ? null : overheadWarning(share, loop.step - sessionStartStep);
    if (warning !== null) {
      // Once per session: the share is also in every checkpoint event and in the summary.
      overheadWarned = true;
      onEvent({ type: 'warning', message: warning });
    }
  }

  try {
    return await trainLoop();
  } finally {
    // The worker keeps the process alive until it is closed, whatever happened.
    await saver.close();
  }

  async function trainLoop(): Promise<SessionResult> {
    onEvent({
      type: 'started',
      run,
      backend: ctx.backendName,
      backendReason: ctx.backendReason,
      parameters: loop.parameterCount,
      batchesPerEpoch: loop.batchesPerEpoch,
      totalSteps,
      step: loop.step,
      resumedFrom: parent ? { run: parent.run, step: parent.step } : null,
    });

    let lastProgressAt = 0;
    let examplesSinceRate = 0;
    let rateStartedAt = performance.now();
    let samplesPerSecond = 0;
    let reason: SessionResult['reason'] = 'completed';
    while (!loop.finished) {
      if (errors.length > 0) throw errors[0];
      if (control.stopRequested) {
        reason = 'stopped';
        break;
      }
      if (maxSteps !== undefined && loop.step - sessionStartStep >= maxSteps) {
        reason = 'max-steps';
        break;
      }
      if (control.paused) {
        const pauseStart = performance.now();
        onEvent({ type: 'paused', step: loop.step });
        while (control.paused && !control.stopRequested) {
          // "Save now" works while paused too: the state is exactly where it stopped.
          if (control.saveRequested) {
            control.saveRequested = false;
            await save('requested');
            continue;
          }
          await new Promise<void>((resolve) => (control.wake = resolve));
        }
        pausedMs += performance.now() - pauseStart;
        rateStartedAt = performance.now();
        examplesSinceRate = 0;
        onEvent({ type: 'resumed', step: loop.step });
        continue;
      }
      const result: StepResult = loop.trainStep();
      windowLoss += result.loss;
      windowAccuracy += result.accuracy;
      windowSteps += 1;
      examplesSinceRate += result.examples;
      const now = performance.now();
      if (samplesPerSecond === 0 && now - rateStartedAt >= 100) samplesPerSecond = examplesSinceRate / ((now - rateStartedAt) / 1000);
      if (now - rateStartedAt >= 1000) {
        samplesPerSecond = examplesSinceRate / ((now - rateStartedAt) / 1000);
        examplesSinceRate = 0;
        rateStartedAt = now;
      }
      if (loop.step % logEvery === 0) {
        lastTrain = { loss: windowLoss / windowSteps, accuracy: windowAccuracy / windowSteps };
        const time = new Date().toISOString();
        await writer.appendMetrics({
          kind: 'train',
          step: loop.step,
          epoch: result.epoch,
          batch: result.batchInEpoch,
          loss: result.loss,
          accuracy: result.accuracy,
          meanLoss: lastTrain.loss,
          meanAccuracy: lastTrain.accuracy,
          samplesPerSecond,
          time,
        });
        onEvent({
          type: 'metric',
          kind: 'train',
          step: loop.step,
          epoch: result.epoch,
          time,
          values: { loss: finite(result.loss), accuracy: finite(result.accuracy), meanLoss: finite(lastTrain.loss), meanAccuracy: finite(lastTrain.accuracy) },
        });
        windowLoss = 0;
        windowAccuracy = 0;
        windowSteps = 0;
      }
      if (now - lastProgressAt >= (options.progressIntervalMs ?? 200)) {
        lastProgressAt = now;
        const remaining = totalSteps - loop.step;
        const stepsPerMs = (loop.step - sessionStartStep) / Math.max(1, trainingMs());
        onEvent({
          type: 'progress',
          step: loop.step,
          epoch: loop.epoch,
          batchInEpoch: loop.batchInEpoch,
          loss: finite(result.loss),
          accuracy: finite(result.accuracy),
          samplesPerSecond,
          etaMs: stepsPerMs > 0 ? remaining / stepsPerMs : null,
          elapsedMs: trainingMs(),
          totalSteps,
        });
      }
      const epochEnded = loop.batchInEpoch === 0;
      // With no validation split there is nothing to measure (and no best to save on).
      if (epochEnded && loop.data.validation.count > 0) {
        const evaluation = loop.evaluate(loop.data.validation);
        lastValidation = { ...evaluation, step: loop.step };
        const time = new Date().toISOString();
        await writer.appendMetrics({ kind: 'validation', step: loop.step, epoch: loop.epoch - 1, loss: evaluation.loss, accuracy: evaluation.accuracy, time });
        onEvent({
          type: 'metric',
          kind: 'validation',
          step: loop.step,
          epoch: loop.epoch - 1,
          time,
          values: { val_loss: finite(evaluation.loss), val_accuracy: finite(evaluation.accuracy) },
        });
        onEvent({ type: 'validation', step: loop.step, epoch: loop.epoch - 1, loss: finite(evaluation.loss), accuracy: finite(evaluation.accuracy) });
        if (checkpoints.best) {
          const value = checkpoints.best.metric === 'val_loss' ? evaluation.loss : evaluation.accuracy;
          const better = bestValue === null || (checkpoints.best.mode === 'min' ? value < bestValue : value > bestValue);
          if (better) {
            bestValue = value;
            await save(`new best ${checkpoints.best.metric}`);
          }
        }
      }
      if (epochEnded && checkpoints.everyEpochs !== undefined && loop.epoch % checkpoints.everyEpochs === 0)
        await save(`every ${checkpoints.everyEpochs} epochs`);
      if (checkpoints.everySteps !== undefined && loop.step % checkpoints.everySteps === 0) await save(`every ${checkpoints.everySteps} steps`);
      if (checkpoints.everySeconds !== undefined && performance.now() - lastSaveAt >= checkpoints.everySeconds * 1000)
        await save(`every ${checkpoints.everySeconds} s`);
      if (control.saveRequested) {
        control.saveRequested = false;
        await save('requested');
      }
      // Lets the writer's completions and the supervisor's commands in between steps.
      await nextTick();
    }
    if (checkpoints.onStop) await save(reason === 'completed' ? 'end of training' : reason === 'stopped' ? 'graceful stop' : 'step limit');
    await saver.drain().catch((error: unknown) => errors.push(error as Error));
    await retentionPass;
    if (errors.length > 0) throw errors[0];
    const overheadShare = blockedMs / Math.max(1, trainingMs());
    const last = saved[saved.length - 1];
    onEvent({
      type: 'finished',
      run,
      step: loop.step,
      epoch: loop.epoch,
      reason,
      overheadShare,
      lastCheckpoint: last ? `${run}/${path.basename(last.dir)}` : null,
    });
    return { run, step: loop.step, reason, saved, overheadShare };
  }
}
