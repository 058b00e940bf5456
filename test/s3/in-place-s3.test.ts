// Other programs' folders opened in place from a bucket (issue 18), against the real gateway: a
// TensorFlow Saver folder (the tutorial's), a TensorBoard run with TensorFlow groups beside its
// event file, listed, asked for latest and best, inspected, verified (ranged GETs, TensorFlow's
// masked CRCs) and exported, with every key and ETag of the bucket the same afterwards; and bad
// input (a state file naming a missing prefix, a truncated index, an object gone between the
// listing and the read), each said in one sentence naming the s3:// key.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/contract.js';
import { Studio } from '../../electron/core/studio/studio.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { s3Available } from './s3-available.js';
import { StoredWorkspace } from '../../electron/core/checkpoint/stored-store.js';
import { encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import { createInPlaceLayouts } from '../../electron/core/layouts/in-place-layouts.js';
import { storageAt, useGatewayEnv, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.resolve(root, '../shared/fixtures');
const BUCKET = 's3://in-place-s3';
const haveFixtures = fs.existsSync(path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps'));

async function upload(storage: S3Storage, prefix: string, dir: string, rename: (name: string) => string | null = (n) => n): Promise<void> {
  for (const name of fs.readdirSync(dir).sort()) {
    const as = rename(name);
    if (as !== null) await storage.write(`${prefix}/${as}`, fs.readFileSync(path.join(dir, name)));
  }
}

async function keysAndTags(storage: S3Storage): Promise<string[]> {
  const found: string[] = [];
  for await (const object of storage.list('')) found.push(`${object.key}@${object.tag ?? ''}@${object.size}`);
  return found;
}

describe.skipIf(!s3Available() || !haveFixtures)('other programs’ folders read in place from S3', () => {
  const storageOf = useS3Storage(`${BUCKET}/`, async (storage) => {
    await upload(storage, 'tf-run', path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps'));
    // A TensorBoard run (my_metric = 0.5 * step, steps 0-99) with two TensorFlow groups saved beside it.
    await upload(storage, 'board', path.join(fixtures, 'tensorboard', 'tf2-summary-scalar'));
    for (const step of [40, 90])
      await upload(storage, 'board', path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps'), (name) =>
        name.startsWith('model-1000.') && !name.endsWith('.meta') ? name.replace('model-1000', `model-${step}`) : null,
      );
    // Bad input, each in a folder of its own under bad/.
    const saver = path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps');
    const group = (prefix: string) => (name: string) => (name.startsWith('model-1000.') && !name.endsWith('.meta') ? name.replace('model-1000', prefix) : null);
    await upload(storage, 'bad/state-names-missing', saver, group('model-1000'));
    await storage.write(
      'bad/state-names-missing/checkpoint',
      'model_checkpoint_path: "model-5000"\nall_model_checkpoint_paths: "model-1000"\nall_model_checkpoint_paths: "model-5000"\n',
    );
    // The cut index is uploaded first, so the whole one is the folder's newest (the layout sniffs the newest index).
    const index = fs.readFileSync(path.join(saver, 'model-1000.index'));
    await storage.write('bad/cut-index/model-9000.index', index.subarray(0, index.length - 20));
    await storage.write('bad/cut-index/model-9000.data-00000-of-00001', fs.readFileSync(path.join(saver, 'model-1000.data-00000-of-00001')));
    await upload(storage, 'bad/cut-index', saver, group('model-2000'));
    await upload(storage, 'bad/vanishing', saver, group('model-1000'));
    await upload(storage, 'bad/flipped', saver, group('model-1000'));
    const data = Buffer.from(fs.readFileSync(path.join(saver, 'model-1000.data-00000-of-00001')));
    data[100] = (data[100] ?? 0) ^ 0xff;
    await storage.write('bad/flipped/model-1000.data-00000-of-00001', data);
  });
  let storage: S3Storage;
  const studios: Studio[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 's3foreign-in-place-'));

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

  it('the tutorial’s Saver folder: listed with the state file’s latest, inspected, verified and exported, the bucket unchanged', async () => {
    const before = await keysAndTags(storage);
    const api = await open(`${BUCKET}/tf-run`);
    const snapshot = await api.snapshot();
    expect(snapshot.runs.map((r) => [r.name, r.layout, r.latest])).toEqual([['.', 'tf-folder', 'model-10000']]);
    expect(snapshot.checkpoints.map((c) => c.step)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]);
    expect(snapshot.checkpoints[0]?.path).toBe(`${BUCKET}/tf-run/model-1000`);
    expect((await api.latest({})).id).toBe('model-10000');
    const rows = await api.inspect({ target: 'model-3000' });
    expect(rows.map((r) => r.name).sort()).toEqual(expect.arrayContaining(['Variable', 'Variable_1']));
    const { results } = await api.verify({ targets: ['model-3000', 'model-10000'] });
    expect(results.map((r) => [r.ok, r.problems])).toEqual([
      [true, []],
      [true, []],
    ]);
    expect((await api.listCheckpoints()).filter((c) => c.status === 'verified').map((c) => c.id)).toEqual(['model-3000', 'model-10000']);
    const out = path.join(scratch, 'model-10000.safetensors');
    const exported = await api.exportCheckpoint({ target: 'latest', format: 'safetensors', out });
    expect(exported.step).toBe(10000);
    expect(fs.statSync(out).size).toBeGreaterThan(31_000);
    expect(await keysAndTags(storage)).toEqual(before);
  });

  it('a TensorBoard run: its event file gives the metrics that best is chosen by, and the charts’ history', async () => {
    const api = await open(`${BUCKET}/board`);
    expect((await api.best({ metric: 'my_metric', mode: 'max' })).id).toBe('model-90');
    expect((await api.best({ metric: 'my_metric', mode: 'min' })).id).toBe('model-40');
    expect((await api.metricHistory({ run: '.' })).records).toHaveLength(100);
    expect((await api.runConfig({ run: '.' })).config).toEqual({ layout: 'tf-folder' });
  });

  it('the bucket’s root: each folder is a run of its own, named by its prefix', async () => {
    const api = await open(`${BUCKET}/`);
    expect((await api.listRuns()).map((r) => [r.name, r.layout])).toEqual([
      ['bad/cut-index', 'tf-folder'],
      ['bad/flipped', 'tf-folder'],
      ['bad/state-names-missing', 'tf-folder'],
      ['bad/vanishing', 'tf-folder'],
      ['board', 'tf-folder'],
      ['tf-run', 'tf-folder'],
    ]);
    expect((await api.latest({ run: 'tf-run' })).id).toBe('tf-run/model-10000');
  });

  it('a state file that names a missing checkpoint: said on the run; latest is the newest whole one', async () => {
    const api = await open(`${BUCKET}/bad/state-names-missing`);
    const [run] = await api.listRuns();
    expect(run?.path).toBe(`${BUCKET}/bad/state-names-missing`);
    expect(run?.notes.join(' ')).toMatch(/calls "?model-5000"? latest, but it is not here whole/);
    expect((await api.latest({})).id).toBe('model-1000');
  });

  it('a truncated .index: verify names its s3:// key and what is wrong', async () => {
    const api = await open(`${BUCKET}/bad/cut-index`);
    expect((await api.listCheckpoints()).map((c) => c.id)).toEqual(['model-2000', 'model-9000']);
    const { results } = await api.verify({ targets: ['model-9000', 'model-2000'] });
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    // As on disk: the index without its footer is not read as TensorFlow's (its table magic is gone).
    expect(results[0]?.problems).toEqual([
      { file: `${BUCKET}/bad/cut-index/model-9000`, problem: expect.stringMatching(/\.index file with the table magic/) as string },
    ]);
    await expect(api.inspect({ target: 'model-9000' })).rejects.toThrow(`${BUCKET}/bad/cut-index/model-9000: is not a TensorFlow checkpoint`);
  });

  it('an object deleted between the listing and the read: the read names its s3:// key and says it is missing', async () => {
    const api = await open(`${BUCKET}/bad/vanishing`);
    expect((await api.listCheckpoints()).map((c) => c.id)).toEqual(['model-1000']);
    await storage.remove(['bad/vanishing/model-1000.data-00000-of-00001']);
    const { results } = await api.verify({ targets: ['model-1000'] });
    expect(results[0]?.ok).toBe(false);
    expect(results[0]?.problems.map((p) => `${p.file}: ${p.problem}`).join(' ')).toMatch(
      new RegExp(`^${BUCKET}/bad/vanishing/model-1000\\.data-00000-of-00001: is missing`),
    );
    await storage.remove(['bad/vanishing/model-1000.index']);
    await expect(api.inspect({ target: 'model-1000' })).rejects.toThrow(new RegExp(`${BUCKET}/bad/vanishing/model-1000`));
  });

  it('a flipped byte in a data shard: TensorFlow’s own CRC, read by ranged GETs, names the shard and the tensor', async () => {
    const api = await open(`${BUCKET}/bad/flipped`);
    const { results } = await api.verify({ targets: ['model-1000'] });
    expect(results[0]?.ok).toBe(false);
    expect(results[0]?.problems).toEqual([
      {
        file: `${BUCKET}/bad/flipped/model-1000.data-00000-of-00001`,
        tensor: expect.any(String) as string,
        problem: expect.stringMatching(/CRC-32C .* the index says/) as string,
      },
    ]);
    expect((await api.listCheckpoints())[0]?.status).toBe('damaged');
  });

  it('opened to write, deleting from a folder written within the quiet period is refused in one sentence; opened read-only, a pin is; nothing is written', async () => {
    const before = await keysAndTags(storage);
    const studio = new Studio({ watch: false });
    studios.push(studio);
    // Deleting and making latest there work (in-place-s3-trash.test.ts, in-place-s3-latest.test.ts); a folder another program wrote this last hour is left alone.
    await studio.api.openWorkspace({ path: `${BUCKET}/tf-run`, quietSeconds: 3600 });
    await expect(studio.api.deleteCheckpoints({ targets: ['model-1000'] })).rejects.toThrow(
      /^s3:\/\/in-place-s3\/tf-run: refused: busy: \S+ changed \d+ s ago, so another program may be writing here; nothing was changed/,
    );
    await expect(studio.api.makeLatest({ target: 'model-1000' })).rejects.toThrow(
      /^s3:\/\/in-place-s3\/tf-run: refused: busy: \S+ changed \d+ s ago, so another program may be writing here; nothing was changed/,
    );
    const reader = await open(`${BUCKET}/tf-run`);
    await expect(reader.pin({ ids: ['model-1000'] })).rejects.toThrow(/read-only/);
    expect(await keysAndTags(storage)).toEqual(before);
  });

  it('keeps every pin when three people pin checkpoints of one folder at the same moment', async () => {
    const writers = await Promise.all(
      [0, 1, 2].map(async () => {
        const studio = new Studio({ watch: false });
        studios.push(studio);
        await studio.api.openWorkspace({ path: `${BUCKET}/tf-run` });
        return studio.api;
      }),
    );
    const ids = ['model-1000', 'model-2000', 'model-3000'];
    try {
      await Promise.all(ids.map((id, at) => writers[at]?.pin({ ids: [id] })));
      const pinned = (await (await open(`${BUCKET}/tf-run`)).listCheckpoints()).filter((c) => c.pinned).map((c) => c.id);
      expect(pinned.sort()).toEqual(ids);
    } finally {
      await storage.remove(['tf-run/.studio/in-place.json']);
    }
  });

  it('a poll of an unchanged folder costs its LIST and nothing more; an event file that grew costs a ranged GET of its new bytes', async () => {
    const own = storageAt(`${BUCKET}/board/`);
    const workspace = await StoredWorkspace.on(own, 'read', {}, createInPlaceLayouts());
    try {
      own.requests.clear();
      await workspace.catalog.refresh();
      expect(Object.fromEntries(own.requests)).toEqual({ ListObjectsV2Command: 1 });
      expect(workspace.catalog.history('.')).toHaveLength(100);
      // The writer writes the file again, longer (as TensorFlow's S3 file system does).
      const name = fs.readdirSync(path.join(fixtures, 'tensorboard', 'tf2-summary-scalar'))[0] as string;
      const more = [...Array.from({ length: 10 }, (_, i) => frameRecord(encodeScalarEvent(100 + i, 1_700_000_000 + i, [['my_metric', 50 + i]])))];
      await storage.write(`board/${name}`, Buffer.concat([fs.readFileSync(path.join(fixtures, 'tensorboard', 'tf2-summary-scalar', name)), ...more]));
      own.requests.clear();
      await workspace.catalog.refresh();
      expect(workspace.catalog.history('.')).toHaveLength(110);
      // One LIST; the folder is read again (its layouts sniff the newest index), the event file from where the last read stopped.
      expect(own.requests.get('ListObjectsV2Command')).toBe(1);
      expect(own.requests.get('GetObjectCommand') ?? 0).toBeLessThanOrEqual(3);
    } finally {
      workspace.close();
    }
  });
});
