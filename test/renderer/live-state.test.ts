// Live from any writer, in the renderer (issue 17): LiveState from `metrics:appended` and
// `run:progress` (updated N s ago, a run's state as its log tells it, the pause), the progress
// strip's figures from the trainer or a log (a stalled run has no ETA), and the Training tab's
// reset when another workspace opens.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunProgress } from '../../renderer/src/lib/contract';
import { EMPTY_RUN_SERIES } from '../../renderer/src/lib/metric-series';
import { logFigures, trainerFigures } from '../../renderer/src/lib/progress-figures';
import { FIRST_QUIET_MS, QUIET_FLOOR_MS, STALL_FLOOR_MS } from '../../renderer/src/lib/stall';
import { LiveState } from '../../renderer/src/state/live-state.svelte';
import { runStatus } from '../../renderer/src/lib/run-status';
import type { TrainingStatus } from '../../renderer/src/lib/contract';
import type { RunHistory } from '../../renderer/src/state/metrics-state.svelte';
import { TrainingState } from '../../renderer/src/state/training-state.svelte';
import { FakeStudio, settle } from './fakes';

const progress = (run: string, step: number, overrides: Partial<RunProgress> = {}): RunProgress => ({
  run,
  step,
  epoch: 1,
  plannedSteps: 1000,
  plannedEpochs: 10,
  samplesPerSecond: 320,
  loss: 0.25,
  stepsPerSecond: 10,
  etaMs: (1000 - step) * 100,
  lastRecordAt: '2026-01-01T00:00:10.000Z',
  lastCheckpoint: { step: 100, time: '2026-01-01T00:00:05.000Z' },
  ...overrides,
});

function setup(): { fake: FakeStudio; live: LiveState; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const fake = new FakeStudio();
  const live = new LiveState(fake.api, () => clock.now);
  live.start();
  return { fake, live, clock };
}

describe('LiveState', () => {
  it('tells when shown runs last got points, from another process or the app’s trainer', () => {
    const { fake, live, clock } = setup();
    expect(live.updatedAt(['cli', 'ours'])).toBeNull();
    fake.emit('metrics:appended', { run: 'cli', records: [{ kind: 'train', step: 1, loss: 1 }] });
    expect(live.updatedAt(['cli', 'ours'])).toBe(1_000_000);
    expect(live.updatedAt(['ours'])).toBeNull();
    clock.now += 3000;
    fake.emit('training:event', {
      type: 'started',
      run: 'ours',
      backend: 'cpu',
      backendReason: null,
      parameters: 1,
      batchesPerEpoch: 1,
      totalSteps: 1,
      step: 0,
      resumedFrom: null,
    });
    fake.emit('training:event', { type: 'metric', kind: 'train', step: 1, epoch: 0, time: '2026-01-01T00:00:00.000Z', values: { loss: 1 } });
    expect(live.updatedAt(['cli', 'ours'])).toBe(1_003_000);
    expect(live.latestWritten()).toBe('cli');
  });

  it('says a run another process writes is running, then stalled, finished at its planned step, and not running when nothing came', () => {
    const { fake, live, clock } = setup();
    fake.emit('run:progress', progress('idle-run', 50));
    expect(live.writtenState('idle-run')).toBe('stopped');
    for (let i = 0; i < 5; i++) {
      clock.now += 100;
      fake.emit('metrics:appended', { run: 'cli', records: [] });
      fake.emit('run:progress', progress('cli', 10 * (i + 1)));
    }
    live.tick();
    expect(live.writtenState('cli')).toBe('running');
    clock.now += STALL_FLOOR_MS + 1;
    live.tick();
    expect(live.writtenState('cli')).toBe('stalled');
    fake.emit('run:progress', progress('cli', 1000));
    expect(live.writtenState('cli')).toBe('finished');
    expect(live.writtenState('unknown')).toBeNull();
  });

  it('pause keeps the histories as they were and counts what arrives; resume shows it', () => {
    const { fake, live } = setup();
    const before: RunHistory = { series: EMPTY_RUN_SERIES, loading: false, error: null, total: { train: 0, validation: 0 } };
    const after: RunHistory = { ...before, loading: false };
    fake.emit('metrics:appended', { run: 'cli', records: [{ step: 1 }] });
    live.pause(new Map([['cli', before]]));
    expect(live.paused).toBe(true);
    expect(live.heldBack(['cli'])).toBe(0);
    fake.emit('metrics:appended', { run: 'cli', records: [{ step: 2 }, { step: 3 }] });
    fake.emit('metrics:appended', { run: 'hidden', records: [{ step: 2 }] });
    expect(live.heldBack(['cli'])).toBe(2);
    expect(live.shown('cli', after)).toBe(before);
    // A run shown only after the pause has nothing kept: it shows what it has.
    expect(live.shown('other', after)).toBe(after);
    live.resume();
    expect(live.shown('cli', after)).toBe(after);
    expect(live.heldBack(['cli'])).toBe(0);
  });

  it('reads a run’s progress from its log once, and forgets everything with the workspace', async () => {
    const { fake, live } = setup();
    fake.handle('runProgress', (params) => progress(params?.run ?? '', 700));
    await live.ensureProgress('done');
    await live.ensureProgress('done');
    expect(fake.callsOf('runProgress')).toEqual([{ run: 'done' }]);
    expect(live.progress.get('done')?.step).toBe(700);
    fake.emit('metrics:appended', { run: 'done', records: [] });
    live.pause(new Map());
    live.forget();
    expect(live.progress.size).toBe(0);
    expect(live.updatedAt(['done'])).toBeNull();
    expect(live.paused).toBe(false);
    await live.ensureProgress('done');
    expect(fake.callsOf('runProgress')).toHaveLength(2);
  });
});

