// Compares two opened checkpoints: pairs their tensors, then reads A's in file order and, a batch
// of them at a time (about BATCH_BYTES), the B tensors they pair with in one read of B, so only a
// batch of A and one read run of B are in memory, and a checkpoint of thousands of small tensors
// does not open B's file once per tensor. A pair larger than a stream chunk whose tensors both lie
// whole in files (safetensors: ours, imported or in place) is not held at all but streamed, a
// chunk of each at a time (stream-pair.ts); another format's large tensor is still read whole.
// Each tensor's length is checked against its dtype and shape before a value is read.
import type { CompareResult, CompareSide, TensorComparison, TensorMismatch } from '../../contract.js';
import { DamagedTensorError } from '../base/errors.js';
import { elementCount } from '../base/dtypes.js';
import { type TensorPair, pairTensors } from './compare-pairing.js';
import type { Side, SideTensor, TensorBytes, TensorRange } from './compare-side.js';
import { type PairStats, pairStats } from './tensor-stats.js';
import { STREAM_CHUNK_BYTES, streamPairStats } from './stream-pair.js';
import { bytesPerElement, chunkDecoder, isComparableDtype } from './tensor-values.js';

/** A's tensors held while their B tensors are read: enough that small tensors share a read of B. */
export const BATCH_BYTES = 16 * 1024 * 1024;

export interface CompareOptions {
  readonly stoppedBelow: number;
  /** A's bytes held at a time (BATCH_BYTES unless a test says otherwise). */
  readonly batchBytes?: number;
  /** Bytes of each side read at a time when a pair is streamed, and the size above which it is (STREAM_CHUNK_BYTES unless a test says otherwise). */
  readonly streamChunkBytes?: number;
  readonly onProgress?: (done: number, total: number, tensor: string | null) => void;
  readonly signal?: AbortSignal;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Why a pair is listed but not compared, or null when it can be. */
function mismatch(pair: TensorPair): string | null {
  if (!sameShape(pair.a.shape, pair.b.shape)) return `shape ${shapeText(pair.a.shape)} in A, ${shapeText(pair.b.shape)} in B`;
  for (const dtype of [pair.a.dtype, pair.b.dtype]) if (!isComparableDtype(dtype)) return `${dtype} values are not compared`;
  return null;
}

function mismatchRow(pair: TensorPair, reason: string): TensorMismatch {
  return { name: pair.a.name, nameB: pair.b.name, dtype: pair.a.dtype, dtypeB: pair.b.dtype, shape: [...pair.a.shape], shapeB: [...pair.b.shape], reason };
}

/** The bytes must be exactly what the dtype and shape take: a short tensor is damage, named. */
function values(item: TensorBytes, side: 'A' | 'B'): ReturnType<typeof chunkDecoder> {
  const { tensor, data } = item;
  if (!isComparableDtype(tensor.dtype)) throw new DamagedTensorError(tensor.file, tensor.name, `${side}: ${tensor.dtype} cannot be compared`);
  const expected = elementCount(tensor.shape) * bytesPerElement(tensor.dtype);
  if (data.byteLength !== expected)
    throw new DamagedTensorError(tensor.file, tensor.name, `holds ${data.byteLength} bytes, but ${tensor.dtype} ${shapeText(tensor.shape)} takes ${expected}`);
  return chunkDecoder(tensor.dtype, data);
}

function comparison(pair: TensorPair, a: TensorBytes, b: TensorBytes, stoppedBelow: number): TensorComparison {
  const elements = elementCount(pair.a.shape);
  return comparisonOf(pair, pairStats(values(a, 'A').decode, values(b, 'B').decode, elements), stoppedBelow);
}

function comparisonOf(pair: TensorPair, stats: PairStats, stoppedBelow: number): TensorComparison {
  const elements = elementCount(pair.a.shape);
  return {
    name: pair.a.name,
    nameB: pair.b.name,
    dtype: pair.a.dtype,
    dtypeB: pair.b.dtype,
    shape: [...pair.a.shape],
    elements,
    ...stats,
    nanCount: stats.nanA + stats.nanB,
    infCount: stats.infA + stats.infB,
    stoppedMoving: stats.relChange !== null && stats.relChange < stoppedBelow,
  };
}

function sideOf(side: Side, label: { target: string; label: string }): CompareSide {
  return { target: label.target, label: label.label, path: side.path, format: side.format, step: side.step };
}

const unpaired = (t: SideTensor): { name: string; dtype: string; shape: number[] } => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] });

interface Held {
  readonly pair: TensorPair;
  readonly itemA: TensorBytes;
  result?: TensorComparison;
}

