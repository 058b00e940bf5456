// Chart cards in Chromium, on a run that saved every other step (130 checkpoints on one curve),
// logged a loss with one record 100× the curve and a learning rate decaying from 0.001 to 0:
// "Ignore outliers" leaves the spike out of the y range (smoothing 0 and 0.6) and unticked shows
// it; the learning rate's ticks are told apart; log ticks fall on 1-2-5; the markers are drawn on
// the canvas, thinned, and a click takes the nearest; one Tab stop per card's markers, arrow
// keys inside it, Enter selects.
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const SPIKE_STEP = 150;
const LAST = 260;

const lossAt = (step: number): number => (2 / (1 + step / 30) + 0.15 + 0.02 * Math.sin(step)) * (step === SPIKE_STEP ? 100 : 1);

async function prepare(store: CheckpointStore): Promise<void> {
  const start = Date.now() - 3_600_000;
  const writer = await store.createRun('beads', { parent: null, config: {} });
  for (let step = 2; step <= LAST; step += 2) {
    const time = new Date(start + step * 1000).toISOString();
    await writer.appendMetrics({ kind: 'train', step, epoch: 0, batch: step, loss: lossAt(step), lr: 0.001 * (1 - step / LAST), time });
    await writer.save(trainingState(step));
  }
  await writer.close();
}

const card = (page: Page, metric: string): Locator => page.getByRole('figure', { name: new RegExp(`^${metric}: `) });

async function openCharts(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Charts' }).click();
  await expect.poll(() => card(page, 'loss').locator('li[data-run="beads"]').count(), { timeout: 15_000 }).toBe(1);
  await expect.poll(() => card(page, 'loss').getAttribute('data-y-max')).toBeTruthy();
}

const yMax = async (page: Page): Promise<number> => Number(await card(page, 'loss').getAttribute('data-y-max'));

async function clickAt(page: Page, figure: Locator, option: Locator): Promise<void> {
  const box = await figure.locator('.plot').boundingBox();
  if (!box) throw new Error('the card has no plot');
  await page.mouse.click(box.x + Number(await option.getAttribute('data-left')), box.y + Number(await option.getAttribute('data-top')));
}

describe('chart cards', () => {
  it('leave a 100× spike out of the y range when outliers are ignored, at any smoothing', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);
    const slider = page.getByRole('slider', { name: 'Smoothing' });
    const ignore = page.getByRole('checkbox', { name: 'Ignore outliers' });
    expect(await ignore.isChecked()).toBe(true);
    for (const smoothing of ['0', '0.6']) {
      await slider.fill(smoothing);
      await expect.poll(() => yMax(page)).toBeLessThan(3);
      // The curve's own start (2.17 at step 2) stays in view.
      expect(await yMax(page)).toBeGreaterThan(2.1);
      await world.screenshot(`cards-outliers-ignored-${smoothing}`);
      await ignore.uncheck();
      await expect.poll(() => yMax(page)).toBeGreaterThan(40);
      await world.screenshot(`cards-outliers-shown-${smoothing}`);
      await ignore.check();
    }
    expectNoProblems(world);
  });

  it('label ticks so they can be told apart, on 1-2-5 of each decade on a log scale', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);
    const ticks = async (metric: string): Promise<string[]> => ((await card(page, metric).getAttribute('data-y-ticks')) ?? '').split('|').filter(Boolean);
    await expect.poll(async () => (await ticks('lr')).length).toBeGreaterThanOrEqual(3);
    const lr = await ticks('lr');
    expect(new Set(lr).size).toBe(lr.length);
    await page.getByRole('checkbox', { name: 'Log scale (y)' }).check();
    // Every tick on 1, 2 or 5 of a decade (the linear labels before the redraw include 1.5).
    const onDecades = (t: string[]): boolean => t.length >= 2 && t.every((tick) => /^0?\.?0*[125]0*$|^[125]e-?\d+$/.test(tick));
    await expect.poll(async () => onDecades(await ticks('loss'))).toBe(true);
    await card(page, 'loss').scrollIntoViewIfNeeded();
    await world.screenshot('cards-log-ticks');
    expectNoProblems(world);
  });

  it('draw markers on the canvas, thinned; a click selects the nearest; the keyboard moves inside one Tab stop', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);
    const loss = card(page, 'loss');
    expect(await loss.getAttribute('data-markers')).toBe('130');
    // No button per marker (there were 130 here, 1,310 on a page): the card's buttons are its few tools.
    expect(await loss.getByRole('button', { name: /checkpoint|step/i }).count()).toBe(0);
    expect(await loss.getByRole('button').count()).toBeLessThanOrEqual(8);
    const options = loss.getByRole('option');
    await expect.poll(() => loss.locator('[role="option"][data-drawn="true"]').count()).toBeGreaterThan(10);
    const drawn = await loss.locator('[role="option"][data-drawn="true"]').count();
    expect(drawn).toBeLessThanOrEqual(80);
    await world.screenshot('cards-thinned-markers');

    // A click on each of a few drawn markers selects that one, whichever is listed after it.
    const ids = await loss.locator('[role="option"][data-drawn="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-checkpoint') ?? ''));
    for (const id of [ids[1], ids[Math.floor(ids.length / 2)], ids[ids.length - 2]]) {
      const option = loss.locator(`[role="option"][data-checkpoint="${id}"]`);
      await clickAt(page, loss, option);
      await expect.poll(() => option.getAttribute('aria-selected')).toBe('true');
    }

    // One Tab stop for the markers of a card: Tab leaves the card.
    const listbox = loss.getByRole('listbox', { name: 'Checkpoints on loss' });
    await listbox.focus();
    const stops = await loss.evaluate(
      (figure) =>
        Array.from(figure.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]')).filter(
          (e) => e.tabIndex >= 0 && !(e as HTMLButtonElement).disabled,
        ).length,
    );
    expect(stops).toBeLessThanOrEqual(2);
    // Arrow keys move the active marker; Enter selects it.
    await page.keyboard.press('Home');
    const first = await listbox.getAttribute('aria-activedescendant');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const third = await listbox.getAttribute('aria-activedescendant');
    expect(third).not.toBe(first);
    await page.keyboard.press('Enter');
    const chosen = page.locator(`#${third}`);
    await expect.poll(() => chosen.getAttribute('aria-selected')).toBe('true');
    expect(await chosen.textContent()).toContain('beads step 6');
    expect(await options.count()).toBe(130);
    await world.screenshot('cards-keyboard-marker');
    expectNoProblems(world);
  });
});
