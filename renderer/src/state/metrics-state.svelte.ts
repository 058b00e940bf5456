// Metric histories per run, for the charts: read from metricHistory a page at a time, then kept
// current by the trainer's live `metric` events for the run it is training, and by the records
// another program's logs gained (`metrics:appended`, for folders read in place). Live points that
// arrive while the history is still loading are merged by step, so none is lost or doubled.
import type { SessionEvent, StudioApi } from '../lib/contract';
import { errorCode, errorMessage } from '../lib/errors';
import { EMPTY_RUN_SERIES, type Point, type RunSeries, type SeriesKind, addToRun, pointFromEvent, pointFromRecord } from '../lib/metric-series';

/**
 * Records per request. Each page is checked and turned into points on the page's main thread:
 * 5,000 keep that under a frame's worth of work, so a long history loading in the background
 * does not stall scrolling elsewhere.
 */
const PAGE = 5_000;

/** Lets the page draw and handle input between pages of a long history. */
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export interface RunHistory {
  readonly series: RunSeries;
  readonly loading: boolean;
  readonly error: string | null;
}

export class MetricsState {
  /** By run name; the whole map is replaced on each change. */
  runs = $state.raw<ReadonlyMap<string, RunHistory>>(new Map());
  /** The run the trainer reports on, from its `started` event or status. */
  liveRun = $state<string | null>(null);

  private readonly unsubscribe: (() => void)[] = [];
  private readonly requested = new Set<string>();

  constructor(private readonly api: StudioApi) {}

  start(): void {
    this.unsubscribe.push(
      this.api.on('training:state', (status) => {
        if (status.run) this.liveRun = status.run;
      }),
      this.api.on('training:event', (event) => this.onEvent(event)),
      // Another program's log grew (a folder read in place): added to a history already asked for.
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
    return this.runs.get(run) ?? { series: EMPTY_RUN_SERIES, loading: false, error: null };
  }

  /** Loads a run's history once (again after `forget`, as on a reconnection). */
  async ensure(run: string): Promise<void> {
    if (this.requested.has(run)) return;
    this.requested.add(run);
    this.update(run, (h) => ({ ...h, loading: true, error: null }));
    try {
      let after: string | undefined;
      // Gathered whole, then handed to the charts once: each hand-over recomputes the run's
      // smoothing and downsampling over all its points.
      const points = { train: [] as Point[], validation: [] as Point[] };
      do {
        const page = await this.api.metricHistory({ run, limit: PAGE, ...(after !== undefined ? { after } : {}) });
        for (const record of page.records) {
          const parsed = pointFromRecord(record);
          if (parsed) points[parsed.kind].push(parsed.point);
        }
        after = page.next ?? undefined;
        if (after !== undefined) await nextTask();
      } while (after !== undefined);
      this.add(run, 'train', points.train);
      this.add(run, 'validation', points.validation);
      this.update(run, (h) => ({ ...h, loading: false }));
    } catch (error) {
      this.requested.delete(run);
      // A run that is only starting has no folder yet: its points come live, and its history is
      // read once it is listed.
      const missing = errorCode(error) === 'not-found';
      this.update(run, (h) => ({ ...h, loading: false, error: missing ? null : errorMessage(error) }));
    }
  }

  /** Forgets every loaded history, so the next `ensure` reads it anew. */
  forget(): void {
    this.requested.clear();
    this.runs = new Map();
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
    next.set(run, change(this.history(run)));
    this.runs = next;
  }
}
