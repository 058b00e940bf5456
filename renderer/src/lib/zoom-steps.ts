// The steps a card's zoom window spans, whatever its x axis (steps, wall or relative time): the
// window is in the axis' units, and each trace says which step each of its x values is.
import type { Trace } from './chart-data';

/** First index whose x is ≥ `x` (xs ascending). */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The smallest step range holding every trace's points in [x0, x1], widened to the points just
 * outside it (the line into the window is drawn from them); null when no trace reaches it.
 */
export function stepWindow(traces: readonly Trace[], window: readonly [number, number]): [number, number] | null {
  let from = Infinity;
  let to = -Infinity;
  for (const trace of traces) {
    if (trace.xs.length === 0) continue;
    const first = Math.max(0, lowerBound(trace.xs, window[0]) - 1);
    const last = Math.min(trace.xs.length - 1, lowerBound(trace.xs, window[1]));
    if (first > last) continue;
    from = Math.min(from, trace.steps[first] as number);
    to = Math.max(to, trace.steps[last] as number);
  }
  return from <= to ? [from, to] : null;
}
