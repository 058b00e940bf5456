// A run's listing from its record in the persistent index, checked against the folder, and the
// record made from a fresh listing. What a record can vouch for, and why the check cannot miss a
// change to what it vouches for:
// - the run's folder (inode, size, mtime, ctime): adding, removing or renaming a checkpoint folder,
//   a lock file, run.json or retention.json in it changes its mtime and ctime;
// - run.json and retention.json: rewritten in place or replaced, their identity changes;
// - each checkpoint's folder: a file added to it, removed from it or replaced in it (renamed over)
//   changes its identity. Every writer of ours replaces a manifest that way (written beside, then
//   renamed), so the folder's identity also proves which manifest is there;
// - each checkpoint's manifest.json: rewritten in place (size, mtime, ctime), which only a person
//   or another program does (an editor that saves in place, `cp` over it), changes its identity
//   alone. That is checked after the listing is given (checkManifests): the folders are checked
//   before it, and the manifests, 100,000 stats at the scale, in the background. The trade:
//   until that check is in (a fraction of a second after an open; `settled()` waits for it), a
//   manifest edited in place is listed as it was; then its checkpoint is read again and listeners
//   are told it changed.
// Identities are taken before what they vouch for is read, and only once what they name has not
// changed for SETTLED_MS (a file changed again in the same clock tick keeps its times), so a
// record can be stale but never vouch for something it did not read.
// What it does not see: a checkpoint's data file rewritten in place (opened and written, not
// replaced), which changes neither its folder nor its manifest. Our writer and importer never write
// into a placed checkpoint folder (they fill a staging folder and rename it into place); a file so
// changed behind its manifest's back is damage, which Verify (reading every byte) finds.
import path from 'node:path';
import { mapWithConcurrency } from '../base/concurrency.js';
import {
  type ReadCheckpoints,
  type ReadRunRecord,
  type RunRecord,
  IDENTITY_AT,
  INDEX_VERSION,
  ROW_WIDTH,
  StoredCheckpointsBuilder,
  isStillAt,
  storedInfo,
  storedSignature,
} from './catalog-index.js';
import { type Identities, StatQueue } from './catalog-index-stat.js';
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
import { MANIFEST_FILE, POLICY_FILE, RUN_FILE, folderCheckpointId, isValidRunName } from './layout.js';
import { liveLockHolder } from './run-lock.js';
import type { VerifyCache } from './verify-cache.js';

/** The run's own files, if they are still those the record was made from. */
function runFilesUnchanged(runDir: string, record: Pick<RunRecord, 'dir' | 'runFile' | 'retention'>): boolean {
  return isStillAt(runDir, record.dir) && isStillAt(path.join(runDir, RUN_FILE), record.runFile) && isStillAt(path.join(runDir, POLICY_FILE), record.retention);
}

/** Records from which the stat worker is started before they are read, not once their checkpoints are queued (a few hundred runs hold tens of thousands of checkpoints). */
const PRESTART_RECORDS = 100;

/** Checkpoint `i` of a record as its listing, built straight from the record's columns. */
function fromStored(run: string, dir: string, stored: ReadCheckpoints, i: number, pinned: ReadonlySet<string>, verifyCache: VerifyCache): ScannedCheckpoint {
  const name = stored.names[i] as string;
  const signature = storedSignature(stored, i);
  const id = folderCheckpointId(run, name);
  // Stored checkpoints were whole; a verification remembered since (or forgotten) is asked afresh.
  const { status, statusReason } = verifiedStatus(id, signature, null, verifyCache);
  const head = { id, run, step: stored.steps[i] as number, path: dir, status, statusReason, pinned: pinned.has(name) };
  const info = storedInfo(stored, i, head);
  return { info, signature, announce: true, identities: stored.rows, identityAt: i * ROW_WIDTH + IDENTITY_AT };
}

