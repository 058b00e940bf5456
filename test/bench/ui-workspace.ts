// The workspace the UI benchmark opens: RUNS runs of CHECKPOINTS_PER_RUN real checkpoints (one
// saved by the store, the rest byte copies at their own steps, as a long training leaves them),
// every fifth run continued from a checkpoint of the run before it, and METRIC_RUNS runs with a
// metric history of METRIC_POINTS training points (plus a validation point every 1,000 steps)
// written in the trainer's own metrics.jsonl format.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { METRICS_FILE, checkpointDirName } from '../../electron/core/checkpoint/layout.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';

export interface UiWorkspaceShape {
  readonly runs: number;
  readonly checkpointsPerRun: number;
  readonly metricRuns: number;
  readonly metricPoints: number;
}

export const FULL_SHAPE: UiWorkspaceShape = { runs: 50, checkpointsPerRun: 200, metricRuns: 5, metricPoints: 100_000 };

/** Steps between checkpoints, so that a run's checkpoints span its metric history. */
export function checkpointStride(shape: UiWorkspaceShape): number {
  return Math.max(1, Math.floor(shape.metricPoints / shape.checkpointsPerRun));
}

export function runName(index: number): string {
  return `run-${String(index).padStart(2, '0')}`;
}

function metricLines(points: number, seed: number, start: Date, after: number): string {
  const lines: string[] = [];
  let time = start.getTime();
  for (let step = after + 1; step <= after + points; step += 1) {
    time += 40 + (step % 7);
    // A decaying loss with noise and the odd spike, the shape smoothing and outlier clipping are for.
    const noise = Math.sin(step * 12.9898 + seed) * 0.15;
    const spike = step % 9973 === 0 ? 3 : 0;
    const loss = 2.3 * Math.exp(-(step - after / 2) / (points / 4)) + 0.1 + noise * 0.3 + spike;
    const accuracy = Math.min(1, 1 - loss / 2.5 + noise * 0.05);
    lines.push(JSON.stringify({ kind: 'train', step, epoch: Math.floor(step / 1000), batch: step % 1000, loss, accuracy, time: new Date(time).toISOString() }));
    if (step % 1000 === 0)
      lines.push(
        JSON.stringify({ kind: 'validation', step, epoch: step / 1000 - 1, loss: loss * 1.05, accuracy: accuracy * 0.98, time: new Date(time).toISOString() }),
      );
  }
  return `${lines.join('\n')}\n`;
}

export async function makeUiWorkspace(root: string, shape: UiWorkspaceShape = FULL_SHAPE): Promise<CheckpointStore> {
  const store = await CheckpointStore.open(root, { access: 'create' });
  const stride = checkpointStride(shape);
  const start = new Date(Date.now() - 24 * 3600 * 1000);
  for (let r = 0; r < shape.runs; r += 1) {
    const run = runName(r);
    const parent = r % 5 === 4 ? { run: runName(r - 1), step: stride * Math.floor(shape.checkpointsPerRun / 2) } : null;
    const firstStep = parent ? parent.step + stride : stride;
    const writer = await store.createRun(run, { parent, config: {} });
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
    if (r < shape.metricRuns) writeFileSync(path.join(root, run, METRICS_FILE), metricLines(shape.metricPoints, r, start, parent?.step ?? 0));
  }
  return store;
}
