// Distributions of a run in an S3 workspace (issue 18): its checkpoints as the worker reads them
// (by ranged GETs, reaching the store as the workspace was opened), and where their figures are
// cached: in this user's cache folder, never in the bucket. Reading must not write into a bucket
// that may be read-only, shared by other readers, or billed per request; an entry is a kilobyte
// keyed by the tensor's CRC-32C and its object's ETag and size, so a cache on this machine is
// right whoever else writes the bucket, and costs nothing where the workspace lives.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessage, NotFoundError } from '../base/errors.js';
import type { StoredWorkspace } from '../checkpoint/stored-store.js';
import type { CheckpointRef } from '../distributions/checkpoint-tensor.js';
import { type CacheLocation, DISTRIBUTIONS_DIR } from '../distributions/distribution-cache.js';

const APP_DIR = 'checkpoint-studio';

/** The platform's folder for a user's caches: $XDG_CACHE_HOME or ~/.cache, ~/Library/Caches, %LOCALAPPDATA%. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  if (platform === 'win32') return path.join(env['LOCALAPPDATA'] ?? path.join(home, 'AppData', 'Local'), APP_DIR, 'Cache');
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', APP_DIR);
  const xdg = env['XDG_CACHE_HOME'];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache'), APP_DIR);
}

export function storedRefs(remote: StoredWorkspace, run: string): CheckpointRef[] {
  if (!remote.catalog.getRun(run)) throw new NotFoundError(run, `no such run in ${remote.root}`);
  return remote.catalog
    .list(run)
    .filter((c) => c.status !== 'incomplete')
    .map((c) => ({ kind: 'stored', id: c.id, step: c.step, address: remote.root, folder: `${c.id}/`, connection: remote.connection }));
}

/** This user's cache for figures read from buckets; made on first use. */
export async function machineCacheLocation(): Promise<{ location: CacheLocation | null; note: string | null }> {
  const parent = userCacheDir();
  try {
    await mkdir(parent, { recursive: true });
  } catch (error) {
    return { location: null, note: `the figures are not cached: ${parent}: ${errorMessage(error)}` };
  }
  return { location: { dir: path.join(parent, DISTRIBUTIONS_DIR), writable: true, place: 'machine' }, note: null };
}
