// The checkpoint list's shape: one lane per run (in the order runs were made, so a continued run
// follows its parent), its checkpoints by step. What protects a checkpoint from deletion is the
// core's to say (CheckpointInfo.protectedBy), never worked out here.
import type { CheckpointInfo, RunInfo } from './contract.js';

export interface Lane {
  readonly run: string;
  readonly info: RunInfo | null;
  readonly checkpoints: readonly CheckpointInfo[];
  readonly bytes: number;
}

export function buildLanes(runs: readonly RunInfo[], checkpoints: readonly CheckpointInfo[]): Lane[] {
  const byRun = new Map<string, CheckpointInfo[]>();
  for (const run of runs) byRun.set(run.name, []);
  for (const checkpoint of checkpoints) {
    const list = byRun.get(checkpoint.run);
    if (list) list.push(checkpoint);
    else byRun.set(checkpoint.run, [checkpoint]);
  }
  const info = new Map(runs.map((r) => [r.name, r]));
  const lanes: Lane[] = [];
  for (const [run, list] of byRun) {
    sortLaneCheckpoints(list);
    lanes.push({ run, info: info.get(run) ?? null, checkpoints: list, bytes: list.reduce((sum, c) => sum + c.bytes, 0) });
  }
  return lanes.sort(compareLanes);
}

/** A lane's checkpoints by step (the folder's name between two of one step), in place. */
export function sortLaneCheckpoints(checkpoints: CheckpointInfo[]): void {
  checkpoints.sort((a, b) => a.step - b.step || a.id.localeCompare(b.id));
}

/**
 * A run's own creation time, else its first checkpoint's: a run seen only through an event
 * (written by another process) still lands in time order.
 */
export function laneSince(lane: Lane): string {
  return lane.info?.createdAt ?? lane.checkpoints[0]?.createdAt ?? '\uffff';
}

export function compareLanes(a: Lane, b: Lane): number {
  return laneSince(a).localeCompare(laneSince(b)) || a.run.localeCompare(b.run);
}

/** Metric names across checkpoints, the usual four first. */
export function metricNames(checkpoints: readonly CheckpointInfo[]): string[] {
  const names = new Set<string>();
  for (const c of checkpoints) for (const name of Object.keys(c.metrics)) names.add(name);
  return orderMetricNames(names);
}

/**
 * What `compute` says of a lane, worked out once per lane object: lanes are replaced, never
 * changed, so a change to one run costs that run's lane alone.
 */
export function perLane<T>(compute: (lane: Lane) => T): (lane: Lane) => T {
  const cache = new WeakMap<Lane, T>();
  return (lane) => {
    if (cache.has(lane)) return cache.get(lane) as T;
    const value = compute(lane);
    cache.set(lane, value);
    return value;
  };
}

const laneMetrics = perLane((lane) => metricNames(lane.checkpoints));

/** Metric names across lanes, each lane's read once. */
export function laneMetricNames(lanes: readonly Lane[]): string[] {
  const names = new Set<string>();
  for (const lane of lanes) for (const name of laneMetrics(lane)) names.add(name);
  return orderMetricNames(names);
}

function orderMetricNames(names: ReadonlySet<string>): string[] {
  const usual = ['loss', 'accuracy', 'val_loss', 'val_accuracy'];
  return [...usual.filter((n) => names.has(n)), ...[...names].filter((n) => !usual.includes(n)).sort()];
}

/** The direction in which a metric improves, guessed from its name (the user can change it). */
export function defaultMode(metric: string): 'min' | 'max' {
  return /acc|auc|precision|recall|f1|score/i.test(metric) ? 'max' : 'min';
}

/**
 * The checkpoint a folder's own state calls latest (TensorFlow's checkpoint file names it; what
 * `tf.train.latest_checkpoint` returns), and whether that is not its highest step: then the page
 * marks it, since a person would otherwise take the highest for the latest.
 */
export function folderLatest(lane: Lane): { readonly id: string; readonly notHighest: boolean } | null {
  const id = lane.info?.latest ?? null;
  if (id === null) return null;
  const highest = lane.checkpoints.filter((c) => c.stepKnown).at(-1);
  return { id, notHighest: highest !== undefined && highest.id !== id };
}
