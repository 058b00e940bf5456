// Reads runs' histories as columns and buckets them, in a worker thread: a million-point run is
// tens of megabytes to check and scan, which the thread that answers the app must not do.
import { parentPort } from 'node:worker_threads';
import { z } from 'zod';
import { readRunColumns } from '../checkpoint/metric-columns-file.js';
import { errorMessage } from '../base/errors.js';
import { MetricSmoothingSchema } from '../../contract.js';
import { smoothableKindSeries } from './metric-series-smoothing.js';

export const SeriesRequestSchema = z.object({
  id: z.number(),
  runDir: z.string(),
  write: z.boolean(),
  query: z.object({
    from: z.number().optional(),
    to: z.number().optional(),
    points: z.number().int().positive(),
    whole: z.number().int().positive().optional(),
    metrics: z.array(z.string()).optional(),
    smoothing: MetricSmoothingSchema.optional(),
  }),
});

async function answer(message: unknown): Promise<unknown> {
  const request = SeriesRequestSchema.parse(message);
  try {
    const columns = await readRunColumns(request.runDir, { write: request.write });
    const kinds = (['train', 'validation'] as const).map((kind) => smoothableKindSeries(kind, columns.tables, request.query)).filter((k) => k !== null);
    return { id: request.id, ok: true, kinds, source: columns.source, warning: columns.problem };
  } catch (error) {
    return { id: request.id, ok: false, message: errorMessage(error) };
  }
}

parentPort?.on('message', (message: unknown) => {
  void answer(message).then((reply) => parentPort?.postMessage(reply));
});
