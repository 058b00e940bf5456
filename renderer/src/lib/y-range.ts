// The y range of a card's view: what is in the x window, with raw outliers left out if asked,
// on a linear or a log scale.

/** The q-quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

/** How much of each tail of the raw values "ignore outliers" leaves out of the y range. */
export const OUTLIER_TAIL = 0.02;

/**
 * The y range of what is in view. With outliers ignored, the raw values count only between their
 * 2nd and 98th percentiles (a spike no longer squashes the curve), while the smoothed curves,
 * which the eye follows, always fit; then 5 % of room above and below.
 */
export function yRange(
  raw: readonly (number | null)[][],
  smoothed: readonly (number | null)[][],
  from: number,
  to: number,
  ignoreOutliers: boolean,
  log: boolean,
): [number, number] | null {
  const f = log ? (v: number) => (v > 0 ? Math.log10(v) : NaN) : (v: number) => v;
  let lo = Infinity;
  let hi = -Infinity;
  const take = (v: number | null | undefined): void => {
    if (v === null || v === undefined) return;
    const t = f(v);
    if (!Number.isFinite(t)) return;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  };
  for (const column of smoothed) for (let i = from; i <= to; i += 1) take(column[i]);
  if (ignoreOutliers) {
    const values: number[] = [];
    for (const column of raw)
      for (let i = from; i <= to; i += 1) {
        const v = column[i];
        if (v === null || v === undefined) continue;
        const t = f(v);
        if (Number.isFinite(t)) values.push(t);
      }
    if (values.length > 0) {
      const sorted = Float64Array.from(values).sort();
      take(log ? 10 ** quantile(sorted, OUTLIER_TAIL) : quantile(sorted, OUTLIER_TAIL));
      take(log ? 10 ** quantile(sorted, 1 - OUTLIER_TAIL) : quantile(sorted, 1 - OUTLIER_TAIL));
    }
  } else for (const column of raw) for (let i = from; i <= to; i += 1) take(column[i]);
  if (!Number.isFinite(lo)) return null;
  const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(lo) * 0.05 || 0.5;
  const range: [number, number] = [lo - pad, hi + pad];
  return log ? [10 ** range[0], 10 ** range[1]] : range;
}
