// The changes the store makes to runs read in place (other programs' folders): deleting their
// checkpoints into the workspace's trash with the folder's own state kept right, making one the
// latest, and their pins and policies (kept in `.studio/`, never in the folder). Every change is
// judged at the moment it is made: the folder's state re-read, its quiet period, its pins.
import path from 'node:path';
import type { CheckpointInfo, RunInfo, TrashEntry } from '../../contract.js';
import { RefusedError } from '../base/errors.js';
import type { Catalog } from './catalog.js';
import type { InPlaceRun, Rewrite } from './in-place.js';
import { type InPlaceGroup, assertQuiet, assertWritable, moveInPlaceToTrash } from './in-place-trash.js';
import { loadOwnWrites } from './own-writes.js';
import { listFolder } from './in-place-scan.js';
import { protectionsOf, refusalFor } from './protection.js';
import type { RunRetention } from './run-files.js';
import { TrashBatch } from './trash-batch.js';

/** A deletion checked and ready: per folder, what moves and what is rewritten. */
export interface PreparedDeletion {
  readonly groups: readonly { readonly run: string; readonly group: InPlaceGroup }[];
}

/** How long a folder must have been quiet before it is changed, by default (a setting; 0 turns it off). */
export const DEFAULT_QUIET_MS = 10_000;

/** What is moved for a checkpoint: its own folder (a Trainer's `checkpoint-500/`), or its files. */
export function movedNames(checkpoint: CheckpointInfo): string[] {
  const files = checkpoint.files ?? [];
  const name = checkpoint.source?.name;
  if (name !== undefined && files.length > 0 && files.every((f) => f.name.startsWith(`${name}/`))) return [name];
  return files.map((f) => f.name);
}

export class InPlaceChanges {
  constructor(
    private readonly root: string,
    private readonly catalog: Catalog,
    private readonly quietMs: () => number,
  ) {}

  private runOf(checkpoint: CheckpointInfo): RunInfo {
    const run = this.catalog.getRun(checkpoint.run);
    if (!run || run.layout === 'studio') throw new RefusedError(checkpoint.id, 'not a checkpoint of a folder read in place');
    return run;
  }

  /** The run as its layout reads it right now: what a rewrite is computed from. */
  private async freshRun(run: RunInfo): Promise<InPlaceRun> {
    const relative = path.relative(this.root, run.path).split(path.sep).join('/');
    const runs = await this.catalog.layouts.scanFolder(await listFolder(run.path, relative));
    const file = run.name === '.' || relative === run.name ? null : path.basename(run.name);
    const fresh = runs.find((r) => r.file === file);
    if (!fresh) throw new RefusedError(run.path, 'no longer holds this run (it changed since it was listed); nothing was changed');
    return fresh;
  }

  /** Refuses what may not be changed now: the records unreadable, a protected checkpoint, a read-only or busy folder. */
  private async guard(run: RunInfo, checkpoints: readonly CheckpointInfo[], childrenOf: (run: string, step: number) => readonly string[]): Promise<void> {
    this.catalog.records.requireReadable();
    await this.catalog.records.reload();
    const pinned = new Set(this.catalog.records.pinned(run.name));
    for (const checkpoint of checkpoints) {
      const protections = protectionsOf({
        run: run.name,
        pinned: pinned.has(checkpoint.source?.name ?? ''),
        writer: null,
        children: childrenOf(run.name, checkpoint.step),
      });
      const first = protections[0];
      if (first) throw new RefusedError(checkpoint.path, refusalFor(first));
    }
    await assertWritable(this.root, run.path);
    await assertQuiet(run.path, this.quietMs(), await loadOwnWrites(this.root));
  }

