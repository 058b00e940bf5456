// Splits and batches. The validation set is held out from the end of the training files (as
// Keras's validation_split does), so it never changes with the seed or the shuffle.
import { StudioError } from '../checkpoint/errors.js';
import * as tf from '@tensorflow/tfjs';
import { CLASS_COUNT, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_SIZE, type MnistLike, type MnistSplit } from './mnist-dataset.js';

export interface TrainingData {
  readonly train: MnistSplit;
  readonly validation: MnistSplit;
  readonly source: string;
}

function slice(split: MnistSplit, start: number, end: number): MnistSplit {
  return { images: split.images.subarray(start * IMAGE_SIZE, end * IMAGE_SIZE), labels: split.labels.subarray(start, end), count: end - start };
}

export function holdOutValidation(data: MnistLike, validationCount: number, trainLimit?: number): TrainingData {
  const total = data.train.count;
  if (validationCount < 1 || validationCount >= total) throw new StudioError('usage', `the validation split must hold between 1 and ${total - 1} examples, not ${validationCount}`);
  const trainEnd = total - validationCount;
  const trainCount = trainLimit === undefined ? trainEnd : Math.min(trainLimit, trainEnd);
  return { train: slice(data.train, 0, trainCount), validation: slice(data.train, trainEnd, total), source: data.source };
}

/** Images [b, 28, 28, 1] and one-hot labels [b, 10] for the examples `order[start..end)`. */
export function makeBatch(split: MnistSplit, order: Uint32Array | null, start: number, end: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const size = end - start;
  const images = new Float32Array(size * IMAGE_SIZE);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i += 1) {
    const index = order ? (order[start + i] as number) : start + i;
    images.set(split.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    labels[i] = split.labels[index] as number;
  }
  return tf.tidy(() => ({
    xs: tf.tensor4d(images, [size, IMAGE_HEIGHT, IMAGE_WIDTH, 1]),
    ys: tf.oneHot(tf.tensor1d(labels, 'int32'), CLASS_COUNT).toFloat() as tf.Tensor2D,
  }));
}
