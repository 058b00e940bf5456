// The storage of a checkpoint in a bucket (stored-at.ts), opened again where the reading happens
// (a worker thread), so the thread that answers the app only resolves names.
import type { S3Connection } from '../../contract.js';
import type { StoredCheckpointAt } from './stored-at.js';
import { openS3Storage } from '../storage/open-s3.js';
import type { S3Storage } from '../storage/s3-storage.js';

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
