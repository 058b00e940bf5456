// The training state the store and S3 benchmarks save: a model of float32 layers and Adam's slots.
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import type { TrainingState } from '../../electron/core/checkpoint/writer.js';

/** A model of `params` float32 parameters in layers of at most 4M, plus Adam's m and v slots. */
export function makeState(params: number, step: number): TrainingState {
  const model: Tensor[] = [];
  const optimizer: Tensor[] = [];
  let left = params;
  let layer = 0;
  while (left > 0) {
    const size = Math.min(left, 4_000_000);
    const fill = (seed: number): Uint8Array => {
      const values = new Float32Array(size);
      for (let i = 0; i < size; i += 1) values[i] = Math.sin(i * 0.001 + seed);
      return new Uint8Array(values.buffer);
    };
    model.push({ name: `layer${layer}/kernel`, dtype: 'F32', shape: [size], data: fill(layer) });
    optimizer.push({ name: `layer${layer}/kernel/m`, dtype: 'F32', shape: [size], data: fill(layer + 0.5) });
    optimizer.push({ name: `layer${layer}/kernel/v`, dtype: 'F32', shape: [size], data: fill(layer + 0.25) });
    left -= size;
    layer += 1;
  }
  optimizer.push({ name: 'iterations', dtype: 'I64', shape: [], data: new Uint8Array(8) });
  return {
    step,
    epoch: 0,
    batchInEpoch: step,
    trainingTimeMs: 0,
    metrics: { loss: 1 / (step + 1) },
    rng: { seed: 1 },
    backend: 'cpu',
    parent: null,
    model,
    optimizer,
  };
}
