// The trash: list, restore (by entry or a whole batch: undo) and purge. Entries are read from
// their folder names and checked records (trash-layout.ts); a malformed one is reported and left
// alone, never followed. A restore writes only into a real run folder of the workspace, and a
// batch is restored whole or not at all.
import { lstat, mkdir, readdir, realpath, rename, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { TrashEntry } from '../../contract.js';
import { fsyncPath } from '../base/durable-fs.js';
import { jsonSyntaxProblem } from '../base/parse-json.js';
import { CheckpointFormatError, NotFoundError, RefusedError, errorMessage } from '../base/errors.js';
import { showName } from './names.js';
import { isMissing, readRegularText } from '../base/regular-file.js';
import { trashFolder } from './trash-batch.js';
import { isDeadTemporary } from '../base/temporaries.js';
import { checkInPlaceDestination, inPlaceFolder, putBack, restoreInPlace } from './in-place-trash.js';
import { ENTRY_FILE, type InPlaceOrigin, type Origin, PAYLOAD, batchNumberOfFolder, batchOrder, parseEntryRecord } from './trash-layout.js';

/** An entry record is a few hundred bytes. */
const MAX_ENTRY_BYTES = 64 * 1024;

export interface TrashProblem {
  /** The entry's folder name in `.trash`, shown as it can be shown. */
  readonly name: string;
  readonly problem: string;
}

interface Found {
  readonly entry: TrashEntry;
  readonly origin: Origin;
  readonly dir: string;
  readonly hasPayload: boolean;
}

export interface TrashListing {
  readonly entries: readonly TrashEntry[];
  /** Folders in `.trash` that are not entries we can act on, and why. */
  readonly problems: readonly TrashProblem[];
}

interface Scan {
  readonly found: Found[];
  readonly problems: TrashProblem[];
  /** Our own leftovers: entry folders of ours with no record (a crash before it was written). */
  readonly leftovers: string[];
}

/**
 * What `.trash` holds. `forListing`: a trash that is not a real folder is reported as a problem
 * (a listing goes on); otherwise it is refused (nothing is restored from or purged in it).
 */
async function scanTrash(root: string, forListing = false): Promise<Scan> {
  const scan: Scan = { found: [], problems: [], leftovers: [] };
  let trash: string | null;
  try {
    trash = await trashFolder(root, false);
  } catch (error) {
    if (!(forListing && error instanceof RefusedError)) throw error;
    scan.problems.push({ name: '.', problem: `${error.problem}; nothing in it is listed` });
    return scan;
  }
  if (trash === null) return scan;
  for (const name of (await readdir(trash)).sort()) {
    const dir = path.join(trash, name);
    const problem = (text: string): void => {
      scan.problems.push({ name: showName(name), problem: text });
    };
    const info = await lstat(dir);
    if (info.isSymbolicLink() || !info.isDirectory()) {
      problem(`is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}, not a trash entry; left alone`);
      continue;
    }
    let text: string;
    try {
      text = await readRegularText(path.join(dir, ENTRY_FILE), MAX_ENTRY_BYTES);
    } catch (error) {
      if (isMissing(error) && (await isOwnLeftover(dir, name))) scan.leftovers.push(dir);
      else
        problem(
          isMissing(error) ? `has no ${ENTRY_FILE}; left alone` : `${error instanceof CheckpointFormatError ? error.problem : errorMessage(error)}; left alone`,
        );
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      problem(`${ENTRY_FILE}: ${jsonSyntaxProblem(text)}; left alone`);
      continue;
    }
    const parsed = parseEntryRecord(name, json);
    if (!parsed.ok) {
      problem(`${parsed.problem}; left alone`);
      continue;
    }
    let hasPayload = true;
    try {
      await lstat(path.join(dir, PAYLOAD));
    } catch (error) {
      if (!isMissing(error)) throw error;
      hasPayload = false;
    }
    scan.found.push({ entry: parsed.entry, origin: parsed.origin, dir, hasPayload });
  }
  return scan;
}

/** An entry folder we made whose record never got written: empty, or holding only our dead temporaries. */
async function isOwnLeftover(dir: string, name: string): Promise<boolean> {
  if (batchNumberOfFolder(name) === null) return false;
  return (await readdir(dir)).every(isDeadTemporary);
}

function newestFirst(a: TrashEntry, b: TrashEntry): number {
  const [an, at] = batchOrder(a);
  const [bn, bt] = batchOrder(b);
  return bn - an || bt.localeCompare(at) || b.deletedAt.localeCompare(a.deletedAt) || a.id.localeCompare(b.id);
}

/** What the trash holds, newest batch first, and what in it cannot be used. */
export async function inspectTrash(root: string): Promise<TrashListing> {
  const scan = await scanTrash(root, true);
  const entries = scan.found.filter((f) => f.hasPayload).map((f) => f.entry);
  return { entries: entries.sort(newestFirst), problems: scan.problems };
}

export async function listTrash(root: string): Promise<TrashEntry[]> {
  return [...(await inspectTrash(root)).entries];
}

/**
 * Where an entry goes back to, checked: the run folder must be the workspace's own (not a
 * symbolic link to elsewhere), and nothing may be there already.
 */
async function checkDestination(root: string, found: Found): Promise<string | null> {
  if (found.origin.kind === 'in-place') return checkInPlaceDestination(root, found.origin);
  const runDir = path.join(root, found.origin.run);
  try {
    const info = await lstat(runDir);
    if (info.isSymbolicLink())
      return `its run folder ${runDir} is a symbolic link (to ${await realpath(runDir).catch(() => 'nowhere')}); restoring would write outside the workspace's own folders`;
    if (!info.isDirectory()) return `${runDir} is not a folder`;
  } catch (error) {
    if (!isMissing(error)) throw error;
    return null;
  }
  const destination = path.join(runDir, found.origin.dirName);
  try {
    await lstat(destination);
    return `${destination} already exists; move it away first`;
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  return null;
}

/** Puts trashed checkpoints back where they were: all of them, or none if any cannot go back. */
export async function restoreFromTrash(root: string, ids: readonly string[]): Promise<TrashEntry[]> {
  const scan = await scanTrash(root);
  const chosen: Found[] = [];
  for (const id of new Set(ids)) {
    const found = scan.found.find((f) => f.entry.id === id && f.hasPayload);
    if (!found) throw new NotFoundError(showName(id), 'no such entry in the trash (see: checkpoint-studio trash ls)');
    chosen.push(found);
  }
  const refusals: string[] = [];
  const destinations = new Set<string>();
  for (const found of chosen) {
    const key = found.entry.originalPath;
    if (destinations.has(key)) refusals.push(`${found.entry.id}: another entry being restored goes to ${key} too`);
    destinations.add(key);
    const problem = await checkDestination(root, found);
    if (problem) refusals.push(`${found.entry.id}: ${problem}`);
  }
  if (refusals.length > 0) {
    throw new RefusedError(
      path.join(root, '.trash'),
      `nothing restored, because ${refusals.length === 1 ? 'one entry' : `${refusals.length} entries`} cannot go back: ${refusals.join('; ')}`,
    );
  }
  const restored: TrashEntry[] = [];
  for (const found of chosen) {
    if (found.origin.kind === 'in-place') {
      const late = await checkDestination(root, found);
      if (late) throw new RefusedError(found.entry.id, late);
      await restoreInPlace(root, found.dir, found.origin);
      await removeRecord(found.dir);
      restored.push(found.entry);
      continue;
    }
    const runDir = path.join(root, found.origin.run);
    await mkdir(runDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    // Checked again right before the move: the run folder may have changed since.
    const late = await checkDestination(root, found);
    if (late)
      throw new RefusedError(
        found.entry.id,
        `${late}${restored.length > 0 ? ` (restored before this: ${restored.map((e) => e.checkpointId).join(', ')})` : ''}`,
      );
    await rename(path.join(found.dir, PAYLOAD), path.join(runDir, found.origin.dirName));
    await fsyncPath(runDir);
    await removeRecord(found.dir);
    restored.push(found.entry);
  }
  await putBackRewrites(root, chosen, scan.found);
  return restored;
}

/**
 * The files a batch rewrote beside its in-place deletions (TensorFlow's state file) go back as
 * they were once the last of that batch's checkpoints of that folder has left the trash, and only
 * if nobody changed them since: a file that changed is left as it is.
 */
async function putBackRewrites(root: string, restored: readonly Found[], all: readonly Found[]): Promise<void> {
  const done = new Set<string>();
  for (const found of restored) {
    if (found.origin.kind !== 'in-place' || found.origin.rewrites.length === 0) continue;
    const key = `${found.entry.batch}\u0000${found.origin.dir}`;
    if (done.has(key)) continue;
    const remaining = all.some(
      (other) =>
        other.origin.kind === 'in-place' &&
        other.entry.batch === found.entry.batch &&
        other.origin.dir === (found.origin as InPlaceOrigin).dir &&
        !restored.includes(other),
    );
    if (remaining) continue;
    done.add(key);
    await putBack(root, inPlaceFolder(root, found.origin.dir), found.origin.rewrites);
  }
}

/** Removes an emptied entry folder: its record, then the folder, and nothing we did not put there. */
async function removeRecord(dir: string): Promise<void> {
  await unlink(path.join(dir, ENTRY_FILE)).catch(() => undefined);
  for (const name of await readdir(dir).catch(() => [])) if (isDeadTemporary(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  await rmdir(dir).catch(() => undefined);
}

/** Undo: restores the most recent batch (or the named one), all of it or nothing. */
export async function undoDelete(root: string, batch?: string): Promise<TrashEntry[]> {
  const scan = await scanTrash(root);
  const entries = scan.found
    .filter((f) => f.hasPayload)
    .map((f) => f.entry)
    .sort(newestFirst);
  const chosen = batch ?? entries[0]?.batch;
  if (chosen === undefined) return [];
  const inBatch = entries.filter((e) => e.batch === chosen);
  if (inBatch.length === 0) throw new NotFoundError(showName(chosen), 'no such batch in the trash');
  return restoreFromTrash(
    root,
    inBatch.map((e) => e.id),
  );
}

export interface PurgeResult {
  readonly purged: TrashEntry[];
  readonly bytes: number;
  /** Malformed folders in the trash, which a purge leaves for a person to look at. */
  readonly problems: readonly TrashProblem[];
}

/** The only place that really deletes: purging the trash, all of it or what is older than an age. */
/** `batches` limits a purge to those deletion batches; `olderThanMs` to entries deleted that long ago. */
export async function purgeTrash(root: string, options: { olderThanMs?: number; batches?: readonly string[]; now?: number } = {}): Promise<PurgeResult> {
  const now = options.now ?? Date.now();
  const scan = await scanTrash(root);
  const old = (e: TrashEntry): boolean => options.olderThanMs === undefined || now - Date.parse(e.deletedAt) >= options.olderThanMs;
  const batches = options.batches ? new Set(options.batches) : null;
  if (batches) {
    const known = new Set(scan.found.map((f) => f.entry.batch));
    const missing = [...batches].filter((b) => !known.has(b));
    // A batch named but not there (restored or purged meanwhile, or mistyped): nothing is purged.
    if (missing.length > 0)
      throw new NotFoundError(missing.map(showName).join(', '), 'no such batch in the trash (see: checkpoint-studio trash ls); nothing was purged');
  }
  const purged: TrashEntry[] = [];
  for (const found of scan.found) {
    if (!old(found.entry) || (batches && !batches.has(found.entry.batch))) continue;
    // The payload is what the user deleted; a symbolic link is removed as a link, never followed.
    await rm(path.join(found.dir, PAYLOAD), { recursive: true, force: true });
    await removeRecord(found.dir);
    if (found.hasPayload) purged.push(found.entry);
  }
  if (options.olderThanMs === undefined && !batches) for (const dir of scan.leftovers) await removeRecord(dir);
  return { purged, bytes: purged.reduce((s, e) => s + e.bytes, 0), problems: scan.problems };
}
