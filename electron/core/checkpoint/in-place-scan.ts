// Finds the runs other programs wrote anywhere under the workspace, read where they lie: the
// folders are walked (never through a link to a folder, never into the store's own folders or
// into our runs), each folder's listing is handed to the layouts, and what they find becomes
// catalog entries like ours. Reading changes nothing.
import { type Dirent, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointInfo, CheckpointStatus, RunInfo } from '../../contract.js';
import { mapWithConcurrency } from '../base/concurrency.js';
import { isTemporaryName } from '../base/temporaries.js';
import type { ScannedCheckpoint, ScannedRun } from './catalog-scan.js';
import {
  type FolderEntry,
  type FolderListing,
  type InPlaceCheckpoint,
  type InPlaceLayouts,
  type InPlaceRun,
  inPlaceCheckpointId,
  inPlaceRunName,
} from './in-place.js';
import type { InPlaceRecords } from './in-place-records.js';
import { RUN_FILE, STATE_DIR, TRASH_DIR, isHiddenName, parseCheckpointDirName } from './layout.js';
import type { VerifyCache } from './verify-cache.js';

/** Deep enough for `logs/fit/<date>/train`, not for a walk through a whole home folder. */
const MAX_DEPTH = 8;
const FOLDERS_AT_ONCE = 16;
/** Never runs, and often huge: not walked. */
const NEVER_WALKED = new Set([TRASH_DIR, STATE_DIR, 'node_modules', '__pycache__']);

/** A run found in place: where, and what its layout read there. */
export interface FoundInPlace {
  readonly name: string;
  readonly dir: string;
  readonly run: InPlaceRun;
}

function entryOf(dir: string, dirent: Dirent): FolderEntry {
  if (dirent.isDirectory()) return { name: dirent.name, kind: 'folder', bytes: 0, mtimeMs: 0 };
  try {
    // A link to a file is read as the file (programs link shards); a link to a folder is never followed.
    const info = statSync(path.join(dir, dirent.name));
    if (info.isFile()) return { name: dirent.name, kind: 'file', bytes: info.size, mtimeMs: info.mtimeMs };
  } catch {
    // Gone or unreadable: listed as something that is not a file.
  }
  return { name: dirent.name, kind: 'other', bytes: 0, mtimeMs: 0 };
}

/** One folder's entries; an empty listing when it is gone or cannot be read. */
export async function listFolder(dir: string, relative: string): Promise<FolderListing> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch {
    dirents = [];
  }
  return { dir, relative, entries: dirents.filter((d) => !isTemporaryName(d.name)).map((d) => entryOf(dir, d)) };
}

function walkable(entry: FolderEntry): boolean {
  return entry.kind === 'folder' && !isHiddenName(entry.name) && !NEVER_WALKED.has(entry.name);
}

/** One of our runs (run.json, or a ckpt-<step> folder), as the store's own scan tells them. */
function isOurRun(listing: FolderListing): boolean {
  return listing.entries.some((e) => (e.kind === 'file' && e.name === RUN_FILE) || (e.kind === 'folder' && parseCheckpointDirName(e.name) !== null));
}

/**
 * Every folder under the workspace that a layout reads as a run. `skip` names the workspace's own
 * folders that are our runs (read by the store's own scan, never walked). Our runs deeper down (a
 * workspace inside the one opened) are neither read nor walked: their safetensors files and event
 * file would otherwise be listed as other programs' runs, and deleting one would break a checkpoint
 * of ours. They are returned in `ours` (relative paths), to be said.
 */
export async function discoverInPlace(
  workspace: string,
  layouts: InPlaceLayouts,
  skip: ReadonlySet<string>,
): Promise<{ found: FoundInPlace[]; walked: string[]; ours: string[] }> {
  const found: FoundInPlace[] = [];
  const walked: string[] = [];
  const ours: string[] = [];
  let level: { dir: string; relative: string }[] = [{ dir: workspace, relative: '' }];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth += 1) {
    const next: { dir: string; relative: string }[] = [];
    await mapWithConcurrency(level, FOLDERS_AT_ONCE, async ({ dir, relative }) => {
      const listing = await listFolder(dir, relative);
      if (relative !== '' && isOurRun(listing)) {
        ours.push(relative);
        return;
      }
      walked.push(dir);
      const runs = await layouts.scanFolder(listing);
      for (const run of runs) found.push({ name: inPlaceRunName(relative, run.file), dir, run });
      const claimed = new Set(runs.flatMap((run) => run.claimed));
      for (const entry of listing.entries) {
        if (!walkable(entry) || claimed.has(entry.name) || (relative === '' && skip.has(entry.name))) continue;
        next.push({ dir: path.join(dir, entry.name), relative: relative === '' ? entry.name : `${relative}/${entry.name}` });
      }
    });
    level = next;
  }
  return { found: found.sort((a, b) => a.name.localeCompare(b.name)), walked: walked.sort(), ours: ours.sort() };
}

