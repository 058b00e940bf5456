// A request to train, as plain data: what the CLI parses from flags, what the app sends, and
// what the supervisor hands the trainer process. Validated wherever it crosses a boundary.
import { z } from 'zod';
import { RetentionPolicySchema } from '../../checkpoint/run-files.js';
import { BACKEND_PREFERENCES, CheckpointPolicySchema, TrainingConfigSchema } from '../../../contract.js';

export const TrainRequestSchema = z.object({
  workspace: z.string().min(1),
  run: z.string().optional(),
  /** Required for a new run; a resumed run takes its configuration from the checkpoint. */
  config: TrainingConfigSchema.optional(),
  resume: z.string().optional(),
  resumeMetric: z.object({ metric: z.string(), mode: z.enum(['min', 'max']) }).optional(),
  epochs: z.int().positive().optional(),
  maxSteps: z.int().positive().optional(),
  checkpoints: CheckpointPolicySchema,
  retention: RetentionPolicySchema.optional(),
  logEvery: z.int().positive().default(10),
  dataDir: z.string().optional(),
  backend: z.enum(BACKEND_PREFERENCES).default('auto'),
});
export type TrainRequest = z.infer<typeof TrainRequestSchema>;
