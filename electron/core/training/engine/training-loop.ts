// The training loop: ours rather than model.fit, so that every piece of state — weights,
// optimizer slots and counters, the shuffle's PRNG, the position in the data — is known,
// saved, and restored exactly. One call to trainStep() is one optimisation step.
import { StudioError } from '../../../contract.js';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { LoadedCheckpoint } from '../../checkpoint/reader.js';
import type { Tensor as StoredTensor } from '../../checkpoint/safetensors.js';
import type { MnistSplit } from '../data/mnist-dataset.js';
import { buildModel, concreteShape, initializeWeights, trainableVariables, weightNames } from './models.js';
import { type SlotValue, TrainingOptimizer } from './optimizers.js';
import type { TrainingConfig } from '../../../contract.js';
import { Prng, PrngStateSchema } from './prng.js';
import type { TrainingData } from '../data/splits.js';
import { makeBatch } from './batches.js';

export { TrainingConfigSchema, type TrainingConfig } from '../../../contract.js';

/** What the manifest's `rng` holds: the shuffle PRNG as it was when the current epoch began. */
export const LoopRngSchema = z.object({ shuffleAtEpochStart: PrngStateSchema });

const ITERATIONS_TENSOR = 'optimizer/iterations';

export interface StepResult {
  readonly step: number;
  readonly epoch: number;
  readonly batchInEpoch: number;
  readonly loss: number;
  readonly accuracy: number;
  /** Examples in this step's batch. */
  readonly examples: number;
}

export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
}

/** The training state copied out of the backend: what a checkpoint holds. */
export interface StateSnapshot {
  readonly step: number;
  readonly epoch: number;
  readonly batchInEpoch: number;
  readonly rng: z.infer<typeof LoopRngSchema>;
  readonly model: StoredTensor[];
  readonly optimizer: StoredTensor[];
}

function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export { weightsHash } from './weights-hash.js';

export class TrainingLoop {
  step = 0;
  /** The step counted at epoch 0, batch 0: 0, or another program's step this run started from. */
  stepsBefore = 0;
  epoch = 0;
  batchInEpoch = 0;
  private order: Uint32Array | null = null;
  private shuffleAtEpochStart;

  private constructor(
    readonly config: TrainingConfig,
    readonly data: TrainingData,
    readonly model: tf.Sequential,
    readonly optimizer: TrainingOptimizer,
    private readonly names: readonly string[],
    private shuffle: Prng,
  ) {
    this.shuffleAtEpochStart = shuffle.state();
  }

  /** A fresh run: weights from the seed, the shuffle from the seed + 1. */
  static create(config: TrainingConfig, data: TrainingData): TrainingLoop {
    const model = buildModel(config.model);
    initializeWeights(model, Prng.fromSeed(config.seed));
    const names = weightNames(model);
    const optimizer = new TrainingOptimizer(config.optimizer, trainableVariables(model), names);
    return new TrainingLoop(config, data, model, optimizer, names, Prng.fromSeed(config.seed + 1));
  }

  /** Continues from a checkpoint; `config` must describe the same model and optimizer. */
  static restore(config: TrainingConfig, data: TrainingData, checkpoint: LoadedCheckpoint): TrainingLoop {
    const where = checkpoint.dir;
    const rng = LoopRngSchema.safeParse(checkpoint.manifest.rng);
    if (!rng.success) throw new StudioError('refused', `${where}: its RNG state is not one this trainer wrote`);
    const loop = TrainingLoop.create(config, data);
    loop.writeWeights(checkpoint.model, where);
    const slots = new Map<string, SlotValue>();
    let iterations = 0;
    for (const tensor of checkpoint.optimizer) {
      if (tensor.name === ITERATIONS_TENSOR) iterations = Number(new DataView(tensor.data.buffer, tensor.data.byteOffset, 8).getBigInt64(0, true));
      else if (tensor.dtype === 'F32') slots.set(tensor.name, { name: tensor.name, shape: tensor.shape, values: toFloat32(tensor.data) });
    }
    loop.optimizer.restore(slots, iterations, where);
    const { step, epoch, batchInEpoch } = checkpoint.manifest;
    loop.step = step;
    loop.epoch = epoch;
    loop.batchInEpoch = batchInEpoch;
    loop.shuffle = Prng.fromState(rng.data.shuffleAtEpochStart);
    loop.shuffleAtEpochStart = loop.shuffle.state();
    // Mid-epoch: regenerate this epoch's order exactly as it was drawn.
    if (batchInEpoch > 0) loop.order = loop.shuffle.permutation(data.train.count);
    return loop;
  }

  /**
   * Starts from another program's weights (already mapped to our names and checked for shape):
   * a new pass over the data from the seed's shuffle, counting steps on from `step`. Optimizer
   * state comes from `optimizer` where given; anything missing starts as a fresh optimizer's.
   */
  static startFrom(
    config: TrainingConfig,
    data: TrainingData,
    initial: { readonly where: string; readonly model: readonly StoredTensor[]; readonly optimizer: readonly StoredTensor[]; readonly step: number },
  ): TrainingLoop {
    const loop = TrainingLoop.create(config, data);
    loop.writeWeights(initial.model, initial.where);
    const given = new Map(initial.optimizer.map((t) => [t.name, t]));
    const slots = new Map<string, SlotValue>();
    for (const { name, tensor } of loop.optimizer.stateTensors()) {
      const saved = given.get(name);
      const values = saved ? toFloat32(saved.data) : (tensor.dataSync() as Float32Array);
      slots.set(name, { name, shape: tensor.shape, values });
    }
    loop.optimizer.restore(slots, given.size > 0 ? initial.step : 0, initial.where);
    loop.step = initial.step;
    loop.stepsBefore = initial.step;
    return loop;
  }

