// Checkpoint markers as the canvas shows them: thinned to what can be told apart, and the one a
// click means. Positions are CSS pixels in the plot; a null position is out of view.

export interface MarkerSpot {
  readonly left: number;
  readonly top: number;
  /** Higher draws first and is never hidden by a lower one (selected, best, latest, warning). */
  readonly rank: number;
}

/**
 * Which markers are drawn: in order of rank, then as given (a run's checkpoints by step), each
 * one at least `gap` pixels from every marker kept before it. A run saving every few steps shows
 * a marker every `gap` pixels instead of a string of beads; the selected, best and latest ones
 * always show, and hide the plain ones around them.
 */
export function thinMarkers(spots: readonly (MarkerSpot | null)[], gap: number): boolean[] {
  const kept = spots.map(() => false);
  // By rank, highest first, then as given: ranks are a few small numbers, so grouped, not sorted
  // (a hundred thousand markers of a thousand runs are thinned on every drawing).
  const byRank = new Map<number, number[]>();
  spots.forEach((s, i) => {
    if (!s) return;
    const group = byRank.get(s.rank);
    if (group) group.push(i);
    else byRank.set(s.rank, [i]);
  });
  const order = [...byRank.keys()].sort((a, b) => b - a).flatMap((rank) => byRank.get(rank) as number[]);
  // A grid of cells `gap` wide: a marker's neighbours closer than `gap` are in its 3×3 cells.
  const cells = new Map<number, number[]>();
  const cell = (v: number): number => Math.floor(v / gap);
  const key = (cx: number, cy: number): number => cx * 1_000_003 + cy;
  const gap2 = gap * gap;
  for (const i of order) {
    const s = spots[i] as MarkerSpot;
    const cx = cell(s.left);
    const cy = cell(s.top);
    let clear = true;
    for (let dx = -1; dx <= 1 && clear; dx += 1)
      for (let dy = -1; dy <= 1 && clear; dy += 1)
        for (const j of cells.get(key(cx + dx, cy + dy)) ?? []) {
          const o = spots[j] as MarkerSpot;
          if ((o.left - s.left) ** 2 + (o.top - s.top) ** 2 < gap2) {
            clear = false;
            break;
          }
        }
    if (!clear && s.rank === 0) continue;
    kept[i] = true;
    const here = cells.get(key(cx, cy));
    if (here) here.push(i);
    else cells.set(key(cx, cy), [i]);
  }
  return kept;
}

/** The drawn marker nearest to the pointer, within `radius` pixels; −1 when none is. */
export function nearestMarker(spots: readonly (MarkerSpot | null)[], kept: readonly boolean[], left: number, top: number, radius: number): number {
  let best = -1;
  let bestDistance = radius * radius;
  spots.forEach((s, i) => {
    if (!s || !kept[i]) return;
    const d = (s.left - left) ** 2 + (s.top - top) ** 2;
    if (d <= bestDistance) {
      best = i;
      bestDistance = d;
    }
  });
  return best;
}
