// The workspace as the renderer sees it: the snapshot, kept current by catalog events. Events
// are applied in batches (a bulk delete of thousands sends thousands of `removed`), and each
// batch replaces only the lanes of the runs it touched (lib/lane-index): the page's work per
// change is one run's, not the workspace's 100,000 checkpoints.
import { z } from 'zod';
import { type Lane, defaultMode, laneMetricNames } from '../lib/lanes';
import { type LaneChange, LaneIndex } from '../lib/lane-index';
import {
  type CatalogSnapshot,
  type CheckpointInfo,
  type MetricMode,
  MetricModeSchema,
  type RunInfo,
  type S3Connection,
  type SkippedFolder,
  type StudioApi,
  type StudioEventName,
  type StudioEventPayload,
} from '../lib/contract';
import { errorMessage } from '../lib/errors';
import { NO_VIEW_STORE, type ViewStore } from '../lib/view-store';

type CatalogChange = LaneChange;

export interface CatalogStateOptions {
  /** Runs a batch later (before the next frame); tests pass one that runs it at once. */
  readonly schedule?: (flush: () => void) => void;
  /** How long after a change the marks and the runs are asked for again. */
  readonly refreshDelayMs?: number;
  /** Where the metric and direction "best" is judged by are kept between sessions. */
  readonly bestStore?: ViewStore;
  /**
   * Another workspace replaced this one: what was read for its runs by name is stale (two folders
   * opened in place both have a run named `.`).
   */
  readonly onWorkspaceChanged?: () => void;
  /** A workspace was read: the first one, or another replacing this one (its per-workspace view is brought back). */
  readonly onWorkspace?: (workspace: string) => void;
}

const BestChoiceSchema = z.object({ metric: z.string().min(1), mode: MetricModeSchema });

/**
 * Events arriving within one frame are applied together, just before it is drawn; a page whose
 * frames are paused (hidden, in the background) still applies them within 100 ms.
 */
function nextFrame(flush: () => void): void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    flush();
  };
  const timer = setTimeout(once, 100);
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(once);
}

export class CatalogState {
  workspace = $state<string | null>(null);
  runs = $state.raw<RunInfo[]>([]);
  /** One per run, in the order runs were made; a change replaces its run's lane and keeps the others' objects. */
  lanes = $state.raw<readonly Lane[]>([]);
  skipped = $state.raw<SkippedFolder[]>([]);
  marks = $state.raw<Record<string, string[]>>({});
  /** The metric `best` is judged by; null until the workspace has one. */
  bestMetric = $state<string | null>(null);
  bestMode = $state<MetricMode>('min');
  loading = $state(true);
  error = $state<string | null>(null);

  /** Every checkpoint, run by run; built only when read (the lanes are what the page draws). */
  readonly checkpoints: readonly CheckpointInfo[] = $derived(this.lanes.flatMap((lane) => lane.checkpoints));
  readonly metricNames = $derived(laneMetricNames(this.lanes));
  readonly totalBytes = $derived(this.lanes.reduce((sum, lane) => sum + lane.bytes, 0));
  readonly count = $derived(this.lanes.reduce((sum, lane) => sum + lane.checkpoints.length, 0));

  private readonly index = new LaneIndex();
  /** Bumped whenever the index changes: what makes `byId` reactive without a new map of 100,000 per change. */
  private indexVersion = $state(0);

  /** Every checkpoint by id: one map kept current (read it where needed; it changes under a kept reference). */
  get byId(): ReadonlyMap<string, CheckpointInfo> {
    void this.indexVersion;
    return this.index.byId;
  }

  private pending: CatalogChange[] = [];
  private flushScheduled = false;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly schedule: (flush: () => void) => void;
  private readonly refreshDelayMs: number;
  private readonly bestStore: ViewStore;
  private readonly onWorkspaceChanged: () => void;
  private readonly onWorkspace: (workspace: string) => void;
  /** The user's own choice of "best", kept for when the workspace has that metric. */
  private preferredBest: { metric: string; mode: MetricMode } | null = null;

  constructor(
    private readonly api: StudioApi,
    options: CatalogStateOptions = {},
  ) {
    this.schedule = options.schedule ?? nextFrame;
    this.refreshDelayMs = options.refreshDelayMs ?? 250;
    this.bestStore = options.bestStore ?? NO_VIEW_STORE;
    this.onWorkspaceChanged = options.onWorkspaceChanged ?? (() => undefined);
    this.onWorkspace = options.onWorkspace ?? (() => undefined);
  }

  /** Listens first, then reads: nothing that happens in between is missed. */
  async start(): Promise<void> {
    const on = <E extends StudioEventName>(event: E, listener: (payload: StudioEventPayload<E>) => void): void => {
      this.unsubscribe.push(this.api.on(event, listener));
    };
    on('catalog:added', (checkpoint) => this.queue({ kind: 'upsert', checkpoint }));
    on('catalog:changed', (checkpoint) => this.queue({ kind: 'upsert', checkpoint }));
    on('catalog:removed', ({ id }) => this.queue({ kind: 'remove', id }));
    on('catalog:reset', (snapshot) => this.replace(snapshot));
    // A training that starts or ends changes which run has a writer.
    on('training:state', () => this.scheduleRefresh());
    const stored = BestChoiceSchema.safeParse(await this.bestStore.load());
    if (stored.success) this.preferredBest = stored.data;
    await this.reload();
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
  }