  private writeWeights(tensors: readonly StoredTensor[], where: string): void {
    const byName = new Map(tensors.map((t) => [t.name, t]));
    for (const weight of this.model.trainableWeights) {
      const saved = byName.get(weight.originalName);
      const shape = concreteShape(weight.shape);
      if (!saved) throw new StudioError('refused', `${where}: weight "${weight.originalName}" is missing; was it saved from another model?`);
      if (saved.dtype !== 'F32' || saved.shape.join(',') !== shape.join(',')) {
        throw new StudioError(
          'refused',
          `${where}: weight "${weight.originalName}" is ${saved.dtype} [${saved.shape.join(', ')}], the model needs F32 [${shape.join(', ')}]`,
        );
      }
      tf.tidy(() => {
        weight.write(tf.tensor(toFloat32(saved.data), shape, 'float32'));
      });
    }
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.data.train.count / this.config.batchSize);
  }

  get finished(): boolean {
    return this.epoch >= this.config.epochs;
  }

  get parameterCount(): number {
    return this.names.length === 0 ? 0 : this.model.countParams();
  }

  trainStep(): StepResult {
    if (this.order === null) {
      this.shuffleAtEpochStart = this.shuffle.state();
      this.order = this.shuffle.permutation(this.data.train.count);
    }
    const start = this.batchInEpoch * this.config.batchSize;
    const end = Math.min(start + this.config.batchSize, this.data.train.count);
    const { xs, ys } = makeBatch(this.data.train, this.order, start, end);
    const variables = trainableVariables(this.model);
    let logits: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = this.model.apply(xs, { training: true }) as tf.Tensor;
      logits = tf.keep(out);
      return tf.losses.softmaxCrossEntropy(ys, out) as tf.Scalar;
    }, variables);
    this.optimizer.apply(variables.map((v) => grads[v.name] as tf.Tensor));
    const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits as unknown as tf.Tensor, 1), tf.argMax(ys, 1)), 'float32')));
    const result = {
      step: this.step + 1,
      epoch: this.epoch,
      batchInEpoch: this.batchInEpoch,
      loss: (value.dataSync() as Float32Array)[0] as number,
      accuracy: (accuracy.dataSync() as Float32Array)[0] as number,
      examples: end - start,
    };
    tf.dispose([xs, ys, value, accuracy, logits as unknown as tf.Tensor, ...Object.values(grads)]);
    this.step += 1;
    this.batchInEpoch += 1;
    if (this.batchInEpoch >= this.batchesPerEpoch) {
      this.epoch += 1;
      this.batchInEpoch = 0;
      this.order = null;
      this.shuffleAtEpochStart = this.shuffle.state();
    }
    return result;
  }

  /** Mean loss and accuracy over a split, in batches, without training. */
  evaluate(split: MnistSplit, batchSize = 1000): Evaluation {
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < split.count; start += batchSize) {
      const end = Math.min(start + batchSize, split.count);
      const { xs, ys } = makeBatch(split, null, start, end);
      const [loss, hits] = tf.tidy(() => {
        const logits = this.model.apply(xs, { training: false }) as tf.Tensor;
        return [tf.mul(tf.losses.softmaxCrossEntropy(ys, logits), end - start), tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(ys, 1)), 'float32'))];
      });
      lossSum += loss?.dataSync()[0] ?? 0;
      correct += hits?.dataSync()[0] ?? 0;
      tf.dispose([xs, ys, loss as tf.Tensor, hits as tf.Tensor]);
    }
    return { loss: lossSum / split.count, accuracy: correct / split.count };
  }

  /**
   * Copies the whole training state out of the backend. This copy is the only time a save
   * blocks training; everything after it (checksums, hashing, writing) happens elsewhere.
   */
  snapshot(allocate: BufferAllocator = (bytes) => new ArrayBuffer(bytes)): StateSnapshot {
    const model = this.model.trainableWeights.map((weight) => ({
      name: weight.originalName,
      dtype: 'F32' as const,
      shape: concreteShape(weight.shape),
      data: floatBytes(copyOut(weight.read(), allocate)),
    }));
    const optimizer: StoredTensor[] = this.optimizer.stateTensors().map(({ name, tensor }) => ({
      name,
      dtype: 'F32' as const,
      shape: [...tensor.shape],
      data: floatBytes(copyOut(tensor, allocate)),
    }));
    const iterations = new Uint8Array(8);
    new DataView(iterations.buffer).setBigInt64(0, BigInt(this.optimizer.iterations), true);
    optimizer.push({ name: ITERATIONS_TENSOR, dtype: 'I64', shape: [], data: iterations });
    return {
      step: this.step,
      epoch: this.epoch,
      batchInEpoch: this.batchInEpoch,
      rng: { shuffleAtEpochStart: this.shuffleAtEpochStart },
      model,
      optimizer,
    };
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** Provides the memory a snapshot is copied into (the background saver recycles it). */
export type BufferAllocator = (bytes: number) => ArrayBuffer;

/**
 * A copy the backend can never change. On the cpu backend dataSync() returns the tensor's own
 * storage, so it is copied into memory from `allocate` (recycled, already paged in: a fresh
 * 100 MB allocation can cost more in page faults than the copy itself); the other backends
 * already hand back a fresh copy.
 */
function copyOut(tensor: tf.Tensor, allocate: BufferAllocator): Float32Array {
  const values = tensor.dataSync() as Float32Array;
  if (tf.getBackend() !== 'cpu') return values;
  const copy = new Float32Array(allocate(values.byteLength));
  copy.set(values);
  return copy;
}

function toFloat32(bytes: Uint8Array): Float32Array {
  // Our writer aligns every tensor, but a view must start on a multiple of 4 to be used in place.
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}
