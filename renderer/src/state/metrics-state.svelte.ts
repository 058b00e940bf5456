// Metric histories per run, for the charts. Only runs a shown chart draws are read, and only
// while a view that draws charts is on screen (the Checkpoints tab reads none): first an
// overview of the whole run at about a chart's width (metricSeries answers each bucket's first,
// last, min and max point, so a million-point run is a few thousand points), then, when a card
// zooms, the points of its window at its width. Live points follow: the trainer's `metric`
// events for the run it is training and the records another program's logs gained
// (`metrics:appended`). Everything is merged by step, so no point is lost or doubled.
import type { MetricSeries, SessionEvent, StudioApi } from '../lib/contract';
import { errorCode, errorMessage } from '../lib/errors';
import { EMPTY_RUN_SERIES, type Point, type RunSeries, type SeriesKind, addToRun, pointFromEvent, pointFromRecord } from '../lib/metric-series';
import { OVERVIEW_POINTS, WHOLE_POINTS, mergeAnswer, takeWhole, wantsWhole } from '../lib/series-answer';
import { SmoothedSeries } from './smoothed-series.svelte';

/** Reads in flight at once: a thousand runs shown at once arrive a few at a time, not all in one task. */
const IN_FLIGHT = 8;
/**
 * Answers are handed to the charts together, at most every HAND_OVER_MS and, when the charts
 * took long to take the last ones (a thousand runs drawn), at most every HAND_OVER_SHARE times
 * that long: the page spends no more than a fifth of its time taking histories in.
 */
const HAND_OVER_MS = 100;
const HAND_OVER_SHARE = 5;
/**
 * At most this many answers (histories read) are handed over together; the rest go in the next
 * hand-over. Each new history costs every card its trace, smoothing and markers: fifty of them in
 * one hand-over (answers pile up while the charts are busy drawing) made one long task.
 */
const HAND_OVER_ANSWERS = 16;
/**
 * A window read at this share of the density a zoom asks for is fine enough: the zoom's own
 * step span moves by a few steps as finer points arrive, which is no reason to read it again.
 */
const FINE_ENOUGH = 0.75;

/** Where a chart is drawn: the Charts tab, or the training dashboard. */
export type ChartPlace = 'charts' | 'training';

export interface RunHistory {
  readonly series: RunSeries;
  readonly loading: boolean;
  readonly error: string | null;
  /** Points the run's history holds, per kind, as last read (the series may hold fewer: an overview). */
  readonly total: { readonly train: number; readonly validation: number };
}

/** The owner of runs asked for one by one (`ensure`), kept wanted until `forget`. */
const ENSURED = Symbol('ensured');
/** What a queued read gives when no chart on screen wants its run any more by its turn. */
const NOT_WANTED = Symbol('not wanted');

const EMPTY_HISTORY: RunHistory = { series: EMPTY_RUN_SERIES, loading: false, error: null, total: { train: 0, validation: 0 } };

/** A change of a run's history waiting to be handed to the charts (MetricsState.later). */
interface Change {
  readonly apply: (runs: Map<string, RunHistory>) => void;
  /** A history read (counts toward HAND_OVER_ANSWERS), not a flag. */
  readonly answer: boolean;
  readonly done: () => void;
}

/** A step window read at a density (points per step); Infinity when every point of it was read. */
interface ReadWindow {
  readonly from: number;
  readonly to: number;
  readonly density: number;
}

export class MetricsState {
  /** By run name; the whole map is replaced on each change. */
  runs = $state.raw<ReadonlyMap<string, RunHistory>>(new Map());
  /** The run the trainer reports on, from its `started` event or status. */
  liveRun = $state<string | null>(null);

