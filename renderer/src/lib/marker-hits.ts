// Checkpoint markers as the canvas shows them: thinned to what can be told apart, and the one a
// click means. Positions are CSS pixels in the plot, in typed arrays (a thousand runs put a
// hundred thousand markers on a card: no object per marker per placement); NaN is out of view.

export interface MarkerSpots {
  readonly left: Float64Array;
  readonly top: Float64Array;
  /** Higher draws first and is never hidden by a lower one (selected, best, latest, warning); below 32. */
  readonly rank: Uint8Array;
}

/** Where a card's markers are and which of them are drawn (thinned out otherwise). */
export interface MarkerLayout extends MarkerSpots {
  readonly drawn: Uint8Array;
  /** The drawn markers in the order they are painted: lowest rank first, so the ranked ones are on top. */
  readonly order: Int32Array;
}

const RANKS = 32;

/**
 * The cells within two of a marker's (dx, dy pairs), but its own: with cells half the gap wide, a
 * marker closer than the gap is in one of them.
 */
const NEIGHBOURS = ((): number[] => {
  const out: number[] = [];
  for (let dx = -2; dx <= 2; dx += 1) for (let dy = -2; dy <= 2; dy += 1) if (dx !== 0 || dy !== 0) out.push(dx, dy);
  return out;
})();

/**
 * Indexes of the spots `chosen` (1), by rank (highest first when `descending`), then as given: a
 * counting sort (ranks are a few small numbers, and a hundred thousand markers are sorted).
 */
function byRank(rank: Uint8Array, chosen: Uint8Array, descending: boolean): Int32Array {
  const n = rank.length;
  const counts = new Int32Array(RANKS + 1);
  let total = 0;
  for (let i = 0; i < n; i += 1) {
    if (chosen[i] !== 1) continue;
    const r = (descending ? RANKS - 1 - (rank[i] as number) : (rank[i] as number)) + 1;
    counts[r] = (counts[r] as number) + 1;
    total += 1;
  }
  for (let r = 1; r <= RANKS; r += 1) counts[r] = (counts[r] as number) + (counts[r - 1] as number);
  const out = new Int32Array(total);
  for (let i = 0; i < n; i += 1) {
    if (chosen[i] !== 1) continue;
    const r = descending ? RANKS - 1 - (rank[i] as number) : (rank[i] as number);
    out[counts[r] as number] = i;
    counts[r] = (counts[r] as number) + 1;
  }
  return out;
}

/**
 * Which markers are drawn: in order of rank, then as given (a run's checkpoints by step), each
 * one at least `gap` pixels from every marker kept before it. A run saving every few steps shows
 * a marker every `gap` pixels instead of a string of beads; the selected, best and latest ones
 * always show, and hide the plain ones around them. A grid of cells half the gap wide holds the
 * kept ones: two markers in one cell are closer than the gap, so where markers crowd (a thousand
 * runs' checkpoints in one column of pixels) a plain one is left out at the first look, at its
 * own cell; else the kept ones closer than the gap are in the cells within two of its.
 */
export function thinMarkers(spots: MarkerSpots, gap: number): Uint8Array {
  const job = thinning(spots, gap);
  while (!job.step());
  return job.kept;
}

/** thinMarkers a share at a time (a hundred thousand markers are tens of milliseconds): each step takes up to `chunk` markers. */
export interface Thinning {
  /** Does the next share; true once every marker is judged. */
  step(): boolean;
  /** Which markers are drawn, once the steps are done. */
  readonly kept: Uint8Array;
}

