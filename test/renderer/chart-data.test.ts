// What the metric cards draw: downsampling that keeps the envelope, a continued run drawn from
// its parent's branch point, markers on the curve, the x axis modes, the y range without
// outliers, the stored view's validation, and run colours of one family for a branch.
import { describe, expect, it, vi } from 'vitest';
import {
  MarkerCache,
  type RunRef,
  type Trace,
  TraceCache,
  buildTraces,
  placeMarkers,
  relativeTimes,
  runClock,
  trajectory,
  underlaysOf,
} from '../../renderer/src/lib/chart-data';
import { yRange } from '../../renderer/src/lib/y-range';
import { DEFAULT_VIEW, parseView, runMatcher } from '../../renderer/src/lib/chart-view';
import {
  ColumnAligner,
  DecimationCache,
  alignColumns,
  bucketEdges,
  countWithin,
  decimate,
  decimateOnSlots,
  decimateWindow,
  envelope,
  presentIndexes,
} from '../../renderer/src/lib/downsample';
import type { RunSeries, Series } from '../../renderer/src/lib/metric-series';
import { runStatus } from '../../renderer/src/lib/run-status';
import { DrawnMarkerCache } from '../../renderer/src/lib/drawn-markers';
import { type Curve, addSeries, chartShape, formatDuration, growsFrom } from '../../renderer/src/lib/uplot-chart';
import { settingsViewStore } from '../../renderer/src/lib/view-store';
import { ChartViewState } from '../../renderer/src/state/chart-view-state.svelte';

const T0 = Date.parse('2026-11-27T08:00:00Z');

function series(steps: number[], loss: (s: number) => number, time: (s: number) => number = (s) => T0 + s * 1000): Series {
  return { steps, times: steps.map(time), columns: { loss: steps.map(loss) } };
}
const run = (train: Series, validation: Series = { steps: [], times: [], columns: {} }): RunSeries => ({ train, validation });
const range = (from: number, to: number, every = 1): number[] => Array.from({ length: Math.floor((to - from) / every) + 1 }, (_, i) => from + i * every);
const options = { xAxis: 'step' as const, smoothing: 0, smoothingMode: 'points' as const, unit: 1 };

