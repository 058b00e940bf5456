// Downsampling for drawing: a curve of 100,000 points on a card 700 pixels wide is drawn as the
// lowest and highest value of each pixel-wide bucket (min/max decimation), which keeps every
// spike and the exact envelope while uPlot draws a few thousand points per frame, not 100,000.
// It runs once per change of data or of the zoom window, never per frame. Buckets holding one or
// two points keep them exactly, so sparse curves (validation, a zoomed-in stretch) are untouched.
// Buckets are equal widths over the zoom window, and as many coarser ones over the rest of the
// extent, so the curve still reaches the edges and a reset of the zoom has the whole extent.

export interface Column {
  /** Ascending. */
  readonly xs: readonly number[];
  readonly ys: readonly (number | null)[];
}

export interface Decimated {
  readonly xs: readonly number[];
  readonly ys: readonly number[];
}

function even(lo: number, hi: number, count: number, out: number[]): void {
  const width = (hi - lo) / count;
  for (let i = 0; i < count; i += 1) out.push(lo + i * width);
}

/** Bucket edges over [lo, hi]: `count` buckets across the window, `count` across the whole. */
export function bucketEdges(lo: number, hi: number, window: readonly [number, number] | null, count: number): number[] {
  const n = Math.max(1, Math.floor(count));
  if (!(hi > lo)) return [lo, lo + 1];
  const edges: number[] = [];
  const wl = window ? Math.max(lo, window[0]) : lo;
  const wh = window ? Math.min(hi, window[1]) : hi;
  if (!window || !(wh > wl) || (wl <= lo && wh >= hi)) {
    even(lo, hi, n, edges);
  } else {
    const coarse = (hi - lo) / n;
    for (let i = 0; i < n && lo + i * coarse < wl; i += 1) edges.push(lo + i * coarse);
    even(wl, wh, n, edges);
    if (wh < hi) edges.push(wh);
    for (let i = 0; i < n; i += 1) if (lo + i * coarse > wh) edges.push(lo + i * coarse);
  }
  edges.push(hi);
  return edges;
}

/** Min and max per bucket (in the order they occur), or the points themselves where few; over the points from..to. */
export function decimate(column: Column, edges: readonly number[], from = 0, to = column.xs.length - 1): Decimated {
  return decimateWith(column, edges, from, to, false);
}

/**
 * decimate, with the points of a bucket that holds one or two of them placed on the bucket's
 * two slots too (a quarter and three quarters across it), but in the curve's first and last
 * buckets: every curve of a card drawn on the same few places, each less than a bucket (a pixel)
 * from where it was. The curves of a thousand runs are drawn on one x column (alignColumns), and
 * a long run's overview, its points a pixel or two apart at places of its own, made that column
 * as long as all their points together, for every curve of the card.
 */
export function decimateOnSlots(column: Column, edges: readonly number[]): Decimated {
  return decimateWith(column, edges, 0, column.xs.length - 1, true);
}

const finite = (y: number | null | undefined): y is number => y !== null && y !== undefined && Number.isFinite(y);

/** The first and last indexes in from..to with a finite value (−1 when none). */
function finiteEnds(ys: readonly (number | null)[], from: number, to: number): [number, number] {
  let a = from;
  while (a <= to && !finite(ys[a])) a += 1;
  let b = to;
  while (b >= a && !finite(ys[b])) b -= 1;
  return a > to ? [-1, -1] : [a, b];
}

/** Where a bucket's one or two points go on its slots: both slots for two, the nearer for one. */
function slotsOf(count: number, lo: number, width: number, x: number): number[] {
  if (count === 2) return [lo + width / 4, lo + (3 * width) / 4];
  return [x < lo + width / 2 ? lo + width / 4 : lo + (3 * width) / 4];
}

function decimateWith(column: Column, edges: readonly number[], from: number, to: number, onSlots: boolean): Decimated {
  const xs: number[] = [];
  const ys: number[] = [];
  const last = edges.length - 2;
  const [firstPoint, lastPoint] = onSlots ? finiteEnds(column.ys, from, to) : [-1, -1];
  let moved = false;
  let bucket = 0;
  let count = 0;
  let first = -1;
  let second = -1;
  let min = -1;
  let max = -1;
  const flush = (): void => {
    if (count === 0) return;
    const lo = edges[bucket] as number;
    const width = (edges[bucket + 1] as number) - lo;
    if (count <= 2) {
      const exact = !onSlots || first === firstPoint || (count === 2 ? second : first) === lastPoint;
      const places = exact ? [] : slotsOf(count, lo, width, column.xs[first] as number);
      moved ||= !exact;
      xs.push(places[0] ?? (column.xs[first] as number));
      ys.push(column.ys[first] as number);
      if (count === 2) {
        xs.push(places[1] ?? (column.xs[second] as number));
        ys.push(column.ys[second] as number);
      }
    } else {
      // Two slots inside the bucket, the extremes in the order they happened.
      const [a, b] = min < max ? [min, max] : [max, min];
      xs.push(lo + width / 4, lo + (3 * width) / 4);
      ys.push(column.ys[a] as number, column.ys[b] as number);
    }
    count = 0;
  };
  for (let i = from; i <= to; i += 1) {
    const y = column.ys[i];
    if (!finite(y)) continue;
    const x = column.xs[i] as number;
    if (bucket < last && x >= (edges[bucket + 1] as number)) {
      flush();
      while (bucket < last && x >= (edges[bucket + 1] as number)) bucket += 1;
    }
    if (count === 0) {
      first = i;
      min = i;
      max = i;
    } else {
      if (count === 1) second = i;
      if (y < (column.ys[min] as number)) min = i;
      if (y > (column.ys[max] as number)) max = i;
    }
    count += 1;
  }
  flush();
  // Every point kept as it is (few, none missing): the column's own arrays, not a copy held beside it.
  if (!moved && from === 0 && to === column.xs.length - 1 && xs.length === column.xs.length) return { xs: column.xs, ys: column.ys as readonly number[] };
  return { xs, ys };
}

