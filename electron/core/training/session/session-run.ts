// One training session once everything is set up: the loop, step by step, with its controls
// (pause, save now, stop), the metrics it logs, the progress it reports, validation at the end of
// each epoch, and the checkpoint policy's decisions after each step.
import path from 'node:path';
import type { SessionEvent, TrainingConfig } from '../../../contract.js';
import type { ParentCheckpoint } from './foreign-start.js';
import type { TrainingRunWriter } from '../../checkpoint/training-run-writer.js';
import type { StepResult, TrainingLoop } from '../engine/training-loop.js';
import type { TrainRequest } from '../process/train-request.js';
import type { SavedCheckpoint } from './background-saver.js';
import { MetricWindow, Throughput, TrainingClock, finite } from './session-measures.js';
import { SessionSaves } from './session-saves.js';
import { type SessionOptions, isStoredWorkspace } from './session-control.js';
import { storedBestValue } from './stored-session.js';

export type StopReason = 'completed' | 'max-steps' | 'stopped';

export interface SessionResult {
  readonly run: string;
  readonly step: number;
  readonly reason: StopReason;
  readonly saved: readonly SavedCheckpoint[];
  readonly overheadShare: number;
}

/** What set-up hands the run: the run's writer, a loop ready at its first step, and where it came from. */
export interface SessionSetup {
  readonly writer: TrainingRunWriter;
  readonly run: string;
  readonly loop: TrainingLoop;
  readonly config: TrainingConfig;
  readonly parent: ParentCheckpoint | null;
  readonly backendName: string;
  readonly backendReason: string | null;
  readonly dataFingerprint: string;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 200;

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const STOP_SAVE_REASONS: Readonly<Record<StopReason, string>> = { completed: 'end of training', stopped: 'graceful stop', 'max-steps': 'step limit' };

export class SessionRun {
  private readonly throughput = new Throughput();
  private readonly request: TrainRequest;
  private readonly totalSteps: number;
  private readonly sessionStartStep: number;
  private lastProgressAt = 0;

  private constructor(
    private readonly options: SessionOptions,
    private readonly setup: SessionSetup,
    private readonly clock: TrainingClock,
    private readonly metrics: MetricWindow,
    private readonly saves: SessionSaves,
    /** The best value so far of the metric the policy saves on: the parent run's, for a continuation. */
    private bestValue: number | null,
  ) {
    this.request = options.request;
    this.totalSteps = setup.loop.stepsBefore + setup.config.epochs * setup.loop.batchesPerEpoch;
    this.sessionStartStep = setup.loop.step;
  }

  /** Runs the session to its end (completed, step limit or stop) and reports it finished. */
  static async run(options: SessionOptions, setup: SessionSetup): Promise<SessionResult> {
    const { store, request } = options;
    const policy = request.checkpoints;
    let bestValue: number | null = null;
    if (policy.best && setup.parent) {
      const { metric, mode } = policy.best;
      const value = isStoredWorkspace(store)
        ? await storedBestValue(store, setup.parent.run, metric, mode)
        : store.catalog.best(metric, mode, setup.parent.run)?.metrics[metric];
      if (typeof value === 'number') bestValue = value;
    }
    const clock = new TrainingClock();
    const metrics = new MetricWindow();
    const saves = await SessionSaves.open({
      ...setup,
      store,
      checkpoints: policy,
      clock,
      metrics,
      onEvent: options.onEvent,
      ...(options.finalRetryMs === undefined ? {} : { finalRetryMs: options.finalRetryMs }),
    });
    const session = new SessionRun(options, setup, clock, metrics, saves, bestValue);
    try {
      return await session.drive();
    } finally {
      await saves.close();
    }
  }

  private get loop(): TrainingLoop {
    return this.setup.loop;
  }

  private emit(event: SessionEvent): void {
    this.options.onEvent(event);
  }

  private async drive(): Promise<SessionResult> {
    this.announceStart();
    const reason = await this.trainLoop();
    return this.finish(reason);
  }

  private announceStart(): void {
    const { run, parent, backendName, backendReason } = this.setup;
    this.emit({
      type: 'started',
      run,
      backend: backendName,
      backendReason,
      parameters: this.loop.parameterCount,
      batchesPerEpoch: this.loop.batchesPerEpoch,
      totalSteps: this.totalSteps,
      step: this.loop.step,
      resumedFrom: parent ? { run: parent.run, step: parent.step } : null,
    });
  }

  private async trainLoop(): Promise<StopReason> {
    while (!this.loop.finished) {
      this.saves.throwIfFailed();
      const stop = this.stopReason();
      if (stop !== null) return stop;
      if (this.options.control.paused) await this.waitWhilePaused();
      else await this.trainStep();
    }
    return 'completed';
  }

  private stopReason(): StopReason | null {
    if (this.options.control.stopRequested) return 'stopped';
    const { maxSteps } = this.request;
    if (maxSteps !== undefined && this.loop.step - this.sessionStartStep >= maxSteps) return 'max-steps';
    return null;
  }

  private async waitWhilePaused(): Promise<void> {
    const { control } = this.options;
    const pauseStart = performance.now();
    this.emit({ type: 'paused', step: this.loop.step });
    while (control.paused && !control.stopRequested) {
      // "Save now" works while paused too: the state is exactly where it stopped.
      if (control.saveRequested) {
        control.saveRequested = false;
        await this.saves.save('requested');
        continue;
      }
      await new Promise<void>((resolve) => (control.wake = resolve));
    }
    this.clock.addPause(performance.now() - pauseStart);
    this.throughput.restart();
    this.emit({ type: 'resumed', step: this.loop.step });
  }

