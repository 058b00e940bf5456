// The app (browser mode, a real Chromium) on other programs' folders in a bucket (issue 18),
// against the real gateway: Open workspace… with an s3:// address shows a TensorFlow Saver
// folder's checkpoints read in place with the state file's latest, both runs on the timeline, and
// a TensorBoard run's metric drawn in the Charts tab from its event file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectNoProblems, useUi } from '../ui/harness.js';
import { s3Available } from './s3-available.js';
import { openBucketInApp, useGatewayKeys } from './app-helpers.js';
import { useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.resolve(root, '../shared/fixtures');
const saver = path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps');
const board = path.join(fixtures, 'tensorboard', 'tf2-summary-scalar');
const ADDRESS = 's3://app-in-place-s3/tutorial';

describe.skipIf(!s3Available() || !fs.existsSync(saver))('the app on other programs’ folders in S3', () => {
  useS3Storage(`${ADDRESS}/`, async (storage) => {
    for (const name of fs.readdirSync(saver).sort()) await storage.write(`saver/${name}`, fs.readFileSync(path.join(saver, name)));
    for (const name of fs.readdirSync(board)) await storage.write(`board/${name}`, fs.readFileSync(path.join(board, name)));
  });
  const openWorld = useUi();
  useGatewayKeys();

  it('opens s3://… and shows the checkpoints read in place, the timeline and a TensorBoard metric’s chart', async () => {
    const world = await openWorld();
    const { page } = world;
    await openBucketInApp(page, ADDRESS);
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count')).toBe('10');
    await expect.poll(() => page.getByRole('option', { name: /^saver\/model-10000,/ }).getAttribute('aria-label')).toMatch(/latest/);
    expect(await page.getByTestId('timeline').getAttribute('data-lanes')).toBe('1');
    await world.screenshot('s3-in-place-list');

    await page.getByRole('tab', { name: 'Charts' }).click();
    const metric = page.getByRole('figure', { name: /^my_metric: / });
    await expect.poll(() => metric.getAttribute('data-points'), { timeout: 15_000 }).toBe('100');
    await world.screenshot('s3-in-place-charts');
    expectNoProblems(world);
  }, 60_000);
});
