// Continuing another program's checkpoint imported into an S3 workspace (issue 18): the Studio
// maps its tensors (recorded in the manifest in the bucket) onto a preset, the trainer (its own
// process, its own client) reads that program's files where they lie beside the manifest, each
// tensor against the CRC-32C recorded at import, and the new run is written into the bucket. A
// learning rate too small to move a weight: what the new run saves is what it read.
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
const ADDRESS = 's3://imported-s3-continue/ws';

describe.skipIf(!s3Available() || !fs.existsSync(saver))('continuing another program’s checkpoint imported into S3', () => {
  const storageOf = useS3Storage(`${ADDRESS}/`);
  let storage: S3Storage;
  const studio = new Studio({ watch: false });
  useGatewayEnv();
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
    storage = storageOf();
  });
  afterAll(() => studio.close());

  it('trains on from the imported model-5000, its weights those read from the files on disk', { timeout: 180_000 }, async () => {
    const api = studio.api;
    await api.openWorkspace({ path: ADDRESS });
    const report = await api.importFolders({ sources: [saver], into: 'saver' });
    const result = report.results[0];
    if (!result?.ok) throw new Error(`the import failed: ${JSON.stringify(result)}`);
    const from = result.checkpoints.find((id) => id.endsWith('ckpt-000005000'));
    if (from === undefined) throw new Error(`no step 5000 among ${result.checkpoints.join(', ')}`);
    // Its files are in the bucket beside its manifest: nothing is read from the fixture from here on.
    expect((await storage.children(`${from}/`)).objects.map((o) => o.key.slice(from.length + 1))).toContain('model-5000.index');

    // A trainer that refuses ends 'crashed': the checks below then say what is missing, without waiting for a timeout.
    const done = new Promise<void>((resolve) => api.on('training:state', (s) => (s.state === 'exited' || s.state === 'crashed') && resolve()));
    const started = await api.continueTraining({
      from,
      run: 'more',
      overrides: { maxSteps: 2, learningRate: 1e-30, fixed: { dataDir: miniMnistDir(), validationCount: 50, trainLimit: 200, optimizer: 'sgd' } },
    });
    expect(started.resumedFrom).toEqual({ run: result.run, step: 5000 });
    expect(started.notes.join('\n')).toMatch(/"logits\/kernel":"Variable_1","logits\/bias":"Variable_2"/);
    await done;
    const listed = await api.listCheckpoints({ run: 'more' });
    expect(listed.map((c) => [c.step, c.parent])).toEqual([[5002, { run: result.run, step: 5000 }]]);
    const loaded = await loadStoredCheckpoint(storage, `${listed[0]?.id ?? ''}/`);
    const weights = new Map(loaded.model.map((t) => [t.name, t.data]));
    const reader = readerFor('tf-bundle');
    const opened = await reader.open(path.join(saver, 'model-5000'));
    let compared = 0;
    for await (const item of reader.read(opened.checkpoints[0] as never)) {
      const ours = { Variable_1: 'logits/kernel', Variable_2: 'logits/bias' }[item.tensor.name];
      if (ours === undefined) continue;
      expect(Buffer.from(weights.get(ours) as Uint8Array)).toEqual(Buffer.from(item.data));
      compared++;
    }
    expect(compared).toBe(2);
  });
});
