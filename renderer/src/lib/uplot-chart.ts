// uPlot behind a small interface: made when its element is in the page, fed aligned columns,
// sized to its container. Checkpoint markers are drawn on the canvas by a plugin, thinned to what
// can be told apart; it reports where each one landed and which were drawn, so the card can tell
// which one a click or the keyboard means. Drag zooms the x axis
// (every card of the sync group alike), double-click resets; the zoom window is reported so the
// card can downsample again at the new resolution. uPlot is loaded on first use, after the locale
// guard has made navigator.language a tag Intl accepts.
import 'uplot/dist/uPlot.min.css';
import type uPlot from 'uplot';
import type { XAxisMode } from './chart-data';
import { lastAtOrBefore } from './chart-data';
import { linearTickLabels, logTickLabel, logTicks } from './axis-ticks';
import { type MarkerLayout, layoutFrom, thinning } from './marker-hits';
import { yRange } from './y-range';
import { countWithin, presentIndexes } from './downsample';
import { LAYERED_CURVES, type SeriesLayer, drawPoints, paintGate, seriesLayer, strokeLine } from './series-layer';

export interface Curve {
  readonly label: string;
  readonly stroke: string;
  readonly width: number;
  readonly dash?: readonly number[];
  /** Dots on the points while there are few in view (a lone point is otherwise invisible). */
  readonly points: boolean;
  /** Raw values (scaled robustly) or a smoothed curve (always fits). */
  readonly role: 'raw' | 'smoothed';
  /** One edge of a raw min/max band: a 'hi' curve is filled down to the 'lo' curve right after it. */
  readonly band?: 'lo' | 'hi';
}

export interface DrawnMarker {
  readonly x: number;
  readonly y: number;
  readonly color: string;
  readonly latest: boolean;
  readonly best: boolean;
  readonly warning: boolean;
  readonly selected: boolean;
  /** The one the keyboard is on: drawn whatever the thinning, with a focus ring. */
  readonly active: boolean;
}

/** Markers closer than this (CSS pixels) cannot be told apart: one of them is drawn. */
export const MARKER_GAP = 18;

/** Which marker wins a crowded spot: the selected, the keyboard's, then best, latest and damaged ones. */
export function markerRank(m: DrawnMarker): number {
  return (m.selected ? 16 : 0) + (m.active ? 8 : 0) + (m.best ? 4 : 0) + (m.latest ? 2 : 0) + (m.warning ? 1 : 0);
}

export interface ChartSpec {
  readonly curves: readonly Curve[];
  readonly data: uPlot.AlignedData;
  /** Each run's markers, one array per run: marker i is the i-th of them one after another. */
  readonly markers: readonly (readonly DrawnMarker[])[];
  readonly xAxis: XAxisMode;
  readonly logY: boolean;
  readonly ignoreOutliers: boolean;
  readonly height: number;
  /**
   * More of the card's runs are being read: while the scales and size hold, the curves this spec
   * adds are painted over the layer's picture, not every curve again (the last spec, without it,
   * paints them all, in order).
   */
  readonly more?: boolean;
}

export type { MarkerLayout };

export interface ChartEvents {
  /** The x window after a zoom (null: the whole extent), once the zooming settles. */
  onWindow(window: readonly [number, number] | null): void;
  /** The cursor's x and y values and position, null when it leaves. */
  onCursor(cursor: { x: number; y: number; left: number; top: number } | null): void;
  /** Where every marker is (CSS pixels from the chart element's top left; NaN: out of view) and whether it is drawn (thinned out otherwise). */
  onMarkersPlaced(layout: MarkerLayout): void;
  /** The y range drawn and its tick labels: what a test reads to see every point is in view. */
  onDrawn?(y: readonly [number, number], yTicks: readonly string[]): void;
  /**
   * The curves and markers of this spec are on screen (a card of many curves draws them over
   * several tasks); `onTop`: only its new curves were painted, over the last picture (ChartSpec.more).
   */
  onPainted?(painted: ChartSpec, onTop?: boolean): void;
}

