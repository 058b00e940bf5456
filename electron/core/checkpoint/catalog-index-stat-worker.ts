// Fills groups of paths to stat (catalog-index-stat.ts) beside the thread that queued them, in the
// order they come, writing their identities into the tables they share; says when it is done with
// each (filled, or already claimed by the other thread).
import { parentPort } from 'node:worker_threads';
import { fillIfFree } from './catalog-index-stat-fill.js';

// Checked by hand, not with zod: importing zod would double this worker's start, which is what it is here to save.
parentPort?.on('message', (group: unknown) => {
  const { paths, suffixes, out, state } = (group ?? {}) as { paths?: unknown; suffixes?: unknown; out?: unknown; state?: unknown };
  // No path holds a NUL (no file system allows one), so a group comes as one string: one copy, not thousands.
  const list = typeof paths === 'string' ? paths.split('\0') : [];
  const each = Array.isArray(suffixes) && suffixes.length > 0 && suffixes.every((s) => typeof s === 'string') ? (suffixes as string[]) : null;
  if (each && out instanceof Float64Array && out.length === list.length * each.length * 4 && state instanceof Int32Array && state.length === 1)
    fillIfFree(list, each, out, state);
  parentPort?.postMessage('done');
});
