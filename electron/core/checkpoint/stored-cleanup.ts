// What a writer killed mid-save leaves on an object store: objects of a checkpoint folder that
// never got its manifest, and multipart uploads never completed (they hold storage and are
// listed nowhere else). Removed only when they are surely a dead writer's: the run's lease has
// run out on the store's own clock (no writer of the run is alive, read again after the objects
// were seen), and it carries our writer's mark (WRITER_MARK). An upload in progress shows no metadata (S3 has no
// call for it): for it, the mark is its key, a checkpoint file of a run of ours whose lock was
// taken. A server-side copy into the trash that a killed deleter left unfinished goes once its
// batch no longer needs it (done, or gone). Anything else is left, and said why.
import { readLease } from '../storage/lease-lock.js';
import type { PendingUpload, UploadsStorage } from '../storage/storage.js';
import { NotFoundError } from '../base/errors.js';
import { LOCK_FILE, TRASH_DIR, parseCheckpointDirName, runNameProblem } from './layout.js';
import { WRITER_MARK } from './storage-writer.js';
import { listStoredWorkspace } from './stored-listing.js';
import { journalKey, parseJournal } from './stored-trash-journal.js';

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

/**
 * A copy into the trash left unfinished (its deleter was killed mid multipart copy): it goes once
 * its batch is done (every copy it needs is complete) or gone (rolled back, or purged).
 */
async function trashBatchState(storage: UploadsStorage, batch: string): Promise<RunState> {
  const key = journalKey(batch);
  let text: string;
  try {
    if ((await storage.stat(key)) === null) return { dead: true };
    text = new TextDecoder().decode(await storage.read(key));
  } catch (error) {
    if (error instanceof NotFoundError) return { dead: true };
    throw error;
  }
  const parsed = parseJournal(key, text);
  if (!parsed.ok) return { dead: false, why: `its deletion batch's journal cannot be read (${parsed.problem}); left alone` };
  if (parsed.journal.state === 'done') return { dead: true };
  return { dead: false, why: 'its deletion batch is under way (or is finished the next time the trash is opened); left for now' };
}

/** The batch of a key under `.trash/<batch>/`, or null. */
function trashCopyBatch(key: string): string | null {
  const [top, batch, ...rest] = key.split('/');
  return top === TRASH_DIR && batch !== undefined && /^\d{12}$/.test(batch) && rest.length > 0 ? batch : null;
}

/**
 * Multipart uploads never completed: aborted when they are checkpoint files of a run whose writer
 * is gone, or trash copies of a batch that no longer needs them.
 */
async function cleanUploads(storage: UploadsStorage, writer: (run: string) => Promise<RunState>, out: CleanupResult): Promise<void> {
  const byOwner = new Map<string, { state: () => Promise<RunState>; why: string; uploads: PendingUpload[] }>();
  for await (const upload of storage.listUploads('')) {
    const run = checkpointFileRun(upload.key);
    const batch = run === null ? trashCopyBatch(upload.key) : null;
    if (run === null && batch === null) {
      out.left.push({ key: upload.key, uploadId: upload.uploadId, reason: 'not a checkpoint file of a run of ours; left alone' });
      continue;
    }
    const owner = run !== null ? `run ${run}` : `batch ${batch}`;
    const known = byOwner.get(owner) ?? {
      state: run !== null ? () => writer(run) : () => trashBatchState(storage, batch ?? ''),
      why: run !== null ? 'an upload never completed, and its run’s writer is gone' : 'a copy into the trash never completed, and its batch no longer needs it',
      uploads: [],
    };
    known.uploads.push(upload);
    byOwner.set(owner, known);
  }
  for (const { state: read, why, uploads } of byOwner.values()) {
    const state = await read();
    for (const upload of uploads) {
      const item = { key: upload.key, uploadId: upload.uploadId };
      if (!state.dead) {
        out.left.push({ ...item, reason: state.why });
        continue;
      }
      await storage.abortUpload(upload.key, upload.uploadId);
      out.removed.push({ ...item, reason: why });
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
