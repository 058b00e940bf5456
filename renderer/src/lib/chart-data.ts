// What a metric card draws, from the runs' full histories: one trace per run and kind (train,
// validation) with its x in the chosen axis, its raw and smoothed values, and the checkpoints as
// markers on the curve. Everything here works on the full data; downsampling comes after.
//
// A continued run is one trajectory with its parent: its curve is the parent's up to the branch
// step followed by its own points after it. Smoothing and relative time run along that whole
// trajectory (so the child's curve carries on from the parent's without a jump), and the child is
// drawn from the parent's point at the branch step onward: its own points at or before the branch
// (a re-logged step) are never drawn back over the parent's line.
import type { RunSeries, Series, SeriesKind } from './metric-series';
import { VALIDATION_PREFIX } from './metric-series';
import { type SmoothingMode, smooth, stepUnit } from './smoothing';

export type XAxisMode = 'step' | 'relative' | 'wall';

export interface RunRef {
  readonly name: string;
  readonly parent: { readonly run: string; readonly step: number } | null;
}

export interface Trace {
  readonly run: string;
  readonly kind: SeriesKind;
  /** Ascending; seconds in the time modes (uPlot's unit), steps otherwise. */
  readonly xs: readonly number[];
  readonly steps: readonly number[];
  /** Wall time, epoch ms. */
  readonly times: readonly (number | null)[];
  /** Relative time in seconds, paused gaps excluded (on the relative axis only, else null). */
  readonly relative: readonly (number | null)[];
  readonly values: readonly (number | null)[];
  readonly smoothed: readonly (number | null)[];
  /** Smoothed elsewhere and not back yet: `smoothed` holds the raw values meanwhile. */
  readonly pending?: boolean;
}

/** Smoothing done elsewhere (smoothing-pool): the smoothed values, or null while they are computed. */
export interface Smoother {
  smooth(
    own: RunSeries,
    lineage: readonly (RunSeries | undefined)[],
    key: string,
    request: { mode: SmoothingMode; steps: readonly number[]; values: readonly (number | null)[]; weight: number; unit: number },
  ): (number | null)[] | null;
}

export interface TraceOptions {
  readonly xAxis: XAxisMode;
  readonly smoothing: number;
  readonly smoothingMode: SmoothingMode;
  /** Steps per point of the `steps` smoothing mode (see smoothing.ts). */
  readonly unit: number;
}

/** Points as one run's trajectory: its ancestors' up to each branch, then its own. */
interface Trajectory {
  // Read only: a run without a parent hands back its history's own columns.
  readonly steps: readonly number[];
  readonly times: readonly (number | null)[];
  readonly values: readonly (number | null)[];
  /** Index of the first point drawn for this run: the parent's point at the branch step. */
  start: number;
  /** Whether that first point is the parent's (the branch point). */
  branched: boolean;
}

const MAX_DEPTH = 64;

export function keyFor(base: string, kind: SeriesKind): string {
  return kind === 'validation' ? VALIDATION_PREFIX + base : base;
}

function seriesOf(history: RunSeries, kind: SeriesKind): Series {
  return kind === 'train' ? history.train : history.validation;
}

/** The run's curve of one metric along its lineage. */
export function trajectory(
  run: string,
  kind: SeriesKind,
  key: string,
  runs: ReadonlyMap<string, RunRef>,
  histories: ReadonlyMap<string, RunSeries>,
  depth = 0,
): Trajectory {
  const history = histories.get(run);
  const own = history ? seriesOf(history, kind) : null;
  const column = own?.columns[key];
  const parent = runs.get(run)?.parent ?? null;
  const out = { steps: [] as number[], times: [] as (number | null)[], values: [] as (number | null)[], start: 0, branched: false };
  if (parent && depth < MAX_DEPTH && parent.run !== run) {
    const before = trajectory(parent.run, kind, key, runs, histories, depth + 1);
    for (let i = 0; i < before.steps.length && (before.steps[i] as number) <= parent.step; i += 1) {
      out.steps.push(before.steps[i] as number);
      out.times.push(before.times[i] ?? null);
      out.values.push(before.values[i] ?? null);
    }
    out.start = Math.max(0, out.steps.length - 1);
    out.branched = out.steps.length > 0;
  }
  if (own && column && !parent && column.length === own.steps.length && own.times.length === own.steps.length) {
    // A run of its own (no parent): its history's columns as they are (histories are replaced, never
    // changed), not copies held once more by every card of a thousand runs.
    return { steps: own.steps, times: own.times, values: column, start: 0, branched: false };
  }
  if (own && column) {
    for (let i = 0; i < own.steps.length; i += 1) {
      const step = own.steps[i] as number;
      if (parent && step <= parent.step) continue;
      out.steps.push(step);
      out.times.push(own.times[i] ?? null);
      out.values.push(column[i] ?? null);
    }
  }
  // Without a point of its own, a child draws nothing (not a lone copy of the parent's point).
  if (out.steps.length - out.start <= 1 && parent) out.start = out.steps.length;
  return out;
}

