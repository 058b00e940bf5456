// A request to prove a checkpoint resumes exactly, as a trainer process receives it: the
// checkpoint resolved by the Studio to its exact id and the data folder made absolute, so the
// trainer only replays. Validated again where it crosses into the trainer.
import { z } from 'zod';
import { BackendPreferenceSchema, S3ConnectionSchema } from '../../../contract.js';

export const VerifyResumeRequestSchema = z.object({
  workspace: z.string().min(1),
  /** The checkpoint's exact id. */
  checkpoint: z.string().min(1),
  /** Steps to replay after it. */
  steps: z.int().positive(),
  /** Default: the backend that wrote the checkpoint. */
  backend: BackendPreferenceSchema.optional(),
  /** Absolute; default: the folder the run recorded. */
  dataDir: z.string().min(1).optional(),
  /** For an `s3://bucket/prefix` workspace: how to reach the store (credentials come from the trainer's own AWS chain). */
  s3: S3ConnectionSchema.optional(),
});
export type VerifyResumeRequest = z.infer<typeof VerifyResumeRequestSchema>;
