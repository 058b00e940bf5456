// 10,000 checkpoints: the list renders only what is in view, scrolls to its end, and a range
// selection across thousands of rows works (how fast: npm run bench:ui).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkpointDirName } from '../../electron/core/checkpoint/layout.js';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const COUNT = 10_000;
// Removing 10,000 checkpoint folders after the test can outlast the default hook time on a busy disk.
vi.setConfig({ hookTimeout: 60_000 });
const open = useUi();

/** Copies of one real checkpoint, each with its own step, as a long run would leave them. */
async function manyCheckpoints(store: CheckpointStore): Promise<void> {
  const writer = await store.createRun('long', { parent: null, config: {} });
  const template = (await writer.save(trainingState(1))).dir;
  await writer.close();
  const files = readdirSync(template).map((name) => ({ name, bytes: readFileSync(path.join(template, name)) }));
  const manifest = readFileSync(path.join(template, 'manifest.json'), 'utf8');
  for (let step = 2; step <= COUNT; step += 1) {
    const dir = path.join(store.root, 'long', checkpointDirName(step));
    mkdirSync(dir);
    for (const { name, bytes } of files) {
      writeFileSync(path.join(dir, name), name === 'manifest.json' ? manifest.replace('"step": 1,', `"step": ${step},`) : bytes);
    }
  }
}

describe('a workspace of 10,000 checkpoints', () => {
  it('lists them with few rows in the page, scrolls to the last, and selects them all with Shift+Home', { timeout: 180_000 }, async () => {
    const world = await open(manyCheckpoints);
    const { page } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count'), { timeout: 30_000 }).toBe(String(COUNT));
    expect(await list.getByRole('option').count()).toBeLessThan(80);

    // Scrolled to the end, the rows there are drawn (frame times: npm run bench:ui).
    await list.evaluate((viewport) => {
      viewport.scrollTop = viewport.scrollHeight;
    });
    await expect.poll(() => list.getByRole('option', { name: /^long step 10000,/ }).count()).toBe(1);

    await list.getByRole('option', { name: /^long step 10000,/ }).click();
    await page.keyboard.press('Shift+Home');
    await expect.poll(() => page.getByText(`${COUNT.toLocaleString('en-US')} selected`).count()).toBe(1);
    await expect.poll(() => list.getByRole('option', { name: /^long step 1,/ }).getAttribute('aria-selected')).toBe('true');
    await world.screenshot('many-checkpoints');
    expectNoProblems(world);
  });
});
