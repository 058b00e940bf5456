// The timeline in browser mode: runs as lanes, the lineage line from a continued run to its
// parent checkpoint, latest and best marked, a click on a point selects that checkpoint (the
// list follows), and the keyboard moves along and across lanes. Light and dark screenshots.
import { linkSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { checkpointDirName } from '../../electron/core/checkpoint/layout.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { flipTensorByte, trainingState } from '../store/helpers.js';
import { buildLanes } from '../../renderer/src/lib/lanes.js';
import { DEFAULT_GEOMETRY, layoutTimeline } from '../../renderer/src/lib/timeline-layout.js';
import type { UiWorld } from './harness.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

// Removing a workspace of 10,000 checkpoints after its test takes longer than the default hook time.
vi.setConfig({ hookTimeout: 60_000 });
const open = useUi();

async function twoRuns(
  world: (p: (s: Parameters<typeof writeRun>[0]) => Promise<void>, o?: { colorScheme: 'light' | 'dark' }) => Promise<UiWorld>,
  colorScheme: 'light' | 'dark' = 'light',
): Promise<UiWorld> {
  return world(
    async (store) => {
      await writeRun(store, 'alpha', [100, 200, 300, 400]);
      await writeRun(store, 'beta', [300, 350, 500], { run: 'alpha', step: 300 });
      await store.setPinned('alpha/ckpt-000000200', true);
    },
    { colorScheme },
  );
}

/** Where the page draws a checkpoint: the same layout function, at the timeline's own width. */
async function pointOnPage(world: UiWorld, id: string): Promise<{ x: number; y: number }> {
  const snapshot = await world.studio.api.snapshot();
  const timeline = world.page.getByTestId('timeline');
  const width = await timeline.evaluate((el) => el.clientWidth);
  const layout = layoutTimeline(buildLanes(snapshot.runs, snapshot.checkpoints), 'step', { ...DEFAULT_GEOMETRY, width });
  const point = layout.lanes.flatMap((l) => l.points).find((p) => p.checkpoint.id === id);
  if (!point) throw new Error(`${id} is not on the timeline`);
  const box = await world.page.locator('[data-testid="timeline"] canvas').boundingBox();
  if (!box) throw new Error('no canvas');
  return { x: box.x + point.x, y: box.y + point.y };
}

const details = (page: Page) => page.getByRole('complementary', { name: 'Checkpoint details' });

describe('the timeline', () => {
  it('shows runs as lanes with the lineage line of a continued run and the latest and best marks', { timeout: 60_000 }, async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const world = await twoRuns(open, scheme);
      const timeline = world.page.getByTestId('timeline');
      await expect.poll(() => timeline.getAttribute('data-points')).toBe('7');
      expect(await timeline.getAttribute('data-lanes')).toBe('2');
      expect(await timeline.getAttribute('data-links')).toBe('beta<-alpha@300');
      await expect.poll(() => timeline.getAttribute('data-latest')).toMatch(/^beta\/ckpt-000000500( |$)/);
      // The workspace's best first, then each run's own (beta's is the workspace's).
      await expect.poll(() => timeline.getAttribute('data-best')).toBe('beta/ckpt-000000500 alpha/ckpt-000000400');
      expect(await timeline.locator('[data-run="beta"]').textContent()).toMatch(/beta\s*[\d.]+ KB\s*↳/);
      // The user's choice of "best" moves the mark: highest loss is alpha's first checkpoint.
      await world.page.getByRole('combobox').first().selectOption('loss');
      await world.page.getByLabel('Direction').selectOption('max');
      await expect.poll(() => timeline.getAttribute('data-best')).toBe('alpha/ckpt-000000100 beta/ckpt-000000300');
      await world.page.getByRole('radio', { name: 'Wall time' }).click();
      await expect.poll(() => timeline.getAttribute('data-axis')).toBe('time');
      // The axis and the choice of "best" are the user's: kept in their settings, back after a reload.
      await expect
        .poll(async () => (await world.studio.api.settings()).view)
        .toMatchObject({ timeline: { axis: 'time' }, best: { metric: 'loss', mode: 'max' } });
      await world.page.reload();
      await expect.poll(() => timeline.getAttribute('data-axis')).toBe('time');
      await expect.poll(() => timeline.getAttribute('data-best')).toBe('alpha/ckpt-000000100 beta/ckpt-000000300');
      await world.page.getByRole('radio', { name: 'Step' }).click();
      const p = await pointOnPage(world, 'alpha/ckpt-000000300');
      await world.page.mouse.move(p.x, p.y);
      await expect.poll(() => world.page.getByRole('tooltip').textContent()).toMatch(/alpha · step 300.*parent of run "beta"/);
      await world.screenshot(`timeline-${scheme}`);
      // Collapsible: the list stays, the timeline goes and comes back.
      await world.page.getByRole('button', { name: 'Timeline' }).click();
      await expect.poll(() => timeline.count()).toBe(0);
      await world.page.getByRole('button', { name: 'Timeline' }).click();
      await expect.poll(() => timeline.getAttribute('data-points')).toBe('7');
      expectNoProblems(world);
    }
  });

  it('selects the checkpoint of a clicked point, Shift+click selects a range, and the keyboard moves along and across lanes', { timeout: 60_000 }, async () => {
    const world = await twoRuns(open);
    const { page } = world;
    const timeline = page.getByTestId('timeline');
    await expect.poll(() => timeline.getAttribute('data-points')).toBe('7');

    const p200 = await pointOnPage(world, 'alpha/ckpt-000000200');
    await page.mouse.click(p200.x, p200.y);
    await expect.poll(() => details(page).getByRole('heading', { name: 'alpha step 200' }).count()).toBe(1);
    expect(await timeline.getAttribute('data-active')).toBe('alpha/ckpt-000000200');
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getByRole('option', { name: /^alpha step 200,/ }).getAttribute('aria-selected')).toBe('true');

    const p400 = await pointOnPage(world, 'alpha/ckpt-000000400');
    await page.keyboard.down('Shift');
    await page.mouse.click(p400.x, p400.y);
    await page.keyboard.up('Shift');
    await expect.poll(() => list.locator('[aria-selected="true"]').count()).toBe(3);
    await expect.poll(() => page.getByText(/^3 selected ·/).count()).toBe(1);

    await timeline.focus();
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => timeline.getAttribute('data-active')).toBe('alpha/ckpt-000000300');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => timeline.getAttribute('data-active')).toBe('beta/ckpt-000000300');
    await expect.poll(() => details(page).getByRole('heading', { name: 'beta step 300' }).count()).toBe(1);
    await world.screenshot('timeline-selected');

    // Zoom in around the focused checkpoint (+), out (−), Ctrl+wheel, and back to everything.
    await page.keyboard.press('+');
    await expect.poll(() => timeline.getAttribute('data-zoom')).not.toBe('0.000 1.000');
    const [from, to] = ((await timeline.getAttribute('data-zoom')) ?? '').split(' ').map(Number);
    expect((to ?? 0) - (from ?? 0)).toBeCloseTo(0.5);
    // Step 300 of 100..500 is at half the range: still in the middle of the zoomed view.
    expect(((from ?? 0) + (to ?? 0)) / 2).toBeCloseTo(0.5);
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => timeline.getAttribute('data-zoom')).toBe('0.000 1.000');
    const box = await timeline.locator('canvas').boundingBox();
    await page.mouse.move((box?.x ?? 0) + (box?.width ?? 0) - 40, (box?.y ?? 0) + 40);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await expect.poll(async () => Number(((await timeline.getAttribute('data-zoom')) ?? '0').split(' ')[0])).toBeGreaterThan(0);
    await world.screenshot('timeline-zoomed');
    expectNoProblems(world);
  });

  it(
    'the tooltip follows the layout under a resting pointer: a live checkpoint that rescales the lanes never leaves it naming one checkpoint while a click takes another',
    { timeout: 60_000 },
    async () => {
      const world = await open(async (store) => writeRun(store, 'alpha', [100, 200, 300, 400, 500, 600]));
      const { page } = world;
      const timeline = page.getByTestId('timeline');
      await expect.poll(() => timeline.getAttribute('data-points')).toBe('6');
      const p = await pointOnPage(world, 'alpha/ckpt-000000600');
      await page.mouse.move(p.x, p.y);
      await expect.poll(() => page.getByRole('tooltip').textContent()).toMatch(/alpha · step 600/);
      // Another process saves step 1200: the axis doubles, and step 600 moves from under the resting pointer.
      const other = await CheckpointStore.open(world.workspace.root);
      const writer = await other.openRunWriter('alpha');
      await writer.save(trainingState(1200));
      await writer.close();
      await expect.poll(() => timeline.getAttribute('data-points')).toBe('7');
      await expect.poll(() => page.getByRole('tooltip').textContent()).toMatch(/alpha · step 1,200/);
      await page.mouse.down();
      await page.mouse.up();
      await expect.poll(() => timeline.getAttribute('data-active')).toBe('alpha/ckpt-000001200');
      expectNoProblems(world);
    },
  );

  it('verifies a selection with progress, and shows the damaged one on the timeline with its reason', { timeout: 60_000 }, async () => {
    const world = await twoRuns(open);
    const { page } = world;
    flipTensorByte(path.join(world.workspace.root, 'alpha', 'ckpt-000000100', 'model.safetensors'), 'dense/kernel');
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getByRole('option').count()).toBe(7);
    await page.getByRole('button', { name: 'Select all' }).click();
    await page.getByRole('button', { name: 'Verify selected' }).click();
    const progress = page.getByRole('status', { name: 'Verification' });
    await expect.poll(() => progress.textContent(), { timeout: 20_000 }).toMatch(/Verified 7, 1 damaged/);
    await expect.poll(() => list.getByRole('option', { name: /^alpha step 100, epoch 0, damaged: / }).count(), { timeout: 10_000 }).toBe(1);
    const p = await pointOnPage(world, 'alpha/ckpt-000000100');
    await page.mouse.move(p.x, p.y);
    await expect.poll(() => page.getByRole('tooltip').textContent()).toMatch(/damaged: .*dense\/kernel/);
    await world.screenshot('timeline-damaged');
    expectNoProblems(world);
  });

  // How fast is measured side by side by npm run bench:ui; here, what must hold at this size.
  it('draws 10,000 checkpoints in 50 runs with few nodes, and selects a range of 1,000 at once', { timeout: 240_000 }, async () => {
    const world = await open(fiftyRuns);
    const { page } = world;
    const timeline = page.getByTestId('timeline');
    await expect.poll(() => timeline.getAttribute('data-points'), { timeout: 60_000, interval: 20 }).toBe('10000');
    expect(await timeline.locator('*').count()).toBeLessThan(200);

    // A range of 1,000: the first checkpoint of the first run, Shift+click the last of the fifth.
    const from = await pointOnPage(world, 'r00/ckpt-000000001');
    await page.mouse.click(from.x, from.y);
    const to = await pointOnPage(world, 'r04/ckpt-000000200');
    await page.keyboard.down('Shift');
    await page.mouse.click(to.x, to.y);
    await page.keyboard.up('Shift');
    await expect.poll(() => page.getByText(/^1,000 selected ·/).count(), { interval: 10 }).toBe(1);
    await world.screenshot('timeline-10000');
    expectNoProblems(world);
  });
});

/** 50 runs of 200 checkpoints, each a copy of one real checkpoint with its own step. */
async function fiftyRuns(store: CheckpointStore): Promise<void> {
  for (let r = 0; r < 50; r += 1) {
    const name = `r${String(r).padStart(2, '0')}`;
    const writer = await store.createRun(name, { parent: r > 0 && r % 10 === 0 ? { run: `r${String(r - 1).padStart(2, '0')}`, step: 100 } : null, config: {} });
    const template = (await writer.save(trainingState(1))).dir;
    await writer.close();
    const tensors = readdirSync(template).filter((file) => file !== 'manifest.json');
    const manifest = readFileSync(path.join(template, 'manifest.json'), 'utf8');
    for (let step = 2; step <= 200; step += 1) {
      const dir = path.join(store.root, name, checkpointDirName(step));
      mkdirSync(dir);
      // Hard links: the same bytes without writing them 10,000 times (listing reads manifests only).
      for (const file of tensors) linkSync(path.join(template, file), path.join(dir, file));
      writeFileSync(path.join(dir, 'manifest.json'), manifest.replace('"step": 1,', `"step": ${step},`));
    }
  }
}
