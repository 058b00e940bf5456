// Builds catalog entries from the folder, which is the truth. No state of our own is needed to
// list a workspace, so a checkpoint written by another program shows up exactly like ours.
import { type Dirent, statSync } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointInfo, CheckpointStatus, RunInfo } from '../../contract.js';
import { mapWithConcurrency } from './concurrency.js';
import { errorMessage } from './errors.js';
import { RUN_FILE, checkpointId, isHiddenName, parseCheckpointDirName } from './layout.js';
import { WRITER_PROGRAM } from './manifest.js';
import { inspectSummary } from './reader.js';
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

export interface ScannedCheckpoint {
  readonly info: CheckpointInfo;
  /** Sizes and mtimes of its files: a verification holds while this is unchanged. */
  readonly signature: string | null;
}

export interface ScannedRun {
  readonly info: RunInfo;
  readonly checkpoints: readonly ScannedCheckpoint[];
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

/** Runs are the visible folders that hold run.json or at least one ckpt-* folder. */
export async function listRunNames(workspace: string): Promise<string[]> {
  const entries = await listDir(workspace);
  const names = await mapWithConcurrency(entries, SCAN_CONCURRENCY, async (entry) => {
    if (isHiddenName(entry.name) || !(await isDirectoryEntry(workspace, entry))) return null;
    const inner = await listDir(path.join(workspace, entry.name));
    const isRun = inner.some((e) => e.name === RUN_FILE || parseCheckpointDirName(e.name) !== null);
    return isRun ? entry.name : null;
  });
  return names.filter((n): n is string => n !== null).sort();
}

export interface RunState {
  readonly meta: Awaited<ReturnType<typeof readRunMeta>>;
  readonly pinned: ReadonlySet<string>;
  readonly writer: RunInfo['writer'];
  readonly exists: boolean;
}

/** The run's own files (run.json, retention.json, the lock), without its checkpoints. */
export async function readRunState(workspace: string, run: string): Promise<RunState> {
  const runDir = path.join(workspace, run);
  const entries = await listDir(runDir);
  const hasRunFile = entries.some((e) => e.name === RUN_FILE);
  const exists = hasRunFile || entries.some((e) => parseCheckpointDirName(e.name) !== null);
  const meta = hasRunFile ? await readRunMeta(runDir).catch(() => null) : null;
  const retention = await readRunRetention(runDir).catch(() => null);
  const holder = await liveLockHolder(runDir).catch(() => null);
  return {
    meta,
    pinned: new Set(retention?.pinned ?? []),
    writer: holder ? { pid: holder.pid, host: holder.host, since: holder.since } : null,
    exists,
  };
}

export function runInfo(workspace: string, run: string, state: RunState, checkpoints: readonly CheckpointInfo[]): RunInfo {
  return {
    name: run,
    path: path.join(workspace, run),
    createdAt: state.meta?.createdAt ?? null,
    parent: state.meta?.parent ?? null,
    checkpointCount: checkpoints.length,
    bytes: checkpoints.reduce((sum, c) => sum + c.bytes, 0),
    writer: state.writer,
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
  const checkpoints = scanned.filter((c): c is ScannedCheckpoint => c !== null).sort((a, b) => a.info.step - b.info.step);
  return { info: runInfo(workspace, run, state, checkpoints.map((c) => c.info)), checkpoints };
}

/** One checkpoint folder, or null when it is gone or not a folder. */
export async function scanOneCheckpoint(workspace: string, run: string, dirName: string, pinned: boolean, verifyCache: VerifyCache): Promise<ScannedCheckpoint | null> {
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

function scanCheckpoint(
  workspace: string,
  run: string,
  dirName: string,
  linked: boolean,
  pinned: boolean,
  verifyCache: VerifyCache,
): ScannedCheckpoint {
  const dir = path.join(workspace, run, dirName);
  const step = parseCheckpointDirName(dirName) as number;
  const id = checkpointId(run, step);
  const base = { id, run, step, path: dir, linked, pinned };
  let structure;
  try {
    structure = inspectSummary(dir);
  } catch (error) {
    structure = { kind: 'damaged' as const, reason: `${dir}: ${errorMessage(error)}` };
  }
  const manifest = structure.kind === 'incomplete' ? undefined : structure.manifest;
  if (structure.kind !== 'complete' && !manifest) {
    const info: CheckpointInfo = {
      ...base,
      status: structure.kind,
      statusReason: structure.reason,
      bytes: 0,
      epoch: null,
      batchInEpoch: null,
      createdAt: null,
      trainingTimeMs: null,
      metrics: {},
      backend: null,
      parent: null,
      origin: 'foreign',
    };
    return { info, signature: null };
  }
  if (!manifest) throw new Error('unreachable: a complete checkpoint has a manifest');
  let status: CheckpointStatus = structure.kind === 'complete' ? 'unverified' : 'damaged';
  let statusReason: string | null = structure.kind === 'damaged' ? structure.reason : null;
  if (manifest.step !== step) {
    status = 'damaged';
    statusReason = `${path.join(dir, 'manifest.json')}: says step ${manifest.step}, but the folder is ${dirName}`;
  }
  const signature = structure.kind === 'complete' ? structure.signature : null;
  if (signature !== null && status === 'unverified') {
    const cached = verifyCache.lookup(id, signature);
    if (cached) {
      status = cached.ok ? 'verified' : 'damaged';
      statusReason = cached.reason;
    }
  }
  const origin = manifest.origin === 'imported' ? 'imported' : manifest.writer.program === WRITER_PROGRAM ? 'trained' : 'foreign';
  const info: CheckpointInfo = {
    ...base,
    status,
    statusReason,
    bytes: structure.kind === 'complete' ? structure.bytes : 0,
    epoch: manifest.epoch,
    batchInEpoch: manifest.batchInEpoch,
    createdAt: manifest.createdAt,
    trainingTimeMs: manifest.trainingTimeMs,
    metrics: manifest.metrics,
    backend: manifest.backend,
    parent: manifest.parent,
    origin,
  };
  return { info, signature };
}