export interface ChartHandle {
  /** New data of the same curves; the zoom stays. While a card's layer paints, only the newest is kept, drawn once the paint is shown. */
  update(spec: ChartSpec): void;
  /** Whether a paint of its layer is under way (onPainted says when it is shown). */
  painting(): boolean;
  /** Undoes the zoom: the whole extent, the y axis fitted to it. */
  fit(): void;
  /** Highlights one curve (its index in spec.curves), the others faded; null for none. */
  highlight(curve: number | null): void;
  destroy(): void;
}

/**
 * Axis and scale: what cannot change without a new chart. Curves can grow in place (growsFrom):
 * a thousand runs arriving a few at a time add their curves to the chart, not a new chart of a
 * thousand curves per arrival; any other change of the curves needs a new chart too.
 */
export function chartShape<Spec extends Pick<ChartSpec, 'xAxis' | 'logY' | 'height'>>(spec: Spec): string {
  return JSON.stringify([spec.xAxis, spec.logY, spec.height]);
}

/** uPlot's line paths, once uPlot is loaded (createChart); tests that make no chart go without. */
let linearPaths: uPlot.Series.PathBuilder | null = null;

/**
 * A curve's line from its own first to its own last point in the window: uPlot would find those
 * by walking the aligned column from the window's edges, which for a short run among a thousand
 * on one x column is a walk over every other curve's places, per curve per drawing.
 */
const ownPaths: uPlot.Series.PathBuilder = (u, si, idx0, idx1) => {
  const at = presentIndexes(u.data[si] as (number | null)[]);
  const first = countWithin(at, -Infinity, idx0 - 1);
  const last = countWithin(at, -Infinity, idx1) - 1;
  if (!linearPaths || first > last) return null;
  return linearPaths(u, si, at[first] as number, at[last] as number);
};

/**
 * The curves a card draws on its own layer, in slices (series-layer), by uPlot's index: every line
 * of a card of many curves; none of one of ordinary size. Band edges stay uPlot's (it fills the
 * band between them).
 */
export function layerSeries(curves: readonly Curve[]): number[] {
  return curves.length > LAYERED_CURVES ? curves.flatMap((c, i) => (c.band ? [] : [i + 1])) : [];
}

/** Whether a curve's dots are drawn: while there are few of its points in view. */
const pointsShown = (u: uPlot, si: number): boolean => countInView(u, si) < 60;

/**
 * The uPlot series of a curve. A line (not a band's edge) is left to the card's own layer while
 * `onLayer` says so (series-layer: uPlot then draws neither it nor its dots).
 */
function seriesOf(c: Curve, onLayer: () => boolean = () => false): uPlot.Series {
  // auto: false, each: the y range is worked out here (range, yRange), not from every curve's min and max first.
  if (c.band)
    return {
      label: c.label,
      stroke: 'transparent',
      width: 0,
      spanGaps: true,
      auto: false,
      ...(linearPaths ? { paths: ownPaths } : {}),
      points: { show: false },
    };
  const lines: uPlot.Series.PathBuilder = (u, si, idx0, idx1) => (onLayer() ? null : ownPaths(u, si, idx0, idx1));
  return {
    label: c.label,
    stroke: c.stroke,
    width: c.width,
    ...(c.dash ? { dash: [...c.dash] } : {}),
    spanGaps: true,
    auto: false,
    ...(linearPaths ? { paths: lines } : {}),
    points: c.points ? { show: (u, si) => !onLayer() && pointsShown(u, si), size: 5, fill: c.stroke } : { show: false },
  };
}

const sameCurve = (a: Curve, b: Curve): boolean =>
  a === b ||
  (a.label === b.label &&
    a.stroke === b.stroke &&
    a.width === b.width &&
    a.points === b.points &&
    a.role === b.role &&
    a.band === b.band &&
    (a.dash ?? []).join() === (b.dash ?? []).join());

/**
 * Whether a chart made with curves `now` can take `next` in place: every curve of `now` is in
 * `next`, looking the same and in the same order, and no band (bands pair curves by index).
 * Curves are only added in place: uPlot's delSeries fails on a chart without cursor points.
 */
export function growsFrom(now: readonly Curve[], next: readonly Curve[]): boolean {
  if (now === next) return true;
  if (next.some((c) => c.band)) return now.length === next.length && now.every((c, i) => sameCurve(c, next[i] as Curve));
  let k = 0;
  for (const c of next) if (k < now.length && sameCurve(now[k] as Curve, c)) k += 1;
  return k === now.length;
}

