// Batches as tensors: images [b, 28, 28, 1] and one-hot labels, in the order the loop draws them.
import * as tf from '@tensorflow/tfjs';
import { CLASS_COUNT, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_SIZE, type MnistSplit } from '../data/mnist-dataset.js';

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
