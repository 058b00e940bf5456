// Metric histories for the charts: overviews, zoomed windows and live events merged by step,
// validation values named alike from all, only for charts on screen, and the columns a chart draws.
import { describe, expect, it, vi } from 'vitest';
import type { MetricRecord, MetricSeries, SessionEvent } from '../../renderer/src/lib/contract';
import { EMPTY_SERIES, addPoints, metricBases, pointFromEvent, pointFromRecord } from '../../renderer/src/lib/metric-series';
import type { Trace } from '../../renderer/src/lib/chart-data';
import { OVERVIEW_POINTS, WHOLE_POINTS } from '../../renderer/src/lib/series-answer';
import { stepWindow } from '../../renderer/src/lib/zoom-steps';
import { MetricsState } from '../../renderer/src/state/metrics-state.svelte';
import { FakeStudio, settle } from './fakes';

const trainRecord = (step: number): MetricRecord => ({
  kind: 'train',
  step,
  epoch: 0,
  batch: step,
  loss: 2 / step,
  accuracy: step / 100,
  meanLoss: 1,
  samplesPerSecond: 500,
  time: '2026-11-27T08:00:00.000Z',
});
const validationRecord = (step: number): MetricRecord => ({
  kind: 'validation',
  step,
  epoch: 0,
  loss: 3 / step,
  accuracy: step / 200,
  time: '2026-11-27T08:00:00.000Z',
});
const metricEvent = (kind: 'train' | 'validation', step: number): SessionEvent => ({
  type: 'metric',
  kind,
  step,
  epoch: 0,
  values: kind === 'train' ? { loss: 2 / step, accuracy: step / 100, meanLoss: 1 } : { val_loss: 3 / step, val_accuracy: step / 200 },
  time: 't',
});

describe('metric series', () => {
  it('reads history records as points, every numeric field a metric, validation values under their val_ names, and skips the rest', () => {
    const at = Date.parse('2026-11-27T08:00:00.000Z');
    expect(pointFromRecord(trainRecord(10))).toEqual({
      kind: 'train',
      point: { step: 10, time: at, values: { loss: 0.2, accuracy: 0.1, meanLoss: 1, samplesPerSecond: 500 } },
    });
    expect(pointFromRecord(validationRecord(10))).toEqual({ kind: 'validation', point: { step: 10, time: at, values: { val_loss: 0.3, val_accuracy: 0.05 } } });
    expect(pointFromRecord({ kind: 'checkpoint', step: 10, bytes: 5 })).toBeNull();
    expect(pointFromRecord({ kind: 'train', step: -1, loss: 1 })).toBeNull();
    expect(pointFromRecord({ kind: 'train', step: 3, loss: null, time: 'not a time' })).toEqual({
      kind: 'train',
      point: { step: 3, time: null, values: { loss: null } },
    });
    expect(pointFromEvent(metricEvent('validation', 10) as Extract<SessionEvent, { type: 'metric' }>).point.values).toEqual({
      val_loss: 0.3,
      val_accuracy: 0.05,
    });
  });

  it('appends points after the last step, and merges others by step, times kept beside the values', () => {
    let s = addPoints(EMPTY_SERIES, [
      { step: 10, time: 1, values: { loss: 1 } },
      { step: 20, time: 2, values: { loss: 0.5 } },
    ]);
    s = addPoints(s, [{ step: 30, time: 3, values: { loss: 0.25, accuracy: 0.9 } }]);
    expect(s).toEqual({ steps: [10, 20, 30], times: [1, 2, 3], columns: { loss: [1, 0.5, 0.25], accuracy: [null, null, 0.9] } });
    s = addPoints(s, [
      { step: 5, time: 0, values: { loss: 2 } },
      { step: 20, time: 2.5, values: { loss: 0.4 } },
    ]);
    expect(s.steps).toEqual([5, 10, 20, 30]);
    expect(s.times).toEqual([0, 1, 2.5, 3]);
    expect(s.columns['loss']).toEqual([2, 1, 0.4, 0.25]);
  });

  it('names the cards a run needs: a validation metric goes with its train metric', () => {
    const run = {
      train: { steps: [1], times: [null], columns: { loss: [1], meanLoss: [1] } },
      validation: { steps: [1], times: [null], columns: { val_loss: [1], val_top5: [1] } },
    };
    expect(metricBases(run).sort()).toEqual(['loss', 'meanLoss', 'top5']);
  });
});

