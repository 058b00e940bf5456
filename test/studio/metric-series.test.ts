// metricSeries through the StudioApi: our run's history by range and resolution, its columns
// built once where the workspace may be written and never in one opened read-only, and answers
// that follow a log still growing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MetricKindSeries, StudioError } from '../../electron/contract.js';
import { COLUMNS_FILE, type Table } from '../../electron/core/checkpoint/metric-columns.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { kindSeries } from '../../electron/core/studio/metric-buckets.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { type SmoothingMode, smooth } from '../../electron/shared/smoothing.js';
import { copyFixture, scratchFolder } from '../in-place/in-place-helpers.js';
import { onCleanup, useTempWorkspaces } from '../store/helpers.js';

const makeWorkspace = useTempWorkspaces();

function line(kind: 'train' | 'validation', step: number): string {
  return `${JSON.stringify({ kind, step, loss: 1 / (step + 1), accuracy: step / 10_000, time: '2026-12-07T08:00:00.000Z' })}\n`;
}

async function workspaceWithLog(points: number): Promise<{ root: string; log: string }> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root, { access: 'create' });
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  await writer.close();
  const log = path.join(store.root, 'alpha', 'metrics.jsonl');
  let text = '';
  for (let step = 0; step < points; step += 1) text += line('train', step) + (step % 100 === 99 ? line('validation', step) : '');
  fs.writeFileSync(log, text);
  return { root: store.root, log };
}

async function open(root: string, readOnly = false): Promise<Studio> {
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root, readOnly });
  return studio;
}

describe('metricSeries', () => {
  it('answers an overview in buckets and a zoom exactly, per kind, building the columns once', async () => {
    const { root } = await workspaceWithLog(20_000);
    const { api } = await open(root);
    const overview = await api.metricSeries({ run: 'alpha', points: 500 });
    expect(overview).toMatchObject({ run: 'alpha', from: 0, to: 19_999, source: 'columns', warning: null });
    const train = overview.kinds.find((k) => k.kind === 'train');
    expect(train).toMatchObject({ total: 20_000, exact: false });
    expect(train?.buckets?.first).toHaveLength(500);
    expect(overview.kinds.find((k) => k.kind === 'validation')).toMatchObject({ total: 200, exact: true });
    expect(fs.existsSync(path.join(root, 'alpha', COLUMNS_FILE))).toBe(true);
    const zoom = await api.metricSeries({ run: 'alpha', from: 1000, to: 1099, points: 500, metrics: ['loss', 'val_loss'] });
    expect(zoom.kinds.map((k) => [k.kind, k.total, k.exact, Object.keys(k.columns)])).toEqual([
      ['train', 100, true, ['loss']],
      ['validation', 1, true, ['loss']],
    ]);
    expect(zoom.kinds[0]?.steps).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
  });

  it('answers every point of a run no longer than `whole`, so the charts smooth it on its full data', async () => {
    const { root } = await workspaceWithLog(20_000);
    const { api } = await open(root);
    const answer = await api.metricSeries({ run: 'alpha', points: 500, whole: 20_000 });
    const train = answer.kinds.find((k) => k.kind === 'train');
    expect(train).toMatchObject({ total: 20_000, exact: true, buckets: null });
    expect(train?.steps).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    // One point more than `whole` holds: buckets again.
    const over = await api.metricSeries({ run: 'alpha', points: 500, whole: 19_999 });
    expect(over.kinds.find((k) => k.kind === 'train')).toMatchObject({ total: 20_000, exact: false });
  });

  it('reads without writing in a workspace opened read-only, and names an unknown run', async () => {
    const { root } = await workspaceWithLog(300);
    const { api } = await open(root, true);
    const answer = await api.metricSeries({ run: 'alpha' });
    expect(answer.source).toBe('log');
    expect(answer.kinds[0]?.steps).toHaveLength(300);
    expect(fs.existsSync(path.join(root, 'alpha', COLUMNS_FILE))).toBe(false);
    const missing = await api.metricSeries({ run: 'nope' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StudioError);
    expect((missing as StudioError).code).toBe('not-found');
  });

  it('follows a log another process appends to', async () => {
    const { root, log } = await workspaceWithLog(1000);
    const { api } = await open(root);
    expect((await api.metricSeries({ run: 'alpha' })).to).toBe(999);
    fs.appendFileSync(log, line('train', 1000) + line('train', 1001));
    const grown = await api.metricSeries({ run: 'alpha', from: 990, points: 100 });
    expect(grown.kinds[0]?.steps.at(-1)).toBe(1001);
    expect(grown.kinds[0]?.total).toBe(12);
  });

  it('serves a TensorBoard run read in place from the records its layout read, writing nothing in its folder', async () => {
    const { root } = scratchFolder();
    if (copyFixture(path.join(root, 'board'), ['tensorboard', 'tf2-summary-scalar'], 0) === null) return;
    const before = fs.readdirSync(path.join(root, 'board')).sort();
    const { api } = await open(root);
    const history = (await api.metricHistory({ run: 'board' })).records;
    const answer = await api.metricSeries({ run: 'board', points: 10 });
    expect(answer).toMatchObject({ run: 'board', source: 'in-place', warning: null });
    const train = answer.kinds.find((k) => k.kind === 'train');
    expect(train?.total).toBe(history.filter((r) => r['kind'] === 'train' || (r['kind'] === undefined && 'loss' in r)).length);
    expect(train?.exact).toBe(false);
    expect(train?.buckets?.first.length).toBeLessThanOrEqual(10);
    // Every point when asked for enough of them, each as the history has it.
    const whole = (await api.metricSeries({ run: 'board', points: 100_000 })).kinds.find((k) => k.kind === 'train');
    expect(whole?.exact).toBe(true);
    expect(whole?.steps).toEqual(history.filter((r) => r['kind'] !== 'validation').map((r) => r['step']));
    expect(fs.readdirSync(path.join(root, 'board')).sort()).toEqual(before);
  });
});

/** A noisy train curve of `points` steps (an EMA over a few chosen points cannot follow it), written as one run's log. */
async function workspaceWithNoisyLog(points: number): Promise<string> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root, { access: 'create' });
  await (await store.createRun('long', { parent: null, config: {} })).close();
  const lines: string[] = [];
  for (let step = 0; step < points; step += 1) {
    const noise = ((step * 7919) % 101) / 100 - 0.5;
    lines.push(JSON.stringify({ kind: 'train', step, loss: 2 / Math.sqrt(step + 1) + noise, accuracy: step % 997 === 0 ? null : step / points }));
  }
  fs.writeFileSync(path.join(store.root, 'long', 'metrics.jsonl'), `${lines.join('\n')}\n`);
  return store.root;
}

