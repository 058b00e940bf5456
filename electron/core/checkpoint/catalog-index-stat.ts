// The identities of many files and folders at once, for the index's check (catalog-index-check.ts):
// 200,000 stats at 100,000 checkpoints are most of an open from the index. A big batch is split
// with a worker thread, which stats its half while this thread stats the other.
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { z } from 'zod';
import { startModuleWorker } from '../base/module-worker.js';
import type { Identity } from './catalog-index.js';

/** Below this many paths, a worker's start (tens of ms) costs more than it saves. */
const WORKER_MIN_PATHS = 20_000;

/** Identities, four numbers per path in order (ino, size, mtimeMs, ctimeMs); NaN where nothing is, or it cannot be looked at. */
export type Identities = Float64Array;

/** Fills `out` from index `at` (in paths) with the identities of `paths`. */
export function fillIdentities(paths: readonly string[], out: Float64Array, at = 0): void {
  for (let i = 0; i < paths.length; i += 1) {
    let stats;
    try {
      stats = statSync(paths[i] as string, { throwIfNoEntry: false });
    } catch {
      stats = undefined;
    }
    const k = (at + i) * 4;
    if (stats) {
      out[k] = stats.ino;
      out[k + 1] = stats.size;
      out[k + 2] = stats.mtimeMs;
      out[k + 3] = stats.ctimeMs;
    } else out.fill(NaN, k, k + 4);
  }
}

/** Whether the identity at `index` is `expected` (a NaN never equals anything). */
export function identityIs(identities: Identities, index: number, expected: Identity): boolean {
  const k = index * 4;
  return identities[k] === expected[0] && identities[k + 1] === expected[1] && identities[k + 2] === expected[2] && identities[k + 3] === expected[3];
}

const AnswerSchema = z.instanceof(Float64Array);

export async function identitiesOf(paths: readonly string[]): Promise<Identities> {
  const out = new Float64Array(paths.length * 4);
  if (paths.length < WORKER_MIN_PATHS) {
    fillIdentities(paths, out);
    return out;
  }
  const half = Math.floor(paths.length / 2);
  const theirs = paths.slice(half);
  let worker;
  try {
    worker = startModuleWorker('catalog-index-stat-worker', import.meta.url, theirs);
  } catch {
    fillIdentities(paths, out);
    return out;
  }
  const answer = Promise.race([once(worker, 'message'), once(worker, 'error').then(([error]) => Promise.reject(error))]);
  try {
    fillIdentities(paths.slice(0, half), out);
    const parsed = AnswerSchema.safeParse(((await answer) as unknown[])[0]);
    if (parsed.success && parsed.data.length === theirs.length * 4) out.set(parsed.data, half * 4);
    else fillIdentities(theirs, out, half);
  } catch {
    // A worker that could not start or failed: this thread looks at its half too.
    fillIdentities(theirs, out, half);
  } finally {
    await worker.terminate();
  }
  return out;
}
