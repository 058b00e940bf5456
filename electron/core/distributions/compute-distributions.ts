// One tensor's distribution at every checkpoint of a run, one checkpoint at a time, streaming its
// bytes: first each checkpoint's figures (moments, quantiles), then, once the run's range is
// known, each one's histogram over bins shared by the whole run. Both are cached per checkpoint;
// a histogram is read again only when the run's range or bin count changed.
import type { DistributionPoint, TensorDistributions } from '../../contract.js';
import { quoted } from '../base/describe-value.js';
import { DamagedTensorError, errorMessage } from '../base/errors.js';
import { elementCount } from '../base/dtypes.js';
import { type Binned, type CacheLocation, DistributionCache, type TensorSummary, pruneCache } from './distribution-cache.js';
import { type CheckpointRef, type TensorSource, tensorSource } from './checkpoint-tensor.js';
import { BinCounter, EXACT_QUANTILE_LIMIT, FINE_BINS, FiniteValues, MomentsAccumulator, QUANTILE_LEVELS, sharedRange } from './tensor-statistics.js';
import { ValueStream } from './tensor-values.js';

export interface DistributionRequest {
  readonly run: string;
  readonly tensor: string;
  readonly bins: number;
  readonly checkpoints: readonly CheckpointRef[];
  readonly cache: CacheLocation | null;
  readonly notes: readonly string[];
  /** Answer from the cache alone, or throw BytesNeeded: what the calling thread may do before it starts a worker. */
  readonly cacheOnly?: boolean;
}

/** A figure is not in the cache: reading the tensor's bytes is a worker's job. */
export class BytesNeeded extends Error {
  constructor() {
    super('some figures are not cached');
  }
}

interface Item {
  readonly ref: CheckpointRef;
  readonly source: TensorSource;
  summary: TensorSummary;
  histogram: Binned | null;
  cached: boolean;
}

class Reading {
  bytesRead = 0;

  constructor(
    private readonly tensor: string,
    private readonly cacheOnly: boolean,
  ) {}

  /** Streams the tensor's values through `visit`. */
  async values(source: TensorSource, visit: (values: Float64Array, length: number) => void): Promise<void> {
    if (this.cacheOnly) throw new BytesNeeded();
    const stream = new ValueStream(source.dtype, visit);
    for await (const chunk of source.chunks()) {
      this.bytesRead += chunk.byteLength;
      stream.push(chunk);
    }
    if (stream.leftover !== 0)
      throw new DamagedTensorError(source.file, this.tensor, `${stream.leftover} bytes at its end make no whole ${source.dtype} value`);
  }

  async summarise(source: TensorSource): Promise<TensorSummary> {
    const total = elementCount(source.shape);
    const moments = new MomentsAccumulator();
    const exact = total <= EXACT_QUANTILE_LIMIT ? new FiniteValues(total) : null;
    await this.values(source, (values, length) => {
      moments.add(values, length);
      exact?.add(values, length);
    });
    const m = moments.result();
    if (exact || m.min === null || m.max === null)
      return { ...m, quantiles: exact?.quantiles(QUANTILE_LEVELS) ?? null, quantileMethod: 'exact', quantileError: 0 };
    // Too many values to sort in memory: a second read into fine bins between the exact extremes.
    const fine = new BinCounter(m.min, m.max, FINE_BINS);
    await this.values(source, (values, length) => fine.add(values, length));
    return { ...m, quantiles: fine.quantiles(QUANTILE_LEVELS, m.min, m.max), quantileMethod: 'histogram', quantileError: (m.max - m.min) / FINE_BINS };
  }

  async histogram(source: TensorSource, range: { lo: number; hi: number; bins: number }): Promise<Binned> {
    const counter = new BinCounter(range.lo, range.hi, range.bins);
    await this.values(source, (values, length) => counter.add(values, length));
    return { ...range, counts: counter.counts };
  }

  /** The error as a user reads it: the file and the tensor named. */
  describe(error: unknown, file: string): string {
    if (error instanceof DamagedTensorError) return error.message;
    const message = errorMessage(error);
    return `${message.includes(file) ? '' : `${file}: `}tensor ${quoted(this.tensor)}: ${message}`;
  }
}

function toPoint(item: Item): DistributionPoint {
  return { id: item.ref.id, step: item.ref.step, ...item.summary, histogram: item.histogram?.counts ?? [], cached: item.cached };
}

function sameBins(histogram: Binned | null, range: { lo: number; hi: number; bins: number }): boolean {
  return histogram !== null && histogram.lo === range.lo && histogram.hi === range.hi && histogram.bins === range.bins;
}

export async function computeDistributions(request: DistributionRequest, progress: (done: number, total: number) => void): Promise<TensorDistributions> {
  const cache = new DistributionCache(request.cache);
  const reading = new Reading(request.tensor, request.cacheOnly === true);
  // Two passes over each checkpoint; the second only over those that hold the tensor.
  const total = request.checkpoints.length * 2;
  const items: Item[] = [];
  const missing: string[] = [];
  const problems: { id: string; message: string }[] = [];
  const failed = new Set<Item>();
  let done = 0;
  for (const ref of [...request.checkpoints].sort((a, b) => a.step - b.step)) {
    let file = ref.kind === 'studio' ? ref.dir : ref.kind === 'stored' ? `${ref.address}${ref.folder}` : ref.path;
    try {
      const source = await tensorSource(ref, request.tensor);
      if (!source) missing.push(ref.id);
      else {
        file = source.file;
        const entry = await cache.read(source.key);
        const summary = entry?.summary ?? (await reading.summarise(source));
        items.push({ ref, source, summary, histogram: entry?.histogram ?? null, cached: entry !== null });
      }
    } catch (error) {
      if (error instanceof BytesNeeded) throw error;
      problems.push({ id: ref.id, message: reading.describe(error, file) });
    }
    progress(++done, total);
  }
  const span = sharedRange(
    items.map((i) => i.summary.min),
    items.map((i) => i.summary.max),
  );
  const range = span ? { ...span, bins: request.bins } : null;
  for (const [index, item] of items.entries()) {
    try {
      if (range && !sameBins(item.histogram, range)) {
        item.histogram = await reading.histogram(item.source, range);
        item.cached = false;
      }
      if (!item.cached) await cache.write(item.source.key, { summary: item.summary, histogram: item.histogram, checkpoint: item.source.file });
    } catch (error) {
      if (error instanceof BytesNeeded) throw error;
      problems.push({ id: item.ref.id, message: reading.describe(error, item.source.file) });
      failed.add(item);
    }
    // Checkpoints that failed or lack the tensor have no second pass.
    progress(request.checkpoints.length + index + 1, request.checkpoints.length + items.length);
  }
  const notes = [...request.notes];
  // The cache grew: what is stale or past its cap goes now, in the worker that made it grow.
  if (cache.written > 0 && request.cache) await pruneCache(request.cache.dir).catch(() => undefined);
  if (cache.unwritable) notes.push(`the figures were not cached (${cache.unwritable}); they are read from the files again next time`);
  return {
    run: request.run,
    tensor: request.tensor,
    quantileLevels: [...QUANTILE_LEVELS],
    range,
    points: items.filter((i) => !failed.has(i)).map(toPoint),
    missing,
    problems,
    bytesRead: reading.bytesRead,
    cache: cache.used ? (request.cache?.place ?? 'workspace') : 'none',
    notes,
  };
}
