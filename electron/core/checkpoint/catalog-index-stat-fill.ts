// Stats paths into a shared table of identities, for the index's check: the part that both this
// thread and the stat worker run (catalog-index-stat.ts). It imports nothing but node:fs, so that
// the worker starts in a few milliseconds.
import { statSync } from 'node:fs';

/** Paths a thread claims at a time: small enough that neither waits long for the other's last, big enough that claiming costs nothing. */
export const STAT_CHUNK = 512;

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
 * The control of one batch shared by the threads stating it: [0] the next chunk to claim, [1] how
 * many chunks are done, then one flag per chunk, set once it is filled (what a thread left half
 * done when it died is thus known, and filled again by the other).
 */
export function controlFor(paths: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer((2 + Math.ceil(paths / STAT_CHUNK)) * 4));
}

/** Claims chunks of the batch and fills them until none is left; any thread may run this at the same time as another. */
export function claimChunks(paths: readonly string[], out: Float64Array, control: Int32Array): void {
  const chunks = control.length - 2;
  for (let chunk = Atomics.add(control, 0, 1); chunk < chunks; chunk = Atomics.add(control, 0, 1)) {
    fillIdentities(paths, out, chunk * STAT_CHUNK, Math.min(paths.length, (chunk + 1) * STAT_CHUNK));
    Atomics.store(control, 2 + chunk, 1);
    Atomics.add(control, 1, 1);
  }
}
