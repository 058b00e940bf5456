// A card's curve of a run too long to be read whole (over WHOLE_POINTS), smoothed by the Studio
// over every point of the run (smoothed-series.svelte.ts) instead of over the overview the page
// holds: an EMA over a thousand buckets' chosen points is not the EMA over a million.
//
// The Studio's answer is the smoothed curve's own M4 points: steps of its own, beside the raw
// overview's. The card's trajectory of such a run is therefore both, merged by step: the raw value
// where the page has one (null at a step only the smoothed answer holds, which the raw line spans),
// and the smoothed value the Studio gave where it gave one. Between the Studio's points the smoothed
// value is read off the line drawn through them (what the eye sees there), and past its last point
// (live points that came after it) the EMA carries on from it over the raw points.
//
// Only a run without a parent: a continued run's curve is smoothed along its parent's too, which
// the Studio does not do; such a run stays smoothed over the overview, labelled so.
import type { MetricKindSeries, MetricSeries, MetricSmoothing } from './contract';
import type { RunRef, Smoother } from './chart-data';
import { keyFor } from './chart-data';
import type { RunSeries, Series, SeriesKind } from './metric-series';
import { OVERVIEW_POINTS, WHOLE_POINTS, seriesOfKind } from './series-answer';
import { smooth } from './smoothing';
import type { SmoothedQuery } from '../state/smoothed-series.svelte';

export type Totals = { readonly train: number; readonly validation: number };

/** The kinds of a run the page holds only an overview of. */
export function longKinds(total: Totals): SeriesKind[] {
  return (['train', 'validation'] as const).filter((kind) => total[kind] > WHOLE_POINTS);
}

/** What a card shows, as its asks for the Studio's smoothing need it. */
export interface CardShown {
  readonly base: string;
  readonly runs: readonly string[];
  readonly refs: ReadonlyMap<string, RunRef>;
  readonly totals: (run: string) => Totals;
  readonly smoothing: MetricSmoothing;
  /** The zoom's step window, at the card's width in buckets; null unzoomed. */
  readonly zoom: { readonly from: number; readonly to: number; readonly points: number } | null;
}

/** The normal form of a smoothing (the unit means nothing in `points` mode): one cache entry per curve. */
function normal(smoothing: MetricSmoothing): MetricSmoothing {
  return smoothing.mode === 'steps' ? smoothing : { ...smoothing, unit: 1 };
}

/** Per run needing the Studio's smoothing: its overview's ask, and its zoom's when zoomed. */
export function exactQueries(shown: CardShown): Map<string, { overview: SmoothedQuery; zoom: SmoothedQuery | null }> {
  const out = new Map<string, { overview: SmoothedQuery; zoom: SmoothedQuery | null }>();
  if (shown.smoothing.weight <= 0) return out;
  const smoothing = normal(shown.smoothing);
  for (const run of shown.runs) {
    if (shown.refs.get(run)?.parent || longKinds(shown.totals(run)).length === 0) continue;
    const overview: SmoothedQuery = { run, metric: shown.base, smoothing, points: OVERVIEW_POINTS };
    const zoom = shown.zoom ? { ...overview, from: shown.zoom.from, to: shown.zoom.to, points: shown.zoom.points } : null;
    out.set(run, { overview, zoom });
  }
  return out;
}

/** A run's series of one kind with the Studio's smoothed points merged in, and the smoothed values along it. */
export interface ExactCurve {
  readonly series: Series;
  readonly smoothed: (number | null)[];
}

function exactPoints(key: string, answers: readonly MetricKindSeries[]): { steps: number[]; times: (number | null)[]; values: (number | null)[] } | null {
  const byStep = new Map<number, { time: number | null; value: number | null }>();
  for (const answer of answers) {
    const series = seriesOfKind(answer);
    const column = series.columns[key];
    if (!column) continue;
    series.steps.forEach((step, i) => byStep.set(step, { time: series.times[i] ?? null, value: column[i] ?? null }));
  }
  if (byStep.size === 0) return null;
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  return { steps, times: steps.map((s) => byStep.get(s)?.time ?? null), values: steps.map((s) => byStep.get(s)?.value ?? null) };
}