  /** Checks a deletion of checkpoints read in place, folder by folder, and computes what must change beside them; changes nothing. */
  async prepare(checkpoints: readonly CheckpointInfo[], childrenOf: (run: string, step: number) => readonly string[]): Promise<PreparedDeletion> {
    const byRun = new Map<string, CheckpointInfo[]>();
    for (const checkpoint of checkpoints) byRun.set(checkpoint.run, [...(byRun.get(checkpoint.run) ?? []), checkpoint]);
    const groups: { run: string; group: InPlaceGroup }[] = [];
    for (const chosen of byRun.values()) {
      const run = this.runOf(chosen[0] as CheckpointInfo);
      await this.guard(run, chosen, childrenOf);
      const names = chosen.map((c) => c.source?.name ?? '');
      const rewrites = await this.catalog.layouts.rewritesForDelete(run.path, await this.freshRun(run), names);
      const checkpointsMoved = chosen.map((c) => ({ id: c.id, names: movedNames(c), bytes: c.bytes, originalPath: path.relative(this.root, c.path) }));
      groups.push({
        run: run.name,
        group: { folder: run.path, dir: path.relative(this.root, run.path).split(path.sep).join('/'), rewrites, checkpoints: checkpointsMoved },
      });
    }
    return { groups };
  }

  /** Moves prepared checkpoints into `batch`, folder by folder, with each folder's state rewritten. */
  async trash(prepared: PreparedDeletion, batch: TrashBatch, reason: string): Promise<TrashEntry[]> {
    const entries: TrashEntry[] = [];
    for (const { run, group } of prepared.groups) {
      entries.push(...(await moveInPlaceToTrash(this.root, batch, group, reason)));
      await this.catalog.refreshRun(run);
    }
    return entries;
  }

  /** Makes a checkpoint the one its folder's own state calls latest ("Make latest"). */
  /** Makes a checkpoint its folder's latest; the change is a trash entry its undo reverts (undefined when it already was). */
  async makeLatest(checkpoint: CheckpointInfo): Promise<TrashEntry | undefined> {
    const run = this.runOf(checkpoint);
    if (checkpoint.status !== 'verified' && checkpoint.status !== 'unverified')
      throw new RefusedError(checkpoint.id, `is ${checkpoint.status}; only a whole checkpoint can be made latest`);
    await assertWritable(this.root, run.path);
    await assertQuiet(run.path, this.quietMs(), await loadOwnWrites(this.root));
    const rewrites: Rewrite[] = await this.catalog.layouts.rewritesForLatest(run.path, await this.freshRun(run), checkpoint.source?.name ?? '');
    if (rewrites.length === 0) return;
    // Recorded as a trash entry that moved no file: `trash restore --last` (the app's Undo) puts the state file back.
    const previous = run.latest === null ? 'none' : run.latest;
    const group: InPlaceGroup = {
      folder: run.path,
      dir: path.relative(this.root, run.path).split(path.sep).join('/'),
      rewrites,
      checkpoints: [{ id: checkpoint.id, names: [], bytes: 0, originalPath: path.relative(this.root, checkpoint.path) }],
    };
    const entries = await moveInPlaceToTrash(this.root, new TrashBatch(this.root), group, `made latest (before: ${previous})`);
    await this.catalog.refreshRun(run.name);
    return entries[0];
  }

  async setPinned(checkpoint: CheckpointInfo, pinned: boolean): Promise<void> {
    const name = checkpoint.source?.name ?? '';
    this.catalog.records.requireReadable();
    // Pins are kept in the workspace's own .studio/: refused as a change, not failed as a write, where it cannot be made.
    await assertWritable(this.root, this.root);
    await this.catalog.records.update(checkpoint.run, (r) => ({
      ...r,
      pinned: [...new Set(pinned ? [...r.pinned, name] : r.pinned.filter((p) => p !== name))].sort(),
    }));
    await this.catalog.refreshRunState(checkpoint.run);
  }

  retention(run: string): RunRetention {
    return this.catalog.records.retention(run);
  }

  async updateRetention(run: string, change: (retention: RunRetention) => RunRetention): Promise<void> {
    this.catalog.records.requireReadable();
    await assertWritable(this.root, this.root);
    await this.catalog.records.update(run, change);
  }
}
