// Starts the distributions worker for one request, forwards its progress, and checks its answer
// against the contract before anything else sees it (it crossed a thread boundary). An abort ends
// the thread at once, wherever it is, and the request fails as cancelled.
import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { StudioError, type TensorDistributions, TensorDistributionsSchema } from '../../contract.js';
import { startModuleWorker } from '../base/module-worker.js';
import type { DistributionRequest } from './compute-distributions.js';

const MessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), done: z.int().nonnegative(), total: z.int().nonnegative() }),
  z.object({ type: z.literal('done'), result: z.unknown() }),
  z.object({ type: z.literal('failed'), message: z.string() }),
]);

export const CANCELLED = 'the distributions were cancelled';

function answer(worker: Worker, progress: (done: number, total: number) => void, signal: AbortSignal | undefined): Promise<TensorDistributions> {
  return new Promise((resolve, reject) => {
    signal?.addEventListener('abort', () => reject(new StudioError('refused', CANCELLED)), { once: true });
    worker.on('message', (raw: unknown) => {
      const message = MessageSchema.safeParse(raw);
      if (!message.success) return reject(new StudioError('internal', `the distributions worker said something malformed: ${message.error.message}`));
      if (message.data.type === 'progress') return progress(message.data.done, message.data.total);
      if (message.data.type === 'failed') return reject(new StudioError('internal', `computing distributions: ${message.data.message}`));
      const result = TensorDistributionsSchema.safeParse(message.data.result);
      if (result.success) resolve(result.data);
      else reject(new StudioError('internal', `the distributions worker's answer is malformed: ${result.error.issues[0]?.message ?? 'invalid'}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new StudioError('internal', `the distributions worker stopped (exit code ${code}) before answering`)));
  });
}

export async function runDistributions(
  request: DistributionRequest,
  progress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<TensorDistributions> {
  if (signal?.aborted) throw new StudioError('refused', CANCELLED);
  const worker = startModuleWorker('distributions-worker', import.meta.url, request);
  try {
    return await answer(worker, progress, signal);
  } finally {
    await worker.terminate();
  }
}
