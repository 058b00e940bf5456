// A run's listing from its record in the persistent index, checked against the folder, and the
// record made from a fresh listing. What a record can vouch for, and why the check cannot miss a
// change to what it vouches for:
// - the run's folder (inode, size, mtime, ctime): adding, removing or renaming a checkpoint folder,
//   a lock file, run.json or retention.json in it changes its mtime and ctime;
// - run.json and retention.json: rewritten in place or replaced, their identity changes;
// - each checkpoint's folder: a file added to it, removed from it or replaced in it (renamed over);
// - each checkpoint's manifest.json: rewritten in place (size, mtime, ctime) or replaced (inode).
// Identities are taken before what they vouch for is read, and only once what they name has not
// changed for SETTLED_MS (a file changed again in the same clock tick keeps its times), so a
// record can be stale but never vouch for something it did not read.
// What it does not see: a checkpoint's data file rewritten in place (opened and written, not
// replaced), which changes neither its folder nor its manifest. Our writer and importer never write
// into a placed checkpoint folder (they fill a staging folder and rename it into place); a file so
// changed behind its manifest's back is damage, which Verify (reading every byte) finds.
import path from 'node:path';
import type { CheckpointInfo } from '../../contract.js';
import { mapWithConcurrency } from '../base/concurrency.js';
import { type RunRecord, type StoredCheckpoint, INDEX_VERSION, isStillAt } from './catalog-index.js';
import { type Identities, identitiesOf, identityIs } from './catalog-index-stat.js';
import {
  type RunFileIdentities,
  type ScannedCheckpoint,
  type ScannedRun,
  assembleRun,
  holderAsWriter,
  scanOneCheckpoint,
  scanRun,
  verifiedStatus,
} from './catalog-scan.js';
import { MANIFEST_FILE, POLICY_FILE, RUN_FILE, folderCheckpointId, parseCheckpointDirName } from './layout.js';
import { liveLockHolder } from './run-lock.js';
import type { VerifyCache } from './verify-cache.js';

/** A listing taken from the index: `changed` when some checkpoint had to be read again (the record is then out of date). */
export interface IndexedRun {
  readonly scanned: ScannedRun;
  readonly changed: boolean;
}

/** The run's own files, if they are still those the record was made from. */
function runFilesUnchanged(runDir: string, record: RunRecord): boolean {
  return isStillAt(runDir, record.dir) && isStillAt(path.join(runDir, RUN_FILE), record.runFile) && isStillAt(path.join(runDir, POLICY_FILE), record.retention);
}

function fromStored(run: string, runDir: string, stored: StoredCheckpoint, pinned: boolean, verifyCache: VerifyCache): ScannedCheckpoint {
  const [
    name,
    folder,
    manifest,
    signature,
    bytes,
    epoch,
    batchInEpoch,
    createdAt,
    trainingTimeMs,
    saveBlockedMs,
    metrics,
    backend,
    parent,
    origin,
    linked,
    source,
  ] = stored;
  const id = folderCheckpointId(run, name);
  // Stored checkpoints were whole; a verification remembered since (or forgotten) is asked afresh.
  const { status, statusReason } = verifiedStatus(id, signature, null, verifyCache);
  const info: CheckpointInfo = {
    id,
    run,
    step: parseCheckpointDirName(name) as number,
    stepKnown: true,
    path: `${runDir}${path.sep}${name}`,
    status,
    statusReason,
    bytes,
    epoch,
    batchInEpoch,
    createdAt,
    trainingTimeMs,
    saveBlockedMs,
    metrics,
    backend,
    parent,
    origin,
    linked,
    source,
    pinned,
    sameStepAs: [],
    protectedBy: [],
    files: null,
    notes: [],
  };
  return { info, signature, announce: true, identity: { folder, manifest } };
}

/** The paths whose identities vouch for a record's checkpoints: each one's folder, then its manifest. */
function checkedPaths(runDir: string, record: RunRecord, into: string[]): void {
  const manifestSuffix = `${path.sep}${MANIFEST_FILE}`;
  for (const stored of record.checkpoints) {
    const dir = `${runDir}${path.sep}${stored[0]}`;
    into.push(dir, `${dir}${manifestSuffix}`);
  }
}

/**
 * The run as its record lists it, each checkpoint whose folder or manifest is no longer the one
 * recorded (or that the record could not vouch for) read again. `identities` holds what its
 * checkpoints' paths (checkedPaths) are now, from `at` on.
 */
