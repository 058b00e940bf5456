// More of other programs' layouts read in place from a bucket (issue 18), against the real
// gateway: a Hugging Face Trainer's `checkpoint-N/` folders (metrics from trainer_state.json),
// loose safetensors files, and a TensorBoard run followed live on the 2 s poll while its event
// file grows and a new TensorFlow group arrives beside it. Keras files, HDF5 and .keras (a zip).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/contract.js';
import { readSafetensors } from '../../electron/core/checkpoint/safetensors.js';
import { encodeFileVersionEvent, encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { centralHeaders, kerasEntries, kerasWeightsH5, zipOf } from '../formats/keras-files.js';
import { nextEvent } from '../in-place/in-place-helpers.js';
import { s3Available } from './s3-available.js';
import { useGatewayEnv, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.resolve(root, '../shared/fixtures');
const sample = path.join(fixtures, 'safetensors', 'hf-samples', 'overall.safetensors');
const saver = path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps');
const keras = path.join(fixtures, 'keras-h5', 'tictactoe', 'weights_iteration.h5');
const tfjs = path.join(fixtures, 'tfjs-layers', 'celsius-dense');
const BUCKET = 's3://in-place-s3-layouts';

/** trainer_state.json as Trainer writes it at `step` (its log history up to there). */
function trainerState(step: number): string {
  const history = [];
  for (let at = 100; at <= step; at += 100) history.push({ epoch: at / 1000, learning_rate: 5e-5, loss: 1 / at, step: at });
  history.push({ epoch: step / 1000, eval_loss: 100 / step, eval_runtime: 1.5, step });
  return `${JSON.stringify({ epoch: step / 1000, global_step: step, log_history: history, max_steps: 1000, save_steps: 500 }, null, 2)}\n`;
}

/** An event file of `loss` = 1 / step at steps 1..last. */
function eventFile(last: number): Buffer {
  const records = [encodeFileVersionEvent(1_700_000_000)];
  for (let step = 1; step <= last; step += 1) records.push(encodeScalarEvent(step, 1_700_000_000 + step, [['loss', 1 / step]]));
  return Buffer.concat(records.map((r) => frameRecord(r)));
}

async function keysAndTags(storage: S3Storage): Promise<string[]> {
  const found: string[] = [];
  for await (const object of storage.list('')) found.push(`${object.key}@${object.tag ?? ''}@${object.size}`);
  return found;
}

describe.skipIf(!s3Available() || !fs.existsSync(sample) || !fs.existsSync(saver))('more layouts read in place from S3', () => {
  const storageOf = useS3Storage(`${BUCKET}/`, async (storage) => {
    for (const step of [500, 1000]) {
      await storage.write(`out/checkpoint-${step}/model.safetensors`, fs.readFileSync(sample));
      await storage.write(`out/checkpoint-${step}/trainer_state.json`, trainerState(step));
      await storage.write(`out/checkpoint-${step}/optimizer.pt`, 'kept, not read');
    }
    for (const step of [100, 200]) await storage.write(`loose/model-${step}.safetensors`, fs.readFileSync(sample));
    await storage.write('keras/weights.01-0.50.hdf5', fs.readFileSync(keras));
    for (const name of fs.readdirSync(tfjs)) await storage.write(`tfjs/${name}`, fs.readFileSync(path.join(tfjs, name)));
    await storage.write('live/events.out.tfevents.1700000000.host.1.0.v2', eventFile(50));
    for (const suffix of ['.index', '.data-00000-of-00001'])
      await storage.write(`live/model-40${suffix}`, fs.readFileSync(path.join(saver, `model-1000${suffix}`)));
  });
  let storage: S3Storage;
  const studios: Studio[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 's3foreign-layouts-'));

  useGatewayEnv();
  beforeAll(() => {
    storage = storageOf();
  });
  afterAll(async () => {
    for (const studio of studios) await studio.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  async function open(address: string, options: { watch?: boolean } = {}): Promise<StudioApi> {
    const studio = new Studio({ watch: options.watch ?? false });
    studios.push(studio);
    await studio.api.openWorkspace({ path: address, readOnly: true });
    return studio.api;
  }

  it('a Trainer’s output: checkpoint-N/ folders with their metrics; loose safetensors files; verified and exported, the bucket unchanged', async () => {
    const before = await keysAndTags(storage);
    const api = await open(`${BUCKET}/`);
    expect((await api.listRuns()).map((r) => [r.name, r.layout])).toEqual([
      ['keras/weights.01-0.50.hdf5', 'keras-files'],
      ['live', 'tf-folder'],
      ['loose', 'safetensors-files'],
      ['out', 'hf-trainer'],
      ['tfjs', 'tfjs-model'],
    ]);
    const out = (await api.listCheckpoints({ run: 'out' })).map((c) => [c.id, c.metrics['eval_loss']]);
    expect(out).toEqual([
      ['out/checkpoint-500', 0.2],
      ['out/checkpoint-1000', 0.1],
    ]);
    expect((await api.best({ metric: 'eval_loss' })).id).toBe('out/checkpoint-1000');
    const history = (await api.metricHistory({ run: 'out' })).records;
    expect(history.filter((r) => typeof r['loss'] === 'number').map((r) => r['step'])).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect((await api.latest({ run: 'loose' })).id).toMatch(/^loose\/model-200\.safetensors/);
    expect((await api.inspect({ target: 'out/checkpoint-500' })).length).toBeGreaterThan(0);
    const [model] = await api.listCheckpoints({ run: 'tfjs' });
    expect((await api.inspect({ target: model?.id ?? '' })).length).toBeGreaterThan(0);
    const { results } = await api.verify({ targets: ['out/checkpoint-500', (await api.latest({ run: 'loose' })).id, model?.id ?? ''] });
    expect(results.map((r) => [r.ok, r.problems])).toEqual([
      [true, []],
      [true, []],
      [true, []],
    ]);
    const exported = await api.exportCheckpoint({ target: 'out/checkpoint-1000', format: 'safetensors', out: path.join(scratch, 'hf.safetensors') });
    expect(exported.files).toEqual(['hf.safetensors']);
    expect(await keysAndTags(storage)).toEqual(before);
  });

  it('a TensorBoard run followed live: the event file’s new records and a new TensorFlow group arrive on the poll', async () => {
    const api = await open(`${BUCKET}/live`, { watch: true });
    expect((await api.metricHistory({ run: '.' })).records).toHaveLength(50);
    const [first] = await api.listCheckpoints();
    expect(first?.id).toBe('model-40');
    // Event files hold float32 values.
    expect(first?.metrics['loss']).toBeCloseTo(1 / 40, 6);
    const appended = nextEvent(api, 'metrics:appended', (p) => p.run === '.' && p.records.some((r) => r['step'] === 80));
    const added = nextEvent(api, 'catalog:added', (c) => c.id === 'model-80');
    // TensorFlow's S3 writer grows an event file by writing it again, longer.
    await storage.write('live/events.out.tfevents.1700000000.host.1.0.v2', eventFile(80));
    for (const suffix of ['.index', '.data-00000-of-00001'])
      await storage.write(`live/model-80${suffix}`, fs.readFileSync(path.join(saver, `model-1000${suffix}`)));
    const { records } = await appended;
    // Only what the file gained: the records after step 50.
    expect(records.map((r) => r['step'])).toEqual(Array.from({ length: 30 }, (_, i) => 51 + i));
    expect((await added).metrics['loss']).toBeCloseTo(1 / 80, 6);
    expect((await api.metricHistory({ run: '.' })).records).toHaveLength(80);
  });

  it('a Trainer’s checkpoint folder that gets its trainer_state.json later becomes whole on the poll', async () => {
    await storage.write('growing/checkpoint-100/model.safetensors', fs.readFileSync(sample));
    const api = await open(`${BUCKET}/growing`, { watch: true });
    expect((await api.listCheckpoints()).map((c) => [c.id, c.status])).toEqual([['checkpoint-100', 'incomplete']]);
    const whole = nextEvent(api, 'catalog:changed', (c) => c.id === 'checkpoint-100' && c.status !== 'incomplete');
    await storage.write('growing/checkpoint-100/trainer_state.json', trainerState(100));
    expect((await whole).metrics['eval_loss']).toBe(1);
  });

  it('a Keras HDF5 file and a .keras file (a zip read by ranges) are read from the bucket as on disk; a changed byte in .keras is named', async () => {
    const dotKeras = await zipOf(kerasEntries(await kerasWeightsH5(path.join(scratch, 'scratch.h5'))));
    await storage.write('keras/model.keras', dotKeras);
    const onDisk = path.join(scratch, 'disk', 'model.keras');
    fs.mkdirSync(path.dirname(onDisk), { recursive: true });
    fs.writeFileSync(onDisk, dotKeras);
    const api = await open(`${BUCKET}/keras`);
    expect((await api.listCheckpoints()).map((c) => [c.id, c.source?.format])).toEqual([
      ['model.keras', 'keras-v3'],
      ['weights.01-0.50.hdf5', 'keras-h5'],
    ]);
    expect((await api.inspect({ target: 'weights.01-0.50.hdf5' })).length).toBeGreaterThan(0);
    const local = await open(path.dirname(onDisk));
    const inspected = await api.inspect({ target: 'model.keras' });
    expect(inspected.map((t) => t.name)).toContain('layers/dense/vars/0');
    expect(inspected).toEqual(await local.inspect({ target: 'model.keras' }));
    const { results } = await api.verify({ targets: ['weights.01-0.50.hdf5', 'model.keras'] });
    expect(results.map((r) => [r.ok, r.problems])).toEqual([
      [true, []],
      [true, []],
    ]);
    const exported = await api.exportCheckpoint({ target: 'model.keras', format: 'safetensors', out: path.join(scratch, 'keras.safetensors') });
    const exportedLocally = await local.exportCheckpoint({ target: 'model.keras', format: 'safetensors', out: path.join(scratch, 'keras-disk.safetensors') });
    expect(exported.files).toEqual(['keras.safetensors']);
    expect(exportedLocally.files).toEqual(['keras-disk.safetensors']);
    // The same tensors, byte for byte (the metadata names where each was read from).
    const tensorsOf = async (file: string) => (await readSafetensors(file)).tensors.map((t) => [t.name, t.dtype, t.shape, Buffer.from(t.data)]);
    expect(await tensorsOf(path.join(scratch, 'keras.safetensors'))).toEqual(await tensorsOf(path.join(scratch, 'keras-disk.safetensors')));

    // One byte of the weights' entry changed: its CRC-32 in the zip no longer matches, and verify says so of the object.
    const damaged = Buffer.from(dotKeras);
    const header = damaged.readUInt32LE((centralHeaders(damaged).get('model.weights.h5') ?? 0) + 42);
    const weightsAt = header + 30 + damaged.readUInt16LE(header + 26) + damaged.readUInt16LE(header + 28);
    damaged[weightsAt + 2048] = (damaged[weightsAt + 2048] as number) ^ 0xff;
    await storage.write('keras/model.keras', damaged);
    try {
      const after = await (await open(`${BUCKET}/keras`)).verify({ targets: ['model.keras'] });
      expect(after.results[0]?.ok).toBe(false);
      expect(after.results[0]?.problems[0]).toMatchObject({
        file: `${BUCKET}/keras/model.keras`,
        problem: expect.stringMatching(/model\.weights\.h5.*CRC-32/),
      });
    } finally {
      await storage.write('keras/model.keras', dotKeras);
    }
  });
});
