// A comparison's worker thread: opens both sides, compares them tensor by tensor, posts progress
// as it goes and then the result, or the error that stopped it as a message (code and text), so
// a damaged file ends this comparison and nothing else. The parent ends the thread to cancel.
import { parentPort, workerData } from 'node:worker_threads';
import { errorData } from '../studio/errors.js';
import { CompareJobSchema, type WorkerMessage } from './compare-protocol.js';
import { openSide } from './compare-side.js';
import { compareSides } from './compare-sides.js';

/** Progress at most this often: a checkpoint of thousands of small tensors would otherwise flood the channel. */
const PROGRESS_EVERY_MS = 100;

function post(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

async function run(): Promise<void> {
  const job = CompareJobSchema.parse(workerData);
  const a = await openSide(job.a);
  const b = await openSide(job.b);
  let last = 0;
  const result = await compareSides(
    a,
    b,
    { a: job.a, b: job.b },
    {
      stoppedBelow: job.stoppedBelow,
      onProgress: (done, total, tensor) => {
        const now = Date.now();
        if (done !== 0 && done !== total && now - last < PROGRESS_EVERY_MS) return;
        last = now;
        post({ type: 'progress', done, total, tensor });
      },
    },
  );
  post({ type: 'result', result });
}

run().catch((error: unknown) => post({ type: 'error', ...errorData(error) }));
