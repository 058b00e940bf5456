// The real TensorBoard event files of ../shared/fixtures/tensorboard (SOURCES.md §7) decode to
// the values their writers wrote: every point checked against protobufjs's decoding of the same
// bytes (tensorboard-protos.ts, from TensorFlow's .proto files), and the stated values by hand.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventFileReader } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { compareEventFileNames, isEventFileName, parseEventFileName } from '../../electron/core/formats/tensorboard/event-file-names.js';
import { RunMetrics, listRunEventFiles, metricsAt } from '../../electron/core/formats/tensorboard/run-metrics.js';
import { sharedFixture } from '../fixtures.js';
import { eventObject, tfRecords } from './tensorboard-protos.js';

const TF2 = sharedFixture('tensorboard', 'tf2-summary-scalar');
const KERAS = sharedFixture('tensorboard', 'keras-callback-reuters');

function onlyFile(dir: string): string {
  const [name] = readdirSync(dir).filter(isEventFileName);
  return path.join(dir, name as string);
}

interface Expected {
  readonly tag: string;
  readonly step: number;
  readonly wallTime: number;
  readonly value: number;
}

/** The scalar points of a file as protobufjs decodes them: simple_value or a float tensor under the scalars plugin. */
function independentScalars(file: string): Expected[] {
  const points: Expected[] = [];
  for (const record of tfRecords(readFileSync(file))) {
    const event = eventObject(record) as { wall_time?: number; step?: number; summary?: { value?: Record<string, unknown>[] } };
    for (const value of event.summary?.value ?? []) {
      const metadata = value['metadata'] as { plugin_data?: { plugin_name?: string } } | undefined;
      const tensor = value['tensor'] as { dtype?: number; tensor_content?: Buffer } | undefined;
      if (metadata?.plugin_data?.plugin_name !== 'scalars' || tensor?.dtype !== 1 || !tensor.tensor_content) continue;
      points.push({ tag: value['tag'] as string, step: event.step ?? 0, wallTime: event.wall_time ?? 0, value: tensor.tensor_content.readFloatLE(0) });
    }
  }
  return points;
}

describe.skipIf(TF2 === null)('the TF2 tf.summary.scalar fixture (SOURCES.md §7a)', () => {
  const file = onlyFile(TF2 as string);

  it('holds my_metric = 0.5·step for steps 0–99, TF2 style, and nothing else', async () => {
    const read = await new EventFileReader(file).readNew();
    expect(read.problems).toEqual([]);
    expect(read.skipped).toEqual({});
    expect(read.fileVersion).toBe('brain.Event:2');
    expect(read.points.map((p) => [p.tag, p.step, p.value])).toEqual(Array.from({ length: 100 }, (_, s) => ['my_metric', s, 0.5 * s]));
    expect(read.points).toEqual(independentScalars(file));
    // Wall times as written: the first point 0.13341 s after the file was opened, each later one after the one before.
    expect(read.points[0]?.wallTime).toBe(1585499054.13341);
    for (let i = 1; i < read.points.length; i += 1) expect(read.points[i]?.wallTime).toBeGreaterThan(read.points[i - 1]?.wallTime as number);
    expect(read.offset).toBe(readFileSync(file).length);
    expect(read.pendingBytes).toBe(0);
  });

  it('parses its name as TensorFlow wrote it', () => {
    expect(parseEventFileName(path.basename(file))).toEqual({ timestamp: 1585499054, hostname: 'Jaakkos-Mac-mini.local', suffix: '.11684.5.v2' });
    expect(parseEventFileName('events.out.tfevents.1585499054.host')).toEqual({ timestamp: 1585499054, hostname: 'host', suffix: '' });
    expect(parseEventFileName('metrics.jsonl')).toBeNull();
    expect(isEventFileName('metrics.jsonl')).toBe(false);
    // TensorBoard's rule is looser than TensorFlow's names: "tfevents" anywhere in the base name.
    expect(isEventFileName('my.tfevents.log')).toBe(true);
  });

  it('orders a run’s files as TensorBoard reads them: by name, so by the zero-padded time they were started', () => {
    const names = ['events.out.tfevents.1600000000.b.1.2.v2', 'events.out.tfevents.0999999999.z', 'events.out.tfevents.1600000000.a.9.1.v2'];
    expect([...names].sort(compareEventFileNames)).toEqual([
      'events.out.tfevents.0999999999.z',
      'events.out.tfevents.1600000000.a.9.1.v2',
      'events.out.tfevents.1600000000.b.1.2.v2',
    ]);
  });
});

