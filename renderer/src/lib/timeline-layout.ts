// Where the timeline draws things: one lane per run (in the list's order), each checkpoint at its
// step or its wall time along x, and a lineage line from a continued run's parent checkpoint to
// the start of its own lane. Pure numbers in content coordinates (y grows down the scrolled
// content), so the canvas, hit-testing and the tests all use the same geometry.
import type { CheckpointInfo } from './contract.js';
import type { Lane } from './lanes.js';

export type TimeAxis = 'step' | 'time';

export interface TimelineGeometry {
  /** The drawing's full width, in CSS pixels. */
  readonly width: number;
  /** Left band for the runs' names. */
  readonly gutter: number;
  readonly laneHeight: number;
  /** The axis band above the first lane. */
  readonly axisHeight: number;
  /** Room at both ends of the x range so end points are not cut in half. */
  readonly padding: number;
}

export const DEFAULT_GEOMETRY: TimelineGeometry = { width: 800, gutter: 200, laneHeight: 28, axisHeight: 24, padding: 14 };

export interface TimelinePoint {
  readonly checkpoint: CheckpointInfo;
  readonly lane: number;
  readonly x: number;
  readonly y: number;
}

export interface LaneLayout {
  readonly lane: Lane;
  readonly index: number;
  readonly y: number;
  /** Sorted by x (in wall time, not always step order): what hit-testing searches. */
  readonly points: readonly TimelinePoint[];
  /** Where the lane's line starts (its branch point when continued) and ends. */
  readonly fromX: number;
  readonly toX: number;
}

export interface LineageLink {
  readonly run: string;
  readonly parent: { readonly run: string; readonly step: number };
  readonly from: { readonly x: number; readonly y: number };
  readonly to: { readonly x: number; readonly y: number };
  /** The parent checkpoint is no longer listed (deleted, or its run is gone): drawn dashed. */
  readonly parentMissing: boolean;
}

export interface Tick {
  readonly x: number;
  readonly value: number;
}

export interface TimelineLayout {
  readonly axis: TimeAxis;
  readonly lanes: readonly LaneLayout[];
  readonly links: readonly LineageLink[];
  readonly domain: readonly [number, number];
  readonly ticks: readonly Tick[];
  /** Content height: the axis band and every lane. */
  readonly height: number;
  /** Checkpoints without a creation time, left out of the wall-time axis. */
  readonly undated: number;
  readonly pointCount: number;
}

function valueOf(checkpoint: CheckpointInfo, axis: TimeAxis): number | null {
  if (axis === 'step') return checkpoint.step;
  const ms = checkpoint.createdAt ? Date.parse(checkpoint.createdAt) : Number.NaN;
  return Number.isFinite(ms) ? ms : null;
}

export function laneY(index: number, geometry: TimelineGeometry): number {
  return geometry.axisHeight + index * geometry.laneHeight + geometry.laneHeight / 2;
}

/** Round tick values (1, 2 or 5 times a power of ten; whole steps; time in round units). */
export function niceTicks(min: number, max: number, target: number, axis: TimeAxis): number[] {
  if (!(max > min) || target < 1) return [min];
  const raw = (max - min) / target;
  let step: number;
  if (axis === 'time') {
    const units = [1e3, 5e3, 15e3, 3e4, 6e4, 3e5, 9e5, 18e5, 36e5, 3 * 36e5, 6 * 36e5, 12 * 36e5, 864e5, 7 * 864e5, 30 * 864e5];
    step = units.find((u) => u >= raw) ?? Math.ceil(raw / (30 * 864e5)) * 30 * 864e5;
  } else {
    const power = 10 ** Math.floor(Math.log10(raw));
    step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
    step = Math.max(1, step);
  }
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max; v += step) ticks.push(v);
  return ticks;
}

/** A lane's checkpoints placed on one axis, by value: made once per lane object and axis (a change replaces only its run's lane). */
interface LaneAxis {
  readonly placed: readonly CheckpointInfo[];
  /** Each placed checkpoint's value on the axis, ascending. */
  readonly values: Float64Array;
  readonly undated: number;
}

const laneAxes: Record<TimeAxis, WeakMap<Lane, LaneAxis>> = { step: new WeakMap(), time: new WeakMap() };

