// Drawing the Distributions view's two charts on a canvas: nested quantile bands over steps
// around the median (TensorBoard's distributions), and the checkpoints' histograms stacked as a
// ridgeline, the newest in front. The geometry is in distribution-geometry.ts.
import type { DistributionPoint } from './contract';
import { type Span, bandPairs, medianIndex, ridgeIndices, ridgeLayout, scale, stepSpan, ticks, valueSpan } from './distribution-geometry';
import { formatMetric } from './format';

export interface Palette {
  readonly accent: string;
  readonly text: string;
  readonly muted: string;
  readonly grid: string;
  readonly surface: string;
  readonly highlight: string;
  /** Marks checkpoints holding NaN or ±Inf. */
  readonly bad: string;
}

export interface Plot {
  readonly width: number;
  readonly height: number;
}

/** Room for the axes' labels. */
export const MARGIN = { left: 64, right: 16, top: 14, bottom: 28 } as const;

type Points = readonly DistributionPoint[];

function withFinite(points: Points): DistributionPoint[] {
  return points.filter((p) => p.quantiles !== null);
}

function axisLabels(
  ctx: CanvasRenderingContext2D,
  plot: Plot,
  palette: Palette,
  x: { span: Span; at: (v: number) => number },
  y: { span: Span; at: (v: number) => number },
): void {
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = palette.muted;
  ctx.strokeStyle = palette.grid;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of ticks(y.span, 5)) {
    const py = Math.round(y.at(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(MARGIN.left, py);
    ctx.lineTo(plot.width - MARGIN.right, py);
    ctx.stroke();
    ctx.fillText(formatMetric(v), MARGIN.left - 6, py);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of ticks(x.span, Math.max(2, Math.floor((plot.width - MARGIN.left - MARGIN.right) / 90)))) {
    if (!Number.isInteger(v) && x.span.hi - x.span.lo > 4) continue;
    ctx.fillText(String(v), x.at(v), plot.height - MARGIN.bottom + 8);
  }
}

/** The bands chart's x scale: steps onto the plot's width (the view maps the cursor back with it). */
export function bandsStepScale(points: Points, plot: Plot): (step: number) => number {
  return scale(stepSpan(points), MARGIN.left, plot.width - MARGIN.right);
}

export function drawBands(
  ctx: CanvasRenderingContext2D,
  plot: Plot,
  points: Points,
  levels: readonly number[],
  palette: Palette,
  hovered: number | null,
): void {
  ctx.clearRect(0, 0, plot.width, plot.height);
  const drawn = withFinite(points);
  const xSpan = stepSpan(points);
  const ySpan = valueSpan(drawn);
  const x = scale(xSpan, MARGIN.left, plot.width - MARGIN.right);
  const y = scale(ySpan, plot.height - MARGIN.bottom, MARGIN.top);
  axisLabels(ctx, plot, palette, { span: xSpan, at: x }, { span: ySpan, at: y });
  const pairs = bandPairs(levels);
  // A lone checkpoint is drawn as a short bar rather than a line of no width.
  const half = drawn.length === 1 ? 6 : 0;
  pairs.forEach(([low, high], depth) => {
    ctx.globalAlpha = 0.16 + 0.14 * depth;
    ctx.fillStyle = palette.accent;
    ctx.beginPath();
    drawn.forEach((p, i) => {
      const px = x(p.step);
      const py = y(p.quantiles?.[high] ?? 0);
      if (i === 0) ctx.moveTo(px - half, py);
      else ctx.lineTo(px, py);
      if (half) ctx.lineTo(px + half, py);
    });
    for (let i = drawn.length - 1; i >= 0; i -= 1) {
      const p = drawn[i] as DistributionPoint;
      const px = x(p.step);
      const py = y(p.quantiles?.[low] ?? 0);
      if (half) ctx.lineTo(px + half, py);
      ctx.lineTo(px - half, py);
    }
    ctx.closePath();
    ctx.fill();
  });
  ctx.globalAlpha = 1;
  const median = medianIndex(levels);
  if (median !== null && drawn.length > 0) {
    ctx.strokeStyle = palette.accent;
    ctx.lineWidth = 2;
    ctx.beginPath();
    drawn.forEach((p, i) => {
      const px = x(p.step);
      const py = y(p.quantiles?.[median] ?? 0);
      if (i === 0) ctx.moveTo(px - half, py);
      else ctx.lineTo(px, py);
      if (half) ctx.lineTo(px + half, py);
    });
    ctx.stroke();
  }
  // NaN and ±Inf have no place on the value axis: a mark above the plot says where they are.
  ctx.fillStyle = palette.bad;
  for (const p of points) {
    if (p.nan + p.inf === 0) continue;
    const px = x(p.step);
    ctx.beginPath();
    ctx.moveTo(px - 5, MARGIN.top - 9);
    ctx.lineTo(px + 5, MARGIN.top - 9);
    ctx.lineTo(px, MARGIN.top - 1);
    ctx.closePath();
    ctx.fill();
  }
  const at = hovered === null ? undefined : points[hovered];
  if (at) {
    ctx.strokeStyle = palette.highlight;
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(Math.round(x(at.step)) + 0.5, MARGIN.top);
    ctx.lineTo(Math.round(x(at.step)) + 0.5, plot.height - MARGIN.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

/** Baselines of the ridges drawn for `points` (by index into points), as drawRidges places them. */
export function ridgePlacement(points: Points, plot: Plot): { indices: number[]; baselines: number[]; peak: number } {
  const indices = ridgeIndices(points.length);
  const layout = ridgeLayout(indices.length, MARGIN.top, plot.height - MARGIN.bottom);
  return { indices, ...layout };
}

function ridgePath(
  ctx: CanvasRenderingContext2D,
  counts: readonly number[],
  base: number,
  height: (count: number) => number,
  left: number,
  width: number,
): void {
  const bin = width / counts.length;
  ctx.beginPath();
  ctx.moveTo(left, base);
  counts.forEach((count, i) => {
    // Through each bin's centre, so the outline reads as a density rather than steps.
    ctx.lineTo(left + bin * (i + 0.5), base - height(count));
  });
  ctx.lineTo(left + width, base);
  ctx.closePath();
}

export function drawRidges(
  ctx: CanvasRenderingContext2D,
  plot: Plot,
  points: Points,
  range: { lo: number; hi: number } | null,
  palette: Palette,
  hovered: number | null,
): void {
  ctx.clearRect(0, 0, plot.width, plot.height);
  if (!range || points.length === 0) return;
  const { indices, baselines, peak } = ridgePlacement(points, plot);
  const left = MARGIN.left;
  const width = plot.width - MARGIN.left - MARGIN.right;
  const tallest = Math.max(1, ...indices.map((i) => Math.max(0, ...(points[i]?.histogram ?? []))));
  const height = (count: number): number => (count / tallest) * peak;
  const x = scale(range, left, left + width);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = palette.muted;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of ticks(range, Math.max(2, Math.floor(width / 90)))) ctx.fillText(formatMetric(v), x(v), plot.height - MARGIN.bottom + 8);
  const labelEvery = Math.max(1, Math.ceil(indices.length / 8));
  // Oldest first: each newer one is drawn over it, in front.
  indices.forEach((index, k) => {
    const point = points[index] as DistributionPoint;
    const base = baselines[k] as number;
    const isHovered = index === hovered;
    ridgePath(ctx, point.histogram, base, height, left, width);
    ctx.fillStyle = palette.surface;
    ctx.fill();
    ctx.globalAlpha = isHovered ? 0.55 : 0.12 + (0.3 * (k + 1)) / indices.length;
    ctx.fillStyle = isHovered ? palette.highlight : palette.accent;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.strokeStyle = isHovered ? palette.highlight : palette.accent;
    ctx.lineWidth = isHovered ? 2 : 1;
    ctx.stroke();
    if (isHovered || k % labelEvery === 0 || k === indices.length - 1) {
      ctx.fillStyle = isHovered ? palette.text : palette.muted;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(String(point.step), left - 6, base);
    }
  });
}
