// The y range of a card's view: what is in the x window, with outliers left out if asked, on a
// linear or a log scale.
//
// An outlier is judged against its neighbours, not against the whole curve (a Hampel filter): a
// value further than OUTLIER_SIGMAS robust deviations from the median of the OUTLIER_WINDOW
// values around it. TensorBoard instead fits to the 5th–95th percentiles of everything in view,
// which also cuts off the start of every falling loss curve, while a spike 100× the curve is left
// out by either. The smoothed curves are left out of the fit with outliers ignored: they are
// averages of the raw values, so without the outliers they lie within them, and with one they
// carry it along for a few points (a spike of 100 was 40 at smoothing 0.6 and set the range).
import { alignedFrom, presentIndexes } from './downsample';

/** Neighbours each side of a value that judge it. */
export const OUTLIER_WINDOW = 5;
/** How many robust standard deviations (1.4826 × the median absolute deviation) make an outlier. */
export const OUTLIER_SIGMAS = 6;

type Column = readonly (number | null)[];

/** The median of a sorted window. */
function medianOfSorted(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Which of these values are outliers. Each is judged by the median and the median absolute
 * deviation of the 2·OUTLIER_WINDOW + 1 values around it (shifted at the ends to stay whole); a
 * window whose values are all the same judges any other value an outlier. Two windows are reused
 * for every point: thousands of curves arrive a few at a time, and copies of each window per
 * point were garbage the page stopped to collect.
 */
export function outliers(values: readonly number[]): boolean[] {
  const n = values.length;
  const out = new Array<boolean>(n).fill(false);
  const size = 2 * OUTLIER_WINDOW + 1;
  if (n < size) return out;
  const window = new Float64Array(size);
  const deviations = new Float64Array(size);
  for (let i = 0; i < n; i += 1) {
    const from = Math.min(Math.max(0, i - OUTLIER_WINDOW), n - size);
    for (let k = 0; k < size; k += 1) window[k] = values[from + k] as number;
    const m = medianOfSorted(window.sort());
    for (let k = 0; k < size; k += 1) deviations[k] = Math.abs((window[k] as number) - m);
    const spread = 1.4826 * medianOfSorted(deviations.sort());
    const deviation = Math.abs((values[i] as number) - m);
    out[i] = deviation > OUTLIER_SIGMAS * spread && deviation > 1e-12 * Math.max(1, Math.abs(m));
  }
  return out;
}

type Flags = { readonly at: Int32Array; readonly outlier: Uint8Array };
/** Outliers by column (the columns drawn stay the same objects while the zoom changes). */
const judged = [new WeakMap<Column, Flags>(), new WeakMap<Column, Flags>()] as const;
/**
 * Outliers by the values an aligned column was made from (alignedFrom): a curve aligned again
 * because another run arrived is not judged again (a median per point, over thousands of curves).
 */
const judgedValues = [new WeakMap<object, Uint8Array>(), new WeakMap<object, Uint8Array>()] as const;

export function flagsOf(column: Column, log: boolean): Flags {
  const cache = judged[log ? 1 : 0];
  const hit = cache.get(column);
  if (hit) return hit;
  const source = alignedFrom.get(column);
  // Only the column's own points: aligned columns hold nulls at the other curves' x.
  const at: number[] = [];
  const values: number[] = [];
  column.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const t = log ? (v > 0 ? Math.log10(v) : NaN) : v;
    if (!Number.isFinite(t)) return;
    at.push(i);
    values.push(t);
  });
  const known = source ? judgedValues[log ? 1 : 0].get(source) : undefined;
  const outlier = known?.length === values.length ? known : Uint8Array.from(outliers(values), (o) => (o ? 1 : 0));
  if (source) judgedValues[log ? 1 : 0].set(source, outlier);
  const flags = { at: Int32Array.from(at), outlier };
  cache.set(column, flags);
  return flags;
}

/** A column's lowest and highest value (on the scale's terms: log10 on a log scale), kept per column. */
const extremes = [new WeakMap<object, readonly [number, number]>(), new WeakMap<object, readonly [number, number]>()] as const;

