// Deleting where the bucket keeps no versions: each object is copied (server-side) to
// `.trash/<batch>/<key>`, and only an original whose copy is there, and which still has the ETag
// the journal recorded, is deleted. A folder whose manifest changed was committed again by
// someone else: nothing of it is deleted, the trash keeps the copies.
import { NotFoundError, RefusedError } from '../base/errors.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import { type Journal, type JournalEntry, type MovedObject, journalKey, payloadKey } from './stored-trash-journal.js';
import { type TrashMode, isManifestOf, manifestLast } from './stored-trash-mode.js';
import { mapLimited } from './stored-trash-work.js';

const COPIES_IN_FLIGHT = 4;

async function current(storage: Storage, prefix: string): Promise<Map<string, StoredObject>> {
  const found = new Map<string, StoredObject>();
  for await (const object of storage.list(prefix)) found.set(object.key, object);
  return found;
}

export class CopyTrash implements TrashMode {
  readonly name = 'copy' as const;

  constructor(private readonly storage: Storage) {}

  snapshot(_folder: string, objects: readonly StoredObject[]): Promise<MovedObject[]> {
    return Promise.resolve(objects.map((o) => ({ key: o.key, size: o.size, tag: o.tag })));
  }

  async keep(journal: Journal, entry: JournalEntry): Promise<void> {
    const copied = await current(this.storage, payloadKey(journal.batch, entry.folder));
    await mapLimited(entry.objects, COPIES_IN_FLIGHT, async (o) => {
      if (copied.has(payloadKey(journal.batch, o.key))) return;
      try {
        await this.storage.copy(o.key, payloadKey(journal.batch, o.key));
      } catch (error) {
        // Gone already (a second process finished this batch first): its copy is there or it never was ours to keep.
        if (!(error instanceof NotFoundError)) throw error;
      }
    });
  }

  async hide(journal: Journal, entry: JournalEntry): Promise<void> {
    const kept = await current(this.storage, payloadKey(journal.batch, entry.folder));
    const originals = await current(this.storage, entry.folder);
    const manifest = entry.objects.find((o) => isManifestOf(entry, o.key));
    const manifestNow = manifest === undefined ? undefined : originals.get(manifest.key);
    // Committed again since (another tag): that checkpoint is someone else's now.
    if (manifest !== undefined && manifestNow !== undefined && manifestNow.tag !== manifest.tag) return;
    const removable = entry.objects.filter((o) => kept.has(payloadKey(journal.batch, o.key)) && originals.get(o.key)?.tag === o.tag);
    await removeManifestFirst(this.storage, entry, removable, (o) => o.key);
  }

  inTrash(journals: readonly Journal[], trashKeys: ReadonlySet<string>): Promise<boolean[][]> {
    return Promise.resolve(
      journals.map((journal) => journal.entries.map((e) => e.objects.some((o) => isManifestOf(e, o.key) && trashKeys.has(payloadKey(journal.batch, o.key))))),
    );
  }

  async restoreProblem(journal: Journal, entry: JournalEntry): Promise<string | null> {
    const now = await current(this.storage, entry.folder);
    const kept = await current(this.storage, payloadKey(journal.batch, entry.folder));
    for (const o of entry.objects) {
      const there = now.get(o.key);
      if (there === undefined) continue;
      if (isManifestOf(entry, o.key))
        return `${this.storage.locate(entry.inPlace ? o.key : entry.folder)} exists again (committed since it was deleted); delete it first`;
      // Put back already by a restore that stopped halfway: the same bytes as the trash's copy.
      if (there.tag !== null && there.tag === kept.get(payloadKey(journal.batch, o.key))?.tag) continue;
      return `${this.storage.locate(o.key)} is there again (a save in progress, or one a crash left); nothing of it is overwritten`;
    }
    const missing = entry.objects.find((o) => !kept.has(payloadKey(journal.batch, o.key)));
    return missing ? `its copy of ${this.storage.locate(missing.key)} is missing from the trash` : null;
  }

  async restore(journal: Journal, entry: JournalEntry): Promise<void> {
    const manifest = entry.objects.find((o) => isManifestOf(entry, o.key));
    const files = entry.objects.filter((o) => o !== manifest);
    await this.putBack(journal, entry.folder, files);
    if (manifest !== undefined) {
      const bytes = await this.storage.read(payloadKey(journal.batch, manifest.key));
      if (!(await this.storage.write(manifest.key, bytes, { exclusive: true })))
        throw new RefusedError(
          this.storage.locate(entry.folder),
          'was committed again while it was being restored; the committed checkpoint is kept and this one stays in the trash',
        );
    }
    // Until the manifest was back the folder looked like a dead writer's leftovers (the copies
    // keep our writer's mark), which a cleanup may have removed meanwhile; from now on none will.
    await this.putBack(journal, entry.folder, files);
    // Out of the trash: its manifest's copy first, so a crash here leaves no entry listed twice.
    await removeManifestFirst(this.storage, entry, entry.objects, (o) => payloadKey(journal.batch, o.key));
  }

  /** Copies back what is not there already as the trash keeps it. */
  private async putBack(journal: Journal, folder: string, files: readonly MovedObject[]): Promise<void> {
    const now = await current(this.storage, folder);
    const kept = await current(this.storage, payloadKey(journal.batch, folder));
    await mapLimited(files, COPIES_IN_FLIGHT, async (o) => {
      const copy = payloadKey(journal.batch, o.key);
      const there = now.get(o.key);
      if (there === undefined || there.tag !== kept.get(copy)?.tag) await this.storage.copy(copy, o.key);
    });
  }

  async purge(journal: Journal, entry: JournalEntry): Promise<void> {
    const ordered = manifestLast(entry, entry.objects);
    await this.storage.remove(ordered.slice(0, -1).map((o) => payloadKey(journal.batch, o.key)));
    await this.storage.remove(ordered.slice(-1).map((o) => payloadKey(journal.batch, o.key)));
  }

  async rollBack(journal: Journal): Promise<void> {
    await this.storage.remove([journalKey(journal.batch)]);
    await this.dropJournal(journal);
  }

  async dropJournal(journal: Journal): Promise<void> {
    // Copies a crash left behind a restore or a purge go too: only the keys the journal names.
    await this.storage.remove(journal.entries.flatMap((e) => e.objects.map((o) => payloadKey(journal.batch, o.key))));
    await this.storage.remove([journalKey(journal.batch)]);
  }
}

/** One DeleteObjects has no order: the manifest goes alone, before the rest. */
async function removeManifestFirst(storage: Storage, entry: JournalEntry, objects: readonly MovedObject[], keyOf: (o: MovedObject) => string): Promise<void> {
  const ordered = manifestLast(entry, objects);
  const last = ordered.at(-1);
  if (last !== undefined && isManifestOf(entry, last.key)) {
    await storage.remove([keyOf(last)]);
    ordered.pop();
  }
  await storage.remove(ordered.map(keyOf));
}
