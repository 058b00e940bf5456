// Comparisons of two checkpoints: what the user named resolved to files here (on the thread that
// knows the workspace), the reading and arithmetic in a worker thread, one per comparison, each
// cancellable by the id its client gave it.
import { randomUUID } from 'node:crypto';
import { type CompareProgress, type CompareResult, StudioError } from '../../contract.js';
import { NotFoundError, RefusedError, UsageError } from '../base/errors.js';
import type { StoredWorkspace } from '../checkpoint/stored-store.js';
import { isS3Address, parseS3Address } from '../storage/s3-address.js';
import { compareInWorker } from '../compare/compare-in-worker.js';
import type { CompareJob } from '../compare/compare-protocol.js';
import { type TargetLocator, readInPlace } from './locate.js';

type SideJob = CompareJob['a'];

/** `best` (needing a metric) turned into the id it names; anything else as typed. */
export type SelectorResolver = (target: string) => string;

/**
 * Where a checkpoint in a bucket is, when the target names one: a checkpoint of the open S3
 * workspace (by id, selector or address), or any s3:// address (reached as the open workspace's
 * store is, else by the AWS chain's endpoint). null: the target is for the locator.
 */
function storedJob(remote: StoredWorkspace | null, target: string, resolve: SelectorResolver): SideJob | null {
  if (remote) {
    try {
      const checkpoint = remote.resolve(resolve(target));
      return { kind: 'stored', address: remote.root, folder: `${checkpoint.id}/`, connection: remote.connection, target, label: checkpoint.id };
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  if (!isS3Address(target)) return null;
  const where = parseS3Address(target);
  if (where.prefix === '') throw new UsageError(target, 'names a bucket, not a checkpoint in it (s3://bucket/workspace/run/ckpt-…)');
  return {
    kind: 'stored',
    address: `s3://${where.bucket}/`,
    folder: where.prefix,
    connection: remote?.connection ?? {},
    target,
    label: target.replace(/\/+$/, ''),
  };
}

async function sideJob(locator: TargetLocator, target: string, resolve: SelectorResolver, remote: StoredWorkspace | null): Promise<SideJob> {
  const stored = storedJob(remote, target, resolve);
  if (stored) return stored;
  const located = readInPlace(await locator.locate(resolve(target)));
  switch (located.kind) {
    case 'foreign':
      return { kind: 'foreign', format: located.reader.format, path: located.path, target, label: located.path };
    case 'checkpoint':
      return { kind: 'ours', dir: located.checkpoint.path, target, label: located.checkpoint.id };
    case 'folder':
      return { kind: 'ours', dir: located.path, target, label: located.path };
    case 'file':
      throw new RefusedError(
        located.path,
        'is not a checkpoint this program reads (a checkpoint folder, .safetensors, TensorFlow prefix or folder, model.json, .h5 or .keras)',
      );
  }
}

export class Comparisons {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly progress: (progress: CompareProgress) => void) {}

  async run(
    locator: TargetLocator,
    params: { a: string; b: string; stoppedBelow: number; compareId?: string | undefined },
    resolve: SelectorResolver = (target) => target,
    remote: StoredWorkspace | null = null,
  ): Promise<CompareResult> {
    const compareId = params.compareId ?? randomUUID();
    if (this.running.has(compareId)) throw new StudioError('usage', `a comparison with the id ${compareId} is already running`);
    const controller = new AbortController();
    this.running.set(compareId, controller);
    try {
      const a = await sideJob(locator, params.a, resolve, remote);
      const b = await sideJob(locator, params.b, resolve, remote);
      return await compareInWorker(
        { a, b, stoppedBelow: params.stoppedBelow },
        { signal: controller.signal, onProgress: (done, total, tensor) => this.progress({ compareId, done, total, tensor }) },
      );
    } finally {
      this.running.delete(compareId);
    }
  }

  cancel(compareId: string): boolean {
    const controller = this.running.get(compareId);
    controller?.abort();
    return controller !== undefined;
  }

  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}
