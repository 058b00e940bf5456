// Deleting where the bucket keeps versions: a plain delete leaves a delete marker above the
// version it hides, and the journal names that version. Undo removes the markers above it (the
// version is current again, nothing copied); purge removes the version and its markers. A key
// written again since (a real version above the hidden one) is someone else's: a restore refuses,
// and nothing of it is removed.
import { RefusedError } from '../base/errors.js';
import type { StoredObject, StoredVersion, VersionedStorage } from '../storage/storage.js';
import { type Journal, type JournalEntry, type MovedObject, journalKey } from './stored-trash-journal.js';
import { type TrashMode, isManifestOf, manifestLast } from './stored-trash-mode.js';
import { mapLimited } from './stored-trash-work.js';

const LISTS_IN_FLIGHT = 8;
/** Entries of one run in the trash beyond which its versions are listed whole rather than by manifest. */
const WHOLE_RUN_FROM = 20;
const IN_PLACE = '\u0000in-place';

/** Each key's versions and markers under a prefix, newest first. */
async function versionsOf(storage: VersionedStorage, prefix: string): Promise<Map<string, StoredVersion[]>> {
  const found = new Map<string, StoredVersion[]>();
  for await (const version of storage.listVersions(prefix)) {
    const list = found.get(version.key) ?? [];
    list.push(version);
    found.set(version.key, list);
  }
  return found;
}

/** What lies above the recorded version of `o` (newer), or null when that version is gone. */
function above(versions: ReadonlyMap<string, readonly StoredVersion[]>, o: MovedObject): readonly StoredVersion[] | null {
  const list = versions.get(o.key) ?? [];
  const at = list.findIndex((v) => v.versionId === o.versionId && !v.deleteMarker);
  return at < 0 ? null : list.slice(0, at);
}

export class VersionsTrash implements TrashMode {
  readonly name = 'versions' as const;

  constructor(private readonly storage: VersionedStorage) {}

  async snapshot(folder: string, objects: readonly StoredObject[]): Promise<MovedObject[]> {
    const versions = await versionsOf(this.storage, folder);
    return objects.flatMap((o) => {
      const latest = versions.get(o.key)?.find((v) => v.isLatest && !v.deleteMarker);
      return latest ? [{ key: o.key, size: latest.size, tag: latest.tag, versionId: latest.versionId }] : [];
    });
  }

  /** The bucket keeps every version: nothing to copy. */
  keep(): Promise<void> {
    return Promise.resolve();
  }

  async hide(_journal: Journal, entry: JournalEntry): Promise<void> {
    const versions = await versionsOf(this.storage, entry.folder);
    const latestIs = (o: MovedObject): boolean => versions.get(o.key)?.[0]?.versionId === o.versionId;
    const manifest = entry.objects.find((o) => isManifestOf(entry, o.key));
    const manifestNow = manifest === undefined ? undefined : versions.get(manifest.key)?.[0];
    // Committed again since: that checkpoint is someone else's now.
    if (manifest !== undefined && manifestNow !== undefined && !manifestNow.deleteMarker && !latestIs(manifest)) return;
    const ordered = manifestLast(entry, entry.objects.filter(latestIs));
    const last = ordered.at(-1);
    if (last !== undefined && isManifestOf(entry, last.key)) {
      ordered.pop();
      await this.storage.remove([last.key]);
    }
    await this.storage.remove(ordered.map((o) => o.key));
  }

  /**
   * One LIST of versions per manifest; a run with many entries in the trash is listed whole
   * instead (its checkpoint folders' versions, a page per 1,000), which costs fewer requests.
   */
  async inTrash(journals: readonly Journal[]): Promise<boolean[][]> {
    const manifests = new Map<string, MovedObject[]>();
    for (const journal of journals)
      for (const entry of journal.entries)
        for (const o of entry.objects) {
          // Checkpoints read in place have no `ckpt-` folders to list at once: each is listed by its marker.
          const by = entry.inPlace ? IN_PLACE : entry.run;
          if (isManifestOf(entry, o.key)) manifests.set(by, [...(manifests.get(by) ?? []), o]);
        }
    const prefixes = [...manifests].flatMap(([run, list]) => (list.length > WHOLE_RUN_FROM && run !== IN_PLACE ? [`${run}/ckpt-`] : list.map((o) => o.key)));
    const versions = new Map<string, StoredVersion[]>();
    await mapLimited(prefixes, LISTS_IN_FLIGHT, async (prefix) => {
      for (const [key, list] of await versionsOf(this.storage, prefix)) versions.set(key, list);
    });
    return journals.map((journal) =>
      journal.entries.map((entry) => {
        const manifest = entry.objects.find((o) => isManifestOf(entry, o.key));
        return manifest !== undefined && (above(versions, manifest)?.length ?? 0) > 0;
      }),
    );
  }

