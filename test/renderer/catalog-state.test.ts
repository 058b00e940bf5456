// CatalogState: the snapshot, then catalog events applied in batches; lanes, totals, protections
// and marks derived; a new run seen first through an event gets its lane.
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CatalogState } from '../../renderer/src/state/catalog-state.svelte';
import { FakeStudio, checkpoint, run, settle } from './fakes';

function setup(): { fake: FakeStudio; state: CatalogState; flushes: (() => void)[] } {
  const fake = new FakeStudio()
    .handle('snapshot', () => ({
      workspace: '/ws',
      runs: [run('alpha'), run('beta', { createdAt: '2026-01-02T00:00:00.000Z', parent: { run: 'alpha', step: 2 } })],
      checkpoints: [checkpoint('alpha', 2), checkpoint('alpha', 1), checkpoint('beta', 3)],
      skipped: [],
    }))
    .handle('marks', (params) => (params?.metric ? { 'beta/ckpt-000000003': ['latest', `best ${params.metric}`] } : { 'beta/ckpt-000000003': ['latest'] }))
    .handle('listRuns', () => [run('alpha'), run('beta', { createdAt: '2026-01-02T00:00:00.000Z', parent: { run: 'alpha', step: 2 } })]);
  const flushes: (() => void)[] = [];
  const state = new CatalogState(fake.api, { schedule: (flush) => flushes.push(flush), refreshDelayMs: 10 });
  return { fake, state, flushes };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CatalogState', () => {
  it('judges "best" by the metric and direction the user chose last time, and keeps a new choice', async () => {
    const saved: unknown[] = [];
    let stored: unknown = { metric: 'loss', mode: 'max' };
    const bestStore = { load: async () => stored, save: (value: unknown) => saved.push(value) };
    const fake = setup().fake;
    const state = new CatalogState(fake.api, { schedule: (flush) => flush(), refreshDelayMs: 10, bestStore });
    await state.start();
    expect([state.bestMetric, state.bestMode]).toEqual(['loss', 'max']);
    state.setBest('accuracy', 'max');
    expect(saved).toEqual([{ metric: 'accuracy', mode: 'max' }]);

    // Stored nonsense, or a metric this workspace does not have: the usual default.
    for (stored of [
      { metric: 'loss', mode: 'sideways' },
      { metric: 'perplexity', mode: 'min' },
    ]) {
      const again = new CatalogState(setup().fake.api, { schedule: (flush) => flush(), refreshDelayMs: 10, bestStore });
      await again.start();
      expect([again.bestMetric, again.bestMode]).toEqual(['val_loss', 'min']);
    }
  });

  it('subscribes before it reads, then lays out runs in time order with their checkpoints by step', async () => {
    const { fake, state } = setup();
    expect(state.loading).toBe(true);
    await state.start();
    flushSync();
    expect(fake.listenerCount('catalog:added')).toBe(1);
    expect(fake.calls[0]?.method).toBe('snapshot');
    expect(state.loading).toBe(false);
    expect(state.workspace).toBe('/ws');
    expect(state.lanes.map((l) => [l.run, l.checkpoints.map((c) => c.step)])).toEqual([
      ['alpha', [1, 2]],
      ['beta', [3]],
    ]);
    expect(state.totalBytes).toBe(3000);
    expect(state.lanes[0]?.bytes).toBe(2000);
    expect(state.metricNames).toEqual(['loss', 'val_loss']);
    expect(state.bestMetric).toBe('val_loss');
    expect(state.bestMode).toBe('min');
    await settle();
    expect(fake.callsOf('marks')).toEqual([{ metric: 'val_loss', mode: 'min' }]);
    expect(state.marks).toEqual({ 'beta/ckpt-000000003': ['latest', 'best val_loss'] });
  });

  it('applies added, changed and removed events in one batch, then asks for marks and runs again', async () => {
    const { fake, state, flushes } = setup();
    await state.start();
    fake.emit('catalog:added', checkpoint('alpha', 4));
    fake.emit('catalog:changed', checkpoint('alpha', 1, { status: 'verified' }));
    fake.emit('catalog:removed', { id: 'alpha/ckpt-000000002', run: 'alpha', step: 2 });
    expect(flushes).toHaveLength(1);
    expect(state.checkpoints).toHaveLength(3);
    flushes[0]?.();
    flushSync();
    expect(state.lanes[0]?.checkpoints.map((c) => [c.step, c.status])).toEqual([
      [1, 'verified'],
      [4, 'unverified'],
    ]);
    expect(state.byId.has('alpha/ckpt-000000002')).toBe(false);
    vi.advanceTimersByTime(10);
    await settle();
    expect(fake.callsOf('listRuns')).toHaveLength(1);
    expect(fake.callsOf('marks')).toHaveLength(2);
  });

  it('gives a run first seen through an event a lane of its own', async () => {
    const { fake, state, flushes } = setup();
    await state.start();
    fake.emit('catalog:added', checkpoint('gamma', 9, { createdAt: '2026-02-01T00:00:00.000Z' }));
    flushes[0]?.();
    flushSync();
    expect(state.lanes.map((l) => l.run)).toEqual(['alpha', 'beta', 'gamma']);
    expect(state.runs.find((r) => r.name === 'gamma')?.path).toBe('/ws/gamma');
  });

  it('replaces everything on a reset, and shows why a snapshot failed', async () => {
    const { fake, state } = setup();
    await state.start();
    fake.emit('catalog:reset', {
      workspace: '/other',
      runs: [],
      checkpoints: [checkpoint('solo', 1, { metrics: { accuracy: 0.5 } })],
      skipped: [{ name: 'bad run', reason: 'not a run' }],
    });
    flushSync();
    expect(state.workspace).toBe('/other');
    expect(state.lanes.map((l) => l.run)).toEqual(['solo']);
    expect(state.skipped).toHaveLength(1);
    expect(state.bestMetric).toBe('accuracy');
    expect(state.bestMode).toBe('max');

    fake.handle('snapshot', () => Promise.reject(new Error('no workspace is open\n    at Studio.requireStore')));
    await state.reload();
    expect(state.error).toBe('no workspace is open');
  });

  it('lets the user judge best by another metric and direction', async () => {
    const { fake, state } = setup();
    await state.start();
    state.setBest('loss', 'max');
    await settle();
    expect(fake.callsOf('marks').at(-1)).toEqual({ metric: 'loss', mode: 'max' });
    expect(state.marks['beta/ckpt-000000003']).toEqual(['latest', 'best loss']);
  });

  it("replaces only a changed run's lane: the other runs' lanes, and runs listed the same, stay the same objects", async () => {
    const { fake, state, flushes } = setup();
    await state.start();
    flushSync();
    const [alpha, beta] = state.lanes;
    fake.emit('catalog:added', checkpoint('alpha', 4));
    flushes[0]?.();
    flushSync();
    expect(state.lanes[1]).toBe(beta);
    expect(state.lanes[0]).not.toBe(alpha);
    expect(state.lanes[0]?.checkpoints.map((c) => c.step)).toEqual([1, 2, 4]);
    expect(state.byId.get('alpha/ckpt-000000004')?.step).toBe(4);

    // listRuns answers with new objects that read the same: nothing is replaced.
    const lanes = state.lanes;
    const runs = state.runs;
    vi.advanceTimersByTime(10);
    await settle();
    expect(fake.callsOf('listRuns')).toHaveLength(1);
    expect(state.lanes).toBe(lanes);
    expect(state.runs).toBe(runs);

    // A run listed anew (its size changed) gets a new lane; the other keeps its own.
    fake.handle('listRuns', () => [
      run('alpha', { checkpointCount: 3 }),
      run('beta', { createdAt: '2026-01-02T00:00:00.000Z', parent: { run: 'alpha', step: 2 } }),
    ]);
    await state.refreshRunsAndMarks();
    flushSync();
    expect(state.lanes[0]?.info?.checkpointCount).toBe(3);
    expect(state.lanes[0]?.checkpoints).toBe(lanes[0]?.checkpoints);
    expect(state.lanes[1]).toBe(beta);
  });

  it('drops the lane of an unlisted run whose last checkpoint is removed, and keeps a listed run empty', async () => {
    const { fake, state, flushes } = setup();
    await state.start();
    fake.emit('catalog:added', checkpoint('gamma', 1));
    flushes[0]?.();
    fake.emit('catalog:removed', { id: 'gamma/ckpt-000000001', run: 'gamma', step: 1 });
    fake.emit('catalog:removed', { id: 'beta/ckpt-000000003', run: 'beta', step: 3 });
    flushes[1]?.();
    flushSync();
    // gamma is listed by its stand-in until listRuns answers: its lane stays, empty, as beta's.
    expect(state.lanes.map((l) => [l.run, l.checkpoints.length])).toEqual([
      ['alpha', 2],
      ['gamma', 0],
      ['beta', 0],
    ]);
    vi.advanceTimersByTime(10);
    await settle();
    expect(state.lanes.map((l) => l.run)).toEqual(['alpha', 'beta']);
    expect(state.count).toBe(2);
    expect(state.checkpoints.map((c) => c.id)).toEqual(['alpha/ckpt-000000001', 'alpha/ckpt-000000002']);
  });

  it('stops listening when disposed', async () => {
    const { fake, state } = setup();
    await state.start();
    state.dispose();
    expect(fake.listenerCount('catalog:added')).toBe(0);
    expect(fake.listenerCount('catalog:reset')).toBe(0);
  });
});
