// A request to train, as the trainer process receives it: everything resolved and checked by the
// Studio (the run's name, the parent checkpoint, the full configuration with any overrides
// applied), so the trainer only executes it. Validated again where it crosses into the trainer.
import { z } from 'zod';
import {
  BackendPreferenceSchema,
  CheckpointPolicySchema,
  CheckpointRefSchema,
  RetentionPolicySchema,
  S3ConnectionSchema,
  TRAINING_DEFAULTS,
  TrainingConfigSchema,
} from '../../../contract.js';

export const TrainRequestSchema = z.object({
  /** A folder, or an `s3://bucket/prefix` address (then `s3` says how to reach the store). */
  workspace: z.string().min(1),
  /** How the trainer reaches an S3 workspace; its credentials it takes from the AWS chain of its own process, never from here. */
  s3: S3ConnectionSchema.optional(),
  run: z.string().min(1),
  /** The complete configuration; for a continued run, the parent's with the allowed overrides. */
  config: TrainingConfigSchema,
  /** The checkpoint to continue from (its exact id), or null for a fresh run. */
  resume: CheckpointRefSchema.extend({
    id: z.string().min(1),
    /** Continuing another program's checkpoint: our weight ← its tensor, as the Studio planned and showed it. */
    foreignMap: z.record(z.string(), z.string()).optional(),
    /**
     * Another program's checkpoint read in place (a TensorFlow group, a Keras file): where it is and
     * how to read it, so the trainer reads it directly, without listing the workspace.
     */
    inPlace: z.object({ path: z.string().min(1), format: z.string().min(1), name: z.string() }).optional(),
  })
    .nullable()
    .default(null),
  backend: BackendPreferenceSchema.default('auto'),
  /** Why this backend, when the request chose it rather than the user (a continuation keeps its parent's). */
  backendWhy: z.string().optional(),
  checkpoints: CheckpointPolicySchema.default({ onStop: true }),
  retention: RetentionPolicySchema.default({}),
  maxSteps: z.int().positive().optional(),
  logEvery: z.int().positive().default(TRAINING_DEFAULTS.logEvery),
  /** What this run changes from its parent's recorded values, as the user was told; kept in run.json. */
  changes: z.array(z.string()).default([]),
});
export type TrainRequest = z.infer<typeof TrainRequestSchema>;