/**
 * The raw series of one kind (an overview, with a zoom's finer points and live ones) merged by
 * step with the Studio's smoothed answers of it (the overview's first, a zoom's after), only the
 * card's column kept. Null when the answers hold no such column.
 */
export function exactCurve(raw: Series, key: string, answers: readonly MetricKindSeries[], smoothing: MetricSmoothing): ExactCurve | null {
  const exact = exactPoints(key, answers);
  if (!exact) return null;
  const column = raw.columns[key] ?? [];
  const steps: number[] = [];
  const times: (number | null)[] = [];
  const values: (number | null)[] = [];
  const smoothed: (number | null)[] = [];
  /** Indexes in `steps` of the Studio's points with a value: what the rest is read from. */
  const known: number[] = [];
  let i = 0;
  let j = 0;
  while (i < raw.steps.length || j < exact.steps.length) {
    const r = i < raw.steps.length ? (raw.steps[i] as number) : Infinity;
    const e = j < exact.steps.length ? (exact.steps[j] as number) : Infinity;
    const step = Math.min(r, e);
    steps.push(step);
    values.push(r === step ? (column[i] ?? null) : null);
    times.push(r === step ? (raw.times[i] ?? null) : (exact.times[j] ?? null));
    const value = e === step ? (exact.values[j] ?? null) : undefined;
    smoothed.push(value ?? null);
    if (value !== undefined && value !== null) known.push(steps.length - 1);
    if (r === step) i += 1;
    if (e === step) j += 1;
  }
  fillBetween(steps, values, smoothed, known, exact.steps, smoothing);
  return { series: { steps, times, columns: { [key]: values } }, smoothed };
}

/** The smoothed values at the raw points the Studio gave none for: on the line through its points, or the EMA carried on past them. */
function fillBetween(
  steps: readonly number[],
  values: readonly (number | null)[],
  smoothed: (number | null)[],
  known: readonly number[],
  exactSteps: readonly number[],
  smoothing: MetricSmoothing,
): void {
  const isExact = new Set(exactSteps);
  let k = 0;
  for (let at = 0; at < steps.length; at += 1) {
    while (k < known.length && (known[k] as number) < at) k += 1;
    const step = steps[at] as number;
    const y = values[at] ?? null;
    if (isExact.has(step) || y === null) continue;
    const before = known[k - 1];
    const after = known[k];
    if (before === undefined) continue;
    if (after !== undefined) {
      const s0 = steps[before] as number;
      const v0 = smoothed[before] as number;
      smoothed[at] = v0 + (((smoothed[after] as number) - v0) * (step - s0)) / ((steps[after] as number) - s0);
    }
  }
  // Past the Studio's last point: its EMA carried on (a run this long is past the debiasing, 1 − wⁿ = 1).
  const last = known.at(-1);
  if (last === undefined) return;
  let previous = smoothed[last] as number;
  let previousStep = steps[last] as number;
  for (let at = last + 1; at < steps.length; at += 1) {
    const y = values[at] ?? null;
    if (y === null) continue;
    const step = steps[at] as number;
    const decay = smoothing.mode === 'steps' ? smoothing.weight ** ((step - previousStep) / smoothing.unit) : smoothing.weight;
    previous = decay * previous + (1 - decay) * y;
    previousStep = step;
    smoothed[at] = previous;
  }
}

/** The histories a card draws: a long run's replaced by its series with the Studio's smoothed points merged in. */
export interface ExactHistories {
  readonly histories: ReadonlyMap<string, RunSeries>;
  /** Curves of long runs smoothed over their overview (the Studio's answer not there yet, or a continued run). */
  readonly approximate: number;
}

interface Made {
  readonly base: string;
  readonly answers: readonly MetricSeries[];
  readonly series: RunSeries;
}

