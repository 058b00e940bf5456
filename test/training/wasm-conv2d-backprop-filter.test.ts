import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { registerWasmTrainingKernels, wasmConv2DBackpropFilterConfig } from '../../electron/core/training/engine/wasm-conv2d-backprop-filter.js';

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
type Shape4 = [number, number, number, number];

/** Deterministic values in [-0.5, 0.5), so both backends see the same numbers. */
function values(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Largest |a - b| relative to |a|, where |a| is floored at `floor` times a's largest magnitude so
 * that entries which cancel to almost nothing do not dominate.
 */
function relativeError(expected: ArrayLike<number>, actual: ArrayLike<number>, floor = 1e-3): number {
  expect(actual.length).toBe(expected.length);
  let largest = 0;
  for (let i = 0; i < expected.length; i++) largest = Math.max(largest, Math.abs(expected[i] ?? 0));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? 0;
    worst = Math.max(worst, Math.abs(e - (actual[i] ?? 0)) / Math.max(Math.abs(e), floor * largest, 1e-12));
  }
  return worst;
}

async function onBackend<T>(name: string, run: () => T): Promise<T> {
  await tf.setBackend(name);
  return run();
}

function filterGradient(xShape: Shape4, filterShape: Shape4, strides: number | [number, number], pad: Pad): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(size(xShape), 1), xShape);
    const filter = tf.tensor4d(values(size(filterShape), 2), filterShape);
    const outShape = tf.conv2d(x, filter, strides, pad).shape;
    const dy = tf.tensor(values(size(outShape), 3), outShape);
    const gradient = tf.grad((f) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, strides, pad), dy)))(filter);
    return gradient.dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

describe('Conv2DBackpropFilter on wasm', () => {
  const cases: { x: Shape4; filter: Shape4; strides: number | [number, number]; pad: Pad }[] = [
    { x: [1, 6, 6, 1], filter: [3, 3, 1, 2], strides: 1, pad: 'same' },
    { x: [1, 6, 6, 1], filter: [3, 3, 1, 2], strides: 1, pad: 'valid' },
    { x: [4, 7, 7, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
    { x: [4, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
    { x: [1, 9, 9, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
    { x: [4, 9, 7, 1], filter: [3, 3, 1, 6], strides: 2, pad: 'valid' },
    { x: [2, 8, 8, 3], filter: [4, 4, 3, 2], strides: 1, pad: 'same' },
    { x: [2, 6, 9, 1], filter: [2, 3, 1, 3], strides: [2, 1], pad: 'valid' },
    {
      x: [2, 9, 9, 2],
      filter: [3, 3, 2, 2],
      strides: 2,
      pad: [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
    },
    { x: [3, 10, 10, 2], filter: [4, 4, 2, 2], strides: 3, pad: 1 },
    { x: [4, 28, 28, 1], filter: [5, 5, 1, 8], strides: 1, pad: 'same' },
  ];

  it.each(cases)('matches the cpu backend for x $x, filter $filter, strides $strides, pad $pad', async ({ x, filter, strides, pad }) => {
    const expected = await onBackend('cpu', () => filterGradient(x, filter, strides, pad));
    const actual = await onBackend('wasm', () => filterGradient(x, filter, strides, pad));
    expect(relativeError(expected, actual)).toBeLessThan(1e-4);
  });

  it('leaks neither engine tensors nor wasm buffers', async () => {
    await tf.setBackend('wasm');
    const run = () =>
      filterGradient([4, 9, 9, 3], [3, 3, 3, 4], 2, [
        [0, 0],
        [1, 1],
        [2, 0],
        [0, 0],
      ]);
    run();
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
  });

  it('refuses NCHW data', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 4, 4, 1]);
    const dy = tf.zeros([1, 2, 2, 1]);
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 1, 1] };
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs)).toThrow(/NHWC only/);
    tf.dispose([x, dy]);
  });

  it('registers once, however often it is asked to', () => {
    const warn = vi.spyOn(console, 'warn');
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBe(wasmConv2DBackpropFilterConfig);
  });
});

describe('training a small CNN on wasm', () => {
  const batch = 8;
  const weightShapes = { conv: [3, 3, 1, 4], convBias: [4], dense: [7 * 7 * 4, 10], denseBias: [10] } as const;

  function inputs(): { images: tf.Tensor4D; labels: tf.Tensor2D } {
    const images = tf.tensor4d(
      values(batch * 14 * 14, 11).map((v) => v + 0.5),
      [batch, 14, 14, 1],
    );
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10) as tf.Tensor2D;
    return { images, labels };
  }

  function loss(images: tf.Tensor4D, labels: tf.Tensor2D, w: readonly tf.Tensor[]): tf.Scalar {
    const [conv, convBias, dense, denseBias] = w as [tf.Tensor4D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    const activations = tf.relu(tf.add(tf.conv2d(images, conv, 1, 'same'), convBias)) as tf.Tensor4D;
    const hidden = tf.maxPool(activations, 2, 2, 'valid');
    const logits = tf.add(tf.matMul(tf.reshape(hidden, [batch, -1]), dense), denseBias);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  }

  function initialWeights(): tf.Tensor[] {
    return Object.values(weightShapes).map((shape, i) =>
      tf.tensor(
        values(size(shape), 20 + i).map((v) => v * 0.5),
        [...shape],
      ),
    );
  }

  it('computes the same gradients for every weight as the cpu backend', async () => {
    const gradients = () =>
      tf.tidy(() => {
        const { images, labels } = inputs();
        return tf
          .grads((...w: tf.Tensor[]) => loss(images, labels, w))(initialWeights())
          .map((g) => g.dataSync());
      });
    const expected = await onBackend('cpu', gradients);
    const actual = await onBackend('wasm', gradients);
    // Through relu, max-pool and softmax the dense gradients hold entries near zero that
    // XNNPACK's summation order moves by ~1e-4 of themselves, hence the higher floor here.
    expected.forEach((g, i) => expect(relativeError(g, actual[i] ?? [], 1e-2)).toBeLessThan(1e-4));
  });

  it('lowers the loss in three Adam steps without leaking tensors', async () => {
    await tf.setBackend('wasm');
    const { images, labels } = inputs();
    const weights = initialWeights().map((t) => tf.variable(t));
    const optimizer = tf.train.adam(0.01);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 3; step++) {
      const value = optimizer.minimize(() => loss(images, labels, weights), true);
      if (value === null) throw new Error('minimize returned no loss');
      losses.push((await value.data())[0] ?? Number.NaN);
      value.dispose();
      counts.push(tf.memory().numTensors, tf.backend().numDataIds());
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]).toBeLessThan(losses[0] ?? 0);
    // Step one creates Adam's slots; after that every step must give back what it took.
    expect(counts.slice(2, 4)).toEqual(counts.slice(4, 6));
    optimizer.dispose();
    tf.dispose([images, labels, ...weights]);
  });
});
