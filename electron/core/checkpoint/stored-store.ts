// The store of a workspace in an S3 prefix (s3://bucket/prefix): what CheckpointStore is for a
// folder, over the storage seam. Its catalog is filled from the prefix's listing and, while
// watched, re-listed every couple of seconds (an object store has no change notifications). What
// it decides — which checkpoint `latest`, `best` or an id names, what a policy would keep, what a
// delete may take — is decided by the same code as on disk (selectors.ts, retention.ts, the
// protections the catalog's table settles).
import os from 'node:os';
import type { CheckpointInfo, PurgeResult, RetentionPlan, S3Connection, TrashEntry, TrashListing } from '../../contract.js';
import { NotFoundError, RefusedError, UsageError } from '../base/errors.js';
import { parseJsonText } from '../base/parse-json.js';
import { openS3Storage } from '../storage/open-s3.js';
import { updateRecord } from '../storage/record-update.js';
import type { S3Storage } from '../storage/s3-storage.js';
import { POLICY_FILE, RUN_FILE } from './layout.js';
import type { LoadedCheckpoint } from './reader.js';
import { protectionsOf, refusalFor } from './protection.js';
import { planRetention, rememberBest } from './retention.js';
import { type CleanupResult, cleanupAbandonedWrites } from './stored-cleanup.js';
import { StoredTrash, type StoredTrashTarget } from './stored-trash.js';
import { type RetentionPolicy, type RunMeta, type RunRetention, RunRetentionSchema } from './run-files.js';
import { type CheckpointSelector, type SelectorOptions, resolveSelector, resumable } from './selectors.js';
import { StoredCatalog, type StoredVerifyOutcome } from './stored-catalog.js';
import { loadStoredCheckpoint } from './stored-checkpoint.js';
import type { WorkspaceAccess } from './workspace.js';
import { showName } from './names.js';
import type { InPlaceLayouts } from './in-place.js';
import { DEFAULT_QUIET_MS } from './in-place-changes.js';
import { inPlaceKeeps, inPlaceTargets } from './stored-in-place-delete.js';
import { inPlaceLatestTarget } from './stored-in-place-latest.js';
import { StoredInPlaceRecords } from './stored-in-place-records.js';

/** How often a watched S3 workspace is re-listed (issue 18: commit to screen within 5 s). */
export const DEFAULT_POLL_MS = 2000;

/** Checkpoints a caller keeps whatever the policy says (a trainer: its parent, its best), and why. */
export interface RetentionProtections {
  readonly protectedIds?: ReadonlySet<string>;
  readonly protectedReasons?: ReadonlyMap<string, string>;
}

export interface StoredWatch {
  close(): Promise<void>;
}

export class StoredWorkspace {
  private trashOpened: Promise<StoredTrash> | null = null;
  /** How long another program's folder must have been quiet before a deletion changes it (a setting; 0: at once). */
  quietMs = DEFAULT_QUIET_MS;

  private constructor(
    readonly storage: S3Storage,
    readonly catalog: StoredCatalog,
    readonly access: WorkspaceAccess,
    /** How the store was reached (no credentials): what a trainer started on this workspace is given. */
    readonly connection: S3Connection,
  ) {}

  /**
   * Opens `address` (s3://bucket/prefix). The first listing proves the bucket is there and the
   * credentials are good: a wrong one fails here, in one sentence. A prefix with nothing under it
   * is an empty workspace (an object store has no folders to be missing).
   */
  static async open(
    address: string,
    options: {
      connection?: S3Connection;
      access?: WorkspaceAccess;
      /** Other programs' folders are read in place by these (issue 18). */ layouts?: InPlaceLayouts;
    } = {},
  ): Promise<StoredWorkspace> {
    const { endpoint, pathStyle, profile, region } = options.connection ?? {};
    const storage = openS3Storage(address, {
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(pathStyle !== undefined ? { pathStyle } : {}),
      ...(profile !== undefined ? { profile } : {}),
      ...(region !== undefined ? { region } : {}),
    });
    try {
      return await StoredWorkspace.on(storage, options.access ?? 'write', options.connection ?? {}, options.layouts);
    } catch (error) {
      storage.client.destroy();
      throw error;
    }
  }

