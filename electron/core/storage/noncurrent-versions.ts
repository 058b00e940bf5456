// Keys a writer rewrites in place (its lease generation every third of a lease, a run's index after
// every commit) would, in a bucket with versioning on, keep every past version for ever: thousands
// of copies nobody can see or restore. After such a rewrite the writer drops the older versions of
// that one key. It keeps the newest real version and everything newer (a delete marker another
// process put there since, by trash or by hand), so nothing a listing or an undo could need goes.
import { isVersionedStorage, type Storage, type StoredVersion, type VersionedStorage } from './storage.js';

/** How many rewrites of a key may pile up before they are dropped: one LIST and one DELETE per this many writes. */
export const NONCURRENT_KEPT = 8;

const versioningOf = new WeakMap<Storage, Promise<boolean>>();

function versioned(storage: VersionedStorage): Promise<boolean> {
  let known = versioningOf.get(storage);
  if (!known) {
    known = storage.versioning().then(
      (state) => state === 'enabled',
      () => false,
    );
    versioningOf.set(storage, known);
  }
  return known;
}

/** The versions of `key` to drop: all older than its newest version that is not a delete marker. */
export function olderVersions(newestFirst: readonly StoredVersion[]): StoredVersion[] {
  const newestReal = newestFirst.findIndex((v) => !v.deleteMarker);
  return newestReal < 0 ? [] : newestFirst.slice(newestReal + 1);
}

/** Drops the past versions of a key this process just rewrote, in a versioned bucket; elsewhere nothing. Never throws: a failure only leaves them for next time. */
export async function dropOlderVersions(storage: Storage, key: string): Promise<number> {
  if (!isVersionedStorage(storage) || !(await versioned(storage))) return 0;
  try {
    const versions: StoredVersion[] = [];
    for await (const version of storage.listVersions(key)) if (version.key === key) versions.push(version);
    const older = olderVersions(versions);
    if (older.length > 0) await storage.removeVersions(older.map((v) => ({ key: v.key, versionId: v.versionId })));
    return older.length;
  } catch {
    return 0;
  }
}

/** Counts a writer's rewrites per key and drops the past versions every NONCURRENT_KEPT of them. */
export class RewriteCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly storage: Storage) {}

  async rewrote(key: string): Promise<void> {
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count % NONCURRENT_KEPT);
    if (count >= NONCURRENT_KEPT) await dropOlderVersions(this.storage, key);
  }
}
