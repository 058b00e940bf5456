// The workspace the UI benchmark opens: RUNS runs of CHECKPOINTS_PER_RUN real checkpoints (one
// saved by the store, the rest byte copies at their own steps, as a long training leaves them),
// every fifth run continued from a checkpoint of the run before it. Every run has a metric
// history in the trainer's own format: the first BIG_RUNS of BIG_POINTS training points, the
// others of SMALL_POINTS (plus a validation point every 1,000 steps), written as our trainer
// writes it: metrics.jsonl and, record for record, metrics.columns (checkpoint/metric-columns-log.ts).
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { METRICS_FILE, checkpointDirName } from '../../electron/core/checkpoint/layout.js';
import { MetricColumnsLog } from '../../electron/core/checkpoint/metric-columns-log.js';
import type { MetricsRecord } from '../../electron/core/checkpoint/run-files.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';

export interface UiWorkspaceShape {
  readonly runs: number;
  readonly checkpointsPerRun: number;
  /** The first this many runs have `bigPoints` points, the others `smallPoints`. */
  readonly bigRuns: number;
  readonly bigPoints: number;
  readonly smallPoints: number;
}

/** The scale: 100,000 checkpoints in 1,000 runs, 10 runs of 1,000,000 points and the rest of 1,000. */
export const FULL_SHAPE: UiWorkspaceShape = { runs: 1000, checkpointsPerRun: 100, bigRuns: 10, bigPoints: 1_000_000, smallPoints: 1000 };

export function pointsOf(shape: UiWorkspaceShape, run: number): number {
  return run < shape.bigRuns ? shape.bigPoints : shape.smallPoints;
}

/** Steps between a run's checkpoints, so that they span its metric history. */
export function checkpointStride(shape: UiWorkspaceShape, run: number): number {
  return Math.max(1, Math.floor(pointsOf(shape, run) / shape.checkpointsPerRun));
}

export function runName(index: number): string {
  return `run-${String(index).padStart(4, '0')}`;
}

function metricRecords(step: number, seed: number, points: number, after: number, time: number): MetricsRecord[] {
  // A decaying loss with noise and the odd spike, the shape smoothing and outlier clipping are for.
  const noise = Math.sin(step * 12.9898 + seed) * 0.15;
  const spike = step % 9973 === 0 ? 3 : 0;
  // Float32 values, as a trainer's losses are (they are float32 tensors' values).
  const loss = Math.fround(2.3 * Math.exp(-(step - after / 2) / (points / 4)) + 0.1 + noise * 0.3 + spike);
  const accuracy = Math.fround(Math.min(1, 1 - loss / 2.5 + noise * 0.05));
  const iso = new Date(time).toISOString();
  const train: MetricsRecord = { kind: 'train', step, epoch: Math.floor(step / 1000), batch: step % 1000, loss, accuracy, time: iso };
  if (step % 1000 !== 0) return [train];
  const validation = { kind: 'validation', step, epoch: step / 1000 - 1, loss: Math.fround(loss * 1.05), accuracy: Math.fround(accuracy * 0.98), time: iso };
  return [train, validation];
}

/** Writes metrics.jsonl and metrics.columns together, as the trainer's run writer does. */
async function writeHistory(runDir: string, points: number, seed: number, start: Date, after: number): Promise<void> {
  const columns = await MetricColumnsLog.open(runDir);
  const fd = openSync(path.join(runDir, METRICS_FILE), 'w');
  try {
    let time = start.getTime();
    let chunk: string[] = [];
    for (let step = after + 1; step <= after + points; step += 1) {
      time += 40 + (step % 7);
      for (const record of metricRecords(step, seed, points, after, time)) {
        chunk.push(JSON.stringify(record));
        await columns.append(record);
      }
      if (chunk.length >= 10_000) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    closeSync(fd);
    await columns.close();
  }
}

export async function makeUiWorkspace(root: string, shape: UiWorkspaceShape = FULL_SHAPE, progress?: (run: number) => void): Promise<CheckpointStore> {
  const store = await CheckpointStore.open(root, { access: 'create' });
  const start = new Date(Date.now() - 24 * 3600 * 1000);
  for (let r = 0; r < shape.runs; r += 1) {
    const run = runName(r);
    const stride = checkpointStride(shape, r);
    // A continued run starts from a checkpoint half way along its parent (of the same size).
    const continued = r % 5 === 4 && pointsOf(shape, r - 1) === pointsOf(shape, r);
    const parent = continued ? { run: runName(r - 1), step: stride * Math.floor(shape.checkpointsPerRun / 2) } : null;
    const firstStep = parent ? parent.step + stride : stride;
    const writer = await store.createRun(run, { parent, config: { seed: r, width: 8 * (1 + (r % 4)) } });
    const template = (await writer.save(trainingState(firstStep, { parent }))).dir;
    await writer.close();
    const files = readdirSync(template).map((name) => ({ name, bytes: readFileSync(path.join(template, name)) }));
    const manifest = readFileSync(path.join(template, 'manifest.json'), 'utf8');
    const stepField = `"step": ${firstStep},`;
    if (!manifest.includes(stepField)) throw new Error(`the template manifest ${template} does not spell its step as expected`);
    for (let k = 1; k < shape.checkpointsPerRun; k += 1) {
      const step = firstStep + k * stride;
      const dir = path.join(root, run, checkpointDirName(step));
      mkdirSync(dir);
      for (const { name, bytes } of files)
        writeFileSync(path.join(dir, name), name === 'manifest.json' ? manifest.replace(stepField, `"step": ${step},`) : bytes);
    }
    await writeHistory(path.join(root, run), pointsOf(shape, r), r, start, parent?.step ?? 0);
    progress?.(r);
  }
  return store;
}
