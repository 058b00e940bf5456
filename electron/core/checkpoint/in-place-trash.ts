// Deleting another program's checkpoints where they lie, and bringing them back. A checkpoint is
// its whole group of files (a TensorFlow prefix's index, shards and .meta), a file, or a folder of
// its own; it is moved into the workspace's trash by renames (never a copy), and the files a
// layout says must change beside it (TensorFlow's state file) are rewritten atomically after the
// moves. Another program may be writing: a folder is changed only when it has been quiet, a state
// file only if it still holds what it held when the rewrite was computed, and nothing that is a
// symbolic link is moved.
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, realpath, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { TrashEntry } from '../../contract.js';
import { fsyncPath, writeFileAtomic } from '../base/durable-fs.js';
import { RefusedError, errorMessage } from '../base/errors.js';
import { isAbsence, statIfPresent } from '../base/path-state.js';
import { readRegularText } from '../base/regular-file.js';
import type { Rewrite } from './in-place.js';
import { STATE_DIR, TRASH_DIR } from './layout.js';
import { isInside } from './safe-delete.js';
import type { TrashBatch } from './trash-batch.js';
import { ENTRY_FILE, type InPlaceOrigin, PAYLOAD } from './trash-layout.js';

/** A state file is small; a rewrite never reads more. */
const MAX_REWRITTEN_BYTES = 16 * 1024 * 1024;

import { type OwnWrites, rememberOwnWrites } from './own-writes.js';

export function inPlaceFolder(root: string, dir: string): string {
  return dir === '' ? root : path.join(root, ...dir.split('/'));
}

async function currentText(file: string): Promise<string | null> {
  try {
    return await readRegularText(file, MAX_REWRITTEN_BYTES);
  } catch (error) {
    if (isAbsence(error)) return null;
    throw error;
  }
}

/** Refuses when the folder cannot be changed: not writable here (a read-only folder or mount is browsed, never changed). */
export async function assertWritable(root: string, folder: string): Promise<void> {
  for (const dir of new Set([root, folder])) {
    try {
      await access(dir, constants.W_OK);
    } catch {
      throw new RefusedError(dir, 'read-only here: its checkpoints can be listed, verified, exported and continued from, but nothing in it is changed');
    }
  }
}

/**
 * Refuses while another program may be writing the folder: a file in it (or a folder's entries)
 * changed less than `quietMs` ago, other than by the store itself.
 */
export async function assertQuiet(folder: string, quietMs: number, ownWrites: OwnWrites, now = Date.now()): Promise<void> {
  if (quietMs <= 0) return;
  let newest: { name: string; mtimeMs: number } | null = null;
  for (const name of await readdir(folder)) {
    // The store's own folders change with the store's own work.
    if (name === TRASH_DIR || name === STATE_DIR) continue;
    const file = path.join(folder, name);
    const info = await lstat(file).catch(() => null);
    if (!info || ownWrites.get(file) === info.mtimeMs) continue;
    if (!newest || info.mtimeMs > newest.mtimeMs) newest = { name, mtimeMs: info.mtimeMs };
  }
  if (newest && now - newest.mtimeMs < quietMs) {
    const ago = Math.max(0, Math.round((now - newest.mtimeMs) / 1000));
    throw new RefusedError(
      folder,
      `busy: ${newest.name} changed ${ago} s ago, so another program may be writing here; nothing was changed (try again once it has been quiet for ${Math.round(quietMs / 1000)} s)`,
    );
  }
}

/** Each name must be there, inside the workspace, and not a symbolic link: a deletion never follows one. */
async function checkMovable(root: string, folder: string, names: readonly string[]): Promise<void> {
  const real = await realpath(folder);
  if (real !== root && !isInside(root, real)) throw new RefusedError(folder, `resolves to ${real}, outside the workspace ${root}`);
  for (const name of names) {
    const target = path.join(folder, name);
    const info = await lstat(target).catch((error: unknown) => {
      if (isAbsence(error)) throw new RefusedError(target, 'is not there any more; nothing was changed');
      throw error;
    });
    if (info.isSymbolicLink()) throw new RefusedError(target, 'is a symbolic link: a deletion never follows one, so nothing was changed');
  }
}

/** Refuses if a file to rewrite no longer holds what the rewrite was computed from. */
async function assertUnchanged(folder: string, rewrites: readonly Rewrite[]): Promise<void> {
  for (const rewrite of rewrites) {
    const file = path.join(folder, rewrite.name);
    if ((await currentText(file)) !== rewrite.before)
      throw new RefusedError(file, 'changed while the deletion was being prepared (another program wrote it); nothing was changed');
  }
}

/** Writes each rewrite's `after` (or removes the file), recording the store's own writes. */
async function applyRewrites(root: string, folder: string, rewrites: readonly Rewrite[]): Promise<void> {
  const written: string[] = [];
  for (const rewrite of rewrites) {
    const file = path.join(folder, rewrite.name);
    if (rewrite.after === null) await unlink(file).catch(() => undefined);
    else await writeFileAtomic(file, rewrite.after);
    written.push(file);
  }
  // Remembering is for the quiet period only: the change stands if it cannot be remembered.
  await rememberOwnWrites(root, written).catch(() => undefined);
}