/** An answer of metricSeries as the Studio gives it: records of the log as columns, by kind. */
function seriesAnswer(run: string, records: readonly MetricRecord[], exact = true): MetricSeries {
  const kinds = (['train', 'validation'] as const).flatMap((kind) => {
    const own = records.filter((r) => r['kind'] === kind);
    if (own.length === 0) return [];
    const names = [...new Set(own.flatMap((r) => Object.keys(r).filter((k) => !['kind', 'step', 'epoch', 'batch', 'time'].includes(k))))];
    return [
      {
        kind,
        total: own.length,
        exact,
        steps: own.map((r) => r['step'] as number),
        times: own.map((r) => (typeof r['time'] === 'string' ? Date.parse(r['time']) : null)),
        columns: Object.fromEntries(names.map((n) => [n, own.map((r) => (typeof r[n] === 'number' ? (r[n] as number) : null))])),
        buckets: null,
      },
    ];
  });
  const steps = records.map((r) => r['step'] as number);
  return { run, from: Math.min(...steps), to: Math.max(...steps), kinds, source: 'columns', warning: null };
}

const started: SessionEvent = {
  type: 'started',
  run: 'r',
  backend: 'cpu',
  backendReason: null,
  parameters: 1,
  batchesPerEpoch: 1,
  totalSteps: 100,
  step: 0,
  resumedFrom: null,
};

