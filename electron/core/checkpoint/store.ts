// The checkpoint store: one object the CLI, the trainer and the app share. Every operation on
// a workspace goes through it, so the guards in safe-delete.ts and the atomic writer are the
// only ways anything in a workspace changes.
import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointInfo, RetentionPlan, TrashEntry } from '../../contract.js';
import { Catalog, type VerifyOutcome, isUsable } from './catalog.js';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { statIfPresent } from '../base/path-state.js';
import { POLICY_FILE } from './layout.js';
import { showName } from './names.js';
import { type CheckpointSelector, type SelectorOptions, resolveSelector, resumable, runAndStep } from './selectors.js';
import { type LoadedCheckpoint, loadCheckpoint } from './reader.js';
import { planRetention, rememberBest } from './retention.js';
import {
  type NewRunMeta,
  type RetentionPolicy,
  type RunRetention,
  RetentionPolicySchema,
  checkRunName,
  createRunFolder,
  isUnsavedRun,
  setAsideUnsavedLog,
  readRunRetention,
  writeRunMeta,
  writeRunRetention,
} from './run-files.js';
import { type ForeignPartVerifier, UNVERIFIABLE_FOREIGN_PARTS } from './foreign-part.js';
import { type InPlaceLayouts, NO_IN_PLACE_LAYOUTS } from './in-place.js';
import { RunWriter } from './run-writer.js';
import { acquireRunLock } from './run-lock.js';
import { type DeleteOptions, moveToTrash } from './safe-delete.js';
import { DEFAULT_QUIET_MS, InPlaceChanges } from './in-place-changes.js';
import { TrashBatch } from './trash-batch.js';
import { type PurgeResult, type TrashListing, inspectTrash, listTrash, purgeTrash, restoreFromTrash, undoDelete } from './trash.js';
import { type PreparedWorkspace, type WorkspaceAccess, prepareWorkspace } from './workspace.js';
import { WorkspaceWatcher, type WatcherOptions } from './watcher.js';

export type { CheckpointSelector };

export interface OpenOptions {
  /**
   * 'read' never creates or removes anything (a missing workspace is a NotFoundError); 'write'
   * clears what dead writers of ours left behind; 'create' (the default) also makes the folder.
   */
  readonly access?: WorkspaceAccess;
  /** Verifies imported checkpoints' foreign parts (the formats layer's storedForeignParts); without it they do not verify. */
  readonly foreign?: ForeignPartVerifier;
  /** How other programs' folders form runs and checkpoints (the layouts layer's); without them only our runs are listed. */
  readonly layouts?: InPlaceLayouts;
  /** How long another program's folder must have been quiet before it is changed (default 10 s; 0: no wait). */
  readonly quietMs?: number;
}

export class CheckpointStore {
  /** How long another program's folder must have been quiet before it is changed; a setting. */
  quietMs: number;
  private readonly inPlace: InPlaceChanges;

  private constructor(
    readonly root: string,
    readonly catalog: Catalog,
    readonly opened: PreparedWorkspace,
    quietMs: number,
  ) {
    this.quietMs = quietMs;
    this.inPlace = new InPlaceChanges(root, catalog, () => this.quietMs);
  }

  static async open(dir: string, options: OpenOptions = {}): Promise<CheckpointStore> {
    const prepared = await prepareWorkspace(dir, options.access ?? 'create');
    const catalog = await Catalog.open(prepared.root, options.foreign ?? UNVERIFIABLE_FOREIGN_PARTS, options.layouts ?? NO_IN_PLACE_LAYOUTS);
    return new CheckpointStore(prepared.root, catalog, prepared, options.quietMs ?? DEFAULT_QUIET_MS);
  }

  watch(options?: WatcherOptions): Promise<WorkspaceWatcher> {
    return WorkspaceWatcher.start(this.catalog, options);
  }