/** Moves `names` of `folder` into `payload`, putting back what was moved if one fails. */
async function moveAll(folder: string, names: readonly string[], payload: string): Promise<void> {
  const moved: string[] = [];
  try {
    for (const name of names) {
      await rename(path.join(folder, name), path.join(payload, name));
      moved.push(name);
    }
  } catch (error) {
    for (const name of moved.reverse()) await rename(path.join(payload, name), path.join(folder, name)).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EXDEV')
      throw new RefusedError(
        path.join(folder, names[0] ?? ''),
        "is on another file system than the workspace's trash; it is not copied there, so nothing was deleted",
      );
    throw error;
  }
}

export interface InPlaceGroup {
  /** The run's folder: absolute, and relative to the workspace with `/` between names. */
  readonly folder: string;
  readonly dir: string;
  readonly checkpoints: readonly { readonly id: string; readonly names: readonly string[]; readonly bytes: number; readonly originalPath: string }[];
  readonly rewrites: readonly Rewrite[];
}

/** Moves one folder's checkpoints into the batch, then rewrites what must change beside them; all or nothing. */
export async function moveInPlaceToTrash(root: string, batch: TrashBatch, group: InPlaceGroup, reason: string): Promise<TrashEntry[]> {
  for (const checkpoint of group.checkpoints) await checkMovable(root, group.folder, checkpoint.names);
  await assertUnchanged(group.folder, group.rewrites);
  const moved: { entry: TrashEntry; dir: string; names: readonly string[] }[] = [];
  try {
    for (const checkpoint of group.checkpoints) {
      const { id, dir } = await batch.nextEntry();
      const entry: TrashEntry = {
        id,
        batch: batch.id,
        originalPath: checkpoint.originalPath,
        checkpointId: checkpoint.id,
        deletedAt: new Date().toISOString(),
        bytes: checkpoint.bytes,
        reason,
      };
      const origin: InPlaceOrigin = { dir: group.dir, names: [...checkpoint.names], rewrites: [...group.rewrites] };
      // The record first: a crash before the moves leaves a record without a payload, never files nobody can trace back.
      await writeFileAtomic(path.join(dir, ENTRY_FILE), `${JSON.stringify({ ...entry, inPlace: origin }, null, 2)}\n`);
      await mkdir(path.join(dir, PAYLOAD));
      try {
        await moveAll(group.folder, checkpoint.names, path.join(dir, PAYLOAD));
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      moved.push({ entry, dir, names: checkpoint.names });
    }
    await assertUnchanged(group.folder, group.rewrites);
    await applyRewrites(root, group.folder, group.rewrites);
  } catch (error) {
    // Nothing half done: every file goes back where it was.
    for (const { dir, names } of moved.reverse()) {
      await moveAll(path.join(dir, PAYLOAD), names, group.folder).catch(() => undefined);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    throw error;
  }
  await fsyncPath(group.folder);
  for (const { dir } of moved) await fsyncPath(dir);
  return moved.map((m) => m.entry);
}

/** Why an in-place entry cannot go back, or null: its folder must still be the workspace's own, and none of its names taken. */
export async function checkInPlaceDestination(root: string, origin: InPlaceOrigin): Promise<string | null> {
  const folder = inPlaceFolder(root, origin.dir);
  try {
    const info = await lstat(folder);
    if (info.isSymbolicLink()) return `its folder ${folder} is now a symbolic link; restoring would write outside the workspace's own folders`;
    if (!info.isDirectory()) return `${folder} is not a folder`;
    const real = await realpath(folder);
    if (real !== root && !isInside(root, real)) return `its folder ${folder} resolves outside the workspace`;
  } catch (error) {
    if (isAbsence(error)) return `its folder ${folder} is gone`;
    return `${folder}: ${errorMessage(error)}`;
  }
  for (const name of origin.names) {
    if (await statIfPresent(path.join(folder, name))) return `${path.join(folder, name)} already exists; move it away first`;
  }
  // A change that only rewrote files (Make latest) has nothing else to undo: if the owner program
  // wrote the file since, undoing would either clobber its newer state or silently do nothing.
  if (origin.names.length === 0)
    for (const rewrite of origin.rewrites) {
      const file = path.join(folder, rewrite.name);
      if ((await currentText(file)) !== rewrite.after) return `${file} was changed since (another program wrote it); it is left as it is`;
    }
  return null;
}

/** Moves an in-place entry's payload back where it was. */
export async function restoreInPlace(root: string, entryDir: string, origin: InPlaceOrigin): Promise<void> {
  const folder = inPlaceFolder(root, origin.dir);
  await moveAll(path.join(entryDir, PAYLOAD), origin.names, folder);
  await fsyncPath(folder);
  await rm(path.join(entryDir, PAYLOAD), { recursive: true, force: true });
}

/** Puts rewritten files back as they were, each only if it still holds what the deletion wrote. */
export async function putBack(root: string, folder: string, rewrites: readonly Rewrite[]): Promise<void> {
  const written: string[] = [];
  for (const rewrite of [...rewrites].reverse()) {
    const file = path.join(folder, rewrite.name);
    if ((await currentText(file)) !== rewrite.after) continue;
    if (rewrite.before === null) await unlink(file).catch(() => undefined);
    else await writeFileAtomic(file, rewrite.before);
    written.push(file);
  }
  await rememberOwnWrites(root, written).catch(() => undefined);
}
