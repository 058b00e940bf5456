// A folder another program wrote, opened in place in browser mode, in a real Chromium: a copy of
// the tutorial's TensorFlow Saver folder (model-1000 … model-10000 and TensorFlow's checkpoint
// file) with a TensorBoard event file in logs/. An empty workspace first says what it looked for;
// then Open workspace… opens the copy, which is read without a byte written; its checkpoints are
// listed by their names with model-10000 the folder's latest; a checkpoint's details show its
// format and its three files; deleting model-10000 rewrites the checkpoint file as TensorFlow
// would and Undo puts both back; Make latest model-5000 moves the mark and the file's pointer; the
// TensorBoard run's chart shows its points, and more as its event file grows; a new group appears
// once it is whole. Screenshots of each step.
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sharedFixture } from '../fixtures.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const tutorial = sharedFixture('tf1-saver', 'mnist-softmax-10steps');
const board = sharedFixture('tensorboard', 'tf2-summary-scalar');
const EVENTS = 'events.out.tfevents.1585499054.Jaakkos-Mac-mini.local.11684.5.v2';
/** Where the copied event file is cut at first: mid-record, as a writer's flush may leave it. */
const FIRST_PART = 3000;

/**
 * The fixtures are read-only files: the copy is made writable, as a training job's own folder is,
 * and an hour old, so the quiet period does not take it for a folder being written.
 */
function settle(dir: string): void {
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    fs.chmodSync(file, entry.isDirectory() ? 0o755 : 0o644);
    fs.utimesSync(file, hourAgo, hourAgo);
  }
  fs.chmodSync(dir, 0o755);
  fs.utimesSync(dir, hourAgo, hourAgo);
}

