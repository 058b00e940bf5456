// A run's tensors and one tensor's distributions over its checkpoints, for the open workspace:
// which checkpoints, read how, and where the figures may be cached. Reading never creates
// anything in another program's folder (issue 16): its figures are cached only where the
// workspace's `.studio/` already exists; in a workspace of ours `.studio/` is made at its root.
import path from 'node:path';
import type { CheckpointInfo, DistributionProgress, RunTensors, TensorDistributions } from '../../contract.js';
import { errorMessage, NotFoundError } from '../base/errors.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { stateFolder } from '../checkpoint/state-folder.js';
import { VerifyCache } from '../checkpoint/verify-cache.js';
import type { CheckpointRef } from '../distributions/checkpoint-tensor.js';
import type { CacheLocation } from '../distributions/distribution-cache.js';
import { DISTRIBUTIONS_DIR } from '../distributions/distribution-cache.js';
import { BytesNeeded, type DistributionRequest, computeDistributions } from '../distributions/compute-distributions.js';
import { runDistributions } from '../distributions/run-distributions.js';
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

export async function tensorNames(store: CheckpointStore, run: string): Promise<RunTensors> {
  return runTensors(run, await checkpointRefs(store, run));
}

type DistributionOptions = { readonly run: string; readonly tensor: string; readonly bins: number; readonly readOnly: boolean };

async function compute(store: CheckpointStore, options: DistributionOptions, progress: (progress: DistributionProgress) => void): Promise<TensorDistributions> {
  const { run, tensor, bins } = options;
  const checkpoints = await checkpointRefs(store, run);
  const { location, note } = await cacheLocation(store, run, options.readOnly);
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
  return runDistributions(request, report);
}

/** Computations under way, by open workspace and question: asking again (a second window, a repeated click) waits for the same answer instead of reading the files twice. */
const underWay = new WeakMap<CheckpointStore, Map<string, Promise<TensorDistributions>>>();

export function tensorDistributions(
  store: CheckpointStore,
  options: DistributionOptions,
  progress: (progress: DistributionProgress) => void,
): Promise<TensorDistributions> {
  const key = JSON.stringify([options.run, options.tensor, options.bins, options.readOnly]);
  const ofStore = underWay.get(store) ?? new Map<string, Promise<TensorDistributions>>();
  underWay.set(store, ofStore);
  const running = ofStore.get(key);
  if (running) return running;
  const answer = compute(store, options, progress).finally(() => ofStore.delete(key));
  ofStore.set(key, answer);
  return answer;
}
