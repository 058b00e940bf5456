// How far a run is, from what any writer leaves on disk: its metrics.jsonl records (step, epoch,
// speed, wall time, checkpoints) and run.json's plan. The app's trainer reports the same figures
// as events; a run written by the command line or another program has only its files, and the
// progress strip must read the same for both.
import path from 'node:path';
import type { MetricRecord, RunMeta, RunProgress } from '../../contract.js';
import { isMissing, openRegular } from '../base/regular-file.js';
import { METRICS_FILE } from '../checkpoint/layout.js';

/** Steps kept per run to measure speed over. */
const WINDOW = 20;
/** How much of a log's end is read to find where a run is: many records, and no need for all. */
const TAIL_BYTES = 256 * 1024;

export interface RunPlan {
  readonly steps: number | null;
  readonly epochs: number | null;
}

interface TrainPoint {
  readonly step: number;
  readonly time: number | null;
}

interface Tracked {
  plan: RunPlan;
  recent: TrainPoint[];
  epoch: number | null;
  samplesPerSecond: number | null;
  loss: number | null;
  lastRecordAt: string | null;
  lastCheckpoint: RunProgress['lastCheckpoint'];
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** run.json's plan: `plan.steps`/`plan.epochs` as our trainer writes them, else the training config's epochs. */
export function planOf(meta: RunMeta | null): RunPlan {
  const config = meta?.config as Record<string, unknown> | undefined;
  const plan = config?.['plan'] as Record<string, unknown> | undefined;
  const training = config?.['training'] as Record<string, unknown> | undefined;
  const steps = plan?.['steps'];
  const epochs = plan?.['epochs'] ?? training?.['epochs'];
  return { steps: isCount(steps) ? steps : null, epochs: isCount(epochs) ? epochs : null };
}

/** Per run, the last records seen and what they say; fed with records as they are appended. */
export class RunProgressTracker {
  private readonly runs = new Map<string, Tracked>();

  has(run: string): boolean {
    return this.runs.has(run);
  }

  forget(): void {
    this.runs.clear();
  }

  setPlan(run: string, plan: RunPlan): void {
    this.tracked(run).plan = plan;
  }

  /** Adds appended records; returns the run's progress when they held a train step or a save (else null: nothing to report). */
  add(run: string, records: readonly MetricRecord[]): RunProgress | null {
    const tracked = this.tracked(run);
    let moved = false;
    for (const record of records) {
      const time = typeof record['time'] === 'string' ? record['time'] : null;
      if (time !== null) tracked.lastRecordAt = time;
      const step = record['step'];
      if (!isCount(step)) continue;
      if (record['kind'] === 'checkpoint') {
        // A record read twice (in a log's end and in an append after it) changes nothing.
        if (tracked.lastCheckpoint !== null && step < tracked.lastCheckpoint.step) continue;
        tracked.lastCheckpoint = { step, time };
        // A save after the last step (the one on stop) is news of its own.
        moved = tracked.recent.length > 0;
        continue;
      }
      if (record['kind'] !== 'train' && !(record['kind'] === undefined && 'loss' in record)) continue;
      if (step <= (tracked.recent.at(-1)?.step ?? -1)) continue;
      const ms = time !== null ? Date.parse(time) : NaN;
      tracked.recent.push({ step, time: Number.isFinite(ms) ? ms : null });
      if (tracked.recent.length > WINDOW) tracked.recent.shift();
      const epoch = record['epoch'];
      tracked.epoch = isCount(epoch) ? epoch : tracked.epoch;
      const speed = record['samplesPerSecond'];
      tracked.samplesPerSecond = isFiniteNumber(speed) ? speed : tracked.samplesPerSecond;
      const loss = record['loss'];
      tracked.loss = isFiniteNumber(loss) ? loss : null;
      moved = true;
    }
    return moved ? this.progress(run) : null;
  }

  /** The run's progress from what was added; null before its first train step. */
  progress(run: string): RunProgress | null {
    const tracked = this.runs.get(run);
    const last = tracked?.recent.at(-1);
    if (!tracked || !last) return null;
    const stepsPerSecond = speedOf(tracked.recent);
    const { steps: plannedSteps, epochs: plannedEpochs } = tracked.plan;
    const left = plannedSteps !== null ? Math.max(0, plannedSteps - last.step) : null;
    return {
      run,
      step: last.step,
      epoch: tracked.epoch,
      plannedSteps,
      plannedEpochs,
      samplesPerSecond: tracked.samplesPerSecond,
      loss: tracked.loss,
      stepsPerSecond,
      etaMs: left !== null && stepsPerSecond !== null && stepsPerSecond > 0 ? (left / stepsPerSecond) * 1000 : left === 0 ? 0 : null,
      lastRecordAt: tracked.lastRecordAt,
      lastCheckpoint: tracked.lastCheckpoint,
    };
  }

  private tracked(run: string): Tracked {
    let tracked = this.runs.get(run);
    if (!tracked) {
      tracked = { plan: { steps: null, epochs: null }, recent: [], epoch: null, samplesPerSecond: null, loss: null, lastRecordAt: null, lastCheckpoint: null };
      this.runs.set(run, tracked);
    }
    return tracked;
  }
}

/** Steps per second between the first and last timed points of the window. */
function speedOf(points: readonly TrainPoint[]): number | null {
  const timed = points.filter((p): p is { step: number; time: number } => p.time !== null);
  const first = timed[0];
  const last = timed.at(-1);
  if (!first || !last || last.time <= first.time || last.step <= first.step) return null;
  return ((last.step - first.step) / (last.time - first.time)) * 1000;
}

/**
 * The whole lines of the last TAIL_BYTES of a run's log: enough records to say where it is, read
 * in one go however long the log (the first line of the piece may be cut and is skipped).
 */
export async function readLogTail(runDir: string): Promise<MetricRecord[]> {
  let opened;
  try {
    opened = await openRegular(path.join(runDir, METRICS_FILE));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const { handle, stats } = opened;
  try {
    const start = Math.max(0, stats.size - TAIL_BYTES);
    const buffer = Buffer.alloc(stats.size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const lines = text.split('\n');
    // The last piece has no newline yet (being written); the first may be the end of a line cut by the start.
    lines.pop();
    if (start > 0) lines.shift();
    const records: MetricRecord[] = [];
    for (const line of lines) {
      try {
        const value: unknown = JSON.parse(line);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push(value as MetricRecord);
      } catch {
        // A torn line is skipped, as everywhere else.
      }
    }
    return records;
  } finally {
    await handle.close();
  }
}
