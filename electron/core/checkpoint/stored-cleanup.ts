// What a writer killed mid-save leaves on an object store: objects of a checkpoint folder that
// never got its manifest, and multipart uploads never completed (they hold storage and are
// listed nowhere else). Removed only when they are surely a dead writer's: the run's lease has
// run out on the store's own clock (no writer of the run is alive, read again after the objects
// were seen), and it carries our writer's mark (WRITER_MARK). An upload in progress shows no metadata (S3 has no
// call for it): for it, the mark is its key, a checkpoint file of a run of ours whose lock was
// taken. Anything else is left, and said why.
import { readLease } from '../storage/lease-lock.js';
import type { PendingUpload, UploadsStorage } from '../storage/storage.js';
import { LOCK_FILE, parseCheckpointDirName, runNameProblem } from './layout.js';
import { WRITER_MARK } from './storage-writer.js';
import { listStoredWorkspace } from './stored-listing.js';

export interface CleanupItem {
  readonly key: string;
  /** For a multipart upload: its id. */
  readonly uploadId?: string;
  /** Why it was removed, or why it was left. */
  readonly reason: string;
}

export interface CleanupResult {
  readonly removed: CleanupItem[];
  readonly left: CleanupItem[];
}

export interface CleanupOptions {
  /** Where a run's writer lease lives; `<run>/.lock/` (the trainer's). */
  readonly leasePrefix?: (run: string) => string;
  /** For a lease that does not say its own length. */
  readonly leaseMs?: number;
}

/** A run's writer: gone (its lease ran out, or its process died, or it released it), or why not. */
type RunState = { readonly dead: true } | { readonly dead: false; readonly why: string };

/** The run of a key shaped `<run>/ckpt-<step>/<file>`, or null. */
function checkpointFileRun(key: string): string | null {
  const [run, folder, ...rest] = key.split('/');
  if (run === undefined || folder === undefined || rest.length === 0 || rest.some((p) => p === '')) return null;
  return runNameProblem(run) === null && parseCheckpointDirName(folder) !== null ? run : null;
}

/**
 * The run's writer as the store says now. There is no conditional delete: what closes the race
 * with a writer taking the run over is that it takes the lock before it writes anything, so
 * objects seen before a read that still finds the lease dead were not written by a new writer.
 */
async function writerState(storage: UploadsStorage, prefix: string, leaseMs: number | undefined): Promise<RunState> {
  const lease = await readLease(storage, prefix, leaseMs === undefined ? {} : { leaseMs });
  if (lease === null) return { dead: false, why: 'its run’s writer lock was never taken, so no writer of ours made it; left alone' };
  if (!lease.live) return { dead: true };
  const by = lease.holder ? `process ${lease.holder.pid} on ${lease.holder.host}` : 'a writer';
  return { dead: false, why: `its run is being written by ${by} (lease live): a save in progress; left alone` };
}

/** A checkpoint folder never committed: our marked objects go once its writer is gone; others stay. */
async function cleanFolder(storage: UploadsStorage, folder: string, writer: () => Promise<RunState>, out: CleanupResult): Promise<void> {
  const before = await writer();
  const marked: { key: string; mark: string }[] = [];
  for await (const object of storage.list(folder)) {
    if (!before.dead) {
      out.left.push({ key: object.key, reason: before.why });
      continue;
    }
    const head = await storage.head(object.key);
    const mark = head?.metadata[WRITER_MARK];
    if (head === null) continue;
    if (mark === undefined) out.left.push({ key: object.key, reason: 'not marked as written by Checkpoint Studio; left alone' });
    else marked.push({ key: object.key, mark });
  }
  if (marked.length === 0) return;
  const now = await writer();
  if (!now.dead) {
    out.left.push(...marked.map((m) => ({ key: m.key, reason: now.why })));
    return;
  }
  await storage.remove(marked.map((m) => m.key));
  out.removed.push(...marked.map((m) => ({ key: m.key, reason: `never committed, and its writer (${m.mark}) is gone` })));
}

/** Multipart uploads never completed: aborted when they are checkpoint files of a run whose writer is gone. */
async function cleanUploads(storage: UploadsStorage, writer: (run: string) => Promise<RunState>, out: CleanupResult): Promise<void> {
  const byRun = new Map<string, PendingUpload[]>();
  for await (const upload of storage.listUploads('')) {
    const run = checkpointFileRun(upload.key);
    if (run === null) out.left.push({ key: upload.key, uploadId: upload.uploadId, reason: 'not a checkpoint file of a run of ours; left alone' });
    else byRun.set(run, [...(byRun.get(run) ?? []), upload]);
  }
  for (const [run, pending] of byRun) {
    const state = await writer(run);
    for (const upload of pending) {
      const item = { key: upload.key, uploadId: upload.uploadId };
      if (!state.dead) {
        out.left.push({ ...item, reason: state.why });
        continue;
      }
      await storage.abortUpload(upload.key, upload.uploadId);
      out.removed.push({ ...item, reason: 'an upload never completed, and its run’s writer is gone' });
    }
  }
}

export async function cleanupAbandonedWrites(storage: UploadsStorage, options: CleanupOptions = {}): Promise<CleanupResult> {
  const leasePrefix = options.leasePrefix ?? ((run: string) => `${run}/${LOCK_FILE}/`);
  const writer = (run: string): Promise<RunState> => writerState(storage, leasePrefix(run), options.leaseMs);
  const out = { removed: [] as CleanupItem[], left: [] as CleanupItem[] };
  const listing = await listStoredWorkspace(storage, { writeIndex: false });
  for (const run of listing.runs) for (const folder of run.uncommitted) await cleanFolder(storage, folder, () => writer(run.name), out);
  await cleanUploads(storage, writer, out);
  return out;
}