describe('downsampling', () => {
  it("keeps each bucket's min and max in order, and few points exactly", () => {
    const xs = range(0, 99_999);
    const ys = xs.map((x) => Math.sin(x / 300) + (x === 51_234 ? 50 : 0) + (x === 70_001 ? -50 : 0));
    const edges = bucketEdges(0, 99_999, null, 500);
    expect(edges).toHaveLength(501);
    const out = decimate({ xs, ys }, edges);
    expect(out.xs.length).toBeLessThanOrEqual(1000);
    // The envelope is kept: the spike and the dip survive.
    expect(Math.max(...out.ys)).toBe(Math.max(...ys));
    expect(Math.min(...out.ys)).toBe(Math.min(...ys));
    for (let i = 1; i < out.xs.length; i += 1) expect(out.xs[i]).toBeGreaterThan(out.xs[i - 1] as number);
    const sparse = decimate({ xs: [0, 500, 99_999], ys: [1, null, 3] }, edges);
    expect(sparse).toEqual({ xs: [0, 99_999], ys: [1, 3] });
  });

  it('hands back a column whose every point is kept as its own arrays, not a copy held beside it', () => {
    const column = { xs: range(0, 99), ys: range(0, 99).map((x) => x * 2) };
    const out = decimate(column, bucketEdges(0, 99, null, 500));
    expect(out.xs).toBe(column.xs);
    expect(out.ys).toBe(column.ys);
    const gap = { xs: [0, 1, 2], ys: [1, null, 3] };
    expect(decimate(gap, bucketEdges(0, 2, null, 500))).toEqual({ xs: [0, 2], ys: [1, 3] });
  });

  it('is finer inside a zoom window and coarse outside it', () => {
    const edges = bucketEdges(0, 1000, [100, 200], 10);
    const inside = edges.filter((e) => e >= 100 && e <= 200);
    expect(inside).toHaveLength(11);
    expect(edges[0]).toBe(0);
    expect(edges.at(-1)).toBe(1000);
    for (let i = 1; i < edges.length; i += 1) expect(edges[i]).toBeGreaterThan(edges[i - 1] as number);
  });

  it('downsamples a zoom window from its own points, finer, keeping the whole-extent points outside it', () => {
    const xs = range(0, 9999);
    const column = { xs, ys: xs.map((x) => Math.sin(x / 7) + (x === 5003 ? 9 : 0)) };
    const whole = decimate(column, bucketEdges(0, 9999, null, 100));
    const zoomed = decimateWindow(column, whole, [5000, 5100], 100);
    const inside = zoomed.xs.filter((x) => x >= 5000 && x <= 5100);
    // 101 points in 100 buckets: every point of the window, exactly.
    expect(inside).toEqual(range(5000, 5100));
    expect(zoomed.ys[zoomed.xs.indexOf(5003)]).toBe(column.ys[5003]);
    expect(zoomed.xs.filter((x) => x < 5000)).toEqual(whole.xs.filter((x) => x < 5000));
    expect(zoomed.xs.filter((x) => x > 5100)).toEqual(whole.xs.filter((x) => x > 5100));
    for (let i = 1; i < zoomed.xs.length; i += 1) expect(zoomed.xs[i]).toBeGreaterThan(zoomed.xs[i - 1] as number);
  });

  it('aligns curves on one x column with gaps where a curve has no point', () => {
    expect(
      alignColumns([
        { xs: [1, 3], ys: [10, 30] },
        { xs: [2, 3], ys: [20, 31] },
      ]),
    ).toEqual([
      [1, 2, 3],
      [10, null, 30],
      [null, 20, 31],
    ]);
  });

  it('keeps the columns of curves already aligned when runs arrive, and aligns anew when the x column must change', () => {
    const aligner = new ColumnAligner();
    const a = { xs: [1, 2, 3], ys: [10, 20, 30] };
    const b = { xs: [2, 4], ys: [21, 41] };
    const first = aligner.align([a, b]);
    expect(first).toEqual(alignColumns([a, b]));
    // A run arriving whose points fall on places the column has: the others' columns are the same arrays.
    const c = { xs: [1, 4], ys: [12, 42] };
    const second = aligner.align([a, c, b]);
    expect(second).toEqual(alignColumns([a, c, b]));
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
    expect(second[3]).toBe(first[2]);
    // One with a new x: everything aligned anew, on the new column.
    const d = { xs: [2.5], ys: [25] };
    expect(aligner.align([a, c, b, d])).toEqual(alignColumns([a, c, b, d]));
    // A run gone: its places leave the column.
    expect(aligner.align([a, d])).toEqual(alignColumns([a, d]));
    expect(aligner.align([a, d])[0]).toEqual([1, 2, 2.5, 3]);
  });

  it('places the points of a long run’s overview on its buckets’ slots, so a thousand curves share a short x column', () => {
    // Ten overviews of 1,000 points each over a million steps, at places of their own, on 500 buckets.
    const edges = bucketEdges(1, 1_000_000, null, 500);
    const overviews = Array.from({ length: 10 }, (_, k) => {
      const xs = [1, ...Array.from({ length: 998 }, (_, i) => 1 + Math.round((i + 1) * 1000 + ((k * 37 + i * 13) % 900))), 1_000_000];
      return { xs, ys: xs.map((x) => Math.sin(x / 1e5 + k)) };
    });
    const exact = alignColumns(overviews.map((c) => decimate(c, edges)));
    const onSlots = alignColumns(overviews.map((c) => decimateOnSlots(c, edges)));
    expect(exact[0].length).toBeGreaterThan(5_000);
    // Two slots a bucket, and the points of each curve’s first and last buckets.
    expect(onSlots[0].length).toBeLessThanOrEqual(2 * 500 + 4 * overviews.length);
    for (const c of overviews) {
      const out = decimateOnSlots(c, edges);
      // Each value is kept, each within its own bucket (a pixel), in order; the ends exactly.
      expect(out.ys).toEqual(c.ys);
      out.xs.forEach((x, i) => {
        const bucket = Math.min(499, Math.floor(((c.xs[i] as number) - 1) / ((1_000_000 - 1) / 500)));
        expect(x).toBeGreaterThanOrEqual(edges[bucket] as number);
        expect(x).toBeLessThanOrEqual(edges[bucket + 1] as number);
        if (i > 0) expect(x).toBeGreaterThan(out.xs[i - 1] as number);
      });
      expect([out.xs[0], out.xs.at(-1)]).toEqual([1, 1_000_000]);
      // A band of the raw values is drawn on the same places.
      expect(envelope(c, edges, true).hi.xs).toEqual(out.xs);
    }
  });

  it("finds a column's points without walking its empty places", () => {
    const at = presentIndexes([null, 1, null, null, 2, 3, null]);
    expect([...at]).toEqual([1, 4, 5]);
    expect(presentIndexes([null, 1])).not.toBe(at);
    expect(countWithin(at, 0, 6)).toBe(3);
    expect(countWithin(at, 2, 4)).toBe(1);
    expect(countWithin(at, 6, 9)).toBe(0);
  });

  // Bounded output. Its speed is measured by npm run bench:ui; a quadratic slip would take minutes
  // here and fail by the test's timeout.
  it('downsamples 5 runs of 100,000 points (raw and smoothed) to a few thousand x values', { timeout: 30_000 }, () => {
    const xs = range(0, 99_999);
    const columns = Array.from({ length: 10 }, (_, k) => ({ xs, ys: xs.map((x) => Math.sin(x / (100 + k)) + Math.random() * 0.1) }));
    const aligned = alignColumns(columns.map((c) => decimate(c, bucketEdges(0, 99_999, [20_000, 30_000], 1200))));
    expect(aligned[0].length).toBeLessThan(10_000);
  });
});

