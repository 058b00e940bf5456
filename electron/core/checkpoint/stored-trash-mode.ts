// What a deletion on an object store does, by how the bucket can hide an object: by its own
// versions (versioning on) or by a copy kept in the trash. Both keep one order, because a
// checkpoint exists exactly while its manifest is listed: a deletion takes the manifest away
// first, a restore puts it back last, with an exclusive create, and a purge removes it last (an
// entry is in the trash while its manifest is). Every step may be run again (after a crash, or by
// a second process finishing the same batch) and then does nothing more.
import { CheckpointFormatError, NotFoundError } from '../base/errors.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE } from './layout.js';
import { parseManifestSummary } from './manifest.js';
import type { Journal, JournalEntry, MovedObject } from './stored-trash-journal.js';

export interface TrashMode {
  readonly name: Journal['mode'];
  /** What the journal records of a checkpoint's own objects, before any is touched. */
  snapshot(folder: string, objects: readonly StoredObject[]): Promise<MovedObject[]>;
  /** Keeps what an entry's deletion will hide (copies it); nothing is deleted yet, so a failure here can be rolled back. */
  keep(journal: Journal, entry: JournalEntry): Promise<void>;
  /** Deletes an entry's originals, manifest first; only those kept and still as recorded. */
  hide(journal: Journal, entry: JournalEntry): Promise<void>;
  /** Which entries of each batch are still in the trash (their manifest is); `trashKeys`: what `.trash/` holds. */
  inTrash(journals: readonly Journal[], trashKeys: ReadonlySet<string>): Promise<boolean[][]>;
  /** Why an entry cannot go back now, or null. */
  restoreProblem(journal: Journal, entry: JournalEntry): Promise<string | null>;
  /** Puts an entry back, manifest last; refuses (RefusedError) when its checkpoint was committed meanwhile. */
  restore(journal: Journal, entry: JournalEntry): Promise<void>;
  /** Removes an entry's hidden bytes for good, manifest last. */
  purge(journal: Journal, entry: JournalEntry): Promise<void>;
  /** Undoes a batch none of whose originals was deleted: its journal first, then what was kept. */
  rollBack(journal: Journal): Promise<void>;
  /** Removes the journal of a batch none of whose entries is in the trash any more. */
  dropJournal(journal: Journal): Promise<void>;
}

/** Manifest last when putting back, first when taking away. */
export function manifestLast<T extends { readonly key: string }>(entry: JournalEntry, objects: readonly T[]): T[] {
  const manifest = markerOf(entry);
  return [...objects.filter((o) => o.key !== manifest), ...objects.filter((o) => o.key === manifest)];
}

/** What says the checkpoint is there: our manifest, or the marker an in-place entry names (TensorFlow's index). */
function markerOf(entry: JournalEntry): string {
  return entry.inPlace?.marker ?? `${entry.folder}${MANIFEST_FILE}`;
}

export function isManifestOf(entry: JournalEntry, key: string): boolean {
  return key === markerOf(entry);
}

/**
 * A checkpoint's own objects: its manifest and the files the manifest names (ours, or an imported
 * format's copied files). Anything else in the folder is not ours and stays where it is. A
 * manifest that cannot be read still takes our writer's two files with it.
 */
export async function checkpointObjects(storage: Storage, folder: string): Promise<StoredObject[]> {
  const listed: StoredObject[] = [];
  for await (const object of storage.list(folder)) listed.push(object);
  const manifestKey = `${folder}${MANIFEST_FILE}`;
  if (!listed.some((o) => o.key === manifestKey)) throw new NotFoundError(storage.locate(folder), 'no such checkpoint (its manifest.json is not there)');
  let names: string[] = [MODEL_FILE, OPTIMIZER_FILE];
  try {
    const manifest = parseManifestSummary(storage.locate(manifestKey), new TextDecoder().decode(await storage.read(manifestKey)));
    names = [...Object.keys(manifest.files), ...(manifest.foreign && manifest.foreign.linked === null ? manifest.foreign.files.map((f) => f.name) : [])];
  } catch (error) {
    if (!(error instanceof CheckpointFormatError)) throw error;
  }
  const ours = new Set([manifestKey, ...names.map((name) => `${folder}${name}`)]);
  return listed.filter((o) => ours.has(o.key));
}
