// A card of many curves draws its lines on a canvas of its own, over uPlot's, a slice of a frame's
// budget at a time: a thousand runs are three thousand curves on one card, and uPlot drew them in
// one go, holding the main thread for 150 ms and more per drawing. uPlot keeps the scales, axes,
// grid, bands, cursor and focus; each of its drawings starts the layer's anew (new data, size,
// zoom or highlighted curve). The slices draw into a buffer shown whole when the last is done, so
// a card is never seen half drawn; the markers are drawn last, over the curves, as uPlot's plugin
// draws them on an ordinary card.
import type uPlot from 'uplot';

/** Cards with more curves than this draw them in slices on the layer; fewer stay uPlot's (a zoom then redraws in one frame). */
export const LAYERED_CURVES = 100;

/** Work per slice (ms): well under the 50 ms of a long task, with room for the rest of the frame. */
export const SLICE_MS = 8;

export interface Slicer {
  /** Calls each(0…count−1) over as many tasks as the budget asks, then done(); a new start drops the one under way. */
  start(count: number, each: (index: number) => void, done: () => void): void;
  cancel(): void;
}

/**
 * Work split into slices of `budget` ms, each in a task of its own: the first one too, not in the
 * task that asked (uPlot's drawing of the card, its scales and axes, 20 ms and more of its own).
 */
export function slicer(
  budget = SLICE_MS,
  clock: () => number = () => performance.now(),
  later: (run: () => void) => void = (run) => void setTimeout(run, 0),
): Slicer {
  let generation = 0;
  return {
    start(count, each, done) {
      generation += 1;
      const mine = generation;
      let next = 0;
      const slice = (): void => {
        if (mine !== generation) return;
        const started = clock();
        // At least one piece a slice, so a piece longer than the budget still gets done.
        do {
          if (next >= count) break;
          each(next);
          next += 1;
        } while (clock() - started < budget);
        if (next >= count) {
          generation += 1;
          done();
        } else later(slice);
      };
      later(slice);
    },
    cancel() {
      generation += 1;
    },
  };
}

/**
 * New data for a chart whose layer is painting: held, and only the newest, until the paint is
 * shown. A thousand runs arrive in some sixty batches, and a paint of three thousand curves takes
 * longer than the time between them: each new batch started the paint anew, so most of the
 * drawing was thrown away and the card showed nothing new until the last batch.
 */
export interface PaintGate<T> {
  /** Applies `value` now, or holds it (in place of any held before) while a paint is under way. */
  offer(value: T): void;
  /** A paint began. */
  painting(): void;
  /** The paint is shown: the value held meanwhile, if any, is applied. */
  painted(): void;
  /** Whether a paint is under way. */
  busy(): boolean;
}

export function paintGate<T>(apply: (value: T) => void): PaintGate<T> {
  let busy = false;
  let held: { value: T } | null = null;
  return {
    offer(value) {
      if (busy) held = { value };
      else apply(value);
    },
    painting() {
      busy = true;
    },
    painted() {
      busy = false;
      const next = held;
      held = null;
      if (next) apply(next.value);
    },
    busy: () => busy,
  };
}

/**
 * While a card's runs are read, its paints rest this many times as long as they took: a paint is
 * every curve, the layer kept painting all the time (3-4 s of its CPU while a thousand runs load),
 * and a picture a few seconds old while they arrive is enough.
 */
export const PAINT_REST = 3;

/**
 * When a card sends its next data: `interval` after its last sending at the soonest and, while
 * more of its runs are being read, after a rest of PAINT_REST times its last paint once that paint
 * is shown; the last of them goes without the rest.
 */
export function nextSendAt(last: { readonly sent: number; readonly painted: number; readonly paintMs: number }, interval: number, reading: boolean): number {
  return Math.max(last.sent + interval, reading ? last.painted + PAINT_REST * last.paintMs : 0);
}

/** One line of uPlot's as its drawPath strokes it: width in device pixels, half-pixel aligned, clipped to the plot. */
export function strokeLine(ctx: CanvasRenderingContext2D, u: uPlot, si: number, paths: uPlot.Series.Paths, ratio: number): void {
  const s = u.series[si] as uPlot.Series;
  const width = Math.round((s.width ?? 1) * ratio * 1000) / 1000;
  if (!(width > 0) || !paths.stroke) return;
  const offset = (width % 2) / 2;
  const { left, top, width: plotWidth, height: plotHeight } = u.bbox;
  ctx.save();
  if (offset > 0) ctx.translate(offset, offset);
  const bounds = new Path2D();
  bounds.rect(left - width / 2, top - width / 2, plotWidth + width, plotHeight + width);
  ctx.clip(bounds);
  if (paths.clip) ctx.clip(paths.clip);
  ctx.globalAlpha = s.alpha ?? 1;
  ctx.strokeStyle = (typeof s.stroke === 'function' ? s.stroke(u, si) : s.stroke) ?? 'transparent';
  ctx.lineWidth = width;
  ctx.lineJoin = 'round';
  ctx.lineCap = s.cap ?? 'butt';
  ctx.setLineDash(s.dash ?? []);
  ctx.stroke(paths.stroke as Path2D);
  ctx.restore();
}