describe('a continued run', () => {
  const refs = new Map<string, RunRef>([
    ['parent', { name: 'parent', parent: null }],
    ['child', { name: 'child', parent: { run: 'parent', step: 100 } }],
  ]);
  // The child re-logged steps 90..100 (before its branch): they must not be drawn.
  const histories = new Map<string, RunSeries>([
    ['parent', run(series(range(10, 200, 10), (s) => 1000 / s))],
    [
      'child',
      run(
        series(
          range(90, 300, 10),
          (s) => 2000 / s,
          (s) => T0 + 500_000 + s * 1000,
        ),
      ),
    ],
  ]);

  it("is drawn from the parent's point at the branch step onward, never back over the parent", () => {
    const path = trajectory('child', 'train', 'loss', refs, histories);
    const drawn = path.steps.slice(path.start);
    expect(drawn[0]).toBe(100);
    expect(path.values[path.start]).toBe(10); // the parent's value at step 100
    expect(drawn.slice(1).every((s) => s > 100)).toBe(true);
    expect(drawn).toEqual(range(100, 300, 10));
    const [parent, child] = buildTraces('loss', ['parent', 'child'], refs, histories, options);
    expect(parent?.steps).toEqual(range(10, 200, 10));
    expect(child?.steps[0]).toBe(100);
    expect(child?.values[1]).toBe(2000 / 110);
  });

  it("carries the parent's smoothing on, so there is no jump at the branch", () => {
    const smoothed = buildTraces('loss', ['parent', 'child'], refs, histories, { ...options, smoothing: 0.9 });
    const parentAt100 = smoothed[0]?.smoothed[smoothed[0].steps.indexOf(100)];
    expect(smoothed[1]?.smoothed[0]).toBe(parentAt100);
  });

  it("continues the parent's relative time, the wait between them counted as a pause", () => {
    const [parent, child] = buildTraces('loss', ['parent', 'child'], refs, histories, { ...options, xAxis: 'relative' });
    const parentAt100 = parent?.xs[parent.steps.indexOf(100)] as number;
    expect(child?.xs[0]).toBe(parentAt100);
    // 500 s of waiting is not training time: the next point is one usual interval (10 s) on.
    expect(child?.xs[1]).toBeCloseTo(parentAt100 + 10, 6);
  });

  it('leaves the branch point out on the wall-time axis, where it would span the wait as a line', () => {
    const [, child] = buildTraces('loss', ['parent', 'child'], refs, histories, { ...options, xAxis: 'wall' });
    expect(child?.steps[0]).toBe(110);
    expect(child?.xs[0]).toBe((T0 + 500_000 + 110_000) / 1000);
  });

  it("reuses a run's trace while its history and its parent's are the same, and builds it anew when either changes", () => {
    const cache = new TraceCache();
    const first = buildTraces('loss', ['parent', 'child'], refs, histories, options, cache);
    const again = buildTraces('loss', ['parent', 'child'], refs, histories, options, cache);
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    const parentChanged = new Map(histories).set('parent', run(series(range(10, 200, 10), (s) => 500 / s)));
    const after = buildTraces('loss', ['parent', 'child'], refs, parentChanged, options, cache);
    expect(after[0]).not.toBe(first[0]);
    expect(after[1]).not.toBe(first[1]);
    expect(after[1]?.values[0]).toBe(5);
    expect(buildTraces('loss', ['parent', 'child'], refs, histories, { ...options, smoothing: 0.5 }, cache)[0]).not.toBe(first[0]);
  });

  it('draws nothing for a child with no points of its own yet', () => {
    const early = new Map(histories).set('child', run({ steps: [], times: [], columns: {} }));
    expect(buildTraces('loss', ['child'], refs, early, options)).toEqual([]);
  });
});