  /**
   * Creates a run and takes its lock. A folder of that name that never held a checkpoint (a kill
   * during start-up, or before the first save) is taken over, so the same name can simply be
   * tried again; the steps it logged are kept aside, not deleted.
   */
  async createRun(name: string, meta: NewRunMeta): Promise<RunWriter> {
    const created = await createRunFolder(this.root, name, meta);
    const writer = created === 'exists' ? await this.takeOverAbandonedStart(name, meta) : await this.openRunWriter(name);
    await this.catalog.refreshRun(name);
    return writer;
  }

  private async takeOverAbandonedStart(name: string, meta: NewRunMeta): Promise<RunWriter> {
    const runDir = path.join(this.root, name);
    const taken = (): RefusedError => new RefusedError(runDir, 'a run with this name already exists; continue from it with --resume, or choose another --run');
    const info = await lstat(runDir);
    if (info.isSymbolicLink() || !info.isDirectory() || !(await isUnsavedRun(runDir))) throw taken();
    // A live start of the same name holds the lock: this throws, naming it.
    const lock = await acquireRunLock(runDir);
    try {
      if (!(await isUnsavedRun(runDir))) throw taken();
      // The policy belonged to the attempt; its log is history, kept under another name.
      await rm(path.join(runDir, POLICY_FILE), { force: true });
      await setAsideUnsavedLog(runDir);
      await writeRunMeta(runDir, name, meta);
    } catch (error) {
      await lock.release();
      throw error;
    }
    return this.openRunWriter(name, lock);
  }

  /** A run's folder, for a name that can be one: a typed or recorded name never leads elsewhere. */
  runDir(run: string): string {
    checkRunName(run);
    return path.join(this.root, run);
  }

  openRunWriter(name: string, lock?: Awaited<ReturnType<typeof acquireRunLock>>): Promise<RunWriter> {
    checkRunName(name);
    return RunWriter.open(
      this.root,
      name,
      {
        onSaved: (written) => this.catalog.refreshCheckpoint(name, path.basename(written.dir)),
        // Only the catalog's view is at stake (a watcher, where one runs, re-reads the lock too):
        // a failing re-read must not fail the close that released the run.
        onClosed: () => this.catalog.refreshRunState(name).catch(() => undefined),
      },
      lock,
    );
  }

  /**
   * Resolves what a user typed: `latest`, `best` (with a metric), a checkpoint id
   * (`run/ckpt-000000100`, or `run/ckpt-100` for the folder holding step 100), or a path to a
   * checkpoint folder. Never picks one of two folders that hold the same step.
   */
  resolve(selector: CheckpointSelector, options: SelectorOptions = {}): CheckpointInfo {
    return resolveSelector(
      this.catalog,
      this.root,
      selector,
      options,
      (typed) => this.catalog.findByPath(path.resolve(typed)) ?? this.catalog.findByPath(path.resolve(this.root, typed)),
    );
  }

  /**
   * What to say when `selector` names nothing in the workspace because the checkpoint it names is
   * in the trash (its newest entry there): where it went, why, and how to bring it back. Null
   * when it is not there either; `latest` and `best` never mean a trashed checkpoint.
   */
  async trashedError(selector: CheckpointSelector): Promise<NotFoundError | null> {
    if (selector === 'latest' || selector === 'best') return null;
    const trimmed = selector.replace(/[\\/]+$/, '');
    const asPath = [path.resolve(selector), path.resolve(this.root, selector)].map((p) => path.relative(this.root, p));
    const wanted = runAndStep(trimmed);
    const named = (entry: TrashEntry): boolean => {
      if (entry.checkpointId === trimmed || asPath.includes(entry.originalPath)) return true;
      const held = runAndStep(entry.checkpointId);
      return wanted !== null && held !== null && held.run === wanted.run && held.step === wanted.step;
    };
    // Only an explanation: a trash that cannot be read leaves the caller's own answer standing.
    const entry = (await this.listTrash().catch(() => [])).find(named);
    if (!entry) return null;
    const when = `${entry.deletedAt.replace('T', ' ').slice(0, 19)} UTC`;
    return new NotFoundError(
      entry.checkpointId,
      `in the trash (${entry.reason}, ${when}; batch ${entry.batch}): restore it first with \`checkpoint-studio trash restore ${entry.id}\` or the Trash view's Restore`,
    );
  }

