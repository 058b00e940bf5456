// exportCheckpoint of a checkpoint this program trained, judged by the programs that read the
// formats: TensorFlow.js loads the tfjs export and predicts exactly what our model does; our
// safetensors and TensorFlow readers read back every tensor, byte for byte.
import { readFile } from 'node:fs/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingConfigSchema } from '../../electron/contract.js';
import { loadCheckpoint } from '../../electron/core/checkpoint/reader.js';
import { readerFor } from '../../electron/core/formats/registry.js';
import type { ForeignCheckpoint } from '../../electron/core/formats/foreign.js';
import { buildModel } from '../../electron/core/training/engine/models.js';
import { onCleanup, useTempWorkspaces } from '../store/helpers.js';
import { miniMnistDir } from '../trainer/helpers.js';
import { studioWith } from './import-helpers.js';

useTempWorkspaces();
beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** tfjs without tfjs-node has no file:// handler: this one reads model.json and its shards from disk. */
function fromDisk(folder: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(path.join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers = [];
        for (const group of manifest) for (const p of group.paths) buffers.push(await readFile(path.join(folder, p)));
        const all = Buffer.concat(buffers);
        return [manifest.flatMap((group) => group.weights), all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

async function readAll(format: 'safetensors' | 'tf-bundle', target: string): Promise<Map<string, Buffer>> {
  const reader = readerFor(format);
  const opened = await reader.open(target);
  const out = new Map<string, Buffer>();
  for await (const item of reader.read(opened.checkpoints[0] as ForeignCheckpoint)) out.set(item.tensor.name, Buffer.from(item.data));
  return out;
}

describe('exporting a trained checkpoint', () => {
  it('as TF.js (predicting what our model does), safetensors and a TensorFlow bundle (every tensor back, byte for byte)', { timeout: 120_000 }, async () => {
    const { api } = await studioWith();
    const done = new Promise<void>((resolve) => api.on('training:state', (s) => s.state === 'exited' && resolve()));
    await api.startTraining({
      run: 'small',
      config: {
        model: { kind: 'mlp', width: 12, depth: 1 },
        optimizer: { name: 'adam', learningRate: 0.01 },
        batchSize: 16,
        epochs: 1,
        seed: 5,
        validationCount: 50,
        trainLimit: 200,
        dataDir: miniMnistDir(),
      },
      backend: 'cpu',
      maxSteps: 3,
    });
    await done;
    const [checkpoint] = await api.listCheckpoints({ run: 'small' });
    const loaded = await loadCheckpoint(checkpoint?.path as string);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'export-'));
    onCleanup(() => fs.rmSync(out, { recursive: true, force: true }));

    const tfjs = await api.exportCheckpoint({ target: 'latest', format: 'tfjs', out: path.join(out, 'js') });
    expect(tfjs.files.sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const model = buildModel(TrainingConfigSchema.parse(loaded.manifest.extra.config).model);
    for (const weight of model.trainableWeights) {
      const saved = loaded.model.find((t) => t.name === weight.originalName);
      weight.write(tf.tensor(new Float32Array(new Uint8Array(saved?.data as Uint8Array).buffer), saved?.shape as number[]));
    }
    const exported = await tf.loadLayersModel(fromDisk(path.join(out, 'js')));
    const input = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 11);
    const expected = (model.predict(input) as tf.Tensor).dataSync();
    expect(Buffer.from((exported.predict(input) as tf.Tensor).dataSync().buffer)).toEqual(Buffer.from(expected.buffer));

    await api.exportCheckpoint({ target: 'latest', format: 'safetensors', out: path.join(out, 'small.safetensors') });
    const fromSafetensors = await readAll('safetensors', path.join(out, 'small.safetensors'));
    for (const tensor of [...loaded.model, ...loaded.optimizer]) expect(fromSafetensors.get(tensor.name)).toEqual(Buffer.from(tensor.data));

    const bundle = await api.exportCheckpoint({ target: 'latest', format: 'tf', out: path.join(out, 'tf') });
    expect(bundle.files.sort()).toEqual(['checkpoint', 'model.ckpt-3.data-00000-of-00001', 'model.ckpt-3.index']);
    const fromBundle = await readAll('tf-bundle', path.join(out, 'tf'));
    for (const tensor of loaded.model) expect(fromBundle.get(tensor.name)).toEqual(Buffer.from(tensor.data));
    // Adam's moments under TensorFlow's slot names, so TensorFlow and our importer see them as slots.
    expect(fromBundle.get('dense_0/kernel/Adam')).toEqual(Buffer.from(loaded.optimizer.find((t) => t.name === 'dense_0/kernel/m')?.data as Uint8Array));
    expect(fromBundle.get('dense_0/kernel/Adam_1')).toEqual(Buffer.from(loaded.optimizer.find((t) => t.name === 'dense_0/kernel/v')?.data as Uint8Array));
    expect(fromBundle.get('global_step')?.readBigInt64LE(0)).toBe(3n);
  });
});