async function runFromRecord(
  workspace: string,
  run: string,
  record: RunRecord,
  identities: Identities,
  at: number,
  verifyCache: VerifyCache,
): Promise<IndexedRun> {
  const runDir = path.join(workspace, run);
  const writer = record.lock ? holderAsWriter(await liveLockHolder(runDir).catch(() => null)) : null;
  const scanned: (ScannedCheckpoint | null)[] = [];
  let changed = false;
  // Pins are in retention.json, unchanged since the record was made: the record knows them.
  const pinned = new Set(record.pinned);
  for (let i = 0; i < record.checkpoints.length; i += 1) {
    const stored = record.checkpoints[i] as StoredCheckpoint;
    const name = stored[0];
    if (identityIs(identities, at + 2 * i, stored[1]) && identityIs(identities, at + 2 * i + 1, stored[2])) {
      scanned.push(fromStored(run, runDir, stored, pinned.has(name), verifyCache));
      continue;
    }
    changed = true;
    scanned.push(await scanOneCheckpoint(workspace, run, name, pinned.has(name), verifyCache));
  }
  for (const name of record.unsettled) {
    const fresh = await scanOneCheckpoint(workspace, run, name, pinned.has(name), verifyCache);
    if (fresh?.identity !== undefined && fresh.signature !== null) changed = true;
    scanned.push(fresh);
  }
  return { scanned: assembleRun(workspace, run, { createdAt: record.createdAt, parent: record.parent, writer }, scanned), changed };
}

/** The record of a run's listing, or null when the run's own files cannot be vouched for. */
export function recordOf(run: string, scanned: ScannedRun, files: RunFileIdentities, pinned: readonly string[]): RunRecord | null {
  const { dir, runFile, retention, lock } = files;
  if (dir === undefined || dir === null || runFile === undefined || retention === undefined) return null;
  const checkpoints: StoredCheckpoint[] = [];
  const unsettled: string[] = [];
  for (const c of scanned.checkpoints) {
    const name = path.basename(c.info.path);
    if (c.identity === undefined || c.signature === null || !c.announce) {
      unsettled.push(name);
      continue;
    }
    const { info } = c;
    checkpoints.push([
      name,
      c.identity.folder,
      c.identity.manifest,
      c.signature,
      info.bytes,
      info.epoch,
      info.batchInEpoch,
      info.createdAt,
      info.trainingTimeMs,
      info.saveBlockedMs,
      info.metrics,
      info.backend,
      info.parent,
      info.origin,
      info.linked,
      info.source,
    ]);
  }
  const { createdAt, parent } = scanned.info;
  return { version: INDEX_VERSION, run, dir, runFile, retention, lock, createdAt, parent, pinned: [...pinned], checkpoints, unsettled };
}

/** A run's listing, and what the index should hold for it now: a record to write, null to remove the one there, undefined to leave it. */
export interface RunListing {
  readonly scanned: ScannedRun | null;
  readonly update: RunRecord | null | undefined;
}

/** A run read from its manifests, and the record that listing makes (replacing `record`, if any). */
async function listFromFolder(workspace: string, run: string, record: RunRecord | undefined, verifyCache: VerifyCache): Promise<RunListing> {
  const scanned = await scanRun(workspace, run, verifyCache);
  const fresh = scanned?.files && scanned.pinned ? recordOf(run, scanned, scanned.files, scanned.pinned) : null;
  // A record that no longer agrees is removed even when no new one can be made yet: checking it again would only cost.
  return { scanned, update: fresh ?? (record ? null : undefined) };
}

/** One of our runs, read from its manifests: what a watcher's re-read of a run asks for. */
export function listRun(workspace: string, run: string, verifyCache: VerifyCache): Promise<RunListing> {
  return listFromFolder(workspace, run, undefined, verifyCache);
}

/**
 * Our runs, each from its record when its folder still agrees with it, else from its manifests.
 * The checkpoints of every run whose own files agree are checked in one batch (identitiesOf).
 */
export async function listRuns(
  workspace: string,
  runs: readonly string[],
  records: ReadonlyMap<string, RunRecord>,
  verifyCache: VerifyCache,
): Promise<RunListing[]> {
  const paths: string[] = [];
  const starts = new Map<string, number>();
  for (const run of runs) {
    const record = records.get(run);
    const runDir = path.join(workspace, run);
    if (!record || !runFilesUnchanged(runDir, record)) continue;
    starts.set(run, paths.length / 2);
    checkedPaths(runDir, record, paths);
  }
  const identities = await identitiesOf(paths);
  // Runs are read a few at a time; each read is itself parallel over its checkpoints.
  return mapWithConcurrency(runs, 4, async (run) => {
    const record = records.get(run);
    const at = starts.get(run);
    if (!record || at === undefined) return listFromFolder(workspace, run, record, verifyCache);
    const indexed = await runFromRecord(workspace, run, record, identities, at * 2, verifyCache);
    return { scanned: indexed.scanned, update: indexed.changed ? recordOf(run, indexed.scanned, record, record.pinned) : undefined };
  });
}