/** Every file under a folder with its bytes' length and time: what reading must leave as it was. */
function snapshotOf(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      const stat = fs.statSync(file);
      return `${path.relative(dir, file)} ${e.isDirectory() ? 'dir' : stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

/** The workspace's latest among an option's marks (each run's own is `latest(<run>)`). */
const LATEST = /, latest(,|$)/;
const option = (page: Page, name: string): Locator => page.getByRole('option', { name: new RegExp(`^${name},`) });
const latestOf = (folder: string): string | undefined =>
  /^model_checkpoint_path: "([^"]+)"/m.exec(fs.readFileSync(path.join(folder, 'checkpoint'), 'utf8'))?.[1];
/** What an element says, its spaces and line breaks as one space each, as a person reads it. */
const words = async (locator: Locator): Promise<string> => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ');
const card = (page: Page, metric: string): Locator => page.getByRole('figure', { name: new RegExp(`^${metric}: `) });

describe('a folder another program wrote, opened in place', () => {
  it.skipIf(tutorial === null || board === null)(
    'lists, details, deletes with undo, makes latest and charts the tutorial’s folder where it lies',
    { timeout: 120_000 },
    async () => {
      const world = await open();
      const { page } = world;
      const empty = page.getByRole('note', { name: 'Nothing found' });
      await expect.poll(() => empty.textContent()).toContain(`Nothing found in ${world.studio.workspace}.`);
      expect(await empty.getByRole('listitem').count()).toBe(7);
      expect(await empty.textContent()).toContain('TensorFlow checkpoints: <prefix>.index with its .data-NNNNN-of-NNNNN shards');
      await world.screenshot('in-place-empty');

      const folder = path.join(world.workspace.base, 'mnist-softmax');
      fs.cpSync(tutorial as string, folder, { recursive: true });
      const logs = path.join(folder, 'logs');
      fs.mkdirSync(logs);
      const events = fs.readFileSync(path.join(board as string, EVENTS));
      fs.writeFileSync(path.join(logs, EVENTS), events.subarray(0, FIRST_PART));
      settle(folder);
      const untouched = snapshotOf(folder);
      const stateText = fs.readFileSync(path.join(folder, 'checkpoint'), 'utf8');

      // Open workspace… says another program's folder is read where it lies, and opens it.
      await page.getByRole('button', { name: 'Open workspace…' }).click();
      const form = page.getByRole('form', { name: 'Open workspace' });
      expect(await words(form)).toContain('They are read and managed where they lie: nothing is copied.');
      await form.getByLabel('Workspace folder').fill(folder);
      await form.getByRole('button', { name: 'Open', exact: true }).click();
      const summary = page.getByTestId('workspace-summary');
      await expect.poll(() => summary.textContent()).toBe('10 TensorFlow checkpoints, 1 TensorBoard run · 503.0 KB');
      expect(await page.getByText('read in place', { exact: true }).count()).toBe(1);
      const list = page.getByRole('listbox', { name: 'Checkpoints' });
      await expect.poll(() => list.getAttribute('data-count')).toBe('10');
      await expect
        .poll(() => option(page, 'model-10000').getAttribute('aria-label'))
        .toMatch(/^model-10000, step 10000, TensorFlow checkpoint, unverified, 50\.3 KB, latest/);
      expect(await page.getByRole('option', { name: LATEST }).count()).toBe(1);
      // The TensorBoard run has no checkpoint: a line in the list, no lane on the timeline.
      expect(await list.getByText('metrics only: see Charts').count()).toBe(1);
      expect(await page.getByTestId('timeline').getAttribute('data-lanes')).toBe('1');
      await world.screenshot('in-place-list');

      // A checkpoint's details: its format and the three files of its group.
      await option(page, 'model-5000').click();
      const details = page.getByRole('complementary', { name: 'Checkpoint details' });
      await expect.poll(() => details.getByRole('heading', { name: 'model-5000', exact: true }).count()).toBe(1);
      expect(await words(details)).toMatch(/Format ?TensorFlow checkpoint/);
      const files = details.getByRole('list', { name: 'Files of this checkpoint' }).getByRole('listitem');
      expect((await files.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
        'model-5000.index 176 B',
        'model-5000.data-00000-of-00001 31.4 KB',
        'model-5000.meta 18.7 KB',
      ]);
      await expect.poll(() => details.getByRole('cell', { name: 'Variable_1', exact: true }).count()).toBe(1);
      await world.screenshot('in-place-details');
      // Reading wrote nothing: not a file of the folder changed, nothing of ours was created in it.
      expect(snapshotOf(folder)).toEqual(untouched);

      // Deleting the latest: its whole group goes, the checkpoint file names the newest left; Undo puts both back.
      await option(page, 'model-10000').click();
      await page.getByRole('button', { name: 'Delete selected' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete 1 checkpoint?' });
      expect(await words(confirm)).toMatch(/a TensorFlow\s+checkpoint file that names it is rewritten as TensorFlow would\. Undo puts both back\./);
      await world.screenshot('in-place-delete');
      await confirm.getByRole('button', { name: 'Delete 1 checkpoint' }).click();
      await expect.poll(() => list.getAttribute('data-count')).toBe('9');
      for (const suffix of ['.index', '.data-00000-of-00001', '.meta']) expect(fs.existsSync(path.join(folder, `model-10000${suffix}`))).toBe(false);
      expect(latestOf(folder)).toBe('model-9000');
      await expect.poll(() => option(page, 'model-9000').getAttribute('aria-label')).toMatch(LATEST);
      await page.getByRole('button', { name: 'Undo' }).click();
      await expect.poll(() => list.getAttribute('data-count')).toBe('10');
      expect(fs.readFileSync(path.join(folder, 'checkpoint'), 'utf8')).toBe(stateText);
      await expect.poll(() => option(page, 'model-10000').getAttribute('aria-label')).toMatch(LATEST);

      // Make latest model-5000: TensorFlow's pointer and the mark move to it.
      await option(page, 'model-5000').click();
      await details.getByRole('button', { name: 'Make latest' }).click();
      await expect.poll(() => option(page, 'model-5000').getAttribute('aria-label')).toMatch(LATEST);
      expect(await option(page, 'model-10000').getAttribute('aria-label')).not.toMatch(/latest/);
      expect(latestOf(folder)).toBe('model-5000');
      expect(await details.getByRole('button', { name: 'Make latest' }).count()).toBe(0);
      await expect.poll(() => list.getByText('latest: model-5000 (not the highest step)').count()).toBe(1);
      await world.screenshot('in-place-made-latest');

      // A new group appears once it is whole: its shard and graph first, its index last, as Saver writes.
      for (const suffix of ['.data-00000-of-00001', '.meta', '.index'])
        fs.copyFileSync(path.join(folder, `model-10000${suffix}`), path.join(folder, `model-11000${suffix}`));
      await expect.poll(() => option(page, 'model-11000').count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => list.getAttribute('data-count')).toBe('11');

      // The TensorBoard run's chart: the points written so far, then more as the event file grows.
      await page.getByRole('tab', { name: 'Charts' }).click();
      const runs = page.getByRole('region', { name: 'Runs' });
      expect(await runs.getByRole('checkbox', { name: 'logs' }).isChecked()).toBe(true);
      const metric = card(page, 'my_metric');
      await expect.poll(() => metric.getAttribute('data-points'), { timeout: 15_000 }).not.toBe(null);
      const first = Number(await metric.getAttribute('data-points'));
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(100);
      await world.screenshot('in-place-charts-partial');
      fs.appendFileSync(path.join(logs, EVENTS), events.subarray(FIRST_PART));
      await expect.poll(() => metric.getAttribute('data-points'), { timeout: 10_000 }).toBe('100');
      const curve = metric.locator('li[data-run="logs"][data-kind="train"]');
      expect(await curve.getAttribute('data-first-step')).toBe('0');
      expect(await curve.getAttribute('data-last-step')).toBe('99');
      // Drawn in view: the y axis reaches the last value (0.5 × 99), not only the first part's.
      await expect.poll(async () => Number(await metric.getAttribute('data-y-max'))).toBeGreaterThanOrEqual(49.5);
      await world.screenshot('in-place-charts');
      expectNoProblems(world);
    },
  );
});