  private async trainStep(): Promise<void> {
    const result = this.loop.trainStep();
    this.metrics.add(result);
    const now = performance.now();
    this.throughput.add(result.examples, now);
    if (this.loop.step % this.request.logEvery === 0) await this.logTrain(result);
    if (now - this.lastProgressAt >= (this.options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS)) this.reportProgress(result, now);
    const epochEnded = this.loop.batchInEpoch === 0;
    // With no validation split there is nothing to measure (and no best to save on).
    if (epochEnded && this.loop.data.validation.count > 0) await this.validate();
    await this.checkpointDecisions(epochEnded);
    // Lets the writer's completions and the supervisor's commands in between steps.
    await nextTick();
  }

  private async logTrain(result: StepResult): Promise<void> {
    const means = this.metrics.close();
    const time = new Date().toISOString();
    const { step, epoch, batchInEpoch, loss, accuracy } = result;
    const samplesPerSecond = this.throughput.samplesPerSecond;
    await this.setup.writer.appendMetrics({
      kind: 'train',
      step,
      epoch,
      batch: batchInEpoch,
      loss,
      accuracy,
      meanLoss: means.loss,
      meanAccuracy: means.accuracy,
      samplesPerSecond,
      time,
    });
    const values = { loss: finite(loss), accuracy: finite(accuracy), meanLoss: finite(means.loss), meanAccuracy: finite(means.accuracy) };
    this.emit({ type: 'metric', kind: 'train', step, epoch, time, values });
  }

  private reportProgress(result: StepResult, now: number): void {
    this.lastProgressAt = now;
    const loop = this.loop;
    const trainingMs = this.clock.trainingMs();
    const stepsPerMs = (loop.step - this.sessionStartStep) / Math.max(1, trainingMs);
    this.emit({
      type: 'progress',
      step: loop.step,
      epoch: loop.epoch,
      batchInEpoch: loop.batchInEpoch,
      loss: finite(result.loss),
      accuracy: finite(result.accuracy),
      samplesPerSecond: this.throughput.samplesPerSecond,
      etaMs: stepsPerMs > 0 ? (this.totalSteps - loop.step) / stepsPerMs : null,
      elapsedMs: trainingMs,
      totalSteps: this.totalSteps,
    });
  }

  /** At the end of an epoch: measures the validation split, and saves on a new best when asked. */
  private async validate(): Promise<void> {
    const loop = this.loop;
    const evaluation = loop.evaluate(loop.data.validation);
    this.metrics.recordValidation(evaluation, loop.step);
    const time = new Date().toISOString();
    const epoch = loop.epoch - 1;
    const [loss, accuracy] = [finite(evaluation.loss), finite(evaluation.accuracy)];
    await this.setup.writer.appendMetrics({ kind: 'validation', step: loop.step, epoch, loss: evaluation.loss, accuracy: evaluation.accuracy, time });
    this.emit({ type: 'metric', kind: 'validation', step: loop.step, epoch, time, values: { val_loss: loss, val_accuracy: accuracy } });
    this.emit({ type: 'validation', step: loop.step, epoch, loss, accuracy });
    const best = this.request.checkpoints.best;
    if (!best) return;
    const value = best.metric === 'val_loss' ? evaluation.loss : evaluation.accuracy;
    const better = this.bestValue === null || (best.mode === 'min' ? value < this.bestValue : value > this.bestValue);
    if (!better) return;
    this.bestValue = value;
    await this.saves.save(`new best ${best.metric}`);
  }

  /** The policy's saves after a step, then one the user asked for. One step saves at most once. */
  private async checkpointDecisions(epochEnded: boolean): Promise<void> {
    const { everyEpochs, everySteps, everySeconds } = this.request.checkpoints;
    const loop = this.loop;
    if (epochEnded && everyEpochs !== undefined && loop.epoch % everyEpochs === 0) await this.saves.save(`every ${everyEpochs} epochs`);
    if (everySteps !== undefined && loop.step % everySteps === 0) await this.saves.save(`every ${everySteps} steps`);
    if (everySeconds !== undefined && this.saves.msSinceLastSave >= everySeconds * 1000) await this.saves.save(`every ${everySeconds} s`);
    const { control } = this.options;
    if (control.saveRequested) {
      control.saveRequested = false;
      await this.saves.save('requested');
    }
  }

  /** Saves given up while the store could not be reached: said once, at the end, naming the steps. */
  private reportUnsaved(): void {
    const unsaved = [...this.saves.unsaved].sort((a, b) => a.step - b.step);
    if (unsaved.length === 0) return;
    const steps = unsaved.map((u) => u.step).join(', ');
    const saved = this.saves.saved.at(-1);
    this.emit({
      type: 'warning',
      message: `step${unsaved.length === 1 ? '' : 's'} ${steps} ${unsaved.length === 1 ? 'was' : 'were'} not saved to ${this.setup.writer.location}: ${unsaved.at(-1)?.error ?? 'the store could not be reached'}${saved ? `; the last checkpoint saved is step ${saved.step}` : '; no checkpoint of this session was saved'}`,
    });
  }

  private async finish(reason: StopReason): Promise<SessionResult> {
    const { run } = this.setup;
    if (this.request.checkpoints.onStop) await this.saves.save(STOP_SAVE_REASONS[reason]);
    await this.saves.settle();
    this.reportUnsaved();
    const overheadShare = this.saves.overheadShare;
    const last = this.saves.saved.at(-1);
    const lastCheckpoint = last ? `${run}/${path.basename(last.dir)}` : null;
    this.emit({ type: 'finished', run, step: this.loop.step, epoch: this.loop.epoch, reason, overheadShare, lastCheckpoint });
    return { run, step: this.loop.step, reason, saved: this.saves.saved, overheadShare };
  }
}
