// Keras 3 `.keras` files (see keras-files.ts for where their layout comes from): read in place,
// tensors and step and the epoch in the name, and damaged, encrypted and hostile archives refused
// with our error naming the file and the entry.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import type { ForeignCheckpoint, ForeignTensorData } from '../../electron/core/formats/foreign.js';
import { kerasV3Reader } from '../../electron/core/formats/keras-v3/reader.js';
import { sniffForeign } from '../../electron/core/formats/registry.js';
import { BIAS, ITERATIONS, KERNEL, KERNEL_1, centralHeaders, kerasEntries, kerasWeightsH5, zipOf } from './keras-files.js';

/** The first open of a kind of HDF5 worker compiles the library: seconds. */
const SLOW = 90_000;
let dir: string;
let weights: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'keras-v3-'));
  weights = await kerasWeightsH5(path.join(dir, 'scratch.h5'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

async function refusal(promise: Promise<unknown>): Promise<CheckpointFormatError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointFormatError);
  return error as CheckpointFormatError;
}

async function readAll(checkpoint: ForeignCheckpoint): Promise<Map<string, ForeignTensorData>> {
  const out = new Map<string, ForeignTensorData>();
  for await (const item of kerasV3Reader.read(checkpoint)) out.set(item.tensor.name, item);
  return out;
}

const floats = (item: ForeignTensorData | undefined): number[] => [...new Float32Array((item as ForeignTensorData).data.slice().buffer)];

describe('a .keras file as Keras 3 saves it', () => {
  it('is recognised by content, lists the weights by layer, takes the step from the optimizer and the epoch from the name', { timeout: SLOW }, async () => {
    const file = await write('ckpt-07-val_loss0.35.keras', await zipOf(kerasEntries(weights)));
    expect(await kerasV3Reader.sniff(file)).toBe(true);
    expect((await sniffForeign(file))?.format).toBe('keras-v3');
    const before = await readdir(dir);
    const source = await kerasV3Reader.open(file);
    expect(source).toMatchObject({ format: 'keras-v3', path: file, latest: 'ckpt-07-val_loss0.35.keras' });
    const checkpoint = source.checkpoints[0] as ForeignCheckpoint;
    expect(checkpoint).toMatchObject({
      formatLabel: 'Keras 3 model (.keras: Sequential, Keras 3.3.3)',
      dir,
      step: Number(ITERATIONS),
      stepSource: "the optimizer's iteration counter optimizer/vars/0",
      metrics: { epoch: 7, val_loss: 0.35 },
      files: [{ name: 'ckpt-07-val_loss0.35.keras', bytes: (await readFile(file)).length, role: 'tensors' }],
    });
    expect(checkpoint.tensors.map((t) => [t.name, t.displayName, t.dtype, t.shape, t.role, t.file])).toEqual([
      ['layers/dense/vars/0', 'dense/vars/0', 'F32', [2, 3], 'model', 'ckpt-07-val_loss0.35.keras'],
      ['layers/dense/vars/1', 'dense/vars/1', 'F32', [3], 'model', 'ckpt-07-val_loss0.35.keras'],
      ['layers/dense_1/vars/0', 'dense_1/vars/0', 'F32', [3, 1], 'model', 'ckpt-07-val_loss0.35.keras'],
      ['optimizer/vars/0', 'optimizer/vars/0', 'I64', [], 'step', 'ckpt-07-val_loss0.35.keras'],
      ['optimizer/vars/1', 'optimizer/vars/1', 'F32', [], 'optimizer', 'ckpt-07-val_loss0.35.keras'],
      ['optimizer/vars/2', 'optimizer/vars/2', 'F32', [2, 3], 'optimizer', 'ckpt-07-val_loss0.35.keras'],
    ]);
    const read = await readAll(checkpoint);
    expect(floats(read.get('layers/dense/vars/0'))).toEqual([...KERNEL]);
    expect(floats(read.get('layers/dense/vars/1'))).toEqual([...BIAS]);
    expect(floats(read.get('layers/dense_1/vars/0'))).toEqual([...KERNEL_1]);
    // Nothing was unpacked beside it.
    expect(await readdir(dir)).toEqual(before);
  });

  it('reads a deflated model.weights.h5 too, and says when the epoch in the name is a guess', { timeout: SLOW }, async () => {
    const file = await write('model_5.keras', await zipOf(kerasEntries(weights, { compress: true })));
    const checkpoint = (await kerasV3Reader.open(file)).checkpoints[0] as ForeignCheckpoint;
    expect(checkpoint.metrics).toEqual({ epoch: 5 });
    expect(checkpoint.notes).toContain('The number 5 in model_5.keras is taken for the epoch, but the name does not say what it counts.');
    expect(floats((await readAll(checkpoint)).get('layers/dense/vars/0'))).toEqual([...KERNEL]);
  });
});