/** Each checkpoint folder of a record, as a path. */
function checkpointDirs(runDir: string, record: ReadRunRecord): string[] {
  const prefix = `${runDir}${path.sep}`;
  return record.checkpoints.names.map((name) => `${prefix}${name}`);
}

/** Whether the identity at `k` in `now` (four numbers) is the one at `r` in a record's rows (a NaN, nothing there, never is). */
function sameAt(now: Identities, k: number, rows: Float64Array, r: number): boolean {
  return now[k] === rows[r] && now[k + 1] === rows[r + 1] && now[k + 2] === rows[r + 2] && now[k + 3] === rows[r + 3];
}

/** Whether checkpoint `i`'s folder is still the one recorded (`folders`: four numbers a checkpoint). */
function folderAsStored(stored: ReadCheckpoints, i: number, folders: Identities): boolean {
  return sameAt(folders, i * 4, stored.rows, i * ROW_WIDTH + IDENTITY_AT);
}

/** Whether checkpoint `i`'s manifest is still the one recorded (`manifests`: four numbers a checkpoint). */
function manifestAsStored(stored: ReadCheckpoints, i: number, manifests: Identities): boolean {
  return sameAt(manifests, i * 4, stored.rows, i * ROW_WIDTH + IDENTITY_AT + 4);
}

/**
 * The checks of records' checkpoints, started as each record is read: the stats of a record whose
 * run's own files agree with it are queued at once (a worker takes them while the rest is read).
 */
export class RecordChecks {
  /** Checkpoint folders: what must agree before a checkpoint is listed from its record (its manifest is checked after, by checkManifests). */
  private readonly queue = new StatQueue();
  private readonly slots = new Map<string, number>();
  /** The checkpoint folders of each record being checked (their listings' paths are these very strings). */
  private readonly dirs = new Map<string, readonly string[]>();

  constructor(private readonly workspace: string) {}

  /** Told how many records are about to be read: from so many, the stat worker is started before the first (its start takes tens of ms). */
  expect(records: number): void {
    if (records >= PRESTART_RECORDS) this.queue.prestart();
  }

  /** Queues the check of a record's checkpoints, if its run's own files are still those it names (else the run is read from its folder). */
  add(record: ReadRunRecord): void {
    // A record whose name is no run's (`...json` names `..`) names no folder of the workspace: nothing outside it is looked at.
    if (this.slots.has(record.run) || !isValidRunName(record.run)) return;
    const runDir = path.join(this.workspace, record.run);
    if (!runFilesUnchanged(runDir, record)) return;
    const dirs = checkpointDirs(runDir, record);
    this.dirs.set(record.run, dirs);
    this.slots.set(record.run, this.queue.add(dirs));
  }

  /** The checkpoint folders of `run`'s record, when they are being checked. */
  dirsOf(run: string): readonly string[] | undefined {
    return this.dirs.get(run);
  }

  private finished: Promise<Map<string, Identities>> | undefined;

  /** The identities of each checked run's checkpoint folders (four numbers each), once all are in; the same map every call. */
  finish(): Promise<Map<string, Identities>> {
    this.finished ??= this.queue.finish().then((identities) => new Map([...this.slots].map(([run, slot]) => [run, identities[slot] as Identities])));
    return this.finished;
  }

  /** Stops checking (the listing failed). */
  cancel(): void {
    this.queue.cancel();
  }
}

/**
 * The run as its record lists it (`built`, each checkpoint made from the record before its
 * identities were known), each checkpoint `asStored` does not vouch for (its folder or manifest
 * no longer the one recorded), and each the record could not vouch for, read again.
 */
