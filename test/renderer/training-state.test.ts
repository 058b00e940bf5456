// TrainingState from the training:* events: progress, the last checkpoint's age, the stalled
// badge, a crash, and the actions with their refusals.
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../renderer/src/lib/contract';
import { StudioError } from '../../renderer/src/lib/contract';
import { STALL_FLOOR_MS } from '../../renderer/src/lib/stall';
import { TrainingState } from '../../renderer/src/state/training-state.svelte';
import { FakeStudio } from './fakes';

function setup(): { fake: FakeStudio; state: TrainingState; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const fake = new FakeStudio().handle('trainingStatus', () => ({ state: 'idle', run: null, lastExit: null }));
  return { fake, state: new TrainingState(fake.api, () => clock.now), clock };
}

const started: SessionEvent = {
  type: 'started',
  run: 'r',
  backend: 'wasm',
  backendReason: 'tfjs-node is not installed',
  parameters: 100,
  batchesPerEpoch: 10,
  totalSteps: 100,
  step: 0,
  resumedFrom: null,
};
const progress = (step: number): SessionEvent => ({
  type: 'progress',
  step,
  epoch: Math.floor(step / 10),
  batchInEpoch: step % 10,
  loss: 1 / step,
  accuracy: 0.5,
  samplesPerSecond: 640,
  etaMs: (100 - step) * 100,
  elapsedMs: step * 100,
  totalSteps: 100,
});

describe('TrainingState', () => {
  it('follows a session from start to finish', async () => {
    const { fake, state, clock } = setup();
    await state.start();
    expect(state.status.state).toBe('idle');
    expect(state.active).toBe(false);
    fake.emit('training:state', { state: 'starting', run: 'r', lastExit: null });
    fake.emit('training:event', started);
    fake.emit('training:state', { state: 'running', run: 'r', lastExit: null });
    expect(state.active).toBe(true);
    expect(state.started?.backendReason).toBe('tfjs-node is not installed');
    fake.emit('training:event', progress(10));
    clock.now += 2000;
    fake.emit('training:event', {
      type: 'checkpoint',
      id: 'r/ckpt-000000010',
      step: 10,
      path: '/ws/r/ckpt-000000010',
      reason: 'every 10 steps',
      blockedMs: 1,
      writeMs: 5,
      bytes: 1234,
      overheadShare: 0.001,
    });
    clock.now += 3000;
    state.tick();
    expect(state.progress?.step).toBe(10);
    expect(state.lastCheckpoint).toMatchObject({ id: 'r/ckpt-000000010', step: 10 });
    expect(state.checkpointAgeMs).toBe(3000);
    fake.emit('training:event', {
      type: 'finished',
      run: 'r',
      step: 10,
      epoch: 1,
      reason: 'stopped',
      overheadShare: 0.001,
      lastCheckpoint: 'r/ckpt-000000010',
    });
    fake.emit('training:state', { state: 'exited', run: 'r', lastExit: { code: 0, signal: null } });
    expect(state.active).toBe(false);
    expect(state.finished?.reason).toBe('stopped');

    // The next session starts clean.
    fake.emit('training:state', { state: 'starting', run: 'r', lastExit: null });
    expect(state.progress).toBeNull();
    expect(state.lastCheckpoint).toBeNull();
    expect(state.finished).toBeNull();
  });

  it('is stalled only when no report came for several times the usual interval, and never when paused', async () => {
    const { fake, state, clock } = setup();
    await state.start();
    fake.emit('training:state', { state: 'running', run: 'r', lastExit: null });
    for (let step = 1; step <= 10; step += 1) {
      clock.now += 2000;
      fake.emit('training:event', progress(step));
    }
    clock.now += 9000;
    state.tick();
    expect(state.stalled).toBe(false);
    clock.now += 2000;
    state.tick();
    expect(state.stalled).toBe(true);
    fake.emit('training:state', { state: 'paused', run: 'r', lastExit: null });
    expect(state.stalled).toBe(false);
    fake.emit('training:event', { type: 'resumed', step: 10 });
    fake.emit('training:state', { state: 'running', run: 'r', lastExit: null });
    expect(state.stalled).toBe(false);
    clock.now += STALL_FLOOR_MS - 1;
    state.tick();
    expect(state.stalled).toBe(false);
  });

  it("keeps a crash with its signal and stderr, and the trainer's messages", async () => {
    const { fake, state } = setup();
    await state.start();
    fake.emit('training:state', { state: 'running', run: 'r', lastExit: null });
    fake.emit('training:log', { level: 'warn', text: 'slow disk' });
    fake.emit('training:log', { level: 'debug', text: 'noise' });
    fake.emit('training:error', { code: 'io', message: 'disk full', fatal: true });
    fake.emit('training:crashed', { code: null, signal: 'SIGKILL', stderrTail: ['line 1', 'line 2'] });
    fake.emit('training:state', { state: 'crashed', run: 'r', lastExit: { code: null, signal: 'SIGKILL' } });
    expect(state.crash).toEqual({ code: null, signal: 'SIGKILL', stderrTail: ['line 1', 'line 2'] });
    expect(state.messages).toEqual([
      { level: 'warn', text: 'slow disk' },
      { level: 'error', text: 'disk full' },
    ]);
  });

  it('runs one action at a time and shows what a refused one said', async () => {
    const { fake, state } = setup();
    fake.handle('pauseTraining', () => Promise.reject(new StudioError('refused', 'nothing to pause: no training is running (idle)')));
    fake.handle('startTraining', () => ({ run: 'mlp-1', resumedFrom: null, notes: [] }));
    fake.handle('continueTraining', () => ({
      run: 'r-from-10',
      resumedFrom: { run: 'r', step: 10 },
      notes: ['run r-from-10 continues r/ckpt-000000010 with learning rate 0.01 (the parent used 0.001)'],
    }));
    const pausing = state.pause();
    expect(state.pendingAction).toBe('pause');
    expect(await pausing).toBe(false);
    expect(state.pendingAction).toBeNull();
    expect(state.actionError).toBe('nothing to pause: no training is running (idle)');
    expect(
      await state.startTraining({ config: { model: { kind: 'mlp' }, optimizer: { name: 'adam', learningRate: 0.001 }, batchSize: 32, epochs: 1, seed: 0 } }),
    ).toBe(true);
    expect(state.actionError).toBeNull();
    expect(await state.continueTraining({ from: 'r/ckpt-000000010', overrides: { learningRate: 0.01 } })).toBe(true);
    expect(state.launched?.notes[0]).toContain('learning rate 0.01');
    expect(fake.callsOf('continueTraining')).toEqual([{ from: 'r/ckpt-000000010', overrides: { learningRate: 0.01 } }]);
  });
});
