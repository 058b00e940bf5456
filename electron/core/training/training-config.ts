// Everything a training run is configured by, as schemas, in a module that does not load
// TensorFlow.js: the supervisor, the app's main process and the CLI's argument parsing validate
// requests with these without paying for (or depending on) tfjs.
import { z } from 'zod';

export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];
export type BackendName = Exclude<BackendPreference, 'auto'>;

export const ModelSpecSchema = z.object({
  kind: z.enum(['mlp', 'cnn']),
  /** Units of each hidden dense layer. */
  width: z.int().positive().default(128),
  /** Hidden dense layers (mlp) or convolution layers (cnn). */
  depth: z.int().positive().default(1),
  /** Filters of each convolution (cnn). */
  filters: z.int().positive().default(32),
});
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const OptimizerSpecSchema = z.object({
  name: z.enum(['adam', 'sgd', 'momentum', 'rmsprop']),
  learningRate: z.number().positive(),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-7),
  momentum: z.number().min(0).lt(1).default(0.9),
  rho: z.number().min(0).lt(1).default(0.9),
});
export type OptimizerSpec = z.infer<typeof OptimizerSpecSchema>;

export const DEFAULT_LEARNING_RATE: Record<OptimizerSpec['name'], number> = { adam: 0.001, sgd: 0.1, momentum: 0.01, rmsprop: 0.001 };

export const TrainingConfigSchema = z.object({
  model: ModelSpecSchema,
  optimizer: OptimizerSpecSchema,
  batchSize: z.int().positive(),
  epochs: z.int().positive(),
  seed: z.int().nonnegative(),
  validationCount: z.int().positive(),
  /** Use only the first N training examples (small, fast runs). */
  trainLimit: z.int().positive().optional(),
});
export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;

export const CheckpointPolicySchema = z.object({
  everySteps: z.int().positive().optional(),
  everyEpochs: z.int().positive().optional(),
  everySeconds: z.number().positive().optional(),
  best: z.object({ metric: z.enum(['val_loss', 'val_accuracy']), mode: z.enum(['min', 'max']) }).optional(),
  /** Save when a graceful stop is requested (and at the natural end of training). */
  onStop: z.boolean().default(true),
});
export type CheckpointPolicy = z.infer<typeof CheckpointPolicySchema>;