/** The train points of a whole answer as a table, each metric smoothed over all of them as the page smooths. */
function smoothedWhole(answer: MetricKindSeries, mode: SmoothingMode, weight: number, unit: number): Table {
  const steps = Float64Array.from(answer.steps);
  const columns = new Map(
    Object.entries(answer.columns).map(
      ([name, values]) => [name, Float64Array.from(smooth(mode, answer.steps, values, weight, unit), (v) => v ?? NaN)] as const,
    ),
  );
  const times = Float64Array.from(answer.times, (t) => t ?? NaN);
  return { kind: 'train', rows: steps.length, steps, times, columns, stepMin: steps[0] as number, stepMax: steps[steps.length - 1] as number, ordered: true };
}

describe('metricSeries with smoothing', () => {
  it('smooths a run of more than 100,000 points over all of them, then buckets: not over the buckets', { timeout: 120_000 }, async () => {
    const points = 120_000;
    const { api } = await open(await workspaceWithNoisyLog(points));
    const whole = (await api.metricSeries({ run: 'long', points: 500, whole: 1_000_000 })).kinds[0] as MetricKindSeries;
    expect(whole).toMatchObject({ kind: 'train', total: points, exact: true });
    for (const [mode, weight, unit] of [
      ['points', 0.95, 1],
      ['steps', 0.6, 120],
    ] as const) {
      const answer = await api.metricSeries({ run: 'long', points: 500, smoothing: { weight, mode, unit } });
      const smoothed = answer.kinds[0] as MetricKindSeries;
      expect(smoothed).toMatchObject({ kind: 'train', total: points, exact: false });
      // Smoothing every point, then bucketing, is what the Studio answers, to the bit.
      expect(smoothed).toEqual(kindSeries('train', [smoothedWhole(whole, mode, weight, unit)], { points: 500 }));
      // The page smoothing the raw overview's points instead gets another curve.
      const overview = (await api.metricSeries({ run: 'long', points: 500 })).kinds[0] as MetricKindSeries;
      const overBuckets = smooth(mode, overview.steps, overview.columns.loss as (number | null)[], weight, unit);
      const lossAt = new Map(smoothed.steps.map((step, i) => [step, smoothed.columns.loss?.[i] ?? null]));
      const gaps = overview.steps.map((step, i) => Math.abs((overBuckets[i] ?? 0) - (lossAt.get(step) ?? overBuckets[i] ?? 0)));
      expect(Math.max(...gaps)).toBeGreaterThan(0.05);
    }
  });

  it("smooths a zoom from the run's first point, not from the zoom's", { timeout: 120_000 }, async () => {
    const { api } = await open(await workspaceWithNoisyLog(3000));
    const whole = (await api.metricSeries({ run: 'long', points: 5000 })).kinds[0] as MetricKindSeries;
    const zoom = (await api.metricSeries({ run: 'long', from: 1950, to: 2049, points: 500, smoothing: { weight: 0.9 } })).kinds[0] as MetricKindSeries;
    expect(zoom).toMatchObject({ total: 100, exact: true });
    const all = smooth('points', whole.steps, whole.columns.loss as (number | null)[], 0.9, 1);
    expect(zoom.columns.loss).toEqual(all.slice(1950, 2050));
    // A missing value (step 1994) stays a gap, and the smoothing goes on across it.
    const accuracy = smooth('points', whole.steps, whole.columns.accuracy as (number | null)[], 0.9, 1);
    expect(zoom.columns.accuracy?.[1994 - 1950]).toBeNull();
    expect(zoom.columns.accuracy).toEqual(accuracy.slice(1950, 2050));
  });
});