/** Adds to the plot (made with curves `now`) the curves of `next` it lacks, where they go; `next` grows from `now` (growsFrom). */
export function addSeries(plot: Pick<uPlot, 'addSeries'>, now: readonly Curve[], next: readonly Curve[], onLayer?: () => boolean): void {
  let k = 0;
  next.forEach((c, i) => {
    if (k < now.length && sameCurve(now[k] as Curve, c)) k += 1;
    else plot.addSeries(seriesOf(c, onLayer), i + 1);
  });
}

/** uPlot's indexes of the lines (not band edges) of `next` that `now` lacks; `next` grows from `now` (growsFrom). */
export function addedLines(now: readonly Curve[], next: readonly Curve[]): number[] {
  let k = 0;
  return next.flatMap((c, i) => {
    if (k < now.length && sameCurve(now[k] as Curve, c)) {
      k += 1;
      return [];
    }
    return c.band ? [] : [i + 1];
  });
}

/** What the layer's picture depends on besides its curves: the scales, the size, the pixel ratio and the highlighted curve. */
function pictureOf(u: uPlot, ratio: number, highlighted: number | null): string {
  const x = u.scales['x'];
  const y = u.scales['y'];
  return JSON.stringify([x?.min, x?.max, y?.min, y?.max, u.ctx.canvas.width, u.ctx.canvas.height, u.bbox, ratio, highlighted]);
}