  /** A checkpoint training may continue from: whole, usable, and the only folder of its step. */
  resolveResumable(selector: CheckpointSelector, options: SelectorOptions = {}): CheckpointInfo {
    return resumable(this.resolve(selector, options), selector);
  }

  async load(selector: CheckpointSelector): Promise<LoadedCheckpoint> {
    return loadCheckpoint(this.resolveResumable(selector).path);
  }

  verify(ids: readonly string[]): Promise<VerifyOutcome> {
    return this.catalog.verify(ids);
  }

  /** A run folder the store may write its own files into: the workspace's own, not a link elsewhere. */
  private async ownRunFolder(run: string): Promise<string> {
    const runDir = this.runDir(run);
    const info = await statIfPresent(runDir);
    if (!info) throw new NotFoundError(runDir, 'no such run');
    if (info.isSymbolicLink()) throw new RefusedError(runDir, 'the run folder is a symbolic link; its pins and policy would be written outside the workspace');
    if (!info.isDirectory()) throw new RefusedError(runDir, 'not a folder');
    return runDir;
  }

  async setPinned(id: string, pinned: boolean): Promise<void> {
    const checkpoint = this.resolve(id);
    if (this.catalog.isInPlace(checkpoint.run)) return this.inPlace.setPinned(checkpoint, pinned);
    const runDir = await this.ownRunFolder(checkpoint.run);
    const retention = await readRunRetention(runDir);
    const name = path.basename(checkpoint.path);
    const set = new Set(retention.pinned);
    if (pinned) set.add(name);
    else set.delete(name);
    await writeRunRetention(runDir, { ...retention, pinned: [...set].sort() });
    await this.catalog.refreshRunState(checkpoint.run);
  }

  async setPolicy(run: string, policy: RetentionPolicy): Promise<void> {
    if (this.catalog.isInPlace(run)) return this.inPlace.updateRetention(run, (r) => ({ ...r, policy }));
    const runDir = await this.ownRunFolder(run);
    const retention = await readRunRetention(runDir);
    await writeRunRetention(runDir, { ...retention, policy });
  }

  async getPolicy(run: string): Promise<RetentionPolicy> {
    return (await this.retentionOf(run)).policy;
  }

  /** A run's retention record: in its folder for ours, in `.studio/` for a folder read in place. */
  private async retentionOf(run: string): Promise<RunRetention> {
    return this.catalog.isInPlace(run) ? this.inPlace.retention(run) : readRunRetention(this.runDir(run));
  }