function firstAtOrAfter(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstAfter(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A zoomed curve: `count` buckets across the window, read from the points inside it only (a
 * binary search finds them), and outside it the whole-extent downsampling already made, so a
 * zoom costs the points in view, not the whole history.
 */
export function decimateWindow(column: Column, whole: Decimated, window: readonly [number, number], count: number): Decimated {
  const [lo, hi] = window;
  const from = firstAtOrAfter(column.xs, lo);
  const to = firstAfter(column.xs, hi) - 1;
  const inside = to >= from ? decimate(column, bucketEdges(lo, hi, null, count), from, to) : { xs: [], ys: [] };
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < whole.xs.length && (whole.xs[i] as number) < lo; i += 1) {
    xs.push(whole.xs[i] as number);
    ys.push(whole.ys[i] as number);
  }
  xs.push(...inside.xs);
  ys.push(...inside.ys);
  for (let i = firstAfter(whole.xs, hi); i < whole.xs.length; i += 1) {
    xs.push(whole.xs[i] as number);
    ys.push(whole.ys[i] as number);
  }
  return { xs, ys };
}

/**
 * The raw values' lowest and highest per bucket, as two curves (a band drawn between them) on
 * the same xs as decimate's: a bucket of one or two points keeps them (the band is the value
 * there), a fuller one gets its two slots, both at its min and max. Sharing decimate's xs keeps
 * the band whole where it is drawn with the smoothed curves (aligned, a band with a gap at every
 * other x is filled in stripes).
 */
export function envelope(column: Column, edges: readonly number[], onSlots = false): { lo: Decimated; hi: Decimated } {
  const lo = { xs: [] as number[], ys: [] as number[] };
  const hi = { xs: [] as number[], ys: [] as number[] };
  const push = (x: number, min: number, max: number): void => {
    lo.xs.push(x);
    lo.ys.push(min);
    hi.xs.push(x);
    hi.ys.push(max);
  };
  const last = edges.length - 2;
  const [firstPoint, lastPoint] = onSlots ? finiteEnds(column.ys, 0, column.xs.length - 1) : [-1, -1];
  let bucket = 0;
  const firsts: number[] = [];
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  const flush = (): void => {
    if (count === 0) return;
    const left = edges[bucket] as number;
    const width = (edges[bucket + 1] as number) - left;
    if (count <= 2) {
      // On decimateOnSlots' places when it is asked for.
      const exact = !onSlots || firsts[0] === firstPoint || firsts[firsts.length - 1] === lastPoint;
      const places = exact ? [] : slotsOf(count, left, width, column.xs[firsts[0] as number] as number);
      firsts.forEach((i, k) => push(places[k] ?? (column.xs[i] as number), column.ys[i] as number, column.ys[i] as number));
    } else {
      push(left + width / 4, min, max);
      push(left + (3 * width) / 4, min, max);
    }
    firsts.length = 0;
    count = 0;
    min = Infinity;
    max = -Infinity;
  };
  for (let i = 0; i < column.xs.length; i += 1) {
    const y = column.ys[i];
    if (!finite(y)) continue;
    const x = column.xs[i] as number;
    if (bucket < last && x >= (edges[bucket + 1] as number)) {
      flush();
      while (bucket < last && x >= (edges[bucket + 1] as number)) bucket += 1;
    }
    if (count < 2) firsts.push(i);
    count += 1;
    if (y < min) min = y;
    if (y > max) max = y;
  }
  flush();
  return { lo, hi };
}

/**
 * The values each aligned column was made from: the same curve aligned again (another curve
 * arrived) holds the same values in the same order, so what is judged of its values (y-range's
 * outliers) is kept by them.
 */
export const alignedFrom = new WeakMap<readonly (number | null)[], readonly number[]>();

/** Curves on one x column, as uPlot draws them: null where a curve has no point at that x. */
export function alignColumns(curves: readonly Decimated[]): [number[], ...(number | null)[][]] {
  let total = 0;
  for (const c of curves) total += c.xs.length;
  const all = new Float64Array(total);
  let k = 0;
  for (const c of curves) for (const x of c.xs) all[k++] = x;
  all.sort();
  const xs: number[] = [];
  for (let i = 0; i < all.length; i += 1) if (i === 0 || all[i] !== all[i - 1]) xs.push(all[i] as number);
  return [xs, ...curves.map((c) => columnOn(xs, c))];
}

/** One curve on the x column `xs`, which holds each of its xs. */
function columnOn(xs: readonly number[], c: Decimated): (number | null)[] {
  const out = new Array<number | null>(xs.length).fill(null);
  let j = c.xs.length > 0 ? firstAtOrAfter(xs, c.xs[0] as number) : 0;
  for (let i = 0; i < c.xs.length; i += 1) {
    const x = c.xs[i] as number;
    while (j < xs.length - 1 && xs[j] !== x) j += 1;
    out[j] = c.ys[i] as number;
  }
  alignedFrom.set(out, c.ys);
  return out;
}

/** Whether each of the curve's xs is in the ascending column `xs`. */
function within(xs: readonly number[], c: Decimated): boolean {
  let j = 0;
  for (let i = 0; i < c.xs.length; i += 1) {
    const x = c.xs[i] as number;
    j = i === 0 ? firstAtOrAfter(xs, x) : j;
    while (j < xs.length && (xs[j] as number) < x) j += 1;
    if (xs[j] !== x) return false;
  }
  return true;
}

/**
 * alignColumns kept from one batch of curves to the next: a thousand runs arriving a few at a
 * time add their curves, and while the x column holds their points (the same buckets' places, the
 * same steps) only the new curves get a column; the others keep theirs, the same arrays (so what
 * is worked out per column, outliers and drawn points, is kept too). A curve gone, or one with an
 * x the column lacks, aligns everything anew.
 */
export class ColumnAligner {
  private xs: number[] = [];
  private byCurve = new Map<Decimated, (number | null)[]>();

  align(curves: readonly Decimated[]): [number[], ...(number | null)[][]] {
    const kept = new Map<Decimated, (number | null)[]>();
    let fits = true;
    for (const c of curves) {
      const column = this.byCurve.get(c);
      if (column) kept.set(c, column);
      else if (fits && !within(this.xs, c)) fits = false;
    }
    if (!fits || kept.size !== this.byCurve.size) {
      const aligned = alignColumns(curves);
      this.xs = aligned[0];
      this.byCurve = new Map(curves.map((c, i) => [c, aligned[i + 1] as (number | null)[]]));
      return aligned;
    }
    const columns = curves.map((c) => {
      let column = kept.get(c);
      if (!column) kept.set(c, (column = columnOn(this.xs, c)));
      return column;
    });
    this.byCurve = kept;
    return [this.xs, ...columns];
  }
}

/**
 * Downsamplings kept by the values they came from: a trace's arrays are the same objects while
 * its run's history is (TraceCache), so when a few of a thousand runs arrive only their curves are
 * downsampled again, not every curve of the card. `key` names the rest of what the result depends
 * on (the extent, the bucket count, the log scale).
 */
export class DecimationCache {
  private readonly byValues = new WeakMap<readonly (number | null)[], { xs: readonly number[]; key: string; column: Column; decimated: Decimated }>();

  get(
    xs: readonly number[],
    values: readonly (number | null)[],
    key: string,
    make: () => { column: Column; decimated: Decimated },
  ): { column: Column; decimated: Decimated } {
    const hit = this.byValues.get(values);
    if (hit && hit.xs === xs && hit.key === key) return hit;
    const made = { xs, key, ...make() };
    this.byValues.set(values, made);
    return made;
  }
}

const present = new WeakMap<readonly (number | null | undefined)[], Int32Array>();

/**
 * The indexes of an aligned column that hold a value, ascending; kept per column (columns stay
 * the same arrays from one batch to the next: ColumnAligner). A curve drawn among a thousand
 * others on one x column holds a few of its places: what is drawn or counted of it is found from
 * these, not by walking every place of the column.
 */
export function presentIndexes(column: readonly (number | null | undefined)[]): Int32Array {
  let at = present.get(column);
  if (at) return at;
  let n = 0;
  for (const v of column) if (v !== null && v !== undefined) n += 1;
  at = new Int32Array(n);
  let k = 0;
  column.forEach((v, i) => {
    if (v !== null && v !== undefined) at[k++] = i;
  });
  present.set(column, at);
  return at;
}

/** How many of the ascending `at` lie in [from, to]. */
export function countWithin(at: Int32Array, from: number, to: number): number {
  const first = (x: number): number => {
    let lo = 0;
    let hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((at[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return Math.max(0, first(to + 1) - first(from));
}
