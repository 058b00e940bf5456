// Where the Distributions view draws things: the nested quantile bands (TensorBoard's look),
// the stacked histograms, and which checkpoint the cursor is on. Pure arithmetic on the API's
// answer, so it is tested without a canvas.
import type { DistributionPoint } from './contract';

/** Pairs of indices into the quantile levels, outermost first: [0, 1], [0.07, 0.93], [0.16, 0.84], [0.31, 0.69]. */
export function bandPairs(levels: readonly number[]): [number, number][] {
  const pairs: [number, number][] = [];
  for (let low = 0, high = levels.length - 1; low < high; low += 1, high -= 1) pairs.push([low, high]);
  return pairs;
}

/** The index of the median among the levels, or null when 0.5 is not one of them. */
export function medianIndex(levels: readonly number[]): number | null {
  const index = levels.indexOf(0.5);
  return index < 0 ? null : index;
}

export interface Span {
  readonly lo: number;
  readonly hi: number;
}

/** The steps drawn: a single checkpoint gets a span around its step, so it is not drawn at a point. */
export function stepSpan(points: readonly Pick<DistributionPoint, 'step'>[]): Span {
  if (points.length === 0) return { lo: 0, hi: 1 };
  const lo = points[0]?.step ?? 0;
  const hi = points.at(-1)?.step ?? lo;
  return lo === hi ? { lo: lo - 1, hi: hi + 1 } : { lo, hi };
}

/** The values drawn: every quantile of every point, a little room around them. */
export function valueSpan(points: readonly Pick<DistributionPoint, 'quantiles'>[]): Span {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points)
    for (const q of p.quantiles ?? []) {
      if (q < lo) lo = q;
      if (q > hi) hi = q;
    }
  if (lo > hi) return { lo: 0, hi: 1 };
  if (lo === hi) return { lo: lo - 0.5, hi: hi + 0.5 };
  const room = (hi - lo) * 0.04;
  return { lo: lo - room, hi: hi + room };
}

/** Maps a value of `span` onto [from, to] (pixels; `to` may be below `from`, as y runs down). */
export function scale(span: Span, from: number, to: number): (value: number) => number {
  const factor = (to - from) / (span.hi - span.lo);
  return (value) => from + (value - span.lo) * factor;
}

/** The point whose step is nearest the step under the cursor (points sorted by step), or null when there are none. */
export function nearestByStep(points: readonly Pick<DistributionPoint, 'step'>[], step: number): number | null {
  if (points.length === 0) return null;
  let low = 0;
  let high = points.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((points[middle]?.step ?? 0) < step) low = middle + 1;
    else high = middle;
  }
  if (low > 0 && Math.abs((points[low - 1]?.step ?? 0) - step) <= Math.abs((points[low]?.step ?? 0) - step)) return low - 1;
  return low;
}

/** At most this many histograms are stacked; more are thinned evenly, the newest always kept. */
export const MAX_RIDGES = 48;

/** Which points get a ridge, oldest first. */
export function ridgeIndices(count: number, max = MAX_RIDGES): number[] {
  if (count <= max) return Array.from({ length: count }, (_, i) => i);
  const picked = new Set<number>();
  for (let i = 0; i < max; i += 1) picked.add(Math.round((i * (count - 1)) / (max - 1)));
  return [...picked].sort((a, b) => a - b);
}

export interface RidgeLayout {
  /** Each ridge's baseline, oldest (at the back, highest up) first. */
  readonly baselines: number[];
  /** Pixels the tallest bin rises above its baseline. */
  readonly peak: number;
}

/**
 * Baselines for `ridges` histograms between `top` and `bottom`: each may rise `overlap` times the
 * gap between baselines, so neighbours overlap as in a ridgeline plot, and the oldest still fits.
 */
export function ridgeLayout(ridges: number, top: number, bottom: number, overlap = 4): RidgeLayout {
  if (ridges <= 1) return { baselines: ridges === 1 ? [bottom] : [], peak: Math.max(0, bottom - top) };
  const height = Math.max(0, bottom - top);
  // (ridges − 1)·gap + overlap·gap = height.
  const gap = height / (ridges - 1 + overlap);
  const peak = Math.min(height, gap * overlap);
  return { baselines: Array.from({ length: ridges }, (_, i) => bottom - (ridges - 1 - i) * gap), peak };
}

/** The ridge whose baseline is nearest below-or-at the cursor's y, i.e. the one drawn in front there; null when none. */
export function ridgeAt(baselines: readonly number[], y: number): number | null {
  if (baselines.length === 0) return null;
  let best = 0;
  for (let i = 1; i < baselines.length; i += 1) if (Math.abs((baselines[i] as number) - y) < Math.abs((baselines[best] as number) - y)) best = i;
  return best;
}

/** Nice round tick values covering `span`, about `target` of them. */
export function ticks(span: Span, target = 5): number[] {
  const range = span.hi - span.lo;
  if (!(range > 0) || !Number.isFinite(range)) return [span.lo];
  const rough = range / target;
  const power = 10 ** Math.floor(Math.log10(rough));
  // The round step whose count of ticks comes closest to the target.
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).reduce((best, s) => (Math.abs(range / s - target) < Math.abs(range / best - target) ? s : best));
  const out: number[] = [];
  for (let v = Math.ceil(span.lo / step) * step; v <= span.hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}
