// Keeps the catalog current from file-system events. Checkpoints appear by an atomic rename,
// so a new ckpt-* folder is complete the moment it is seen; .tmp-* folders in flight are
// ignored. Bursts are coalesced, and the workspace folder may be deleted and created again.
//
// chokidar watches the workspace (runs appearing and disappearing) and its parent (the
// workspace itself being deleted and re-created). Inside a run we use the platform watcher
// that chokidar itself wraps (fs.watch), one per run: chokidar re-lists a whole directory on
// every event and throttles that to once a second per directory, which in a run of 10,000
// checkpoints measured 170–300 ms per event and up to a second in bursts; fs.watch names the
// entry that changed, so a new checkpoint reaches listeners in milliseconds. The same watcher
// sees a run's metrics.jsonl grow, whoever appends to it: its new records go to onMetrics at
// once, not coalesced (metrics-follow.ts).
import { type FSWatcher, watch } from 'chokidar';
import { type FSWatcher as RunWatcher, readdirSync, watch as watchDirectory } from 'node:fs';
import path from 'node:path';
import type { CheckpointInfo } from '../../contract.js';
import type { Catalog } from './catalog.js';
import { type MetricsListener, MetricsFollower } from './metrics-follow.js';
import { LOCK_FILE, METRICS_FILE, POLICY_FILE, RUN_FILE, STATE_DIR, TRASH_DIR, isHiddenName, parseCheckpointDirName } from './layout.js';
import { isTemporaryName } from '../base/temporaries.js';

export interface WatcherOptions {
  /** How long to gather events before re-reading: short enough to feel live. */
  readonly coalesceMs?: number;
  readonly onError?: (error: unknown) => void;
  /** How often folders that were seen incomplete (a non-atomic writer at work) are looked at again. */
  readonly incompletePollMs?: number;
  /** Records appended to one of our runs' metrics.jsonl by any process; without it logs are not followed. */
  readonly onMetrics?: MetricsListener;
}

type Dirty = { kind: 'all' } | { kind: 'run'; run: string } | { kind: 'runState'; run: string } | { kind: 'checkpoint'; run: string; dirName: string };

const IGNORED_NAMES = new Set([TRASH_DIR, STATE_DIR, 'node_modules']);

/**
 * The poll's full pass over the catalog (100,000 checkpoints: 60–100 ms on the Studio's thread)
 * runs when something changed since the last one, else once in this many polls; in between, the
 * poll looks again at the incomplete and damaged ones the last pass found.
 */
const FULL_PASS_EVERY = 10;

/** Damaged ones too: their files are not watched, and one may be a copy that was still arriving when first seen, or be repaired in place. */
function needsAnotherLook(c: CheckpointInfo): boolean {
  return c.status === 'incomplete' || c.status === 'damaged';
}

export class WorkspaceWatcher {
  private inner: FSWatcher | null = null;
  private readonly runWatchers = new Map<string, RunWatcher>();
  /** Other programs' folders (any depth) by path, with the runs read in place they hold: a change re-reads those runs. */
  private readonly placeWatchers = new Map<string, { watcher: RunWatcher; runs: readonly string[] }>();
  private outer: FSWatcher | null = null;
  private readonly pending = new Map<string, Dirty>();
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly coalesceMs: number;
  private incompletePoll: NodeJS.Timeout | null = null;
  /** The incomplete and damaged checkpoints the poll's last full pass found, and whether anything changed since. */
  private incomplete: string[] = [];
  private incompleteStale = true;
  private pollsSinceFullPass = 0;
  private offCatalog: (() => void) | null = null;
  private readonly metrics: MetricsFollower | null;
  /** Runs there when watching began: their logs so far are history, not news. */
  private firstSync = true;

  private constructor(
    private readonly catalog: Catalog,
    private readonly options: WatcherOptions,
  ) {
    this.coalesceMs = options.coalesceMs ?? 30;
    const { onMetrics, onError } = options;
    this.metrics = onMetrics ? new MetricsFollower(catalog.workspace, { onRecords: onMetrics, ...(onError ? { onError } : {}) }) : null;
  }

  static async start(catalog: Catalog, options: WatcherOptions = {}): Promise<WorkspaceWatcher> {
    const watcher = new WorkspaceWatcher(catalog, options);
    await watcher.watchParent();
    await watcher.watchWorkspace();
    watcher.syncPlaceWatchers();
    // Where each log ends now is measured before anyone is told watching began: what is appended after is news.
    await watcher.metrics?.settled();
    // A change the watcher did not make itself (an import, a save, a deletion) may bring new incomplete or damaged checkpoints.
    watcher.offCatalog = catalog.subscribe(() => {
      watcher.incompleteStale = true;
    });
    watcher.incompletePoll = setInterval(() => watcher.recheckIncomplete(), options.incompletePollMs ?? 1000);
    watcher.incompletePoll.unref();
    return watcher;
  }

