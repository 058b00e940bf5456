// The worker thread that computes a tensor's distributions (compute-distributions.ts), so that
// reading and counting a run's tensor bytes never holds up the thread that answers the app.
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../base/errors.js';
import { type DistributionRequest, computeDistributions } from './compute-distributions.js';

/** What the worker says: how far it is, then its answer or why there is none. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | { readonly type: 'done'; readonly result: unknown }
  | { readonly type: 'failed'; readonly message: string };

function say(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

// workerData is our own caller's, made by run-distributions.ts in this program: not an outside value.
computeDistributions(workerData as DistributionRequest, (done, total) => say({ type: 'progress', done, total })).then(
  (result) => say({ type: 'done', result }),
  (error: unknown) => say({ type: 'failed', message: errorMessage(error) }),
);
