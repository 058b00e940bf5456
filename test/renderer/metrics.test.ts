// Metric histories for the charts: history pages and live events merged by step, validation
// values named alike from both, and the columns a chart draws.
import { describe, expect, it } from 'vitest';
import { alignSeries } from '../../renderer/src/lib/chart-data';
import type { MetricRecord, SessionEvent } from '../../renderer/src/lib/contract';
import { EMPTY_SERIES, TRAIN_KEYS, addPoints, pointFromRecord } from '../../renderer/src/lib/metric-series';
import { MetricsState } from '../../renderer/src/state/metrics-state.svelte';
import { FakeStudio, settle } from './fakes';

const trainRecord = (step: number): MetricRecord => ({ kind: 'train', step, epoch: 0, batch: step, loss: 2 / step, accuracy: step / 100, meanLoss: 1, samplesPerSecond: 500, time: 't' });
const validationRecord = (step: number): MetricRecord => ({ kind: 'validation', step, epoch: 0, loss: 3 / step, accuracy: step / 200, time: 't' });
const metricEvent = (kind: 'train' | 'validation', step: number): SessionEvent => ({
  type: 'metric',
  kind,
  step,
  epoch: 0,
  values: kind === 'train' ? { loss: 2 / step, accuracy: step / 100, meanLoss: 1 } : { val_loss: 3 / step, val_accuracy: step / 200 },
  time: 't',
});

describe('metric series', () => {
  it('reads history records as points, validation values under their val_ names, and skips the rest', () => {
    expect(pointFromRecord(trainRecord(10))).toEqual({ kind: 'train', point: { step: 10, values: { loss: 0.2, accuracy: 0.1 } } });
    expect(pointFromRecord(validationRecord(10))).toEqual({ kind: 'validation', point: { step: 10, values: { val_loss: 0.3, val_accuracy: 0.05 } } });
    expect(pointFromRecord({ kind: 'checkpoint', step: 10, bytes: 5 })).toBeNull();
    expect(pointFromRecord({ kind: 'train', step: -1, loss: 1 })).toBeNull();
    expect(pointFromRecord({ kind: 'train', step: 3, loss: null })).toEqual({ kind: 'train', point: { step: 3, values: { loss: null } } });
  });

  it('appends points after the last step, and merges others by step', () => {
    let s = addPoints(EMPTY_SERIES, [{ step: 10, values: { loss: 1 } }, { step: 20, values: { loss: 0.5 } }], TRAIN_KEYS);
    s = addPoints(s, [{ step: 30, values: { loss: 0.25, accuracy: 0.9 } }], TRAIN_KEYS);
    expect(s).toEqual({ steps: [10, 20, 30], columns: { loss: [1, 0.5, 0.25], accuracy: [null, null, 0.9] } });
    s = addPoints(s, [{ step: 5, values: { loss: 2 } }, { step: 20, values: { loss: 0.4 } }], TRAIN_KEYS);
    expect(s.steps).toEqual([5, 10, 20, 30]);
    expect(s.columns['loss']).toEqual([2, 1, 0.4, 0.25]);
  });

  it('aligns train and validation curves on one step axis', () => {
    const train = { steps: [10, 20, 30], columns: { loss: [1, 0.5, 0.3] } };
    const validation = { steps: [20, 40], columns: { val_loss: [0.6, 0.2] } };
    expect(alignSeries(train, 'loss', validation, 'val_loss')).toEqual([
      [10, 20, 30, 40],
      [1, 0.5, 0.3, null],
      [null, 0.6, null, 0.2],
    ]);
  });
});

describe('MetricsState', () => {
  it('reads every page of a run\'s history and adds the live points of the run in training', async () => {
    const fake = new FakeStudio().handle('metricHistory', (params) =>
      params?.after === undefined
        ? { run: 'r', records: [trainRecord(10), validationRecord(10)], next: '100' }
        : { run: 'r', records: [trainRecord(20), { kind: 'checkpoint', step: 20 }], next: null },
    );
    const state = new MetricsState(fake.api);
    state.start();
    fake.emit('training:event', { type: 'started', run: 'r', backend: 'cpu', backendReason: null, parameters: 1, batchesPerEpoch: 1, totalSteps: 100, step: 0, resumedFrom: null });
    // A live point arrives before the history is read: it is kept, and not doubled.
    fake.emit('training:event', metricEvent('train', 30));
    await state.ensure('r');
    await state.ensure('r');
    expect(fake.callsOf('metricHistory')).toEqual([{ run: 'r', limit: 20000 }, { run: 'r', limit: 20000, after: '100' }]);
    fake.emit('training:event', metricEvent('validation', 30));
    fake.emit('training:event', metricEvent('train', 30));
    const { series, loading, error } = state.history('r');
    expect(loading).toBe(false);
    expect(error).toBeNull();
    expect(series.train.steps).toEqual([10, 20, 30]);
    expect(series.validation.steps).toEqual([10, 30]);
    expect(series.validation.columns['val_loss']).toEqual([0.3, 0.1]);
  });

  it('treats a run not yet on disk as empty, and shows any other failure', async () => {
    const fake = new FakeStudio().handle('metricHistory', (params) =>
      Promise.reject(Object.assign(new Error(params?.run === 'new' ? 'new: no such run in /ws' : 'permission denied'), { code: params?.run === 'new' ? 'not-found' : 'io' })),
    );
    const state = new MetricsState(fake.api);
    await state.ensure('new');
    await state.ensure('locked');
    await settle();
    expect(state.history('new').error).toBeNull();
    expect(state.history('locked').error).toBe('permission denied');
    // A failed read is tried again next time.
    await state.ensure('locked');
    expect(fake.callsOf('metricHistory')).toHaveLength(3);
  });
});
