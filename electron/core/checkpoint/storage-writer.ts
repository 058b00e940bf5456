// Writes one checkpoint into storage that has no rename (S3). The manifest is the commit: the
// tensor files go up first (parallel multipart uploads straight from the training snapshot, so
// memory stays bounded by the parts in flight), and only when both are complete is the manifest
// created, once, with a conditional create. A reader lists a checkpoint only by its manifest, so a
// writer killed at any point before leaves nothing listed; what it did upload carries our marker
// (the writer's lease) for a later cleanup. A committed checkpoint is never written over.
import { RefusedError } from '../base/errors.js';
import type { LeaseLock } from '../storage/lease-lock.js';
import type { Storage } from '../storage/storage.js';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE, checkpointDirName } from './layout.js';
import type { Manifest } from './manifest.js';
import { type KeptRunIndex, recordInRunIndex } from './stored-listing.js';
import { RewriteCounter } from '../storage/noncurrent-versions.js';
import { type TrainingState, type WriterStep, buildManifest, encodeTensorFile } from './writer.js';

/** User metadata on every object a writer puts up before its commit: who, under which lease. */
export const WRITER_MARK = 'checkpoint-studio-writer';

export interface StoredCheckpoint {
  /** The checkpoint's folder key, ending in '/'. */
  readonly key: string;
  readonly manifest: Manifest;
  readonly bytes: number;
}

/** The run index each lease's holder last wrote (it is the index's only writer while it holds the lease). */
const keptIndexes = new WeakMap<LeaseLock, KeptRunIndex>();
function indexKept(lease: LeaseLock, storage: Storage): KeptRunIndex {
  let kept = keptIndexes.get(lease);
  if (kept === undefined) keptIndexes.set(lease, (kept = { rewrites: new RewriteCounter(storage) }));
  return kept;
}

const STEP_TAKEN = 'a checkpoint with this step already exists; checkpoints are never overwritten';

/**
 * What a commit checks before its tensor objects may appear (the lease still held, the step still
 * free), asked beside the uploads: their parts go up meanwhile, invisible until completed.
 */
class Gate {
  private refusal: { readonly error: unknown } | null = null;

  constructor(readonly passed: Promise<unknown>) {
    passed.catch((error: unknown) => {
      this.refusal = { error };
    });
  }

  /**
   * The file's chunks, then a wait for the checks before the stream ends: its last part and its
   * completion (the moment the object appears or replaces one) come only after they pass. A
   * refusal fails the stream, at the next chunk or at the end, and the upload is aborted.
   */
  async *chunks(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
    for (const chunk of chunks) {
      if (this.refusal) throw this.refusal.error;
      yield chunk;
    }
    await this.passed;
  }
}

/** Creates the object once: its tag where the store tells it, false when the key was taken. */
async function createOnce(storage: Storage, key: string, bytes: Uint8Array): Promise<{ tag: string | null } | false> {
  if (storage.writeTagged) return storage.writeTagged(key, bytes, { exclusive: true });
  return (await storage.write(key, bytes, { exclusive: true })) && { tag: null };
}

/**
 * Commits `state` as `<runKey>ckpt-<step>/` under the lease the caller holds on the run. The lease
 * is checked, and the step found free, before either tensor object can appear (the uploads' parts
 * go up meanwhile, invisible until completed), and the lease again just before the commit: a
 * writer that lost it replaces nothing and commits nothing.
 */
export async function commitCheckpoint(
  storage: Storage,
  lease: LeaseLock,
  runKey: string,
  run: string,
  state: TrainingState,
  options: { afterStep?: (step: WriterStep) => void | Promise<void> } = {},
): Promise<StoredCheckpoint> {
  const after = options.afterStep ?? (() => undefined);
  const folder = `${runKey}${checkpointDirName(state.step)}/`;
  // Two round trips that would otherwise come before the first byte: run beside the uploads, which
  // wait for them only before completing.
  const gate = new Gate(
    Promise.all([
      lease.check(),
      storage.stat(`${folder}${MANIFEST_FILE}`).then((committed) => {
        if (committed !== null) throw new RefusedError(storage.locate(folder), STEP_TAKEN);
      }),
    ]),
  );
  const mark = { [WRITER_MARK]: `${lease.holder.host}:${lease.holder.pid}:${lease.holder.token}` };
  const files = ([MODEL_FILE, OPTIMIZER_FILE] as const).map((name) =>
    encodeTensorFile(storage.locate(`${folder}${name}`), name, name === MODEL_FILE ? state.model : state.optimizer),
  );
  // Both uploads and both checksum passes run together; the CRCs yield between tensors.
  const checksums = Promise.all(files.map((f) => f.entries()));
  const uploads = files.map((f) => storage.upload(`${folder}${f.name}`, gate.chunks(f.chunks), { metadata: mark }));
  // A refusal (lease taken over, step taken) is what the caller is told, not the uploads it failed.
  const failed = (await Promise.allSettled([gate.passed, checksums, ...uploads])).find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const entries = await checksums;
  await after('model-written');
  await after('optimizer-written');
  const manifest = buildManifest(
    run,
    state,
    files.map((f, i) => ({ name: f.name, bytes: f.bytes, entries: entries[i] ?? [] })),
  );
  const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  await lease.check();
  const created = await createOnce(storage, `${folder}${MANIFEST_FILE}`, manifestBytes);
  if (created === false) throw new RefusedError(storage.locate(folder), STEP_TAKEN);
  await after('manifest-written');
  await recordInRunIndex(storage, runKey, folder, manifest, indexKept(lease, storage), created.tag);
  return { key: folder, manifest, bytes: files.reduce((sum, f) => sum + f.bytes, 0) + manifestBytes.length };
}