describe('a run written without our lock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const IDLE = { state: 'idle', run: null, lastExit: null } as unknown as TrainingStatus;
  const statusOf = (live: LiveState, run: string): string => runStatus(run, null, IDLE, live.writing.has(run));

  it('reads running while its log grows, finished once quiet for five usual intervals (never under the floor)', () => {
    vi.useFakeTimers();
    const fake = new FakeStudio();
    const live = new LiveState(fake.api, () => Date.now());
    live.start();
    expect(statusOf(live, 'script')).toBe('finished');
    // A script appending to metrics.jsonl every second.
    for (let i = 0; i < 5; i += 1) {
      fake.emit('metrics:appended', { run: 'script', records: [{ kind: 'train', step: i, loss: 1 }] });
      vi.advanceTimersByTime(1000);
    }
    expect(statusOf(live, 'script')).toBe('running');
    // The last growth was 1 s ago: quiet QUIET_FLOOR_MS after it, not before.
    vi.advanceTimersByTime(QUIET_FLOOR_MS - 1001);
    expect(statusOf(live, 'script')).toBe('running');
    vi.advanceTimersByTime(1);
    expect(statusOf(live, 'script')).toBe('finished');
    // It grows again: running again.
    fake.emit('metrics:appended', { run: 'script', records: [{ kind: 'train', step: 9, loss: 1 }] });
    expect(statusOf(live, 'script')).toBe('running');
  });

  it('waits out a TensorBoard writer’s 120 s flushes: FIRST_QUIET_MS after one growth, then five of its intervals', () => {
    vi.useFakeTimers();
    const fake = new FakeStudio();
    const live = new LiveState(fake.api, () => Date.now());
    live.start();
    fake.emit('metrics:appended', { run: 'events', records: [{ kind: 'train', step: 1, loss: 1 }] });
    vi.advanceTimersByTime(120_000);
    expect(statusOf(live, 'events')).toBe('running');
    fake.emit('metrics:appended', { run: 'events', records: [{ kind: 'train', step: 2, loss: 1 }] });
    vi.advanceTimersByTime(5 * 120_000 - 1);
    expect(statusOf(live, 'events')).toBe('running');
    vi.advanceTimersByTime(1);
    expect(statusOf(live, 'events')).toBe('finished');
    expect(FIRST_QUIET_MS).toBeGreaterThan(120_000);
  });

  it('leaves the app’s trainer’s run to the trainer, and forgets with the workspace', () => {
    vi.useFakeTimers();
    const fake = new FakeStudio();
    const live = new LiveState(fake.api, () => Date.now());
    live.start();
    fake.emit('training:state', { state: 'running', run: 'ours', lastExit: null });
    fake.emit('metrics:appended', { run: 'ours', records: [{ kind: 'train', step: 1, loss: 1 }] });
    fake.emit('metrics:appended', { run: 'other', records: [{ kind: 'train', step: 1, loss: 1 }] });
    expect([...live.writing]).toEqual(['other']);
    live.forget();
    expect(live.writing.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('progress figures', () => {
  it('from a log: step of the planned total, epochs counted from 1, the last checkpoint’s age; no ETA once stalled', () => {
    const now = Date.parse('2026-01-01T00:00:35.000Z');
    const figures = logFigures(progress('cli', 600), now, false);
    expect(figures).toMatchObject({
      step: 600,
      total: 1000,
      epoch: 2,
      epochs: 10,
      samplesPerSecond: 320,
      etaMs: 40_000,
      loss: 0.25,
      lastCheckpoint: { step: 100, ageMs: 30_000 },
    });
    expect(logFigures(progress('cli', 600), now, true).etaMs).toBeNull();
  });

  it('from the trainer: none before it reported (the log is read instead), no ETA once stalled', () => {
    expect(trainerFigures({ started: null, progress: null, lastCheckpoint: null }, 0, false)).toBeNull();
    const p = {
      type: 'progress',
      step: 5,
      epoch: 0,
      batchInEpoch: 5,
      loss: 1,
      accuracy: 0.5,
      samplesPerSecond: 10,
      etaMs: 900,
      elapsedMs: 100,
      totalSteps: 100,
    } as const;
    expect(trainerFigures({ started: null, progress: p, lastCheckpoint: null }, 0, false)?.etaMs).toBe(900);
    expect(trainerFigures({ started: null, progress: p, lastCheckpoint: null }, 0, true)?.etaMs).toBeNull();
  });
});

describe('TrainingState when another workspace opens', () => {
  it('drops an ended session and keeps a running one', async () => {
    const fake = new FakeStudio().handle('trainingStatus', () => ({ state: 'exited', run: 'old', lastExit: { code: 0, signal: null } }));
    const state = new TrainingState(fake.api);
    await state.start();
    fake.emit('training:event', { type: 'finished', run: 'old', step: 10, epoch: 0, reason: 'completed', lastCheckpoint: 'old/ckpt-10', overheadShare: 0.01 });
    expect(state.finished).not.toBeNull();
    state.leaveWorkspace();
    expect(state.elsewhere).toBe(true);
    expect(state.finished).toBeNull();

    fake.emit('training:state', { state: 'starting', run: 'new', lastExit: null });
    expect(state.elsewhere).toBe(false);
    fake.emit('training:state', { state: 'running', run: 'new', lastExit: null });
    state.leaveWorkspace();
    expect(state.elsewhere).toBe(false);
    await settle();
  });
});