describe('x axis modes', () => {
  const refs = new Map<string, RunRef>([['a', { name: 'a', parent: null }]]);
  const times = (s: number): number => T0 + s * 2000 + (s > 50 ? 3_600_000 : 0); // paused an hour after step 50
  const histories = new Map([['a', run(series(range(0, 100, 10), (s) => s + 1, times))]]);

  it('places points by step, by wall time (seconds), or by relative time without the pause', () => {
    expect(buildTraces('loss', ['a'], refs, histories, options)[0]?.xs).toEqual(range(0, 100, 10));
    expect(buildTraces('loss', ['a'], refs, histories, { ...options, xAxis: 'wall' })[0]?.xs).toEqual(range(0, 100, 10).map((s) => times(s) / 1000));
    expect(buildTraces('loss', ['a'], refs, histories, { ...options, xAxis: 'relative' })[0]?.xs).toEqual(range(0, 100, 10).map((s) => s * 2));
  });

  it("holds each column once when every point is kept: the step axis's xs are its steps, no relative times off that axis", () => {
    const [trace] = buildTraces('loss', ['a'], refs, histories, options);
    expect(trace?.xs).toBe(trace?.steps);
    // A run without a parent draws its history's own columns, not copies.
    const own = histories.get('a')?.train;
    expect(trace?.steps).toBe(own?.steps);
    expect(trace?.values).toBe(own?.columns['loss']);
    expect(trace?.relative).toHaveLength(0);
    expect(trace?.relative[3] ?? null).toBeNull();
    // A point without a time is left off the wall-time axis: the columns are then the kept points'.
    const gap = new Map([
      [
        'a',
        run({ steps: [0, 10, 20], times: [T0, Number.NaN, T0 + 20_000].map((t) => (Number.isNaN(t) ? null : t)) as number[], columns: { loss: [1, 2, 3] } }),
      ],
    ]);
    const wall = buildTraces('loss', ['a'], refs, gap, { ...options, xAxis: 'wall' })[0];
    expect(wall?.steps).toEqual([0, 20]);
    expect(wall?.values).toEqual([1, 3]);
    expect(wall?.smoothed).toEqual([1, 3]);
  });

  it("puts validation on the run's clock, not on one of its own", () => {
    const validation = { steps: [50, 100], times: [50, 100].map(times), columns: { val_loss: [1, 2] } };
    const traces = buildTraces(
      'loss',
      ['a'],
      refs,
      new Map([
        [
          'a',
          run(
            series(range(0, 100, 10), (s) => s + 1, times),
            validation,
          ),
        ],
      ]),
      { ...options, xAxis: 'relative' },
    );
    expect(traces[1]?.xs).toEqual([100, 200]);
    expect(traces[0]?.xs[traces[0].steps.indexOf(100)]).toBe(200);
    expect(runClock([2000, null], [0, 1000])).toEqual([2, null]);
  });

  it('counts a gap as a pause only when far longer than usual and than a few seconds', () => {
    expect(relativeTimes([0, 1000, 2000, 3000])).toEqual([0, 1, 2, 3]);
    expect(relativeTimes([0, 1000, 2000, 4500])).toEqual([0, 1, 2, 4.5]);
    expect(relativeTimes([0, 1000, 2000, 60_000, 61_000])).toEqual([0, 1, 2, 3, 4]);
    expect(relativeTimes([0, null, 1000])).toEqual([0, null, 1]);
  });
});