/** A series' dots as uPlot's drawPath draws points: filled (white when uPlot would default it) and ringed. */
export function drawPoints(ctx: CanvasRenderingContext2D, u: uPlot, si: number, ratio: number): void {
  const s = u.series[si] as uPlot.Series;
  const points = s.points as Required<Pick<uPlot.Series.Points, 'paths' | 'width' | 'stroke' | 'fill'>> & uPlot.Series.Points;
  const idxs = u.series[0]?.idxs ?? [0, (u.data[0]?.length ?? 1) - 1];
  const builder = points.paths as unknown as uPlot.Series.PathBuilder;
  const paths = builder(u, si, idxs[0] as number, idxs[1] as number);
  if (!paths) return;
  const width = Math.round((points.width ?? 1) * ratio * 1000) / 1000;
  const stroke = (typeof points.stroke === 'function' ? points.stroke(u, si) : points.stroke) ?? null;
  const filled = (typeof points.fill === 'function' ? points.fill(u, si) : points.fill) ?? null;
  const fill = filled ?? (width > 0 ? '#fff' : stroke);
  const offset = (width % 2) / 2;
  ctx.save();
  if (offset > 0) ctx.translate(offset, offset);
  if (paths.clip) ctx.clip(paths.clip);
  ctx.globalAlpha = s.alpha ?? 1;
  ctx.lineWidth = width;
  ctx.lineJoin = 'round';
  ctx.lineCap = points.cap ?? 'butt';
  ctx.setLineDash(points.dash ?? []);
  if (paths.fill && fill) {
    ctx.fillStyle = fill as string;
    ctx.fill(paths.fill as Path2D);
  }
  if (width > 0 && paths.stroke && stroke) {
    ctx.strokeStyle = stroke as string;
    ctx.stroke(paths.stroke as Path2D);
  }
  ctx.restore();
}

export interface SeriesLayer {
  /**
   * Draws these series (uPlot's indexes, in order), does the `before` pieces (what `over` needs
   * worked out: the markers' layout), then draws `over`, and shows the whole when done. `onTop`:
   * the series are drawn over those of the last paint (new curves, the scales and size unchanged)
   * rather than on a clean buffer.
   */
  draw(
    series: readonly number[],
    one: (ctx: CanvasRenderingContext2D, si: number) => void,
    over: (ctx: CanvasRenderingContext2D) => void,
    shown: () => void,
    before?: readonly (() => void)[],
    onTop?: boolean,
  ): void;
  /** Shows nothing (the card went back to drawing its curves with uPlot). */
  clear(): void;
  destroy(): void;
}

/** The layer: a canvas the size of uPlot's, over it and under its cursor overlay (which keeps the pointer). */
export function seriesLayer(u: uPlot, slices: Slicer = slicer()): SeriesLayer {
  const shown = document.createElement('canvas');
  shown.className = 'series-layer';
  shown.style.position = 'absolute';
  shown.style.left = '0';
  shown.style.top = '0';
  shown.style.pointerEvents = 'none';
  u.over.parentElement?.insertBefore(shown, u.over);
  const buffer = document.createElement('canvas');
  let empty = true;
  const fit = (canvas: HTMLCanvasElement): void => {
    const { width, height } = u.ctx.canvas;
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
  };
  return {
    draw(series, one, over, done, before = [], onTop = false) {
      fit(buffer);
      // Read from (below), so kept in memory rather than on the GPU: a read of it is no round trip.
      const ctx = buffer.getContext('2d', { willReadFrequently: true });
      if (!ctx) return;
      if (!onTop) ctx.clearRect(0, 0, buffer.width, buffer.height);
      slices.start(
        series.length + before.length,
        (k) => {
          if (k >= series.length) {
            (before[k - series.length] as () => void)();
            return;
          }
          one(ctx, series[k] as number);
          // The canvas records what is drawn and turns it into pixels later, all at once: on the
          // copy above that was every curve's work in one task, and at the end of a slice several
          // times the slice's budget. A read of one pixel does it now, counted in the budget.
          ctx.getImageData(0, 0, 1, 1);
        },
        () => {
          fit(shown);
          shown.style.width = u.ctx.canvas.style.width;
          shown.style.height = u.ctx.canvas.style.height;
          const visible = shown.getContext('2d');
          if (visible) {
            visible.clearRect(0, 0, shown.width, shown.height);
            visible.drawImage(buffer, 0, 0);
            over(visible);
          }
          empty = false;
          done();
        },
      );
    },
    clear() {
      slices.cancel();
      if (empty) return;
      shown.getContext('2d')?.clearRect(0, 0, shown.width, shown.height);
      empty = true;
    },
    destroy() {
      slices.cancel();
      shown.remove();
    },
  };
}