  /** Resolves once every event seen so far has reached the catalog (for tests and shutdown). */
  async settle(): Promise<void> {
    while (this.timer !== null || this.pending.size > 0) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
        this.drain();
      }
      await this.draining;
    }
    await this.draining;
    await this.metrics?.settled();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.incompletePoll) clearInterval(this.incompletePoll);
    this.offCatalog?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closeRunWatchers();
    this.metrics?.close();
    await Promise.all([this.inner?.close(), this.outer?.close()]);
    await this.draining;
  }

  private get root(): string {
    return this.catalog.workspace;
  }

  /** The parent is watched for the workspace folder itself being removed or created again. */
  private async watchParent(): Promise<void> {
    this.outer = watch(path.dirname(this.root), { depth: 0, ignoreInitial: true, ignorePermissionErrors: true });
    this.outer.on('addDir', (p) => {
      if (p !== this.root) return;
      void this.restartInner();
    });
    this.outer.on('unlinkDir', (p) => {
      if (p === this.root) this.mark({ kind: 'all' });
    });
    this.outer.on('error', (e) => this.options.onError?.(e));
    await new Promise<void>((resolve) => this.outer?.once('ready', () => resolve()));
  }

  private async restartInner(): Promise<void> {
    this.closeRunWatchers();
    await this.inner?.close();
    this.inner = null;
    if (this.closed) return;
    await this.watchWorkspace();
    this.mark({ kind: 'all' });
  }

  private async watchWorkspace(): Promise<void> {
    const inner = watch(this.root, {
      // Only the workspace's own entries (runs); see the top of the file for inside runs.
      depth: 0,
      ignoreInitial: true,
      ignorePermissionErrors: true,
      ignored: (p) => this.isIgnored(p),
    });
    this.inner = inner;
    for (const type of ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const) {
      inner.on(type, (p: string) => this.onPath(p));
    }
    inner.on('error', (e) => this.options.onError?.(e));
    await new Promise<void>((resolve) => inner.once('ready', () => resolve()));
    this.syncRunWatchers();
  }

  /**
   * One watcher per visible folder of the workspace: opened for new ones, closed for gone ones.
   * Read from disk, not from the catalog: a folder becomes a run only when its first
   * checkpoint arrives (a copy, an import), and that arrival is what must be seen.
   */
  private syncRunWatchers(): void {
    if (this.closed) return;
    let runs: Set<string>;
    try {
      runs = new Set(
        readdirSync(this.root, { withFileTypes: true })
          .filter((e) => !isHiddenName(e.name) && (e.isDirectory() || e.isSymbolicLink()))
          .map((e) => e.name),
      );
    } catch {
      runs = new Set();
    }
    for (const [run, watcher] of this.runWatchers) {
      if (runs.has(run)) continue;
      watcher.close();
      this.runWatchers.delete(run);
      this.metrics?.unfollow(run);
    }
    const fromEnd = this.firstSync;
    this.firstSync = false;
    for (const run of runs) {
      if (this.runWatchers.has(run)) continue;
      this.metrics?.follow(run, fromEnd);
      // A run that appeared while watched may have logged before its folder was watched.
      if (!fromEnd && !this.catalog.isInPlace(run)) this.metrics?.changed(run);
      try {
        const watcher = watchDirectory(path.join(this.root, run), { persistent: false }, (_type, name) => {
          if (name) this.onPath(path.join(this.root, run, name.toString()));
          else this.mark({ kind: 'run', run });
        });
        watcher.on('error', () => {
          // The run folder went away; the workspace watcher reports that and we re-sync then.
          watcher.close();
          this.runWatchers.delete(run);
          this.mark({ kind: 'run', run });
        });
        this.runWatchers.set(run, watcher);
      } catch {
        this.mark({ kind: 'run', run });
      }
    }
  }

  private closeRunWatchers(): void {
    for (const [run, watcher] of this.runWatchers) {
      watcher.close();
      this.metrics?.unfollow(run);
    }
    this.runWatchers.clear();
    for (const { watcher } of this.placeWatchers.values()) watcher.close();
    this.placeWatchers.clear();
  }

  /**
   * One platform watcher per folder of other programs' runs (and per folder walked looking for
   * them): fs.watch names the file that changed, so an event file's new record or a new checkpoint
   * group is re-read in milliseconds. The workspace itself is chokidar's (see onPath).
   */
  private syncPlaceWatchers(): void {
    if (this.closed) return;
    const wanted = this.catalog.inPlaceFolders();
    wanted.delete(this.root);
    for (const [dir, held] of this.placeWatchers) {
      if (wanted.has(dir)) continue;
      held.watcher.close();
      this.placeWatchers.delete(dir);
    }
    for (const [dir, runs] of wanted) {
      const held = this.placeWatchers.get(dir);
      if (held) {
        this.placeWatchers.set(dir, { watcher: held.watcher, runs });
        continue;
      }
      try {
        const watcher = watchDirectory(dir, { persistent: false }, (_type, name) => {
          if (name !== null && isTemporaryName(name.toString())) return;
          const current = this.placeWatchers.get(dir)?.runs ?? [];
          if (current.length === 0) this.mark({ kind: 'all' });
          else for (const run of current) this.mark({ kind: 'run', run });
        });
        watcher.on('error', () => {
          watcher.close();
          this.placeWatchers.delete(dir);
          this.mark({ kind: 'all' });
        });
        this.placeWatchers.set(dir, { watcher, runs });
      } catch {
        // Gone or unreadable since the scan: the next full scan says what is there.
      }
    }
  }

  private isIgnored(p: string): boolean {
    const relative = path.relative(this.root, p);
    if (relative === '' || relative.startsWith('..')) return false;
    const parts = relative.split(path.sep);
    if (parts.some(isTemporaryName)) return true;
    return IGNORED_NAMES.has(parts[0] ?? '');
  }

  private onPath(p: string): void {
    if (this.isIgnored(p)) return;
    const parts = path.relative(this.root, p).split(path.sep);
    const [run, second] = parts;
    if (!run || run.startsWith('.')) return;
    if (parts.length === 1) {
      this.mark({ kind: 'run', run });
      // The workspace itself may be another program's folder (a TensorFlow Saver's): its runs are re-read too.
      for (const held of this.catalog.inPlaceFolders().get(this.root) ?? []) this.mark({ kind: 'run', run: held });
      return;
    }
    if (second === undefined) return;
    if (parseCheckpointDirName(second) !== null) {
      this.mark({ kind: 'checkpoint', run, dirName: second });
      return;
    }
    if (parts.length === 2 && second === METRICS_FILE) {
      // Another program's folder read in place has its own follower (the catalog reads its logs).
      if (!this.catalog.isInPlace(run)) this.metrics?.changed(run);
      return;
    }
    if (parts.length === 2 && (second === RUN_FILE || second === POLICY_FILE || second === LOCK_FILE)) {
      this.mark({ kind: 'runState', run });
    }
  }

  private recheckIncomplete(): void {
    this.pollsSinceFullPass += 1;
    if (this.incompleteStale || this.pollsSinceFullPass >= FULL_PASS_EVERY) {
      this.incompleteStale = false;
      this.pollsSinceFullPass = 0;
      this.incomplete = [];
      for (const c of this.catalog.all()) if (needsAnotherLook(c)) this.incomplete.push(c.id);
    }
    for (const id of this.incomplete) {
      const c = this.catalog.get(id);
      if (!c || !needsAnotherLook(c)) continue;
      if (c.files !== null) this.mark({ kind: 'run', run: c.run }, true);
      else this.mark({ kind: 'checkpoint', run: c.run, dirName: path.basename(c.path) }, true);
    }
  }

  /** `polled`: the poll's own look again, which changes nothing the next full pass must see. */
  private mark(dirty: Dirty, polled = false): void {
    if (this.closed) return;
    if (!polled) this.incompleteStale = true;
    const key = dirty.kind === 'all' ? 'all' : dirty.kind === 'checkpoint' ? `c:${dirty.run}/${dirty.dirName}` : `${dirty.kind}:${dirty.run}`;
    this.pending.set(key, dirty);
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drain();
      }, this.coalesceMs);
    }
  }

  private drain(): void {
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.draining = this.draining.then(() => this.apply(batch)).catch((error: unknown) => this.options.onError?.(error));
  }

  private async apply(batch: readonly Dirty[]): Promise<void> {
    // Watchers first, then the scan: whatever lands in between is seen by one or the other.
    if (batch.some((d) => d.kind === 'all')) {
      this.syncRunWatchers();
      await this.catalog.refresh();
      this.syncPlaceWatchers();
      return;
    }
    const wholeRuns = new Set(batch.filter((d) => d.kind === 'run').map((d) => (d as { run: string }).run));
    if (wholeRuns.size > 0) this.syncRunWatchers();
    for (const run of wholeRuns) await this.catalog.refreshRun(run);
    for (const dirty of batch) {
      if (dirty.kind === 'checkpoint' && !wholeRuns.has(dirty.run)) await this.catalog.refreshCheckpoint(dirty.run, dirty.dirName);
    }
    for (const dirty of batch) {
      if (dirty.kind === 'runState' && !wholeRuns.has(dirty.run)) await this.catalog.refreshRunState(dirty.run);
    }
    // A run read in place may have gained a subfolder of its own (a Trainer's new checkpoint-N/).
    if (wholeRuns.size > 0) this.syncPlaceWatchers();
  }
}
