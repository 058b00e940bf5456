// The Charts screen in browser mode, on a workspace written as the trainer writes one (run.json,
// metrics.jsonl through the run writer, checkpoints through the store): a run and a run continued
// from its checkpoint at step 200. Cards per metric, the runs list hiding a run, the smoothing
// slider changing what is drawn, a click on a marker selecting its checkpoint everywhere, the
// branch starting at the parent's step, and the view surviving a reload; light and dark.
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const HOUR = 3_600_000;

/** One run as the training session logs it: a train record every 5 steps, validation per 100. */
async function writeLoggedRun(
  store: CheckpointStore,
  run: string,
  steps: [number, number],
  saves: number[],
  parent: { run: string; step: number } | null,
  startedAt: number,
): Promise<void> {
  const writer = await store.createRun(run, { parent, config: {} });
  const time = (step: number): string => new Date(startedAt + (step - steps[0]) * 1000).toISOString();
  for (let step = steps[0]; step <= steps[1]; step += 5) {
    const loss = 2 / (1 + step / 60) + 0.15 * Math.sin(step * 0.7) + (parent ? 0.05 : 0);
    const accuracy = Math.min(0.99, 0.3 + step / 500 + 0.03 * Math.cos(step));
    await writer.appendMetrics({
      kind: 'train',
      step,
      epoch: Math.floor(step / 100),
      batch: step % 100,
      loss,
      accuracy,
      meanLoss: loss,
      meanAccuracy: accuracy,
      samplesPerSecond: 900,
      time: time(step),
    });
    if (step % 100 === 0)
      await writer.appendMetrics({ kind: 'validation', step, epoch: step / 100 - 1, loss: loss * 1.1, accuracy: accuracy * 0.97, time: time(step) });
    if (saves.includes(step)) {
      await writer.save(trainingState(step, { parent }));
      await writer.appendMetrics({
        kind: 'checkpoint',
        step,
        reason: 'every 100 steps',
        blockedMs: 1,
        writeMs: 2,
        bytes: 1500,
        weightsHash: 'x',
        time: time(step),
      });
    }
  }
  await writer.close();
}

async function prepare(store: CheckpointStore): Promise<void> {
  const start = Date.now() - 3 * HOUR;
  await writeLoggedRun(store, 'alpha', [5, 300], [100, 200, 300], null, start);
  await writeLoggedRun(store, 'alpha-from-200', [205, 500], [300, 400, 500], { run: 'alpha', step: 200 }, start + HOUR);
}

/** Clicks where the canvas drew a marker (its option carries the position). */
async function clickMarker(page: Page, figure: Locator, option: Locator): Promise<void> {
  await expect.poll(() => option.getAttribute('data-drawn')).toBe('true');
  const box = await figure.locator('.plot').boundingBox();
  if (!box) throw new Error('the card has no plot');
  const left = Number(await option.getAttribute('data-left'));
  const top = Number(await option.getAttribute('data-top'));
  await page.mouse.click(box.x + left, box.y + top);
}

const card = (page: Page, metric: string): Locator => page.getByRole('figure', { name: new RegExp(`^${metric}: `) });
const curve = (page: Page, metric: string, run: string, kind = 'train'): Locator => card(page, metric).locator(`li[data-run="${run}"][data-kind="${kind}"]`);

async function openCharts(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Charts' }).click();
  await expect.poll(() => curve(page, 'loss', 'alpha-from-200').count(), { timeout: 15_000 }).toBe(1);
}

