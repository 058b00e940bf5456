// Opening a workspace: create it if needed, and clear what crashed writers left behind.
import { mkdir, readdir, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { TMP_PREFIX, isHiddenName } from './layout.js';
import { liveLockHolder } from './run-lock.js';

export interface PreparedWorkspace {
  /** The workspace's real path: every later containment check compares against it. */
  readonly root: string;
  /** Temporary folders and files removed because no live writer owns them. */
  readonly removed: readonly string[];
}

const STALE_LOCK_ASIDE = /^\.lock\.stale-/;

export async function prepareWorkspace(dir: string): Promise<PreparedWorkspace> {
  await mkdir(dir, { recursive: true });
  const root = await realpath(dir);
  const removed: string[] = [];
  const clean = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(TMP_PREFIX) || STALE_LOCK_ASIDE.test(entry.name)) {
        const target = path.join(folder, entry.name);
        await rm(target, { recursive: true, force: true });
        removed.push(target);
      }
    }
  };
  await clean(root);
  await clean(path.join(root, '.studio'));
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || isHiddenName(entry.name)) continue;
    const runDir = path.join(root, entry.name);
    // A live writer's .tmp-* folder is a checkpoint in flight, not debris.
    if ((await liveLockHolder(runDir).catch(() => null)) !== null) continue;
    await clean(runDir);
  }
  return { root, removed };
}
