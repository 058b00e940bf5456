// A run's metric history as the charts need it: train and validation points, each a step axis,
// a wall-time column and one value column per metric, ascending and one point per step.
// metrics.jsonl (the history) names validation values `loss`/`accuracy` under kind `validation`;
// live events name them `val_loss`/`val_accuracy`. Both become the latter here. Every other
// numeric field a record carries is a metric too (meanLoss, samplesPerSecond, …), but for the
// counters that locate a point (step, epoch, batch).
import type { MetricRecord, SessionEvent } from './contract.js';

export type SeriesKind = 'train' | 'validation';

export interface Point {
  readonly step: number;
  /** Wall time in epoch milliseconds; null when the record has none. */
  readonly time: number | null;
  readonly values: Readonly<Record<string, number | null>>;
}

export interface Series {
  readonly steps: readonly number[];
  readonly times: readonly (number | null)[];
  readonly columns: Readonly<Record<string, readonly (number | null)[]>>;
}

export interface RunSeries {
  readonly train: Series;
  readonly validation: Series;
}

export const VALIDATION_PREFIX = 'val_';
export const EMPTY_SERIES: Series = { steps: [], times: [], columns: {} };
export const EMPTY_RUN_SERIES: RunSeries = { train: EMPTY_SERIES, validation: EMPTY_SERIES };

/** Fields that say where a point is, not what was measured. */
const COUNTERS = new Set(['step', 'epoch', 'batch', 'batchInEpoch']);

function numberOrNull(value: unknown): number | null | undefined {
  if (value === null) return null;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function timeOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function metricValues(record: Readonly<Record<string, unknown>>, prefix: string): Record<string, number | null> {
  const values: Record<string, number | null> = {};
  for (const [key, raw] of Object.entries(record)) {
    if (COUNTERS.has(key)) continue;
    const value = numberOrNull(raw);
    if (value === undefined) continue;
    values[key.startsWith(prefix) ? key : prefix + key] = value;
  }
  return values;
}

/** One history record as a point of a series; null for records that are not points (checkpoints). */
export function pointFromRecord(record: MetricRecord): { kind: SeriesKind; point: Point } | null {
  const step = record['step'];
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return null;
  const kind = record['kind'];
  const time = timeOf(record['time']);
  if (kind === 'validation') return { kind: 'validation', point: { step, time, values: metricValues(record, VALIDATION_PREFIX) } };
  // Older records may lack a kind: any line with a train loss is a train point.
  if (kind === 'train' || (kind === undefined && 'loss' in record)) return { kind: 'train', point: { step, time, values: metricValues(record, '') } };
  return null;
}

export function pointFromEvent(event: Extract<SessionEvent, { type: 'metric' }>): { kind: SeriesKind; point: Point } {
  const values = metricValues(event.values, event.kind === 'validation' ? VALIDATION_PREFIX : '');
  return { kind: event.kind, point: { step: event.step, time: timeOf(event.time), values } };
}

function keysOf(series: Series, points: readonly Point[]): string[] {
  const keys = new Set(Object.keys(series.columns));
  for (const point of points) for (const key of Object.keys(point.values)) keys.add(key);
  return [...keys];
}

/**
 * The series with the points added. Points after the last step are appended (the live case);
 * anything else (a page of history under live points, a replayed step) is merged by step, a later
 * point replacing an earlier one of the same step.
 */
export function addPoints(series: Series, points: readonly Point[]): Series {
  if (points.length === 0) return series;
  const keys = keysOf(series, points);
  const last = series.steps.length > 0 ? (series.steps[series.steps.length - 1] as number) : -1;
  const ascending = points.every((p, i) => p.step > (i === 0 ? last : (points[i - 1] as Point).step));
  if (ascending) {
    const columns: Record<string, (number | null)[]> = {};
    for (const key of keys) columns[key] = [...(series.columns[key] ?? series.steps.map(() => null)), ...points.map((p) => p.values[key] ?? null)];
    return { steps: [...series.steps, ...points.map((p) => p.step)], times: [...series.times, ...points.map((p) => p.time)], columns };
  }
  const byStep = new Map<number, { time: number | null; values: Record<string, number | null> }>();
  series.steps.forEach((step, i) => {
    const values: Record<string, number | null> = {};
    for (const key of keys) values[key] = series.columns[key]?.[i] ?? null;
    byStep.set(step, { time: series.times[i] ?? null, values });
  });
  for (const point of points) byStep.set(point.step, { time: point.time, values: { ...point.values } });
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const columns: Record<string, (number | null)[]> = {};
  for (const key of keys) columns[key] = steps.map((step) => byStep.get(step)?.values[key] ?? null);
  return { steps, times: steps.map((step) => byStep.get(step)?.time ?? null), columns };
}

/** The series' points from index `from` on. */
export function pointsFrom(series: Series, from: number): Point[] {
  const keys = Object.keys(series.columns);
  const points: Point[] = [];
  for (let i = Math.max(0, from); i < series.steps.length; i += 1) {
    const values: Record<string, number | null> = {};
    for (const key of keys) values[key] = series.columns[key]?.[i] ?? null;
    points.push({ step: series.steps[i] as number, time: series.times[i] ?? null, values });
  }
  return points;
}

export function addToRun(run: RunSeries, kind: SeriesKind, points: readonly Point[]): RunSeries {
  return kind === 'train' ? { ...run, train: addPoints(run.train, points) } : { ...run, validation: addPoints(run.validation, points) };
}

/** The metrics a run has, by card: `val_loss` belongs to the card of `loss`. */
export function metricBases(run: RunSeries): string[] {
  const bases = new Set(Object.keys(run.train.columns));
  for (const key of Object.keys(run.validation.columns)) bases.add(key.startsWith(VALIDATION_PREFIX) ? key.slice(VALIDATION_PREFIX.length) : key);
  return [...bases];
}