  private readonly unsubscribe: (() => void)[] = [];
  private readonly requested = new Set<string>();
  /**
   * The runs each chart wants, by place and by the chart asking (`want`): replaced whole on each
   * change, so a run no chart wants any more (a filter typed, a view restored) is not read.
   */
  private readonly wants = new Map<ChartPlace, Map<unknown, ReadonlySet<string>>>();
  private readonly showing = new Set<ChartPlace>();
  /** What of each run has been read, so a zoom asks only for what is missing. */
  private readonly windows = new Map<string, ReadWindow[]>();
  /** Bumped by `forget`: answers to reads from before it are dropped. */
  private generation = 0;
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];
  /** Reads that go only when no other read is queued or in flight (a whole history after the overviews). */
  private readonly background: (() => void)[] = [];
  /** Changes not handed over yet; an answer's counts toward HAND_OVER_ANSWERS. */
  private changes: Change[] = [];
  private handOver: ReturnType<typeof setTimeout> | null = null;
  private lastHandOver = -Infinity;
  /** How long the charts took to take the last hand-over, to the next frame. */
  private handOverCost = 0;

  /** The Studio's smoothing of runs too long to read whole, as the cards ask for it (per weight, not per run). */
  readonly smoothed: SmoothedSeries;

  constructor(private readonly api: StudioApi) {
    this.smoothed = new SmoothedSeries(api);
  }

  start(): void {
    this.unsubscribe.push(
      this.api.on('training:state', (status) => {
        if (status.run) this.liveRun = status.run;
      }),
      this.api.on('training:event', (event) => this.onEvent(event)),
      // Another program's log grew: added to a history already asked for.
      this.api.on('metrics:appended', ({ run, records }) => {
        if (!this.requested.has(run)) return;
        const points = { train: [] as Point[], validation: [] as Point[] };
        for (const record of records) {
          const parsed = pointFromRecord(record);
          if (parsed) points[parsed.kind].push(parsed.point);
        }
        this.add(run, 'train', points.train);
        this.add(run, 'validation', points.validation);
      }),
    );
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  history(run: string): RunHistory {
    return this.runs.get(run) ?? EMPTY_HISTORY;
  }

  /** Whether charts drawn at `place` are on screen: histories they want are read only while they are. */
  setShowing(place: ChartPlace, showing: boolean): void {
    if (!showing) {
      this.showing.delete(place);
      return;
    }
    this.showing.add(place);
    for (const runs of this.wants.get(place)?.values() ?? []) for (const run of runs) void this.read(run, place);
  }

  /**
   * The runs a chart (`owner`) at `place` wants now, in place of what it wanted before: each is
   * read once its place is on screen. Reads still queued for runs no chart wants any more are
   * not sent. An empty list when the chart goes.
   */
  want(owner: unknown, place: ChartPlace, runs: Iterable<string>): void {
    const byOwner = this.wants.get(place) ?? new Map<unknown, ReadonlySet<string>>();
    this.wants.set(place, byOwner);
    const wanted = new Set(runs);
    if (wanted.size === 0) byOwner.delete(owner);
    else byOwner.set(owner, wanted);
    if (this.showing.has(place)) for (const run of wanted) void this.read(run, place);
  }

  /** Reads a run's overview once (again after `forget`, as on a reconnection), when its place is on screen. */
  async ensure(run: string, place: ChartPlace = 'charts'): Promise<void> {
    const byOwner = this.wants.get(place) ?? new Map<unknown, ReadonlySet<string>>();
    this.wants.set(place, byOwner);
    byOwner.set(ENSURED, new Set(byOwner.get(ENSURED)).add(run));
    await this.read(run, place);
  }

  /** Whether a chart on screen wants the run. */
  private wanted(run: string): boolean {
    for (const place of this.showing) for (const runs of this.wants.get(place)?.values() ?? []) if (runs.has(run)) return true;
    return false;
  }

  private async read(run: string, place: ChartPlace): Promise<void> {
    if (this.requested.has(run) || !this.showing.has(place)) return;
    this.requested.add(run);
    const generation = this.generation;
    // With the other runs asked for at the same time: a thousand runs shown at once is one change.
    void this.later(run, (h) => ({ ...h, loading: true, error: null }));
    try {
      const answer = await this.limited(
        () => this.api.metricSeries({ run, points: OVERVIEW_POINTS }),
        () => generation === this.generation && this.wanted(run),
      );
      if (generation !== this.generation) return;
      if (answer === NOT_WANTED) {
        // Unwanted before its turn came: read again if a chart wants it later.
        this.requested.delete(run);
        await this.later(run, (h) => ({ ...h, loading: false }));
        return;
      }
      await this.take(run, answer, { from: -Infinity, to: Infinity, points: OVERVIEW_POINTS }, (h) => ({ ...h, loading: false }));
      if (wantsWhole(answer)) void this.readWhole(run, generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.requested.delete(run);
      // A run that is only starting has no folder yet: its points come live, and its history is
      // read once it is listed.
      const missing = errorCode(error) === 'not-found';
      await this.later(run, (h) => ({ ...h, loading: false, error: missing ? null : errorMessage(error) }));
    }
  }

  /**
   * The whole history of a run short enough (WHOLE_POINTS), after its overview is drawn and after
   * every other run's overview: its smoothing is then exact. A failure leaves the overview.
   */
  private async readWhole(run: string, generation: number): Promise<void> {
    try {
      const answer = await this.limited(
        () => this.api.metricSeries({ run, points: OVERVIEW_POINTS, whole: WHOLE_POINTS }),
        () => generation === this.generation && this.wanted(run),
        'background',
      );
      if (answer === NOT_WANTED || generation !== this.generation) return;
      await this.take(run, answer, { from: -Infinity, to: Infinity, points: OVERVIEW_POINTS }, undefined, takeWhole);
    } catch {
      // The overview stays drawn.
    }
  }

  /**
   * A card zoomed to steps [from, to] at `points` pixels: reads those runs' points there at that
   * resolution, unless what was read already is as fine (a run read whole needs nothing).
   */
  async refine(runs: readonly string[], from: number, to: number, points: number): Promise<void> {
    const density = points / Math.max(1, to - from + 1);
    const generation = this.generation;
    const reads = runs
      .filter(
        (run) => this.requested.has(run) && !(this.windows.get(run) ?? []).some((w) => w.from <= from && w.to >= to && w.density >= density * FINE_ENOUGH),
      )
      .map(async (run) => {
        // Counted as read from the start: a card that asks again meanwhile is not sent twice.
        const asked: ReadWindow = { from, to, density };
        this.windows.set(run, [...(this.windows.get(run) ?? []), asked]);
        try {
          const answer = await this.limited(() => this.api.metricSeries({ run, from, to, points }));
          if (answer !== NOT_WANTED && generation === this.generation) await this.take(run, answer, { from, to, points });
        } catch {
          // The overview stays drawn: a finer read is an improvement, not a need.
          this.windows.set(
            run,
            (this.windows.get(run) ?? []).filter((w) => w !== asked),
          );
        }
      });
    await Promise.all(reads);
  }

  /** Forgets every loaded history, so the next `ensure` reads it anew. */
  forget(): void {
    this.generation += 1;
    this.requested.clear();
    this.windows.clear();
    this.smoothed.forget();
    // Their readers are not left waiting: they find the generation changed and drop what they read.
    for (const change of this.changes.splice(0)) change.done();
    this.runs = new Map();
  }

  private async take(
    run: string,
    answer: MetricSeries,
    asked: { from: number; to: number; points: number },
    also = (h: RunHistory) => h,
    merge: (series: RunSeries, answer: MetricSeries) => RunSeries = mergeAnswer,
  ): Promise<void> {
    const exact = answer.kinds.every((k) => k.exact);
    const from = Math.max(asked.from, answer.from ?? asked.from);
    const to = Math.min(asked.to, answer.to ?? asked.to);
    const density = exact ? Infinity : asked.points / Math.max(1, to - from + 1);
    this.windows.set(run, [...(this.windows.get(run) ?? []), { from: asked.from, to: asked.to, density }]);
    const whole = asked.from === -Infinity && asked.to === Infinity;
    const total = (kind: SeriesKind, h: RunHistory): number => (whole ? (answer.kinds.find((k) => k.kind === kind)?.total ?? 0) : h.total[kind]);
    const change = (h: RunHistory): RunHistory => {
      const series = merge(h.series, answer);
      return also({ ...h, series, total: { train: total('train', h), validation: total('validation', h) } });
    };
    await this.later(run, change, true);
  }

  /** Runs `read` when fewer than IN_FLIGHT reads are under way, unless it is no longer `needed` by then. */
  private async limited<T>(read: () => Promise<T>, needed: () => boolean = () => true, priority: 'now' | 'background' = 'now'): Promise<T | typeof NOT_WANTED> {
    // A background read waits for every read of the other kind, queued or in flight.
    const mustWait = (): boolean => (priority === 'background' ? this.inFlight > 0 || this.queue.length > 0 : this.inFlight >= IN_FLIGHT);
    while (mustWait()) await new Promise<void>((resolve) => (priority === 'background' ? this.background : this.queue).push(resolve));
    if (!needed()) {
      this.next();
      return NOT_WANTED;
    }
    this.inFlight += 1;
    try {
      return await read();
    } finally {
      this.inFlight -= 1;
      this.next();
    }
  }

  /** Lets the next queued read go: one waiting its turn, else (nothing else going) every background one, which each wait again if need be. */
  private next(): void {
    const first = this.queue.shift();
    if (first) first();
    else if (this.inFlight === 0) for (const wake of this.background.splice(0)) wake();
  }

  private onEvent(event: SessionEvent): void {
    if (event.type === 'started') {
      this.liveRun = event.run;
      return;
    }
    if (event.type !== 'metric' || this.liveRun === null) return;
    const { kind, point } = pointFromEvent(event);
    this.add(this.liveRun, kind, [point]);
  }

  private add(run: string, kind: SeriesKind, points: readonly Point[]): void {
    if (points.length > 0) this.update(run, (h) => ({ ...h, series: addToRun(h.series, kind, points) }));
  }

  private update(run: string, change: (history: RunHistory) => RunHistory): void {
    const next = new Map(this.runs);
    next.set(run, change(next.get(run) ?? EMPTY_HISTORY));
    this.runs = next;
  }

  /**
   * A change handed to the charts with the others that arrive about the same time (an `answer`,
   * a history read, with at most HAND_OVER_ANSWERS - 1 others); resolves once it is.
   */
  private later(run: string, change: (history: RunHistory) => RunHistory, answer = false): Promise<void> {
    return new Promise<void>((resolve) => {
      this.changes.push({ apply: (runs) => runs.set(run, change(runs.get(run) ?? EMPTY_HISTORY)), answer, done: resolve });
      this.scheduleHandOver();
    });
  }

  private scheduleHandOver(): void {
    if (this.handOver !== null) return;
    // Spaced only while more answers are on their way: the last (or only) one is handed over at once.
    const more = this.inFlight + this.queue.length > 0 || this.changes.filter((c) => c.answer).length > HAND_OVER_ANSWERS;
    const wait = more ? Math.max(0, this.lastHandOver + Math.max(HAND_OVER_MS, HAND_OVER_SHARE * this.handOverCost) - performance.now()) : 0;
    this.handOver = setTimeout(() => {
      this.handOver = null;
      const at = performance.now();
      this.lastHandOver = at;
      const next = new Map(this.runs);
      const taken: Change[] = [];
      let answers = 0;
      for (let change = this.changes[0]; change && !(change.answer && answers >= HAND_OVER_ANSWERS); change = this.changes[0]) {
        this.changes.shift();
        if (change.answer) answers += 1;
        change.apply(next);
        taken.push(change);
      }
      this.runs = next;
      // The charts recompute before the next frame: its callback tells how long that took.
      globalThis.requestAnimationFrame?.(() => {
        this.handOverCost = performance.now() - at;
        this.lastHandOver = performance.now();
      });
      for (const change of taken) change.done();
      if (this.changes.length > 0) this.scheduleHandOver();
    }, wait);
  }
}
