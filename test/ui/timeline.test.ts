// The timeline in browser mode: runs as lanes, the lineage line from a continued run to its
// parent checkpoint, latest and best marked, a click on a point selects that checkpoint (the
// list follows), and the keyboard moves along and across lanes. Light and dark screenshots.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildLanes } from '../../renderer/src/lib/lanes.js';
import { DEFAULT_GEOMETRY, layoutTimeline } from '../../renderer/src/lib/timeline-layout.js';
import type { UiWorld } from './harness.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

async function twoRuns(world: (p: (s: Parameters<typeof writeRun>[0]) => Promise<void>, o?: { colorScheme: 'light' | 'dark' }) => Promise<UiWorld>, colorScheme: 'light' | 'dark' = 'light'): Promise<UiWorld> {
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
      await expect.poll(() => timeline.getAttribute('data-best')).toBe('beta/ckpt-000000500');
      expect(await timeline.locator('[data-run="beta"]').textContent()).toMatch(/beta\s*[\d.]+ KB\s*↳/);
      // The user's choice of "best" moves the mark: highest loss is alpha's first checkpoint.
      await world.page.getByRole('combobox').first().selectOption('loss');
      await world.page.getByLabel('Direction').selectOption('max');
      await expect.poll(() => timeline.getAttribute('data-best')).toBe('alpha/ckpt-000000100');
      await world.page.getByRole('radio', { name: 'Wall time' }).click();
      await expect.poll(() => timeline.getAttribute('data-axis')).toBe('time');
      await world.page.getByRole('radio', { name: 'Step' }).click();
      const p = await pointOnPage(world, 'alpha/ckpt-000000300');
      await world.page.mouse.move(p.x, p.y);
      await expect.poll(() => world.page.getByRole('tooltip').textContent()).toMatch(/alpha · step 300.*parent of beta/);
      await world.screenshot(`timeline-${scheme}`);
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
    expectNoProblems(world);
  });
});
