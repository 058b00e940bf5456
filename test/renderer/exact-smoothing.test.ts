// A run too long to read whole (over WHOLE_POINTS) is smoothed on a card by the Studio, over every
// point: the card's curve is the Studio's (equal to smoothing the whole run, then bucketing it),
// not an EMA of the overview's points; cards asking the same share one request; a slider drag
// sends a bounded number of them. The Studio here is the Studio's own code over an in-memory table.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricSeriesParamsSchema } from '../../electron/contract.js';
import type { Table } from '../../electron/core/checkpoint/metric-columns.js';
import { smoothableKindSeries } from '../../electron/core/studio/metric-series-smoothing.js';
import { type RunRef, type Trace, buildTraces } from '../../renderer/src/lib/chart-data';
import type { MetricSeries, StudioParams } from '../../renderer/src/lib/contract';
import { type CardShown, ExactCurves, exactQueries } from '../../renderer/src/lib/exact-smoothing';
import { WHOLE_POINTS } from '../../renderer/src/lib/series-answer';
import { emaSmooth } from '../../renderer/src/lib/smoothing';
import { MetricsState } from '../../renderer/src/state/metrics-state.svelte';
import { SETTLE_MS, type SmoothedQuery } from '../../renderer/src/state/smoothed-series.svelte';
import { FakeStudio, settle } from './fakes';

const POINTS = 120_000;
const WEIGHT = 0.9;
const steps = Float64Array.from({ length: POINTS }, (_, i) => i + 1);
const losses = Float64Array.from(steps, (s) => 2 / (1 + s / 20_000) + 0.3 * Math.sin(s * 12.9898) ** 2);
const table: Table = {
  kind: 'train',
  rows: POINTS,
  steps,
  times: Float64Array.from(steps, (s) => Date.UTC(2026, 0, 1) + s * 10),
  columns: new Map([['loss', losses]]),
  stepMin: 1,
  stepMax: POINTS,
  ordered: true,
};

/** metricSeries as the Studio answers it, from its own bucketing and smoothing. */
function studioAnswer(raw: StudioParams<'metricSeries'> | undefined): MetricSeries {
  const params = MetricSeriesParamsSchema.parse(raw);
  const kind = smoothableKindSeries('train', [table], params);
  return { run: params.run, from: kind?.steps[0] ?? null, to: kind?.steps.at(-1) ?? null, kinds: kind ? [kind] : [], source: 'columns', warning: null };
}

const refs: ReadonlyMap<string, RunRef> = new Map([['long', { name: 'long', parent: null }]]);

async function loaded(): Promise<{ fake: FakeStudio; state: MetricsState }> {
  const fake = new FakeStudio().handle('metricSeries', studioAnswer);
  const state = new MetricsState(fake.api);
  state.setShowing('charts', true);
  await state.ensure('long');
  return { fake, state };
}

function shownAt(state: MetricsState, weight: number, zoom: CardShown['zoom'] = null): CardShown {
  return { base: 'loss', runs: ['long'], refs, totals: (run) => state.history(run).total, smoothing: { weight, mode: 'points', unit: 1 }, zoom };
}

/** What a card draws of the run: its train trace, through the Studio's smoothing where it has it. */
function cardTrace(state: MetricsState, curves: ExactCurves, shown: CardShown): { trace: Trace; approximate: number } {
  const { histories, approximate } = curves.histories(shown, new Map([['long', state.history('long').series]]), (q) => state.smoothed.answer(q));
  const options = { xAxis: 'step' as const, smoothing: shown.smoothing.weight, smoothingMode: shown.smoothing.mode, unit: 1 };
  const [trace] = buildTraces('loss', ['long'], refs, histories, options, undefined, curves);
  if (!trace) throw new Error('no trace drawn');
  return { trace, approximate };
}

function askAll(state: MetricsState, shown: CardShown): void {
  for (const ask of exactQueries(shown).values()) {
    state.smoothed.want(ask.overview);
    if (ask.zoom) state.smoothed.want(ask.zoom);
  }
}

const smoothedCalls = (fake: FakeStudio): SmoothedQuery[] =>
  fake.callsOf('metricSeries').filter((p) => (p as { smoothing?: unknown }).smoothing !== undefined) as SmoothedQuery[];

afterEach(() => {
  vi.useRealTimers();
});