/**
 * A card's long runs with the Studio's smoothing, and the Smoother that hands the card those
 * smoothed values (any other curve goes to `fallback`, or is smoothed here). Each made series is
 * kept while its history and answers are the same objects, so the card's trace cache holds.
 */
export class ExactCurves implements Smoother {
  private readonly made = new WeakMap<RunSeries, Made>();
  private readonly smoothedOf = new WeakMap<readonly (number | null)[], { smoothed: (number | null)[]; smoothing: MetricSmoothing }>();
  /**
   * The last answer, handed back while nothing it was made of changed: an answer for another card
   * (or another run) wakes every card, and a card given the same object neither traces nor draws again.
   */
  private last: { from: ReadonlyMap<string, RunSeries>; replaced: Map<string, RunSeries>; result: ExactHistories } | null = null;

  constructor(private readonly fallback?: Smoother) {}

  histories(shown: CardShown, histories: ReadonlyMap<string, RunSeries>, answer: (query: SmoothedQuery) => MetricSeries | undefined): ExactHistories {
    const asks = exactQueries(shown);
    const replaced = new Map<string, RunSeries>();
    let approximate = 0;
    for (const run of shown.runs) {
      const own = histories.get(run);
      if (!own || shown.smoothing.weight <= 0) continue;
      const long = longKinds(shown.totals(run)).filter((kind) => (kind === 'train' ? own.train : own.validation).columns[keyFor(shown.base, kind)]);
      if (long.length === 0) continue;
      const ask = asks.get(run);
      const overview = ask ? answer(ask.overview) : undefined;
      if (!ask || !overview) {
        approximate += long.length;
        continue;
      }
      const zoomed = ask.zoom ? answer(ask.zoom) : undefined;
      const answers = zoomed ? [overview, zoomed] : [overview];
      const series = this.make(shown.base, own, long, answers, ask.overview.smoothing);
      if (series !== own) replaced.set(run, series);
    }
    const last = this.last;
    if (
      last?.from === histories &&
      last.result.approximate === approximate &&
      last.replaced.size === replaced.size &&
      [...replaced].every(([run, series]) => last.replaced.get(run) === series)
    )
      return last.result;
    const out = replaced.size === 0 ? histories : new Map([...histories, ...replaced]);
    this.last = { from: histories, replaced, result: { histories: out, approximate } };
    return this.last.result;
  }

  smooth(own: RunSeries, lineage: readonly (RunSeries | undefined)[], key: string, request: Parameters<Smoother['smooth']>[3]): (number | null)[] | null {
    const hit = this.smoothedOf.get(request.values);
    const { mode, weight, unit } = hit?.smoothing ?? { mode: null, weight: null, unit: null };
    if (
      hit &&
      hit.smoothed.length === request.steps.length &&
      mode === request.mode &&
      weight === request.weight &&
      (mode === 'points' || unit === request.unit)
    )
      return hit.smoothed;
    if (this.fallback) return this.fallback.smooth(own, lineage, key, request);
    return smooth(request.mode, request.steps, request.values, request.weight, request.unit);
  }

  private make(base: string, own: RunSeries, kinds: readonly SeriesKind[], answers: readonly MetricSeries[], smoothing: MetricSmoothing): RunSeries {
    const hit = this.made.get(own);
    if (hit && hit.base === base && hit.answers.length === answers.length && hit.answers.every((a, i) => a === answers[i])) return hit.series;
    let series = own;
    for (const kind of kinds) {
      const key = keyFor(base, kind);
      const curve = exactCurve(
        own[kind],
        key,
        answers.flatMap((a) => a.kinds.filter((k) => k.kind === kind)),
        smoothing,
      );
      if (!curve) continue;
      this.smoothedOf.set(curve.series.columns[key] as readonly (number | null)[], { smoothed: curve.smoothed, smoothing });
      series = { ...series, [kind]: curve.series };
    }
    this.made.set(own, { base, answers, series });
    return series;
  }
}