describe('checkpoint markers', () => {
  const refs = new Map<string, RunRef>([
    ['a', { name: 'a', parent: null }],
    ['b', { name: 'b', parent: null }],
  ]);
  const histories = new Map([
    [
      'a',
      run(
        series(range(0, 100, 10), (s) => 100 - s),
        series([50, 100], (s) => 200 - s),
      ),
    ],
    ['b', run({ steps: [], times: [], columns: {} }, { steps: [10], times: [T0], columns: { val_loss: [7] } })],
  ]);
  const mark = (run: string, step: number) => ({ id: `${run}/ckpt-${step}`, run, step, latest: false, best: false, warning: false });

  it("sits on the run's curve at its step, between points when it falls between them", () => {
    const traces = buildTraces('loss', ['a', 'b'], refs, histories, options);
    const markers = placeMarkers(traces, [mark('a', 40), mark('a', 45), mark('b', 10), mark('c', 10)]);
    expect(markers.map((m) => [m.id, m.x, m.y])).toEqual([
      ['a/ckpt-40', 40, 60],
      ['a/ckpt-45', 45, 55],
      // b has only a validation curve on this card: its marker sits there.
      ['b/ckpt-10', 10, 7],
    ]);
  });

  it('follows the smoothed curve and the axis mode', () => {
    const traces = buildTraces('loss', ['a'], refs, histories, { ...options, smoothing: 0.8, xAxis: 'wall' });
    const [m] = placeMarkers(traces, [mark('a', 50)]);
    expect(m?.x).toBe((T0 + 50_000) / 1000);
    expect(m?.y).toBe(traces[0]?.smoothed[5]);
    expect(m?.y).not.toBe(50);
  });
});

describe('checkpoint markers kept per trace (MarkerCache)', () => {
  const refs = new Map<string, RunRef>([
    ['a', { name: 'a', parent: null }],
    ['b', { name: 'b', parent: null }],
  ]);
  const mark = (run: string, step: number) => ({ id: `${run}/ckpt-${step}`, run, step, latest: false, best: false, warning: false });
  const marks = [mark('a', 40), mark('a', 50), mark('b', 20), mark('c', 10)];

  it('places the markers placeMarkers places, and again only for the runs whose trace is new', () => {
    const cache = new MarkerCache();
    const traceCache = new TraceCache();
    const a = run(series(range(0, 100, 10), (s) => 100 - s));
    const histories = new Map([
      ['a', a],
      ['b', run(series(range(0, 50, 10), (s) => s))],
    ]);
    const traces = buildTraces('loss', ['a', 'b'], refs, histories, options, traceCache);
    const first = cache.place(traces, marks);
    expect(first).toEqual(placeMarkers(traces, marks));
    // Another run's history arrives (b's anew): a's markers are the ones placed before.
    const next = new Map([...histories, ['b', run(series(range(0, 60, 10), (s) => s))]]);
    const again = cache.place(buildTraces('loss', ['a', 'b'], refs, next, options, traceCache), marks);
    expect(again.map((m) => m.id)).toEqual(['a/ckpt-40', 'a/ckpt-50', 'b/ckpt-20']);
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    expect(again[2]).not.toBe(first[2]);
    // New checkpoints of a run: its markers are placed again.
    const more = [mark('a', 40), mark('a', 50), mark('a', 60), mark('b', 20)];
    expect(cache.place(buildTraces('loss', ['a', 'b'], refs, next, options, traceCache), more).map((m) => m.id)).toEqual([
      'a/ckpt-40',
      'a/ckpt-50',
      'a/ckpt-60',
      'b/ckpt-20',
    ]);
  });

  it('keeps a run’s placed markers when the catalog’s list is made anew but that run’s checkpoints read the same', () => {
    const cache = new MarkerCache();
    const histories = new Map([
      ['a', run(series(range(0, 100, 10), (s) => 100 - s))],
      ['b', run(series(range(0, 50, 10), (s) => s))],
    ]);
    const traces = buildTraces('loss', ['a', 'b'], refs, histories, options, new TraceCache());
    const first = cache.place(traces, marks);
    // A checkpoint renamed into b: the list and every mark object are new, a's read the same.
    const fresh = [...marks.map((m) => ({ ...m })), mark('b', 30)];
    const again = cache.place(traces, fresh);
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    expect(again.map((m) => m.id)).toEqual(['a/ckpt-40', 'a/ckpt-50', 'b/ckpt-20', 'b/ckpt-30']);
    // a's checkpoint becoming the best is a change of a's marks: placed again.
    const best = fresh.map((m) => (m.id === 'a/ckpt-50' ? { ...m, best: true } : m));
    expect(cache.place(traces, best)[1]).toMatchObject({ id: 'a/ckpt-50', best: true });
  });
});

