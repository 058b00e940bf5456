// Smoothing of a curve, always on the full data (before any downsampling), in two modes. Shared
// by the page (renderer/src/lib/smoothing.ts) and the Studio, which smooths a run too long to
// send whole over every point before bucketing it (metricSeries' `smoothing`): both must agree.
//
// `points` is TensorBoard's classic debiased exponential moving average (line_chart_v2's
// classicSmoothing, the vz_line_chart2 one before it), weight w in [0, 1):
//     last_n = w · last_{n-1} + (1 − w) · y_n,  last_0 = 0,   smoothed_n = last_n / (1 − w^n)
// where n counts the finite points so far. Dividing by (1 − w^n) removes the pull towards the
// zero it starts from, so the first smoothed point is the first value. A constant curve is left
// as it is (TensorBoard #786: rounding would otherwise wobble it), and a missing value stays a gap
// without advancing n. Its time constant is in points: the same w smooths a curve logged every
// step ten times less (in steps) than one logged every ten steps.
//
// `steps` makes the time constant a number of steps instead, so a curve looks the same however
// densely it was logged. Each point weighs w^(Δ/u) less per Δ steps it lies behind, u being the
// unit of steps one point of TensorBoard's mode would stand for:
//     acc_n = d_n · acc_{n-1} + y_n,  norm_n = d_n · norm_{n-1} + 1,  d_n = w^((s_n − s_{n−1}) / u)
//     smoothed_n = acc_n / norm_n
// This is the same weighted mean as above (for Δ = u it is exactly TensorBoard's, the norm being
// its debiasing sum 1 + w + … + w^(n−1)), so the first point is again its own value. The time
// constant is τ = −u / ln w steps: the chart takes u from the longest run's span (1/1000 of it),
// so 0.6 averages over ~0.2 % of the axis and 0.99 over ~10 %, for every run alike.

export type SmoothingMode = 'points' | 'steps';

/** Steps per TensorBoard point in `steps` mode: 1/1000 of the span drawn, at least one step. */
export const SPAN_FRACTION = 1000;

export function stepUnit(span: number): number {
  return Math.max(1, span / SPAN_FRACTION);
}

/** The time constant, in steps, of `steps` mode with this weight and unit. */
export function timeConstant(weight: number, unit: number): number {
  if (weight <= 0) return 0;
  if (weight >= 1) return Infinity;
  return -unit / Math.log(weight);
}

function clampWeight(weight: number): number {
  return Number.isFinite(weight) ? Math.min(Math.max(weight, 0), 0.999) : 0;
}

/** Values as the page holds them (null: no value) or as the Studio's columns do (NaN: none); any non-finite value is a gap. */
export type SmoothingValues = ArrayLike<number | null>;

function isConstant(values: SmoothingValues): boolean {
  let first: number | null = null;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i] ?? null;
    if (v === null || !Number.isFinite(v)) continue;
    if (first === null) first = v;
    else if (v !== first) return false;
  }
  return true;
}

/** TensorBoard's debiased EMA over points. */
export function emaSmooth(values: SmoothingValues, weight: number): (number | null)[] {
  const w = clampWeight(weight);
  if (w === 0 || isConstant(values)) return Array.from(values);
  const out: (number | null)[] = new Array<number | null>(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i += 1) {
    const y = values[i] ?? null;
    if (y === null || !Number.isFinite(y)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * y;
    n += 1;
    out[i] = last / (1 - w ** n);
  }
  return out;
}

/** The EMA with its time constant in steps (`unit` steps per TensorBoard point). */
export function stepSmooth(steps: ArrayLike<number>, values: SmoothingValues, weight: number, unit: number): (number | null)[] {
  const w = clampWeight(weight);
  if (w === 0 || isConstant(values)) return Array.from(values);
  const out: (number | null)[] = new Array<number | null>(values.length);
  const perStep = Math.log(w) / Math.max(unit, Number.MIN_VALUE);
  let acc = 0;
  let norm = 0;
  let previous: number | null = null;
  for (let i = 0; i < values.length; i += 1) {
    const y = values[i] ?? null;
    if (y === null || !Number.isFinite(y)) {
      out[i] = null;
      continue;
    }
    const step = steps[i] as number;
    const decay = previous === null ? 0 : Math.exp(perStep * Math.max(0, step - previous));
    acc = acc * decay + y;
    norm = norm * decay + 1;
    previous = step;
    out[i] = acc / norm;
  }
  return out;
}

export function smooth(mode: SmoothingMode, steps: ArrayLike<number>, values: SmoothingValues, weight: number, unit: number): (number | null)[] {
  return mode === 'steps' ? stepSmooth(steps, values, weight, unit) : emaSmooth(values, weight);
}
