// metricSeries' `smoothing`: a run's kind smoothed over every point it holds, from its first, with
// the page's own smoothing (electron/shared/smoothing.ts), and only then bucketed. A run too long
// to send whole would otherwise be smoothed by the page over its buckets' points, which shifts the
// curve (an EMA over 1,000 chosen points is not the EMA over a million).
import type { MetricKindSeries, MetricSmoothing } from '../../contract.js';
import { smooth } from '../../shared/smoothing.js';
import type { ColumnKind, Table } from '../checkpoint/metric-columns.js';
import { type SeriesQuery, kindSeries, orderTables } from './metric-buckets.js';

export interface SmoothableQuery extends SeriesQuery {
  readonly smoothing?: MetricSmoothing | undefined;
}

/** Ordered tables (each ascending, each after the one before) as one. */
function joined(kind: ColumnKind, tables: readonly Table[]): Table {
  if (tables.length === 1) return tables[0] as Table;
  const rows = tables.reduce((sum, t) => sum + t.rows, 0);
  const steps = new Float64Array(rows);
  const times = new Float64Array(rows);
  const names = [...new Set(tables.flatMap((t) => [...t.columns.keys()]))];
  const columns = new Map(names.map((name) => [name, new Float64Array(rows).fill(NaN)] as const));
  let at = 0;
  for (const table of tables) {
    steps.set(table.steps, at);
    times.set(table.times, at);
    for (const [name, values] of table.columns) columns.get(name)?.set(values, at);
    at += table.rows;
  }
  const first = tables[0] as Table;
  const last = tables[tables.length - 1] as Table;
  return { kind, rows, steps, times, columns, stepMin: first.stepMin, stepMax: last.stepMax, ordered: true };
}

function isOrdered(tables: readonly Table[]): boolean {
  return tables.every((t, i) => t.ordered && (i === 0 || t.stepMin > (tables[i - 1] as Table).stepMax));
}

/** A kind's whole history as one ascending table, each wanted metric smoothed over all of it (NaN: no value). */
function smoothedTable(kind: ColumnKind, tables: readonly Table[], smoothing: MetricSmoothing, wanted: (name: string) => boolean): Table {
  const table = isOrdered(tables) ? joined(kind, tables) : orderTables(kind, tables);
  const columns = new Map<string, Float64Array>();
  for (const [name, values] of table.columns) {
    if (!wanted(name)) continue;
    const smoothed = smooth(smoothing.mode, table.steps, values, smoothing.weight, smoothing.unit);
    columns.set(
      name,
      Float64Array.from(smoothed, (value) => value ?? NaN),
    );
  }
  return { ...table, columns };
}

/** Which of a kind's metrics a query asks for (as kindSeries chooses them). */
function wantedBy(kind: ColumnKind, metrics: readonly string[] | undefined): (name: string) => boolean {
  return (name) => metrics === undefined || metrics.includes(name) || (kind === 'validation' && metrics.includes(`val_${name}`));
}

/** kindSeries, of the smoothed curve when the query asks for smoothing. */
export function smoothableKindSeries(kind: ColumnKind, all: readonly Table[], query: SmoothableQuery): MetricKindSeries | null {
  const { smoothing, ...rest } = query;
  if (!smoothing) return kindSeries(kind, all, rest);
  const own = all.filter((t) => t.kind === kind && t.rows > 0);
  if (own.length === 0) return null;
  return kindSeries(kind, [smoothedTable(kind, own, smoothing, wantedBy(kind, query.metrics))], rest);
}