describe('what a trace draws under its smoothed curve', () => {
  const trace = (values: number[], smoothed: number[]): Trace => ({
    run: 'a',
    kind: 'validation',
    xs: values.map((_, i) => i),
    steps: values.map((_, i) => i),
    times: values.map(() => null),
    relative: [],
    values,
    smoothed,
  });

  it('is the raw line while smoothing changes the values, nothing under a lone point smoothing left as it was', () => {
    expect(underlaysOf(trace([1, 2], [1, 1.5]), false, true, false)).toEqual(['line']);
    expect(underlaysOf(trace([3], [3]), false, true, false)).toEqual([]);
    expect(underlaysOf(trace([3], [2]), false, true, false)).toEqual(['line']);
    expect(underlaysOf(trace([1, 2], [1, 2]), false, false, false)).toEqual([]);
    expect(underlaysOf(trace([3], [3]), false, true, true)).toEqual(['hi', 'lo']);
    expect(underlaysOf(trace([3], [3]), true, true, false)).toEqual(['hi', 'lo', 'line']);
  });
});

describe('markers as drawn, kept per run (DrawnMarkerCache)', () => {
  const refs = new Map<string, RunRef>([
    ['a', { name: 'a', parent: null }],
    ['b', { name: 'b', parent: null }],
  ]);
  const mark = (run: string, step: number) => ({ id: `${run}/ckpt-${step}`, run, step, latest: false, best: false, warning: false });
  const histories = new Map([
    ['a', run(series(range(0, 100, 10), (s) => 100 - s))],
    ['b', run(series(range(0, 50, 10), (s) => s))],
  ]);
  const traces = buildTraces('loss', ['a', 'b'], refs, histories, options, new TraceCache());
  const colors: Record<string, string> = { a: '#a00', b: '#0b0' };

  it('draws every run’s markers in its colour, and makes again only the runs whose selected or keyboard’s marker or colour changed', () => {
    const markers = new MarkerCache();
    const groups = markers.groups(traces, [mark('a', 40), mark('a', 50), mark('b', 20), mark('b', 30)]);
    expect(groups.flat()).toEqual(markers.place(traces, [mark('a', 40), mark('a', 50), mark('b', 20), mark('b', 30)]));
    const cache = new DrawnMarkerCache();
    const firstGroups = cache.draw(groups, (r) => colors[r] as string, null, null);
    // One array per run, as the chart reads them: not a flat copy of every marker per batch.
    expect(firstGroups.length).toBe(2);
    const first = firstGroups.flat();
    expect(first.map((m) => [m.x, m.color, m.selected])).toEqual([
      [40, '#a00', false],
      [50, '#a00', false],
      [20, '#0b0', false],
      [30, '#0b0', false],
    ]);
    // b's checkpoint selected: a's markers are the ones made before.
    const selectedGroups = cache.draw(groups, (r) => colors[r] as string, 'b/ckpt-30', null);
    expect(selectedGroups[0]).toBe(firstGroups[0]);
    const selected = selectedGroups.flat();
    expect(selected[0]).toBe(first[0]);
    expect(selected[1]).toBe(first[1]);
    expect(selected[3]).toMatchObject({ selected: true, active: false });
    expect(selected[2]).not.toBe(first[2]);
    // The keyboard on a's first: a's made again, b's kept.
    const active = cache.draw(groups, (r) => colors[r] as string, 'b/ckpt-30', 'a/ckpt-40').flat();
    expect(active[0]).toMatchObject({ active: true, selected: false });
    expect(active[3]).toBe(selected[3]);
    // b's colour changed: b's made again.
    const recolored = cache.draw(groups, (r) => (r === 'b' ? '#00c' : (colors[r] as string)), 'b/ckpt-30', 'a/ckpt-40').flat();
    expect(recolored[1]).toBe(active[1]);
    expect(recolored[2]).toMatchObject({ color: '#00c' });
  });
});