function laneAxis(lane: Lane, axis: TimeAxis): LaneAxis {
  const cached = laneAxes[axis].get(lane);
  if (cached) return cached;
  let made: LaneAxis;
  // A lane is sorted by step already; on wall time its points are sorted by time (not always step order).
  if (axis === 'step') made = { placed: lane.checkpoints, values: Float64Array.from(lane.checkpoints, (c) => c.step), undated: 0 };
  else {
    const dated: { checkpoint: CheckpointInfo; value: number }[] = [];
    for (const checkpoint of lane.checkpoints) {
      const value = valueOf(checkpoint, axis);
      if (value !== null) dated.push({ checkpoint, value });
    }
    dated.sort((a, b) => a.value - b.value);
    made = { placed: dated.map((d) => d.checkpoint), values: Float64Array.from(dated, (d) => d.value), undated: lane.checkpoints.length - dated.length };
  }
  laneAxes[axis].set(lane, made);
  return made;
}

/** A lane laid out; its points are made when first read (hit-testing, drawing), so only the lanes in view ever make theirs. */
class LaidLane implements LaneLayout {
  private made: TimelinePoint[] | null = null;

  constructor(
    readonly lane: Lane,
    readonly index: number,
    readonly y: number,
    private readonly axis: LaneAxis,
    private readonly scale: (v: number) => number,
    readonly fromX: number,
    readonly toX: number,
  ) {}

  get points(): readonly TimelinePoint[] {
    if (this.made === null) {
      const { placed, values } = this.axis;
      this.made = placed.map((checkpoint, i) => ({ checkpoint, lane: this.index, x: this.scale(values[i] ?? 0), y: this.y }));
    }
    return this.made;
  }
}

/**
 * `zoom`, when given, is the part of the full range shown, as fractions [from, to] of it (a
 * zoomed-in view); points outside it fall beyond the drawing's edges and are not hit.
 */
