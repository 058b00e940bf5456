// Stats paths into a shared table of identities, for the index's check: the part that both this
// thread and the stat worker run (catalog-index-stat.ts). It imports nothing but node:fs, so that
// the worker starts in a few milliseconds.
import { statSync } from 'node:fs';

/** Puts the identity of what is at `target` at `out[k]`: four numbers (ino, size, mtimeMs, ctimeMs), NaN where nothing is or it cannot be looked at. */
function fillIdentity(target: string, out: Float64Array, k: number): void {
  let stats;
  try {
    stats = statSync(target, { throwIfNoEntry: false });
  } catch {
    stats = undefined;
  }
  if (stats) {
    out[k] = stats.ino;
    out[k + 1] = stats.size;
    out[k + 2] = stats.mtimeMs;
    out[k + 3] = stats.ctimeMs;
  } else out.fill(NaN, k, k + 4);
}

/**
 * Fills `out` with the identities of `paths` (from index `at` to `end`, in paths), each path
 * followed by each of `suffixes` (a folder, then its manifest: one string a path, not two): four
 * numbers per path and suffix, in that order.
 */
export function fillIdentities(paths: readonly string[], out: Float64Array, at = 0, end = paths.length, suffixes: readonly string[] = ['']): void {
  const per = suffixes.length;
  for (let i = at; i < end; i += 1) {
    const target = paths[i] as string;
    for (let j = 0; j < per; j += 1) {
      const suffix = suffixes[j] as string;
      fillIdentity(suffix === '' ? target : `${target}${suffix}`, out, (i * per + j) * 4);
    }
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
export function fillIfFree(paths: readonly string[], suffixes: readonly string[], out: Float64Array, state: Int32Array): boolean {
  if (Atomics.compareExchange(state, 0, FREE, CLAIMED) !== FREE) return false;
  fillIdentities(paths, out, 0, paths.length, suffixes);
  Atomics.store(state, 0, FILLED);
  return true;
}