  /** Over a storage already made, which stays its maker's (a trainer's; tests give the gateway's keys this way). */
  static async on(storage: S3Storage, access: WorkspaceAccess = 'write', connection: S3Connection = {}, layouts?: InPlaceLayouts): Promise<StoredWorkspace> {
    const catalog = await StoredCatalog.open(storage, { writable: access !== 'read', ...(layouts ? { layouts } : {}) });
    return new StoredWorkspace(storage, catalog, access, connection);
  }

  get root(): string {
    return this.storage.address;
  }

  close(): void {
    this.catalog.close();
    this.storage.client.destroy();
  }

  /** Re-lists every `intervalMs` until closed; a failing listing is reported and tried again next time. */
  watch(options: { intervalMs?: number; onError?: (error: unknown) => void } = {}): StoredWatch {
    let running: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      running = this.catalog.refresh().catch((error: unknown) => options.onError?.(error));
    }, options.intervalMs ?? DEFAULT_POLL_MS);
    return {
      close: async () => {
        clearInterval(timer);
        await running;
      },
    };
  }

  resolve(selector: CheckpointSelector, options: SelectorOptions = {}): CheckpointInfo {
    return resolveSelector(this.catalog, this.root, selector, options, (typed) => {
      const address = typed.replace(/\/+$/, '');
      for (const info of this.catalog.all()) if (info.path === address) return info;
      return undefined;
    });
  }

  resolveResumable(selector: CheckpointSelector, options: SelectorOptions = {}): CheckpointInfo {
    return resumable(this.resolve(selector, options), selector);
  }

  /** Reads a checkpoint back (every tensor's CRC-32C checked) for a trainer to continue from. */
  load(selector: CheckpointSelector): Promise<LoadedCheckpoint> {
    return loadStoredCheckpoint(this.storage, `${this.resolveResumable(selector).id}/`);
  }

  verify(ids: readonly string[], alsoCheck?: Parameters<StoredCatalog['verify']>[1]): Promise<StoredVerifyOutcome> {
    return this.catalog.verify(ids, alsoCheck);
  }

  runMeta(run: string): RunMeta {
    const info = this.catalog.getRun(run);
    const meta = this.catalog.meta(run);
    if (!info) throw new NotFoundError(showName(run), `no such run in ${this.root}`);
    if (!meta) throw new NotFoundError(this.storage.locate(`${run}/${RUN_FILE}`), 'no run.json: not a run this program created');
    return meta;
  }

  private writable(): void {
    if (this.access === 'read') throw new UsageError(this.root, 'the workspace was opened read-only');
  }

  /**
   * A run's pins and policy live in `<run>/retention.json`, written whole, only over the version
   * it was read from (record-update.ts): two people pinning at once both keep their pin.
   */
  private async updateRetention(run: string, change: (retention: RunRetention) => RunRetention): Promise<void> {
    this.writable();
    if (!this.catalog.getRun(run)) throw new NotFoundError(showName(run), `no such run in ${this.root}`);
    if (this.catalog.isInPlace(run))
      return this.inPlaceRecords()
        .update(run, change)
        .then(() => this.catalog.refresh());
    const key = `${run}/${POLICY_FILE}`;
    const parse = (bytes: Uint8Array | null): RunRetention => {
      if (bytes === null) return RunRetentionSchema.parse({});
      const parsed = RunRetentionSchema.safeParse(parseJsonText(this.storage.locate(key), new TextDecoder().decode(bytes)));
      if (!parsed.success) throw new RefusedError(this.storage.locate(key), 'is not a retention record this program wrote; it is left as it is');
      return parsed.data;
    };
    await updateRecord(this.storage, key, parse, (current) => `${JSON.stringify(RunRetentionSchema.parse(change(current)), null, 2)}\n`);
    await this.catalog.refresh();
  }

  async setPinned(id: string, pinned: boolean): Promise<void> {
    const checkpoint = this.resolve(id);
    // A checkpoint read in place is pinned by its name in its folder (its id is `.`-less in the workspace's own folder).
    const name = this.catalog.isInPlace(checkpoint.run) ? (checkpoint.source?.name ?? '') : checkpoint.id.slice(checkpoint.run.length + 1);
    await this.updateRetention(checkpoint.run, (retention) => {
      const set = new Set(retention.pinned);
      if (pinned) set.add(name);
      else set.delete(name);
      return { ...retention, pinned: [...set].sort() };
    });
  }

  setPolicy(run: string, policy: RetentionPolicy): Promise<void> {
    return this.updateRetention(run, (retention) => ({ ...retention, policy }));
  }

  getPolicy(run: string): RetentionPolicy {
    return this.catalog.retention(run).policy;
  }

  /** The trash, opened once (a writable opening first finishes a batch a crash left half done). */
  private trash(): Promise<StoredTrash> {
    this.trashOpened ??= StoredTrash.open(this.storage, { readOnly: this.access === 'read' });
    return this.trashOpened;
  }

  /**
   * A checkpoint a delete may take, judged on a listing taken now (a writer may have started since
   * the last poll): the same protections, and the same sentences, as on disk.
   */
  private deletable(checkpoint: CheckpointInfo, asWriter = false): StoredTrashTarget {
    const run = this.catalog.getRun(checkpoint.run);
    const writer = run?.writer ?? null;
    // The run's own writer (this process, holding its lease) applies its policy to its run.
    const ownWriter = asWriter && writer !== null && writer.pid === process.pid && writer.host === os.hostname();
    const protections = protectionsOf({
      run: checkpoint.run,
      pinned: checkpoint.pinned,
      writer: ownWriter ? null : writer,
      children: this.catalog.childrenOf(checkpoint.run, checkpoint.step),
    });
    const first = protections[0];
    if (first) throw new RefusedError(checkpoint.path, refusalFor(first));
    return { checkpointId: checkpoint.id, run: checkpoint.run, step: checkpoint.step, folder: `${checkpoint.id}/`, bytes: checkpoint.bytes };
  }

  private inPlaceRecords(): StoredInPlaceRecords {
    return this.catalog.inPlaceRecords;
  }

  /** Every checkpoint checked before any is moved: ours by their folders, other programs' by their objects (stored-in-place-delete.ts). */
  private async targetsOf(checkpoints: readonly CheckpointInfo[], asWriter = false): Promise<StoredTrashTarget[]> {
    const inPlace = checkpoints.filter((c) => this.catalog.isInPlace(c.run));
    const ours = checkpoints.filter((c) => !this.catalog.isInPlace(c.run)).map((c) => this.deletable(c, asWriter));
    if (inPlace.length === 0) return ours;
    const records = this.inPlaceRecords();
    await records.reload();
    records.requireReadable();
    const pinned = (run: string): ReadonlySet<string> => new Set(records.pinned(run));
    return [...ours, ...(await inPlaceTargets(this.storage, this.catalog, inPlace, { quietMs: this.quietMs, pinned }))];
  }

  /** Bulk delete by id or address: every one is checked before any is moved; one batch, one undo. */
  async delete(selectors: readonly string[], options: { reason?: string } = {}): Promise<TrashEntry[]> {
    this.writable();
    await this.catalog.refresh();
    const chosen = new Map<string, CheckpointInfo>();
    for (const selector of selectors) {
      // "latest" or "best" would delete whatever they happen to mean at that instant.
      if (selector === 'latest' || selector === 'best')
        throw new RefusedError(selector, 'name the checkpoints to delete by id or path, not by "latest" or "best"');
      const checkpoint = this.resolve(selector);
      chosen.set(checkpoint.id, checkpoint);
    }
    const entries = await (await this.trash()).trash(await this.targetsOf([...chosen.values()]), options.reason ?? 'deleted by hand');
    await this.catalog.refresh();
    return entries;
  }

  /** Makes a checkpoint of another program's folder its folder's latest; `undo` is the trash entry whose undo reverts it (null when it already was). */
  async makeLatest(selector: string): Promise<{ checkpoint: CheckpointInfo; undo: TrashEntry | null }> {
    this.writable();
    await this.catalog.refresh();
    const checkpoint = this.resolve(selector);
    if (!this.catalog.isInPlace(checkpoint.run))
      throw new RefusedError(
        checkpoint.id,
        "is one of our runs' checkpoints: latest is its run's highest step; only another program's folder has a state file to set",
      );
    const target = await inPlaceLatestTarget(this.storage, this.catalog, checkpoint, this.quietMs);
    if (target === null) return { checkpoint, undo: null };
    const previous = this.catalog.getRun(checkpoint.run)?.latest ?? null;
    const [undo] = await (await this.trash()).trash([target], `made latest (before: ${previous ?? 'none'})`);
    await this.catalog.refresh();
    return { checkpoint: this.catalog.get(checkpoint.id) ?? checkpoint, undo: undo ?? null };
  }

  /**
   * Deletes exactly the planned set that a fresh plan still deletes, and remembers the best it kept.
   * `asWriter`: the caller is the run's live writer (a trainer applying its policy as it saves).
   */
  async applyRetention(plan: RetentionPlan, options: RetentionProtections & { asWriter?: boolean; refresh?: boolean } = {}): Promise<TrashEntry[]> {
    this.writable();
    // Listed again first, unless the caller just did (a trainer's pass lists, plans, then applies).
    const fresh = await this.planRetention(plan.run, { ...options, policy: plan.policy });
    const stillDeletable = new Set(fresh.delete.map((d) => d.id));
    const targets = await this.targetsOf(
      plan.delete.filter((d) => stillDeletable.has(d.id)).map((d) => this.resolve(d.id)),
      options.asWriter,
    );
    if (targets.length === 0) return [];
    const entries = await (await this.trash()).trash(targets, `retention policy of run "${plan.run}"`);
    await this.catalog.refresh();
    const remembered = rememberBest(this.catalog.retention(plan.run), this.catalog.list(plan.run));
    if (remembered !== this.catalog.retention(plan.run)) await this.updateRetention(plan.run, () => remembered);
    return entries;
  }

  async inspectTrash(): Promise<TrashListing> {
    const listing = await (await this.trash()).list();
    return { ...listing, bytes: listing.entries.reduce((sum, e) => sum + e.bytes, 0) };
  }

  async restoreFromTrash(ids: readonly string[]): Promise<TrashEntry[]> {
    this.writable();
    const restored = await (await this.trash()).restore(ids);
    await this.catalog.refresh();
    return restored;
  }

  async undo(batch?: string): Promise<TrashEntry[]> {
    this.writable();
    const restored = await (await this.trash()).undo(batch);
    await this.catalog.refresh();
    return restored;
  }

  async purgeTrash(options: { olderThanMs?: number; batches?: readonly string[] } = {}): Promise<PurgeResult> {
    this.writable();
    return (await this.trash()).purge(options);
  }

  /** Removes what dead writers left (uncommitted objects and uploads with our mark, their lease run out). */
  cleanup(): Promise<CleanupResult> {
    this.writable();
    return cleanupAbandonedWrites(this.storage);
  }

  /** A dry run: what the run's policy (or the one given) would keep and delete, and why. */
  async planRetention(run: string, options: RetentionProtections & { policy?: RetentionPolicy; refresh?: boolean } = {}): Promise<RetentionPlan> {
    if (options.refresh !== false) await this.catalog.refresh();
    if (!this.catalog.getRun(run)) throw new NotFoundError(showName(run), `no such run in ${this.root}`);
    const stored = this.catalog.retention(run);
    const retention = options.policy ? { ...stored, policy: options.policy } : stored;
    if (this.catalog.isInPlace(run)) {
      // As on disk (store.ts): another program's newest group, and any still being written, are kept whatever the policy says.
      const keeps = inPlaceKeeps(this.catalog.list(run), this.storage.clock() - this.quietMs);
      return planRetention(run, this.catalog.list(run), retention, {
        protectedIds: new Set([...(options.protectedIds ?? []), ...keeps.keys()]),
        protectedReasons: new Map([...(options.protectedReasons ?? []), ...keeps]),
        inPlace: true,
        latestId: this.catalog.latest(run)?.id,
      });
    }
    return planRetention(run, this.catalog.list(run), retention, {
      ...(options.protectedIds ? { protectedIds: options.protectedIds } : {}),
      ...(options.protectedReasons ? { protectedReasons: options.protectedReasons } : {}),
    });
  }
}
