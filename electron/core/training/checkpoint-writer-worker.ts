// Runs in a worker thread: checksums, hashes and writes one snapshot while training goes on in
// the main thread. The snapshot's buffers are transferred here, not copied.
import { parentPort } from 'node:worker_threads';
import { writeCheckpoint } from '../checkpoint/writer.js';
import { errorMessage } from '../checkpoint/errors.js';
import { weightsHash } from './training-loop-hash.js';
import type { WorkerRequest, WorkerResponse } from './checkpoint-writer-protocol.js';

parentPort?.on('message', (request: WorkerRequest) => {
  void (async () => {
    const started = performance.now();
    try {
      const hash = weightsHash(request.state.model);
      const written = await writeCheckpoint(request.runDir, request.run, {
        ...request.state,
        extra: { ...(request.state.extra ?? {}), weightsHash: hash },
        cost: { ...request.cost, writeMs: performance.now() - started },
      });
      const response: WorkerResponse = { id: request.id, ok: true, dir: written.dir, bytes: written.bytes, writeMs: performance.now() - started, weightsHash: hash };
      parentPort?.postMessage(response);
    } catch (error) {
      const response: WorkerResponse = { id: request.id, ok: false, error: errorMessage(error) };
      parentPort?.postMessage(response);
    }
  })();
});