describe("a long run's smoothing on a card", () => {
  it("is the Studio's, over every point, not an EMA of the overview", async () => {
    const { fake, state } = await loaded();
    expect(state.history('long').total.train).toBeGreaterThan(WHOLE_POINTS);
    const whole = emaSmooth(losses, WEIGHT);
    const curves = new ExactCurves();
    const shown = shownAt(state, WEIGHT);

    // Before the Studio answers: smoothed over the overview, and said to be.
    const before = cardTrace(state, curves, shown);
    expect(before.approximate).toBe(1);
    const overviewError = Math.max(...before.trace.steps.map((s, i) => Math.abs((before.trace.smoothed[i] as number) - (whole[s - 1] as number))));
    expect(overviewError).toBeGreaterThan(0.01);

    askAll(state, shown);
    await settle();
    expect(smoothedCalls(fake)).toEqual([{ run: 'long', metrics: ['loss'], points: 1000, smoothing: { weight: WEIGHT, mode: 'points', unit: 1 } }]);
    const { trace, approximate } = cardTrace(state, curves, shown);
    expect(approximate).toBe(0);
    // Every point the Studio gave is drawn at its exact smoothed value: the EMA of all 120,000 points there.
    const answer = studioAnswer({ run: 'long', metrics: ['loss'], points: 1000, smoothing: { weight: WEIGHT, mode: 'points', unit: 1 } });
    const studioSteps = answer.kinds[0]?.steps ?? [];
    expect(studioSteps.length).toBeGreaterThan(1000);
    for (const step of studioSteps) {
      const i = trace.steps.indexOf(step);
      expect(i, `step ${step} drawn`).toBeGreaterThanOrEqual(0);
      expect(trace.smoothed[i]).toBeCloseTo(whole[step - 1] as number, 5);
    }
    // The raw line is the overview's, as before (no value made up at the Studio's extra steps).
    const rawSteps = state.history('long').series.train.steps;
    for (const [i, step] of trace.steps.entries()) if (!rawSteps.includes(step)) expect(trace.values[i]).toBeNull();
    // And every smoothed value drawn is within the smoothed curve's own range over its bucket.
    const exactError = Math.max(...studioSteps.map((s) => Math.abs((trace.smoothed[trace.steps.indexOf(s)] as number) - (whole[s - 1] as number))));
    expect(exactError).toBeLessThan(1e-5);
    // Woken by another card's answer, with nothing of its own changed: the same histories, so nothing is traced or drawn again.
    const histories = new Map([['long', state.history('long').series]]);
    const once = curves.histories(shown, histories, (q) => state.smoothed.answer(q));
    expect(curves.histories(shown, histories, (q) => state.smoothed.answer(q))).toBe(once);
  });

  it("asks for a zoom's window at its resolution, and merges it with the overview's exact points", async () => {
    const { fake, state } = await loaded();
    const curves = new ExactCurves();
    const shown = shownAt(state, WEIGHT, { from: 50_000, to: 50_600, points: 700 });
    askAll(state, shown);
    await settle();
    expect(smoothedCalls(fake).map((c) => [c.from, c.to, c.points])).toEqual([
      [undefined, undefined, 1000],
      [50_000, 50_600, 700],
    ]);
    const whole = emaSmooth(losses, WEIGHT);
    const { trace } = cardTrace(state, curves, shown);
    // The window holds fewer points than its resolution: every one of them, each exact.
    for (let step = 50_000; step <= 50_600; step += 1) expect(trace.smoothed[trace.steps.indexOf(step)]).toBeCloseTo(whole[step - 1] as number, 5);
  });

  it('sends one request for two cards at the same weight, the second asking while the first is answered or after', async () => {
    const { fake, state } = await loaded();
    // The Studio takes its time: the second card asks while the first's request is under way.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    fake.handle('metricSeries', async (params) => {
      await gate;
      return studioAnswer(params);
    });
    vi.useFakeTimers();
    const a = new ExactCurves();
    const b = new ExactCurves();
    askAll(state, shownAt(state, WEIGHT));
    await vi.advanceTimersByTimeAsync(SETTLE_MS * 2);
    askAll(state, shownAt(state, WEIGHT));
    await vi.advanceTimersByTimeAsync(SETTLE_MS * 2);
    release();
    await vi.advanceTimersByTimeAsync(SETTLE_MS * 2);
    askAll(state, shownAt(state, WEIGHT));
    await vi.advanceTimersByTimeAsync(SETTLE_MS * 2);
    expect(smoothedCalls(fake)).toHaveLength(1);
    expect(cardTrace(state, a, shownAt(state, WEIGHT)).trace.smoothed).toEqual(cardTrace(state, b, shownAt(state, WEIGHT)).trace.smoothed);
  });

  it('sends a bounded number of requests for a slider drag: its first weight, and its last once it stays', async () => {
    const { fake, state } = await loaded();
    vi.useFakeTimers();
    // A drag across the slider, a new weight every frame for two seconds.
    for (let k = 0; k <= 120; k += 1) {
      askAll(state, shownAt(state, Math.round((0.5 + (0.49 * k) / 120) * 1000) / 1000));
      await vi.advanceTimersByTimeAsync(16);
    }
    expect(smoothedCalls(fake).length).toBeLessThanOrEqual(1);
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    const calls = smoothedCalls(fake);
    expect(calls.map((c) => c.smoothing.weight)).toEqual([0.5, 0.99]);
    await settle();
    expect(cardTrace(state, new ExactCurves(), shownAt(state, 0.99)).approximate).toBe(0);
    // Back to a weight already answered: nothing sent.
    askAll(state, shownAt(state, 0.5));
    await vi.advanceTimersByTimeAsync(SETTLE_MS * 2);
    expect(smoothedCalls(fake)).toHaveLength(2);
  });

  it('leaves runs read whole and continued runs to the page', async () => {
    const { state } = await loaded();
    const short = { ...shownAt(state, WEIGHT), totals: () => ({ train: WHOLE_POINTS, validation: 0 }) };
    expect(exactQueries(short).size).toBe(0);
    const child = { ...shownAt(state, WEIGHT), refs: new Map([['long', { name: 'long', parent: { run: 'root', step: 5 } }]]) };
    expect(exactQueries(child).size).toBe(0);
    expect(exactQueries(shownAt(state, 0)).size).toBe(0);
  });
});
