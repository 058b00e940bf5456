// Train and validation splits. The validation set is held out from the end of the training files (as
// Keras's validation_split does), so it never changes with the seed or the shuffle.
import { StudioError } from '../../../contract.js';
import { IMAGE_SIZE, type MnistLike, type MnistSplit } from './mnist-dataset.js';

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
  if (validationCount < 0 || validationCount >= total)
    throw new StudioError('usage', `the validation split must hold between 0 and ${total - 1} examples (the data has ${total}), not ${validationCount}`);
  const trainEnd = total - validationCount;
  const trainCount = trainLimit === undefined ? trainEnd : Math.min(trainLimit, trainEnd);
  return { train: slice(data.train, 0, trainCount), validation: slice(data.train, trainEnd, total), source: data.source };
}
