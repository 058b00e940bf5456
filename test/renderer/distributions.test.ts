// The Distributions view's logic without a canvas: the bands' pairs of quantiles, the step under
// the cursor, the stacked histograms' placement and thinning, round ticks; and its state, which
// drops an answer for a choice the user has since changed and follows the computation's progress.
import { describe, expect, it } from 'vitest';
import type { TensorDistributions } from '../../renderer/src/lib/contract';
import {
  MAX_RIDGES,
  bandPairs,
  medianIndex,
  nearestByStep,
  ridgeAt,
  ridgeIndices,
  ridgeLayout,
  stepSpan,
  ticks,
  valueSpan,
} from '../../renderer/src/lib/distribution-geometry';
import { DistributionsState } from '../../renderer/src/state/distributions-state.svelte';
import { FakeStudio } from './fakes';

const LEVELS = [0, 0.07, 0.16, 0.31, 0.5, 0.69, 0.84, 0.93, 1];

function answer(run: string, tensor: string): TensorDistributions {
  return { run, tensor, quantileLevels: LEVELS, range: null, points: [], missing: [], problems: [], bytesRead: 0, cache: 'none', notes: [] };
}

describe('distribution geometry', () => {
  it('pairs the quantiles outermost first around the median', () => {
    expect(bandPairs(LEVELS)).toEqual([
      [0, 8],
      [1, 7],
      [2, 6],
      [3, 5],
    ]);
    expect(medianIndex(LEVELS)).toBe(4);
    expect(medianIndex([0, 1])).toBeNull();
  });

  it('finds the checkpoint nearest the step under the cursor, the earlier on a tie', () => {
    const points = [{ step: 100 }, { step: 200 }, { step: 400 }];
    expect(nearestByStep(points, 0)).toBe(0);
    expect(nearestByStep(points, 149)).toBe(0);
    expect(nearestByStep(points, 150)).toBe(0);
    expect(nearestByStep(points, 151)).toBe(1);
    expect(nearestByStep(points, 310)).toBe(2);
    expect(nearestByStep(points, 9999)).toBe(2);
    expect(nearestByStep([], 5)).toBeNull();
  });

  it('gives a lone checkpoint and a constant tensor room to be drawn', () => {
    expect(stepSpan([{ step: 7 }])).toEqual({ lo: 6, hi: 8 });
    expect(valueSpan([{ quantiles: [2, 2, 2] }])).toEqual({ lo: 1.5, hi: 2.5 });
    expect(valueSpan([{ quantiles: null }])).toEqual({ lo: 0, hi: 1 });
  });

  it('stacks the histograms oldest at the back, and thins many to at most MAX_RIDGES keeping the newest', () => {
    const layout = ridgeLayout(5, 10, 290, 4);
    expect(layout.baselines).toHaveLength(5);
    expect(layout.baselines.at(-1)).toBe(290);
    // The oldest ridge's peak still fits above the top.
    expect((layout.baselines[0] as number) - layout.peak).toBeCloseTo(10, 9);
    expect(ridgeAt(layout.baselines, 289)).toBe(4);
    expect(ridgeAt(layout.baselines, 0)).toBe(0);

    expect(ridgeIndices(5)).toEqual([0, 1, 2, 3, 4]);
    const thinned = ridgeIndices(1000);
    expect(thinned.length).toBeLessThanOrEqual(MAX_RIDGES);
    expect(thinned[0]).toBe(0);
    expect(thinned.at(-1)).toBe(999);
  });

  it('puts ticks at round values inside the span', () => {
    expect(ticks({ lo: 0, hi: 1 }, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks({ lo: -0.37, hi: 0.91 }, 5)).toEqual([-0.25, 0, 0.25, 0.5, 0.75]);
    expect(ticks({ lo: 100, hi: 1200 }, 6)).toEqual([200, 400, 600, 800, 1000, 1200]);
  });
});

describe('distributions state', () => {
  it('lists the tensors of the chosen run and keeps only the answer for the latest choice', async () => {
    const fake = new FakeStudio();
    const pending = new Map<string, (value: TensorDistributions) => void>();
    fake.handle('tensorNames', (p) => ({
      run: p?.run ?? '',
      tensors: [{ name: 'w', dtype: 'F32', shape: [2], role: 'model', checkpoints: 3, numeric: true }],
      problems: [],
    }));
    fake.handle('tensorDistributions', (p) => new Promise((resolve) => pending.set(p?.tensor ?? '', resolve)));
    const state = new DistributionsState(fake.api);
    await state.chooseRun('alpha');
    expect(state.tensors.map((t) => t.name)).toEqual(['w']);

    const slow = state.chooseTensor('w');
    fake.emit('distributions:progress', { run: 'alpha', tensor: 'w', done: 1, total: 6 });
    expect(state.progress).toEqual({ done: 1, total: 6 });
    // Progress of another tensor is not this one's.
    fake.emit('distributions:progress', { run: 'alpha', tensor: 'other', done: 5, total: 6 });
    expect(state.progress).toEqual({ done: 1, total: 6 });

    const fast = state.chooseTensor('v');
    pending.get('v')?.(answer('alpha', 'v'));
    await fast;
    pending.get('w')?.(answer('alpha', 'w'));
    await slow;
    expect(state.tensor).toBe('v');
    expect(state.result?.tensor).toBe('v');
    expect(state.progress).toBeNull();
    state.dispose();
    expect(fake.listenerCount('distributions:progress')).toBe(0);
  });

  it('keeps the figures drawn while the same tensor is read again, and drops them for another tensor', async () => {
    const fake = new FakeStudio();
    const pending: ((value: TensorDistributions) => void)[] = [];
    fake.handle('tensorNames', () => ({ run: 'alpha', tensors: [], problems: [] }));
    fake.handle('tensorDistributions', () => new Promise((resolve) => pending.push(resolve)));
    const state = new DistributionsState(fake.api);
    await state.chooseRun('alpha');
    const first = state.chooseTensor('w');
    pending.shift()?.(answer('alpha', 'w'));
    await first;
    const drawn = state.result;
    expect(drawn?.tensor).toBe('w');

    const again = state.chooseTensor('w');
    expect(state.result).toBe(drawn);
    expect(state.progress).toEqual({ done: 0, total: 0 });
    pending.shift()?.({ ...answer('alpha', 'w'), bytesRead: 5 });
    await again;
    expect(state.result?.bytesRead).toBe(5);

    void state.chooseTensor('v');
    expect(state.result).toBeNull();
  });

  it('cancels the computation under way in the core, by the id it was asked under, and drops its answer', async () => {
    const fake = new FakeStudio();
    const pending: ((value: TensorDistributions) => void)[] = [];
    fake.handle('tensorNames', () => ({ run: 'alpha', tensors: [], problems: [] }));
    fake.handle('tensorDistributions', () => new Promise((resolve) => pending.push(resolve)));
    fake.handle('cancelDistributions', () => ({ cancelled: true }));
    const state = new DistributionsState(fake.api);
    await state.chooseRun('alpha');
    const asked = (): string[] =>
      fake.calls.filter((c) => c.method === 'tensorDistributions').map((c) => (c.params as { distributionsId: string }).distributionsId);
    const cancelledIds = (): string[] =>
      fake.calls.filter((c) => c.method === 'cancelDistributions').map((c) => (c.params as { distributionsId: string }).distributionsId);

    const running = state.chooseTensor('w');
    state.cancel();
    expect(cancelledIds()).toEqual(asked());
    expect(state.progress).toBeNull();
    expect(state.cancelled).toBe(true);
    pending.shift()?.(answer('alpha', 'w'));
    await running;
    expect(state.result).toBeNull();

    // Another choice while one computes cancels that one; its own answer is kept.
    const first = state.chooseTensor('w');
    expect(state.cancelled).toBe(false);
    const second = state.chooseTensor('v');
    expect(cancelledIds()).toEqual(asked().slice(0, 2));
    pending.shift()?.(answer('alpha', 'w'));
    pending.shift()?.(answer('alpha', 'v'));
    await Promise.all([first, second]);
    expect(state.result?.tensor).toBe('v');
    // Nothing under way: cancel does nothing.
    state.cancel();
    expect(cancelledIds()).toHaveLength(2);
    expect(state.cancelled).toBe(false);
  });

  it('shows the error of a run that cannot be read, and forgets everything for another workspace', async () => {
    const fake = new FakeStudio();
    const state = new DistributionsState(fake.api);
    await state.chooseRun('gone');
    expect(state.error).toContain('the fake has no answer for tensorNames');
    state.forget();
    expect(state.run).toBeNull();
    expect(state.error).toBeNull();
  });
});