  /** Reads the whole snapshot again (after a reconnection, when events may have been missed). */
  async reload(): Promise<void> {
    try {
      this.replace(await this.api.snapshot());
    } catch (error) {
      this.loading = false;
      this.error = errorMessage(error);
    }
  }

  async openWorkspace(path: string, s3?: S3Connection): Promise<void> {
    this.replace(await this.api.openWorkspace({ path, ...(s3 ? { s3 } : {}) }));
  }

  setBest(metric: string, mode: MetricMode = defaultMode(metric)): void {
    this.preferredBest = { metric, mode };
    this.bestStore.save(this.preferredBest);
    this.bestMetric = metric;
    this.bestMode = mode;
    void this.refreshMarks();
  }

  /** Replaces one checkpoint from a call's answer (pin, unpin) without waiting for its event. */
  upsert(checkpoints: readonly CheckpointInfo[]): void {
    for (const checkpoint of checkpoints) this.pending.push({ kind: 'upsert', checkpoint });
    this.flush();
  }

  private replace(snapshot: CatalogSnapshot): void {
    this.pending = [];
    const previous = this.workspace;
    if (previous !== null && previous !== snapshot.workspace) this.onWorkspaceChanged();
    this.workspace = snapshot.workspace;
    this.runs = snapshot.runs;
    this.index.reset(snapshot.runs, snapshot.checkpoints);
    this.publish();
    if (previous !== snapshot.workspace) this.onWorkspace(snapshot.workspace);
    this.skipped = snapshot.skipped;
    this.loading = false;
    this.error = null;
    this.chooseBestMetric();
    void this.refreshMarks();
  }

  /** val_loss when there is one, else the first metric; kept while the workspace still has it. */
  private chooseBestMetric(): void {
    const names = this.metricNames;
    const preferred = this.preferredBest;
    if (preferred && names.includes(preferred.metric)) {
      this.bestMetric = preferred.metric;
      this.bestMode = preferred.mode;
      return;
    }
    if (this.bestMetric !== null && names.includes(this.bestMetric)) return;
    const metric = names.includes('val_loss') ? 'val_loss' : (names[0] ?? null);
    this.bestMetric = metric;
    if (metric) this.bestMode = defaultMode(metric);
  }

  private queue(change: CatalogChange): void {
    this.pending.push(change);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.schedule(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const changes = this.pending;
    this.pending = [];
    this.index.apply(changes);
    const placeholders = this.placeholderRuns(changes);
    if (placeholders.length > 0) {
      this.runs = [...this.runs, ...placeholders];
      this.index.setRuns(this.runs);
    }
    this.publish();
    this.chooseBestMetric();
    this.scheduleRefresh();
  }

  /** The index changed: its lanes and map are what the page reads. */
  private publish(): void {
    this.lanes = this.index.lanes;
    this.indexVersion += 1;
  }

  /** Until listRuns answers, a run first seen through an event gets a lane of its own. */
  private placeholderRuns(changes: readonly CatalogChange[]): RunInfo[] {
    const known = new Set(this.runs.map((r) => r.name));
    const added: RunInfo[] = [];
    for (const change of changes) {
      if (change.kind !== 'upsert' || known.has(change.checkpoint.run)) continue;
      known.add(change.checkpoint.run);
      const { run, path, createdAt } = change.checkpoint;
      // The run's folder is the checkpoint folder's parent, on either kind of path separator.
      // A stand-in for the moment until listRuns answers with the run as the core reads it.
      added.push({
        name: run,
        path: path.replace(/[\\/][^\\/]*$/, ''),
        layout: 'studio',
        label: null,
        latest: null,
        createdAt,
        parent: null,
        checkpointCount: 0,
        bytes: 0,
        writer: null,
        notes: [],
      });
    }
    return added;
  }

  /** Marks and run details (sizes, writers) follow changes; asked for once things settle. */
  private scheduleRefresh(): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refreshRuns();
      void this.refreshMarks();
    }, this.refreshDelayMs);
  }

  /** Runs and marks at once, after a change that moves neither a checkpoint nor a file event our way soon enough (Make latest). */
  async refreshRunsAndMarks(): Promise<void> {
    await Promise.all([this.refreshRuns(), this.refreshMarks()]);
  }

  private async refreshRuns(): Promise<void> {
    try {
      const runs = await this.api.listRuns();
      // Runs read the same as before keep their lanes (and everything drawn from them).
      if (!this.index.setRuns(runs)) return;
      this.runs = runs;
      this.publish();
    } catch {
      // The next change or reload tries again; the list itself is still right.
    }
  }

  private marksRequest = 0;

  async refreshMarks(): Promise<void> {
    const request = ++this.marksRequest;
    try {
      const marks = await this.api.marks(this.bestMetric ? { metric: this.bestMetric, mode: this.bestMode } : {});
      // An older answer arriving after a newer one must not win.
      if (request === this.marksRequest) this.marks = marks;
    } catch {
      if (request === this.marksRequest) this.marks = {};
    }
  }
}
