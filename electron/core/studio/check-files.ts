// The cheap half of Verify, for checkpoints someone is looking at: each one's manifest read again
// and its files stat'ed (present, with the sizes the manifest wrote; no hashing), so a file
// deleted after the listing (an optimizer file removed by hand, a copy cut short) shows as
// damaged without anyone pressing Verify. Listing does the same stats when it scans a folder, but
// a change inside a checkpoint's folder reaches no watcher (they watch the runs' folders, not the
// 100,000 checkpoints' ones), and a catalog read from its index stats nothing: the renderer asks
// here for the rows in view and the checkpoint it shows, so the cost follows what is looked at.
import path from 'node:path';
import type { CheckpointInfo } from '../../contract.js';
import type { CheckpointStore } from '../checkpoint/store.js';

export async function checkFiles(store: CheckpointStore, ids: readonly string[]): Promise<CheckpointInfo[]> {
  const checked: CheckpointInfo[] = [];
  for (const id of new Set(ids)) {
    const before = store.catalog.get(id);
    if (!before) continue;
    // Another program's folder read in place is re-read by its own watcher and quiet period.
    if (!store.catalog.isInPlace(before.run)) await store.catalog.refreshCheckpoint(before.run, path.basename(before.path));
    const after = store.catalog.get(id);
    if (after) checked.push(after);
  }
  return checked;
}
