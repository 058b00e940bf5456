// Builds catalog entries from the folder, which is the truth. No state of our own is needed to
// list a workspace, so a checkpoint written by another program shows up exactly like ours.
import { type Dirent, statSync } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointInfo, CheckpointStatus, RunInfo } from '../../contract.js';
import { mapWithConcurrency } from '../base/concurrency.js';
import { errorMessage } from '../base/errors.js';
import { statIfPresentSync } from '../base/path-state.js';
import { LOCK_FILE, MANIFEST_FILE, POLICY_FILE, RUN_FILE, folderCheckpointId, isHiddenName, parseCheckpointDirName, runNameProblem } from './layout.js';
import { type Identity, identityAt, isSettled } from './catalog-index.js';
import { showName } from './names.js';
import { WRITER_PROGRAM } from './manifest.js';
import type { ManifestSummary } from './manifest.js';
import { type Structure, inspectSummary } from './reader.js';
import { readRunMeta, readRunRetention } from './run-files.js';
import { liveLockHolder } from './run-lock.js';
import type { VerifyCache } from './verify-cache.js';

/** Enough parallel reads to hide disk latency; well under the default fd limit. */
const SCAN_CONCURRENCY = 64;
/** Checkpoints inspected between two yields to the event loop. */
const SCAN_SLICE = 256;

function isDirectorySync(target: string): boolean {
  try {
    return statSync(target).isDirectory();
  } catch {
    return false;
  }
}

function isGone(dir: string): boolean {
  try {
    return statIfPresentSync(dir, { follow: true }) === null;
  } catch {
    return false;
  }
}

export interface ScannedCheckpoint {
  readonly info: CheckpointInfo;
  /** Sizes and mtimes of its files: a verification holds while this is unchanged. */
  readonly signature: string | null;
  /**
   * Whether events may speak of it: a folder with no manifest yet (being written in place by
   * another program) is listed, but announced only once it has one.
   */
  readonly announce: boolean;
  /**
   * The identities of the folder and its manifest.json as they were just before they were read,
   * when they can vouch for what was read (catalog-index.ts), else absent: eight numbers from
   * `identityAt` on (the folder's four, then the manifest's). A listing taken from the index points
   * into its record's column instead of holding copies (100,000 of them on an open).
   */
  readonly identities?: ArrayLike<number>;
  readonly identityAt?: number;
}

/** A folder of the workspace that could be a run but is not listed, and why. */
export interface SkippedFolder {
  readonly name: string;
  readonly reason: string;
}

