// Every deletion goes through here. A target must be a checkpoint folder directly inside a run
// directly inside the workspace, after resolving symbolic links; it is moved to the workspace's
// own trash (a rename on the same file system: instant, never a copy), never removed outright.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { TrashEntry } from '../../contract.js';
import { fsyncPath, writeFileAtomic } from './durable-fs.js';
import { RefusedError } from './errors.js';
import { TRASH_DIR, checkpointId, isHiddenName, isValidRunName, parseCheckpointDirName } from './layout.js';
import { readRunRetention } from './run-files.js';
import { liveLockHolder } from './run-lock.js';

const ENTRY_FILE = 'entry.json';
const PAYLOAD = 'payload';

export interface CheckpointTarget {
  readonly path: string;
  readonly run: string;
  readonly dirName: string;
  readonly step: number;
  readonly id: string;
}

function isInside(root: string, candidate: string): boolean {
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
  } catch {
    throw new RefusedError(target, 'does not exist');
  }
  const run = path.relative(root, parentReal);
  if (!isInside(root, parentReal) || run.includes(path.sep) || !isValidRunName(run) || isHiddenName(run)) {
    throw new RefusedError(target, `not a checkpoint: its folder resolves to ${parentReal}, which is not a run directly inside the workspace ${root}`);
  }
  const itself = path.join(parentReal, dirName);
  let link;
  try {
    link = await lstat(itself);
  } catch {
    throw new RefusedError(target, 'does not exist');
  }
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
  return { path: itself, run, dirName, step, id: checkpointId(run, step) };
}

export interface DeleteOptions {
  readonly reason: string;
  readonly batch?: string;
  /** The run-lock token of the caller, when a trainer prunes its own run. */
  readonly lockToken?: string;
  readonly bytes?: number;
}

const EntrySchema = z.object({
  id: z.string(),
  batch: z.string(),
  originalPath: z.string(),
  checkpointId: z.string(),
  deletedAt: z.string(),
  bytes: z.int().nonnegative(),
  reason: z.string(),
});

export function newBatchId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

/** Moves checkpoints to the trash, all checked before any is moved. */
export async function moveToTrash(root: string, targets: readonly string[], options: DeleteOptions): Promise<TrashEntry[]> {
  const resolved: CheckpointTarget[] = [];
  for (const target of targets) {
    const checked = await resolveCheckpointTarget(root, target);
    const runDir = path.join(root, checked.run);
    const holder = await liveLockHolder(runDir);
    if (holder && holder.token !== options.lockToken) {
      throw new RefusedError(checked.path, `run "${checked.run}" is being written by process ${holder.pid} on ${holder.host}; stop it first`);
    }
    const retention = await readRunRetention(runDir);
    if (retention.pinned.includes(checked.dirName)) throw new RefusedError(checked.path, 'pinned; unpin it first');
    // The same checkpoint named twice (by id and by path, say) is moved once, not moved and then failed on.
    if (!resolved.some((r) => r.path === checked.path)) resolved.push(checked);
  }
  const batch = options.batch ?? newBatchId();
  const trash = path.join(root, TRASH_DIR);
  await mkdir(trash, { recursive: true });
  const moved: TrashEntry[] = [];
  for (const target of resolved) {
    const id = `${batch}--${target.run}--${target.dirName}`;
    const entryDir = path.join(trash, id);
    const entry: TrashEntry = {
      id,
      batch,
      originalPath: path.relative(root, target.path),
      checkpointId: target.id,
      deletedAt: new Date().toISOString(),
      bytes: options.bytes ?? (await folderBytes(target.path)),
      reason: options.reason,
    };
    await mkdir(entryDir);
    // The record is written before the move: a crash in between leaves a record without a
    // payload (ignored and cleaned), never a payload nobody can trace back.
    await writeFileAtomic(path.join(entryDir, ENTRY_FILE), `${JSON.stringify(entry, null, 2)}\n`);
    try {
      await rename(target.path, path.join(entryDir, PAYLOAD));
    } catch (error) {
      await rm(entryDir, { recursive: true, force: true });
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

export async function listTrash(root: string): Promise<TrashEntry[]> {
  const trash = path.join(root, TRASH_DIR);
  let names: string[];
  try {
    names = await readdir(trash);
  } catch {
    return [];
  }
  const entries: TrashEntry[] = [];
  for (const name of names) {
    try {
      const parsed = EntrySchema.parse(JSON.parse(await readFile(path.join(trash, name, ENTRY_FILE), 'utf8')));
      await lstat(path.join(trash, name, PAYLOAD));
      entries.push(parsed);
    } catch {
      // A record without a payload or an unreadable record: shown nowhere, purged with the rest.
    }
  }
  return entries.sort((a, b) => b.deletedAt.localeCompare(a.deletedAt) || a.id.localeCompare(b.id));
}

/** Puts trashed checkpoints back where they were; refuses to overwrite anything. */
export async function restoreFromTrash(root: string, ids: readonly string[]): Promise<TrashEntry[]> {
  const entries = await listTrash(root);
  const restored: TrashEntry[] = [];
  for (const id of ids) {
    const entry = entries.find((e) => e.id === id);
    if (!entry) throw new RefusedError(id, 'no such entry in the trash');
    const destination = path.resolve(root, entry.originalPath);
    if (!isInside(root, destination)) throw new RefusedError(entry.originalPath, 'the recorded path leads outside the workspace');
    try {
      await lstat(destination);
      throw new RefusedError(destination, 'something already exists there; move it away first');
    } catch (error) {
      if (error instanceof RefusedError) throw error;
    }
    await mkdir(path.dirname(destination), { recursive: true });
    const entryDir = path.join(root, TRASH_DIR, id);
    await rename(path.join(entryDir, PAYLOAD), destination);
    await fsyncPath(path.dirname(destination));
    await rm(entryDir, { recursive: true, force: true });
    restored.push(entry);
  }
  return restored;
}

/** Undo: restores the most recent batch (or the named one). */
export async function undoDelete(root: string, batch?: string): Promise<TrashEntry[]> {
  const entries = await listTrash(root);
  const chosen = batch ?? entries[0]?.batch;
  if (chosen === undefined) return [];
  return restoreFromTrash(root, entries.filter((e) => e.batch === chosen).map((e) => e.id));
}

/** The only place that really deletes: purging the trash, all of it or what is older than an age. */
export async function purgeTrash(root: string, options: { olderThanMs?: number; now?: number } = {}): Promise<{ purged: TrashEntry[]; bytes: number }> {
  const trash = path.join(root, TRASH_DIR);
  const now = options.now ?? Date.now();
  const listed = await listTrash(root);
  const purged = listed.filter((e) => options.olderThanMs === undefined || now - Date.parse(e.deletedAt) >= options.olderThanMs);
  for (const entry of purged) await rm(path.join(trash, entry.id), { recursive: true, force: true });
  if (options.olderThanMs === undefined) {
    // Orphan records (a crash between record and move) go too.
    const known = new Set(listed.map((e) => e.id));
    let names: string[] = [];
    try {
      names = await readdir(trash);
    } catch {
      names = [];
    }
    for (const name of names) if (!known.has(name)) await rm(path.join(trash, name), { recursive: true, force: true });
  }
  return { purged, bytes: purged.reduce((s, e) => s + e.bytes, 0) };
}

export async function trashBytes(root: string): Promise<number> {
  return (await listTrash(root)).reduce((s, e) => s + e.bytes, 0);
}

