// The TF.js exporter, judged by tfjs itself: our presets exported, loaded back with
// tf.loadLayersModel (through an IOHandler reading the files we wrote), must predict bit for bit
// what the original model predicts on the cpu backend, and carry the optimizer's state.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, initializeWeights } from '../../electron/core/training/engine/models.js';
import { Prng } from '../../electron/core/training/engine/prng.js';
import { SHARD_BYTES, writeTfjsModel } from '../../electron/core/formats/tfjs/exporter.js';
import { tfjsLayersReader } from '../../electron/core/formats/tfjs/reader.js';
import type { ExportTensor, ForeignCheckpoint, ForeignTensorData } from '../../electron/core/formats/foreign.js';
import { CheckpointFormatError, RefusedError } from '../../electron/core/base/errors.js';
import { STUDIO_VERSION } from '../../electron/core/version.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tfjs-export-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** tfjs without tfjs-node has no file:// handler: this one reads model.json and its shards from disk. */
function fromDisk(folder: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(path.join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = [];
        for (const group of manifest) for (const p of group.paths) buffers.push(await readFile(path.join(folder, p)));
        const all = Buffer.concat(buffers);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

async function exportTensors(weights: readonly tf.LayerVariable[] | readonly { name: string; tensor: tf.Tensor }[]): Promise<ExportTensor[]> {
  const out: ExportTensor[] = [];
  for (const weight of weights) {
    const [name, tensor] = 'originalName' in weight ? [weight.originalName, weight.read()] : [weight.name, weight.tensor];
    const values = await tensor.data();
    out.push({
      name,
      dtype: tensor.dtype === 'int32' ? 'I32' : 'F32',
      shape: tensor.shape,
      data: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
    });
  }
  return out;
}

function fixedBatch(): tf.Tensor4D {
  const rng = Prng.fromSeed(42);
  const values = new Float32Array(3 * 28 * 28);
  for (let i = 0; i < values.length; i += 1) values[i] = rng.nextFloat();
  return tf.tensor4d(values, [3, 28, 28, 1]);
}

async function readAll(checkpoint: ForeignCheckpoint): Promise<ForeignTensorData[]> {
  const out: ForeignTensorData[] = [];
  for await (const item of tfjsLayersReader.read(checkpoint)) out.push(item);
  return out;
}

describe('writeTfjsModel', () => {
  for (const spec of [
    { kind: 'mlp', width: 16, depth: 1, filters: 1 },
    { kind: 'cnn', width: 8, depth: 2, filters: 2 },
  ] as const) {
    it(`exports the ${spec.kind} preset so that tf.loadLayersModel predicts bit for bit the same`, async () => {
      const model = buildModel(spec);
      initializeWeights(model, Prng.fromSeed(7));
      const weights = await exportTensors(model.weights);
      const written = await writeTfjsModel(dir, { modelTopology: model.toJSON(null, false), weights, userDefinedMetadata: { step: 12 } });
      expect(written.map((f) => path.basename(f))).toEqual(['group1-shard1of1.bin', 'model.json']);

      const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
      expect(json).toMatchObject({ format: 'layers-model', generatedBy: `checkpoint-studio ${STUDIO_VERSION}`, convertedBy: null });
      // What tfjs's own model.save stores as the topology.
      let saved: tf.io.ModelArtifacts | null = null;
      await model.save(
        tf.io.withSaveHandler(async (artifacts) => {
          saved = artifacts;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      expect(json['modelTopology']).toEqual((saved as unknown as tf.io.ModelArtifacts).modelTopology);

      const loaded = await tf.loadLayersModel(fromDisk(dir));
      const input = fixedBatch();
      const expected = await (model.predict(input) as tf.Tensor).data();
      const actual = await (loaded.predict(input) as tf.Tensor).data();
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);

      // Our own reader sees the same names, shapes and bytes.
      const checkpoint = (await tfjsLayersReader.open(dir)).checkpoints[0] as ForeignCheckpoint;
      expect(checkpoint.step).toBe(12);
      const read = await readAll(checkpoint);
      expect(read.map((r) => [r.tensor.name, r.tensor.shape])).toEqual(weights.map((w) => [w.name, w.shape]));
      for (const [i, r] of read.entries()) expect(Buffer.from(r.data).equals(Buffer.from((weights[i] as ExportTensor).data))).toBe(true);
    });
  }

  it("carries Adam's state: tf.loadLayersModel restores the optimizer weights we wrote", async () => {
    const model = buildModel({ kind: 'mlp', width: 4, depth: 1, filters: 1 });
    initializeWeights(model, Prng.fromSeed(3));
    model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
    await model.fit(fixedBatch(), tf.oneHot(tf.tensor1d([1, 2, 3], 'int32'), 10), { epochs: 1, batchSize: 3, verbose: 0 });
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
      { includeOptimizer: true },
    );
    const optimizerWeights = await exportTensors(await model.optimizer.getWeights());
    await writeTfjsModel(dir, {
      modelTopology: model.toJSON(null, false),
      weights: await exportTensors(model.weights),
      optimizerWeights,
      trainingConfig: (saved as unknown as tf.io.ModelArtifacts).trainingConfig,
    });
    const loaded = await tf.loadLayersModel(fromDisk(dir));
    const restored = await exportTensors(await loaded.optimizer.getWeights());
    expect(restored.map((w) => w.name)).toEqual(optimizerWeights.map((w) => w.name));
    for (const [i, w] of restored.entries()) expect(Buffer.from(w.data).equals(Buffer.from((optimizerWeights[i] as ExportTensor).data)), w.name).toBe(true);
    const checkpoint = (await tfjsLayersReader.open(dir)).checkpoints[0] as ForeignCheckpoint;
    // tfjs names a slot after the variable's name in its engine, which gets a `_N` suffix when an
    // earlier model in the process used the same layer names (as the tests above did).
    const first = optimizerWeights[1] as ExportTensor;
    expect(first.name).toMatch(/^dense_0\/kernel(_\d+)?\/m$/);
    expect(checkpoint.tensors.find((t) => t.name === first.name)).toMatchObject({ role: 'optimizer', slot: { variable: 'dense_0/kernel', name: 'm' } });
    expect(checkpoint.tensors.find((t) => t.name === 'iter')).toMatchObject({ role: 'step' });
    expect(checkpoint.notes.filter((n) => n.startsWith('optimizer weight'))).toEqual([]);
  });

  it('splits weights into 4 MB shards as the converter does, a weight spanning two of them', async () => {
    const big = new Float32Array(SHARD_BYTES / 4 + 1000).map((_, i) => i * 0.5);
    const weights: ExportTensor[] = [
      { name: 'small', dtype: 'I32', shape: [2], data: new Uint8Array(Int32Array.from([7, -7]).buffer) },
      { name: 'big', dtype: 'F32', shape: [big.length], data: new Uint8Array(big.buffer) },
    ];
    await writeTfjsModel(dir, { modelTopology: {}, weights });
    expect((await readdir(dir)).sort()).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin', 'model.json']);
    const checkpoint = (await tfjsLayersReader.open(dir)).checkpoints[0] as ForeignCheckpoint;
    expect(checkpoint.files.map((f) => [f.name, f.bytes])).toEqual([
      ['model.json', expect.any(Number)],
      ['group1-shard1of2.bin', SHARD_BYTES],
      ['group1-shard2of2.bin', 8 + big.byteLength - SHARD_BYTES],
    ]);
    const read = await readAll(checkpoint);
    expect(Buffer.from((read[1] as ForeignTensorData).data).equals(Buffer.from(big.buffer))).toBe(true);
  });

  it('refuses to overwrite an existing model and a tensor whose bytes disagree with its shape', async () => {
    await writeFile(path.join(dir, 'model.json'), 'mine');
    const weights: ExportTensor[] = [{ name: 'w', dtype: 'F32', shape: [1], data: new Uint8Array(4) }];
    await expect(writeTfjsModel(dir, { modelTopology: {}, weights })).rejects.toThrow(RefusedError);
    expect(await readFile(path.join(dir, 'model.json'), 'utf8')).toBe('mine');
    expect(await readdir(dir)).toEqual(['model.json']);
    const other = path.join(dir, 'other');
    const error = await writeTfjsModel(other, { modelTopology: {}, weights: [{ name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(4) }] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as Error).message).toMatch(/tensor "w" \(F32 \[2\]\) needs 8 bytes, got 4/);
    const f64 = await writeTfjsModel(other, { modelTopology: {}, weights: [{ name: 'd', dtype: 'F64', shape: [1], data: new Uint8Array(8) }] }).catch(
      (e: unknown) => e,
    );
    expect((f64 as Error).message).toMatch(/"d" is F64; TensorFlow.js layers models hold float32, int32 and bool/);
  });
});
