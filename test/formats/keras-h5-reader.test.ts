// The Keras HDF5 reader on the shared tic-tac-toe fixture (Keras 2.11 `save_weights`), and on
// damaged copies of it: a truncated file and one whose metadata has a flipped byte must give our
// error naming the file, never crash or hang the process (h5wasm runs in a worker).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kerasH5Reader } from '../../electron/core/formats/keras-h5/reader.js';
import type { ForeignCheckpoint, ForeignTensorData } from '../../electron/core/formats/foreign.js';
import { CheckpointFormatError } from '../../electron/core/checkpoint/errors.js';
import { crc32c } from '../../electron/core/checkpoint/crc32c.js';
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

  it('lists the layers\' weights with their shapes, and reads their values', { timeout: SLOW }, async () => {
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
    expect(cut.message).toMatch(/could not be read as HDF5: truncated file: eof = 5000.*stored_eof = 13864/);

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

  it('refuses a file that only starts like HDF5, naming it', { timeout: SLOW }, async () => {
    const fake = path.join(dir, 'fake.h5');
    await writeFile(fake, Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4000, 0xff)]));
    const error = await openError(fake);
    expect(error.file).toBe(fake);
    expect(error.message).toMatch(/could not be read as HDF5/);
  });
});