/** A gap of wall time this much longer than the usual interval between points is a pause. */
export const PAUSE_FACTOR = 10;
/** …and at least this long (ms), so a slow step or a save is not taken for a pause. */
export const PAUSE_MIN_MS = 5_000;

/**
 * Seconds since the first point, counting a paused gap (the process paused, stopped and later
 * continued, or the machine asleep) as one usual interval. The history records no pause events,
 * so a pause is read from the times: longer than PAUSE_FACTOR × the median interval and than
 * PAUSE_MIN_MS.
 */
export function relativeTimes(times: readonly (number | null)[]): (number | null)[] {
  const gaps: number[] = [];
  let previous: number | null = null;
  for (const t of times) {
    if (t === null) continue;
    if (previous !== null && t > previous) gaps.push(t - previous);
    previous = t;
  }
  gaps.sort((a, b) => a - b);
  const median = gaps.length > 0 ? (gaps[Math.floor(gaps.length / 2)] as number) : 0;
  const limit = Math.max(PAUSE_FACTOR * median, PAUSE_MIN_MS);
  const out: (number | null)[] = [];
  let elapsed = 0;
  previous = null;
  for (const t of times) {
    if (t === null) {
      out.push(null);
      continue;
    }
    if (previous !== null) {
      const gap = Math.max(0, t - previous);
      elapsed += gap > limit ? median : gap;
    }
    previous = t;
    out.push(elapsed / 1000);
  }
  return out;
}

/**
 * Traces already built, by the history snapshots they came from: histories are replaced, never
 * changed, so a run whose history (and lineage) is the same object needs no new trace when
 * another run's live points arrive.
 */
export class TraceCache {
  private readonly byHistory = new WeakMap<RunSeries, Map<string, { lineage: readonly (RunSeries | undefined)[]; trace: Trace | null }>>();

  get(own: RunSeries, key: string, lineage: readonly (RunSeries | undefined)[]): Trace | null | undefined {
    const hit = this.byHistory.get(own)?.get(key);
    if (!hit || hit.lineage.length !== lineage.length || hit.lineage.some((h, i) => h !== lineage[i])) return undefined;
    return hit.trace;
  }

  set(own: RunSeries, key: string, lineage: readonly (RunSeries | undefined)[], trace: Trace | null): void {
    let entries = this.byHistory.get(own);
    if (!entries) this.byHistory.set(own, (entries = new Map()));
    entries.set(key, { lineage, trace });
  }
}

function lineageOf(run: string, runs: ReadonlyMap<string, RunRef>, histories: ReadonlyMap<string, RunSeries>): (RunSeries | undefined)[] {
  const out: (RunSeries | undefined)[] = [];
  let at: string | undefined = run;
  for (let depth = 0; at !== undefined && depth < MAX_DEPTH; depth += 1) {
    out.push(histories.get(at));
    at = runs.get(at)?.parent?.run;
  }
  return out;
}

