// A run's tensors and one tensor's distributions over its checkpoints, for the open workspace:
// which checkpoints, read how, and where the figures may be cached. Reading never creates
// anything in another program's folder (issue 16): its figures are cached only where the
// workspace's `.studio/` already exists; in a workspace of ours `.studio/` is made at its root.
import path from 'node:path';
import { type CheckpointInfo, type DistributionProgress, type RunTensors, StudioError, type TensorDistributions } from '../../contract.js';
import { errorMessage, NotFoundError } from '../base/errors.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { StoredWorkspace } from '../checkpoint/stored-store.js';
import { machineCacheLocation, storedRefs } from './stored-distributions.js';
import { stateFolder } from '../checkpoint/state-folder.js';
import { VerifyCache } from '../checkpoint/verify-cache.js';
import type { CheckpointRef } from '../distributions/checkpoint-tensor.js';
import type { CacheLocation } from '../distributions/distribution-cache.js';
import { DISTRIBUTIONS_DIR } from '../distributions/distribution-cache.js';
import { BytesNeeded, type DistributionRequest, computeDistributions } from '../distributions/compute-distributions.js';
import { CANCELLED, runDistributions } from '../distributions/run-distributions.js';
import { runTensors } from '../distributions/tensor-names.js';
import { isForeignFormat } from '../formats/registry.js';

function refOf(checkpoint: CheckpointInfo, verified: VerifyCache): CheckpointRef {
  const source = checkpoint.source;
  if (checkpoint.files !== null && source !== null && isForeignFormat(source.format))
    return {
      kind: 'in-place',
      id: checkpoint.id,
      step: checkpoint.step,
      path: checkpoint.path,
      format: source.format,
      name: source.name,
      verifiedCrcs: verified.recordedCrcs(checkpoint.id),
    };
  return { kind: 'studio', id: checkpoint.id, step: checkpoint.step, dir: checkpoint.path };
}

async function checkpointRefs(store: CheckpointStore, run: string): Promise<CheckpointRef[]> {
  if (!store.catalog.getRun(run)) throw new NotFoundError(run, `no such run in ${store.root}`);
  const verified = new VerifyCache(store.root);
  await verified.load();
  // One that was never finished has nothing to read; a damaged one is read, so its problem is named.
  return store.catalog
    .list(run)
    .filter((c) => c.status !== 'incomplete')
    .map((c) => refOf(c, verified));
}

/** Where figures are cached, or null with the reason. */
async function cacheLocation(store: CheckpointStore, run: string, readOnly: boolean): Promise<{ location: CacheLocation | null; note: string | null }> {
  const mayCreate = !readOnly && !store.catalog.isInPlace(run);
  let state: string | null;
  try {
    state = await stateFolder(store.root, mayCreate);
  } catch (error) {
    return { location: null, note: `the figures are not cached: ${errorMessage(error)}` };
  }
  if (!state) {
    const why = readOnly ? 'the workspace was opened read-only' : 'reading another program’s folder creates nothing in it';
    return { location: null, note: `the figures are not cached (${why}); they are read from the files each time` };
  }
  return { location: { dir: path.join(state, DISTRIBUTIONS_DIR), writable: !readOnly }, note: null };
}

/** The open workspace: a folder's store, or one in S3. */
export type DistributionsWorkspace = CheckpointStore | StoredWorkspace;

export async function tensorNames(store: DistributionsWorkspace, run: string): Promise<RunTensors> {
  return runTensors(run, store instanceof StoredWorkspace ? storedRefs(store, run) : await checkpointRefs(store, run));
}

type DistributionOptions = { readonly run: string; readonly tensor: string; readonly bins: number; readonly readOnly: boolean };

