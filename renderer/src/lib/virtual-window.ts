// Which rows of a fixed-height list to render: the visible ones and a few beyond each edge, so
// 10,000 checkpoints cost what 40 do.

export interface VirtualWindow {
  readonly start: number;
  readonly end: number;
  /** Pixels above the first rendered row. */
  readonly offset: number;
  /** The full height of the list. */
  readonly total: number;
}

export function virtualWindow(count: number, rowHeight: number, scrollTop: number, viewportHeight: number, overscan = 8): VirtualWindow {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(viewportHeight, rowHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, offset: start * rowHeight, total: count * rowHeight };
}

/** The scrollTop that brings row `index` into view, or null when it is already visible. */
export function scrollToReveal(index: number, rowHeight: number, scrollTop: number, viewportHeight: number): number | null {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewportHeight) return top + rowHeight - viewportHeight;
  return null;
}