describe('downsamplings kept by the values they came from (DecimationCache)', () => {
  it('downsamples a curve again only when its values, its xs or the buckets changed', () => {
    const cache = new DecimationCache();
    const xs = range(0, 999);
    const ys = xs.map((x) => Math.sin(x));
    let made = 0;
    const make = (values: readonly (number | null)[], edges: number[]) => () => {
      made += 1;
      const column = { xs, ys: values };
      return { column, decimated: decimate(column, edges) };
    };
    const edges = bucketEdges(0, 999, null, 100);
    const first = cache.get(xs, ys, '0|999|100', make(ys, edges));
    expect(cache.get(xs, ys, '0|999|100', make(ys, edges))).toBe(first);
    expect(made).toBe(1);
    expect(first.decimated).toEqual(decimate({ xs, ys }, edges));
    cache.get(xs, ys, '0|999|200', make(ys, bucketEdges(0, 999, null, 200)));
    cache.get(xs, [...ys], '0|999|200', make(ys, edges));
    expect(made).toBe(3);
  });
});

describe("a card's curves as runs arrive", () => {
  const curve = (label: string, stroke = '#111'): Curve => ({ label, stroke, width: 1.5, points: false, role: 'smoothed' });

  it('keeps the chart while curves are added, and adds only the new ones where they go', () => {
    const before = [curve('a train'), curve('c train')];
    const after = [curve('a train'), curve('b train'), curve('c train'), curve('d train')];
    const spec = { data: [[]] as [number[]], markers: [], xAxis: 'step' as const, logY: false, ignoreOutliers: false, height: 240 };
    expect(chartShape({ ...spec, curves: after })).toBe(chartShape({ ...spec, curves: before }));
    expect(growsFrom(before, after)).toBe(true);
    // uPlot's series list as addSeries leaves it (index 0 is x).
    const labels = ['x', ...before.map((c) => c.label)];
    addSeries({ addSeries: (s, at) => void labels.splice(at ?? labels.length, 0, String(s.label)) }, before, after);
    expect(labels).toEqual(['x', 'a train', 'b train', 'c train', 'd train']);
    // A curve gone, one whose colour changed, curves in another order, a band added: a new chart.
    expect(growsFrom(after, [curve('a train'), curve('c train')])).toBe(false);
    expect(growsFrom(before, [curve('a train', '#222'), curve('c train')])).toBe(false);
    expect(growsFrom(before, [curve('c train'), curve('a train')])).toBe(false);
    expect(growsFrom(before, [{ ...curve('a raw max'), band: 'hi' }, { ...curve('a raw min'), band: 'lo' }, ...before])).toBe(false);
  });
});

describe('the y range', () => {
  it('ignores raw outliers; shows everything when asked', () => {
    const raw = [Array.from({ length: 200 }, (_, i) => (i === 100 ? 1000 : 1 + (i % 5) * 0.1))];
    const smoothed = [Array.from({ length: 200 }, () => 1.2)];
    const [lo, hi] = yRange(raw, smoothed, 0, 199, true, false) ?? [0, 0];
    expect(hi).toBeLessThan(2);
    expect(lo).toBeGreaterThan(0.9);
    expect(yRange(raw, smoothed, 0, 199, false, false)?.[1]).toBeGreaterThan(1000);
    const [llo, lhi] = yRange([[0.001, 0.01, 0.1, 0]], [[0.01]], 0, 3, false, true) ?? [0, 0];
    expect(llo).toBeGreaterThan(0);
    expect(llo).toBeLessThan(0.001);
    expect(lhi).toBeGreaterThan(0.1);
  });
});

