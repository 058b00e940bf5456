// Our own run folder (run.json and ckpt-* folders): every checkpoint is copied, with the run's
// training log (metrics.jsonl and its TensorBoard event file); the run's retention.json and lock
// belong to the workspace it came from and stay.
import path from 'node:path';
import { z } from 'zod';
import { RunMetaSchema } from '../../contract.js';
import { CheckpointFormatError } from '../base/errors.js';
import { COLUMNS_FILE, LOCK_FILE, METRICS_FILE, POLICY_FILE, RUN_FILE, checkpointId, isEventFileName, parseCheckpointDirName } from '../checkpoint/layout.js';
import { parseJsonAs } from '../base/parse-json.js';
import { isTemporaryName } from '../base/temporaries.js';
import type { Importer, StageContext, StagedSource } from './importer.js';
import { leftOut, type PreparedCheckpoint, prepareStudioCheckpoint, stageStudioCheckpoint } from './studio-checkpoint.js';
import { type SourceFolder, listSourceFolder, readSourceText, refuseOddEntries } from './source-folder.js';

const MAX_RUN_FILE_BYTES = 16 * 1024 * 1024;

/** What a run folder of ours holds that is not carried over, without a note: the source workspace's own state, and metrics.columns (rebuilt from the log). */
const WORKSPACE_STATE = new Set([POLICY_FILE, LOCK_FILE, COLUMNS_FILE]);

/** The run's training log: metrics.jsonl and the TensorBoard event file written beside it. */
function isLog(name: string): boolean {
  return name === METRICS_FILE || isEventFileName(name);
}

async function readRunJson(dir: string): Promise<z.infer<typeof RunMetaSchema> | null> {
  const file = path.join(dir, RUN_FILE);
  let text: string;
  try {
    text = await readSourceText(file, MAX_RUN_FILE_BYTES);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'not-found') return null;
    throw error;
  }
  return parseJsonAs(file, text, RunMetaSchema);
}

async function stageRun(source: SourceFolder, stageDir: string, context: StageContext): Promise<StagedSource> {
  context.phase('reading');
  refuseOddEntries(source);
  const notes: string[] = [];
  const meta = source.entries.get(RUN_FILE) === 'file' ? await readRunJson(source.path) : null;
  const prepared: PreparedCheckpoint[] = [];
  const steps = new Map<number, string>();
  for (const [name, kind] of [...source.entries].sort(([a], [b]) => a.localeCompare(b))) {
    if (name === RUN_FILE || isLog(name) || WORKSPACE_STATE.has(name) || isTemporaryName(name)) continue;
    const step = kind === 'folder' ? parseCheckpointDirName(name) : null;
    if (step === null) {
      notes.push(`not imported: ${path.join(source.path, name)} (not a checkpoint folder or a file of a run)`);
      continue;
    }
    const checkpoint = await prepareStudioCheckpoint(await listSourceFolder(path.join(source.path, name)));
    const other = steps.get(checkpoint.manifest.step);
    if (other !== undefined)
      throw new CheckpointFormatError(path.join(source.path, name), `holds step ${checkpoint.manifest.step}, as ${other} does; keep one of them, then import`);
    steps.set(checkpoint.manifest.step, name);
    notes.push(...leftOut(checkpoint));
    prepared.push(checkpoint);
  }
  if (prepared.length === 0) throw new CheckpointFormatError(source.path, 'holds no checkpoint folder (ckpt-<step>), so there is nothing to import');
  const logs = [...source.entries].filter(([name, kind]) => kind === 'file' && isLog(name)).map(([name]) => name);
  context.setTotal(prepared.reduce((sum, c) => sum + c.bytes, 0));
  context.phase('copying');
  const staged = [];
  for (const checkpoint of prepared.sort((a, b) => a.manifest.step - b.manifest.step))
    staged.push(await stageStudioCheckpoint(checkpoint, stageDir, context, notes));
  for (const name of logs) await context.copyFile(path.join(source.path, name), path.join(stageDir, name));
  const parent = meta?.parent && context.parentResolves(meta.parent) ? meta.parent : null;
  if (meta?.parent && !parent)
    notes.push(`lineage dropped: the run continued from ${checkpointId(meta.parent.run, meta.parent.step)}, which is not in this workspace`);
  return { checkpoints: staged, runMeta: { parent, config: meta?.config ?? {} }, notes };
}

/** A folder holding run.json or ckpt-* folders: a run of ours. */
export const studioRunImporter: Importer = {
  format: 'checkpoint-studio run',
  kind: 'run',
  matches: (source) =>
    source.entries.get(RUN_FILE) === 'file' || [...source.entries].some(([name, kind]) => kind === 'folder' && parseCheckpointDirName(name) !== null),
  stage: stageRun,
};