describe('the Charts screen', () => {
  it('draws every run per metric, with the branch, markers that select, smoothing and a view that survives a reload', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);

    // One card per metric: validation drawn on its train metric's card; the trainer's internal fields get none.
    for (const metric of ['loss', 'accuracy']) expect(await card(page, metric).count()).toBe(1);
    for (const field of ['meanLoss', 'meanAccuracy', 'samplesPerSecond']) expect(await card(page, field).count()).toBe(0);
    expect(await card(page, 'val_loss').count()).toBe(0);
    expect(await curve(page, 'loss', 'alpha', 'validation').count()).toBe(1);

    // The continued run starts at its parent's checkpoint step, not before.
    expect(await curve(page, 'loss', 'alpha-from-200').getAttribute('data-first-step')).toBe('200');
    expect(await curve(page, 'loss', 'alpha').getAttribute('data-first-step')).toBe('5');

    // The runs list: colours, states, and the markers of both runs' checkpoints.
    const runs = page.getByRole('region', { name: 'Runs' });
    expect(await runs.getByRole('checkbox', { name: 'alpha', exact: true }).isChecked()).toBe(true);
    expect(await runs.getByText('finished').count()).toBe(2);
    expect(await card(page, 'loss').getAttribute('data-markers')).toBe('6');

    // Smoothing changes the smoothed curve; at 0 it is the raw value.
    const smoothedAt = async (): Promise<number> => Number(await curve(page, 'loss', 'alpha').getAttribute('data-last-smoothed'));
    const atDefault = await smoothedAt();
    const canvas = card(page, 'loss').locator('canvas');
    const drawnBefore = await canvas.screenshot();
    const slider = page.getByRole('slider', { name: 'Smoothing' });
    await slider.fill('0.95');
    await expect.poll(smoothedAt).not.toBe(atDefault);
    // What is drawn changed too, not only the numbers behind it.
    await expect.poll(async () => (await canvas.screenshot()).equals(drawnBefore)).toBe(false);
    await slider.fill('0');
    const raw = 2 / (1 + 300 / 60) + 0.15 * Math.sin(300 * 0.7);
    await expect.poll(smoothedAt).toBeCloseTo(raw, 9);
    await slider.fill('0.6');
    await world.screenshot('charts-light');

    // Drag zooms (every card alike), double-click resets to the very same picture.
    await expect.poll(async () => (await canvas.screenshot()).equals(drawnBefore)).toBe(true);
    const plot = await card(page, 'loss').locator('.u-over').boundingBox();
    if (!plot) throw new Error('the loss card has no plot');
    await page.mouse.move(plot.x + plot.width * 0.4, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.55, plot.y + plot.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => (await canvas.screenshot()).equals(drawnBefore)).toBe(false);
    await page.waitForTimeout(300);
    await world.screenshot('charts-zoomed');
    await page.mouse.dblclick(plot.x + plot.width / 2, plot.y + plot.height / 2);
    await page.mouse.move(0, 0);
    await expect.poll(async () => (await canvas.screenshot()).equals(drawnBefore)).toBe(true);

    // A click on a marker (drawn on the canvas) selects that checkpoint, and the Checkpoints screen shows it.
    const marker = card(page, 'loss').getByRole('option', { name: 'alpha step 100' });
    await clickMarker(page, card(page, 'loss'), marker);
    await expect.poll(() => marker.getAttribute('aria-selected')).toBe('true');
    await page.getByRole('tab', { name: 'Checkpoints' }).click();
    const details = page.getByRole('complementary', { name: 'Checkpoint details' });
    await expect.poll(() => details.getByRole('heading', { name: 'alpha step 100' }).count()).toBe(1);

    // And from the keyboard: the card's markers are one listbox, End goes to the last along x.
    await page.getByRole('tab', { name: 'Charts' }).click();
    await card(page, 'accuracy').getByRole('listbox', { name: 'Checkpoints on accuracy' }).focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.getByRole('tab', { name: 'Checkpoints' }).click();
    await expect.poll(() => details.getByRole('heading', { name: 'alpha-from-200 step 500' }).count()).toBe(1);

    // Hiding a run hides its curves and markers.
    await page.getByRole('tab', { name: 'Charts' }).click();
    await runs.getByRole('checkbox', { name: 'alpha-from-200' }).uncheck();
    await expect.poll(() => curve(page, 'loss', 'alpha-from-200').count()).toBe(0);
    expect(await card(page, 'loss').getAttribute('data-markers')).toBe('3');

    // The view survives a reload.
    await slider.fill('0.85');
    await page.getByRole('radio', { name: 'Relative' }).check();
    await page.getByRole('checkbox', { name: 'Log scale (y)' }).check();
    await page.reload();
    await page.getByRole('tab', { name: 'Charts' }).click();
    await expect.poll(() => curve(page, 'loss', 'alpha').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByRole('slider', { name: 'Smoothing' }).inputValue()).toBe('0.85');
    expect(await page.getByRole('radio', { name: 'Relative' }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Log scale (y)' }).isChecked()).toBe(true);
    expect(await page.getByRole('region', { name: 'Runs' }).getByRole('checkbox', { name: 'alpha-from-200' }).isChecked()).toBe(false);
    expect(await curve(page, 'loss', 'alpha-from-200').count()).toBe(0);
    await world.screenshot('charts-relative-log');

    // The filter narrows the list (a regular expression).
    await page.getByRole('region', { name: 'Runs' }).getByRole('checkbox', { name: 'alpha-from-200' }).check();
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill('from-\\d+$');
    await expect.poll(() => curve(page, 'loss', 'alpha').count()).toBe(0);
    // Shown again just now: its curve comes with the next hand-over of histories, not at once.
    await expect.poll(() => curve(page, 'loss', 'alpha-from-200').count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill('');
    const relativeDrawn = await canvas.screenshot();
    await page.getByRole('radio', { name: 'Wall' }).check();
    await expect.poll(async () => (await canvas.screenshot()).equals(relativeDrawn)).toBe(false);
    await world.screenshot('charts-wall');
    await page.getByRole('radio', { name: 'Step' }).check();
    await page.getByRole('checkbox', { name: 'Log scale (y)' }).uncheck();
    await card(page, 'loss').hover({ position: { x: 300, y: 120 } });
    await world.screenshot('charts-tooltip');
    expectNoProblems(world);
  });

  it('reads well in the dark theme', { timeout: 60_000 }, async () => {
    const world = await open(prepare, { colorScheme: 'dark' });
    await openCharts(world.page);
    await world.screenshot('charts-dark');
    expectNoProblems(world);
  });
});