function cssVar(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

/** Seconds as the relative axis shows them: 45s, 12m, 1h30m, 2d4h. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (Math.abs(s) < 60) return `${s}s`;
  if (Math.abs(s) < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (Math.abs(s) < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? `${Math.floor((s % 86400) / 3600)}h` : ''}`;
}

/**
 * u.valToPos(·, key, true) as a plain function of the scale as it is now: a hundred thousand
 * markers are placed at once, and uPlot's goes through a few closures per value. Linear and log
 * scales running the usual way are worked out here; anything else, and a value a log scale
 * cannot show, is uPlot's.
 */
export function canvasPosition(u: uPlot, key: 'x' | 'y'): (value: number) => number {
  const scale = u.scales[key];
  const { left, top, width, height } = u.bbox;
  const uplots = (value: number): number => u.valToPos(value, key, true);
  if (!scale || scale.min === undefined || scale.min === null || scale.max === undefined || scale.max === null) return uplots;
  if ((scale.dir ?? 1) !== 1 || (scale.ori ?? (key === 'x' ? 0 : 1)) !== (key === 'x' ? 0 : 1)) return uplots;
  const log = scale.distr === 3;
  if (!log && (scale.distr ?? 1) !== 1) return uplots;
  const min = log ? Math.log10(scale.min) : scale.min;
  const span = (log ? Math.log10(scale.max) : scale.max) - min;
  if (!(span > 0)) return uplots;
  return key === 'x'
    ? (value) => (log && !(value > 0) ? uplots(value) : left + (((log ? Math.log10(value) : value) - min) / span) * width)
    : (value) => (log && !(value > 0) ? uplots(value) : top + height - (((log ? Math.log10(value) : value) - min) / span) * height);
}

/** Markers placed, or thinned, per step of a layout done in steps (MarkerPainter.layoutSteps). */
export const LAYOUT_CHUNK = 10_000;

/** Paints the markers on a canvas (uPlot's, or a card's layer). */
export type MarkerPainter = ((u: uPlot, ctx: CanvasRenderingContext2D) => void) & {
  /**
   * Where the markers land and which are thinned out, worked out in steps of LAYOUT_CHUNK markers,
   * for a layer's slices (a hundred thousand markers took 40-150 ms in one task); none when the
   * last layout still holds. A paint after the last step finds the layout made.
   */
  layoutSteps(u: uPlot): (() => void)[];
};

/**
 * Draws the markers on a canvas. Where they land and which are thinned out is worked out only
 * when the markers or the plot's scales or size change, not on every drawing (a hundred thousand
 * markers of a thousand runs, and a card draws again for every batch of curves and every move of
 * a synced cursor); `placed` hears of each new layout.
 */
export function markerPainter(
  get: () => readonly (readonly DrawnMarker[])[],
  colors: { ring: string; warn: string; focus: string },
  placed: (layout: MarkerLayout) => void,
): MarkerPainter {
  let last: { groups: readonly (readonly DrawnMarker[])[]; starts: Int32Array; key: string; layout: MarkerLayout } | null = null;
  const steps = (u: uPlot, groups: readonly (readonly DrawnMarker[])[], chunk: number): (() => void)[] => {
    const { top, height, left, width } = u.bbox;
    const x = u.scales['x'];
    const y = u.scales['y'];
    const key = [x?.min, x?.max, y?.min, y?.max, left, top, width, height, devicePixelRatio].join();
    if (last && last.key === key && sameGroups(last.groups, groups)) return [];
    const ratio = devicePixelRatio;
    // Where each group starts among the markers one after another.
    const starts = new Int32Array(groups.length + 1);
    groups.forEach((group, g) => (starts[g + 1] = (starts[g] as number) + group.length));
    const n = starts[groups.length] as number;
    const spots = { left: new Float64Array(n), top: new Float64Array(n), rank: new Uint8Array(n) };
    const toX = canvasPosition(u, 'x');
    const toY = canvasPosition(u, 'y');
    const place = (from: number, to: number): void => {
      for (let g = from; g < to; g += 1) {
        let i = starts[g] as number;
        for (const m of groups[g] as readonly DrawnMarker[]) {
          const cx = toX(m.x);
          const cy = toY(m.y);
          const inView = Number.isFinite(cx) && Number.isFinite(cy) && cx >= left - 1 && cx <= left + width + 1 && cy >= top - 1 && cy <= top + height + 1;
          // Canvas pixels from its top left, which is the chart element's.
          spots.left[i] = inView ? cx / ratio : NaN;
          spots.top[i] = inView ? cy / ratio : NaN;
          spots.rank[i] = markerRank(m);
          i += 1;
        }
      }
    };
    const pieces: (() => void)[] = [];
    // Whole groups a piece, up to `chunk` markers (or one group bigger than that).
    for (let from = 0, g = 0; g < groups.length; from = g) {
      do g += 1;
      while (g < groups.length && (starts[g + 1] as number) - (starts[from] as number) <= chunk);
      const to = g;
      pieces.push(() => place(from, to));
    }
    const thin = thinning(spots, MARKER_GAP, chunk);
    // A step that sets the thinning up, then one per chunk of markers.
    for (let k = 0; k <= Math.ceil(n / chunk); k += 1) pieces.push(() => void thin.step());
    pieces.push(() => {
      while (!thin.step());
      last = { groups, starts, key, layout: layoutFrom(spots, thin.kept) };
      placed(last.layout);
    });
    return pieces;
  };
  const layoutOf = (u: uPlot, groups: readonly (readonly DrawnMarker[])[]): NonNullable<typeof last> => {
    for (const piece of steps(u, groups, Infinity)) piece();
    return last as NonNullable<typeof last>;
  };
  const paint = (u: uPlot, ctx: CanvasRenderingContext2D): void => {
    const { top, height, left, width } = u.bbox;
    const ratio = devicePixelRatio;
    const groups = get();
    const { layout, starts } = layoutOf(u, groups);
    ctx.save();
    // As uPlot leaves its canvas after its curves (a card's layer is a canvas of its own).
    ctx.lineJoin = 'round';
    ctx.lineCap = 'butt';
    // Clipped to the plot, with room for a marker on its last point to show whole.
    const room = 10 * ratio;
    ctx.beginPath();
    ctx.rect(left - room, top - room, width + 2 * room, height + 2 * room);
    ctx.clip();
    // Plain markers first, so the ranked ones are drawn over them.
    for (const i of layout.order) {
      const m = markerAt(groups, starts, i);
      const cx = (layout.left[i] as number) * ratio;
      const cy = (layout.top[i] as number) * ratio;
      const r = (m.latest || m.best ? 5.5 : 4) * ratio;
      ctx.lineWidth = 1.5 * ratio;
      ctx.strokeStyle = colors.ring;
      ctx.fillStyle = m.warning ? colors.warn : m.color;
      ctx.beginPath();
      if (m.warning) {
        // A warning triangle: damaged or incomplete.
        ctx.moveTo(cx, cy - r * 1.2);
        ctx.lineTo(cx + r * 1.1, cy + r * 0.8);
        ctx.lineTo(cx - r * 1.1, cy + r * 0.8);
        ctx.closePath();
      } else if (m.best) {
        // A diamond: the best by the chosen metric.
        ctx.moveTo(cx, cy - r * 1.3);
        ctx.lineTo(cx + r * 1.1, cy);
        ctx.lineTo(cx, cy + r * 1.3);
        ctx.lineTo(cx - r * 1.1, cy);
        ctx.closePath();
      } else ctx.arc(cx, cy, r, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
      if (m.latest) {
        // The latest: a ring around it.
        ctx.beginPath();
        ctx.strokeStyle = m.color;
        ctx.lineWidth = 1.5 * ratio;
        ctx.arc(cx, cy, r + 3 * ratio, 0, Math.PI * 2);
        ctx.stroke();
      }
      if (m.selected || m.active) {
        ctx.beginPath();
        ctx.strokeStyle = colors.focus;
        ctx.lineWidth = 2.5 * ratio;
        if (m.active && !m.selected) ctx.setLineDash([3 * ratio, 2 * ratio]);
        ctx.arc(cx, cy, r + 6 * ratio, 0, Math.PI * 2);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    ctx.restore();
  };
  return Object.assign(paint, { layoutSteps: (u: uPlot): (() => void)[] => steps(u, get(), LAYOUT_CHUNK) });
}

function sameGroups(a: readonly (readonly DrawnMarker[])[], b: readonly (readonly DrawnMarker[])[]): boolean {
  return a === b || (a.length === b.length && a.every((group, g) => group === b[g]));
}

/** Marker i of the groups one after another (`starts`: where each group starts). */
function markerAt(groups: readonly (readonly DrawnMarker[])[], starts: Int32Array, i: number): DrawnMarker {
  let lo = 0;
  let hi = groups.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= i) lo = mid;
    else hi = mid - 1;
  }
  return (groups[lo] as readonly DrawnMarker[])[i - (starts[lo] as number)] as DrawnMarker;
}

/** markerPainter on uPlot's own canvas, after its curves, unless `elsewhere` (a card whose curves are on its layer draws them there). */
export function markerPlugin(
  get: () => readonly (readonly DrawnMarker[])[],
  colors: { ring: string; warn: string; focus: string },
  placed: (layout: MarkerLayout) => void,
  elsewhere: () => boolean = () => false,
): uPlot.Plugin & { paint: MarkerPainter } {
  const paint = markerPainter(get, colors, placed);
  return { paint, hooks: { draw: [(u) => (elsewhere() ? undefined : paint(u, u.ctx))] } };
}

/**
 * The first and last indexes of the x column in view, with the point just outside each edge (the
 * line to it crosses the view). While uPlot ranges the y scale, u.scales.x still holds the old
 * window (new data that grew past it would be left out of the y range, and drawn off the chart);
 * the window of this pass is in the series' idxs, which uPlot sets before it ranges y.
 */
function windowIndexes(u: uPlot): [number, number] {
  const xs = u.data[0] as ArrayLike<number> as number[];
  if (xs.length === 0) return [0, -1];
  const idxs = u.series[1]?.idxs;
  if (idxs && typeof idxs[0] === 'number' && typeof idxs[1] === 'number' && idxs[1] >= idxs[0])
    return [Math.max(0, idxs[0] - 1), Math.min(xs.length - 1, idxs[1] + 1)];
  const min = u.scales['x']?.min;
  const max = u.scales['x']?.max;
  const from = min === undefined || min === null ? 0 : Math.max(0, lastAtOrBefore(xs, min));
  const to = max === undefined || max === null ? xs.length - 1 : Math.min(xs.length - 1, lastAtOrBefore(xs, max) + 1);
  return [from, to];
}

export async function createChart(element: HTMLElement, initial: ChartSpec, events: ChartEvents): Promise<ChartHandle> {
  const { default: UPlot } = await import('uplot');
  linearPaths ??= UPlot.paths.linear?.() ?? null;
  let spec = initial;
  const text = cssVar(element, '--text-2', '#666');
  const grid = cssVar(element, '--border', '#ddd');
  const axis: uPlot.Axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const xAxis: uPlot.Axis = {
    ...axis,
    label: spec.xAxis === 'step' ? 'step' : spec.xAxis === 'relative' ? 'relative time' : 'wall time',
    ...(spec.xAxis === 'relative' ? { values: (_u: uPlot, splits: number[]) => splits.map(formatDuration) } : {}),
    ...(spec.xAxis === 'step' ? { values: (_u: uPlot, splits: number[]) => linearTickLabels(splits) } : {}),
  };
  let yTicks: string[] = [];
  const yAxis: uPlot.Axis = {
    ...axis,
    // Wide enough for the longest label (about 7 px a character at the axis's 12 px font).
    size: (_u, values) => Math.max(40, 16 + 7 * Math.max(0, ...(values ?? []).map((v) => String(v).length))),
    ...(spec.logY
      ? {
          splits: (u: uPlot, _axis: number, min: number, max: number) => logTicks(min, max, Math.max(3, Math.floor(u.bbox.height / devicePixelRatio / 28))),
          values: (_u: uPlot, splits: number[]) => (yTicks = splits.map(logTickLabel)),
        }
      : { values: (_u: uPlot, splits: number[]) => (yTicks = linearTickLabels(splits)) }),
  };
  const size = (): { width: number; height: number } => ({ width: Math.max(200, element.clientWidth), height: spec.height });
  const columns = (role: Curve['role']): number[] => spec.curves.flatMap((c, i) => (c.role === role ? [i + 1] : []));
  let zoomed: readonly [number, number] | null = null;
  let highlighted: number | null = null;
  let settle: ReturnType<typeof setTimeout> | null = null;
  // Many curves are drawn on the card's own layer, in slices (series-layer); made with the chart.
  const onLayer = (): boolean => spec.curves.length > LAYERED_CURVES;
  let layer: SeriesLayer | null = null;
  /** The picture (pictureOf) of the layer's last paint shown whole; null while one is under way or after one was dropped. */
  let shownPicture: string | null = null;
  /** The lines the data just applied added, while more runs are read: all the next paint has to draw if the picture holds. */
  let added: number[] | null = null;
  const gate = paintGate<ChartSpec>((next) => {
    added = null;
    if (next.curves !== spec.curves) {
      // Any other change of the curves makes the card a new chart (growsFrom): nothing to draw here.
      if (!growsFrom(spec.curves, next.curves)) return;
      if (next.curves.length !== spec.curves.length) {
        if (next.more && highlighted === null) added = addedLines(spec.curves, next.curves);
        addSeries(plot, spec.curves, next.curves, onLayer);
        // The highlighted curve's index may be another curve's now.
        highlighted = null;
      }
    }
    spec = next;
    // Zoomed in: keep the window (live points and a finer downsampling both land here).
    plot.setData(next.data, zoomed === null);
  });
  const markers = markerPlugin(
    () => spec.markers,
    { ring: cssVar(element, '--surface', '#fff'), warn: cssVar(element, '--warn', '#b35c00'), focus: cssVar(element, '--focus', '#f59f00') },
    (layout) => events.onMarkersPlaced(layout),
    onLayer,
  );
  const plot: uPlot = new UPlot(
    {
      ...size(),
      scales: {
        x: { time: spec.xAxis === 'wall' },
        y: {
          distr: spec.logY ? 3 : 1,
          range: (u, min, max) => {
            const [from, to] = windowIndexes(u);
            const pick = (role: Curve['role']): (number | null)[][] => columns(role).map((i) => u.data[i] as (number | null)[]);
            const range = yRange(pick('raw'), pick('smoothed'), from, to, spec.ignoreOutliers, spec.logY);
            if (range) return range;
            // Nothing in view (the curves leave uPlot's own min and max unknown: auto: false).
            if (!Number.isFinite(min) || !Number.isFinite(max)) return spec.logY ? [1e-3, 1] : [0, 1];
            return spec.logY ? [Math.max(min, 1e-3), Math.max(max, 1)] : [min - 1, max + 1];
          },
        },
      },
      axes: [xAxis, yAxis],
      bands: spec.curves.flatMap((c, i): uPlot.Band[] => (c.band === 'hi' ? [{ series: [i + 1, i + 2], fill: c.stroke }] : [])),
      legend: { show: false },
      // The tooltip's nearest curve is highlighted by fading the others.
      focus: { alpha: 0.25 },
      cursor: {
        drag: { x: true, y: false, setScale: true },
        sync: { key: 'metric-cards', setSeries: false },
        // Only the vertical line: it is synced by x; a horizontal one would mean nothing on the other cards.
        y: false,
        points: { show: false },
        focus: { prox: -1 },
      },
      series: [{ label: 'x' }, ...spec.curves.map((c) => seriesOf(c, onLayer))],
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            const xs = u.data[0] as ArrayLike<number> as number[];
            const min = u.scales['x']?.min;
            const max = u.scales['x']?.max;
            const whole =
              xs.length === 0 ||
              min === undefined ||
              max === undefined ||
              min === null ||
              max === null ||
              (min <= (xs[0] as number) && max >= (xs[xs.length - 1] as number));
            const next = whole ? null : ([min, max] as const);
            if (next === zoomed || (next && zoomed && next[0] === zoomed[0] && next[1] === zoomed[1])) return;
            zoomed = next;
            // One downsampling when the zoom settles, not one per frame of it.
            if (settle !== null) clearTimeout(settle);
            settle = setTimeout(() => {
              settle = null;
              events.onWindow(zoomed);
            }, 80);
          },
        ],
        draw: [
          (u) => {
            const y = u.scales['y'];
            // Not the empty chart a card is made as (it is drawn only once in view).
            if ((u.data[0]?.length ?? 0) === 0) return;
            if (y?.min !== undefined && y.min !== null && y.max !== undefined && y.max !== null) events.onDrawn?.([y.min, y.max], yTicks);
            const only = added;
            added = null;
            if (!onLayer()) {
              shownPicture = null;
              layer?.clear();
              events.onPainted?.(spec);
              gate.painted();
              return;
            }
            layer ??= seriesLayer(u);
            const ratio = devicePixelRatio;
            const painted = spec;
            const picture = pictureOf(u, ratio, highlighted);
            // Only the new curves while nothing else changed since the last paint shown: the old
            // ones are on the layer as they would be drawn again (each paint was every curve so far).
            const onTop = only !== null && picture === shownPicture;
            shownPicture = null;
            gate.painting();
            layer.draw(
              onTop ? only : layerSeries(spec.curves),
              (ctx, si) => {
                const column = u.data[si] as (number | null)[];
                const paths = ownPaths(u, si, 0, column.length - 1);
                if (paths) strokeLine(ctx, u, si, paths, ratio);
                if (spec.curves[si - 1]?.points && pointsShown(u, si)) drawPoints(ctx, u, si, ratio);
              },
              (ctx) => markers.paint(u, ctx),
              () => {
                shownPicture = picture;
                events.onPainted?.(painted, onTop);
                gate.painted();
              },
              markers.paint.layoutSteps(u),
              onTop,
            );
          },
        ],
        setCursor: [
          (u) => {
            const left = u.cursor.left ?? -1;
            const top = u.cursor.top ?? -1;
            if (left < 0) events.onCursor(null);
            else events.onCursor({ x: u.posToVal(left, 'x'), y: u.posToVal(top, 'y'), left: u.over.offsetLeft + left, top: u.over.offsetTop + top });
          },
        ],
      },
      plugins: [markers],
    },
    spec.data,
    element,
  );
  // Hidden (a tab not shown), the element has no width: the chart keeps its size meanwhile.
  const resize = new ResizeObserver(() => {
    if (element.clientWidth > 0) plot.setSize(size());
  });
  resize.observe(element);
  return {
    update(next) {
      gate.offer(next);
    },
    painting: () => gate.busy(),
    fit() {
      const xs = plot.data[0] as ArrayLike<number>;
      if (xs.length === 0) return;
      plot.setScale('x', { min: xs[0] as number, max: xs[xs.length - 1] as number });
    },
    highlight(curve) {
      if (curve === highlighted) return;
      highlighted = curve;
      plot.setSeries(curve === null ? null : curve + 1, { focus: curve !== null });
    },
    destroy() {
      if (settle !== null) clearTimeout(settle);
      resize.disconnect();
      layer?.destroy();
      plot.destroy();
    },
  };
}

/** How many points of a series are in the x window (uPlot's idxs are set before drawing). */
function countInView(u: uPlot, seriesIndex: number): number {
  const [from, to] = windowIndexes(u);
  const column = u.data[seriesIndex] as (number | null)[] | undefined;
  return column ? countWithin(presentIndexes(column), from, to) : 0;
}