/**
 * Re-reads the folder of one run found in place: every run it holds now (a one-file run's folder
 * holds others), so the caller can see which are gone and which are new.
 */
export async function rescanInPlaceFolder(workspace: string, folder: string, layouts: InPlaceLayouts): Promise<FoundInPlace[]> {
  const relative = folder === '.' ? '' : folder;
  const dir = relative === '' ? workspace : path.join(workspace, ...relative.split('/'));
  const runs = await layouts.scanFolder(await listFolder(dir, relative));
  return runs.map((run) => ({ name: inPlaceRunName(relative, run.file), dir, run }));
}

/** Sizes and mtimes of its files: a verification holds while this is unchanged. */
function signatureOf(checkpoint: InPlaceCheckpoint): string {
  return checkpoint.files
    .map((f) => `${f.name}:${f.bytes}:${Math.trunc(f.mtimeMs)}`)
    .sort()
    .join('|');
}

function statusOf(
  id: string,
  checkpoint: InPlaceCheckpoint,
  signature: string,
  verifyCache: Pick<VerifyCache, 'lookup'>,
): { status: CheckpointStatus; reason: string | null } {
  if (!checkpoint.complete) return { status: 'incomplete', reason: checkpoint.incompleteReason };
  const cached = verifyCache.lookup(id, signature);
  if (!cached) return { status: 'unverified', reason: null };
  return cached.ok ? { status: 'verified', reason: null } : { status: 'damaged', reason: cached.reason };
}

function checkpointInfo(found: FoundInPlace, checkpoint: InPlaceCheckpoint, pinned: boolean, verifyCache: Pick<VerifyCache, 'lookup'>): ScannedCheckpoint {
  const id = inPlaceCheckpointId(found.name, checkpoint.name, found.run.file);
  const signature = signatureOf(checkpoint);
  const { status, reason } = statusOf(id, checkpoint, signature, verifyCache);
  const info: CheckpointInfo = {
    id,
    run: found.name,
    step: checkpoint.step ?? checkpoint.epoch ?? 0,
    stepKnown: checkpoint.step !== null || checkpoint.epoch !== null,
    path: path.join(found.dir, ...(checkpoint.folder ?? checkpoint.name).split('/')),
    status,
    statusReason: reason,
    bytes: checkpoint.files.reduce((sum, f) => sum + f.bytes, 0),
    epoch: checkpoint.epoch,
    batchInEpoch: null,
    createdAt: new Date(checkpoint.savedAt).toISOString(),
    trainingTimeMs: null,
    saveBlockedMs: null,
    metrics: { ...checkpoint.metrics },
    backend: null,
    parent: null,
    origin: 'foreign',
    linked: false,
    source: { format: checkpoint.format, label: checkpoint.formatLabel, name: checkpoint.name, linkedFrom: null },
    pinned,
    sameStepAs: [],
    protectedBy: [],
    files: checkpoint.files.map((f) => ({ name: f.name, bytes: f.bytes })),
    notes: [...(checkpoint.stepSource ? [checkpoint.stepSource] : []), ...checkpoint.notes],
  };
  return { info, signature: checkpoint.complete ? signature : null, announce: true };
}

/** A run found in place, as the catalog holds it. */
export function scannedInPlace(found: FoundInPlace, records: Pick<InPlaceRecords, 'pinned'>, verifyCache: Pick<VerifyCache, 'lookup'>): ScannedRun {
  const pinned = new Set(records.pinned(found.name));
  const scanned = found.run.checkpoints.map((c) => checkpointInfo(found, c, pinned.has(c.name), verifyCache));
  const twins = new Map<number, string[]>();
  for (const c of scanned) twins.set(c.info.step, [...(twins.get(c.info.step) ?? []), c.info.id]);
  const checkpoints = scanned
    .map((c) => {
      const same = (twins.get(c.info.step) ?? []).filter((id) => id !== c.info.id);
      return same.length === 0 ? c : { ...c, info: { ...c.info, sameStepAs: same.sort() } };
    })
    .sort((a, b) => a.info.step - b.info.step || a.info.id.localeCompare(b.info.id));
  const info: RunInfo = {
    name: found.name,
    path: found.dir,
    layout: found.run.layout,
    label: found.run.label,
    latest: found.run.latest === null ? null : inPlaceCheckpointId(found.name, found.run.latest, found.run.file),
    createdAt: checkpoints.length > 0 ? (checkpoints.map((c) => c.info.createdAt ?? '').sort()[0] ?? null) : null,
    parent: null,
    checkpointCount: checkpoints.length,
    bytes: checkpoints.reduce((sum, c) => sum + c.info.bytes, 0),
    writer: null,
    notes: [...found.run.notes],
  };
  return { info, checkpoints };
}
