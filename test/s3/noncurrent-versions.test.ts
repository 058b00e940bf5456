// Keys a writer rewrites in place, in a bucket with versioning on, against a real Ceph gateway: the
// run's index (after every commit) and the lease generation (every renewal) keep a bounded number of
// past versions instead of one per write, and a delete marker put there meanwhile is left alone.
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import { NONCURRENT_KEPT, dropOlderVersions } from '../../electron/core/storage/noncurrent-versions.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

async function versionsOf(storage: S3Storage, key: string): Promise<{ deleteMarker: boolean }[]> {
  const out: { deleteMarker: boolean }[] = [];
  for await (const v of storage.listVersions(key)) if (v.key === key) out.push(v);
  return out;
}

describe.skipIf(!s3Available())('past versions of rewritten keys in a versioned bucket', () => {
  const storageOf = useS3Storage('s3://rewrites/ws', async (storage) => {
    await storage.client.send(new PutBucketVersioningCommand({ Bucket: storage.where.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
  });

  it("keeps the run index's past versions bounded over many commits, with the index current", async () => {
    const lease = await acquireLease(storage, 'many/.lock/');
    try {
      for (let step = 1; step <= 3 * NONCURRENT_KEPT; step += 1) await commitCheckpoint(storage, lease, 'many/', 'many', trainingState(step));
    } finally {
      await lease.release();
    }
    const versions = await versionsOf(storage, 'many/.studio-index.json');
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.length).toBeLessThanOrEqual(NONCURRENT_KEPT);
    const index = JSON.parse(new TextDecoder().decode(await storage.read('many/.studio-index.json'))) as { checkpoints: Record<string, unknown> };
    expect(Object.keys(index.checkpoints)).toHaveLength(3 * NONCURRENT_KEPT);
  }, 120_000);

  it("keeps the lease generation's past versions bounded over many renewals", async () => {
    const lease = await acquireLease(storage, 'renewed/.lock/');
    for (let at = 0; at < 3 * NONCURRENT_KEPT; at += 1) await lease.renew();
    const generations: string[] = [];
    for await (const object of storage.list('renewed/.lock/')) generations.push(object.key);
    expect(generations).toHaveLength(1);
    expect((await versionsOf(storage, generations[0] ?? '')).length).toBeLessThanOrEqual(NONCURRENT_KEPT);
    await lease.release();
  }, 60_000);

  it('leaves a delete marker and the newest real version under it', async () => {
    for (let at = 0; at < 4; at += 1) await storage.write('marked.json', `{"at":${at}}`);
    await storage.remove(['marked.json']);
    expect(await dropOlderVersions(storage, 'marked.json')).toBe(3);
    const left = await versionsOf(storage, 'marked.json');
    expect(left.map((v) => v.deleteMarker)).toEqual([true, false]);
  });
});
