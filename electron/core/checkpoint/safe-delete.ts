// Every deletion goes through here. A target must be a checkpoint folder directly inside a run
// directly inside the workspace, after resolving symbolic links; it is moved to the workspace's
// own trash (a rename on the same file system: instant, never a copy), never removed outright.
import { lstat, mkdir, readdir, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TrashEntry } from '../../contract.js';
import { fsyncPath, writeFileAtomic } from '../base/durable-fs.js';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { isAbsence, statIfPresent } from '../base/path-state.js';
import { TRASH_DIR, folderCheckpointId, parseCheckpointDirName, runNameProblem } from './layout.js';
import { isMissing } from '../base/regular-file.js';
import { readRunRetention } from './run-files.js';
import { liveLockHolder } from './run-lock.js';
import { protectionsOf, refusalFor } from './protection.js';
import { ENTRY_FILE, PAYLOAD, batchId, batchNumberOfFolder, entryId } from './trash-layout.js';

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

/**
 * The workspace's trash folder, which must be a real folder of the workspace: a `.trash` that is
 * a symbolic link would carry deletions (and later purges) somewhere else.
 */
export async function trashFolder(root: string, create: boolean): Promise<string | null> {
  const trash = path.join(root, TRASH_DIR);
  try {
    const info = await lstat(trash);
    if (info.isSymbolicLink() || !info.isDirectory()) {
      throw new RefusedError(trash, `is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; the trash must be a folder of the workspace itself`);
    }
    return trash;
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  if (!create) return null;
  await mkdir(trash);
  await fsyncPath(root);
  return trash;
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

/** Moves checkpoints to the trash as one batch (one undo), all checked before any is moved. */
export async function moveToTrash(root: string, targets: readonly string[], options: DeleteOptions): Promise<TrashEntry[]> {
  const resolved: CheckpointTarget[] = [];
  for (const target of targets) {
    const checked = await resolveCheckpointTarget(root, target);
    await refuseProtected(root, checked, options);
    // The same checkpoint named twice (by id and by path, say) is moved once, not moved and then failed on.
    if (!resolved.some((r) => r.path === checked.path)) resolved.push(checked);
  }
  if (resolved.length === 0) return [];
  const trash = (await trashFolder(root, true)) as string;
  const batch = await claimBatch(trash);
  const moved: TrashEntry[] = [];
  for (const [index, target] of resolved.entries()) {
    const id = entryId(batch.id, index);
    const entryDir = path.join(trash, id);
    const entry: TrashEntry = {
      id,
      batch: batch.id,
      originalPath: path.join(target.run, target.dirName),
      checkpointId: target.id,
      deletedAt: new Date().toISOString(),
      bytes: options.bytes ?? (await folderBytes(target.path)),
      reason: options.reason,
    };
    if (index > 0) await mkdir(entryDir);
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

/**
 * Takes the next batch number by creating its first entry's folder: mkdir fails if another
 * process took the same number first, and then we count again.
 */
async function claimBatch(trash: string): Promise<{ id: string }> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const numbers = (await readdir(trash)).map(batchNumberOfFolder).filter((n): n is number => n !== null);
    const id = batchId(Math.max(0, ...numbers) + 1);
    try {
      await mkdir(path.join(trash, entryId(id, 0)));
      return { id };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new RefusedError(trash, 'could not take a batch number (too many concurrent deletions)');
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
