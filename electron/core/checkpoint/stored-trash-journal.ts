// The record of one deletion batch on an object store, `.trash/<batch>.json`: written (created
// once: that claims the batch's number) before the first object is touched, rewritten as `done`
// at the end. It names every key it moves and how to find it again: the copy under
// `.trash/<batch>/<key>`, or the version the delete marker hid. Read back, it is data until it
// passes here: every key must lie in the checkpoint folder of a run of ours that the entry names,
// so no record can steer a restore or a purge anywhere else.
import { z } from 'zod';
import type { TrashEntry } from '../../contract.js';
import { quoted } from '../base/describe-value.js';
import { RefusedError } from '../base/errors.js';
import { schemaProblem } from '../base/parse-json.js';
import type { Storage } from '../storage/storage.js';
import { STATE_DIR, TRASH_DIR, folderCheckpointId, parseCheckpointDirName, runNameProblem } from './layout.js';
import { batchId, entryId } from './trash-layout.js';

const JOURNAL_VERSION = 1;
const BATCH_PATTERN = /^\d{12}$/;
const JOURNAL_PATTERN = /^(\d{12})\.json$/;

const RewriteSchema = z.object({ key: z.string().min(1), before: z.string().nullable(), after: z.string().nullable() });
export type StoredRewrite = z.infer<typeof RewriteSchema>;

/**
 * Where another program's checkpoint lay and what else its deletion changed: `prefix` is what all
 * its objects' keys begin with (a TensorFlow group's `model-1000.`, a Trainer's `checkpoint-500/`,
 * a loose file's own key); `marker` is the object whose presence means the checkpoint is there
 * (TensorFlow's index: what its readers open first), taken away first and put back last, as our
 * manifest is; `rewrites` the files beside it rewritten (TensorFlow's state file), by their whole text.
 */
const InPlaceOriginSchema = z.object({
  dir: z.string(),
  prefix: z.string().min(1),
  marker: z.string().min(1),
  checkpointId: z.string().min(1),
  originalPath: z.string().min(1),
  rewrites: z.array(RewriteSchema),
});
export type StoredInPlaceOrigin = z.infer<typeof InPlaceOriginSchema>;

const MovedObjectSchema = z.object({
  key: z.string().min(1),
  size: z.int().nonnegative(),
  /** The ETag it had when trashed: an original is deleted only while it still has it. */
  tag: z.string().nullable(),
  /** Versions mode: the version the delete marker hides. */
  versionId: z.string().min(1).optional(),
});
export type MovedObject = z.infer<typeof MovedObjectSchema>;

const JournalEntrySchema = z.object({
  id: z.string(),
  run: z.string(),
  /** The checkpoint's folder name as it was (`ckpt-000000010`, or another program's `ckpt-10`). */
  dirName: z.string(),
  step: z.int().nonnegative(),
  bytes: z.int().nonnegative(),
  /** Empty only for a change that moved nothing (an in-place folder's state file rewritten: "Make latest"). */
  objects: z.array(MovedObjectSchema),
  /** Another program's checkpoint read in place (issue 18): no folder or manifest of ours; see InPlaceOriginSchema. */
  inPlace: InPlaceOriginSchema.optional(),
});
export type JournalEntry = z.infer<typeof JournalEntrySchema> & { readonly folder: string };

const JournalSchema = z.object({
  version: z.literal(JOURNAL_VERSION),
  batch: z.string().regex(BATCH_PATTERN),
  /** `versions`: deleting left delete markers; `copy`: each object was copied into the trash first. */
  mode: z.enum(['versions', 'copy']),
  /** `moving` until every original is gone: found so on open, the batch is finished. */
  state: z.enum(['moving', 'done']),
  deletedAt: z.iso.datetime(),
  reason: z.string(),
  entries: z.array(JournalEntrySchema).min(1),
});
export type Journal = Omit<z.infer<typeof JournalSchema>, 'entries'> & { readonly entries: readonly JournalEntry[] };

export const journalKey = (batch: string): string => `${TRASH_DIR}/${batch}.json`;
/** Where copy mode keeps a trashed object: under its batch, at its own key. */
export const payloadKey = (batch: string, key: string): string => `${TRASH_DIR}/${batch}/${key}`;

/** The batch a `.trash/` key's name claims (`<batch>.json`), or null. */
export function journalBatch(key: string): string | null {
  const name = key.startsWith(`${TRASH_DIR}/`) ? key.slice(TRASH_DIR.length + 1) : '';
  return JOURNAL_PATTERN.exec(name)?.[1] ?? null;
}

export function toTrashEntry(journal: Journal, entry: JournalEntry): TrashEntry {
  return {
    id: entry.id,
    batch: journal.batch,
    originalPath: entry.inPlace?.originalPath ?? `${entry.run}/${entry.dirName}`,
    checkpointId: entry.inPlace?.checkpointId ?? folderCheckpointId(entry.run, entry.dirName),
    deletedAt: journal.deletedAt,
    bytes: entry.bytes,
    reason: journal.reason,
  };
}

export type ParsedJournal = { readonly ok: true; readonly journal: Journal } | { readonly ok: false; readonly problem: string };