function extremesOf(key: object, log: boolean, each: (take: (value: number) => void) => void): readonly [number, number] {
  const cache = extremes[log ? 1 : 0];
  const hit = cache.get(key);
  if (hit) return hit;
  let lo = Infinity;
  let hi = -Infinity;
  each((t) => {
    if (!Number.isFinite(t)) return;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  });
  const made = [lo, hi] as const;
  cache.set(key, made);
  return made;
}

/** Whether the column holds a value and all its values lie at indexes from..to: found from its ends, not by a walk over it. */
function presentWithin(column: Column, from: number, to: number): boolean {
  let first = 0;
  while (first < column.length && (column[first] === null || column[first] === undefined)) first += 1;
  if (first >= column.length || first < from) return false;
  let last = column.length - 1;
  while (last > first && (column[last] === null || column[last] === undefined)) last -= 1;
  return last <= to;
}

/**
 * The y range of what is in view (indexes from..to of the aligned columns): every value, raw and
 * smoothed; with outliers ignored, the raw values that are not outliers (the smoothed ones when
 * no raw curve is drawn). Then 5 % of room above and below.
 */
export function yRange(
  raw: readonly Column[],
  smoothed: readonly Column[],
  from: number,
  to: number,
  ignoreOutliers: boolean,
  log: boolean,
): [number, number] | null {
  const f = log ? (v: number) => (v > 0 ? Math.log10(v) : NaN) : (v: number) => v;
  let lo = Infinity;
  let hi = -Infinity;
  const take = (t: number): void => {
    if (!Number.isFinite(t)) return;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  };
  // A column whose every point is in view gives its kept extremes: a card of a thousand runs
  // ranges its y axis on every batch of curves, each time over every point of every curve.
  const whole = (at: ArrayLike<number>): boolean => at.length > 0 && from <= (at[0] as number) && to >= (at[at.length - 1] as number);
  const cache = extremes[log ? 1 : 0];
  if (ignoreOutliers) {
    const basis = raw.some((c) => c.some((v) => v !== null)) ? raw : smoothed;
    for (const column of basis) {
      // A curve aligned again (another run's points joined the x column) keeps what was found of
      // its values: its points are not walked again, only its ends found (a thousand runs' curves
      // are aligned anew when one of them changes).
      const source = alignedFrom.get(column);
      const judgedSource = source ? judgedValues[log ? 1 : 0].get(source) : undefined;
      const kept = judgedSource ? cache.get(judgedSource) : undefined;
      if (kept && presentWithin(column, from, to)) {
        take(kept[0]);
        take(kept[1]);
        continue;
      }
      const flags = flagsOf(column, log);
      const { at, outlier } = flags;
      if (whole(at)) {
        // By the judgement, which is the same object for every alignment of the same values.
        const [low, high] = extremesOf(outlier, log, (put) => {
          for (let k = 0; k < at.length; k += 1) if (outlier[k] === 0) put(f(column[at[k] as number] as number));
        });
        take(low);
        take(high);
        continue;
      }
      for (let k = 0; k < at.length; k += 1) {
        const i = at[k] as number;
        if (i >= from && i <= to && outlier[k] === 0) take(f(column[i] as number));
      }
    }
  } else
    for (const column of [...raw, ...smoothed]) {
      const source = alignedFrom.get(column);
      const kept = source ? cache.get(source) : undefined;
      if (kept && presentWithin(column, from, to)) {
        take(kept[0]);
        take(kept[1]);
        continue;
      }
      const at = presentIndexes(column);
      if (whole(at)) {
        // By the values aligned (an aligned column holds them all, nulls between): the same for every alignment of them.
        const [low, high] = extremesOf(source ?? column, log, (put) => {
          for (let k = 0; k < at.length; k += 1) put(f(column[at[k] as number] as number));
        });
        take(low);
        take(high);
        continue;
      }
      for (let i = Math.max(0, from); i <= to && i < column.length; i += 1) {
        const v = column[i];
        if (v !== null && v !== undefined) take(f(v));
      }
    }
  if (!Number.isFinite(lo)) return null;
  const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(lo) * 0.05 || 0.5;
  const range: [number, number] = [lo - pad, hi + pad];
  return log ? [10 ** range[0], 10 ** range[1]] : range;
}
