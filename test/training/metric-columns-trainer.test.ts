// Our trainer writes metrics.columns beside metrics.jsonl as it trains: after a real session the
// file alone (read without writing, so nothing is rebuilt) holds every train and validation value
// the log holds, and covers the whole log.
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptimizerSpecSchema } from '../../electron/contract.js';
import { COLUMNS_FILE, decodeColumns } from '../../electron/core/checkpoint/metric-columns.js';
import { readRunColumns } from '../../electron/core/checkpoint/metric-columns-file.js';
import { readMetrics } from '../../electron/core/checkpoint/run-files.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { kindSeries } from '../../electron/core/studio/metric-buckets.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { newControl, runTrainingSession } from '../../electron/core/training/session/training-session.js';
import { readFileSync } from 'node:fs';
import { useTempWorkspaces } from '../store/helpers.js';

const makeWorkspace = useTempWorkspaces();

describe("the trainer's metrics.columns", () => {
  it('holds every value metrics.jsonl holds, written as the session trains', { timeout: 120_000 }, async () => {
    const store = await CheckpointStore.open(makeWorkspace().root, { access: 'create' });
    const request = TrainRequestSchema.parse({
      workspace: store.root,
      run: 'cols',
      config: {
        model: { kind: 'mlp', width: 8, depth: 1, filters: 4 },
        optimizer: OptimizerSpecSchema.parse({ name: 'sgd', learningRate: 0.05 }),
        batchSize: 50,
        epochs: 1,
        seed: 3,
        validationCount: 50,
        dataDir: null,
        trainLimit: 200,
      },
      resume: null,
      checkpoints: { onStop: true },
      logEvery: 1,
      backend: 'cpu',
    });
    await runTrainingSession({ store, request, control: newControl(), onEvent: () => undefined });
    const runDir = store.runDir('cols');
    const file = path.join(runDir, COLUMNS_FILE);
    const { blocks } = decodeColumns(file, readFileSync(file));
    expect(blocks.at(-1)?.jsonlEnd).toBe(statSync(path.join(runDir, 'metrics.jsonl')).size);

    const columns = await readRunColumns(runDir, { write: false });
    expect(columns).toMatchObject({ source: 'columns', problem: null });
    const records = await readMetrics(runDir);
    for (const kind of ['train', 'validation'] as const) {
      const own = records.filter((r) => r['kind'] === kind);
      expect(own.length).toBeGreaterThan(0);
      const answer = kindSeries(kind, columns.tables, { points: 100_000 });
      expect(answer?.steps).toEqual(own.map((r) => r['step']));
      expect(answer?.columns['loss']).toEqual(own.map((r) => r['loss']));
      expect(answer?.columns['accuracy']).toEqual(own.map((r) => r['accuracy']));
    }
  });
});