/** Validates a journal read from `key`: its batch is its name's, and every key lies in its entry's folder. */
export function parseJournal(key: string, text: string): ParsedJournal {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'is not JSON' };
  }
  const parsed = JournalSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: schemaProblem(parsed.error, 'record') };
  const journal = parsed.data;
  if (journalBatch(key) !== journal.batch) return { ok: false, problem: `its batch ${quoted(journal.batch)} is not its name's` };
  const entries: JournalEntry[] = [];
  for (const [index, entry] of journal.entries.entries()) {
    if (entry.inPlace) {
      const problem = inPlaceProblem(entry.inPlace, entry.objects);
      if (problem) return { ok: false, problem: `entry ${index}: ${problem}` };
      if (entry.id !== entryId(journal.batch, index)) return { ok: false, problem: `entry ${index} has the id ${quoted(entry.id)}, not its place's` };
      if (journal.mode === 'versions' && entry.objects.some((o) => o.versionId === undefined))
        return { ok: false, problem: `entry ${index} does not say which versions it hid` };
      entries.push({ ...entry, folder: entry.inPlace.prefix });
      continue;
    }
    if (entry.objects.length === 0) return { ok: false, problem: `entry ${index} names no object` };
    const runProblem = runNameProblem(entry.run);
    if (runProblem) return { ok: false, problem: `entry ${index} names the run ${quoted(entry.run)}: ${runProblem}` };
    if (entry.id !== entryId(journal.batch, index)) return { ok: false, problem: `entry ${index} has the id ${quoted(entry.id)}, not its place's` };
    if (parseCheckpointDirName(entry.dirName) !== entry.step)
      return { ok: false, problem: `entry ${index} names the folder ${quoted(entry.dirName)}, which is not the checkpoint folder of step ${entry.step}` };
    const folder = `${entry.run}/${entry.dirName}/`;
    const outside = entry.objects.find(
      (o) =>
        !o.key.startsWith(folder) ||
        o.key
          .slice(folder.length)
          .split('/')
          .some((p) => p === '' || p === '.' || p === '..'),
    );
    if (outside) return { ok: false, problem: `entry ${index} names ${quoted(outside.key)}, which is not in its checkpoint folder ${quoted(folder)}` };
    if (journal.mode === 'versions' && entry.objects.some((o) => o.versionId === undefined))
      return { ok: false, problem: `entry ${index} does not say which versions it hid` };
    entries.push({ ...entry, folder });
  }
  return { ok: true, journal: { ...journal, entries } };
}

const badPart = (key: string): boolean => key.split('/').some((p) => p === '' || p === '.' || p === '..');

/**
 * Why an in-place origin may not be acted on, or null: every key it names lies in its folder,
 * under its prefix (a rewrite: directly in the folder), and never in the store's own `.trash/` or
 * `.studio/`. A record read back cannot steer a restore anywhere else.
 */
export function inPlaceProblem(origin: StoredInPlaceOrigin, objects: readonly { readonly key: string }[]): string | null {
  const folder = origin.dir === '' ? '' : `${origin.dir}/`;
  if (origin.dir !== '' && badPart(origin.dir)) return `names the folder ${quoted(origin.dir)}, which is not a folder of the workspace`;
  const top = (origin.dir === '' ? origin.prefix : origin.dir).split('/')[0];
  if (top === TRASH_DIR || top === STATE_DIR) return `names ${quoted(origin.prefix)}, which is the store's own`;
  if (!origin.prefix.startsWith(folder) || badPart(origin.prefix.slice(folder.length).replace(/\/$/, '')))
    return `names ${quoted(origin.prefix)}, which is not in its folder ${quoted(origin.dir)}`;
  const outside = objects.find((o) => !o.key.startsWith(origin.prefix) || badPart(o.key.slice(folder.length)));
  if (outside) return `names ${quoted(outside.key)}, which is not under ${quoted(origin.prefix)}`;
  // A change that moved nothing (Make latest) is there while its rewrite is: its marker is the file it rewrote.
  if (objects.length === 0 ? !origin.rewrites.some((r) => r.key === origin.marker) : !objects.some((o) => o.key === origin.marker))
    return objects.length === 0
      ? `moves nothing and rewrites nothing as ${quoted(origin.marker)}`
      : `its marker ${quoted(origin.marker)} is not one of its objects`;
  const rewrite = origin.rewrites.find((r) => !r.key.startsWith(folder) || r.key.slice(folder.length).includes('/') || badPart(r.key));
  if (rewrite) return `rewrites ${quoted(rewrite.key)}, which is not a file of its folder ${quoted(origin.dir)}`;
  return null;
}

export function serializeJournal(journal: Journal): string {
  const entries = journal.entries.map(({ folder: _folder, ...entry }) => entry);
  return `${JSON.stringify({ ...journal, version: JOURNAL_VERSION, entries }, null, 2)}\n`;
}

/**
 * Writes a new batch's journal under the next free number: created once (If-None-Match: *), so
 * of two processes deleting at once each gets its own number.
 */
export async function claimBatch(storage: Storage, draft: (batch: string) => Journal): Promise<Journal> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { objects } = await storage.children(`${TRASH_DIR}/`);
    const numbers = objects.map((o) => journalBatch(o.key)).filter((b): b is string => b !== null);
    const batch = batchId(Math.max(0, ...numbers.map(Number)) + 1);
    const journal = draft(batch);
    if (await storage.write(journalKey(batch), serializeJournal(journal), { exclusive: true })) return journal;
  }
  throw new RefusedError(storage.locate(`${TRASH_DIR}/`), 'could not take a batch number (too many deletions at once)');
}