describe('the stored view', () => {
  it('takes what is valid field by field and defaults the rest', () => {
    expect(parseView(null)).toEqual(DEFAULT_VIEW);
    expect(parseView('garbage')).toEqual(DEFAULT_VIEW);
    expect(parseView({ smoothing: 0.3, xAxis: 'relative', logY: 'yes', hiddenRuns: ['a', 3], filter: 'x' })).toEqual({
      ...DEFAULT_VIEW,
      smoothing: 0.3,
      xAxis: 'relative',
      filter: 'x',
    });
    expect(parseView({ smoothing: 5 }).smoothing).toBe(0.6);
  });

  it('is saved on every change (coalesced) and read back by the next state', async () => {
    vi.useFakeTimers();
    try {
      let settings: { recentWorkspaces: string[]; view: Record<string, unknown> } = { recentWorkspaces: [], view: { charts: { smoothing: 'bad' } } };
      const writes: unknown[] = [];
      const api = {
        settings: async () => settings,
        updateSettings: async (params?: { view?: Record<string, unknown> }) => {
          writes.push(params);
          settings = { ...settings, view: { ...settings.view, ...params?.view } };
          return settings;
        },
      } as unknown as Parameters<typeof settingsViewStore>[0];
      const first = new ChartViewState(settingsViewStore(api, 'charts'));
      await first.restore();
      expect(first.view.smoothing).toBe(0.6);
      first.setSmoothing(0.8);
      first.setSmoothing(0.85);
      first.setVisible('a', false);
      first.setXAxis('wall');
      await vi.runAllTimersAsync();
      expect(writes).toHaveLength(1);
      const second = new ChartViewState(settingsViewStore(api, 'charts'));
      await second.restore();
      expect(second.view).toMatchObject({ smoothing: 0.85, hiddenRuns: ['a'], xAxis: 'wall' });
      expect(second.hidden.has('a')).toBe(true);

      // A change made before the stored view arrives is the user's: it is kept.
      const third = new ChartViewState(settingsViewStore(api, 'charts'));
      third.setSmoothing(0.1);
      await third.restore();
      expect(third.view.smoothing).toBe(0.1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives the defaults when the settings cannot be read', async () => {
    const api = {
      settings: async () => Promise.reject(new Error('gone')),
      updateSettings: async () => Promise.reject(new Error('gone')),
    } as unknown as Parameters<typeof settingsViewStore>[0];
    const state = new ChartViewState(settingsViewStore(api, 'charts', 0));
    await state.restore();
    expect(state.view).toEqual(DEFAULT_VIEW);
    state.setLogY(true);
    expect(state.view.logY).toBe(true);
  });

  it('filters runs by regular expression, or by text when the filter is not one', () => {
    expect(runMatcher('^mnist-.*cnn$').test('mnist-big-cnn')).toBe(true);
    expect(runMatcher('^mnist-.*cnn$').test('cnn-mnist')).toBe(false);
    const plain = runMatcher('run[');
    expect(plain.invalid).toBe(true);
    expect(plain.test('my-RUN[2]')).toBe(true);
  });
});

describe('what the screen says', () => {
  it('writes relative time on its axis compactly', () => {
    expect([0, 45, 60, 754, 3600, 5400, 90_000].map(formatDuration)).toEqual(['0s', '45s', '1m', '12m34s', '1h', '1h30m', '1d1h']);
  });

  it('says a run is running, paused or crashed from the trainer, and running when another process writes it', () => {
    const info = (writer: boolean) => ({
      name: 'a',
      path: '/ws/a',
      createdAt: null,
      layout: 'studio' as const,
      label: null,
      latest: null,
      notes: [],
      parent: null,
      checkpointCount: 1,
      bytes: 1,
      writer: writer ? { pid: 1, host: 'h', since: 't' } : null,
    });
    const status = (state: 'running' | 'paused' | 'crashed' | 'exited', run = 'a') => ({ state, run, lastExit: null });
    expect(runStatus('a', info(false), status('running'))).toBe('running');
    expect(runStatus('a', info(false), status('paused'))).toBe('paused');
    expect(runStatus('a', info(false), status('crashed'))).toBe('crashed');
    expect(runStatus('a', info(false), status('exited'))).toBe('finished');
    expect(runStatus('a', info(false), status('running', 'b'))).toBe('finished');
    expect(runStatus('a', info(true), status('running', 'b'))).toBe('running');
  });
});
