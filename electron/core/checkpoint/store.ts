// The checkpoint store: one object the CLI, the trainer and the app share. Every operation on
// a workspace goes through it, so the guards in safe-delete.ts and the atomic writer are the
// only ways anything in a workspace changes.
import path from 'node:path';
import type { CheckpointInfo, MetricMode, RetentionPlan, TrashEntry } from '../../contract.js';
import { Catalog } from './catalog.js';
import { RefusedError } from './errors.js';
import { checkpointId } from './layout.js';
import { type LoadedCheckpoint, type VerifyResult, loadCheckpoint } from './reader.js';
import { planRetention, rememberBest } from './retention.js';
import { type RetentionPolicy, RetentionPolicySchema, type RunMeta, createRunFolder, readRunRetention, writeRunRetention } from './run-files.js';
import { RunWriter } from './run-writer.js';
import { liveLockHolder } from './run-lock.js';
import { type DeleteOptions, listTrash, moveToTrash, newBatchId, purgeTrash, restoreFromTrash, undoDelete } from './safe-delete.js';
import { type PreparedWorkspace, prepareWorkspace } from './workspace.js';
import { WorkspaceWatcher, type WatcherOptions } from './watcher.js';

export type CheckpointSelector = string;

export class CheckpointStore {
  private constructor(
    readonly root: string,
    readonly catalog: Catalog,
    readonly opened: PreparedWorkspace,
  ) {}

  static async open(dir: string): Promise<CheckpointStore> {
    const prepared = await prepareWorkspace(dir);
    const catalog = await Catalog.open(prepared.root);
    return new CheckpointStore(prepared.root, catalog, prepared);
  }

  watch(options?: WatcherOptions): Promise<WorkspaceWatcher> {
    return WorkspaceWatcher.start(this.catalog, options);
  }

  async createRun(name: string, meta: Omit<RunMeta, 'formatVersion' | 'name' | 'createdAt'>): Promise<RunWriter> {
    await createRunFolder(this.root, name, meta);
    const writer = await this.openRunWriter(name);
    await this.catalog.refreshRun(name);
    return writer;
  }

  openRunWriter(name: string): Promise<RunWriter> {
    return RunWriter.open(this.root, name, (written) => this.catalog.refreshCheckpoint(name, path.basename(written.dir)).then(() => undefined));
  }

  /**
   * Resolves what a user typed: `latest`, `best` (with a metric), a checkpoint id
   * (`run/ckpt-000000100`), or a path to a checkpoint folder.
   */
  resolve(selector: CheckpointSelector, options: { run?: string; metric?: string; mode?: MetricMode } = {}): CheckpointInfo {
    if (selector === 'latest') {
      const latest = this.catalog.latest(options.run);
      if (!latest) throw new RefusedError(this.root, `no complete checkpoint${options.run ? ` in run "${options.run}"` : ''} to call latest`);
      return latest;
    }
    if (selector === 'best') {
      if (!options.metric) throw new RefusedError('best', 'name the metric (--metric NAME)');
      const best = this.catalog.best(options.metric, options.mode ?? 'min', options.run);
      if (!best) throw new RefusedError(this.root, `no complete checkpoint carries the metric "${options.metric}"`);
      return best;
    }
    const byId = this.catalog.get(selector.replace(/[\\/]+$/, ''));
    if (byId) return byId;
    const byPath = this.catalog.findByPath(path.resolve(selector)) ?? this.catalog.findByPath(path.resolve(this.root, selector));
    if (byPath) return byPath;
    throw new RefusedError(selector, `not a checkpoint of the workspace ${this.root}`);
  }

  load(selector: CheckpointSelector): Promise<LoadedCheckpoint> {
    return loadCheckpoint(this.resolve(selector).path);
  }

  verify(ids: readonly string[]): Promise<VerifyResult[]> {
    return this.catalog.verify(ids);
  }

  async setPinned(id: string, pinned: boolean): Promise<void> {
    const checkpoint = this.resolve(id);
    const runDir = path.join(this.root, checkpoint.run);
    const retention = await readRunRetention(runDir);
    const name = path.basename(checkpoint.path);
    const set = new Set(retention.pinned);
    if (pinned) set.add(name);
    else set.delete(name);
    await writeRunRetention(runDir, { ...retention, pinned: [...set].sort() });
    await this.catalog.refreshRunState(checkpoint.run);
  }

  async setPolicy(run: string, policy: RetentionPolicy): Promise<void> {
    const runDir = path.join(this.root, run);
    const retention = await readRunRetention(runDir);
    await writeRunRetention(runDir, { ...retention, policy });
  }

  async getPolicy(run: string): Promise<RetentionPolicy> {
    return (await readRunRetention(path.join(this.root, run))).policy;
  }

