// The Keras HDF5 reader on the shared tic-tac-toe fixture (Keras 2.11 `save_weights`), and on
// damaged copies of it: a truncated file and one whose metadata has a flipped byte must give our
// error naming the file, never crash or hang the process (h5wasm runs in a worker).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { kerasH5Reader } from '../../electron/core/formats/keras-h5/reader.js';
import { H5File } from '../../electron/core/formats/keras-h5/h5-file.js';
import type { ForeignCheckpoint, ForeignTensorData } from '../../electron/core/formats/foreign.js';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import { crc32c } from '../../electron/core/base/crc32c.js';
import { sharedFixture } from '../fixtures.js';

const fixture = sharedFixture('keras-h5', 'tictactoe', 'weights_iteration.h5');
/** Each open starts a worker that compiles the HDF5 library: seconds, not milliseconds. */
const SLOW = 90_000;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'keras-h5-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openError(file: string): Promise<CheckpointFormatError> {
  const error = await kerasH5Reader.open(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointFormatError);
  return error as CheckpointFormatError;
}

describe.skipIf(fixture === null)('the tic-tac-toe Keras weights (save_weights, Keras 2.11)', () => {
  const file = fixture as string;

  it("lists the layers' weights with their shapes, and reads their values", { timeout: SLOW }, async () => {
    expect(await kerasH5Reader.sniff(file)).toBe(true);
    const source = await kerasH5Reader.open(file);
    const checkpoint = source.checkpoints[0] as ForeignCheckpoint;
    expect(checkpoint.formatLabel).toBe('Keras HDF5 weights (save_weights) (Keras 2.11.0, tensorflow backend)');
    expect(checkpoint.files).toEqual([{ name: 'weights_iteration.h5', bytes: 13864, role: 'tensors' }]);
    expect(checkpoint.tensors.map((t) => [t.name, t.displayName, t.dtype, t.shape, t.bytes, t.role])).toEqual([
      ['dense/dense/kernel:0', 'dense/kernel:0', 'F32', [9, 9], 324, 'model'],
      ['dense/dense/bias:0', 'dense/bias:0', 'F32', [9], 36, 'model'],
      ['dense_1/dense_1/kernel:0', 'dense_1/kernel:0', 'F32', [9, 9], 324, 'model'],
      ['dense_1/dense_1/bias:0', 'dense_1/bias:0', 'F32', [9], 36, 'model'],
    ]);
    expect(checkpoint.notes.join(' ')).toMatch(/no checksum of tensor data/);

    const read: ForeignTensorData[] = [];
    for await (const item of kerasH5Reader.read(checkpoint, { names: new Set(['dense/dense/kernel:0', 'dense_1/dense_1/bias:0']) })) read.push(item);
    expect(read.map((r) => r.tensor.name)).toEqual(['dense/dense/kernel:0', 'dense_1/dense_1/bias:0']);
    const kernel = read[0] as ForeignTensorData;
    const values = new Float32Array(kernel.data.slice().buffer);
    expect(values).toHaveLength(81);
    expect(values.every((v) => Number.isFinite(v) && Math.abs(v) < 10)).toBe(true);
    expect(kernel.storedCrc32c).toBe(crc32c(kernel.data));
    // save_weights stores small datasets contiguously: the bytes we read are in the file verbatim.
    const whole = await readFile(file);
    expect(whole.includes(Buffer.from(kernel.data))).toBe(true);
  });

  it('refuses a truncated copy and one with a flipped metadata byte, naming the file', { timeout: SLOW }, async () => {
    const whole = await readFile(file);
    const truncated = path.join(dir, 'truncated.h5');
    await writeFile(truncated, whole.subarray(0, 5000));
    expect(await kerasH5Reader.sniff(truncated)).toBe(true);
    const cut = await openError(truncated);
    expect(cut.file).toBe(truncated);
    expect(cut.message).toMatch(/could not be read as HDF5: truncated file$/);

    // The version byte of the first symbol-table node ("SNOD" then version 1).
    const flipped = Buffer.from(whole);
    const node = flipped.indexOf('SNOD');
    expect(node).toBeGreaterThan(0);
    flipped[node + 4] = 0x7f;
    const damaged = path.join(dir, 'flipped.h5');
    await writeFile(damaged, flipped);
    const bad = await openError(damaged);
    expect(bad.file).toBe(damaged);
    expect(bad.message).toMatch(/could not be read as HDF5: .*symbol table node/);
  });

  it('gives up on a damaged copy the library loops on while listing it, once it falls silent, not after the whole time limit', { timeout: SLOW }, async () => {
    // Found by the format fuzz (seed 2): this word makes HDF5 walk the file's groups forever.
    const looping = Buffer.from(await readFile(file));
    looping.writeUInt32LE(0xffff, 2119);
    const damaged = path.join(dir, 'looping.h5');
    await writeFile(damaged, looping);
    const started = performance.now();
    const error = await openError(damaged);
    expect(error.message).toBe(`${damaged}: could not be read as HDF5: the HDF5 library made no progress for 4 s (a damaged file it loops on)`);
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});

async function readAll(checkpoint: ForeignCheckpoint): Promise<Map<string, ForeignTensorData>> {
  const out = new Map<string, ForeignTensorData>();
  for await (const item of kerasH5Reader.read(checkpoint)) out.set(item.tensor.name, item);
  return out;
}

/** Writes an HDF5 file with h5wasm; `build` fills it. */
async function writeH5(file: string, build: (root: InstanceType<typeof h5wasm.File>) => void): Promise<void> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(file, 'w');
  try {
    build(h5);
  } finally {
    h5.close();
  }
}

describe('the other Keras layouts, written here with h5wasm as Keras lays them out', () => {
  const kernel = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const bias = Float64Array.from([0.5, -0.5, 1e-300]);

  it("reads model.save's layout: model_weights/ plus optimizer_weights/ with the iteration counter as the step", { timeout: SLOW }, async () => {
    const file = path.join(dir, 'model.h5');
    await writeH5(file, (root) => {
      root.create_attribute('keras_version', '2.15.0');
      root.create_attribute('backend', 'tensorflow');
      const weights = root.create_group('model_weights');
      weights.create_attribute('layer_names', ['dense']);
      const layer = weights.create_group('dense');
      layer.create_attribute('weight_names', ['dense/kernel:0', 'dense/bias:0']);
      const inner = layer.create_group('dense');
      inner.create_dataset({ name: 'kernel:0', data: kernel, shape: [2, 3], chunks: [1, 3], compression: 'gzip' });
      inner.create_dataset({ name: 'bias:0', data: bias, shape: [3] });
      const optimizer = root.create_group('optimizer_weights');
      optimizer.create_attribute('weight_names', ['Adam/iter:0', 'Adam/dense/kernel/m:0']);
      const adam = optimizer.create_group('Adam');
      adam.create_dataset({ name: 'iter:0', data: BigInt64Array.from([7n]), shape: [] });
      adam
        .create_group('dense')
        .create_group('kernel')
        .create_dataset({ name: 'm:0', data: kernel, shape: [2, 3] });
    });
    const checkpoint = (await kerasH5Reader.open(file)).checkpoints[0] as ForeignCheckpoint;
    expect(checkpoint.formatLabel).toBe('Keras HDF5 model (model.save) (Keras 2.15.0, tensorflow backend)');
    expect(checkpoint.step).toBe(7);
    expect(checkpoint.tensors.map((t) => [t.name, t.dtype, t.shape, t.bytes, t.role])).toEqual([
      ['model_weights/dense/dense/kernel:0', 'F32', [2, 3], 24, 'model'],
      ['model_weights/dense/dense/bias:0', 'F64', [3], 24, 'model'],
      ['optimizer_weights/Adam/iter:0', 'I64', [], 8, 'step'],
      ['optimizer_weights/Adam/dense/kernel/m:0', 'F32', [2, 3], 24, 'optimizer'],
    ]);
    const read = await readAll(checkpoint);
    // The kernel is chunked and gzip-compressed in the file: what comes back is its values.
    expect(Buffer.from((read.get('model_weights/dense/dense/kernel:0') as ForeignTensorData).data).equals(Buffer.from(kernel.buffer))).toBe(true);
    expect(Buffer.from((read.get('model_weights/dense/dense/bias:0') as ForeignTensorData).data).equals(Buffer.from(bias.buffer))).toBe(true);
  });

  it('reads a Keras 3 .weights.h5 (layers/<name>/vars/<i>), and refuses a hard-link cycle instead of walking it forever', { timeout: SLOW }, async () => {
    const file = path.join(dir, 'model.weights.h5');
    await writeH5(file, (root) => {
      const vars = root.create_group('layers').create_group('dense').create_group('vars');
      vars.create_dataset({ name: '0', data: kernel, shape: [2, 3] });
      vars.create_dataset({ name: '1', data: bias, shape: [3] });
      root
        .create_group('optimizer')
        .create_group('vars')
        .create_dataset({ name: '0', data: BigInt64Array.from([3n]), shape: [] });
      root.create_group('vars');
    });
    const checkpoint = (await kerasH5Reader.open(file)).checkpoints[0] as ForeignCheckpoint;
    expect(checkpoint.formatLabel).toBe('Keras 3 weights (.weights.h5)');
    expect(checkpoint.tensors.map((t) => [t.name, t.displayName, t.dtype, t.shape, t.role])).toEqual([
      ['layers/dense/vars/0', 'dense/vars/0', 'F32', [2, 3], 'model'],
      ['layers/dense/vars/1', 'dense/vars/1', 'F64', [3], 'model'],
      // Keras 3's optimizer creates its iteration counter first: vars/0, an integer scalar, is the step.
      ['optimizer/vars/0', 'optimizer/vars/0', 'I64', [], 'step'],
    ]);
    expect([checkpoint.step, checkpoint.stepSource]).toEqual([3, "the optimizer's iteration counter optimizer/vars/0"]);

    const looped = path.join(dir, 'looped.weights.h5');
    await writeH5(looped, (root) => {
      root.create_group('layers');
      root.create_hard_link('/layers', '/layers/again');
    });
    const error = await openError(looped);
    expect(error.file).toBe(looped);
    expect(error.message).toMatch(/could not be read as HDF5: groups nest deeper than 32 levels/);
  });

  it('gives up on a library that does not answer in time, naming the file', { timeout: SLOW }, async () => {
    const file = path.join(dir, 'slow.h5');
    await writeH5(file, (root) => root.create_attribute('layer_names', ['x']));
    const error = await H5File.open(file, 1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as Error).message).toMatch(/slow\.h5: could not be read as HDF5: the HDF5 library did not answer within 0 s/);
  });

  it('refuses an HDF5 file whose layer_names point at nothing', { timeout: SLOW }, async () => {
    const file = path.join(dir, 'broken.h5');
    await writeH5(file, (root) => root.create_attribute('layer_names', ['ghost']));
    const error = await openError(file);
    expect(error.message).toMatch(/broken\.h5: layer_names lists "ghost", but there is no such group/);
  });
});

describe('sniffing HDF5', () => {
  it('finds the signature at 0 or after a user block, and nothing in other files', async () => {
    const signature = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    const at0 = path.join(dir, 'a.h5');
    await writeFile(at0, Buffer.concat([signature, Buffer.alloc(100)]));
    const at1024 = path.join(dir, 'b.weights');
    await writeFile(at1024, Buffer.concat([Buffer.alloc(1024), signature, Buffer.alloc(100)]));
    const at700 = path.join(dir, 'c.h5');
    await writeFile(at700, Buffer.concat([Buffer.alloc(700), signature, Buffer.alloc(100)]));
    expect(await kerasH5Reader.sniff(at0)).toBe(true);
    expect(await kerasH5Reader.sniff(at1024)).toBe(true);
    expect(await kerasH5Reader.sniff(at700)).toBe(false);
    expect(await kerasH5Reader.sniff(dir)).toBe(false);
    expect(await kerasH5Reader.sniff(path.join(dir, 'missing.h5'))).toBe(false);
  });
});
