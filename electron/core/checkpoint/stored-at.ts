// A checkpoint in a bucket as a worker thread is told of it: the storage's address, the
// checkpoint's folder under it and how the store is reached (never credentials: the worker takes
// them from the AWS chain, as every process that talks to the store does). Kept apart from the
// S3 client (stored-open.ts) so a worker that reads only folders never loads it.
import { z } from 'zod';
import { S3ConnectionSchema } from '../../contract.js';

export const StoredCheckpointSchema = z.object({
  /** s3://bucket/prefix/: the storage the folder is under. */
  address: z.string().min(1),
  /** The checkpoint's folder, a key of that storage ending in '/'. */
  folder: z.string().regex(/\/$/),
  connection: S3ConnectionSchema,
});
export type StoredCheckpointAt = z.infer<typeof StoredCheckpointSchema>;