function buildTrace(
  run: string,
  kind: SeriesKind,
  base: string,
  runs: ReadonlyMap<string, RunRef>,
  histories: ReadonlyMap<string, RunSeries>,
  options: TraceOptions,
  smoothElsewhere?: (request: Parameters<Smoother['smooth']>[3]) => (number | null)[] | null,
): Trace | null {
  const path = trajectory(run, kind, keyFor(base, kind), runs, histories);
  if (path.steps.length - path.start <= 0) return null;
  const request = { mode: options.smoothingMode, steps: path.steps, values: path.values, weight: options.smoothing, unit: options.unit };
  const elsewhere = smoothElsewhere ? smoothElsewhere(request) : undefined;
  const pending = elsewhere === null;
  const smoothed = elsewhere ?? (pending ? path.values : smooth(request.mode, request.steps, request.values, request.weight, request.unit));
  // Only the relative axis needs the pause-free clock (it sorts the intervals). It is the run's
  // one clock, read from its train and validation points together: validation, logged once an
  // epoch, starts where the run started, not at zero.
  const relative =
    options.xAxis === 'relative'
      ? runClock(
          path.times,
          trajectory(run, kind === 'train' ? 'validation' : 'train', keyFor(base, kind === 'train' ? 'validation' : 'train'), runs, histories).times,
        )
      : null;
  // On the wall-time axis the branch point is left out: joined to it, the child would draw a long
  // line across the hours between the parent's save and the continuation, as if it had trained then.
  const from = options.xAxis === 'wall' && path.branched ? path.start + 1 : path.start;
  const xs: number[] = [];
  const kept: number[] = [];
  for (let i = from; i < path.steps.length; i += 1) {
    const time = path.times[i] ?? null;
    const x = options.xAxis === 'step' ? path.steps[i] : options.xAxis === 'wall' ? (time === null ? null : time / 1000) : relative?.[i];
    // A point without a time has no place on a time axis; a clock that went back is skipped.
    if (x === null || x === undefined || (xs.length > 0 && x < (xs[xs.length - 1] as number))) continue;
    xs.push(x);
    kept.push(i);
  }
  if (xs.length === 0) return null;
  // When every point is kept the trajectory's columns (a run's own: its history's) are the
  // trace's as they are, not copies (a thousand runs' cards hold them all).
  const every = from === 0 && kept.length === path.steps.length;
  const pick = <T>(column: readonly T[]): T[] => (every ? (column as T[]) : kept.map((i) => column[i] as T));
  const trace = {
    xs: every && options.xAxis === 'step' ? path.steps : xs,
    steps: pick(path.steps),
    times: pick(path.times),
    relative: relative ? pick(relative) : NO_RELATIVE,
    values: pick(path.values),
    smoothed: pick(smoothed.length === path.steps.length ? smoothed : path.steps.map((_, i) => smoothed[i] ?? null)),
  };
  return { run, kind, ...trace, ...(pending ? { pending } : {}) };
}

/** What a trace draws under its smoothed curve: the two edges of a band, or its raw line. */
export type Underlay = 'hi' | 'lo' | 'line';

/**
 * What a trace draws under its smoothed curve: a group's band of its members (and its raw line),
 * else the raw min/max band or the raw line; no raw line for a lone point that smoothing left as
 * it was (its raw dot would lie under its smoothed one: a thousand runs' validation points would
 * be a thousand curves more on the card).
 */
export function underlaysOf(t: Trace, group: boolean, showRaw: boolean, rawBand: boolean): Underlay[] {
  if (group) return showRaw && !rawBand ? ['hi', 'lo', 'line'] : ['hi', 'lo'];
  if (rawBand) return ['hi', 'lo'];
  if (!showRaw || (t.xs.length === 1 && t.smoothed[0] === t.values[0])) return [];
  return ['line'];
}

/** A trace's relative times off the relative axis: none (read as null). */
const NO_RELATIVE: readonly (number | null)[] = Object.freeze([]);

/** Relative times of `times` on the clock of all the run's points (`times` and `others`). */
export function runClock(times: readonly (number | null)[], others: readonly (number | null)[]): (number | null)[] {
  const all = [...new Set([...times, ...others].filter((t): t is number => t !== null))].sort((a, b) => a - b);
  const relative = relativeTimes(all);
  const at = new Map(all.map((t, i) => [t, relative[i] ?? null]));
  return times.map((t) => (t === null ? null : (at.get(t) ?? null)));
}

