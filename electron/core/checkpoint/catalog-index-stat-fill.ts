// Stats paths into a shared table of identities, for the index's check: the part that both this
// thread and the stat worker run (catalog-index-stat.ts). It imports nothing but node:fs, so that
// the worker starts in a few milliseconds.
import { statSync } from 'node:fs';

/** Fills `out` from index `at` (in paths) with the identities of `paths`: four numbers each (ino, size, mtimeMs, ctimeMs), NaN where nothing is or it cannot be looked at. */
export function fillIdentities(paths: readonly string[], out: Float64Array, at = 0, end = paths.length): void {
  for (let i = at; i < end; i += 1) {
    let stats;
    try {
      stats = statSync(paths[i] as string, { throwIfNoEntry: false });
    } catch {
      stats = undefined;
    }
    const k = i * 4;
    if (stats) {
      out[k] = stats.ino;
      out[k + 1] = stats.size;
      out[k + 2] = stats.mtimeMs;
      out[k + 3] = stats.ctimeMs;
    } else out.fill(NaN, k, k + 4);
  }
}

/**
 * A group's state, one Int32 in shared memory: free, claimed by the thread filling it, filled.
 * Either thread claims a free group; what a thread that died had claimed is known, and filled by
 * the other.
 */
export const FREE = 0;
export const CLAIMED = 1;
export const FILLED = 2;

/** Fills a group of paths, unless another thread claimed it first; whether this one did. */
export function fillIfFree(paths: readonly string[], out: Float64Array, state: Int32Array): boolean {
  if (Atomics.compareExchange(state, 0, FREE, CLAIMED) !== FREE) return false;
  fillIdentities(paths, out);
  Atomics.store(state, 0, FILLED);
  return true;
}