describe('MetricsState', () => {
  it("reads a run's overview once, merges the live points of the run in training, and names validation values val_", async () => {
    const fake = new FakeStudio().handle('metricSeries', (params) => seriesAnswer(params?.run ?? '', [trainRecord(10), validationRecord(10), trainRecord(20)]));
    const state = new MetricsState(fake.api);
    state.start();
    state.setShowing('charts', true);
    fake.emit('training:event', started);
    // A live point arrives before the history is read: it is kept, and not doubled.
    fake.emit('training:event', metricEvent('train', 30));
    await state.ensure('r');
    await state.ensure('r');
    expect(fake.callsOf('metricSeries')).toEqual([{ run: 'r', points: OVERVIEW_POINTS }]);
    fake.emit('training:event', metricEvent('validation', 30));
    fake.emit('training:event', metricEvent('train', 30));
    const { series, loading, error, total } = state.history('r');
    expect(loading).toBe(false);
    expect(error).toBeNull();
    expect(total).toEqual({ train: 2, validation: 1 });
    expect(series.train.steps).toEqual([10, 20, 30]);
    expect(series.train.columns['samplesPerSecond']).toEqual([500, 500, null]);
    expect(series.validation.steps).toEqual([10, 30]);
    expect(series.validation.columns['val_loss']).toEqual([0.3, 0.1]);
  });

  it('asks for no history while no chart that wants it is on screen (the Checkpoints tab), and reads it once one is', async () => {
    const fake = new FakeStudio().handle('metricSeries', (params) => seriesAnswer(params?.run ?? '', [trainRecord(1)]));
    const state = new MetricsState(fake.api);
    await state.ensure('a');
    await state.ensure('b', 'training');
    await settle();
    expect(fake.calls).toEqual([]);
    expect(state.history('a').loading).toBe(false);
    state.setShowing('training', true);
    await settle();
    expect(fake.callsOf('metricSeries')).toEqual([{ run: 'b', points: OVERVIEW_POINTS }]);
    state.setShowing('training', false);
    state.setShowing('charts', true);
    await settle();
    await settle();
    expect(fake.callsOf('metricSeries')).toEqual([
      { run: 'b', points: OVERVIEW_POINTS },
      { run: 'a', points: OVERVIEW_POINTS },
    ]);
  });

  it('hands the histories it read to the charts at most 16 at a time, however many piled up meanwhile', async () => {
    const fake = new FakeStudio().handle('metricSeries', (params) => seriesAnswer(params?.run ?? '', [trainRecord(1)]));
    const state = new MetricsState(fake.api);
    const runs = Array.from({ length: 40 }, (_, i) => `r${i}`);
    state.want({}, 'charts', runs);
    state.setShowing('charts', true);
    const read = (): number => runs.filter((run) => state.history(run).series.train.steps.length > 0).length;
    // How many runs have their history at each hand-over (each a new map of runs), seen at the
    // assignment itself: a poll on a loaded machine could miss one and count two as one.
    const handedOver: number[] = [];
    const field = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(state), 'runs') as PropertyDescriptor;
    Object.defineProperty(state, 'runs', {
      configurable: true,
      get: () => field.get?.call(state) as unknown,
      set: (next: unknown) => {
        field.set?.call(state, next);
        handedOver.push(read());
      },
    });
    await vi.waitFor(() => expect(read()).toBe(40), { timeout: 10_000, interval: 2 });
    const each = handedOver.map((n, i) => n - (handedOver[i - 1] ?? 0));
    expect(Math.max(...each)).toBeLessThanOrEqual(16);
    expect(each.reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('reads only what the charts want when their place is shown, not what they wanted before (a kept filter restored meanwhile)', async () => {
    const fake = new FakeStudio().handle('metricSeries', (params) => seriesAnswer(params?.run ?? '', [trainRecord(1)]));
    const state = new MetricsState(fake.api);
    const card = {};
    state.want(card, 'charts', ['a', 'b', 'c']);
    state.want(card, 'charts', ['b']);
    state.setShowing('charts', true);
    await settle();
    expect(fake.callsOf('metricSeries')).toEqual([{ run: 'b', points: OVERVIEW_POINTS }]);
    // Another chart's runs are its own: one chart's change leaves them wanted.
    const other = {};
    state.want(other, 'charts', ['c']);
    state.want(card, 'charts', []);
    await settle();
    expect(fake.callsOf('metricSeries').map((p) => (p as { run: string }).run)).toEqual(['b', 'c']);
  });

  it('does not send queued reads of runs no chart wants any more, and reads them again when one does', async () => {
    const answers: (() => void)[] = [];
    const fake = new FakeStudio().handle(
      'metricSeries',
      (params) => new Promise<MetricSeries>((resolve) => answers.push(() => resolve(seriesAnswer(params?.run ?? '', [trainRecord(1)])))),
    );
    const state = new MetricsState(fake.api);
    const card = {};
    const runs = Array.from({ length: 20 }, (_, i) => `r${i}`);
    state.setShowing('charts', true);
    state.want(card, 'charts', runs);
    await settle();
    // A few in flight at once; the rest wait their turn.
    const first = fake.callsOf('metricSeries').length;
    expect(first).toBeLessThan(runs.length);
    state.want(card, 'charts', runs.slice(0, first));
    for (const answer of answers.splice(0)) answer();
    await settle();
    await settle();
    expect(fake.callsOf('metricSeries')).toHaveLength(first);
    expect(state.history(`r${first}`).loading).toBe(false);
    state.want(card, 'charts', [`r${first}`]);
    await settle();
    expect(fake.callsOf('metricSeries')).toHaveLength(first + 1);
  });

  it('draws the overview of a run short enough to read whole first, and reads it whole after every overview, live points kept', async () => {
    const all = Array.from({ length: 30 }, (_, i) => trainRecord(i + 1));
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const fake = new FakeStudio().handle('metricSeries', async (params) => {
      if (params?.run !== 'mid') return seriesAnswer(params?.run ?? '', [trainRecord(1)]);
      if (params.whole !== undefined) return released.then(() => seriesAnswer('mid', all));
      // An overview: a few of its points, with the run's total.
      const answer = seriesAnswer('mid', [all[0], all[14], all[29]] as MetricRecord[], false);
      return { ...answer, kinds: answer.kinds.map((k) => ({ ...k, total: all.length })) };
    });
    const state = new MetricsState(fake.api);
    state.start();
    state.setShowing('charts', true);
    fake.emit('training:event', { ...started, run: 'mid' });
    state.want({}, 'charts', ['mid', ...Array.from({ length: 12 }, (_, i) => `other${i}`)]);
    await expect.poll(() => state.history('mid').series.train.steps).toEqual([1, 15, 30]);
    // Read whole after every overview was read.
    await expect.poll(() => fake.callsOf('metricSeries')).toHaveLength(14);
    const runs = fake.callsOf('metricSeries').map((p) => p as { run: string; whole?: number });
    expect(runs.filter((p) => p.whole === undefined)).toHaveLength(13);
    expect(runs.at(-1)).toEqual({ run: 'mid', points: OVERVIEW_POINTS, whole: WHOLE_POINTS });
    // A live point arrives before the whole history.
    fake.emit('training:event', metricEvent('train', 31));
    release();
    await expect.poll(() => state.history('mid').series.train.steps.length).toBe(31);
    expect(state.history('mid').series.train.steps.at(-1)).toBe(31);
    expect(state.history('mid').series.train.columns['loss']?.[1]).toBe(1);
  });

  it('reads a zoomed window at its resolution and merges its points by step, but not again, and not for a run read whole', async () => {
    const coarse = seriesAnswer('long', [trainRecord(1), trainRecord(500), trainRecord(1000)], false);
    // Too long to be read whole: it stays an overview, refined by zooms.
    const longOverview = { ...coarse, kinds: coarse.kinds.map((k) => ({ ...k, total: WHOLE_POINTS + 1 })) };
    const fake = new FakeStudio().handle('metricSeries', (params) =>
      params?.from === undefined
        ? params?.run === 'long'
          ? longOverview
          : seriesAnswer(params?.run ?? '', [trainRecord(1), trainRecord(2)])
        : seriesAnswer(params.run, [trainRecord(400), trainRecord(450), trainRecord(500)], false),
    );
    const state = new MetricsState(fake.api);
    state.setShowing('charts', true);
    await Promise.all([state.ensure('long'), state.ensure('short')]);
    await state.refine(['long', 'short', 'unread'], 400, 500, 300);
    expect(fake.callsOf('metricSeries').slice(2)).toEqual([{ run: 'long', from: 400, to: 500, points: 300 }]);
    expect(state.history('long').series.train.steps).toEqual([1, 400, 450, 500, 1000]);
    // Inside what was read, at no finer a resolution: nothing more to read.
    await state.refine(['long'], 420, 480, 100);
    expect(fake.callsOf('metricSeries')).toHaveLength(3);
    await state.refine(['long'], 420, 480, 1000);
    expect(fake.callsOf('metricSeries')).toHaveLength(4);
  });

  it('drops answers to reads made before the workspace changed', async () => {
    let answer: (value: MetricSeries) => void = () => undefined;
    const fake = new FakeStudio().handle('metricSeries', () => new Promise<MetricSeries>((resolve) => (answer = resolve)));
    const state = new MetricsState(fake.api);
    state.setShowing('charts', true);
    const reading = state.ensure('r');
    await settle();
    state.forget();
    answer(seriesAnswer('r', [trainRecord(1)]));
    await reading;
    await settle();
    expect(state.history('r').series.train.steps).toEqual([]);
  });

  it('treats a run not yet on disk as empty, and shows any other failure', async () => {
    const fake = new FakeStudio().handle('metricSeries', (params) =>
      Promise.reject(
        Object.assign(new Error(params?.run === 'new' ? 'new: no such run in /ws' : 'permission denied'), { code: params?.run === 'new' ? 'not-found' : 'io' }),
      ),
    );
    const state = new MetricsState(fake.api);
    state.setShowing('charts', true);
    await state.ensure('new');
    await state.ensure('locked');
    await settle();
    expect(state.history('new').error).toBeNull();
    expect(state.history('locked').error).toBe('permission denied');
    expect(state.history('locked').loading).toBe(false);
    // A failed read is tried again next time.
    await state.ensure('locked');
    expect(fake.callsOf('metricSeries')).toHaveLength(3);
  });
});

describe('the steps a zoom spans', () => {
  const trace = (run: string, xs: number[], steps: number[]): Trace => ({
    run,
    kind: 'train',
    xs,
    steps,
    times: xs.map(() => null),
    relative: xs.map(() => null),
    values: xs.map(() => 1),
    smoothed: xs.map(() => 1),
  });

  it('takes each trace’s steps in the window, and the points just outside it, whatever the x axis', () => {
    // A wall-time axis: x in seconds, two runs logging at different rates.
    const a = trace('a', [10, 20, 30, 40, 50], [100, 200, 300, 400, 500]);
    const b = trace('b', [15, 35, 55], [1000, 1100, 1200]);
    expect(stepWindow([a], [22, 38])).toEqual([200, 400]);
    expect(stepWindow([a, b], [22, 38])).toEqual([200, 1200]);
    expect(stepWindow([a], [60, 70])).toEqual([500, 500]);
    expect(stepWindow([], [0, 1])).toBeNull();
  });
});