describe.skipIf(KERAS === null)('the Keras TensorBoard callback fixture (SOURCES.md §7b)', () => {
  const dir = KERAS as string;

  it('reads the scalars of train/ and validation/ and passes over the graph and the histograms, counting them', async () => {
    const train = await new EventFileReader(onlyFile(path.join(dir, 'train'))).readNew();
    expect(train.problems).toEqual([]);
    expect(train.skipped).toEqual({ graphs: 2, histograms: 120 });
    expect(train.points).toEqual(independentScalars(onlyFile(path.join(dir, 'train'))));
    expect(new Set(train.points.map((p) => p.tag))).toEqual(new Set(['epoch_loss', 'epoch_accuracy']));
    expect(train.points.filter((p) => p.tag === 'epoch_loss').map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, e) => e));
    const validation = await new EventFileReader(onlyFile(path.join(dir, 'validation'))).readNew();
    expect(validation.problems).toEqual([]);
    expect(validation.skipped).toEqual({});
    expect(validation.points).toEqual(independentScalars(onlyFile(path.join(dir, 'validation'))));
    expect(validation.points).toHaveLength(80);
  });

  it('is one run whose validation metrics are named apart, as Keras names them, and whose epoch_* series count epochs', async () => {
    const metrics = new RunMetrics();
    const files = await listRunEventFiles(dir);
    expect(files.map((f) => f.folder)).toEqual(['train', 'validation']);
    const update = await metrics.update(files);
    expect(update.problems).toEqual([]);
    expect(update.skipped).toEqual({ graphs: 2, histograms: 120 });
    expect(metrics.series.map((s) => [s.name, s.folder, s.tag, s.counts, s.points.length])).toEqual([
      ['loss', 'train', 'epoch_loss', 'epoch', 20],
      ['accuracy', 'train', 'epoch_accuracy', 'epoch', 20],
      ['val_evaluation_loss_vs_iterations', 'validation', 'evaluation_loss_vs_iterations', 'step', 20],
      ['val_evaluation_accuracy_vs_iterations', 'validation', 'evaluation_accuracy_vs_iterations', 'step', 20],
      ['val_loss', 'validation', 'epoch_loss', 'epoch', 20],
      ['val_accuracy', 'validation', 'epoch_accuracy', 'epoch', 20],
    ]);
    // The last epoch (19; Keras counts from 0 here), at iteration 320 (16 batches an epoch).
    const last = metricsAt(metrics.series, { epoch: 19, step: 320 });
    expect(last.unmatched).toEqual([]);
    expect(last.metrics).toEqual({
      loss: Math.fround(0.10855412483215332),
      accuracy: Math.fround(0.9552743434906006),
      val_evaluation_loss_vs_iterations: Math.fround(0.8784716129302979),
      val_evaluation_accuracy_vs_iterations: Math.fround(0.8190000057220459),
      val_loss: Math.fround(0.8784716129302979),
      val_accuracy: Math.fround(0.8190000057220459),
    });
  });

  it('says which series have no point at a checkpoint’s step or epoch', async () => {
    const metrics = new RunMetrics();
    await metrics.update(await listRunEventFiles(dir));
    const between = metricsAt(metrics.series, { epoch: 3, step: 50 });
    expect(Object.keys(between.metrics)).toEqual(['loss', 'accuracy', 'val_loss', 'val_accuracy']);
    expect(between.unmatched.map((u) => u.why)).toEqual([
      '"val_evaluation_loss_vs_iterations" has no point at step 50 (it has 20 between steps 16 and 320)',
      '"val_evaluation_accuracy_vs_iterations" has no point at step 50 (it has 20 between steps 16 and 320)',
    ]);
    const noEpoch = metricsAt(metrics.series, { step: 48 });
    expect(noEpoch.unmatched.map((u) => u.name)).toEqual(['loss', 'accuracy', 'val_loss', 'val_accuracy']);
    expect(noEpoch.unmatched[0]?.why).toBe(`"loss" counts epochs and the checkpoint's epoch is not known`);
  });
});
