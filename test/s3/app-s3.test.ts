// The app (browser mode, a real Chromium) on a workspace in S3, against a real Ceph gateway: Open
// workspace… takes an s3:// address and an endpoint, the checkpoints show, and a checkpoint
// committed by another process appears without a reload (the Studio re-lists every 2 s). The
// page is never given a credential.
import { beforeAll, describe, expect, it } from 'vitest';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from '../ui/harness.js';
import { s3Available } from './s3-available.js';
import { openBucketInApp, useGatewayKeys } from './app-helpers.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const ADDRESS = 's3://app-s3/team/ws';

describe.skipIf(!s3Available())('the app on a workspace in S3', () => {
  const storageOf = useS3Storage(ADDRESS, async (storage) => {
    await storage.write('mnist/run.json', JSON.stringify({ formatVersion: 1, name: 'mnist', createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {} }));
    const lease = await acquireLease(storage, 'mnist/.lock/');
    for (const step of [100, 200]) await commitCheckpoint(storage, lease, 'mnist/', 'mnist', trainingState(step));
    await lease.release();
  });
  const openWorld = useUi();
  let storage: S3Storage;
  useGatewayKeys();
  beforeAll(() => {
    storage = storageOf();
  });

  it('opens s3://… with an endpoint, lists its checkpoints, and shows another process’s new commit without a reload', async () => {
    const world = await openWorld();
    const { page } = world;
    await openBucketInApp(page, ADDRESS);
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count')).toBe('2');

    const lease = await acquireLease(storage, 'mnist/.lock/');
    try {
      await commitCheckpoint(storage, lease, 'mnist/', 'mnist', trainingState(300));
      await expect.poll(() => list.getAttribute('data-count'), { timeout: 15_000 }).toBe('3');
    } finally {
      await lease.release();
    }
    await world.screenshot('s3-workspace');
    // Nothing the page holds names a secret.
    const html = await page.content();
    expect(html).not.toContain(gatewayEnv()['AWS_SECRET_ACCESS_KEY']);
    expectNoProblems(world);
  }, 60_000);
});
