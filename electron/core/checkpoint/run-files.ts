// The small per-run files: run.json (what the run is and where it came from), metrics.jsonl
// (the dashboard's history) and retention.json (the run's policy, pins and what it remembers).
import { link, mkdir, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { RetentionPolicySchema, RunMetaSchema, type RetentionPolicy, type RunMeta } from '../../contract.js';
import { appendLineDurably, fsyncPath, writeFileAtomic } from '../base/durable-fs.js';
import { RefusedError } from '../base/errors.js';
import { parseJsonAs } from '../base/parse-json.js';
import { statIfPresent } from '../base/path-state.js';
import { COLUMNS_FILE, LOCK_FILE, METRICS_FILE, POLICY_FILE, RUN_FILE, isEventFileName, runNameProblem } from './layout.js';
import { isMissing, readRegularText } from '../base/regular-file.js';
import { isDeadTemporary } from '../base/temporaries.js';

export { RetentionPolicySchema, RunMetaSchema, type RetentionPolicy, type RunMeta };

export const RunRetentionSchema = z.object({
  policy: RetentionPolicySchema.default({}),
  /** Checkpoint folder names the user pinned. */
  pinned: z.array(z.string()).default([]),
  /** The best value seen so far for the policy's metric, kept across restarts and prunes. */
  bestSeen: z
    .object({ metric: z.string(), mode: z.enum(['min', 'max']), value: z.number(), step: z.int() })
    .nullable()
    .default(null),
});
export type RunRetention = z.infer<typeof RunRetentionSchema>;

/** run.json and retention.json are small; a huge one is damage, not something to read. */
const MAX_RUN_FILE_BYTES = 16 * 1024 * 1024;

async function readJsonFile<T>(file: string, schema: z.ZodType<T>): Promise<T | null> {
  let text: string;
  try {
    text = await readRegularText(file, MAX_RUN_FILE_BYTES);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  return parseJsonAs(file, text, schema);
}

export function readRunMeta(runDir: string): Promise<RunMeta | null> {
  return readJsonFile(path.join(runDir, RUN_FILE), RunMetaSchema);
}

export async function readRunRetention(runDir: string): Promise<RunRetention> {
  return (await readJsonFile(path.join(runDir, POLICY_FILE), RunRetentionSchema)) ?? RunRetentionSchema.parse({});
}

export async function writeRunRetention(runDir: string, retention: RunRetention): Promise<void> {
  await writeFileAtomic(path.join(runDir, POLICY_FILE), `${JSON.stringify(RunRetentionSchema.parse(retention), null, 2)}\n`);
}

export type NewRunMeta = Omit<RunMeta, 'formatVersion' | 'name' | 'createdAt'>;

/** Refuses a name that cannot be a run folder, saying why. */
export function checkRunName(name: string): void {
  const problem = runNameProblem(name);
  if (problem) throw new RefusedError(JSON.stringify(name), `not a usable run name: ${problem}`);
}

/** Creates a new run folder with its run.json; 'exists' when the folder is already there. */
export async function createRunFolder(workspace: string, name: string, meta: NewRunMeta): Promise<string | 'exists'> {
  checkRunName(name);
  const runDir = path.join(workspace, name);
  try {
    await mkdir(runDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw error;
  }
  await fsyncPath(workspace);
  await writeRunMeta(runDir, name, meta);
  return runDir;
}

export async function writeRunMeta(runDir: string, name: string, meta: NewRunMeta): Promise<void> {
  await writeFileAtomic(path.join(runDir, RUN_FILE), runMetaText(name, meta));
}

/** run.json's text, the same wherever the run lives (a folder, an S3 prefix). */
export function runMetaText(name: string, meta: NewRunMeta): string {
  const full: RunMeta = RunMetaSchema.parse({ ...meta, formatVersion: 1, name, createdAt: new Date().toISOString() });
  return `${JSON.stringify(full, null, 2)}\n`;
}

/** The only files a run holds before its first checkpoint (and its TensorBoard event file: isStartUpFile). */
const START_UP_FILES = new Set([RUN_FILE, POLICY_FILE, LOCK_FILE, METRICS_FILE, COLUMNS_FILE]);

/** The event file mirrors metrics.jsonl (training/session/tensorboard-log.ts): it goes and stays with it. */
function isStartUpFile(name: string): boolean {
  return START_UP_FILES.has(name) || isEventFileName(name);
}
/** The log of an earlier attempt that never saved, kept aside when a retry takes its name. */
const SET_ASIDE_METRICS = /^metrics-unsaved-\d{8}T\d{6}Z(-\d+)?\.jsonl$/;

/**
 * A run folder that never held a checkpoint: our start-up files (its log may have lines: it
 * trained some steps and died before saving), logs of earlier such attempts, and dead
 * temporaries. Nothing can be resumed from it, so a retry with the same name may take it over.
 * Anything else in it (a checkpoint, a file of the user's) keeps it a real run. The caller
 * checks the lock.
 */
export async function isUnsavedRun(runDir: string): Promise<boolean> {
  let names: string[];
  try {
    if (!(await stat(runDir)).isDirectory()) return false;
    names = await readdir(runDir);
  } catch {
    return false;
  }
  return names.every((name) => isDeadTemporary(name) || isStartUpFile(name) || SET_ASIDE_METRICS.test(name));
}

/**
 * Moves an unsaved run's log aside (kept, never deleted) so a retry starts a history of its own.
 * The attempt's TensorBoard event files go: each holds the same steps as the log kept aside, and
 * TensorBoard would draw them into the retry's curves (it reads every event file of a folder).
 */
export async function setAsideUnsavedLog(runDir: string): Promise<string | null> {
  // The columns mirror the log set aside: the retry builds its own.
  for (const name of await readdir(runDir)) if (isEventFileName(name) || name === COLUMNS_FILE) await unlink(path.join(runDir, name));
  const log = path.join(runDir, METRICS_FILE);
  const size = (await statIfPresent(log, { follow: true }))?.size ?? null;
  if (size === null) return null;
  if (size === 0) {
    await unlink(log);
    return null;
  }
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  for (let i = 0; ; i += 1) {
    const target = path.join(runDir, `metrics-unsaved-${stamp}${i === 0 ? '' : `-${i}`}.jsonl`);
    try {
      await link(log, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await unlink(log);
    await fsyncPath(runDir);
    return target;
  }
}

/**
 * Removes a run folder this process created and that never held a checkpoint nor logged a step:
 * our start-up files, then the folder. Anything else in it stays, and so does the folder.
 */
export async function removeAbandonedRun(runDir: string): Promise<boolean> {
  if (!(await isUnsavedRun(runDir))) return false;
  const names = await readdir(runDir);
  for (const name of names) {
    // A logged step or an earlier attempt's log is history: such a folder is kept.
    if (SET_ASIDE_METRICS.test(name)) return false;
    if (name === METRICS_FILE && (await stat(path.join(runDir, name))).size > 0) return false;
  }
  for (const name of names) {
    if (isStartUpFile(name)) await unlink(path.join(runDir, name)).catch(() => undefined);
    else if (isDeadTemporary(name)) await rm(path.join(runDir, name), { recursive: true, force: true });
  }
  try {
    await rmdir(runDir);
    return true;
  } catch {
    return false;
  }
}

export type MetricsRecord = Readonly<Record<string, string | number | boolean | null>>;

export async function appendMetrics(runDir: string, record: MetricsRecord): Promise<void> {
  await appendLineDurably(path.join(runDir, METRICS_FILE), JSON.stringify(record));
}

/** Reads metrics.jsonl; a torn last line (a crash mid-append) is skipped, not fatal. */
export async function readMetrics(runDir: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await readRegularText(path.join(runDir, METRICS_FILE));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  return parseMetricLines(text);
}

/** The records of a metrics log's text: a torn line (a crash mid-append) or one that is not a record is skipped. */
export function parseMetricLines(text: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push(value as Record<string, unknown>);
    } catch {
      // torn line
    }
  }
  return records;
}