  /**
   * Another program's folder: its newest checkpoint, and any still growing (a file changed within
   * the quiet period), are kept by retention whatever the policy says.
   */
  private inPlaceKeeps(run: string): Map<string, string> {
    const reasons = new Map<string, string>();
    const checkpoints = this.catalog.list(run);
    const newest = checkpoints.filter(isUsable).at(-1);
    if (newest) reasons.set(newest.id, 'the newest group of a folder another program writes');
    const recent = Date.now() - this.quietMs;
    for (const c of checkpoints)
      if (c.status === 'incomplete' || Date.parse(c.createdAt ?? '') > recent) reasons.set(c.id, reasons.get(c.id) ?? 'still being written');
    return reasons;
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
    if (!this.catalog.getRun(run)) throw new NotFoundError(showName(run), `no such run in ${this.root}`);
    const stored = await this.retentionOf(run);
    const retention = options.policy ? { ...stored, policy: options.policy } : stored;
    let { protectedIds, protectedReasons } = options;
    const inPlace = this.catalog.isInPlace(run);
    if (inPlace) {
      const keeps = this.inPlaceKeeps(run);
      protectedIds = new Set([...(protectedIds ?? []), ...keeps.keys()]);
      protectedReasons = new Map([...(protectedReasons ?? []), ...keeps]);
    }
    const latestId = inPlace ? this.catalog.latest(run)?.id : undefined;
    return planRetention(run, this.catalog.list(run), retention, { protectedIds, protectedReasons, inPlace, latestId });
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
    const reason = `retention policy of run "${plan.run}"`;
    if (this.catalog.isInPlace(plan.run)) {
      if (planned.length === 0) return [];
      const prepared = await this.inPlace.prepare(
        planned.map((d) => this.resolve(d.id)),
        this.childrenOf,
      );
      const entries = await this.inPlace.trash(prepared, new TrashBatch(this.root), reason);
      await this.inPlace.updateRetention(plan.run, (r) => rememberBest(r, this.catalog.list(plan.run)));
      return entries;
    }
    const entries = await moveToTrash(
      this.root,
      planned.map((d) => this.resolve(d.id).path),
      { reason, lockToken: options.lockToken, childrenOf: this.childrenOf },
    );
    const runDir = await this.ownRunFolder(plan.run);
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
    const inPlace: CheckpointInfo[] = [];
    const targets: string[] = [];
    for (const s of selectors) {
      // Deletion names checkpoints explicitly: "latest" or "best" would delete whatever they
      // happen to mean at that instant.
      if (s === 'latest' || s === 'best') throw new RefusedError(s, 'name the checkpoints to delete by id or path, not by "latest" or "best"');
      try {
        const checkpoint = this.resolve(s);
        if (this.catalog.isInPlace(checkpoint.run)) {
          if (!inPlace.some((c) => c.id === checkpoint.id)) inPlace.push(checkpoint);
        } else targets.push(checkpoint.path);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        // Not in the catalog: let the guard explain exactly why it is not deletable.
        targets.push(path.resolve(s));
      }
    }
    const reason = options.reason ?? 'deleted by hand';
    // One batch for both kinds, so one undo brings them all back.
    const batch = new TrashBatch(this.root);
    // Every check before any move: a refusal of either kind leaves everything as it was.
    const prepared = inPlace.length > 0 ? await this.inPlace.prepare(inPlace, this.childrenOf) : null;
    const entries = targets.length > 0 ? await moveToTrash(this.root, targets, { reason, ...options, childrenOf: this.childrenOf }, batch) : [];
    if (prepared) entries.push(...(await this.inPlace.trash(prepared, batch, reason)));
    await this.refreshRuns(entries.map((e) => e.checkpointId.split('/')[0] ?? ''));
    return entries;
  }

  /** Makes a checkpoint of another program's folder the one its state file calls latest. */
  async makeLatest(selector: CheckpointSelector): Promise<{ checkpoint: CheckpointInfo; undo: TrashEntry | null }> {
    const checkpoint = this.resolve(selector);
    if (!this.catalog.isInPlace(checkpoint.run))
      throw new RefusedError(
        checkpoint.id,
        "is one of our runs' checkpoints: latest is its run's highest step; only another program's folder has a state file to set",
      );
    const undo = (await this.inPlace.makeLatest(checkpoint)) ?? null;
    return { checkpoint: this.catalog.get(checkpoint.id) ?? checkpoint, undo };
  }

  /** The lineage the delete guard protects, as the catalog knows it. */
  private readonly childrenOf = (run: string, step: number): readonly string[] => this.catalog.childrenOf(run, step);

  listTrash(): Promise<TrashEntry[]> {
    return listTrash(this.root);
  }

  /** The trash's entries and the folders in it that are not entries we can act on. */
  inspectTrash(): Promise<TrashListing> {
    return inspectTrash(this.root);
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

  purgeTrash(options?: { olderThanMs?: number; batches?: readonly string[] }): Promise<PurgeResult> {
    return purgeTrash(this.root, options);
  }

  /** Re-reads the runs entries came from; an entry of a folder read in place (whose run is a path) re-reads everything. */
  private async refreshRuns(runs: readonly string[]): Promise<void> {
    const known = [...new Set(runs)].filter((run) => run !== '');
    if (known.some((run) => this.catalog.getRun(run)?.layout !== 'studio')) return this.catalog.refresh();
    for (const run of known) await this.catalog.refreshRun(run);
  }
}