async function runFromRecord(
  workspace: string,
  run: string,
  record: ReadRunRecord,
  built: readonly ScannedCheckpoint[],
  asStored: (i: number) => boolean,
  verifyCache: VerifyCache,
): Promise<RunListing> {
  const runDir = path.join(workspace, run);
  const writer = record.lock ? holderAsWriter(await liveLockHolder(runDir).catch(() => null)) : null;
  const scanned: (ScannedCheckpoint | null)[] = [];
  let changed = false;
  // Pins are in retention.json, unchanged since the record was made: the record knows them.
  const pinned = new Set(record.pinned);
  const stored = record.checkpoints;
  for (let i = 0; i < built.length; i += 1) {
    if (asStored(i)) {
      scanned.push(built[i] as ScannedCheckpoint);
      continue;
    }
    changed = true;
    const name = stored.names[i] as string;
    scanned.push(await scanOneCheckpoint(workspace, run, name, pinned.has(name), verifyCache));
  }
  for (const name of record.unsettled) {
    const fresh = await scanOneCheckpoint(workspace, run, name, pinned.has(name), verifyCache);
    if (fresh?.identities !== undefined && fresh.signature !== null) changed = true;
    scanned.push(fresh);
  }
  const listed = assembleRun(workspace, run, { createdAt: record.createdAt, parent: record.parent, writer }, scanned);
  const same = !changed && !record.lock && record.unsettled.length === 0;
  return { scanned: listed, update: changed ? recordOf(run, listed, record, record.pinned) : undefined, asRecorded: same };
}

/** The record of a run's listing, or null when the run's own files cannot be vouched for. */
export function recordOf(run: string, scanned: ScannedRun, files: RunFileIdentities, pinned: readonly string[]): RunRecord | null {
  const { dir, runFile, retention, lock } = files;
  if (dir === undefined || dir === null || runFile === undefined || retention === undefined) return null;
  const checkpoints = new StoredCheckpointsBuilder();
  const unsettled: string[] = [];
  for (const c of scanned.checkpoints) {
    const name = path.basename(c.info.path);
    if (c.identities === undefined || c.signature === null || !c.announce) unsettled.push(name);
    else checkpoints.add(name, c.identities, c.identityAt ?? 0, c.signature, c.info);
  }
  const { createdAt, parent } = scanned.info;
  return {
    version: INDEX_VERSION,
    run,
    dir,
    runFile,
    retention,
    lock,
    createdAt,
    parent,
    pinned: [...pinned],
    checkpoints: checkpoints.build(),
    unsettled,
  };
}

/** A run's listing, and what the index should hold for it now: a record to write, null to remove the one there, undefined to leave it. */
export interface RunListing {
  readonly scanned: ScannedRun | null;
  readonly update: RunRecord | null | undefined;
  /** Whether `scanned` is what asRecorded gave for the run: every checkpoint as its record lists it. */
  readonly asRecorded?: boolean;
}

/** A run read from its manifests, and the record that listing makes (replacing `record`, if any). */
async function listFromFolder(workspace: string, run: string, record: ReadRunRecord | undefined, verifyCache: VerifyCache): Promise<RunListing> {
  const scanned = await scanRun(workspace, run, verifyCache);
  const fresh = scanned?.files && scanned.pinned ? recordOf(run, scanned, scanned.files, scanned.pinned) : null;
  // A record that no longer agrees is removed even when no new one can be made yet: checking it again would only cost.
  return { scanned, update: fresh ?? (record ? null : undefined) };
}

/** One of our runs, read from its manifests: what a watcher's re-read of a run asks for. */
export function listRun(workspace: string, run: string, verifyCache: VerifyCache): Promise<RunListing> {
  return listFromFolder(workspace, run, undefined, verifyCache);
}

/** The checkpoints of each run whose record is being checked, each listed as its record holds it: built while the checks run. */
export type BuiltFromRecords = ReadonlyMap<string, readonly ScannedCheckpoint[]>;

