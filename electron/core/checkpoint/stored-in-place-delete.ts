// Deleting another program's checkpoints from a workspace in S3 (issue 18), as on disk
// (in-place-changes.ts): each checkpoint's own objects (a TensorFlow group's index, shards and
// .meta; a Trainer's `checkpoint-N/` whole; a loose file) go to the store's trash, the files its
// layout says must change beside them (TensorFlow's state file) are rewritten, and undo puts both
// back. Judged on the listing just taken: its pins, its children, and whether the folder has been
// quiet (a live writer's event file grows). Nothing outside the run's folder, and no object of it
// that is not the checkpoint's, is named.
import type { CheckpointInfo } from '../../contract.js';
import { RefusedError } from '../base/errors.js';
import { shownPath } from '../storage/file-access.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import type { InPlaceCheckpoint } from './in-place.js';
import type { FoundInPlace } from './in-place-scan.js';
import { protectionsOf, refusalFor } from './protection.js';
import { isUsable } from './catalog-table.js';
import type { StoredCatalog } from './stored-catalog.js';
import type { StoredRewrite } from './stored-trash-journal.js';
import type { StoredTrashTarget } from './stored-trash.js';

export interface InPlaceDeleteGuards {
  /** How long the folder must have been quiet (0: not checked). */
  readonly quietMs: number;
  /** The names pinned in a run read in place (its records in `.studio/`). */
  readonly pinned: (run: string) => ReadonlySet<string>;
}

/** The run's folder as a key prefix ('' for the workspace itself, else ending in '/'). */
export function folderKeyOf(storage: Storage, found: FoundInPlace): string {
  const root = shownPath(storage.address).replace(/\/+$/, '');
  const dir = shownPath(found.dir).replace(/\/+$/, '');
  if (dir === root) return '';
  if (!dir.startsWith(`${root}/`)) throw new RefusedError(dir, `is outside the workspace ${root}; nothing there is changed`);
  return `${dir.slice(root.length + 1)}/`;
}

