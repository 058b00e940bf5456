// A metricSeries answer as the charts' points (metric-series.ts): validation values take their
// `val_` names, as a live event names them. The answer's points are points of the log (every
// one when the range holds few, else each bucket's first, last, min and max), so they merge by
// step with live points and with a zoom's finer answer.
import type { MetricKindSeries, MetricSeries } from './contract.js';
import { type Point, type RunSeries, type Series, type SeriesKind, VALIDATION_PREFIX, addPoints, pointsFrom } from './metric-series.js';

/** Buckets of a run's overview: about a wide card's width in pixels. */
export const OVERVIEW_POINTS = 1000;
/**
 * A run of at most this many points of a kind is read whole after its overview (the overview is
 * drawn first, the whole run taken in the background): the charts smooth (and export) what they
 * hold, so such a run is smoothed on its full data, as TensorBoard's EMA is defined. A longer run
 * stays an overview, smoothed over the overview's points.
 */
export const WHOLE_POINTS = 100_000;

/** The answer's column names as the charts name them. */
function chartKey(kind: SeriesKind, name: string): string {
  return kind === 'validation' && !name.startsWith(VALIDATION_PREFIX) ? VALIDATION_PREFIX + name : name;
}

export function pointsOfKind(answer: MetricKindSeries): Point[] {
  const names = Object.keys(answer.columns);
  const keys = names.map((name) => chartKey(answer.kind, name));
  const columns = names.map((name) => answer.columns[name] as readonly (number | null)[]);
  return answer.steps.map((step, i) => {
    const values: Record<string, number | null> = {};
    keys.forEach((key, m) => {
      values[key] = (columns[m] as readonly (number | null)[])[i] ?? null;
    });
    return { step, time: answer.times[i] ?? null, values };
  });
}

/** The answer's points of a kind as a series: its own arrays, with no point made one by one. */
export function seriesOfKind(answer: MetricKindSeries): Series {
  const columns: Record<string, readonly (number | null)[]> = {};
  for (const [name, values] of Object.entries(answer.columns)) columns[chartKey(answer.kind, name)] = values;
  return { steps: answer.steps, times: answer.times, columns };
}

/** A run's series with an answer merged in by step (taken whole where the run has none of that kind yet: an overview). */
export function mergeAnswer(run: RunSeries, answer: MetricSeries): RunSeries {
  let merged = run;
  for (const kind of answer.kinds) {
    const own = merged[kind.kind];
    const series = own.steps.length === 0 ? seriesOfKind(kind) : addPoints(own, pointsOfKind(kind));
    merged = kind.kind === 'train' ? { ...merged, train: series } : { ...merged, validation: series };
  }
  return merged;
}

/** Whether an overview leaves out points of a kind short enough to be read whole (WHOLE_POINTS). */
export function wantsWhole(answer: MetricSeries): boolean {
  return answer.kinds.some((k) => !k.exact && k.total <= WHOLE_POINTS);
}

/**
 * A run's series with an answer holding every point of its history in place of what it held (an
 * overview): taken as it is, not merged point by point (a hundred thousand points). Points held
 * past the answer's last step (live ones, arrived meanwhile) stay; kinds the answer did not read
 * whole are merged as any answer.
 */
export function takeWhole(run: RunSeries, answer: MetricSeries): RunSeries {
  let merged = run;
  for (const kind of answer.kinds) {
    if (!kind.exact) {
      merged = mergeAnswer(merged, { ...answer, kinds: [kind] });
      continue;
    }
    const whole = seriesOfKind(kind);
    const own = merged[kind.kind];
    const last = whole.steps.at(-1) ?? -Infinity;
    let after = own.steps.length;
    while (after > 0 && (own.steps[after - 1] as number) > last) after -= 1;
    const series = addPoints(whole, pointsFrom(own, after));
    merged = kind.kind === 'train' ? { ...merged, train: series } : { ...merged, validation: series };
  }
  return merged;
}