export interface ScannedRun {
  readonly info: RunInfo;
  readonly checkpoints: readonly ScannedCheckpoint[];
  /** Our run's own files as read for this listing, and its pins: absent when it came from the index, or is not ours. */
  readonly files?: RunFileIdentities;
  readonly pinned?: readonly string[];
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

async function isDirectoryEntry(dir: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await stat(path.join(dir, entry.name))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Runs are the visible folders that hold run.json or at least one ckpt-* folder. A folder whose
 * name cannot be a run's (a newline in it, say) is reported in `skipped`, never listed.
 * `looksLikeRuns` holds both: the folders that are ours, listed or not, which the walk for other
 * programs' folders leaves alone.
 */
export async function listRunNames(
  workspace: string,
  /** Whether a folder is known to be a run without reading it (its folder is as the catalog index recorded it). */
  knownRun: (name: string, dir: string) => boolean = () => false,
): Promise<{ names: string[]; skipped: SkippedFolder[]; looksLikeRuns: Set<string> }> {
  const entries = await listDir(workspace);
  const skipped: SkippedFolder[] = [];
  const looksLikeRuns = new Set<string>();
  const names = await mapWithConcurrency(entries, SCAN_CONCURRENCY, async (entry) => {
    if (isHiddenName(entry.name) || !(await isDirectoryEntry(workspace, entry))) return null;
    const dir = path.join(workspace, entry.name);
    const isRun = knownRun(entry.name, dir) || (await listDir(dir)).some((e) => e.name === RUN_FILE || parseCheckpointDirName(e.name) !== null);
    if (!isRun) return null;
    looksLikeRuns.add(entry.name);
    const problem = runNameProblem(entry.name);
    if (problem) {
      skipped.push({ name: showName(entry.name), reason: `${problem}; rename the folder to see its checkpoints` });
      return null;
    }
    return entry.name;
  });
  return { names: names.filter((n): n is string => n !== null).sort(), skipped, looksLikeRuns };
}

export interface RunState {
  readonly meta: Awaited<ReturnType<typeof readRunMeta>>;
  readonly pinned: ReadonlySet<string>;
  readonly writer: RunInfo['writer'];
  readonly exists: boolean;
  /** run.json and retention.json as they were before they were read (null: absent), or undefined when that cannot vouch for what was read. */
  readonly files: RunFileIdentities;
}

/** What the persistent index checks a run's record against (catalog-index.ts); undefined: cannot vouch. */
export interface RunFileIdentities {
  readonly dir: Identity | null | undefined;
  readonly runFile: Identity | null | undefined;
  readonly retention: Identity | null | undefined;
  /** Whether a lock file was there. */
  readonly lock: boolean;
}

/** The identity of a file about to be read, if it can vouch for what will be read. */
function settledIdentity(file: string): Identity | null | undefined {
  const identity = identityAt(file);
  return identity !== undefined && isSettled(identity) ? identity : undefined;
}

/** The run's own files (run.json, retention.json, the lock), without its checkpoints. */
export async function readRunState(workspace: string, run: string): Promise<RunState> {
  const runDir = path.join(workspace, run);
  // Taken before the folder and the files are read, so that they can only vouch for what was read or for less.
  const [dir, runFile, retentionFile] = [
    settledIdentity(runDir),
    settledIdentity(path.join(runDir, RUN_FILE)),
    settledIdentity(path.join(runDir, POLICY_FILE)),
  ];
  const entries = await listDir(runDir);
  const files = { dir, runFile, retention: retentionFile, lock: entries.some((e) => e.name === LOCK_FILE) };
  const hasRunFile = entries.some((e) => e.name === RUN_FILE);
  const exists = hasRunFile || entries.some((e) => parseCheckpointDirName(e.name) !== null);
  const meta = hasRunFile ? await readRunMeta(runDir).catch(() => null) : null;
  const retention = await readRunRetention(runDir).catch(() => null);
  const holder = await liveLockHolder(runDir).catch(() => null);
  return {
    meta,
    pinned: new Set(retention?.pinned ?? []),
    writer: holderAsWriter(holder),
    exists,
    files,
  };
}

export function holderAsWriter(holder: Awaited<ReturnType<typeof liveLockHolder>>): RunInfo['writer'] {
  return holder ? { pid: holder.pid, host: holder.host, since: holder.since } : null;
}

/** What a run's listing says of the run itself, besides its checkpoints. */
export type RunOwnInfo = Pick<RunInfo, 'createdAt' | 'parent' | 'writer'>;

export function runInfo(workspace: string, run: string, state: RunState | RunOwnInfo, checkpoints: readonly CheckpointInfo[]): RunInfo {
  const own = 'meta' in state ? { createdAt: state.meta?.createdAt ?? null, parent: state.meta?.parent ?? null, writer: state.writer } : state;
  return {
    name: run,
    path: path.join(workspace, run),
    layout: 'studio',
    label: null,
    latest: null,
    createdAt: own.createdAt,
    parent: own.parent,
    checkpointCount: checkpoints.length,
    bytes: checkpoints.reduce((sum, c) => sum + c.bytes, 0),
    writer: own.writer,
    notes: [],
  };
}

/** A run's listing from its checkpoints' entries, however they were come by: twins marked, in step order. */
export function assembleRun(workspace: string, run: string, own: RunState | RunOwnInfo, scanned: readonly (ScannedCheckpoint | null)[]): ScannedRun {
  const present = scanned.filter((c): c is ScannedCheckpoint => c !== null);
  // Steps already strictly ascending (a run listed from its index record, in order): no twins to mark, nothing to sort.
  const checkpoints = isAscending(present) ? present : markSameSteps(present).sort((a, b) => a.info.step - b.info.step || a.info.id.localeCompare(b.info.id));
  return {
    info: runInfo(
      workspace,
      run,
      own,
      checkpoints.map((c) => c.info),
    ),
    checkpoints,
    ...('files' in own ? { files: own.files, pinned: [...own.pinned] } : {}),
  };
}

export async function scanRun(workspace: string, run: string, verifyCache: VerifyCache): Promise<ScannedRun | null> {
  const runDir = path.join(workspace, run);
  const state = await readRunState(workspace, run);
  if (!state.exists) return null;
  const candidates = (await listDir(runDir)).filter((e) => parseCheckpointDirName(e.name) !== null);
  const scanned: (ScannedCheckpoint | null)[] = [];
  for (let i = 0; i < candidates.length; i += 1) {
    const entry = candidates[i] as Dirent;
    // Plain folders need no stat; only a symbolic link must be followed to see what it is.
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && isDirectorySync(path.join(runDir, entry.name)));
    scanned.push(isDir ? scanCheckpoint(workspace, run, entry.name, entry.isSymbolicLink(), state.pinned.has(entry.name), verifyCache) : null);
    // Give the event loop a turn now and then: a 10,000-checkpoint run must not freeze the app.
    if (i % SCAN_SLICE === SCAN_SLICE - 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return assembleRun(workspace, run, state, scanned);
}

/** Whether each checkpoint's step is above the one before it. */
function isAscending(checkpoints: readonly ScannedCheckpoint[]): boolean {
  for (let i = 1; i < checkpoints.length; i += 1)
    if ((checkpoints[i] as ScannedCheckpoint).info.step <= (checkpoints[i - 1] as ScannedCheckpoint).info.step) return false;
  return true;
}

/** Fills in `sameStepAs` for a whole run's folders at once. */
function markSameSteps(checkpoints: ScannedCheckpoint[]): ScannedCheckpoint[] {
  // Twins are rare: count first, and build lists only for the steps that have them.
  const counts = new Map<number, number>();
  for (const c of checkpoints) counts.set(c.info.step, (counts.get(c.info.step) ?? 0) + 1);
  if (checkpoints.length === counts.size) return checkpoints;
  const ids = new Map<number, string[]>();
  for (const c of checkpoints) if ((counts.get(c.info.step) ?? 0) > 1) ids.set(c.info.step, [...(ids.get(c.info.step) ?? []), c.info.id]);
  return checkpoints.map((c) => {
    const twins = ids.get(c.info.step);
    return twins ? { ...c, info: { ...c.info, sameStepAs: twins.filter((id) => id !== c.info.id).sort() } } : c;
  });
}

/** One checkpoint folder, or null when it is gone or not a folder. */
export async function scanOneCheckpoint(
  workspace: string,
  run: string,
  dirName: string,
  pinned: boolean,
  verifyCache: VerifyCache,
): Promise<ScannedCheckpoint | null> {
  const dir = path.join(workspace, run, dirName);
  let linked: boolean;
  try {
    const [link, target] = await Promise.all([lstat(dir), stat(dir)]);
    if (!target.isDirectory()) return null;
    linked = link.isSymbolicLink();
  } catch {
    return null;
  }
  return scanCheckpoint(workspace, run, dirName, linked, pinned, verifyCache);
}

function scanCheckpoint(workspace: string, run: string, dirName: string, linked: boolean, pinned: boolean, verifyCache: VerifyCache): ScannedCheckpoint | null {
  // The workspace is a real path and both names are plain (checked): joining needs no normalising,
  // and this runs for every checkpoint of a listing.
  const dir = `${workspace}${path.sep}${run}${path.sep}${dirName}`;
  const step = parseCheckpointDirName(dirName) as number;
  const id = folderCheckpointId(run, dirName);
  const base = { id, run, step, stepKnown: true, path: dir, linked, pinned, sameStepAs: [], protectedBy: [], files: null, notes: [] };
  // Taken before the manifest is read, so that it can only vouch for what was read or for less.
  const [folder, manifestFile] = [identityAt(dir), identityAt(`${dir}${path.sep}${MANIFEST_FILE}`)];
  const identity = folder && manifestFile && isSettled(folder) && isSettled(manifestFile) ? { identities: [...folder, ...manifestFile], identityAt: 0 } : {};
  let structure: Structure<ManifestSummary>;
  try {
    structure = inspectSummary(dir);
  } catch (error) {
    structure = { kind: 'damaged' as const, reason: `${dir}: ${errorMessage(error)}` };
  }
  // Moved away while being read (to the trash, by another process's retention): it is gone,
  // not damaged. Only a folder that looked wrong pays for this check; one that cannot even be
  // looked at is not gone, and stays listed with what its reading said.
  if (structure.kind !== 'complete' && isGone(dir)) return null;
  const manifest = structure.manifest;
  if (!manifest) {
    const info: CheckpointInfo = {
      ...base,
      status: structure.kind === 'complete' ? 'damaged' : structure.kind,
      statusReason: structure.kind === 'complete' ? 'unreachable' : structure.reason,
      bytes: 0,
      ...NO_MANIFEST_FIELDS,
    };
    return { info, signature: null, announce: structure.kind !== 'incomplete' };
  }
  // Wholeness (the folder's step, the files its kind needs) was judged by inspectSummary.
  const signature = structure.kind === 'complete' ? structure.signature : null;
  const { status, statusReason } = verifiedStatus(id, signature, structure.kind === 'complete' ? null : structure, verifyCache);
  const info: CheckpointInfo = {
    ...base,
    ...manifestFields(manifest),
    // Files read in place from outside the workspace are as protected as a linked folder.
    linked: base.linked || (manifest.foreign?.linked ?? null) !== null,
    status,
    statusReason,
    bytes: structure.kind === 'complete' ? structure.bytes : 0,
  };
  return { info, signature, announce: true, ...identity };
}

/** What is known of a checkpoint whose manifest cannot be read: nothing. */
export const NO_MANIFEST_FIELDS: ReturnType<typeof manifestFields> = {
  epoch: null,
  batchInEpoch: null,
  createdAt: null,
  trainingTimeMs: null,
  saveBlockedMs: null,
  source: null,
  metrics: {},
  backend: null,
  parent: null,
  origin: 'foreign',
};

/** What a checkpoint's manifest says of it, wherever the manifest was read from. */
export function manifestFields(
  manifest: ManifestSummary,
): Pick<CheckpointInfo, 'epoch' | 'batchInEpoch' | 'createdAt' | 'trainingTimeMs' | 'saveBlockedMs' | 'source' | 'metrics' | 'backend' | 'parent' | 'origin'> {
  return {
    // Another program's checkpoint records none of these: unknown, not zero.
    epoch: manifest.foreign ? null : manifest.epoch,
    batchInEpoch: manifest.foreign ? null : manifest.batchInEpoch,
    createdAt: manifest.createdAt,
    trainingTimeMs: manifest.foreign ? null : manifest.trainingTimeMs,
    saveBlockedMs: manifest.cost?.blockedMs ?? null,
    source: manifest.foreign
      ? { format: manifest.foreign.format, label: manifest.foreign.formatLabel, name: manifest.foreign.name, linkedFrom: manifest.foreign.linked }
      : null,
    metrics: manifest.metrics,
    backend: manifest.backend,
    parent: manifest.parent,
    origin: manifest.origin === 'imported' ? 'imported' : manifest.writer.program === WRITER_PROGRAM ? 'trained' : 'foreign',
  };
}

/**
 * A checkpoint's status: what its structure says, or, when whole (it has a signature), what a
 * remembered verification of these very files said.
 */
export function verifiedStatus(
  id: string,
  signature: string | null,
  broken: { readonly kind: 'damaged' | 'incomplete'; readonly reason: string } | null,
  verifyCache: VerifyCache,
): { status: CheckpointStatus; statusReason: string | null } {
  if (broken) return { status: broken.kind, statusReason: broken.reason };
  const cached = signature === null ? null : verifyCache.lookup(id, signature);
  if (cached) return { status: cached.ok ? 'verified' : 'damaged', statusReason: cached.reason };
  return { status: 'unverified', statusReason: null };
}
