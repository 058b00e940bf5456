// Other programs' folders in a workspace in S3, read where they lie (issue 18): the objects the
// listing found that are not ours are arranged into folder listings, as a walk of a folder on disk
// makes them (in-place-scan.ts), and handed to the same layouts; the layouts and readers reach
// the objects through storage/file-access.ts, by their s3:// addresses. A folder whose objects
// are listed unchanged (keys, sizes, times, tags) is not read again. Reading changes nothing.
import { mapWithConcurrency } from '../base/concurrency.js';
import { shownPath } from '../storage/file-access.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import type { ScannedRun } from './catalog-scan.js';
import { type FolderEntry, type FolderListing, type InPlaceLayouts, type InPlaceRun, inPlaceRunName } from './in-place.js';
import { type FoundInPlace, scannedInPlace } from './in-place-scan.js';
import { STATE_DIR, TRASH_DIR, isHiddenName } from './layout.js';
import type { VerifyCacheEntry } from './verify-cache.js';

/** The same depth as on disk (in-place-scan.ts). */
const MAX_DEPTH = 8;
const NEVER_WALKED = new Set([TRASH_DIR, STATE_DIR, 'node_modules', '__pycache__']);
const FOLDERS_AT_ONCE = 8;

interface Folder {
  readonly files: StoredObject[];
  readonly folders: Set<string>;
  /** Every object under it, at any depth. */
  readonly below: StoredObject[];
}

/** Folders by their path relative to the workspace ('' for the workspace), each with its files and subfolders. */
function foldersOf(objects: readonly StoredObject[]): Map<string, Folder> {
  const folders = new Map<string, Folder>();
  const folder = (relative: string): Folder => {
    let found = folders.get(relative);
    if (!found) folders.set(relative, (found = { files: [], folders: new Set(), below: [] }));
    return found;
  };
  for (const object of objects) {
    const parts = object.key.split('/');
    const name = parts.pop();
    if (name === undefined || name === '') continue;
    folder(parts.join('/')).files.push(object);
    for (let depth = 0; depth < parts.length; depth += 1) folder(parts.slice(0, depth).join('/')).folders.add(parts[depth] as string);
    for (let depth = 1; depth <= parts.length; depth += 1) folder(parts.slice(0, depth).join('/')).below.push(object);
  }
  return folders;
}

function stamp(o: StoredObject): string {
  return `${o.key}\u0000${o.size}\u0000${o.modifiedMs}\u0000${o.tag ?? ''}`;
}

/**
 * What a folder's runs were read from: its own objects, its subfolders' names, and every object
 * under the subfolders its runs claim (a Trainer's `checkpoint-N/`, Keras' `train/`), which its
 * layouts read too.
 */
function signatureOf(relative: string, folder: Folder, claimed: readonly string[], folders: ReadonlyMap<string, Folder>): string {
  const inClaimed = claimed.flatMap((name) => folders.get(relative === '' ? name : `${relative}/${name}`)?.below ?? []).map(stamp);
  return [...folder.files.map(stamp).sort(), ...[...folder.folders].sort(), ...inClaimed.sort()].join('\u0001');
}

/** A checkpoint's verification, kept in memory for the objects it read (nothing is written into the bucket). */
export class StoredVerifications {
  private readonly entries = new Map<string, VerifyCacheEntry>();

  lookup(id: string, signature: string): VerifyCacheEntry | null {
    const entry = this.entries.get(id);
    return entry && entry.signature === signature ? entry : null;
  }

  remember(id: string, signature: string, ok: boolean, reason: string | null, crcs?: Readonly<Record<string, number>>): void {
    this.entries.set(id, { signature, ok, reason, at: new Date().toISOString(), ...(crcs ? { crcs: { ...crcs } } : {}) });
  }
}

export class StoredInPlace {
  /** Each folder's runs as last read, by the folder's signature. */
  private readonly kept = new Map<string, { readonly signature: string; readonly claimed: readonly string[]; readonly runs: readonly InPlaceRun[] }>();
  readonly verifications = new StoredVerifications();
  private found: FoundInPlace[] = [];

  constructor(
    private readonly storage: Storage,
    readonly layouts: InPlaceLayouts,
    /** Their pins, kept in `.studio/` of the prefix (stored-in-place-records.ts). */
    private readonly pins: { pinned(run: string): readonly string[] },
  ) {}

  /** Where a folder is, as a user writes it (and as the readers are given it). */
  private dirOf(relative: string): string {
    return shownPath(relative === '' ? this.storage.address.replace(/\/+$/, '') : this.storage.locate(relative));
  }

  private async runsOf(relative: string, folder: Folder, folders: ReadonlyMap<string, Folder>): Promise<readonly InPlaceRun[]> {
    const kept = this.kept.get(relative);
    if (kept && kept.signature === signatureOf(relative, folder, kept.claimed, folders)) return kept.runs;
    const at = relative === '' ? 0 : relative.length + 1;
    const entries: FolderEntry[] = [
      ...folder.files.map((o) => ({ name: o.key.slice(at), kind: 'file' as const, bytes: o.size, mtimeMs: o.modifiedMs })),
      ...[...folder.folders].map((name) => ({ name, kind: 'folder' as const, bytes: 0, mtimeMs: 0 })),
    ];
    const listing: FolderListing = { dir: this.dirOf(relative), relative, entries };
    const runs = await this.layouts.scanFolder(listing);
    const claimed = [...new Set(runs.flatMap((run) => run.claimed))];
    this.kept.set(relative, { signature: signatureOf(relative, folder, claimed, folders), claimed, runs });
    return runs;
  }

  /** The runs other programs' objects form, walked from the workspace down as on disk. */
  async scan(objects: readonly StoredObject[]): Promise<FoundInPlace[]> {
    const folders = foldersOf(objects);
    const found: FoundInPlace[] = [];
    let level = folders.has('') ? [''] : [];
    for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth += 1) {
      const next: string[] = [];
      // Folders read at once, as on disk (in-place-scan.ts): each costs a few ranged GETs when changed.
      await mapWithConcurrency(level, FOLDERS_AT_ONCE, async (relative) => {
        const folder = folders.get(relative);
        if (!folder) return;
        const runs = await this.runsOf(relative, folder, folders);
        const dir = this.dirOf(relative);
        for (const run of runs) found.push({ name: inPlaceRunName(relative, run.file), dir, run });
        const claimed = new Set(runs.flatMap((run) => run.claimed));
        for (const name of [...folder.folders].sort()) {
          if (isHiddenName(name) || NEVER_WALKED.has(name) || claimed.has(name)) continue;
          next.push(relative === '' ? name : `${relative}/${name}`);
        }
      });
      level = next.sort();
    }
    for (const relative of this.kept.keys()) if (!folders.has(relative)) this.kept.delete(relative);
    this.found = found.sort((a, b) => a.name.localeCompare(b.name));
    return this.found;
  }

  /** A found run as the catalog holds it: its checkpoints' paths are their s3:// addresses. */
  scanned(found: FoundInPlace): ScannedRun {
    const run = scannedInPlace(found, this.pins, this.verifications);
    return { ...run, checkpoints: run.checkpoints.map((c) => ({ ...c, info: { ...c.info, path: shownPath(c.info.path) } })) };
  }

  /** The run found under `name` at the last scan. */
  run(name: string): FoundInPlace | undefined {
    return this.found.find((f) => f.name === name);
  }
}
