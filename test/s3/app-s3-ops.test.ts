// The app (browser mode, a real Chromium) on a workspace in S3 (a real Ceph gateway): the Compare
// button on two checkpoints of the bucket shows their table, and the Distributions view draws a
// tensor over the run's steps, both read from the bucket by ranged GETs. Screenshots go to
// test-results/ui/ to be looked at.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import { f32, trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from '../ui/harness.js';
import { s3Available } from './s3-available.js';
import { openBucketInApp, useGatewayKeys } from './app-helpers.js';
import { useS3Storage } from './shared-gateway.js';

const ADDRESS = 's3://app-s3-ops/ws';
const STEPS = [100, 200, 300, 400];

/** A kernel whose values spread as the run goes on. */
function state(step: number): ReturnType<typeof trainingState> {
  const base = trainingState(step);
  const kernel: Tensor = {
    name: 'dense/kernel',
    dtype: 'F32',
    shape: [40, 50],
    data: f32(Array.from({ length: 2000 }, (_, i) => Math.sin(i * 1.7) * (step / 400))),
  };
  return { ...base, model: [kernel, ...base.model.slice(1)] };
}

describe.skipIf(!s3Available())('Compare and Distributions on a workspace in S3', () => {
  useS3Storage(ADDRESS, async (storage) => {
    await storage.write('mnist/run.json', JSON.stringify({ formatVersion: 1, name: 'mnist', createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {} }));
    const lease = await acquireLease(storage, 'mnist/.lock/');
    for (const step of STEPS) await commitCheckpoint(storage, lease, 'mnist/', 'mnist', state(step));
    await lease.release();
  });
  const openWorld = useUi();
  // The Studio and its workers take the keys from the environment, as a user's would; figures are cached in a cache folder of the test's.
  const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-app-s3-cache-'));
  useGatewayKeys(() => ({ XDG_CACHE_HOME: cacheHome }));
  afterAll(() => {
    fs.rmSync(cacheHome, { recursive: true, force: true });
  });

  it('compares two checkpoints of the bucket from the Compare button', async () => {
    const world = await openWorld();
    const { page } = world;
    await openBucketInApp(page, ADDRESS);
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count')).toBe(String(STEPS.length));
    await list.getByRole('option', { name: /^mnist step 100,/ }).click();
    await list.getByRole('option', { name: /^mnist step 400,/ }).click({ modifiers: ['ControlOrMeta'] });
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Compare checkpoints' });
    const table = dialog.getByRole('table', { name: 'Tensors compared' });
    await expect.poll(() => table.count(), { timeout: 20_000 }).toBe(1);
    const names = await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-tensor')));
    expect(names).toHaveLength(5);
    // The kernel quadrupled: the largest relative change (3), first.
    expect(names[0]).toBe('dense/kernel');
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('mnist/ckpt-000000100 · step 100');
    expect(text).toContain('mnist/ckpt-000000400 · step 400');
    await world.screenshot('s3-compare');
    await dialog.getByRole('button', { name: 'Close' }).click();
    expectNoProblems(world);
  }, 60_000);

  it('draws a tensor’s distributions over the run’s steps in the Distributions view', async () => {
    const world = await openWorld();
    const { page } = world;
    await openBucketInApp(page, ADDRESS);
    await page.getByRole('tab', { name: 'Distributions' }).click();
    const tensors = page.getByRole('listbox', { name: 'Tensors' });
    await expect.poll(() => tensors.getByRole('option', { name: /^dense\/kernel/ }).count(), { timeout: 20_000 }).toBe(1);
    await tensors.getByRole('option', { name: /^dense\/kernel/ }).click();
    const readout = page.getByTestId('distribution-readout');
    await readout.waitFor({ timeout: 20_000 });
    expect(await readout.textContent()).toContain(`${STEPS.length} checkpoints`);
    await world.screenshot('s3-distributions');
    // Cached on this machine, not in the bucket.
    expect(fs.readdirSync(path.join(cacheHome, 'checkpoint-studio', 'distributions')).length).toBe(1 * STEPS.length);
    expectNoProblems(world);
  }, 60_000);
});
