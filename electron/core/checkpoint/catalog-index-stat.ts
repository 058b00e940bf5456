// The identities of many files and folders at once, for the index's check (catalog-index-check.ts):
// 200,000 stats at 100,000 checkpoints are most of an open from the index. A big batch is shared
// with a worker thread: both claim chunks of it from a shared counter until none is left, so
// whichever thread is free does the stats (this one joins once it has built what it can build
// before knowing them, catalog-index-check.ts), and the worker's start overlaps the reading of the
// records that name the paths.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../base/module-worker.js';
import { STAT_CHUNK, claimChunks, controlFor, fillIdentities } from './catalog-index-stat-fill.js';

export { fillIdentities };

/** Below this many paths, a worker's start (tens of ms) costs more than it saves. */
export const WORKER_MIN_PATHS = 20_000;

/** Identities, four numbers per path in order (ino, size, mtimeMs, ctimeMs); NaN where nothing is, or it cannot be looked at. */
export type Identities = Float64Array;

/** A worker started ahead of a batch, or null where none could start (the batch is then stated by this thread alone). */
export type StatHelper = Worker | null;

export function startStatHelper(): StatHelper {
  try {
    const worker = startModuleWorker('catalog-index-stat-worker', import.meta.url);
    // Never what keeps a process alive: each batch ends it.
    worker.unref();
    worker.on('error', () => undefined);
    return worker;
  } catch {
    return null;
  }
}

/** A batch being stated: `finish` has this thread take what is left, and resolves once every path's identity is in. */
export interface StatBatch {
  finish(): Promise<Identities>;
}

/** Starts stating `paths` with `helper` (which the batch then ends), or with none: this thread does all at `finish`. */
export function startStatBatch(paths: readonly string[], helper: StatHelper): StatBatch {
  const out = new Float64Array(new SharedArrayBuffer(paths.length * 4 * Float64Array.BYTES_PER_ELEMENT));
  const control = controlFor(paths.length);
  if (!helper || paths.length === 0) {
    if (helper) void helper.terminate();
    return { finish: async () => (claimChunks(paths, out, control), out) };
  }
  // Settles once the worker has claimed its last chunk (or will claim none: it failed, or exited).
  const helperDone = new Promise<void>((resolve) => {
    helper.once('message', () => resolve());
    helper.once('error', () => resolve());
    helper.once('exit', () => resolve());
  });
  helper.postMessage({ paths: paths.join('\0'), out, control });
  return {
    async finish() {
      claimChunks(paths, out, control);
      const chunks = control.length - 2;
      // The worker holds at most one chunk now; it says when it is done with it, or fails, or exits.
      if (Atomics.load(control, 1) < chunks) await helperDone;
      void helper.terminate();
      // Only a worker that died midway leaves a chunk it claimed unfilled: this thread fills it.
      if (Atomics.load(control, 1) < chunks)
        for (let chunk = 0; chunk < chunks; chunk += 1)
          if (Atomics.load(control, 2 + chunk) === 0) fillIdentities(paths, out, chunk * STAT_CHUNK, Math.min(paths.length, (chunk + 1) * STAT_CHUNK));
      return out;
    },
  };
}

export function identitiesOf(paths: readonly string[]): Promise<Identities> {
  return startStatBatch(paths, paths.length >= WORKER_MIN_PATHS ? startStatHelper() : null).finish();
}
