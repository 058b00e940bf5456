// Continuing another program's checkpoint read in place from a bucket (issue 18), as from disk:
// the Studio maps a tf.train.Saver checkpoint's tensors onto a preset, the trainer (its own
// process, its own client) reads them where they lie by ranged GETs, and the new run is written
// into the same workspace in S3, where the local in-place case writes it (the workspace's root).
// A learning rate too small to move a weight: what the new run saves is what it read.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStoredCheckpoint } from '../../electron/core/checkpoint/stored-checkpoint.js';
import { readerFor } from '../../electron/core/formats/registry.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { miniMnistDir } from '../trainer/helpers.js';
import { s3Available } from './s3-available.js';
import { useGatewayEnv, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const saver = path.resolve(root, '../shared/fixtures/tf1-saver/mnist-softmax-10steps');
const ADDRESS = 's3://in-place-s3-continue/tf-run';

describe.skipIf(!s3Available() || !fs.existsSync(saver))('continuing another program’s checkpoint read in place from S3', () => {
  const storageOf = useS3Storage(`${ADDRESS}/`, async (storage) => {
    for (const name of fs.readdirSync(saver).sort()) await storage.write(name, fs.readFileSync(path.join(saver, name)));
  });
  let storage: S3Storage;
  const studio = new Studio({ watch: false });
  useGatewayEnv();
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
    storage = storageOf();
  });
  afterAll(() => studio.close());

  it('trains on from model-5000, the new run saved into the bucket beside the folder, its weights those read from S3', { timeout: 120_000 }, async () => {
    const api = studio.api;
    await api.openWorkspace({ path: ADDRESS });
    const done = new Promise<void>((resolve) => api.on('training:state', (s) => s.state === 'exited' && resolve()));
    const started = await api.continueTraining({
      from: 'model-5000',
      run: 'more',
      overrides: { maxSteps: 2, learningRate: 1e-30, fixed: { dataDir: miniMnistDir(), validationCount: 50, trainLimit: 200, optimizer: 'sgd' } },
    });
    expect(started.resumedFrom).toEqual({ run: '.', step: 5000 });
    expect(started.notes.join('\n')).toMatch(/"logits\/kernel":"Variable_1","logits\/bias":"Variable_2"/);
    await done;
    const listed = await api.listCheckpoints({ run: 'more' });
    expect(listed.map((c) => [c.step, c.parent])).toEqual([[5002, { run: '.', step: 5000 }]]);
    const loaded = await loadStoredCheckpoint(storage, `${listed[0]?.id ?? ''}/`);
    const weights = new Map(loaded.model.map((t) => [t.name, t.data]));
    const reader = readerFor('tf-bundle');
    const opened = await reader.open(path.join(saver, 'model-5000'));
    for await (const item of reader.read(opened.checkpoints[0] as never)) {
      if (item.tensor.name === 'Variable_1') expect(Buffer.from(weights.get('logits/kernel') as Uint8Array)).toEqual(Buffer.from(item.data));
      if (item.tensor.name === 'Variable_2') expect(Buffer.from(weights.get('logits/bias') as Uint8Array)).toEqual(Buffer.from(item.data));
    }
    // The folder read in place is as it was: the new run is a run of ours beside it.
    expect((await api.listRuns()).map((r) => [r.name, r.layout])).toEqual([
      ['.', 'tf-folder'],
      ['more', 'studio'],
    ]);
  });
});
