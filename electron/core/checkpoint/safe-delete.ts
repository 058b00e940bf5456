// Every deletion goes through here. A target must be a checkpoint folder directly inside a run
// directly inside the workspace, after resolving symbolic links; it is moved to the workspace's
// own trash (a rename on the same file system: instant, never a copy), never removed outright.
import { lstat, readdir, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TrashEntry } from '../../contract.js';
import { fsyncPath, writeFileAtomic } from '../base/durable-fs.js';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { isAbsence, statIfPresent } from '../base/path-state.js';
import { folderCheckpointId, parseCheckpointDirName, runNameProblem } from './layout.js';
import { readRunRetention } from './run-files.js';
import { liveLockHolder } from './run-lock.js';
import { protectionsOf, refusalFor } from './protection.js';
import { TrashBatch } from './trash-batch.js';
import { ENTRY_FILE, PAYLOAD } from './trash-layout.js';

export interface CheckpointTarget {
  readonly path: string;
  readonly run: string;
  readonly dirName: string;
  readonly step: number;
  readonly id: string;
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** Resolves and checks a deletion target; throws RefusedError naming the path and the reason. */
export async function resolveCheckpointTarget(root: string, target: string): Promise<CheckpointTarget> {
  const absolute = path.resolve(root, target);
  if (!isInside(root, absolute)) throw new RefusedError(target, `outside the workspace ${root}`);
  const dirName = path.basename(absolute);
  const step = parseCheckpointDirName(dirName);
  if (step === null) throw new RefusedError(target, 'not a checkpoint: only ckpt-<step> folders inside a run can be deleted');
  let parentReal: string;
  try {
    parentReal = await realpath(path.dirname(absolute));
  } catch (error) {
    if (isAbsence(error)) throw new NotFoundError(target, 'does not exist');
    throw error;
  }
  const run = path.relative(root, parentReal);
  if (!isInside(root, parentReal) || run.includes(path.sep)) {
    throw new RefusedError(target, `not a checkpoint: its folder resolves to ${parentReal}, which is not a run directly inside the workspace ${root}`);
  }
  const runProblem = runNameProblem(run);
  if (runProblem) throw new RefusedError(target, `not a checkpoint of a run: ${runProblem}`);
  const itself = path.join(parentReal, dirName);
  const link = await statIfPresent(itself);
  if (!link) throw new NotFoundError(target, 'does not exist');
  if (link.isSymbolicLink()) {
    let resolved: string;
    try {
      resolved = await realpath(itself);
    } catch {
      throw new RefusedError(target, 'a symbolic link whose target does not exist');
    }
    if (!isInside(root, resolved)) throw new RefusedError(target, `a symbolic link leading out of the workspace, to ${resolved}`);
  } else if (!link.isDirectory()) {
    throw new RefusedError(target, 'not a checkpoint: not a folder');
  }
  return { path: itself, run, dirName, step, id: folderCheckpointId(run, dirName) };
}

export interface DeleteOptions {
  readonly reason: string;
  /** The run-lock token of the caller, when a trainer prunes its own run. */
  readonly lockToken?: string;
  readonly bytes?: number;
  /** The runs that continued from a checkpoint (the catalog's lineage): a parent is not deleted. */
  readonly childrenOf?: (run: string, step: number) => readonly string[];
}

/**
 * Refuses a protected target (protection.ts), judged at the moment of deletion: its pins and its
 * run's lock are read from disk; a run's own writer may delete from it.
 */
async function refuseProtected(root: string, target: CheckpointTarget, options: DeleteOptions): Promise<void> {
  const runDir = path.join(root, target.run);
  const holder = await liveLockHolder(runDir);
  const protections = protectionsOf({
    run: target.run,
    pinned: (await readRunRetention(runDir)).pinned.includes(target.dirName),
    writer: holder && holder.token !== options.lockToken ? holder : null,
    children: options.childrenOf?.(target.run, target.step) ?? [],
  });
  const first = protections[0];
  if (first) throw new RefusedError(target.path, refusalFor(first));
}

/** Moves checkpoints to the trash as one batch (one undo), all checked before any is moved; `batch` when others join it. */
export async function moveToTrash(root: string, targets: readonly string[], options: DeleteOptions, batch?: TrashBatch): Promise<TrashEntry[]> {
  const resolved: CheckpointTarget[] = [];
  for (const target of targets) {
    const checked = await resolveCheckpointTarget(root, target);
    await refuseProtected(root, checked, options);
    // The same checkpoint named twice (by id and by path, say) is moved once, not moved and then failed on.
    if (!resolved.some((r) => r.path === checked.path)) resolved.push(checked);
  }
  if (resolved.length === 0) return [];
  const into = batch ?? new TrashBatch(root);
  const moved: TrashEntry[] = [];
  for (const target of resolved) {
    const { id, dir: entryDir } = await into.nextEntry();
    const entry: TrashEntry = {
      id,
      batch: into.id,
      originalPath: path.join(target.run, target.dirName),
      checkpointId: target.id,
      deletedAt: new Date().toISOString(),
      bytes: options.bytes ?? (await folderBytes(target.path)),
      reason: options.reason,
    };
    // The record is written before the move: a crash in between leaves a record without a
    // payload (listed nowhere, cleared by a purge), never a payload nobody can trace back.
    await writeFileAtomic(path.join(entryDir, ENTRY_FILE), `${JSON.stringify(entry, null, 2)}\n`);
    try {
      await rename(target.path, path.join(entryDir, PAYLOAD));
    } catch (error) {
      await rm(path.join(entryDir, ENTRY_FILE), { force: true });
      await rm(entryDir, { recursive: false, force: true }).catch(() => undefined);
      throw error;
    }
    await fsyncPath(entryDir);
    await fsyncPath(path.dirname(target.path));
    moved.push(entry);
  }
  return moved;
}

async function folderBytes(dir: string): Promise<number> {
  const info = await lstat(dir);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    total += await folderBytes(path.join(dir, entry.name));
  }
  return total;
}
