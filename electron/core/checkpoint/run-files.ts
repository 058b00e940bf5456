// The small per-run files: run.json (what the run is and where it came from), metrics.jsonl
// (the dashboard's history) and retention.json (the run's policy, pins and what it remembers).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { RetentionPolicy as ContractRetentionPolicy } from '../../contract.js';
import { appendLineDurably, fsyncPath, writeFileAtomic } from './durable-fs.js';
import { CheckpointFormatError, RefusedError } from './errors.js';
import { METRICS_FILE, POLICY_FILE, RUN_FILE, isValidRunName } from './layout.js';
import { CheckpointRefSchema } from './manifest.js';

export const RunMetaSchema = z.looseObject({
  formatVersion: z.literal(1),
  name: z.string(),
  createdAt: z.iso.datetime(),
  parent: CheckpointRefSchema.nullable(),
  /** Model, dataset, hyper-parameters: owned by the trainer. */
  config: z.record(z.string(), z.json()).default({}),
});
export type RunMeta = z.infer<typeof RunMetaSchema>;

export const RetentionPolicySchema = z.object({
  keepLast: z.int().positive().optional(),
  keepBest: z.object({ k: z.int().positive(), metric: z.string().min(1), mode: z.enum(['min', 'max']) }).optional(),
  keepEverySteps: z.int().positive().optional(),
  keepEveryHours: z.number().positive().optional(),
  maxBytes: z.int().positive().optional(),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicySchema>;
// The schema and the contract's plain type must describe the same thing.
const _policyMatchesContract: ContractRetentionPolicy = {} as RetentionPolicy;
void _policyMatchesContract;

export const RunRetentionSchema = z.object({
  policy: RetentionPolicySchema.default({}),
  /** Checkpoint folder names the user pinned. */
  pinned: z.array(z.string()).default([]),
  /** The best value seen so far for the policy's metric, kept across restarts and prunes. */
  bestSeen: z.object({ metric: z.string(), mode: z.enum(['min', 'max']), value: z.number(), step: z.int() }).nullable().default(null),
});
export type RunRetention = z.infer<typeof RunRetentionSchema>;

async function readJsonFile<T>(file: string, schema: z.ZodType<T>): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointFormatError(file, `not valid JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CheckpointFormatError(file, `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
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

/** Creates a new run folder with its run.json; refuses an existing run. */
export async function createRunFolder(workspace: string, name: string, meta: Omit<RunMeta, 'formatVersion' | 'name' | 'createdAt'>): Promise<string> {
  if (!isValidRunName(name)) {
    throw new RefusedError(name, 'a run name uses letters, digits, ".", "_" and "-", starts with a letter or digit, and has at most 128 characters');
  }
  const runDir = path.join(workspace, name);
  try {
    await mkdir(runDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new RefusedError(runDir, 'a run with this name already exists');
    throw error;
  }
  await fsyncPath(workspace);
  const full: RunMeta = RunMetaSchema.parse({ ...meta, formatVersion: 1, name, createdAt: new Date().toISOString() });
  await writeFileAtomic(path.join(runDir, RUN_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return runDir;
}

export type MetricsRecord = Readonly<Record<string, string | number | boolean | null>>;

export async function appendMetrics(runDir: string, record: MetricsRecord): Promise<void> {
  await appendLineDurably(path.join(runDir, METRICS_FILE), JSON.stringify(record));
}

/** Reads metrics.jsonl; a torn last line (a crash mid-append) is skipped, not fatal. */
export async function readMetrics(runDir: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await readFile(path.join(runDir, METRICS_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
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