  async restoreProblem(_journal: Journal, entry: JournalEntry): Promise<string | null> {
    const versions = await versionsOf(this.storage, entry.folder);
    for (const o of manifestLast(entry, entry.objects).reverse()) {
      const newer = above(versions, o);
      if (newer === null) return `the hidden version of ${this.storage.locate(o.key)} is gone (purged)`;
      const latest = newer[0];
      // Absent now (a marker on top), or already back (a restore that stopped halfway): it can go back.
      if (latest === undefined || latest.deleteMarker || (!isManifestOf(entry, o.key) && latest.tag !== null && latest.tag === o.tag)) continue;
      return isManifestOf(entry, o.key)
        ? `${this.storage.locate(entry.inPlace ? o.key : entry.folder)} exists again (committed since it was deleted); delete it first`
        : `${this.storage.locate(o.key)} was written again since (a save in progress, or one a crash left); nothing of it is overwritten`;
    }
    return null;
  }

  /**
   * Where only this deletion's markers lie above a hidden version, removing them makes it current
   * again (nothing copied). Where a later deletion's versions lie between (the same step committed
   * again and deleted again), the hidden version is copied on top instead, and then removed, so
   * the later entry stays in the trash as it was.
   */
  async restore(_journal: Journal, entry: JournalEntry): Promise<void> {
    const manifest = entry.objects.filter((o) => isManifestOf(entry, o.key));
    const files = entry.objects.filter((o) => !isManifestOf(entry, o.key));
    const copied = new Set<MovedObject>();
    await this.putBack(entry, files, copied);
    await this.putBack(entry, manifest, copied);
    // Until the manifest was back the folder looked like a dead writer's leftovers (the versions
    // keep our writer's mark), which a cleanup may have deleted meanwhile; from now on none will.
    await this.putBack(entry, files, copied);
    if (copied.size === 0) return;
    const versions = await versionsOf(this.storage, entry.folder);
    for (const o of copied) await this.removeHidden(versions, o);
  }

  /** Makes each hidden version current again: by removing the markers above it, or by a copy on top. */
  private async putBack(entry: JournalEntry, objects: readonly MovedObject[], copied: Set<MovedObject>): Promise<void> {
    const versions = await versionsOf(this.storage, entry.folder);
    for (const o of objects) {
      const newer = above(versions, o) ?? [];
      const latest = newer[0];
      const manifest = isManifestOf(entry, o.key);
      if (latest === undefined) continue;
      if (!latest.deleteMarker) {
        if (manifest) throw this.committedAgain(entry);
        // Copied back by a restore that stopped halfway (restoreProblem checked its ETag): its hidden version goes still.
        copied.add(o);
        continue;
      }
      if (newer.every((v) => v.deleteMarker)) {
        // Checked again right before the commit point: a checkpoint committed meanwhile is kept.
        if (manifest && (await versionsOf(this.storage, o.key)).get(o.key)?.[0]?.deleteMarker === false) throw this.committedAgain(entry);
        await this.storage.removeVersions(newer.map((v) => ({ key: v.key, versionId: v.versionId })));
        continue;
      }
      const versionId = o.versionId ?? '';
      if (!manifest) await this.storage.copyVersion(o.key, versionId, o.key);
      else if (!(await this.storage.write(o.key, await this.storage.readVersion(o.key, versionId), { exclusive: true }))) throw this.committedAgain(entry);
      copied.add(o);
    }
  }

  private committedAgain(entry: JournalEntry): RefusedError {
    return new RefusedError(
      this.storage.locate(entry.folder),
      'was committed again while it was being restored; the committed checkpoint is kept and this one stays in the trash',
    );
  }

  /** Removes a hidden version and the markers right above it (this deletion's; a real version above them is someone else's). */
  private async removeHidden(versions: ReadonlyMap<string, readonly StoredVersion[]>, o: MovedObject): Promise<void> {
    const newer = above(versions, o);
    if (newer === null) return;
    const markers: StoredVersion[] = [];
    for (let at = newer.length - 1; at >= 0 && newer[at]?.deleteMarker; at -= 1) markers.push(newer[at] as StoredVersion);
    await this.storage.removeVersions([{ key: o.key, versionId: o.versionId ?? '' }, ...markers.map((v) => ({ key: v.key, versionId: v.versionId }))]);
  }

  async purge(_journal: Journal, entry: JournalEntry): Promise<void> {
    const versions = await versionsOf(this.storage, entry.folder);
    for (const o of manifestLast(entry, entry.objects)) await this.removeHidden(versions, o);
  }

  rollBack(journal: Journal): Promise<void> {
    return this.dropJournal(journal);
  }

  async dropJournal(journal: Journal): Promise<void> {
    const key = journalKey(journal.batch);
    const all = (await versionsOf(this.storage, key)).get(key) ?? [];
    await this.storage.removeVersions(all.map((v) => ({ key, versionId: v.versionId })));
  }
}
