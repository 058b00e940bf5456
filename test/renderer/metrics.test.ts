// Metric histories for the charts: history pages and live events merged by step, validation
// values named alike from both, and the columns a chart draws.
import { describe, expect, it } from 'vitest';
import type { MetricRecord, SessionEvent } from '../../renderer/src/lib/contract';
import { EMPTY_SERIES, addPoints, metricBases, pointFromEvent, pointFromRecord } from '../../renderer/src/lib/metric-series';
import { MetricsState } from '../../renderer/src/state/metrics-state.svelte';
import { FakeStudio, settle } from './fakes';

const trainRecord = (step: number): MetricRecord => ({
  kind: 'train',
  step,
  epoch: 0,
  batch: step,
  loss: 2 / step,
  accuracy: step / 100,
  meanLoss: 1,
  samplesPerSecond: 500,
  time: '2026-11-27T08:00:00.000Z',
});
const validationRecord = (step: number): MetricRecord => ({
  kind: 'validation',
  step,
  epoch: 0,
  loss: 3 / step,
  accuracy: step / 200,
  time: '2026-11-27T08:00:00.000Z',
});
const metricEvent = (kind: 'train' | 'validation', step: number): SessionEvent => ({
  type: 'metric',
  kind,
  step,
  epoch: 0,
  values: kind === 'train' ? { loss: 2 / step, accuracy: step / 100, meanLoss: 1 } : { val_loss: 3 / step, val_accuracy: step / 200 },
  time: 't',
});

describe('metric series', () => {
  it('reads history records as points, every numeric field a metric, validation values under their val_ names, and skips the rest', () => {
    const at = Date.parse('2026-11-27T08:00:00.000Z');
    expect(pointFromRecord(trainRecord(10))).toEqual({
      kind: 'train',
      point: { step: 10, time: at, values: { loss: 0.2, accuracy: 0.1, meanLoss: 1, samplesPerSecond: 500 } },
    });
    expect(pointFromRecord(validationRecord(10))).toEqual({ kind: 'validation', point: { step: 10, time: at, values: { val_loss: 0.3, val_accuracy: 0.05 } } });
    expect(pointFromRecord({ kind: 'checkpoint', step: 10, bytes: 5 })).toBeNull();
    expect(pointFromRecord({ kind: 'train', step: -1, loss: 1 })).toBeNull();
    expect(pointFromRecord({ kind: 'train', step: 3, loss: null, time: 'not a time' })).toEqual({
      kind: 'train',
      point: { step: 3, time: null, values: { loss: null } },
    });
    expect(pointFromEvent(metricEvent('validation', 10) as Extract<SessionEvent, { type: 'metric' }>).point.values).toEqual({
      val_loss: 0.3,
      val_accuracy: 0.05,
    });
  });

  it('appends points after the last step, and merges others by step, times kept beside the values', () => {
    let s = addPoints(EMPTY_SERIES, [
      { step: 10, time: 1, values: { loss: 1 } },
      { step: 20, time: 2, values: { loss: 0.5 } },
    ]);
    s = addPoints(s, [{ step: 30, time: 3, values: { loss: 0.25, accuracy: 0.9 } }]);
    expect(s).toEqual({ steps: [10, 20, 30], times: [1, 2, 3], columns: { loss: [1, 0.5, 0.25], accuracy: [null, null, 0.9] } });
    s = addPoints(s, [
      { step: 5, time: 0, values: { loss: 2 } },
      { step: 20, time: 2.5, values: { loss: 0.4 } },
    ]);
    expect(s.steps).toEqual([5, 10, 20, 30]);
    expect(s.times).toEqual([0, 1, 2.5, 3]);
    expect(s.columns['loss']).toEqual([2, 1, 0.4, 0.25]);
  });

  it('names the cards a run needs: a validation metric goes with its train metric', () => {
    const run = {
      train: { steps: [1], times: [null], columns: { loss: [1], meanLoss: [1] } },
      validation: { steps: [1], times: [null], columns: { val_loss: [1], val_top5: [1] } },
    };
    expect(metricBases(run).sort()).toEqual(['loss', 'meanLoss', 'top5']);
  });
});

describe('MetricsState', () => {
  it("reads every page of a run's history and adds the live points of the run in training", async () => {
    const fake = new FakeStudio().handle('metricHistory', (params) =>
      params?.after === undefined
        ? { run: 'r', records: [trainRecord(10), validationRecord(10)], next: '100' }
        : { run: 'r', records: [trainRecord(20), { kind: 'checkpoint', step: 20 }], next: null },
    );
    const state = new MetricsState(fake.api);
    state.start();
    fake.emit('training:event', {
      type: 'started',
      run: 'r',
      backend: 'cpu',
      backendReason: null,
      parameters: 1,
      batchesPerEpoch: 1,
      totalSteps: 100,
      step: 0,
      resumedFrom: null,
    });
    // A live point arrives before the history is read: it is kept, and not doubled.
    fake.emit('training:event', metricEvent('train', 30));
    await state.ensure('r');
    await state.ensure('r');
    expect(fake.callsOf('metricHistory')).toEqual([
      { run: 'r', limit: 5000 },
      { run: 'r', limit: 5000, after: '100' },
    ]);
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
      Promise.reject(
        Object.assign(new Error(params?.run === 'new' ? 'new: no such run in /ws' : 'permission denied'), { code: params?.run === 'new' ? 'not-found' : 'io' }),
      ),
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
