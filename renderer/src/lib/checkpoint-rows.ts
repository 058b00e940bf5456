// The checkpoint list, flattened for a virtual list: a header row per run, then its checkpoints.
// `order` is the checkpoints alone, in display order: what Shift ranges and arrow keys walk.
import type { CheckpointInfo } from './contract';
import { formatBytes, formatMetric } from './format';
import type { Lane } from './lanes';
import { isInPlace } from './run-names';

export type Row =
  | { readonly kind: 'lane'; readonly key: string; readonly lane: Lane }
  | { readonly kind: 'checkpoint'; readonly key: string; readonly checkpoint: CheckpointInfo; readonly position: number };

export interface Rows {
  /** Rows in all: a header per lane and its checkpoints. */
  readonly length: number;
  /** Checkpoints in all. */
  readonly count: number;
  /** The checkpoints' ids in display order: made when first read (a click, a key), not per change. */
  readonly order: readonly string[];
  /** The rows from `start` up to `end` (what a virtual window shows). */
  slice(start: number, end: number): Row[];
  /** Row index of a checkpoint, to scroll the focused one into view. */
  rowOf(checkpoint: CheckpointInfo): number | undefined;
}

/**
 * The rows of lanes without a row object per checkpoint: a row is made when the window shows it.
 * Per change this costs a pass over the lanes (a thousand), not over every checkpoint.
 */
export function buildRows(lanes: readonly Lane[]): Rows {
  // starts[i]: the row of lane i's header; firsts[i]: how many checkpoints come before lane i.
  const starts = new Int32Array(lanes.length + 1);
  const firsts = new Int32Array(lanes.length + 1);
  const laneIndex = new Map<string, number>();
  lanes.forEach((lane, i) => {
    laneIndex.set(lane.run, i);
    starts[i + 1] = (starts[i] ?? 0) + 1 + lane.checkpoints.length;
    firsts[i + 1] = (firsts[i] ?? 0) + lane.checkpoints.length;
  });
  const length = starts[lanes.length] ?? 0;
  const count = firsts[lanes.length] ?? 0;
  let order: string[] | null = null;
  // Rows already made keep their objects while the list scrolls (a keyed list then redraws only
  // the rows that come into view); a few windows' worth are kept, not every row scrolled past.
  const made = new Map<number, Row>();
  const rowAt = (index: number): Row => {
    let row = made.get(index);
    if (row === undefined) {
      if (made.size >= 2000) made.clear();
      row = makeRow(index) as Row;
      made.set(index, row);
    }
    return row;
  };
  const makeRow = (index: number): Row | undefined => {
    // The last lane whose header is at or before `index`.
    let lo = 0;
    let hi = lanes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    const lane = lanes[lo];
    if (!lane || index < 0 || index >= length) return undefined;
    const within = index - (starts[lo] ?? 0) - 1;
    if (within < 0) return { kind: 'lane', key: `lane:${lane.run}`, lane };
    const checkpoint = lane.checkpoints[within] as CheckpointInfo;
    return { kind: 'checkpoint', key: checkpoint.id, checkpoint, position: (firsts[lo] ?? 0) + within };
  };
  return {
    length,
    count,
    get order(): readonly string[] {
      order ??= lanes.flatMap((lane) => lane.checkpoints.map((c) => c.id));
      return order;
    },
    slice(start: number, end: number): Row[] {
      const rows: Row[] = [];
      for (let i = Math.max(0, start); i < Math.min(end, length); i += 1) rows.push(rowAt(i));
      return rows;
    },
    rowOf(checkpoint: CheckpointInfo): number | undefined {
      const i = laneIndex.get(checkpoint.run);
      const lane = i === undefined ? undefined : lanes[i];
      if (i === undefined || !lane) return undefined;
      const within = positionInLane(lane, checkpoint.id);
      return within < 0 ? undefined : (starts[i] ?? 0) + 1 + within;
    },
  };
}

const lanePositions = new WeakMap<Lane, ReadonlyMap<string, number>>();

/** A checkpoint's place in its lane; a lane's map of them is made once per lane object. */
function positionInLane(lane: Lane, id: string): number {
  let positions = lanePositions.get(lane);
  if (positions === undefined) {
    positions = new Map(lane.checkpoints.map((c, i) => [c.id, i]));
    lanePositions.set(lane, positions);
  }
  return positions.get(id) ?? -1;
}

/** A label for assistive technology: what a sighted user reads across the row. */
export function checkpointLabel(checkpoint: CheckpointInfo, marks: readonly string[], metrics: readonly string[]): string {
  // Another program's checkpoint is named by its path in the workspace (`model-5000`), its step said apart (or that it has none).
  const parts = isInPlace(checkpoint)
    ? [checkpoint.id, checkpoint.stepKnown ? `step ${checkpoint.step}` : 'no step recorded', checkpoint.source?.label ?? '']
    : [`${checkpoint.run} step ${checkpoint.step}`];
  if (checkpoint.epoch !== null) parts.push(`epoch ${checkpoint.epoch}`);
  parts.push(checkpoint.statusReason ? `${checkpoint.status}: ${checkpoint.statusReason}` : checkpoint.status);
  parts.push(formatBytes(checkpoint.bytes));
  for (const name of metrics) if (name in checkpoint.metrics) parts.push(`${name} ${formatMetric(checkpoint.metrics[name])}`);
  if (marks.length > 0) parts.push(marks.join(', '));
  if (checkpoint.pinned) parts.push('pinned');
  if (checkpoint.sameStepAs.length > 0) parts.push(`same step as ${checkpoint.sameStepAs.join(', ')}`);
  const other = checkpoint.protectedBy.filter((p) => p.kind !== 'pinned');
  if (other.length > 0) parts.push(`protected: ${other.map((p) => p.reason).join(', ')}`);
  return parts.filter((p) => p !== '').join(', ');
}