export function thinning(spots: MarkerSpots, gap: number, chunk = Infinity): Thinning {
  const n = spots.left.length;
  const kept = new Uint8Array(n);
  const gap2 = gap * gap;
  const side = gap / 2;
  interface Grid {
    readonly order: Int32Array;
    readonly head: Int32Array;
    readonly next: Int32Array;
    readonly cols: number;
    readonly minLeft: number;
    readonly minTop: number;
  }
  let grid: Grid | null = null;
  let at = 0;
  const setUp = (): Grid => {
    let minLeft = Infinity;
    let minTop = Infinity;
    let maxLeft = -Infinity;
    let maxTop = -Infinity;
    const inView = new Uint8Array(n);
    for (let i = 0; i < n; i += 1) {
      const l = spots.left[i] as number;
      const t = spots.top[i] as number;
      if (Number.isNaN(l) || Number.isNaN(t)) continue;
      inView[i] = 1;
      if (l < minLeft) minLeft = l;
      if (l > maxLeft) maxLeft = l;
      if (t < minTop) minTop = t;
      if (t > maxTop) maxTop = t;
    }
    if (!Number.isFinite(minLeft)) return { order: new Int32Array(0), head: new Int32Array(0), next: new Int32Array(0), cols: 0, minLeft: 0, minTop: 0 };
    // Two cells of room around the edges, so the look around never leaves the grid.
    const cols = Math.floor((maxLeft - minLeft) / side) + 5;
    const rows = Math.floor((maxTop - minTop) / side) + 5;
    return { order: byRank(spots.rank, inView, true), head: new Int32Array(cols * rows).fill(-1), next: new Int32Array(n), cols, minLeft, minTop };
  };
  return {
    kept,
    step() {
      // The first step finds the grid and the order; the markers are judged from the next one on.
      if (grid === null) {
        grid = setUp();
        return grid.order.length === 0;
      }
      const { order, head, next, cols, minLeft, minTop } = grid;
      const end = Math.min(order.length, at + chunk);
      for (; at < end; at += 1) {
        const i = order[at] as number;
        const l = spots.left[i] as number;
        const t = spots.top[i] as number;
        const cell = (Math.floor((t - minTop) / side) + 2) * cols + Math.floor((l - minLeft) / side) + 2;
        // A ranked marker is drawn whatever is near it.
        if (spots.rank[i] === 0) {
          if ((head[cell] as number) >= 0) continue;
          let clear = true;
          for (let k = 0; k < NEIGHBOURS.length && clear; k += 2)
            for (let j = head[cell + (NEIGHBOURS[k + 1] as number) * cols + (NEIGHBOURS[k] as number)] as number; j >= 0; j = next[j] as number) {
              const ddx = (spots.left[j] as number) - l;
              const ddy = (spots.top[j] as number) - t;
              if (ddx * ddx + ddy * ddy < gap2) {
                clear = false;
                break;
              }
            }
          if (!clear) continue;
        }
        kept[i] = 1;
        next[i] = head[cell] as number;
        head[cell] = i;
      }
      return at >= order.length;
    },
  };
}

/** The spots thinned (thinMarkers) and the order the drawn ones are painted in. */
export function layoutMarkers(spots: MarkerSpots, gap: number): MarkerLayout {
  return layoutFrom(spots, thinMarkers(spots, gap));
}

/** The layout of spots once thinned: the drawn ones in the order they are painted. */
export function layoutFrom(spots: MarkerSpots, drawn: Uint8Array): MarkerLayout {
  return { ...spots, drawn, order: byRank(spots.rank, drawn, false) };
}

/** The drawn marker nearest to the pointer, within `radius` pixels; −1 when none is. */
export function nearestMarker(layout: Pick<MarkerLayout, 'left' | 'top' | 'drawn'>, left: number, top: number, radius: number): number {
  let best = -1;
  let bestDistance = radius * radius;
  for (let i = 0; i < layout.drawn.length; i += 1) {
    if (layout.drawn[i] !== 1) continue;
    const d = ((layout.left[i] as number) - left) ** 2 + ((layout.top[i] as number) - top) ** 2;
    if (d <= bestDistance) {
      best = i;
      bestDistance = d;
    }
  }
  return best;
}