/** One trace per run and kind that has points of this metric, in the order of `visible`. */
export function buildTraces(
  base: string,
  visible: readonly string[],
  runs: ReadonlyMap<string, RunRef>,
  histories: ReadonlyMap<string, RunSeries>,
  options: TraceOptions,
  cache?: TraceCache,
  smoother?: Smoother,
): Trace[] {
  const traces: Trace[] = [];
  const key = JSON.stringify([base, options.xAxis, options.smoothing, options.smoothingMode, options.unit]);
  for (const run of visible) {
    const own = histories.get(run);
    const lineage = (cache || smoother) && own ? lineageOf(run, runs, histories) : [];
    for (const kind of ['train', 'validation'] as const) {
      let trace = cache && own ? cache.get(own, `${kind}${key}`, lineage) : undefined;
      if (trace === undefined) {
        const elsewhere = smoother && own ? (request: Parameters<Smoother['smooth']>[3]) => smoother.smooth(own, lineage, `${kind}${key}`, request) : undefined;
        trace = buildTrace(run, kind, base, runs, histories, options, elsewhere);
        // A trace still waiting for its smoothing is built again when it comes.
        if (cache && own && !trace?.pending) cache.set(own, `${kind}${key}`, lineage, trace);
      }
      if (trace) traces.push(trace);
    }
  }
  return traces;
}

/** The longest span of steps among these runs' trajectories: what `steps` smoothing is scaled to. */
export function stepSpan(visible: readonly string[], runs: ReadonlyMap<string, RunRef>, histories: ReadonlyMap<string, RunSeries>): number {
  let span = 0;
  for (const run of visible) {
    const history = histories.get(run);
    const last = history?.train.steps.at(-1) ?? history?.validation.steps.at(-1);
    if (last === undefined) continue;
    // A child's curve begins at its root's first point.
    let root = run;
    for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
      const parent = runs.get(root)?.parent;
      if (!parent || !histories.has(parent.run)) break;
      root = parent.run;
    }
    const first = histories.get(root)?.train.steps[0] ?? histories.get(root)?.validation.steps[0] ?? 0;
    span = Math.max(span, last - first);
  }
  return span;
}

export { stepUnit };

/** Index of the last element ≤ value (−1 when none). */
export function lastAtOrBefore(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= value) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The point of a trace nearest to x (by x), or −1 for an empty trace. */
export function nearestIndex(xs: readonly number[], x: number): number {
  if (xs.length === 0) return -1;
  const i = lastAtOrBefore(xs, x);
  if (i < 0) return 0;
  if (i >= xs.length - 1) return xs.length - 1;
  return x - (xs[i] as number) <= (xs[i + 1] as number) - x ? i : i + 1;
}

/** A column's value at a step, linearly between the points around it, clamped at the ends. */
export function valueAtStep(steps: readonly number[], column: readonly (number | null)[], step: number): number | null {
  if (steps.length === 0) return null;
  const i = lastAtOrBefore(steps, step);
  if (i < 0) return column[0] ?? null;
  if (i >= steps.length - 1 || steps[i] === step) return column[i] ?? null;
  const a = column[i] ?? null;
  const b = column[i + 1] ?? null;
  if (a === null || b === null) return a ?? b;
  const s0 = steps[i] as number;
  const s1 = steps[i + 1] as number;
  return a + ((b - a) * (step - s0)) / (s1 - s0);
}

export interface CheckpointMark {
  readonly id: string;
  readonly run: string;
  readonly step: number;
  readonly latest: boolean;
  readonly best: boolean;
  /** Damaged or incomplete. */
  readonly warning: boolean;
}

export interface Marker extends CheckpointMark {
  readonly x: number;
  readonly y: number;
}

/**
 * Each checkpoint on its run's curve at its step: on the train curve when the card has one for
 * the run, else on the validation curve, at the smoothed value (what the eye follows). A run
 * with no curve on this card has no markers on it.
 */
