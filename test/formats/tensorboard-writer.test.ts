// Our runs' TensorBoard event file: written as TensorFlow writes one (byte for byte, against the
// TF2 fixture), read back to the same values by our reader and by an independent decoder
// (protobufjs from TensorFlow's .proto files, tensorboard-protos.ts), and written by training
// beside metrics.jsonl without the store taking it for anything else in the run folder.
import { readFileSync, readdirSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OptimizerSpecSchema } from '../../electron/contract.js';
import { isUnsavedRun, readMetrics, removeAbandonedRun } from '../../electron/core/checkpoint/run-files.js';
import { importFolder } from '../../electron/core/import/import-folder.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { EventFileReader } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { isEventFileName } from '../../electron/core/formats/tensorboard/event-file-names.js';
import { EventFileWriter, encodeFileVersionEvent, encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { TensorBoardLog, stepScalarsOf } from '../../electron/core/training/session/tensorboard-log.js';
import { newControl, runTrainingSession } from '../../electron/core/training/session/training-session.js';
import { sharedFixture } from '../fixtures.js';
import { trainingState } from '../store/helpers.js';
import { type Scratch, scratch } from './tensorboard-helpers.js';
import { eventObject, tfRecords } from './tensorboard-protos.js';

let s: Scratch;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

const STEPS: readonly { step: number; wallTime: number; scalars: [string, number][] }[] = [
  {
    step: 1,
    wallTime: 1700000001.125,
    scalars: [
      ['loss', 2.302585092994046],
      ['accuracy', 0.1],
    ],
  },
  {
    step: 2,
    wallTime: 1700000002.5,
    scalars: [
      ['loss', NaN],
      ['accuracy', Infinity],
    ],
  },
  {
    step: 2 ** 40,
    wallTime: 1700000003.75,
    scalars: [
      ['val_loss', -0],
      ['val_accuracy', 1e-30],
    ],
  },
];

async function writeSteps(dir: string): Promise<string> {
  const writer = await EventFileWriter.create(dir, { now: 1_700_000_000_900, hostname: 'testhost', pid: 4242 });
  for (const { step, wallTime, scalars } of STEPS) await writer.append(step, wallTime, scalars);
  await writer.close();
  return writer.file;
}

describe('our TensorBoard event file', () => {
  it('is named and framed as TF2 names and writes one: byte for byte what tf.summary.scalar wrote in the fixture', async () => {
    const file = await writeSteps(s.dir);
    expect(path.basename(file)).toMatch(/^events\.out\.tfevents\.1700000000\.testhost\.4242\.\d+\.v2$/);
    const fixtureDir = sharedFixture('tensorboard', 'tf2-summary-scalar');
    if (fixtureDir === null) return;
    const fixture = path.join(fixtureDir, readdirSync(fixtureDir)[0] as string);
    const read = await new EventFileReader(fixture).readNew();
    const ours = [
      frameRecord(encodeFileVersionEvent(1585499054)),
      ...read.points.map((p) => frameRecord(encodeScalarEvent(p.step, p.wallTime, [[p.tag, p.value]]))),
    ];
    expect(Buffer.compare(Buffer.concat(ours), readFileSync(fixture))).toBe(0);
  });

  it('reads back through our reader to the values written, as 32-bit floats', async () => {
    const file = await writeSteps(s.dir);
    const read = await new EventFileReader(file).readNew();
    expect(read.problems).toEqual([]);
    expect(read.fileVersion).toBe('brain.Event:2');
    expect(read.points).toEqual(
      STEPS.flatMap(({ step, wallTime, scalars }) => scalars.map(([tag, value]) => ({ tag, step, wallTime, value: Math.fround(value) }))),
    );
  });

  it('reads back through an independent TFRecord and protobuf decoder to the values written', async () => {
    const file = await writeSteps(s.dir);
    const [first, ...events] = tfRecords(readFileSync(file)).map(eventObject);
    expect(first).toEqual({ wall_time: 1700000000, file_version: 'brain.Event:2', what: 'file_version' });
    expect(events).toHaveLength(STEPS.length);
    events.forEach((event, i) => {
      const expected = STEPS[i] as (typeof STEPS)[number];
      expect(event['wall_time']).toBe(expected.wallTime);
      expect(event['step']).toBe(expected.step);
      const values = (event['summary'] as { value: Record<string, unknown>[] }).value;
      expect(
        values.map((v) => {
          const tensor = v['tensor'] as { dtype: number; tensor_shape: object; tensor_content: Buffer };
          return [v['tag'], tensor.dtype, tensor.tensor_shape, tensor.tensor_content.readFloatLE(0), v['metadata']];
        }),
      ).toEqual(expected.scalars.map(([tag, value]) => [tag, 1, {}, Math.fround(value), { plugin_data: { plugin_name: 'scalars' } }]));
    });
  });

  it('leaves a torn last record, as a killed trainer would, for the reader to take as not written yet', async () => {
    const file = await writeSteps(s.dir);
    const size = readFileSync(file).length;
    truncateSync(file, size - 7);
    const read = await new EventFileReader(file).readNew();
    expect(read.problems).toEqual([]);
    expect(read.points.map((p) => p.step)).toEqual([1, 1, 2, 2]);
    expect(read.pendingBytes).toBeGreaterThan(0);
  });

  it('never writes over a file already there, and refuses appends after close', async () => {
    const first = await EventFileWriter.create(s.dir, { now: 1_700_000_000_000, hostname: 'h', pid: 1 });
    const second = await EventFileWriter.create(s.dir, { now: 1_700_000_000_000, hostname: 'h', pid: 1 });
    expect(second.file).not.toBe(first.file);
    await first.close();
    await expect(first.append(1, 1, [['loss', 1]])).rejects.toThrow(/written after it was closed/);
    await second.close();
  });
});

describe('training writes the event file beside metrics.jsonl', () => {
  it('maps each metrics record to the tags our charts use; a checkpoint record is not a metric', () => {
    expect(
      stepScalarsOf({
        kind: 'train',
        step: 5,
        epoch: 0,
        batch: 5,
        loss: 1.5,
        accuracy: 0.25,
        meanLoss: null,
        samplesPerSecond: 100,
        time: '2024-01-01T00:00:00.500Z',
      }),
    ).toEqual({
      step: 5,
      wallTime: 1704067200.5,
      scalars: [
        ['loss', 1.5],
        ['accuracy', 0.25],
        ['samplesPerSecond', 100],
      ],
    });
    expect(stepScalarsOf({ kind: 'validation', step: 10, epoch: 0, loss: 0.5, accuracy: 0.75, time: 'x' }, 2000)).toEqual({
      step: 10,
      wallTime: 2,
      scalars: [
        ['val_loss', 0.5],
        ['val_accuracy', 0.75],
      ],
    });
    expect(stepScalarsOf({ kind: 'checkpoint', step: 10, bytes: 100 })).toBeNull();
  });

  it('through the run writer: the store lists the run as before, a retry of an unsaved run takes it over, a failed start leaves nothing', async () => {
    const store = await CheckpointStore.open(path.join(s.dir, 'ws'));
    const writer = await store.createRun('r', { parent: null, config: {} });
    writer.addMetricsLog(new TensorBoardLog(writer.dir));
    await writer.appendMetrics({ kind: 'train', step: 1, epoch: 0, loss: 2, accuracy: 0.5, time: new Date().toISOString() });
    await writer.appendMetrics({ kind: 'validation', step: 1, epoch: 0, loss: 3, accuracy: 0.25, time: new Date().toISOString() });
    const eventFiles = (): string[] => readdirSync(writer.dir).filter(isEventFileName);
    expect(eventFiles()).toHaveLength(1);
    const read = await new EventFileReader(path.join(writer.dir, eventFiles()[0] as string)).readNew();
    expect(read.points.map((p) => [p.tag, p.step, p.value])).toEqual([
      ['loss', 1, 2],
      ['accuracy', 1, 0.5],
      ['val_loss', 1, 3],
      ['val_accuracy', 1, 0.25],
    ]);
    // Logged steps, no checkpoint: still a run a retry may take over (its log is set aside, the event file goes).
    expect(await isUnsavedRun(writer.dir)).toBe(true);
    await writer.save(trainingState(1));
    await store.catalog.refreshRun('r');
    expect(store.catalog.getRun('r')?.checkpointCount).toBe(1);
    expect(store.catalog.list().map((c) => c.id)).toEqual(['r/ckpt-000000001']);
    await writer.close();

    const unsaved = await store.createRun('u', { parent: null, config: {} });
    unsaved.addMetricsLog(new TensorBoardLog(unsaved.dir));
    await unsaved.appendMetrics({ kind: 'train', step: 1, loss: 1, time: new Date().toISOString() });
    await unsaved.close();
    const retry = await store.createRun('u', { parent: null, config: {} });
    expect(readdirSync(retry.dir).filter(isEventFileName)).toEqual([]);
    expect(readdirSync(retry.dir).some((name) => name.startsWith('metrics-unsaved-'))).toBe(true);
    await retry.close();

    const failed = await store.createRun('f', { parent: null, config: {} });
    failed.addMetricsLog(new TensorBoardLog(failed.dir));
    await failed.close();
    expect(await removeAbandonedRun(failed.dir)).toBe(true);
  });

  it('goes with its run when the run is imported into another workspace, and is not taken for a stray file', async () => {
    const source = await CheckpointStore.open(path.join(s.dir, 'source'));
    const writer = await source.createRun('r', { parent: null, config: {} });
    writer.addMetricsLog(new TensorBoardLog(writer.dir));
    await writer.appendMetrics({ kind: 'train', step: 1, loss: 2, time: new Date().toISOString() });
    await writer.save(trainingState(1));
    await writer.close();
    const [name] = readdirSync(writer.dir).filter(isEventFileName);
    const target = await CheckpointStore.open(path.join(s.dir, 'target'));
    const imported = await importFolder(target, writer.dir, { into: 'copy' });
    expect(imported.notes.filter((n) => n.includes('not imported'))).toEqual([]);
    expect(readFileSync(path.join(target.runDir('copy'), name as string))).toEqual(readFileSync(path.join(writer.dir, name as string)));
  });

  it('in a real training session: the event file holds every train and validation value metrics.jsonl holds', { timeout: 120_000 }, async () => {
    const store = await CheckpointStore.open(path.join(s.dir, 'ws'));
    const request = TrainRequestSchema.parse({
      workspace: store.root,
      run: 'tb',
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
    const runDir = store.runDir('tb');
    const [eventFile] = readdirSync(runDir).filter(isEventFileName);
    expect(eventFile).toMatch(/^events\.out\.tfevents\.\d{10}\..+\.\d+\.\d+\.v2$/);
    const read = await new EventFileReader(path.join(runDir, eventFile as string)).readNew();
    expect(read.problems).toEqual([]);
    const expected = (await readMetrics(runDir)).flatMap((record) => {
      const prefix = record['kind'] === 'train' ? '' : record['kind'] === 'validation' ? 'val_' : null;
      if (prefix === null) return [];
      return ['loss', 'accuracy'].map((name) => [`${prefix}${name}`, record['step'], Math.fround(record[name] as number)]);
    });
    expect(expected.length).toBeGreaterThan(4);
    expect(read.points.filter((p) => /^(val_)?(loss|accuracy)$/.test(p.tag)).map((p) => [p.tag, p.step, p.value])).toEqual(expected);
  });
});
