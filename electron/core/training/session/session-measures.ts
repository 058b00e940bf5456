// What a training session measures as it goes: its training time (paused time excluded), the
// train metrics since the last logged point, and its throughput. Plain state, no I/O.
import type { StepResult } from '../engine/training-loop.js';

/** A diverged loss is NaN or Infinity: events and manifests carry null for it (JSON has no NaN). */
export const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

export interface LossAndAccuracy {
  readonly loss: number;
  readonly accuracy: number;
}

/** Time spent training in this session: wall time since it started, less the time it was paused. */
export class TrainingClock {
  private readonly startedAt = performance.now();
  private pausedMs = 0;

  trainingMs(): number {
    return performance.now() - this.startedAt - this.pausedMs;
  }

  addPause(ms: number): void {
    this.pausedMs += ms;
  }
}

/**
 * The train metrics between logged points, and the last validation. Each checkpoint carries the
 * training metrics at its step: the means over the steps since the last logged point (or that
 * point's, when it was just logged).
 */
export class MetricWindow {
  private loss = 0;
  private accuracy = 0;
  private steps = 0;
  private lastTrain: LossAndAccuracy | null = null;
  private lastValidation: (LossAndAccuracy & { readonly step: number }) | null = null;

  add(result: StepResult): void {
    this.loss += result.loss;
    this.accuracy += result.accuracy;
    this.steps += 1;
  }

  /** The means since the last logged point, which this becomes; the window starts again. */
  close(): LossAndAccuracy {
    const means = { loss: this.loss / this.steps, accuracy: this.accuracy / this.steps };
    this.lastTrain = means;
    this.loss = 0;
    this.accuracy = 0;
    this.steps = 0;
    return means;
  }

  recordValidation(evaluation: LossAndAccuracy, step: number): void {
    this.lastValidation = { loss: evaluation.loss, accuracy: evaluation.accuracy, step };
  }

  /** The metrics a checkpoint taken at `step` carries. */
  metricsAt(step: number): Record<string, number | null> {
    const train = this.steps > 0 ? { loss: this.loss / this.steps, accuracy: this.accuracy / this.steps } : this.lastTrain;
    const validation = this.lastValidation;
    return {
      ...(train ? { loss: finite(train.loss), accuracy: finite(train.accuracy) } : {}),
      // Validation metrics belong only to the checkpoint taken where they were measured: carried
      // forward, they would make a later checkpoint look as good as the one that earned them.
      ...(validation && validation.step === step ? { val_loss: finite(validation.loss), val_accuracy: finite(validation.accuracy) } : {}),
    };
  }
}

/** Examples per second: a first estimate after 100 ms, then one per second of training. */
export class Throughput {
  private examples = 0;
  private since = performance.now();
  private rate = 0;

  get samplesPerSecond(): number {
    return this.rate;
  }

  add(examples: number, now: number): void {
    this.examples += examples;
    if (this.rate === 0 && now - this.since >= 100) this.rate = this.examples / ((now - this.since) / 1000);
    if (now - this.since >= 1000) {
      this.rate = this.examples / ((now - this.since) / 1000);
      this.examples = 0;
      this.since = now;
    }
  }

  /** After a pause: the time paused is no time spent training. */
  restart(): void {
    this.examples = 0;
    this.since = performance.now();
  }
}