async function compute(
  store: DistributionsWorkspace,
  options: DistributionOptions,
  progress: (progress: DistributionProgress) => void,
  signal: AbortSignal,
): Promise<TensorDistributions> {
  const { run, tensor, bins } = options;
  const stored = store instanceof StoredWorkspace;
  const checkpoints = stored ? storedRefs(store, run) : await checkpointRefs(store, run);
  const { location, note } = stored ? await machineCacheLocation() : await cacheLocation(store, run, options.readOnly);
  const request: DistributionRequest = { run, tensor, bins, checkpoints, cache: location, notes: note ? [note] : [] };
  const report = (done: number, total: number): void => progress({ run, tensor, done, total });
  // Everything cached: a few small files, read here at once, rather than a worker started to read them.
  // It reports no progress: a worker taken over from it would start the count again.
  if (location)
    try {
      return await computeDistributions({ ...request, cacheOnly: true }, () => undefined);
    } catch (error) {
      if (!(error instanceof BytesNeeded)) throw error;
    }
  return runDistributions(request, report, signal);
}

/** A computation under way, the requests waiting on it, and how to stop it once none does. */
interface UnderWay {
  readonly answer: Promise<TensorDistributions>;
  readonly controller: AbortController;
  waiting: number;
}

/** Computations under way, by open workspace and question: asking again (a second window, a repeated click) waits for the same answer instead of reading the files twice. */
const underWay = new WeakMap<DistributionsWorkspace, Map<string, UnderWay>>();
/** Each request that named itself, by its id: cancelling it. */
const requests = new WeakMap<DistributionsWorkspace, Map<string, () => void>>();

function share(store: DistributionsWorkspace, options: DistributionOptions, progress: (progress: DistributionProgress) => void): UnderWay {
  const key = JSON.stringify([options.run, options.tensor, options.bins, options.readOnly]);
  const ofStore = underWay.get(store) ?? new Map<string, UnderWay>();
  underWay.set(store, ofStore);
  const running = ofStore.get(key);
  if (running) return running;
  const controller = new AbortController();
  const answer = compute(store, options, progress, controller.signal).finally(() => {
    if (ofStore.get(key) === shared) ofStore.delete(key);
  });
  const shared: UnderWay = { answer, controller, waiting: 0 };
  ofStore.set(key, shared);
  // A stopped computation takes no one new: a request after it starts another.
  controller.signal.addEventListener('abort', () => {
    if (ofStore.get(key) === shared) ofStore.delete(key);
  });
  return shared;
}

export function tensorDistributions(
  store: DistributionsWorkspace,
  options: DistributionOptions & { readonly distributionsId?: string | undefined },
  progress: (progress: DistributionProgress) => void,
): Promise<TensorDistributions> {
  const id = options.distributionsId;
  const ofStore = requests.get(store) ?? new Map<string, () => void>();
  requests.set(store, ofStore);
  if (id !== undefined && ofStore.has(id)) return Promise.reject(new StudioError('usage', `a distributions request with the id ${id} is already running`));
  const shared = share(store, options, progress);
  shared.waiting += 1;
  // A request without an id cannot be cancelled: while it waits, the computation goes on.
  if (id === undefined)
    return shared.answer.finally(() => {
      shared.waiting -= 1;
    });
  let settled = false;
  return new Promise<TensorDistributions>((resolve, reject) => {
    const leave = (): void => {
      if (settled) return;
      settled = true;
      ofStore.delete(id);
      shared.waiting -= 1;
    };
    ofStore.set(id, () => {
      leave();
      // The figures are wanted no more: the worker stops, unless another request waits on them.
      if (shared.waiting === 0) shared.controller.abort();
      reject(new StudioError('refused', CANCELLED));
    });
    shared.answer.then(
      (answer) => {
        leave();
        resolve(answer);
      },
      (error: unknown) => {
        leave();
        reject(error);
      },
    );
  });
}

/** Cancels the request of that id; false when none runs. */
export function cancelDistributions(store: DistributionsWorkspace | null, distributionsId: string): boolean {
  const cancel = store ? requests.get(store)?.get(distributionsId) : undefined;
  cancel?.();
  return cancel !== undefined;
}
