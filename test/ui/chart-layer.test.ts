// A card of many curves (40 runs, train and validation, raw and smoothed: 160 curves) draws its
// lines and markers on a canvas layer of its own, over several tasks (series-layer): the layer
// is there and painted once every run is, the markers on it are where a click finds them, and
// the cursor still gets its tooltip and nearest curve.
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const RUNS = 40;
const LAST = 200;

async function prepare(store: CheckpointStore): Promise<void> {
  const start = Date.now() - 3_600_000;
  for (let r = 0; r < RUNS; r += 1) {
    const writer = await store.createRun(`run-${String(r).padStart(2, '0')}`, { parent: null, config: {} });
    for (let step = 5; step <= LAST; step += 5) {
      const time = new Date(start + step * 1000).toISOString();
      const loss = (2 + r / 20) / (1 + step / 40) + 0.05 * Math.sin(step + r);
      await writer.appendMetrics({ kind: 'train', step, epoch: 0, batch: step, loss, time });
      if (step % 50 === 0) await writer.appendMetrics({ kind: 'validation', step, epoch: step / 50, loss: loss * 1.1, time });
      if (step === 100 || step === LAST) await writer.save(trainingState(step));
    }
    await writer.close();
  }
}

const card = (page: Page, metric: string): Locator => page.getByRole('figure', { name: new RegExp(`^${metric}: `) });

/** How many of the layer's pixels in the plot are painted (not transparent). */
const paintedPixels = (figure: Locator): Promise<number> =>
  figure.locator('canvas.series-layer').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) painted += 1;
    return painted;
  });

describe('a card of many curves', () => {
  it('draws them on its own layer, with markers a click finds, and a tooltip with the nearest curve', { timeout: 180_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = card(page, 'loss');
    await expect.poll(() => loss.getAttribute('data-drawn-runs'), { timeout: 60_000 }).toBe(String(RUNS));
    expect(Number((await loss.getAttribute('aria-label'))?.match(/: (\d+) curves/)?.[1])).toBe(2 * RUNS);
    await expect.poll(() => loss.locator('canvas.series-layer').count()).toBe(1);
    expect(await paintedPixels(loss)).toBeGreaterThan(2000);
    await world.screenshot('chart-layer-loss');

    // A marker where the layer drew it: a click there selects its checkpoint.
    const option = loss.locator('[role="option"][data-drawn="true"]').first();
    await expect.poll(() => option.getAttribute('data-left')).toBeTruthy();
    const id = await option.getAttribute('data-checkpoint');
    const box = await loss.locator('.plot').boundingBox();
    if (!box || !id) throw new Error('no plot or no marker');
    await page.mouse.click(box.x + Number(await option.getAttribute('data-left')), box.y + Number(await option.getAttribute('data-top')));
    await expect.poll(() => loss.locator(`[role="option"][data-checkpoint="${id}"]`).getAttribute('aria-selected')).toBe('true');

    // The cursor: the tooltip lists the nearest curves and one is highlighted (the layer drawn again, faded but it).
    const over = await loss.locator('.u-over').boundingBox();
    if (!over) throw new Error('no plot area');
    await page.mouse.move(over.x + over.width * 0.5, over.y + over.height * 0.6);
    await expect.poll(() => loss.getAttribute('data-nearest')).toBeTruthy();
    await expect.poll(() => page.locator('.tooltip tr.nearest').count()).toBe(1);
    expect(await paintedPixels(loss)).toBeGreaterThan(2000);

    // A drag zooms in: the layer draws the curves again at the new scale (they fill more of the plot).
    const whole = await paintedPixels(loss);
    await page.mouse.move(over.x + over.width * 0.1, over.y + over.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.3, over.y + over.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await page.mouse.move(0, 0);
    await expect.poll(() => paintedPixels(loss), { timeout: 15_000 }).not.toBe(whole);
    expectNoProblems(world);
  });
});