describe('damaged, encrypted and hostile .keras files', () => {
  it('a flipped byte in the weights fails the zip CRC-32, at open and at a later read, naming the file and entry', { timeout: SLOW }, async () => {
    const good = await zipOf(kerasEntries(weights));
    const file = await write('flipped.keras', good);
    const checkpoint = (await kerasV3Reader.open(file)).checkpoints[0] as ForeignCheckpoint;
    const flipped = Buffer.from(good);
    const at = flipped.indexOf(weights.subarray(0, 64)) + 200;
    flipped[at] = (flipped[at] as number) ^ 0x10;
    await writeFile(file, flipped);
    const expected = `${file}: its entry model.weights.h5 is damaged: its bytes do not match its CRC-32`;
    expect((await refusal(kerasV3Reader.open(file))).message).toBe(expected);
    expect((await refusal(readAll(checkpoint))).message).toBe(expected);
  });

  it('a truncated archive is not a readable zip', async () => {
    const good = await zipOf(kerasEntries(weights));
    const file = await write('cut.keras', good.subarray(0, good.length - 30));
    expect(await kerasV3Reader.sniff(file)).toBe(false);
    expect((await refusal(kerasV3Reader.open(file))).message).toBe(
      `${file}: is not a readable zip archive: end of central directory record signature not found`,
    );
  });

  it('an encrypted entry is refused by name', async () => {
    const zip = await zipOf(kerasEntries(weights));
    const header = centralHeaders(zip).get('model.weights.h5') as number;
    // The encryption flag, and the 12 bytes more that traditional (ZipCrypto) encryption puts before a stored entry's data.
    zip.writeUInt16LE(zip.readUInt16LE(header + 8) | 0x1, header + 8);
    zip.writeUInt32LE(zip.readUInt32LE(header + 20) + 12, header + 20);
    const file = await write('encrypted.keras', zip);
    expect((await refusal(kerasV3Reader.open(file))).message).toBe(`${file}: its entry model.weights.h5 is encrypted; encrypted entries are not read`);
  });

  it('entries named with ".." or an absolute path are refused, though nothing would be unpacked', async () => {
    for (const [placeholder, hostile] of [
      ['aa/evil.txt', '../evil.txt'],
      ['xetc/passwd', '/etc/passwd'],
    ] as const) {
      // yazl refuses such names itself: the name is written plain, then changed in place (same length) in both headers.
      const zip = await zipOf([...kerasEntries(weights), { name: placeholder, data: Buffer.from('x') }]);
      const patched = Buffer.from(zip.toString('latin1').replaceAll(placeholder, hostile), 'latin1');
      const file = await write('hostile.keras', patched);
      // Recognised as a .keras file, so that opening it says what is wrong rather than "not something this program reads".
      expect(await kerasV3Reader.sniff(file)).toBe(true);
      const error = await refusal(kerasV3Reader.open(file));
      expect(error.message).toBe(
        `${file}: holds an entry named ${hostile}, an absolute path or one with ".."; no checkpoint writer makes such an archive, so it is refused (nothing here unpacks entries to paths)`,
      );
    }
  });

  it('an entry claiming more bytes than may be held in memory is refused before any is read', async () => {
    const zip = await zipOf(kerasEntries(weights));
    const header = centralHeaders(zip).get('model.weights.h5') as number;
    // Compressed and uncompressed size (a stored entry's are equal): 1.25 GiB.
    zip.writeUInt32LE(0x50000000, header + 20);
    zip.writeUInt32LE(0x50000000, header + 24);
    const file = await write('huge.keras', zip);
    expect((await refusal(kerasV3Reader.open(file))).message).toBe(
      `${file}: its entry model.weights.h5 is 1342177280 bytes, more than the 1073741824 read from a .keras file (its weights are read into memory)`,
    );
  });

  it('a zip without the Keras entries, or with npz weights, says what it lacks; other zips are not .keras files', async () => {
    const entries = kerasEntries(weights);
    const noWeights = await write('noweights.keras', await zipOf(entries.slice(0, 2)));
    expect((await refusal(kerasV3Reader.open(noWeights))).message).toBe(
      `${noWeights}: is a zip archive but not a Keras 3 model: it has no model.weights.h5 (a .keras file holds metadata.json, config.json and model.weights.h5)`,
    );
    const npz = await write('npz.keras', await zipOf([...entries.slice(0, 2), { name: 'model.weights.npz', data: Buffer.from('PK') }]));
    expect((await refusal(kerasV3Reader.open(npz))).message).toMatch(
      /holds its weights as model\.weights\.npz \(saved with weights_format="npz"\), which is not read/,
    );
    const other = await write('other.zip', await zipOf([{ name: 'readme.txt', data: Buffer.from('hello') }]));
    expect(await kerasV3Reader.sniff(other)).toBe(false);
    expect(await sniffForeign(other)).toBeNull();
  });

  it('metadata that is not what Keras writes, and weights that are not HDF5, are named', { timeout: SLOW }, async () => {
    const [metadata, config] = kerasEntries(weights);
    const badMeta = await write(
      'meta.keras',
      await zipOf([{ name: 'metadata.json', data: Buffer.from('{"keras_version": 3}') }, config!, { name: 'model.weights.h5', data: weights }]),
    );
    expect((await refusal(kerasV3Reader.open(badMeta))).message).toBe(
      `${badMeta}: its entry metadata.json is not what Keras writes there (keras_version is not as expected)`,
    );
    const notH5 = await write('noth5.keras', await zipOf([metadata!, config!, { name: 'model.weights.h5', data: Buffer.from('not an HDF5 file at all') }]));
    expect((await refusal(kerasV3Reader.open(notH5))).message).toMatch(
      new RegExp(`^${notH5.replaceAll('.', '\\.')}: its entry model\\.weights\\.h5 could not be read as HDF5: `),
    );
  });
});