  /** A dry run: what the run's policy (or the one given) would keep and delete, and why. */
  async planRetention(
    run: string,
    options: {
      policy?: RetentionPolicy;
      protectedIds?: ReadonlySet<string>;
      protectedReasons?: ReadonlyMap<string, string>;
      /** Re-read the run from disk first (default); a caller that keeps the catalog current may skip it. */
      refresh?: boolean;
    } = {},
  ): Promise<RetentionPlan> {
    if (options.refresh !== false) await this.catalog.refreshRun(run);
    if (!this.catalog.getRun(run)) throw new RefusedError(run, `no such run in ${this.root}`);
    const stored = await readRunRetention(path.join(this.root, run));
    const retention = options.policy ? { ...stored, policy: options.policy } : stored;
    // Checkpoints other runs continued from: deleting one would cut the lineage.
    const parents = new Map<string, string>();
    for (const other of this.catalog.listRuns()) {
      if (other.name !== run && other.parent) parents.set(checkpointId(other.parent.run, other.parent.step), other.name);
    }
    for (const c of this.catalog.list()) {
      if (c.run !== run && c.parent) parents.set(checkpointId(c.parent.run, c.parent.step), c.run);
    }
    return planRetention(run, this.catalog.list(run), retention, { protectedIds: options.protectedIds, protectedReasons: options.protectedReasons, otherRunsParents: parents });
  }

  /** Deletes exactly the planned set, re-checking each one's protections at the moment of deletion. */
  async applyRetention(
    plan: RetentionPlan,
    options: { lockToken?: string; protectedIds?: ReadonlySet<string>; protectedReasons?: ReadonlyMap<string, string>; refresh?: boolean } = {},
  ): Promise<TrashEntry[]> {
    const fresh = await this.planRetention(plan.run, {
      policy: RetentionPolicySchema.parse(plan.policy),
      protectedIds: options.protectedIds,
      protectedReasons: options.protectedReasons,
      refresh: options.refresh,
    });
    const stillDeletable = new Set(fresh.delete.map((d) => d.id));
    const planned = plan.delete.filter((d) => stillDeletable.has(d.id));
    const batch = newBatchId();
    const entries = await moveToTrash(
      this.root,
      planned.map((d) => this.resolve(d.id).path),
      { reason: `retention policy of run "${plan.run}"`, batch, lockToken: options.lockToken },
    );
    const runDir = path.join(this.root, plan.run);
    const retention = await readRunRetention(runDir);
    const remembered = rememberBest(retention, this.catalog.list(plan.run));
    if (remembered !== retention) await writeRunRetention(runDir, remembered);
    if (options.refresh === false) {
      for (const entry of entries) await this.catalog.refreshCheckpoint(plan.run, path.basename(entry.originalPath));
    } else await this.catalog.refreshRun(plan.run);
    return entries;
  }

  /** Bulk delete of any checkpoints (ids or paths): all are checked before any is moved. */
  async delete(selectors: readonly string[], options: Partial<DeleteOptions> = {}): Promise<TrashEntry[]> {
    const targets = selectors.map((s) => {
      // Deletion names checkpoints explicitly: "latest" or "best" would delete whatever they
      // happen to mean at that instant.
      if (s === 'latest' || s === 'best') throw new RefusedError(s, 'name the checkpoints to delete by id or path, not by "latest" or "best"');
      try {
        return this.resolve(s).path;
      } catch {
        // Not in the catalog: let the guard explain exactly why it is not deletable.
        return path.resolve(s);
      }
    });
    const entries = await moveToTrash(this.root, targets, { reason: options.reason ?? 'deleted by hand', ...options });
    await this.refreshRuns(entries.map((e) => e.checkpointId.split('/')[0] ?? ''));
    return entries;
  }

  listTrash(): Promise<TrashEntry[]> {
    return listTrash(this.root);
  }

  async restoreFromTrash(ids: readonly string[]): Promise<TrashEntry[]> {
    const restored = await restoreFromTrash(this.root, ids);
    await this.refreshRuns(restored.map((e) => e.checkpointId.split('/')[0] ?? ''));
    return restored;
  }

  async undo(batch?: string): Promise<TrashEntry[]> {
    const restored = await undoDelete(this.root, batch);
    await this.refreshRuns(restored.map((e) => e.checkpointId.split('/')[0] ?? ''));
    return restored;
  }

  purgeTrash(options?: { olderThanMs?: number }): ReturnType<typeof purgeTrash> {
    return purgeTrash(this.root, options);
  }

  runWriterHolder(run: string): ReturnType<typeof liveLockHolder> {
    return liveLockHolder(path.join(this.root, run));
  }

  private async refreshRuns(runs: readonly string[]): Promise<void> {
    for (const run of new Set(runs)) if (run) await this.catalog.refreshRun(run);
  }
}
