// metricSeries: a run's history over a step range at a resolution. Our runs are read as columns
// (metrics.columns, built from metrics.jsonl where it is missing or stale) in one worker thread
// kept for the Studio's life; runs read in place are bucketed from the records their layout read.
import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { type MetricKindSeries, MetricKindSeriesSchema, type MetricRecord, type MetricSeries, StudioError } from '../../contract.js';
import { startModuleWorker } from '../base/module-worker.js';
import type { Table } from '../checkpoint/metric-columns.js';
import { RowGatherer } from '../checkpoint/metric-rows.js';
import { type SmoothableQuery, smoothableKindSeries } from './metric-series-smoothing.js';

const ReplySchema = z.discriminatedUnion('ok', [
  z.object({
    id: z.number(),
    ok: z.literal(true),
    kinds: z.array(MetricKindSeriesSchema),
    source: z.enum(['columns', 'log']),
    warning: z.string().nullable(),
  }),
  z.object({ id: z.number(), ok: z.literal(false), message: z.string() }),
]);
type Reply = z.infer<typeof ReplySchema>;

function span(kinds: readonly MetricKindSeries[]): { from: number | null; to: number | null } {
  const firsts = kinds.map((k) => k.steps[0]).filter((s): s is number => s !== undefined);
  const lasts = kinds.map((k) => k.steps.at(-1)).filter((s): s is number => s !== undefined);
  return { from: firsts.length > 0 ? Math.min(...firsts) : null, to: lasts.length > 0 ? Math.max(...lasts) : null };
}

export class MetricSeriesReader {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  /** Runs read in place: their records as tables, extended as the records grow. */
  private readonly inPlace = new Map<string, { records: readonly MetricRecord[]; gatherer: RowGatherer; taken: number; tables: Table[] | null }>();

  /** Our run in `runDir`; `write` allows building or extending its metrics.columns. */
  async ofRun(run: string, runDir: string, write: boolean, query: SmoothableQuery): Promise<MetricSeries> {
    const reply = await this.ask({
      runDir,
      write,
      query: { ...query, ...(query.metrics ? { metrics: [...query.metrics] } : {}), ...(query.smoothing ? { smoothing: { ...query.smoothing } } : {}) },
    });
    if (!reply.ok) throw new StudioError('damaged', reply.message);
    return { run, ...span(reply.kinds), kinds: reply.kinds, source: reply.source, warning: reply.warning };
  }

  /** A run read in place, from the records its layout read (they only grow while the workspace is open). */
  ofRecords(run: string, records: readonly MetricRecord[], query: SmoothableQuery): MetricSeries {
    let cached = this.inPlace.get(run);
    if (!cached || cached.records !== records || cached.taken > records.length) {
      cached = { records, gatherer: new RowGatherer(0), taken: 0, tables: null };
      this.inPlace.set(run, cached);
    }
    // The columns are made again only when the records grew (a zoom reads the same ones again).
    if (cached.taken < records.length) cached.tables = null;
    for (; cached.taken < records.length; cached.taken += 1) cached.gatherer.add(records[cached.taken] as MetricRecord);
    cached.tables ??= cached.gatherer.tables();
    const tables = cached.tables;
    const kinds = (['train', 'validation'] as const).map((kind) => smoothableKindSeries(kind, tables, query)).filter((k) => k !== null);
    return { run, ...span(kinds), kinds, source: 'in-place', warning: null };
  }

  /** Starts the worker thread ahead of the first read (it loads its modules meanwhile). */
  warm(): void {
    this.started();
  }

  /** Forgets runs read in place (another workspace opened). */
  reset(): void {
    this.inPlace.clear();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    for (const { reject } of this.pending.values()) reject(new Error('the Studio closed'));
    this.pending.clear();
    await worker?.terminate();
  }

  private ask(request: { runDir: string; write: boolean; query: SmoothableQuery }): Promise<Reply> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held open only while it has work: an idle worker must not keep a CLI process alive.
      worker.ref();
      worker.postMessage({ id, ...request });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = startModuleWorker('metric-series-worker', import.meta.url);
    worker.unref();
    worker.on('message', (message: unknown) => {
      const reply = ReplySchema.safeParse(message);
      if (!reply.success) return;
      const waiting = this.pending.get(reply.data.id);
      this.pending.delete(reply.data.id);
      if (this.pending.size === 0) worker.unref();
      waiting?.resolve(reply.data);
    });
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', () => this.fail(worker, new Error('the metric reader stopped')));
    this.worker = worker;
    return worker;
  }

  private fail(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
