// A metricSeries answer as the charts' points (metric-series.ts): validation values take their
// `val_` names, as a live event names them. The answer's points are points of the log (every
// one when the range holds few, else each bucket's first, last, min and max), so they merge by
// step with live points and with a zoom's finer answer.
import type { MetricKindSeries, MetricSeries } from './contract.js';
import { type Point, type SeriesKind, VALIDATION_PREFIX } from './metric-series.js';

/** Buckets of a run's overview: about a wide card's width in pixels. */
export const OVERVIEW_POINTS = 1000;

export function pointsOfKind(answer: MetricKindSeries): Point[] {
  const names = Object.keys(answer.columns);
  const keys = names.map((name) => (answer.kind === 'validation' && !name.startsWith(VALIDATION_PREFIX) ? VALIDATION_PREFIX + name : name));
  const columns = names.map((name) => answer.columns[name] as readonly (number | null)[]);
  return answer.steps.map((step, i) => {
    const values: Record<string, number | null> = {};
    keys.forEach((key, m) => {
      values[key] = (columns[m] as readonly (number | null)[])[i] ?? null;
    });
    return { step, time: answer.times[i] ?? null, values };
  });
}

export interface AnswerPoints {
  readonly train: Point[];
  readonly validation: Point[];
  /** Every point of the range is among them (nothing was bucketed). */
  readonly exact: boolean;
}

export function pointsOfAnswer(answer: MetricSeries): AnswerPoints {
  const byKind: Record<SeriesKind, Point[]> = { train: [], validation: [] };
  for (const kind of answer.kinds) byKind[kind.kind] = pointsOfKind(kind);
  return { ...byKind, exact: answer.kinds.every((k) => k.exact) };
}
