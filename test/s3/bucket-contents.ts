// What a test compares a bucket by: every object's key with a hash of its bytes, leaving out the
// prefixes the store itself writes (its trash, its `.studio/` records). The objects are read 16 at a
// time: one after another, a small GET here takes ~45 ms, and tests compare before and after.
import { createHash } from 'node:crypto';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';

const AT_ONCE = 16;

export async function objectHashes(storage: S3Storage, leftOut: readonly string[]): Promise<Map<string, string>> {
  const keys: string[] = [];
  for await (const object of storage.list('')) if (!leftOut.some((prefix) => object.key.startsWith(prefix))) keys.push(object.key);
  const hashes = new Array<string>(keys.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(AT_ONCE, keys.length) }, async () => {
    while (next < keys.length) {
      const at = next++;
      hashes[at] = createHash('sha256')
        .update(await storage.read(keys[at] as string))
        .digest('hex');
    }
  });
  await Promise.all(lanes);
  return new Map(keys.map((key, at) => [key, hashes[at] as string]));
}
