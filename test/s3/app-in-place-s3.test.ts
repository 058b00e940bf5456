// The app (browser mode, a real Chromium) on other programs' folders in a bucket (issue 18),
// against the real gateway: Open workspace… with an s3:// address shows a TensorFlow Saver
// folder's checkpoints read in place with the state file's latest, both runs on the timeline, and
// a TensorBoard run's metric drawn in the Charts tab from its event file; Make latest there,
// refused while the folder is not quiet, done once the quiet period is changed beside the
// refusal, and undone, the state file read back with its own parser.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectNoProblems, useUi } from '../ui/harness.js';
import { s3Available } from './s3-available.js';
import { openBucketInApp, useGatewayKeys } from './app-helpers.js';
import { useS3Storage } from './shared-gateway.js';
import { parseCheckpointState } from '../../electron/core/formats/tf/checkpoint-state.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.resolve(root, '../shared/fixtures');
const saver = path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps');
const board = path.join(fixtures, 'tensorboard', 'tf2-summary-scalar');
const ADDRESS = 's3://app-in-place-s3/tutorial';

describe.skipIf(!s3Available() || !fs.existsSync(saver))('the app on other programs’ folders in S3', () => {
  const storageOf = useS3Storage(`${ADDRESS}/`, async (storage) => {
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

  it('Make latest in the Saver folder: refused while not quiet, done once the quiet period is changed beside the refusal, and undone', async () => {
    const storage = storageOf();
    const latestInFile = async () => parseCheckpointState(new TextDecoder().decode(await storage.read('saver/checkpoint')), 'checkpoint').modelCheckpointPath;
    const original = Buffer.from(await storage.read('saver/checkpoint'));
    const world = await openWorld();
    const { page } = world;
    await openBucketInApp(page, ADDRESS);
    // A long quiet period first, so the refusal does not depend on how long ago the objects were written.
    await page.getByRole('button', { name: 'Settings…' }).click();
    const settings = page.getByRole('form', { name: 'Quiet period' });
    // The field shows the setting once read: typed into before that, what is typed would be overwritten.
    await expect.poll(() => settings.getByLabel('Quiet period').inputValue()).toBe('10');
    await settings.getByLabel('Quiet period').fill('3600');
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => settings.getByText(/Saved: a folder must be quiet for 3600 s/).count()).toBe(1);
    await page.getByRole('button', { name: 'Settings…' }).click();

    const option = (id: string) => page.getByRole('option', { name: new RegExp(`^saver/${id},`) });
    await option('model-5000').click();
    const details = page.getByRole('complementary', { name: 'Checkpoint details' });
    await details.getByRole('button', { name: 'Make latest' }).click();
    await expect.poll(() => details.getByRole('alert').textContent()).toMatch(/refused: busy: /);
    await details.getByRole('button', { name: 'Change the quiet period…' }).click();
    const beside = details.getByRole('form', { name: 'Quiet period' });
    await expect.poll(() => beside.getByLabel('Quiet period').inputValue()).toBe('3600');
    await beside.getByLabel('Quiet period').fill('0');
    await beside.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => beside.getByText(/Saved: folders are changed at once/).count()).toBe(1);
    expect(await latestInFile()).toBe('model-10000');

    await details.getByRole('button', { name: 'Make latest' }).click();
    await expect.poll(() => option('model-5000').getAttribute('aria-label')).toMatch(/, latest(,|$)/);
    expect(await latestInFile()).toBe('model-5000');
    await world.screenshot('s3-in-place-made-latest');
    await details.getByRole('status').getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => option('model-10000').getAttribute('aria-label')).toMatch(/, latest(,|$)/);
    expect(Buffer.from(await storage.read('saver/checkpoint')).equals(original)).toBe(true);
  }, 60_000);
});
