// The model presets. Layers are tfjs-layers (so the same network can be trained by model.fit
// for comparison), but every weight is initialised from our own PRNG: identical on every
// backend and in every process, whatever tfjs's global name counters say.
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../../../contract.js';
import type { Prng } from './prng.js';
import { CLASS_COUNT, IMAGE_HEIGHT, IMAGE_WIDTH } from '../data/mnist-dataset.js';

export { ModelSpecSchema, type ModelSpec } from '../../../contract.js';

/** mlp: flatten → (dense relu) × depth → dense 10 (depth 0: softmax regression). cnn: TensorFlow's MNIST classifier, (conv 3×3 relu) × depth → max-pool → flatten → dense relu → dense 10. */
export function buildModel(spec: ModelSpec): tf.Sequential {
  const model = tf.sequential({ name: `${spec.kind}` });
  if (spec.kind === 'mlp') {
    model.add(tf.layers.flatten({ inputShape: [IMAGE_HEIGHT, IMAGE_WIDTH, 1], name: 'flatten' }));
    for (let i = 0; i < spec.depth; i += 1) model.add(tf.layers.dense({ units: spec.width, activation: 'relu', name: `dense_${i}` }));
  } else {
    for (let i = 0; i < spec.depth; i += 1) {
      model.add(
        tf.layers.conv2d({
          ...(i === 0 ? { inputShape: [IMAGE_HEIGHT, IMAGE_WIDTH, 1] } : {}),
          filters: spec.filters,
          kernelSize: 3,
          activation: 'relu',
          name: `conv_${i}`,
        }),
      );
    }
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool', ...(spec.depth === 0 ? { inputShape: [IMAGE_HEIGHT, IMAGE_WIDTH, 1] } : {}) }));
    model.add(tf.layers.flatten({ name: 'flatten' }));
    model.add(tf.layers.dense({ units: spec.width, activation: 'relu', name: `dense_${spec.depth}` }));
  }
  model.add(tf.layers.dense({ units: CLASS_COUNT, name: 'logits' }));
  return model;
}

/** Stable names for the trainable weights, e.g. `dense_0/kernel`: what the checkpoint stores. */
export function weightNames(model: tf.LayersModel): string[] {
  return model.trainableWeights.map((w) => w.originalName);
}

/** Glorot-uniform kernels and zero biases, drawn from `rng` in weight order. */
export function initializeWeights(model: tf.LayersModel, rng: Prng): void {
  for (const weight of model.trainableWeights) {
    const shape = concreteShape(weight.shape);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (shape.length > 1) {
      const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const fanIn = (shape[shape.length - 2] as number) * receptive;
      const fanOut = (shape[shape.length - 1] as number) * receptive;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i += 1) values[i] = (rng.nextFloat() * 2 - 1) * limit;
    }
    tf.tidy(() => {
      weight.write(tf.tensor(values, shape, 'float32'));
    });
  }
}

/** Layer weights always have concrete shapes; tfjs types them as possibly unknown. */
export function concreteShape(shape: readonly (number | null)[]): number[] {
  return shape.map((d) => {
    if (d === null) throw new Error('a trainable weight has an unknown dimension');
    return d;
  });
}

export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

export function parameterCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + concreteShape(w.shape).reduce((a, b) => a * b, 1), 0);
}
