// Live in place (issue 16): a watching Studio follows another program writing into the folder. A
// TensorFlow group saved as TensorFlow saves it (data shard first, the index last, by a rename from a
// temporary name) is usable only once whole; an event file's new records reach listeners as
// 'metrics:appended' records holding exactly the new points; a run folder appearing deep under the
// workspace (Keras' logs/fit/<date>/train) is found. Every wait is for an event; none for the clock
// (the bound in nextEvent only ends a failing test).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckpointInfo, MetricRecord } from '../../electron/contract.js';
import { EventFileWriter } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { onCleanup, useTempWorkspaces } from '../store/helpers.js';
import { nextEvent, openStudio, scratchFolder, tutorialFolder } from './in-place-helpers.js';

useTempWorkspaces();

const WALL = 1_700_000_000;

async function writerIn(dir: string): Promise<EventFileWriter> {
  fs.mkdirSync(dir, { recursive: true });
  const writer = await EventFileWriter.create(dir, { now: WALL * 1000 });
  onCleanup(() => writer.close());
  return writer;
}

describe('a watched folder read in place', () => {
  it('a new TensorFlow group, data first and index last, is usable only once its index is there', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root, { watch: true });
    const seen: (CheckpointInfo | 'index written')[] = [];
    api.on('catalog:added', (c) => seen.push(c));
    api.on('catalog:changed', (c) => seen.push(c));

    const appeared = nextEvent(api, 'catalog:added', (c) => c.id === 'model-11000');
    fs.copyFileSync(path.join(root, 'model-10000.data-00000-of-00001'), path.join(root, 'model-11000.data-00000-of-00001'));
    const first = await appeared;
    expect([first.status, first.statusReason]).toEqual([
      'incomplete',
      'model-11000.index is not there (TensorFlow writes it last: still being written, or left by a save that failed)',
    ]);

    const whole = nextEvent(api, 'catalog:changed', (c) => c.id === 'model-11000' && c.status === 'unverified');
    const temporary = path.join(root, 'model-11000.index.tempstate1234567890');
    fs.copyFileSync(path.join(root, 'model-10000.index'), temporary);
    seen.push('index written');
    fs.renameSync(temporary, path.join(root, 'model-11000.index'));
    const complete = await whole;
    expect(complete.files?.map((f) => f.name)).toEqual(['model-11000.index', 'model-11000.data-00000-of-00001']);
    const beforeIndex = seen.slice(0, seen.indexOf('index written')).filter((c): c is CheckpointInfo => c !== 'index written' && c.id === 'model-11000');
    expect(beforeIndex.length).toBeGreaterThan(0);
    expect(beforeIndex.every((c) => c.status === 'incomplete')).toBe(true);
    // Not in the state file yet (the Saver writes it after the index): the state file's latest stays latest.
    expect((await api.latest()).id).toBe('model-10000');
  });

  it('an event file growing sends its new points, and only those, as metrics:appended records', async () => {
    const { root } = scratchFolder();
    const writer = await writerIn(path.join(root, 'logs', 'run1'));
    await writer.append(0, WALL, [['loss', 1]]);
    const { api } = await openStudio(root, { watch: true });
    expect((await api.metricHistory({ run: 'logs/run1' })).records.map((r) => r['step'])).toEqual([0]);

    const received: MetricRecord[] = [];
    api.on('metrics:appended', ({ run, records }) => {
      if (run === 'logs/run1') received.push(...records);
    });
    const firstAppend = nextEvent(api, 'metrics:appended', ({ run }) => run === 'logs/run1');
    await writer.append(1, WALL + 1, [
      ['loss', 0.5],
      ['accuracy', 0.75],
    ]);
    await firstAppend;
    expect(received).toEqual([{ kind: 'train', step: 1, time: new Date((WALL + 1) * 1000).toISOString(), loss: 0.5, accuracy: 0.75 }]);

    const both = new Promise<void>((resolve) => {
      const off = api.on('metrics:appended', () => {
        if (received.some((r) => r['step'] === 3)) {
          off();
          resolve();
        }
      });
    });
    await writer.append(2, WALL + 2, [['loss', 0.25]]);
    await writer.append(3, WALL + 3, [['loss', 0.125]]);
    await both;
    expect(received.map((r) => [r['step'], r['loss']])).toEqual([
      [1, 0.5],
      [2, 0.25],
      [3, 0.125],
    ]);
    expect((await api.metricHistory({ run: 'logs/run1' })).records.map((r) => r['step'])).toEqual([0, 1, 2, 3]);
  });

  it('a run folder appearing deep (logs/fit/<new>/train and validation) is found and listed as one run', async () => {
    const { root } = scratchFolder();
    fs.mkdirSync(path.join(root, 'logs', 'fit'), { recursive: true });
    const { api } = await openStudio(root, { watch: true });
    expect(await api.listRuns()).toEqual([]);

    const run = 'logs/fit/20240501-102030';
    const found = nextEvent(api, 'metrics:appended', (p) => p.run === run && p.records.some((r) => r['kind'] === 'validation'));
    const train = await writerIn(path.join(root, run, 'train'));
    const validation = await writerIn(path.join(root, run, 'validation'));
    await train.append(0, WALL, [['epoch_loss', 0.9]]);
    await validation.append(0, WALL, [['epoch_loss', 1.1]]);
    await found;
    expect((await api.listRuns()).map((r) => [r.name, r.layout])).toEqual([[run, 'tensorboard']]);
    expect((await api.metricHistory({ run })).records.map((r) => [r['kind'], r['step'], r['loss'] ?? r['val_loss']])).toEqual([
      ['train', 0, Math.fround(0.9)],
      ['validation', 0, Math.fround(1.1)],
    ]);
  });
});
