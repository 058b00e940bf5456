// Runs in a worker thread: checksums, hashes and writes one snapshot while training goes on in
// the main thread. The snapshot's buffers are transferred here, not copied. Into a folder it is
// writeCheckpoint; into S3 it is commitCheckpoint (parallel multipart uploads straight from the
// snapshot, the manifest last), and a store that cannot be reached is retried with backoff until
// it answers or the session gives the save up (a newer snapshot supersedes it, or it ends).
import { parentPort } from 'node:worker_threads';
import { RefusedError, StorageError, errorMessage } from '../../base/errors.js';
import { MANIFEST_FILE, checkpointDirName } from '../../checkpoint/layout.js';
import { parseManifest } from '../../checkpoint/manifest.js';
import { commitCheckpoint } from '../../checkpoint/storage-writer.js';
import { retryDelayMs } from '../../checkpoint/stored-run-writer.js';
import { writeCheckpoint } from '../../checkpoint/writer.js';
import { LeaseLock } from '../../storage/lease-lock.js';
import type { S3Storage } from '../../storage/s3-storage.js';
import { weightsHash } from '../engine/weights-hash.js';
import type { SaveRequest, WorkerRequest, WorkerResponse } from './checkpoint-writer-protocol.js';

/** The snapshot's memory goes back to the training thread, to be reused by the next snapshot. */
function buffersOf(request: SaveRequest): ArrayBuffer[] {
  const buffers = [...request.state.model, ...request.state.optimizer].map((t) => t.data.buffer);
  return [...new Set(buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
}

/** One client and one lease handle per workspace and lease: the lease keeps the run index it wrote. */
const storages = new Map<string, S3Storage>();
const leases = new Map<string, LeaseLock>();
const abandoned = new Set<number>();
const wakers = new Map<number, () => void>();

class AbandonedError extends Error {}

function post(response: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(response, transfer);
}

/** Waits `ms`, or less when the save is abandoned meanwhile. */
async function pause(id: number, ms: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wakers.set(id, () => {
      clearTimeout(timer);
      resolve();
    });
  });
  wakers.delete(id);
}

/**
 * After a retry finds the step committed: whether it was this save's own commit, whose answer was
 * lost when the store went away (the manifest holds this snapshot's weights hash), rather than
 * another writer's.
 */
async function committedEarlier(storage: S3Storage, runKey: string, state: SaveRequest['state']): Promise<{ dir: string; bytes: number } | null> {
  const folder = `${runKey}${checkpointDirName(state.step)}/`;
  try {
    const text = new TextDecoder().decode(await storage.read(`${folder}${MANIFEST_FILE}`));
    const manifest = parseManifest(storage.locate(`${folder}${MANIFEST_FILE}`), text);
    if (manifest.extra['weightsHash'] !== state.extra?.['weightsHash']) return null;
    const bytes = Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, text.length);
    return { dir: storage.locate(folder.slice(0, -1)), bytes };
  } catch {
    return null;
  }
}

async function commitStored(request: SaveRequest, state: SaveRequest['state']): Promise<{ dir: string; bytes: number }> {
  const target = request.target;
  if (target.kind !== 'storage') throw new Error('not a storage target');
  // The AWS SDK is loaded only by a session that saves into S3: a local one starts its worker without it.
  const storage = storages.get(target.address) ?? (await import('../../storage/open-s3.js')).openS3Storage(target.address, target.connection);
  storages.set(target.address, storage);
  const leaseKey = `${target.address}${target.lease.prefix}${target.lease.generation}`;
  const lease = leases.get(leaseKey) ?? new LeaseLock(storage, target.lease.prefix, target.lease.generation, target.lease.holder);
  leases.set(leaseKey, lease);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const committed = await commitCheckpoint(storage, lease, target.runKey, request.run, state);
      return { dir: storage.locate(committed.key.replace(/\/$/, '')), bytes: committed.bytes };
    } catch (error) {
      const earlier = attempt > 1 && error instanceof RefusedError ? await committedEarlier(storage, target.runKey, state) : null;
      if (earlier) return earlier;
      // Only an unreachable or failing store is worth another try; a refusal (the step taken, the lease lost) is final.
      if (!(error instanceof StorageError) || abandoned.has(request.id)) throw abandoned.has(request.id) ? new AbandonedError(errorMessage(error)) : error;
      const retryInMs = retryDelayMs(attempt);
      post({ id: request.id, retrying: true, error: errorMessage(error), retryInMs });
      await pause(request.id, retryInMs);
      if (abandoned.has(request.id)) throw new AbandonedError(errorMessage(error));
    }
  }
}

async function save(request: SaveRequest): Promise<void> {
  const started = performance.now();
  const buffers = buffersOf(request);
  try {
    const hash = weightsHash(request.state.model);
    const state = {
      ...request.state,
      extra: { ...(request.state.extra ?? {}), weightsHash: hash },
      cost: { ...request.cost, writeMs: performance.now() - started },
    };
    const written = request.target.kind === 'folder' ? await writeCheckpoint(request.target.runDir, request.run, state) : await commitStored(request, state);
    post({ id: request.id, ok: true, dir: written.dir, bytes: written.bytes, writeMs: performance.now() - started, weightsHash: hash, buffers }, buffers);
  } catch (error) {
    post({ id: request.id, ok: false, error: errorMessage(error), abandoned: error instanceof AbandonedError, buffers }, buffers);
  } finally {
    abandoned.delete(request.id);
  }
}

parentPort?.on('message', (request: WorkerRequest) => {
  if (request.type === 'abandon') {
    abandoned.add(request.id);
    wakers.get(request.id)?.();
    return;
  }
  void save(request);
});
