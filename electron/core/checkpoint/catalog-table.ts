// The catalog's table as its readers see it: every run and checkpoint of a workspace in memory,
// changed one change at a time through one queue, observable, and asked for latest and best. What
// fills it differs by where the workspace lives (catalog.ts reads a folder; stored-catalog.ts lists
// an S3 prefix); what it answers, and how changes reach listeners, is the same for both.
import type { CatalogEvent, CheckpointInfo, MetricMode, MetricRecord, RunInfo } from '../../contract.js';
import { CatalogEntries, Change } from './catalog-entries.js';

/** Only these may be resumed from, or be called latest or best. */
export function isUsable(checkpoint: CheckpointInfo): boolean {
  return checkpoint.status === 'verified' || checkpoint.status === 'unverified';
}

function newerFirst(a: CheckpointInfo, b: CheckpointInfo): number {
  const time = (b.createdAt ?? '').localeCompare(a.createdAt ?? '');
  return time !== 0 ? time : b.step - a.step;
}

export type CatalogListener = (event: CatalogEvent) => void;
/** Metric records a run read in place gained since its last scan (its logs grew). */
export type MetricsListener = (run: string, records: readonly MetricRecord[]) => void;
/** `localeCompare`'s order, with the collator made once (each localeCompare call makes its own). */
const RUN_ORDER = new Intl.Collator();

export abstract class CatalogTable {
  protected readonly entries = new CatalogEntries();
  protected readonly listeners = new Set<CatalogListener>();
  protected readonly metricListeners = new Set<MetricsListener>();
  /** The last change asked for; never rejects, so one failure does not stop those after it. */
  private tail: Promise<void> = Promise.resolve();

  subscribe(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onMetrics(listener: MetricsListener): () => void {
    this.metricListeners.add(listener);
    return () => this.metricListeners.delete(listener);
  }

  /** Resolves once every change asked for so far has been applied (and its events heard). */
  settled(): Promise<void> {
    return this.tail;
  }

  /** Queues one change: it starts after every change asked for before it has ended. */
  protected serialized<T>(change: () => Promise<T>): Promise<T> {
    const result = this.tail.then(change);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Applies what `apply` does to the table as one change, then tells the listeners. */
  protected commit(apply: (change: Change) => void): void {
    const change = new Change();
    let events: CatalogEvent[];
    try {
      apply(change);
    } finally {
      events = this.entries.finish(change, this.listeners.size > 0);
    }
    for (const event of events) {
      for (const listener of this.listeners) listener(event);
    }
  }

  listRuns(): RunInfo[] {
    return [...this.entries.runs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  getRun(name: string): RunInfo | undefined {
    return this.entries.runs.get(name);
  }

  /**
   * By run, then step. One run's are picked before sorting: `latest` and `best` ask per run, and
   * the app's marks ask for every run after each change (sorting all 10,000 fifty times took
   * seconds, in the process whose watcher was meanwhile waiting to report a new checkpoint).
   */
  list(run?: string): CheckpointInfo[] {
    const picked: CheckpointInfo[] = [];
    if (run === undefined) for (const entry of this.entries.checkpoints.values()) picked.push(entry.info);
    else
      for (const id of this.entries.idsOf(run)) {
        const entry = this.entries.checkpoints.get(id);
        if (entry) picked.push(entry.info);
      }
    return picked.sort((a, b) => (a.run === b.run ? a.step - b.step : RUN_ORDER.compare(a.run, b.run)));
  }

  /** Every checkpoint, in no particular order: for whoever only looks at each once. */
  *all(): IterableIterator<CheckpointInfo> {
    for (const entry of this.entries.checkpoints.values()) yield entry.info;
  }

  get(id: string): CheckpointInfo | undefined {
    return this.entries.checkpoints.get(id)?.info;
  }

  /** The runs that continued from the checkpoint of `run` at `step` (what makes it a protected parent). */
  childrenOf(run: string, step: number): readonly string[] {
    return this.entries.childrenOf(run, step);
  }

  findByPath(dir: string): CheckpointInfo | undefined {
    for (const info of this.all()) if (info.path === dir) return info;
    return undefined;
  }

  /**
   * Per run: the one its folder's own state calls latest (TensorFlow's `checkpoint` file), when it
   * is usable, else the highest step. Across the workspace: the most recently written of those.
   */
  latest(run?: string): CheckpointInfo | null {
    if (run !== undefined) return this.latestOfRun(run);
    const latests = [...this.entries.runs.keys()].map((name) => this.latestOfRun(name)).filter((c): c is CheckpointInfo => c !== null);
    return latests.sort(newerFirst)[0] ?? null;
  }

  private latestOfRun(run: string): CheckpointInfo | null {
    const named = this.entries.runs.get(run)?.latest;
    const stated = named ? this.get(named) : undefined;
    if (stated && isUsable(stated)) return stated;
    const usable = this.list(run).filter(isUsable);
    return usable.length === 0 ? null : usable.reduce((a, b) => (b.step > a.step ? b : a));
  }

  /** The best usable checkpoint by a metric; ties go to the later step. */
  best(metric: string, mode: MetricMode, run?: string): CheckpointInfo | null {
    return rankByMetric(this.list(run).filter(isUsable), metric, mode)[0] ?? null;
  }

  metricNames(): string[] {
    return this.entries.metricNames();
  }
}

/** Usable checkpoints carrying a numeric value of `metric`, best first. */
export function rankByMetric(checkpoints: readonly CheckpointInfo[], metric: string, mode: MetricMode): CheckpointInfo[] {
  const withValue = checkpoints.filter((c) => typeof c.metrics[metric] === 'number' && Number.isFinite(c.metrics[metric]));
  return withValue.sort((a, b) => {
    const av = a.metrics[metric] as number;
    const bv = b.metrics[metric] as number;
    const diff = mode === 'min' ? av - bv : bv - av;
    return diff !== 0 ? diff : b.step - a.step;
  });
}
