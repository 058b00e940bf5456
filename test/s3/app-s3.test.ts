// The app (browser mode, a real Chromium) on a workspace in S3, against a real Ceph gateway: Open
// workspace… takes an s3:// address and an endpoint, the checkpoints show, and a checkpoint
// committed by another process appears without a reload (the Studio re-lists every 2 s). The
// page is never given a credential.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from '../ui/harness.js';
import { s3Available } from './s3-available.js';
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
  // The Studio runs in this process: it takes the keys from the environment, as a user's would.
  const saved = new Map<string, string | undefined>();
  beforeAll(() => {
    storage = storageOf();
    for (const [name, value] of Object.entries(gatewayEnv())) {
      saved.set(name, process.env[name]);
      if (name !== 'AWS_ENDPOINT_URL') process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('opens s3://… with an endpoint, lists its checkpoints, and shows another process’s new commit without a reload', async () => {
    const world = await openWorld();
    const { page } = world;
    await page.getByRole('button', { name: 'Open workspace…' }).click();
    const form = page.getByRole('form', { name: 'Open workspace' });
    await form.getByLabel('Workspace folder').fill(ADDRESS);
    await form.getByLabel('Endpoint').fill(gatewayEnv()['AWS_ENDPOINT_URL'] ?? '');
    await expect.poll(() => form.getByText(/Credentials come from the profile/).count()).toBe(1);
    await form.getByRole('button', { name: 'Open', exact: true }).click();
    await expect.poll(async () => (await page.getByTestId('workspace-path').textContent())?.trim()).toBe(`${ADDRESS}/`);
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
