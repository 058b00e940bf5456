// metricSeries through the StudioApi: our run's history by range and resolution, its columns
// built once where the workspace may be written and never in one opened read-only, and answers
// that follow a log still growing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../electron/contract.js';
import { COLUMNS_FILE } from '../../electron/core/checkpoint/metric-columns.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
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
