// The tooltip of a card: the curves at the cursor's x, at most a few of them (the nearest to the
// cursor's y), in the order asked for, and where the tooltip goes: beside the card, outside its
// plot, and always on screen.

export type TooltipSort = 'nearest' | 'value' | 'name';
export const TOOLTIP_SORTS: readonly TooltipSort[] = ['nearest', 'value', 'name'];

/** Rows a tooltip lists at most: with 121 runs it listed 243 and ran off the screen. */
export const TOOLTIP_ROWS = 8;

export interface TipRow {
  readonly key: string;
  readonly run: string;
  readonly kind: string;
  /** The value drawn bold (the smoothed one, or the raw one without smoothing). */
  readonly smoothed: number | null;
}

/**
 * The rows shown: the `limit` nearest the cursor's y (distance measured on the axis's scale, so
 * log when it is log), then sorted as asked; the nearest first among equals. Also the key of
 * the nearest curve, which the chart highlights, and how many rows were left out.
 */
export function tooltipRows<R extends TipRow>(
  rows: readonly R[],
  cursorY: number | null,
  sort: TooltipSort,
  log: boolean,
  limit = TOOLTIP_ROWS,
): { rows: R[]; nearest: string | null; hidden: number } {
  const scale = (v: number): number => (log ? (v > 0 ? Math.log10(v) : -Infinity) : v);
  const distance = (r: R): number =>
    r.smoothed === null || !Number.isFinite(r.smoothed) || cursorY === null || !Number.isFinite(cursorY)
      ? Infinity
      : Math.abs(scale(r.smoothed) - scale(cursorY));
  const byDistance = rows.map((row, i) => ({ row, i, d: distance(row) })).sort((a, b) => a.d - b.d || a.i - b.i);
  const kept = byDistance.slice(0, Math.max(0, limit));
  const nearest = kept[0] && Number.isFinite(kept[0].d) ? kept[0].row.key : null;
  const value = (r: R): number => (r.smoothed === null || !Number.isFinite(r.smoothed) ? -Infinity : r.smoothed);
  if (sort === 'value') kept.sort((a, b) => value(b.row) - value(a.row) || a.d - b.d);
  else if (sort === 'name') kept.sort((a, b) => a.row.run.localeCompare(b.row.run) || a.row.kind.localeCompare(b.row.kind));
  return { rows: kept.map((k) => k.row), nearest, hidden: rows.length - kept.length };
}

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/**
 * Where the tooltip goes (viewport pixels, its top left): right of the card when it fits on
 * screen, else left of it, else below it, else above it; level with the cursor (clamped to the
 * screen) beside the card, at the cursor's x (clamped) below or above it. Never over the plot
 * while there is room outside it, never off the screen.
 */
export function placeTooltip(
  card: Box,
  tip: { width: number; height: number },
  viewport: { width: number; height: number },
  cursor: { x: number; y: number },
  gap = 8,
): { left: number; top: number } {
  const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(v, Math.max(lo, hi)));
  const level = clamp(cursor.y - tip.height / 2, gap, viewport.height - tip.height - gap);
  const across = clamp(cursor.x - tip.width / 2, gap, viewport.width - tip.width - gap);
  if (card.right + gap + tip.width <= viewport.width - gap) return { left: card.right + gap, top: level };
  if (card.left - gap - tip.width >= gap) return { left: card.left - gap - tip.width, top: level };
  if (card.bottom + gap + tip.height <= viewport.height - gap) return { left: across, top: card.bottom + gap };
  if (card.top - gap - tip.height >= gap) return { left: across, top: card.top - gap - tip.height };
  // No room outside the card: its far side from the cursor.
  return { left: cursor.x > (card.left + card.right) / 2 ? clamp(card.left + gap, gap, viewport.width - tip.width - gap) : across, top: level };
}
