// Runs one comparison in its own worker thread (compare-worker.ts), off the thread that answers
// the app. Every message is checked on arrival; an abort ends the thread at once, wherever it is.
import type { Worker } from 'node:worker_threads';
import { type CompareResult, StudioError } from '../../contract.js';
import { startModuleWorker } from '../base/module-worker.js';
import { type CompareJob, WorkerMessageSchema } from './compare-protocol.js';

export interface CompareRun {
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number, tensor: string | null) => void;
}

function settle(worker: Worker, options: CompareRun): Promise<CompareResult> {
  return new Promise<CompareResult>((resolve, reject) => {
    const fail = (error: StudioError): void => reject(error);
    const onAbort = (): void => fail(new StudioError('refused', 'the comparison was cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (raw: unknown) => {
      const message = WorkerMessageSchema.safeParse(raw);
      if (!message.success)
        return fail(new StudioError('internal', `the comparison's worker sent a malformed message: ${message.error.issues[0]?.message ?? ''}`));
      const data = message.data;
      if (data.type === 'progress') options.onProgress?.(data.done, data.total, data.tensor);
      else if (data.type === 'result') resolve(data.result);
      else fail(new StudioError(data.code, data.message));
    });
    worker.on('error', (error) => fail(new StudioError('internal', `the comparison's worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new StudioError('internal', `the comparison's worker ended (exit code ${code}) before it answered`)));
  });
}

export async function compareInWorker(job: CompareJob, options: CompareRun = {}): Promise<CompareResult> {
  if (options.signal?.aborted) throw new StudioError('refused', 'the comparison was cancelled');
  const worker = startModuleWorker('compare-worker', import.meta.url, job);
  try {
    return await settle(worker, options);
  } finally {
    await worker.terminate();
  }
}