/** One read of B for a batch of A's tensors, each compared as its B tensor arrives; the results in A's order. */
async function compareBatch(b: Side, batch: readonly Held[], options: CompareOptions, onCompared: (name: string) => void): Promise<TensorComparison[]> {
  const byNameB = new Map(batch.map((held) => [held.pair.b.name, held]));
  for await (const itemB of b.read(new Set(byNameB.keys()))) {
    options.signal?.throwIfAborted();
    const held = byNameB.get(itemB.tensor.name);
    if (held === undefined || held.result !== undefined) continue;
    held.result = comparison(held.pair, held.itemA, itemB, options.stoppedBelow);
    onCompared(held.pair.a.name);
  }
  return batch.map(({ pair, result }) => {
    if (result === undefined) throw new DamagedTensorError(pair.b.file, pair.b.name, 'listed, but the reader did not find it');
    return result;
  });
}

async function compareInBatches(
  a: Side,
  b: Side,
  wanted: ReadonlyMap<string, TensorPair>,
  options: CompareOptions,
  onCompared: (name: string) => void,
): Promise<TensorComparison[]> {
  const limit = options.batchBytes ?? BATCH_BYTES;
  const tensors: TensorComparison[] = [];
  let batch: Held[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    const held = batch;
    batch = [];
    bytes = 0;
    tensors.push(...(await compareBatch(b, held, options, onCompared)));
  };
  for await (const itemA of a.read(new Set(wanted.keys()))) {
    options.signal?.throwIfAborted();
    batch.push({ pair: wanted.get(itemA.tensor.name) as TensorPair, itemA });
    bytes += itemA.data.byteLength;
    if (bytes >= limit) await flush();
  }
  if (batch.length > 0) await flush();
  const seen = new Set(tensors.map((t) => t.name));
  for (const [name, pair] of wanted) if (!seen.has(name)) throw new DamagedTensorError(pair.a.file, name, 'listed, but the reader did not find it');
  return tensors;
}

/** The pairs to stream: larger than a chunk, with both tensors lying whole in files. */
function streamable(a: Side, b: Side, wanted: ReadonlyMap<string, TensorPair>, chunkBytes: number): TensorPair[] {
  if (a.ranges === undefined || b.ranges === undefined) return [];
  return [...wanted.values()].filter((pair) => (a.ranges?.get(pair.a.name)?.bytes ?? 0) > chunkBytes && b.ranges?.has(pair.b.name));
}

async function compareAll(a: Side, b: Side, wanted: ReadonlyMap<string, TensorPair>, options: CompareOptions): Promise<TensorComparison[]> {
  const chunkBytes = options.streamChunkBytes ?? STREAM_CHUNK_BYTES;
  const streamed = streamable(a, b, wanted, chunkBytes);
  const batched = new Map(wanted);
  for (const pair of streamed) batched.delete(pair.a.name);
  let compared = 0;
  const onCompared = (name: string): void => options.onProgress?.(++compared, wanted.size, name);
  options.onProgress?.(0, wanted.size, null);
  const tensors = batched.size > 0 ? await compareInBatches(a, b, batched, options, onCompared) : [];
  for (const pair of streamed) {
    options.signal?.throwIfAborted();
    const ranged = (side: Side, tensor: SideTensor): { tensor: SideTensor; range: TensorRange } => ({
      tensor,
      range: side.ranges?.get(tensor.name) as TensorRange,
    });
    const stats = await streamPairStats(ranged(a, pair.a), ranged(b, pair.b), elementCount(pair.a.shape), { chunkBytes, signal: options.signal });
    tensors.push(comparisonOf(pair, stats, options.stoppedBelow));
    onCompared(pair.a.name);
  }
  // In A's file order, as read whole they would be.
  if (streamed.length > 0) tensors.sort((x, y) => (a.ranges?.get(x.name)?.position ?? 0) - (a.ranges?.get(y.name)?.position ?? 0));
  return tensors;
}

export async function compareSides(
  a: Side,
  b: Side,
  labels: { readonly a: { target: string; label: string }; readonly b: { target: string; label: string } },
  options: CompareOptions,
): Promise<CompareResult> {
  const pairing = pairTensors(a, b);
  const notCompared: TensorMismatch[] = [];
  const wanted = new Map<string, TensorPair>();
  for (const pair of pairing.pairs) {
    const reason = mismatch(pair);
    if (reason === null) wanted.set(pair.a.name, pair);
    else notCompared.push(mismatchRow(pair, reason));
  }
  const tensors = await compareAll(a, b, wanted, options);
  return {
    a: sideOf(a, labels.a),
    b: sideOf(b, labels.b),
    stoppedMovingBelow: options.stoppedBelow,
    tensors,
    notCompared,
    onlyInA: pairing.onlyInA.map(unpaired),
    onlyInB: pairing.onlyInB.map(unpaired),
    stoppedMoving: tensors.filter((t) => t.stoppedMoving).map((t) => t.name),
    notes: [...a.notes, ...b.notes, ...pairing.notes],
  };
}
