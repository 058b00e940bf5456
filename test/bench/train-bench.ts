// npm run bench:train — training throughput on each backend available here, the stall one
// checkpoint causes compared with a synchronous save of the same state, and our loop against
// model.fit on the same backend and data. Everything is measured side by side in one run.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { writeCheckpoint } from '../../electron/core/checkpoint/writer.js';
import { BackgroundSaver } from '../../electron/core/training/session/background-saver.js';
import { type BackendName, selectBackend } from '../../electron/core/training/engine/backend.js';
import { loadMnistLike } from '../../electron/core/training/data/mnist-dataset.js';
import { buildModel } from '../../electron/core/training/engine/models.js';
import { holdOutValidation, type TrainingData } from '../../electron/core/training/data/splits.js';
import { makeBatch } from '../../electron/core/training/engine/batches.js';
import { type TrainingConfig, TrainingLoop } from '../../electron/core/training/engine/training-loop.js';
import { benchTrainerProcess } from './trainer-process.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function config(kind: 'mlp' | 'cnn', width: number, depth: number): TrainingConfig {
  return {
    model: { kind, width, depth, filters: 32 },
    optimizer: { name: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0.9, rho: 0.9 },
    batchSize: 64,
    epochs: 1000,
    seed: 1,
    validationCount: 1000,
    dataDir: null,
    trainLimit: 12_800,
  };
}

function samplesPerSecond(loop: TrainingLoop, steps: number): number {
  loop.trainStep(); // warm-up: kernels compiled, memory allocated
  const start = performance.now();
  for (let i = 0; i < steps; i += 1) loop.trainStep();
  return (steps * loop.config.batchSize) / ((performance.now() - start) / 1000);
}

async function fitSamplesPerSecond(data: TrainingData, cfg: TrainingConfig, steps: number): Promise<number> {
  const model = buildModel(cfg.model);
  model.compile({ optimizer: tf.train.adam(cfg.optimizer.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const count = (steps + 1) * cfg.batchSize;
  const { xs, ys } = makeBatch(data.train, null, 0, count);
  // Logits from the model; categoricalCrossentropy expects probabilities, so add a softmax.
  const withSoftmax = tf.sequential({ layers: [model, tf.layers.activation({ activation: 'softmax' })] });
  withSoftmax.compile({ optimizer: tf.train.adam(cfg.optimizer.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await withSoftmax.fit(xs.slice(0, cfg.batchSize), ys.slice(0, cfg.batchSize), { batchSize: cfg.batchSize, epochs: 1, verbose: 0, shuffle: false });
  const start = performance.now();
  await withSoftmax.fit(xs.slice(cfg.batchSize), ys.slice(cfg.batchSize), { batchSize: cfg.batchSize, epochs: 1, verbose: 0, shuffle: false });
  const rate = (steps * cfg.batchSize) / ((performance.now() - start) / 1000);
  tf.dispose([xs, ys]);
  withSoftmax.dispose();
  return rate;
}

async function throughput(data: TrainingData, backends: BackendName[]): Promise<string[]> {
  const lines: string[] = [];
  for (const backend of backends) {
    await selectBackend(backend);
    for (const kind of ['mlp', 'cnn'] as const) {
      const steps = Math.max(3, Math.round((kind === 'mlp' ? 60 : backend === 'cpu' ? 4 : 12) * SCALE));
      const loop = TrainingLoop.create(config(kind, 128, 1), data);
      const rate = samplesPerSecond(loop, steps);
      loop.dispose();
      lines.push(`${kind.padEnd(4)} on ${backend.padEnd(10)} ${rate.toFixed(0).padStart(7)} samples/s (batch 64, ${steps} steps)`);
    }
    const steps = Math.round(60 * SCALE);
    const ours: number[] = [];
    const fit: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const loop = TrainingLoop.create(config('mlp', 128, 1), data);
      ours.push(samplesPerSecond(loop, steps));
      loop.dispose();
      fit.push(await fitSamplesPerSecond(data, config('mlp', 128, 1), steps));
    }
    lines.push(
      `mlp on ${backend}: our loop ${median(ours).toFixed(0)} samples/s vs model.fit ${median(fit).toFixed(0)} samples/s (medians of 5 alternating runs): ratio ${(median(ours) / median(fit)).toFixed(2)}x (target >= 1.0x)`,
    );
  }
  return lines;
}

/** ~10M parameters: 784 → 2880 → 2560 → 10. */
async function stall(data: TrainingData): Promise<string[]> {
  await selectBackend('cpu');
  const root = mkdtempSync(path.join(os.tmpdir(), 'bench-train-'));
  try {
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('stall', { parent: null, config: {} });
    const loop = TrainingLoop.create({ ...config('mlp', 2880, 2), batchSize: 32 }, data);
    const params = loop.parameterCount;
    loop.trainStep();
    const saver = new BackgroundSaver(
      writer.saveTarget,
      'stall',
      () => undefined,
      () => undefined,
    );
    const blocked: number[] = [];
    const sync: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      // Asynchronous: what the loop waits for is the room check and the in-memory copy.
      await saver.drain();
      const before = performance.now();
      await saver.waitForRoom();
      const snapshot = loop.snapshot(saver.allocate);
      blocked.push(performance.now() - before);
      saver.submit({ ...snapshot, step: 100 + i, trainingTimeMs: 0, metrics: {}, backend: 'cpu', parent: null }, 0, 'bench');
      await saver.drain();
      // Synchronous: the loop would wait for the copy and the whole write.
      const syncStart = performance.now();
      const state = loop.snapshot();
      await writeCheckpoint(writer.dir, 'stall', { ...state, step: 200 + i, trainingTimeMs: 0, metrics: {}, backend: 'cpu', parent: null });
      sync.push(performance.now() - syncStart);
    }
    await saver.close();
    // Overhead while training: the same loop with and without a save every SAVE_EVERY steps.
    const steps = Math.round(30 * SCALE);
    const plainStart = performance.now();
    for (let i = 0; i < steps; i += 1) loop.trainStep();
    const plainMs = performance.now() - plainStart;
    await writer.close();
    loop.dispose();
    const b = median(blocked);
    const s = median(sync);
    const stepMs = plainMs / steps;
    return [
      `stall per checkpoint, ${(params / 1e6).toFixed(1)}M-parameter mlp + Adam (${((params * 12) / 1e6).toFixed(0)} MB): loop blocked ${b.toFixed(1)} ms vs synchronous save ${s.toFixed(0)} ms: ratio ${(b / s).toFixed(3)}x (target <= 0.05x)`,
      `checkpoint overhead when saving once a minute: ${((b / 60_000) * 100).toFixed(3)}% of training time (${b.toFixed(1)} ms blocked per 60 s; steps of this model take ${stepMs.toFixed(0)} ms on cpu; target <= 1%)`,
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function available(): Promise<BackendName[]> {
  const names: BackendName[] = [];
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      await selectBackend(name);
      names.push(name);
    } catch (error) {
      console.log(`${name}: not available here (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return names;
}

const data = holdOutValidation(await loadMnistLike(), 1000, 12_800);
console.log(`training benchmark: node ${process.version}, ${os.cpus().length} cores, scale ${SCALE}`);
const backends = await available();
for (const line of await throughput(data, backends)) console.log(line);
for (const line of await stall(data)) console.log(line);
for (const line of await benchTrainerProcess(backends.includes('wasm') ? 'wasm' : 'cpu')) console.log(line);
