// Runs in a worker thread: checksums, hashes and writes one snapshot while training goes on in
// the main thread. The snapshot's buffers are transferred here, not copied.
import { parentPort } from 'node:worker_threads';
import { writeCheckpoint } from '../../checkpoint/writer.js';
import { errorMessage } from '../../base/errors.js';
import { weightsHash } from '../engine/weights-hash.js';
import type { WorkerRequest, WorkerResponse } from './checkpoint-writer-protocol.js';

/** The snapshot's memory goes back to the training thread, to be reused by the next snapshot. */
function buffersOf(request: WorkerRequest): ArrayBuffer[] {
  const buffers = [...request.state.model, ...request.state.optimizer].map((t) => t.data.buffer);
  return [...new Set(buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
}

parentPort?.on('message', (request: WorkerRequest) => {
  void (async () => {
    const started = performance.now();
    const buffers = buffersOf(request);
    try {
      const hash = weightsHash(request.state.model);
      const written = await writeCheckpoint(request.runDir, request.run, {
        ...request.state,
        extra: { ...(request.state.extra ?? {}), weightsHash: hash },
        cost: { ...request.cost, writeMs: performance.now() - started },
      });
      const response: WorkerResponse = {
        id: request.id,
        ok: true,
        dir: written.dir,
        bytes: written.bytes,
        writeMs: performance.now() - started,
        weightsHash: hash,
        buffers,
      };
      parentPort?.postMessage(response, buffers);
    } catch (error) {
      const response: WorkerResponse = { id: request.id, ok: false, error: errorMessage(error), buffers };
      parentPort?.postMessage(response, buffers);
    }
  })();
});
