// The session accounts for what checkpointing costs training, and says so when it is too much.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readMetrics } from '../../electron/core/checkpoint/run-files.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { SessionEvent } from '../../electron/contract.js';
import { overheadWarning } from '../../electron/core/training/session/session-events.js';
import { newControl, runTrainingSession } from '../../electron/core/training/session/training-session.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { OptimizerSpecSchema } from '../../electron/contract.js';

let workspace = '';
afterEach(() => rmSync(workspace, { recursive: true, force: true }));

describe('the overhead warning', () => {
  it('speaks above 3.5% of training time, and only once there are enough steps to judge', () => {
    expect(overheadWarning(0.036, 50)).toBe('checkpointing has blocked training 3.6% of the time (over 3.5%): save less often');
    expect(overheadWarning(0.035, 50)).toBeNull();
    expect(overheadWarning(0.5, 10)).toBeNull();
    expect(overheadWarning(Number.NaN, 50)).toBeNull();
  });
});

describe('checkpoint overhead', () => {
  it('records each save’s cost in the manifest, the metrics log and the events', async () => {
    workspace = mkdtempSync(path.join(os.tmpdir(), 'overhead-'));
    const store = await CheckpointStore.open(workspace);
    const events: SessionEvent[] = [];
    const request = TrainRequestSchema.parse({
      workspace: store.root,
      run: 'heavy',
      config: {
        model: { kind: 'mlp', width: 1024, depth: 1, filters: 4 },
        optimizer: OptimizerSpecSchema.parse({ name: 'adam', learningRate: 0.001 }),
        batchSize: 2,
        epochs: 1,
        seed: 3,
        validationCount: 50,
        dataDir: null,
        trainLimit: 60,
      },
      // A 10 MB save after every 2-example step.
      checkpoints: { everySteps: 1, onStop: true },
      logEvery: 5,
      backend: 'cpu',
    });
    const result = await runTrainingSession({ store, request, control: newControl(), onEvent: (event) => events.push(event) });
    expect(result.saved.length).toBe(30);
    // Even saving 10 MB after every step, the loop waits only for the copies (a worker writes).
    expect(result.overheadShare).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'checkpoint')).toHaveLength(30);
    const finished = events.find((e) => e.type === 'finished');
    expect(finished?.type === 'finished' && finished.overheadShare).toBe(result.overheadShare);

    const records = (await readMetrics(path.join(workspace, 'heavy'))).filter((r) => r.kind === 'checkpoint');
    expect(records).toHaveLength(30);
    for (const record of records) {
      expect(record.blockedMs).toEqual(expect.any(Number));
      expect(record.writeMs).toEqual(expect.any(Number));
      expect(record.bytes).toBeGreaterThan(9_000_000);
      expect(record.weightsHash).toMatch(/^[0-9a-f]{64}$/);
    }
    const manifest = (await store.load('heavy/ckpt-000000030')).manifest;
    expect(manifest.cost?.blockedMs).toBe(records.at(-1)?.blockedMs);
    expect(manifest.extra.weightsHash).toBe(records.at(-1)?.weightsHash);
    // The catalog hands the cost on, so the app's details can show what the save cost training.
    await store.catalog.refreshRun('heavy');
    expect(store.catalog.get('heavy/ckpt-000000030')?.saveBlockedMs).toBe(records.at(-1)?.blockedMs);
  }, 60_000);
});
