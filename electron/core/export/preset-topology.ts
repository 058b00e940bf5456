// The Keras JSON of one of our model presets, for the TF.js export: built by TensorFlow.js in a
// worker thread (preset-topology-worker.ts), never on the thread that answers the app.
import { once } from 'node:events';
import { z } from 'zod';
import { type ModelSpec, StudioError } from '../../contract.js';
import { startModuleWorker } from '../base/module-worker.js';

const AnswerSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), topology: z.record(z.string(), z.unknown()) }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);

export async function presetTopology(spec: ModelSpec): Promise<Record<string, unknown>> {
  const worker = startModuleWorker('preset-topology-worker', import.meta.url, spec);
  try {
    const [message] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([error]) => Promise.reject(error))])) as [unknown];
    const answer = AnswerSchema.safeParse(message);
    if (!answer.success) throw new StudioError('internal', `the model preset's topology came back malformed: ${answer.error.issues[0]?.message ?? 'invalid'}`);
    if (!answer.data.ok) throw new StudioError('internal', `building the model preset for its topology: ${answer.data.message}`);
    return answer.data.topology;
  } finally {
    await worker.terminate();
  }
}
