// Compares two opened checkpoints: pairs their tensors, then reads A's in file order, one at a
// time, and for each the one B tensor it pairs with, so at most one tensor of each side is in
// memory (a large tensor's figures are then accumulated in chunks of elements). Each tensor's
// length is checked against its dtype and shape before a value is read.
import type { CompareResult, CompareSide, TensorComparison, TensorMismatch } from '../../contract.js';
import { DamagedTensorError } from '../base/errors.js';
import { elementCount } from '../base/dtypes.js';
import { type TensorPair, pairTensors } from './compare-pairing.js';
import type { Side, SideTensor, TensorBytes } from './compare-side.js';
import { pairStats } from './tensor-stats.js';
import { bytesPerElement, chunkDecoder, isComparableDtype } from './tensor-values.js';

export interface CompareOptions {
  readonly stoppedBelow: number;
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

async function readOne(side: Side, tensor: SideTensor): Promise<TensorBytes> {
  // Leaving the loop early closes the reader's file.
  for await (const item of side.read(new Set([tensor.name]))) return item;
  throw new DamagedTensorError(tensor.file, tensor.name, 'listed, but the reader did not find it');
}

function comparison(pair: TensorPair, a: TensorBytes, b: TensorBytes, stoppedBelow: number): TensorComparison {
  const elements = elementCount(pair.a.shape);
  const stats = pairStats(values(a, 'A').decode, values(b, 'B').decode, elements);
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
  const tensors: TensorComparison[] = [];
  options.onProgress?.(0, wanted.size, null);
  for await (const itemA of a.read(new Set(wanted.keys()))) {
    options.signal?.throwIfAborted();
    const pair = wanted.get(itemA.tensor.name) as TensorPair;
    const itemB = await readOne(b, pair.b);
    tensors.push(comparison(pair, itemA, itemB, options.stoppedBelow));
    options.onProgress?.(tensors.length, wanted.size, pair.a.name);
  }
  const seen = new Set(tensors.map((t) => t.name));
  for (const name of wanted.keys()) {
    const tensor = (wanted.get(name) as TensorPair).a;
    if (!seen.has(name)) throw new DamagedTensorError(tensor.file, name, 'listed, but the reader did not find it');
  }
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
