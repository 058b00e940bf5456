// What a continued run may change from the checkpoint it continues. Exactness needs everything
// that decides the computation to stay: the model, the data (folder, split, limit), the batch
// size, the seed and the optimizer's kind and constants. How long to train, the learning rate
// and how checkpoints are saved may change: they are applied, said once, and recorded.
import type { TrainingConfig } from '../../../contract.js';

/** The recorded configuration with the allowed overrides applied, and a line for each change. */
export function applyOverrides(
  recorded: TrainingConfig,
  overrides: { epochs?: number | undefined; learningRate?: number | undefined },
): { config: TrainingConfig; changes: string[] } {
  const changes: string[] = [];
  let config = recorded;
  if (overrides.epochs !== undefined && overrides.epochs !== recorded.epochs) {
    changes.push(`epochs ${overrides.epochs} (the parent was set for ${recorded.epochs})`);
    config = { ...config, epochs: overrides.epochs };
  }
  if (overrides.learningRate !== undefined && overrides.learningRate !== recorded.optimizer.learningRate) {
    changes.push(`learning rate ${overrides.learningRate} (the parent used ${recorded.optimizer.learningRate})`);
    config = { ...config, optimizer: { ...config.optimizer, learningRate: overrides.learningRate } };
  }
  return { config, changes };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields of `requested` that differ from `recorded` but may not (a continued run computes
 * with its parent's), each described for the user. Empty when the continuation is exact.
 */
export function fixedFieldDifferences(recorded: TrainingConfig, requested: TrainingConfig): string[] {
  const out: string[] = [];
  const compare = (what: string, a: unknown, b: unknown, show: (value: unknown) => string = (v) => JSON.stringify(v)): void => {
    if (!same(a, b)) out.push(`${what}: the checkpoint was trained with ${show(a)}, not ${show(b)}`);
  };
  const model = (value: unknown): string => {
    const m = value as TrainingConfig['model'];
    return `${m.kind} (width ${m.width}, depth ${m.depth}${m.kind === 'cnn' ? `, ${m.filters} filters` : ''})`;
  };
  compare('the model', recorded.model, requested.model, model);
  compare('the dataset', recorded.dataDir, requested.dataDir, (v) => (v === null ? 'the bundled MNIST' : String(v)));
  compare('the batch size', recorded.batchSize, requested.batchSize);
  compare('the seed', recorded.seed, requested.seed);
  compare('the validation split', recorded.validationCount, requested.validationCount);
  compare('the training-example limit', recorded.trainLimit ?? null, requested.trainLimit ?? null);
  const { learningRate: _a, ...recordedOptimizer } = recorded.optimizer;
  const { learningRate: _b, ...requestedOptimizer } = requested.optimizer;
  compare('the optimizer', recordedOptimizer, requestedOptimizer);
  return out;
}
