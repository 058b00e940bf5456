// The trash's own names. Everything read back from `.trash/` is data until it passes here:
// an entry is acted on only when its folder name, its record and its recorded origin are all
// plain names of the shapes we write, so no field of a record can lead a restore or a purge
// anywhere but where it belongs.
import path from 'node:path';
import { z } from 'zod';
import type { TrashEntry } from '../../contract.js';
import { quoted } from '../base/describe-value.js';
import { schemaProblem } from '../base/parse-json.js';
import { folderCheckpointId, parseCheckpointDirName, runNameProblem } from './layout.js';
import { plainNameProblem } from './names.js';

export const ENTRY_FILE = 'entry.json';
export const PAYLOAD = 'payload';

/** Batches are numbered: the highest number is the most recent deletion, whatever the clock says. */
const BATCH_DIGITS = 12;
const BATCH_PATTERN = /^\d{12}$/;
const ENTRY_ID_PATTERN = /^(\d{12})-(\d{4})$/;

export function batchId(sequence: number): string {
  return String(sequence).padStart(BATCH_DIGITS, '0');
}

export function entryId(batch: string, index: number): string {
  return `${batch}-${String(index).padStart(4, '0')}`;
}

/** The batch number a folder name of ours claims, or null (an older entry, or not ours). */
export function batchNumberOfFolder(name: string): number | null {
  const match = ENTRY_ID_PATTERN.exec(name);
  return match ? Number(match[1]) : null;
}

/** The order of batches for undo: numbered ones by number, older unnumbered ones by time, before them. */
export function batchOrder(entry: TrashEntry): [number, string] {
  return BATCH_PATTERN.test(entry.batch) ? [Number(entry.batch), ''] : [-1, entry.deletedAt];
}

const EntrySchema = z.object({
  id: z.string(),
  batch: z.string(),
  originalPath: z.string(),
  checkpointId: z.string(),
  deletedAt: z.iso.datetime(),
  bytes: z.int().nonnegative(),
  reason: z.string(),
});

/** Where an entry goes back to, relative to the workspace: always a run and a checkpoint folder. */
export interface Origin {
  readonly run: string;
  readonly dirName: string;
}

export type ParsedEntry = { readonly ok: true; readonly entry: TrashEntry; readonly origin: Origin } | { readonly ok: false; readonly problem: string };

/** Validates a record read from `.trash/<folderName>/entry.json`. */
export function parseEntryRecord(folderName: string, json: unknown): ParsedEntry {
  const parsed = EntrySchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: `${ENTRY_FILE}: ${schemaProblem(parsed.error, 'record')}` };
  const entry = parsed.data;
  if (entry.id !== folderName) return { ok: false, problem: `${ENTRY_FILE}: its id ${quoted(entry.id)} is not its folder's name` };
  const batchProblem = plainNameProblem(entry.batch);
  if (batchProblem) return { ok: false, problem: `${ENTRY_FILE}: batch ${quoted(entry.batch)}: ${batchProblem}` };
  // Written with the platform's separator; read with either, and never more than run/checkpoint.
  const parts = entry.originalPath.split(/[\\/]/);
  const [run, dirName] = parts;
  if (parts.length !== 2 || run === undefined || dirName === undefined) {
    return { ok: false, problem: `${ENTRY_FILE}: originalPath ${quoted(entry.originalPath)} is not <run>/<checkpoint folder>` };
  }
  const runProblem = runNameProblem(run);
  if (runProblem) return { ok: false, problem: `${ENTRY_FILE}: originalPath names the run ${quoted(run)}: ${runProblem}` };
  if (parseCheckpointDirName(dirName) === null) {
    return { ok: false, problem: `${ENTRY_FILE}: originalPath names ${quoted(dirName)}, which is not a checkpoint folder name` };
  }
  return { ok: true, entry: { ...entry, originalPath: path.join(run, dirName), checkpointId: folderCheckpointId(run, dirName) }, origin: { run, dirName } };
}
