// A kind's history over a step range at a resolution: every point when there are few enough,
// else M4 (Jugel et al., "M4: a visualization-oriented time series data aggregation", VLDB 2014):
// per bucket of equal step width, its first and last point and each metric's min and max point.
// A line through those real points is drawn, at one bucket per pixel column, exactly as a line
// through all of them; they are points of the log, so finer reads of a zoom merge with them by
// step. Per-bucket min, max and mean ride beside them for bands and tooltips.
import type { MetricBuckets, MetricKindSeries } from '../../contract.js';
import type { ColumnKind, ColumnValues, Table } from '../checkpoint/metric-columns.js';

export interface SeriesQuery {
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly points: number;
  /** Every point while the range holds at most this many (default: `points`). */
  readonly whole?: number | undefined;
  readonly metrics?: readonly string[] | undefined;
}

interface Slice {
  readonly table: Table;
  readonly start: number;
  readonly end: number;
  /** The table's column of each answered metric, in `names` order. */
  readonly values: readonly (ColumnValues | undefined)[];
}

/** First index whose step is ≥ `step` (steps ascending). */
function lowerBound(steps: Float64Array, step: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((steps[mid] as number) < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isOrdered(tables: readonly Table[]): boolean {
  return tables.every((t, i) => t.ordered && (i === 0 || t.stepMin > (tables[i - 1] as Table).stepMax));
}

/** Tables whose steps go back or repeat (a log that replayed steps) as one ascending table, a later point of a step replacing an earlier one. */
export function orderTables(kind: ColumnKind, tables: readonly Table[]): Table {
  const last = new Map<number, [number, number]>();
  tables.forEach((table, t) => table.steps.forEach((step, row) => last.set(step, [t, row])));
  const order = [...last.keys()].sort((a, b) => a - b);
  const names = [...new Set(tables.flatMap((t) => [...t.columns.keys()]))];
  const steps = Float64Array.from(order);
  const times = new Float64Array(order.length);
  const columns = new Map(names.map((name) => [name, new Float64Array(order.length).fill(NaN)] as const));
  order.forEach((step, i) => {
    const [t, row] = last.get(step) as [number, number];
    const table = tables[t] as Table;
    times[i] = table.times[row] as number;
    for (const [name, column] of columns) {
      const source = table.columns.get(name);
      if (source) column[i] = source[row] as number;
    }
  });
  const stepMin = order.length > 0 ? (order[0] as number) : 0;
  const stepMax = order.length > 0 ? (order[order.length - 1] as number) : 0;
  return { kind, rows: order.length, steps, times, columns, stepMin, stepMax, ordered: true };
}

function wanted(name: string, kind: ColumnKind, metrics: readonly string[] | undefined): boolean {
  return metrics === undefined || metrics.includes(name) || (kind === 'validation' && metrics.includes(`val_${name}`));
}

class Answer {
  readonly steps: number[] = [];
  readonly times: (number | null)[] = [];
  readonly columns: (number | null)[][];

  constructor(readonly names: readonly string[]) {
    this.columns = names.map(() => []);
  }

  push(slice: Slice, row: number): void {
    this.steps.push(slice.table.steps[row] as number);
    const time = slice.table.times[row] as number;
    this.times.push(Number.isNaN(time) ? null : time);
    slice.values.forEach((values, m) => {
      const value = values?.[row];
      (this.columns[m] as (number | null)[]).push(value === undefined || Number.isNaN(value) ? null : value);
    });
  }

  columnsRecord(): Record<string, (number | null)[]> {
    return Object.fromEntries(this.names.map((name, m) => [name, this.columns[m] as (number | null)[]]));
  }
}

/** Per bucket, per metric: the running min/max (and where), sum and count. */
class BucketStats {
  readonly first: number[] = [];
  readonly last: number[] = [];
  readonly count: number[] = [];
  readonly min: (number | null)[][];
  readonly max: (number | null)[][];
  readonly mean: (number | null)[][];
  private minValue: Float64Array;
  private maxValue: Float64Array;
  private sum: Float64Array;
  private seen: Float64Array;
  /** Where (slice << 32 | row, as a double) each metric's min and max are in the current bucket. */
  readonly minAt: Float64Array;
  readonly maxAt: Float64Array;

  constructor(readonly metricCount: number) {
    this.min = Array.from({ length: metricCount }, () => []);
    this.max = Array.from({ length: metricCount }, () => []);
    this.mean = Array.from({ length: metricCount }, () => []);
    this.minValue = new Float64Array(metricCount);
    this.maxValue = new Float64Array(metricCount);
    this.sum = new Float64Array(metricCount);
    this.seen = new Float64Array(metricCount);
    this.minAt = new Float64Array(metricCount);
    this.maxAt = new Float64Array(metricCount);
    this.reset();
  }

  reset(): void {
    this.minValue.fill(Infinity);
    this.maxValue.fill(-Infinity);
    this.sum.fill(0);
    this.seen.fill(0);
    this.minAt.fill(-1);
    this.maxAt.fill(-1);
  }

  /** Takes rows [from, to) of a column into metric `m`; `base` makes a row a position (slice << 32 | row). */
  scan(m: number, values: ColumnValues, from: number, to: number, base: number): void {
    let min = this.minValue[m] as number;
    let max = this.maxValue[m] as number;
    let minAt = this.minAt[m] as number;
    let maxAt = this.maxAt[m] as number;
    let sum = 0;
    let seen = 0;
    // One tight loop over one typed array: a million rows are a few milliseconds.
    for (let row = from; row < to; row += 1) {
      const value = values[row] as number;
      if (value !== value) continue;
      seen += 1;
      sum += value;
      if (value < min) {
        min = value;
        minAt = base + row;
      }
      if (value > max) {
        max = value;
        maxAt = base + row;
      }
    }
    this.minValue[m] = min;
    this.maxValue[m] = max;
    this.minAt[m] = minAt;
    this.maxAt[m] = maxAt;
    this.sum[m] = (this.sum[m] as number) + sum;
    this.seen[m] = (this.seen[m] as number) + seen;
  }

  close(firstStep: number, lastStep: number, rows: number): void {
    this.first.push(firstStep);
    this.last.push(lastStep);
    this.count.push(rows);
    for (let m = 0; m < this.metricCount; m += 1) {
      const seen = this.seen[m] as number;
      (this.min[m] as (number | null)[]).push(seen > 0 ? (this.minValue[m] as number) : null);
      (this.max[m] as (number | null)[]).push(seen > 0 ? (this.maxValue[m] as number) : null);
      (this.mean[m] as (number | null)[]).push(seen > 0 ? (this.sum[m] as number) / seen : null);
    }
  }

  buckets(names: readonly string[]): MetricBuckets {
    const stats = Object.fromEntries(
      names.map((name, m) => [name, { min: this.min[m] as (number | null)[], max: this.max[m] as (number | null)[], mean: this.mean[m] as (number | null)[] }]),
    );
    return { first: this.first, last: this.last, count: this.count, stats };
  }
}

const SLICE_SHIFT = 2 ** 32;

function bucketed(slices: readonly Slice[], names: readonly string[], points: number): { answer: Answer; stats: BucketStats } {
  const answer = new Answer(names);
  const stats = new BucketStats(names.length);
  const firstSlice = slices[0] as Slice;
  const lastSlice = slices[slices.length - 1] as Slice;
  const lo = firstSlice.table.steps[firstSlice.start] as number;
  const hi = lastSlice.table.steps[lastSlice.end - 1] as number;
  const scale = points / (hi - lo + 1);
  let bucket = -1;
  let firstAt = 0;
  let lastAt = 0;
  let rows = 0;
  const flush = (): void => {
    if (bucket < 0) return;
    const chosen = new Set<number>([firstAt, lastAt]);
    for (let m = 0; m < names.length; m += 1) {
      if ((stats.minAt[m] as number) >= 0) chosen.add(stats.minAt[m] as number);
      if ((stats.maxAt[m] as number) >= 0) chosen.add(stats.maxAt[m] as number);
    }
    for (const at of [...chosen].sort((a, b) => a - b)) answer.push(slices[Math.floor(at / SLICE_SHIFT)] as Slice, at % SLICE_SHIFT);
    const stepAt = (at: number): number => (slices[Math.floor(at / SLICE_SHIFT)] as Slice).table.steps[at % SLICE_SHIFT] as number;
    stats.close(stepAt(firstAt), stepAt(lastAt), rows);
    stats.reset();
  };
  const bucketOf = (step: number): number => Math.min(points - 1, Math.floor((step - lo) * scale));
  slices.forEach((slice, s) => {
    const { steps } = slice.table;
    const base = s * SLICE_SHIFT;
    // Steps ascend, so each bucket is a stretch of rows: found by bisection, then scanned column by column.
    for (let row = slice.start; row < slice.end;) {
      const b = bucketOf(steps[row] as number);
      let end = row + 1;
      let high = slice.end;
      while (end < high) {
        const mid = (end + high) >>> 1;
        if (bucketOf(steps[mid] as number) > b) high = mid;
        else end = mid + 1;
      }
      if (b !== bucket) {
        flush();
        bucket = b;
        firstAt = base + row;
        rows = 0;
      }
      lastAt = base + end - 1;
      rows += end - row;
      for (let m = 0; m < names.length; m += 1) {
        const values = slice.values[m];
        if (values) stats.scan(m, values, row, end, base);
      }
      row = end;
    }
  });
  flush();
  return { answer, stats };
}

/** One kind's points over the query's range; null when it has none there. */
export function kindSeries(kind: ColumnKind, all: readonly Table[], query: SeriesQuery): MetricKindSeries | null {
  const own = all.filter((t) => t.kind === kind && t.rows > 0);
  if (own.length === 0) return null;
  const tables = isOrdered(own) ? own : [orderTables(kind, own)];
  const from = query.from ?? -Infinity;
  const to = query.to ?? Infinity;
  const names = [...new Set(tables.flatMap((t) => [...t.columns.keys()]))].filter((name) => wanted(name, kind, query.metrics));
  const slices: Slice[] = [];
  for (const table of tables) {
    // The block's step range says whether its rows need looking at.
    if (table.stepMax < from || table.stepMin > to) continue;
    const start = lowerBound(table.steps, from);
    const end = to === Infinity ? table.rows : lowerBound(table.steps, Math.floor(to) + 1);
    if (end > start) slices.push({ table, start, end, values: names.map((name) => table.columns.get(name)) });
  }
  const total = slices.reduce((sum, s) => sum + s.end - s.start, 0);
  if (total === 0) return null;
  if (total <= Math.max(query.points, query.whole ?? 0)) {
    const answer = new Answer(names);
    for (const slice of slices) for (let row = slice.start; row < slice.end; row += 1) answer.push(slice, row);
    return { kind, total, exact: true, steps: answer.steps, times: answer.times, columns: answer.columnsRecord(), buckets: null };
  }
  const { answer, stats } = bucketed(slices, names, query.points);
  return { kind, total, exact: false, steps: answer.steps, times: answer.times, columns: answer.columnsRecord(), buckets: stats.buckets(names) };
}