export function placeMarkers(traces: readonly Trace[], checkpoints: readonly CheckpointMark[]): Marker[] {
  const byRun = new Map<string, Trace>();
  for (const trace of traces) if (trace.kind === 'train' || !byRun.has(trace.run)) byRun.set(trace.run, trace);
  const markers: Marker[] = [];
  for (const checkpoint of checkpoints) {
    const trace = byRun.get(checkpoint.run);
    if (!trace) continue;
    const y = valueAtStep(trace.steps, trace.smoothed, checkpoint.step);
    const x = valueAtStep(trace.steps, trace.xs, checkpoint.step);
    if (y === null || x === null) continue;
    markers.push({ ...checkpoint, x, y });
  }
  return markers;
}

function sameMarks(a: readonly CheckpointMark[], b: readonly CheckpointMark[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as CheckpointMark;
    const y = b[i] as CheckpointMark;
    if (x.id !== y.id || x.step !== y.step || x.latest !== y.latest || x.best !== y.best || x.warning !== y.warning) return false;
  }
  return true;
}

/**
 * placeMarkers kept per trace: a trace is the same object while its run's history is (TraceCache),
 * so with a thousand runs arriving a few at a time, only the new runs' markers are placed again,
 * not a hundred thousand checkpoints on every arrival. Checkpoints are grouped by run once per
 * list of them.
 */
export class MarkerCache {
  private grouped: { checkpoints: readonly CheckpointMark[]; byRun: Map<string, CheckpointMark[]> } | null = null;
  private readonly byTrace = new WeakMap<Trace, { marks: readonly CheckpointMark[]; placed: Marker[] }>();

  place(traces: readonly Trace[], checkpoints: readonly CheckpointMark[]): Marker[] {
    const markers: Marker[] = [];
    for (const group of this.groups(traces, checkpoints)) for (const m of group) markers.push(m);
    return markers;
  }

  /**
   * The markers of place(), as one array per run, in the same order: each the same array while
   * its run's trace and checkpoints are (what is made of a run's markers can be kept by it).
   */
  groups(traces: readonly Trace[], checkpoints: readonly CheckpointMark[]): (readonly Marker[])[] {
    if (this.grouped?.checkpoints !== checkpoints) {
      const byRun = new Map<string, CheckpointMark[]>();
      for (const c of checkpoints) {
        const marks = byRun.get(c.run);
        if (marks) marks.push(c);
        else byRun.set(c.run, [c]);
      }
      this.grouped = { checkpoints, byRun };
    }
    const byRun = new Map<string, Trace>();
    for (const trace of traces) if (trace.kind === 'train' || !byRun.has(trace.run)) byRun.set(trace.run, trace);
    const groups: (readonly Marker[])[] = [];
    // In the checkpoints' order (grouped by run in their order), as placeMarkers.
    for (const [run, marks] of this.grouped.byRun) {
      const trace = byRun.get(run);
      if (!trace) continue;
      let hit = this.byTrace.get(trace);
      // The list of checkpoints is made anew on every catalog change; a run's marks that read the
      // same keep their placed markers (a checkpoint renamed into one run places that run's alone).
      if (hit === undefined || (hit.marks !== marks && !sameMarks(hit.marks, marks))) {
        hit = { marks, placed: placeMarkers([trace], marks) };
        this.byTrace.set(trace, hit);
      }
      if (hit.placed.length > 0) groups.push(hit.placed);
    }
    return groups;
  }
}

/**
 * Fields our trainer logs beside its metrics that are not metrics of the model: its throughput,
 * and the means of loss and accuracy since the last record (which, logged every step, are copies
 * of loss and accuracy). They get no card.
 */
export const INTERNAL_FIELDS: ReadonlySet<string> = new Set(['samplesPerSecond', 'meanLoss', 'meanAccuracy']);

/** Metric bases in card order: loss and accuracy first, the rest by name; the trainer's internal fields left out. */
export function orderBases(bases: Iterable<string>): string[] {
  const usual = ['loss', 'accuracy'];
  const all = [...new Set(bases)].filter((b) => !INTERNAL_FIELDS.has(b));
  return [...usual.filter((b) => all.includes(b)), ...all.filter((b) => !usual.includes(b)).sort()];
}

/** TensorBoard's grouping: a tag's group is what comes before its first '/'. */
export function groupOf(base: string): string {
  const slash = base.indexOf('/');
  return slash > 0 ? base.slice(0, slash) : '';
}