/** Each checked record's checkpoints as its record lists them, before their identities are in (`checks` is meanwhile statting them). */
export function buildFromRecords(
  runs: readonly string[],
  records: ReadonlyMap<string, ReadRunRecord>,
  verifyCache: VerifyCache,
  checks: RecordChecks,
): BuiltFromRecords {
  const built = new Map<string, ScannedCheckpoint[]>();
  for (const run of runs) {
    const record = records.get(run);
    const dirs = checks.dirsOf(run);
    if (!record || !dirs) continue;
    const pinned = new Set(record.pinned);
    const stored = record.checkpoints;
    const listings: ScannedCheckpoint[] = [];
    for (let i = 0; i < stored.names.length; i += 1) listings.push(fromStored(run, dirs[i] as string, stored, i, pinned, verifyCache));
    built.set(run, listings);
  }
  return built;
}

/**
 * A run as its record lists it, if its listing can come from nothing else when its checkpoints'
 * identities agree: no checkpoint the record could not vouch for, no lock whose holder must be
 * asked. What finishRuns then lists for it is the same, or it says the run changed (`asRecorded`).
 */
export function asRecorded(workspace: string, run: string, record: ReadRunRecord, built: readonly ScannedCheckpoint[]): ScannedRun | null {
  if (record.lock || record.unsettled.length > 0) return null;
  return assembleRun(workspace, run, { createdAt: record.createdAt, parent: record.parent, writer: null }, built);
}

/**
 * Our runs, each from its record when its folder and checkpoints still agree with it, else from
 * its manifests: `built` (buildFromRecords) is kept for each checkpoint whose identities, once
 * `checks` has them all, are still those recorded.
 */
export async function finishRuns(
  workspace: string,
  runs: readonly string[],
  records: ReadonlyMap<string, ReadRunRecord>,
  built: BuiltFromRecords,
  verifyCache: VerifyCache,
  checks: RecordChecks,
): Promise<RunListing[]> {
  const identities = await checks.finish();
  // Runs are read a few at a time; each read is itself parallel over its checkpoints.
  return mapWithConcurrency(runs, 4, async (run) => {
    const record = records.get(run);
    const folders = identities.get(run);
    if (!record || folders === undefined) return listFromFolder(workspace, run, record, verifyCache);
    const stored = record.checkpoints;
    return runFromRecord(workspace, run, record, built.get(run) ?? [], (i) => folderAsStored(stored, i, folders), verifyCache);
  });
}

/**
 * The second half of the check of the runs finishRuns listed from their records: each checkpoint
 * kept because its folder agreed is kept only if its manifest is still the one recorded too (one
 * edited in place changes nothing else). What it gives is the listing of each run that held such a
 * checkpoint, read again, and nothing for the others. In the `background` (after an open's listing
 * is given), a worker does the stats where there are many, and this thread only what it cannot.
 */
export async function checkManifests(
  workspace: string,
  runs: readonly string[],
  records: ReadonlyMap<string, ReadRunRecord>,
  built: BuiltFromRecords,
  verifyCache: VerifyCache,
  checks: RecordChecks,
  background: boolean,
): Promise<Map<string, RunListing>> {
  const folders = await checks.finish();
  const queue = new StatQueue({ suffixes: [`${path.sep}${MANIFEST_FILE}`], background });
  const slots = new Map<string, number>();
  for (const run of runs) {
    const dirs = checks.dirsOf(run);
    if (dirs && folders.has(run) && records.has(run)) slots.set(run, queue.add(dirs));
  }
  const manifests = await queue.finish();
  const changed = new Map<string, RunListing>();
  for (const [run, slot] of slots) {
    const [record, atOpen, now] = [records.get(run) as ReadRunRecord, folders.get(run) as Identities, manifests[slot] as Identities];
    const stored = record.checkpoints;
    const asStored = (i: number): boolean => folderAsStored(stored, i, atOpen) && manifestAsStored(stored, i, now);
    let stale = false;
    for (let i = 0; i < stored.count && !stale; i += 1) stale = folderAsStored(stored, i, atOpen) && !manifestAsStored(stored, i, now);
    if (stale) changed.set(run, await runFromRecord(workspace, run, record, built.get(run) ?? [], asStored, verifyCache));
  }
  return changed;
}