function commonPrefix(keys: readonly string[]): string {
  let prefix = keys[0] ?? '';
  for (const key of keys) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/** TensorFlow's index says a group is there (its readers open it first); otherwise a sharded index, else the first file. */
function markerOf(objects: readonly StoredObject[]): string {
  const keys = objects.map((o) => o.key).sort();
  return keys.find((k) => k.endsWith('.index')) ?? keys.find((k) => k.endsWith('.index.json')) ?? (keys[0] as string);
}

async function below(storage: Storage, prefix: string): Promise<StoredObject[]> {
  const found: StoredObject[] = [];
  for await (const object of storage.list(prefix)) found.push(object);
  return found;
}

/** A checkpoint's own objects, each listed now: a folder of its own whole, else exactly its files. */
async function objectsOf(
  storage: Storage,
  folderKey: string,
  checkpoint: InPlaceCheckpoint,
  direct: ReadonlyMap<string, StoredObject>,
): Promise<StoredObject[]> {
  if (checkpoint.folder !== null) return below(storage, `${folderKey}${checkpoint.folder}/`);
  return checkpoint.files.map((file) => {
    const key = `${folderKey}${file.name}`;
    const object = direct.get(key);
    if (!object) throw new RefusedError(storage.locate(key), 'is not there any more; nothing was changed');
    return object;
  });
}

/** Refuses while another program may be writing the folder: one of its objects changed less than `quietMs` ago. */
export function assertQuiet(
  storage: Storage,
  where: string,
  folderKey: string,
  objects: readonly StoredObject[],
  quietMs: number,
  rewritten: ReadonlySet<string>,
): void {
  if (quietMs <= 0) return;
  // The state file is checked otherwise (it must hold what the rewrite was computed from), and our own rewrite of it is no writer's.
  const newest = objects.filter((o) => !rewritten.has(o.key)).reduce<StoredObject | null>((a, o) => (a === null || o.modifiedMs > a.modifiedMs ? o : a), null);
  const now = storage.clock();
  if (newest && now - newest.modifiedMs < quietMs) {
    const ago = Math.max(0, Math.round((now - newest.modifiedMs) / 1000));
    throw new RefusedError(
      where,
      `busy: ${newest.key.slice(folderKey.length)} changed ${ago} s ago, so another program may be writing here; nothing was changed (try again once it has been quiet for ${Math.round(quietMs / 1000)} s)`,
    );
  }
}

/** One run's chosen checkpoints as trash targets, with the rewrite of what changes beside them. */
async function runTargets(
  storage: Storage,
  catalog: StoredCatalog,
  chosen: readonly CheckpointInfo[],
  guards: InPlaceDeleteGuards,
): Promise<StoredTrashTarget[]> {
  const first = chosen[0] as CheckpointInfo;
  const reading = catalog.inPlaceRun(first.run);
  if (!reading) throw new RefusedError(first.path, 'its folder no longer holds this run (it changed since it was listed); nothing was changed');
  const { found, layouts } = reading;
  const pinned = guards.pinned(first.run);
  for (const checkpoint of chosen) {
    const protection = protectionsOf({
      run: first.run,
      pinned: pinned.has(checkpoint.source?.name ?? ''),
      writer: null,
      children: catalog.childrenOf(first.run, checkpoint.step),
    })[0];
    if (protection) throw new RefusedError(checkpoint.path, refusalFor(protection));
  }
  const folderKey = folderKeyOf(storage, found);
  const names = chosen.map((c) => c.source?.name ?? '');
  const rewrites: StoredRewrite[] = (await layouts.rewritesForDelete(found.dir, found.run, names)).map((r) => ({
    key: `${folderKey}${r.name}`,
    before: r.before,
    after: r.after,
  }));
  const direct = new Map((await storage.children(folderKey)).objects.map((o) => [o.key, o]));
  const targets: StoredTrashTarget[] = [];
  const touched: StoredObject[] = [...direct.values()];
  for (const info of chosen) {
    const checkpoint = found.run.checkpoints.find((c) => c.name === info.source?.name);
    if (!checkpoint) throw new RefusedError(info.path, 'is no longer in its folder (it changed since it was listed); nothing was changed');
    const objects = await objectsOf(storage, folderKey, checkpoint, direct);
    if (objects.length === 0) throw new RefusedError(info.path, 'has no objects left; nothing was changed');
    touched.push(...objects);
    const prefix = checkpoint.folder !== null ? `${folderKey}${checkpoint.folder}/` : commonPrefix(objects.map((o) => o.key));
    const origin = { dir: folderKey.replace(/\/$/, ''), prefix, marker: markerOf(objects), checkpointId: info.id, originalPath: info.id, rewrites };
    targets.push({ checkpointId: info.id, run: info.run, step: info.step, folder: prefix, bytes: info.bytes, inPlace: { origin, objects } });
  }
  assertQuiet(storage, shownPath(found.dir), folderKey, touched, guards.quietMs, new Set(rewrites.map((r) => r.key)));
  return targets;
}

/** The trash targets of checkpoints read in place, folder by folder; changes nothing. */
export async function inPlaceTargets(
  storage: Storage,
  catalog: StoredCatalog,
  checkpoints: readonly CheckpointInfo[],
  guards: InPlaceDeleteGuards,
): Promise<StoredTrashTarget[]> {
  const byRun = new Map<string, CheckpointInfo[]>();
  for (const checkpoint of checkpoints) byRun.set(checkpoint.run, [...(byRun.get(checkpoint.run) ?? []), checkpoint]);
  const targets: StoredTrashTarget[] = [];
  for (const chosen of byRun.values()) targets.push(...(await runTargets(storage, catalog, chosen, guards)));
  return targets;
}

/** As on disk (store.ts): a folder's newest usable checkpoint, and any written since `recentMs`, are kept by retention whatever the policy says. */
export function inPlaceKeeps(checkpoints: readonly CheckpointInfo[], recentMs: number): Map<string, string> {
  const reasons = new Map<string, string>();
  const newest = checkpoints.filter(isUsable).at(-1);
  if (newest) reasons.set(newest.id, 'the newest group of a folder another program writes');
  for (const c of checkpoints)
    if (c.status === 'incomplete' || Date.parse(c.createdAt ?? '') > recentMs) reasons.set(c.id, reasons.get(c.id) ?? 'still being written');
  return reasons;
}
