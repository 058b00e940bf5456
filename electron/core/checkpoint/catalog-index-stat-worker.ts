// Takes chunks of a big batch of paths to stat (catalog-index-stat.ts) beside the thread that asked,
// writing their identities into the table they share, and says when it has claimed its last.
import { parentPort } from 'node:worker_threads';
import { claimChunks } from './catalog-index-stat-fill.js';

// Checked by hand, not with zod: importing zod would double this worker's start, which is what it is here to save.
parentPort?.once('message', (batch: unknown) => {
  const { paths, out, control } = (batch ?? {}) as { paths?: unknown; out?: unknown; control?: unknown };
  // No path holds a NUL (no file system allows one), so the batch comes as one string: one copy, not 200,000.
  const list = typeof paths === 'string' ? paths.split('\0') : [];
  if (out instanceof Float64Array && out.length === list.length * 4 && control instanceof Int32Array) claimChunks(list, out, control);
  parentPort?.postMessage('done');
});