export function layoutTimeline(
  lanes: readonly Lane[],
  axis: TimeAxis,
  geometry: TimelineGeometry = DEFAULT_GEOMETRY,
  zoom: readonly [number, number] = [0, 1],
): TimelineLayout {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let undated = 0;
  let pointCount = 0;
  const axes = lanes.map((lane) => {
    const placed = laneAxis(lane, axis);
    undated += placed.undated;
    pointCount += placed.placed.length;
    const first = placed.values[0];
    const last = placed.values[placed.values.length - 1];
    if (first !== undefined && first < min) min = first;
    if (last !== undefined && last > max) max = last;
    return placed;
  });
  const runStart = (lane: Lane): number | null => {
    const ms = lane.info?.createdAt ? Date.parse(lane.info.createdAt) : Number.NaN;
    return Number.isFinite(ms) ? ms : null;
  };
  // A continued run branches at its parent's step, even when that checkpoint is gone.
  for (const lane of lanes) {
    const parent = lane.info?.parent;
    if (!parent) continue;
    const v = axis === 'step' ? parent.step : runStart(lane);
    if (v !== null) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  if (!Number.isFinite(min)) {
    min = 0;
    max = 1;
  }
  if (max === min) {
    const pad = axis === 'step' ? 1 : 1000;
    // Steps start at 0: a lone checkpoint at step 0 (an import that recorded none) is not drawn among negative steps.
    min = axis === 'step' ? Math.max(0, min - pad) : min - pad;
    max += pad;
  }
  const full = max - min;
  const [from, to] = clampZoom(zoom);
  min += full * from;
  max = min + full * (to - from);
  const left = geometry.gutter + geometry.padding;
  const span = Math.max(1, geometry.width - left - geometry.padding);
  const scale = (v: number): number => left + ((v - min) / (max - min)) * span;

  const byRun = new Map<string, { index: number; y: number }>();
  lanes.forEach((lane, index) => byRun.set(lane.run, { index, y: laneY(index, geometry) }));
  const links: LineageLink[] = [];
  const laid = lanes.map((lane, index) => {
    const y = laneY(index, geometry);
    const placed = axes[index] as LaneAxis;
    const firstValue = placed.values[0];
    const lastValue = placed.values[placed.values.length - 1];
    let fromX = firstValue === undefined ? left : scale(firstValue);
    let toX = lastValue === undefined ? fromX : scale(lastValue);
    const parent = lane.info?.parent;
    if (parent) {
      const parentLane = byRun.get(parent.run);
      const parentPlaced = parentLane === undefined ? undefined : axes[parentLane.index];
      // The parent's first checkpoint at the branch step, found in its values: its points are not made.
      const at = parentPlaced ? parentPlaced.placed.findIndex((c) => c.step === parent.step) : -1;
      const parentX = parentPlaced && at >= 0 ? scale(parentPlaced.values[at] ?? 0) : null;
      const start = runStart(lane);
      let linkFromX: number;
      if (parentX !== null) linkFromX = parentX;
      else if (axis === 'step') linkFromX = scale(parent.step);
      else linkFromX = start !== null ? scale(start) : fromX;
      const linkToX = axis === 'step' ? scale(parent.step) : start !== null ? scale(start) : fromX;
      links.push({ run: lane.run, parent, from: { x: linkFromX, y: parentLane ? parentLane.y : y }, to: { x: linkToX, y }, parentMissing: parentX === null });
      fromX = Math.min(linkToX, fromX);
      toX = Math.max(toX, linkToX);
    }
    return new LaidLane(lane, index, y, placed, scale, fromX, toX);
  });

  const target = Math.max(2, Math.floor(span / 110));
  const ticks = niceTicks(min, max, target, axis).map((value) => ({ value, x: scale(value) }));
  return {
    axis,
    lanes: laid,
    links,
    domain: [min, max],
    ticks,
    height: geometry.axisHeight + lanes.length * geometry.laneHeight,
    undated,
    pointCount,
  };
}

/** A zoom kept inside the full range and no narrower than a thousandth of it. */
export function clampZoom(zoom: readonly [number, number]): [number, number] {
  const width = Math.min(1, Math.max(0.001, zoom[1] - zoom[0]));
  const from = Math.min(1 - width, Math.max(0, zoom[0]));
  return [from, from + width];
}

/** Zooms by `factor` (below 1: in) keeping the fraction `at` of the view where it is (under the pointer). */
export function zoomAround(zoom: readonly [number, number], at: number, factor: number): [number, number] {
  const width = (zoom[1] - zoom[0]) * factor;
  const anchor = zoom[0] + (zoom[1] - zoom[0]) * at;
  return clampZoom([anchor - width * at, anchor - width * at + width]);
}

/** Moves the view by `shift` of its own width (negative: left). */
export function panZoom(zoom: readonly [number, number], shift: number): [number, number] {
  const width = zoom[1] - zoom[0];
  return clampZoom([zoom[0] + width * shift, zoom[1] + width * shift]);
}

/** The point under (x, y) in content coordinates, within `radius` pixels along x; the nearest wins. */
export function pointAt(layout: TimelineLayout, x: number, y: number, geometry: TimelineGeometry, radius = 7): TimelinePoint | null {
  const index = Math.floor((y - geometry.axisHeight) / geometry.laneHeight);
  const lane = layout.lanes[index];
  if (!lane || Math.abs(y - lane.y) > geometry.laneHeight / 2) return null;
  if (x < geometry.gutter || x > geometry.width) return null;
  const nearest = nearestInLane(lane, x);
  return nearest && Math.abs(nearest.x - x) <= radius ? nearest : null;
}

/** The lane's point nearest to x (binary search: lanes hold thousands). */
export function nearestInLane(lane: LaneLayout, x: number): TimelinePoint | null {
  const points = lane.points;
  if (points.length === 0) return null;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid]?.x ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  const after = points[lo];
  const before = points[lo - 1];
  if (before && after && Math.abs(before.x - x) <= Math.abs(after.x - x)) return before;
  return after ?? before ?? null;
}

/** Lanes that intersect a vertical window of the content, for drawing only what is seen. */
export function visibleLanes(layout: TimelineLayout, top: number, height: number, geometry: TimelineGeometry): [number, number] {
  const first = Math.max(0, Math.floor((top - geometry.axisHeight) / geometry.laneHeight));
  const last = Math.min(layout.lanes.length, Math.ceil((top + height - geometry.axisHeight) / geometry.laneHeight));
  return [first, Math.max(first, last)];
}
