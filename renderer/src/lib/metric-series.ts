// A run's metric history as the charts need it: train and validation points, each a step axis
// and aligned value columns, ascending and one point per step. metrics.jsonl (the history) names
// validation values `loss`/`accuracy` under kind `validation`; live events name them
// `val_loss`/`val_accuracy`. Both become the latter here.
import type { MetricRecord, SessionEvent } from './contract';

export type SeriesKind = 'train' | 'validation';

export interface Point {
  readonly step: number;
  readonly values: Readonly<Record<string, number | null>>;
}

export interface Series {
  readonly steps: readonly number[];
  readonly columns: Readonly<Record<string, readonly (number | null)[]>>;
}

export interface RunSeries {
  readonly train: Series;
  readonly validation: Series;
}

export const TRAIN_KEYS = ['loss', 'accuracy'] as const;
export const VALIDATION_KEYS = ['val_loss', 'val_accuracy'] as const;
export const EMPTY_SERIES: Series = { steps: [], columns: {} };
export const EMPTY_RUN_SERIES: RunSeries = { train: EMPTY_SERIES, validation: EMPTY_SERIES };

function numberOrNull(value: unknown): number | null | undefined {
  if (value === null) return null;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** One history record as a point of a series; null for records that are not points (checkpoints). */
export function pointFromRecord(record: MetricRecord): { kind: SeriesKind; point: Point } | null {
  const step = record['step'];
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return null;
  const kind = record['kind'];
  if (kind === 'validation') {
    const values: Record<string, number | null> = {};
    for (const key of VALIDATION_KEYS) {
      const plain = numberOrNull(record[key.slice(4)]);
      const prefixed = numberOrNull(record[key]);
      const value = prefixed !== undefined ? prefixed : plain;
      if (value !== undefined) values[key] = value;
    }
    return { kind: 'validation', point: { step, values } };
  }
  // Older records may lack a kind: any line with a train loss is a train point.
  if (kind === 'train' || (kind === undefined && 'loss' in record)) {
    const values: Record<string, number | null> = {};
    for (const key of TRAIN_KEYS) {
      const value = numberOrNull(record[key]);
      if (value !== undefined) values[key] = value;
    }
    return { kind: 'train', point: { step, values } };
  }
  return null;
}

export function pointFromEvent(event: Extract<SessionEvent, { type: 'metric' }>): { kind: SeriesKind; point: Point } {
  const keys = event.kind === 'validation' ? VALIDATION_KEYS : TRAIN_KEYS;
  const values: Record<string, number | null> = {};
  for (const key of keys) {
    const value = event.values[key];
    if (value !== undefined) values[key] = value;
  }
  return { kind: event.kind, point: { step: event.step, values } };
}

/**
 * The series with the points added. Points after the last step are appended (the live case);
 * anything else (a page of history under live points, a replayed step) is merged by step, a later
 * point replacing an earlier one of the same step.
 */
export function addPoints(series: Series, points: readonly Point[], keys: readonly string[]): Series {
  if (points.length === 0) return series;
  const last = series.steps.length > 0 ? (series.steps[series.steps.length - 1] as number) : -1;
  const ascending = points.every((p, i) => p.step > (i === 0 ? last : (points[i - 1] as Point).step));
  if (ascending) {
    const columns: Record<string, (number | null)[]> = {};
    for (const key of keys) columns[key] = [...(series.columns[key] ?? series.steps.map(() => null)), ...points.map((p) => p.values[key] ?? null)];
    return { steps: [...series.steps, ...points.map((p) => p.step)], columns };
  }
  const byStep = new Map<number, Record<string, number | null>>();
  series.steps.forEach((step, i) => {
    const values: Record<string, number | null> = {};
    for (const key of keys) values[key] = series.columns[key]?.[i] ?? null;
    byStep.set(step, values);
  });
  for (const point of points) byStep.set(point.step, { ...point.values });
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const columns: Record<string, (number | null)[]> = {};
  for (const key of keys) columns[key] = steps.map((step) => byStep.get(step)?.[key] ?? null);
  return { steps, columns };
}

export function addToRun(run: RunSeries, kind: SeriesKind, points: readonly Point[]): RunSeries {
  return kind === 'train' ? { ...run, train: addPoints(run.train, points, TRAIN_KEYS) } : { ...run, validation: addPoints(run.validation, points, VALIDATION_KEYS) };
}
