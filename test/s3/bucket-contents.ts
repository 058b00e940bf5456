// What a test compares a bucket by: every object's key with a hash of its bytes, leaving out the
// prefixes the store itself writes (its trash, its `.studio/` records).
import { createHash } from 'node:crypto';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';

export async function objectHashes(storage: S3Storage, leftOut: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const object of storage.list('')) {
    if (leftOut.some((prefix) => object.key.startsWith(prefix))) continue;
    found.set(
      object.key,
      createHash('sha256')
        .update(await storage.read(object.key))
        .digest('hex'),
    );
  }
  return found;
}
