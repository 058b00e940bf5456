// Training through the Studio, as the app and the CLI drive it: a trainer process, its events,
// pause / save now / resume / stop, and continuing a run with the changes that may apply.
import { describe, expect, it } from 'vitest';
import type { SessionEvent, StudioApi, TrainingStatus } from '../../electron/contract.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { miniMnistDir, tempWorkspace } from '../trainer/helpers.js';
import { onCleanup } from '../store/helpers.js';

const CONFIG = {
  model: { kind: 'mlp' as const, width: 16 },
  optimizer: { name: 'adam' as const, learningRate: 0.01 },
  batchSize: 16,
  epochs: 50,
  seed: 3,
  validationCount: 100,
  trainLimit: 320,
};

interface Watch {
  readonly events: SessionEvent[];
  readonly states: TrainingStatus['state'][];
  readonly warnings: string[];
  until(what: string, check: () => boolean, timeoutMs?: number): Promise<void>;
}

function watch(api: StudioApi): Watch {
  const events: SessionEvent[] = [];
  const states: TrainingStatus['state'][] = [];
  const warnings: string[] = [];
  const waiting = new Set<() => void>();
  const heard = (): void => {
    for (const look of [...waiting]) look();
  };
  api.on('training:event', (e) => {
    events.push(e);
    heard();
  });
  api.on('training:state', (s) => {
    states.push(s.state);
    heard();
  });
  api.on('warning', (w) => {
    warnings.push(w.message);
    heard();
  });
  return {
    events,
    states,
    warnings,
    // Looked at on every event, state and warning: what is waited for is one of them.
    until: (what, check, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (check()) return resolve();
        const timer = setTimeout(() => {
          waiting.delete(look);
          reject(new Error(`timed out waiting for ${what}; events: ${events.map((e) => e.type).join(',')}`));
        }, timeoutMs);
        const look = (): void => {
          if (!check()) return;
          clearTimeout(timer);
          waiting.delete(look);
          resolve();
        };
        waiting.add(look);
      }),
  };
}

async function openStudio(): Promise<StudioApi> {
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: tempWorkspace(), create: true });
  return studio.api;
}

describe('training through the Studio', () => {
  it('starts a trainer process, pauses, saves now, resumes and stops gracefully, reporting each', { timeout: 90_000 }, async () => {
    const api = await openStudio();
    const w = watch(api);
    const started = await api.startTraining({ run: 'live', config: { ...CONFIG, dataDir: miniMnistDir() }, backend: 'cpu', logEvery: 1 });
    expect(started).toEqual({ run: 'live', resumedFrom: null, notes: [] });
    await w.until('training to start', () => w.events.some((e) => e.type === 'started'));
    await w.until('a logged point', () => w.events.some((e) => e.type === 'metric' && e.kind === 'train'));
    expect((await api.pauseTraining()).state).not.toBe('idle');
    await w.until('the pause', () => w.events.some((e) => e.type === 'paused'));
    await api.saveNow();
    await w.until('the requested save', () => w.events.some((e) => e.type === 'checkpoint' && e.reason === 'requested'));
    await api.resumeTraining();
    await w.until('the resume', () => w.events.some((e) => e.type === 'resumed'));
    const stopped = await api.stopTraining();
    expect(stopped.state).toBe('exited');
    expect(stopped.lastExit).toEqual({ code: 0, signal: null });
    const finished = w.events.find((e) => e.type === 'finished');
    expect(finished?.type === 'finished' && finished.reason).toBe('stopped');
    expect(w.events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.reason)).toEqual(['requested', 'graceful stop']);
    expect(w.states).toEqual(expect.arrayContaining(['starting', 'running', 'paused', 'stopping', 'exited']));
    // Every checkpoint carries the training metrics at its step.
    const listed = await api.listCheckpoints({ run: 'live' });
    for (const checkpoint of listed) expect(Object.keys(checkpoint.metrics)).toEqual(expect.arrayContaining(['loss', 'accuracy']));
  });

  it('continues a run on its recorded data and backend, applying only what may change, named once', { timeout: 90_000 }, async () => {
    const api = await openStudio();
    const w = watch(api);
    await api.startTraining({ run: 'base', config: { ...CONFIG, epochs: 1, dataDir: miniMnistDir() }, backend: 'cpu', maxSteps: 4 });
    await w.until('the first run to end', () => w.states.includes('exited'));
    const refused = await api.continueTraining({ from: 'latest', overrides: { fixed: { batchSize: 32 } } }).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(refused?.code).toBe('usage');
    expect(refused?.message).toContain('cannot change the batch size: the checkpoint was trained with 16, not 32');
    w.states.length = 0;
    const continued = await api.continueTraining({ from: 'latest', overrides: { epochs: 2, learningRate: 0.002, maxSteps: 3 } });
    expect(continued.run).toBe('base-from-4');
    expect(continued.resumedFrom).toEqual({ run: 'base', step: 4 });
    expect(continued.notes).toEqual([
      'run base-from-4 continues base/ckpt-000000004 with epochs 2 (the parent was set for 1); learning rate 0.002 (the parent used 0.01)',
    ]);
    expect(w.warnings).toEqual(continued.notes);
    await w.until('the continuation to end', () => w.states.includes('exited'));
    const starts = w.events.filter((e) => e.type === 'started');
    // Trained on the parent's data (the mini MNIST: 320 examples in batches of 16) and backend.
    expect(starts.at(-1)).toMatchObject({ run: 'base-from-4', backend: 'cpu', batchesPerEpoch: 20, step: 4 });
    const config = await api.runConfig({ run: 'base-from-4' });
    expect(config.parent).toEqual({ run: 'base', step: 4 });
    expect(config.config).toMatchObject({
      training: { dataDir: miniMnistDir(), optimizer: { learningRate: 0.002 }, epochs: 2 },
      backend: 'cpu',
      changes: expect.any(Array),
    });
  });
});
