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

const RewriteSchema = z.object({ name: z.string(), before: z.string().nullable(), after: z.string().nullable() });

/** Another program's checkpoint, deleted where it lay: its folder, what was moved, and the files rewritten beside it. */
export const InPlaceOriginSchema = z.object({
  /** The folder relative to the workspace, with `/` between names; '' for the workspace itself. */
  dir: z.string(),
  /**
   * What was moved into the entry's payload folder: the checkpoint's files, or its own folder, by
   * name in `dir`. None for a change that moved nothing ("make latest"): its undo is its rewrites.
   */
  names: z.array(z.string()),
  /** Files replaced beside the deletion (TensorFlow's state file), as they were before and after; undo puts `before` back if the file still holds `after`. */
  rewrites: z.array(RewriteSchema).default([]),
});
export type InPlaceOrigin = z.infer<typeof InPlaceOriginSchema>;

const EntrySchema = z.object({
  id: z.string(),
  batch: z.string(),
  originalPath: z.string(),
  checkpointId: z.string(),
  deletedAt: z.iso.datetime(),
  bytes: z.int().nonnegative(),
  reason: z.string(),
  inPlace: InPlaceOriginSchema.optional(),
});

/**
 * Where an entry goes back to, relative to the workspace: a run of ours and its checkpoint
 * folder (the payload is that folder), or another program's folder and the names moved from it
 * (the payload is a folder holding them).
 */
export type Origin = { readonly kind: 'run'; readonly run: string; readonly dirName: string } | ({ readonly kind: 'in-place' } & InPlaceOrigin);

/** Why a recorded in-place origin cannot be followed, or null: every name plain, nothing hidden, nothing climbing out. */
function inPlaceProblem(origin: InPlaceOrigin): string | null {
  const segments = origin.dir === '' ? [] : origin.dir.split('/');
  for (const segment of segments) {
    const problem = plainNameProblem(segment) ?? (segment.startsWith('.') ? 'a hidden folder' : null);
    if (problem) return `inPlace.dir names ${quoted(segment)}: ${problem}`;
  }
  for (const name of [...origin.names, ...origin.rewrites.map((r) => r.name)]) {
    const problem = plainNameProblem(name);
    if (problem) return `inPlace names ${quoted(name)}: ${problem}`;
  }
  return null;
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
  if (entry.inPlace) {
    const problem = inPlaceProblem(entry.inPlace);
    if (problem) return { ok: false, problem: `${ENTRY_FILE}: ${problem}` };
    return { ok: true, entry: withoutOrigin(entry), origin: { kind: 'in-place', ...entry.inPlace } };
  }
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
  return {
    ok: true,
    entry: { ...withoutOrigin(entry), originalPath: path.join(run, dirName), checkpointId: folderCheckpointId(run, dirName) },
    origin: { kind: 'run', run, dirName },
  };
}

/** The record as the contract's TrashEntry: what was deleted, without how it goes back. */
function withoutOrigin(entry: z.infer<typeof EntrySchema>): TrashEntry {
  const { inPlace: _origin, ...rest } = entry;
  return rest;
}
