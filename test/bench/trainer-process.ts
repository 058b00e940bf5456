// The trainer process against training in-process, on the same request: what running training
// in a supervised child (as the app and the CLI do) costs, and how soon "save now" is on disk.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SessionEvent } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { newControl, runTrainingSession } from '../../electron/core/training/session/training-session.js';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const CONFIG = {
  model: { kind: 'mlp' as const, width: 128, depth: 1, filters: 32 },
  optimizer: { name: 'adam' as const, learningRate: 0.001 },
  batchSize: 64,
  epochs: 1000,
  seed: 1,
  validationCount: 1000,
  trainLimit: 12_800,
  dataDir: null,
};

/** Steps before measuring: a new process's first steps compile kernels and warm the JIT. */
const WARM_UP_STEPS = 50;

/**
 * Samples per second between the first progress report past WARM_UP_STEPS and the last one, as
 * the session's host receives them (through IPC, for the trainer process; both ends arrive the
 * same way, so what is measured is the training, not one message's latency).
 */
function rate(events: readonly { at: number; event: SessionEvent }[]): number {
  const progress = events.filter((e) => e.event.type === 'progress');
  const from = progress.find((e) => e.event.type === 'progress' && e.event.step >= WARM_UP_STEPS);
  const to = progress.at(-1);
  if (!from || !to || from.event.type !== 'progress' || to.event.type !== 'progress' || to === from) throw new Error('the session reported no progress');
  return ((to.event.step - from.event.step) * CONFIG.batchSize) / ((to.at - from.at) / 1000);
}

async function inProcess(workspace: string, run: string, steps: number, backend: 'wasm' | 'cpu'): Promise<number> {
  const store = await CheckpointStore.open(workspace);
  const request = TrainRequestSchema.parse({
    workspace: store.root,
    run,
    config: CONFIG,
    backend,
    maxSteps: steps,
    checkpoints: { onStop: false },
    logEvery: 10,
  });
  const events: { at: number; event: SessionEvent }[] = [];
  await runTrainingSession({ store, request, control: newControl(), onEvent: (event) => events.push({ at: performance.now(), event }) });
  return rate(events);
}

async function throughTrainer(workspace: string, run: string, steps: number, backend: 'wasm' | 'cpu'): Promise<number> {
  const studio = new Studio();
  await studio.api.openWorkspace({ path: workspace, create: true });
  const events: { at: number; event: SessionEvent }[] = [];
  studio.api.on('training:event', (event) => events.push({ at: performance.now(), event }));
  const ended = new Promise<void>((resolve) => studio.api.on('training:state', (s) => (s.state === 'exited' || s.state === 'crashed') && resolve()));
  await studio.api.startTraining({ run, config: CONFIG, backend, maxSteps: steps, checkpoints: { onStop: false }, logEvery: 10 });
  await ended;
  await studio.close();
  return rate(events);
}

async function saveNowLatency(workspace: string, backend: 'wasm' | 'cpu'): Promise<number[]> {
  const studio = new Studio();
  await studio.api.openWorkspace({ path: workspace, create: true });
  const latencies: number[] = [];
  let asked = 0;
  let waiting: (() => void) | null = null;
  studio.api.on('training:event', (event) => {
    if (event.type === 'checkpoint' && event.reason === 'requested' && waiting) {
      latencies.push(performance.now() - asked);
      waiting();
    }
  });
  const started = new Promise<void>((resolve) => studio.api.on('training:event', (e) => e.type === 'started' && resolve()));
  await studio.api.startTraining({ run: 'save-now', config: CONFIG, backend, checkpoints: { onStop: false }, logEvery: 10 });
  await started;
  for (let i = 0; i < 10; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const saved = new Promise<void>((resolve) => (waiting = resolve));
    asked = performance.now();
    await studio.api.saveNow();
    await saved;
  }
  await studio.api.killTraining();
  await studio.close();
  return latencies;
}

export async function benchTrainerProcess(backend: 'wasm' | 'cpu'): Promise<string[]> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bench-trainer-'));
  try {
    const steps = 500;
    const inside: number[] = [];
    const child: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      // Alternating which goes first, so neither always runs on a machine the other just warmed.
      if (i % 2 === 0) child.push(await throughTrainer(root, `child-${i}`, steps, backend));
      inside.push(await inProcess(root, `inside-${i}`, steps, backend));
      if (i % 2 === 1) child.push(await throughTrainer(root, `child-${i}`, steps, backend));
    }
    const latencies = await saveNowLatency(root, backend);
    return [
      `mlp on ${backend}: through the trainer process ${median(child).toFixed(0)} samples/s vs in-process ${median(inside).toFixed(0)} samples/s (medians of 6 alternating runs, steps ${WARM_UP_STEPS}-${steps}): ratio ${(median(child) / median(inside)).toFixed(2)}x (target >= 0.97x)`,
      `"save now" -> checkpoint on disk: median ${median(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length} requests while training (mlp on ${backend}, 1.2 MB checkpoints)`,
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
