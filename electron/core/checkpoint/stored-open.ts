// A checkpoint in a bucket as a worker thread is told of it: the storage's address, the
// checkpoint's folder under it and how the store is reached (never credentials: the worker takes
// them from the AWS chain, as every process that talks to the store does). Opened again where the
// reading happens, so the thread that answers the app only resolves names.
import { z } from 'zod';
import { S3ConnectionSchema, type S3Connection } from '../../contract.js';
import { openS3Storage } from '../storage/open-s3.js';
import type { S3Storage } from '../storage/s3-storage.js';

export const StoredCheckpointSchema = z.object({
  /** s3://bucket/prefix/: the storage the folder is under. */
  address: z.string().min(1),
  /** The checkpoint's folder, a key of that storage ending in '/'. */
  folder: z.string().regex(/\/$/),
  connection: S3ConnectionSchema,
});
export type StoredCheckpointAt = z.infer<typeof StoredCheckpointSchema>;

/** Connection settings as the client takes them (no undefined fields). */
export function s3Options(connection: S3Connection | undefined): Parameters<typeof openS3Storage>[1] {
  const { endpoint, pathStyle, profile, region } = connection ?? {};
  return {
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(pathStyle !== undefined ? { pathStyle } : {}),
    ...(profile !== undefined ? { profile } : {}),
    ...(region !== undefined ? { region } : {}),
  };
}

/** One storage per address and connection, for the life of the thread that asks. */
const opened = new Map<string, S3Storage>();

export function storageOf(at: Pick<StoredCheckpointAt, 'address' | 'connection'>): S3Storage {
  const key = JSON.stringify([at.address, s3Options(at.connection)]);
  let storage = opened.get(key);
  if (storage === undefined) {
    storage = openS3Storage(at.address, s3Options(at.connection));
    opened.set(key, storage);
  }
  return storage;
}
