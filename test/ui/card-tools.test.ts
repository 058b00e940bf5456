// The card tools in Chromium, on 20 runs logging loss, accuracy and lr, and one run logging ten
// more metrics (cards below the fold): pin (kept across a reload), wide and card width, log y per
// card, a zoom refitting y and Fit undoing it, the raw min/max band, CSV/JSON downloads and a copied table holding
// every run's raw and smoothed values, the smoothing number box and its formula, the tag filter,
// the tooltip (the nearest 8 rows, sortable, beside the card, on screen, the nearest curve
// named), and cards out of view left undrawn until scrolled to.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { SCREENSHOTS, expectNoProblems, useUi } from './harness.js';

const open = useUi();
const RUNS = 20;
const STEPS = 60;
const EXTRA = Array.from({ length: 10 }, (_, i) => `extra/m${i}`);

async function prepare(store: CheckpointStore): Promise<void> {
  const start = Date.now() - 3_600_000;
  for (let r = 0; r < RUNS; r += 1) {
    const writer = await store.createRun(`run-${String(r).padStart(2, '0')}`, { parent: null, config: {} });
    for (let step = 1; step <= STEPS; step += 1) {
      const extra = r === 0 ? Object.fromEntries(EXTRA.map((m, i) => [m, i + Math.sin(step)])) : {};
      await writer.appendMetrics({
        kind: 'train',
        step,
        epoch: 0,
        batch: step,
        loss: (1 + r / 10) * (2 / (1 + step / 10)) + 0.05 * Math.sin(step * (r + 1)),
        accuracy: Math.min(0.99, 0.3 + step / 100 + r / 100),
        lr: 0.01 * 0.9 ** step,
        ...extra,
        time: new Date(start + step * 1000).toISOString(),
      });
    }
    await writer.close();
  }
}

const card = (page: Page, metric: string): Locator => page.getByRole('figure', { name: new RegExp(`^${metric}: `) });
const figures = (page: Page): Promise<string[]> =>
  page.locator('#panel-charts figure[data-metric]').evaluateAll((els) => els.map((e) => e.getAttribute('data-metric') ?? ''));
const tool = (page: Page, metric: string, name: string): Locator => card(page, metric).getByRole('toolbar').getByRole('button', { name, exact: true });

async function openCharts(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Charts' }).click();
  await expect.poll(() => card(page, 'loss').locator('li[data-run]').count(), { timeout: 20_000 }).toBe(RUNS);
  await expect.poll(() => card(page, 'loss').getAttribute('data-y-max')).toBeTruthy();
}

async function plotBox(figure: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await figure.locator('.u-over').boundingBox();
  if (!box) throw new Error('the card has no plot');
  return box;
}

describe('card tools', () => {
  it('pin, widen, log y per card, refit on zoom and fit', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);
    expect((await figures(page)).slice(0, 3)).toEqual(['loss', 'accuracy', 'lr']);

    // Pinned cards come first, and stay pinned after a reload.
    await tool(page, 'lr', 'Pin').click();
    await expect.poll(async () => (await figures(page))[0]).toBe('lr');
    expect(await page.getByRole('region', { name: 'Pinned' }).count()).toBe(1);
    await world.screenshot('card-tools-pinned');
    await page.reload();
    await openCharts(page);
    expect((await figures(page))[0]).toBe('lr');
    expect(await tool(page, 'lr', 'Pinned').getAttribute('aria-pressed')).toBe('true');

    // Wide: the card takes the whole row; the width slider makes every card wider.
    const narrow = (await card(page, 'loss').boundingBox())?.width ?? 0;
    await tool(page, 'loss', 'Wide').click();
    await expect.poll(async () => (await card(page, 'loss').boundingBox())?.width ?? 0).toBeGreaterThan(narrow * 1.8);
    await world.screenshot('card-tools-wide');
    await tool(page, 'loss', 'Wide').click();
    await page.getByRole('slider', { name: 'Card width' }).fill('50');
    await expect.poll(async () => (await card(page, 'accuracy').boundingBox())?.width ?? 0).toBeGreaterThan(narrow * 1.3);
    await page.getByRole('slider', { name: 'Card width' }).fill('26');

    // Log y on one card only: its ticks fall on decades, the other cards stay linear.
    await tool(page, 'lr', 'Log y').click();
    await expect.poll(async () => (await card(page, 'lr').getAttribute('data-y-ticks')) ?? '').toMatch(/e-/);
    expect(await card(page, 'loss').getAttribute('data-y-ticks')).not.toMatch(/e-/);
    expect(await page.getByRole('checkbox', { name: 'Log scale (y)' }).isChecked()).toBe(false);

    // A zoom on the tail refits y to what it shows; Fit undoes the zoom.
    const loss = card(page, 'loss');
    await loss.scrollIntoViewIfNeeded();
    const whole = Number(await loss.getAttribute('data-y-max'));
    const box = await plotBox(loss);
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.98, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => Number(await loss.getAttribute('data-y-max'))).toBeLessThan(whole * 0.5);
    await world.screenshot('card-tools-zoomed');
    await tool(page, 'loss', 'Fit').click();
    await expect.poll(async () => Number(await loss.getAttribute('data-y-max'))).toBeCloseTo(whole, 5);

    // The raw min/max band instead of the raw lines, on request.
    expect(await loss.getAttribute('data-bands')).toBe('0');
    await page.getByRole('checkbox', { name: 'Raw min/max band' }).check();
    await expect.poll(() => loss.getAttribute('data-bands')).toBe(String(RUNS));
    await expect.poll(() => loss.getAttribute('data-y-max')).toBeTruthy();
    await loss.screenshot({ path: path.join(SCREENSHOTS, 'card-tools-band.png') });
    expectNoProblems(world);
  });

  it('download CSV and JSON and copy a table of every run, raw and smoothed', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await openCharts(page);

    const [csvDownload] = await Promise.all([page.waitForEvent('download'), tool(page, 'loss', 'Download CSV').click()]);
    expect(csvDownload.suggestedFilename()).toBe('loss.csv');
    const csv = (await readFile(await csvDownload.path(), 'utf8')).trim().split('\r\n');
    expect(csv[0]).toBe('run,kind,step,wall_time,value,smoothed');
    expect(csv.length - 1).toBe(RUNS * STEPS);
    const first = (csv[1] ?? '').split(',');
    expect(first.slice(0, 3)).toEqual(['run-00', 'train', '1']);
    // Smoothing 0.6: the raw and smoothed values differ after the first point.
    const tenth = (csv[10] ?? '').split(',');
    expect(Number(tenth[4])).not.toBeCloseTo(Number(tenth[5]), 6);

    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), tool(page, 'loss', 'Download JSON').click()]);
    const json = JSON.parse(await readFile(await jsonDownload.path(), 'utf8')) as { curves: { run: string; values: number[]; smoothed: number[] }[] };
    expect(json.curves.map((c) => c.run)).toEqual(Array.from({ length: RUNS }, (_, r) => `run-${String(r).padStart(2, '0')}`));
    expect(json.curves.every((c) => c.values.length === STEPS && c.smoothed.length === STEPS)).toBe(true);

    await tool(page, 'loss', 'Copy as a table').click();
    await expect.poll(() => tool(page, 'loss', 'Copy as a table').textContent()).toBe('Copied');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied.split('\n')[0]).toBe('run\tkind\tstep\twall_time\tvalue\tsmoothed');
    expect(copied.trim().split('\n').length - 1).toBe(RUNS * STEPS);
    expectNoProblems(world);
  });

  it('take a smoothing up to 0.999 in a number box, with its formula; filter cards by a regex on their names', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);
    const box = page.getByRole('spinbutton', { name: 'Smoothing weight' });
    const last = (): Promise<string | null> => card(page, 'loss').locator('li[data-run="run-00"]').getAttribute('data-last-smoothed');
    const before = Number(await last());
    await box.fill('0.995');
    await expect.poll(async () => Number(await last())).not.toBeCloseTo(before, 4);
    expect(await page.getByRole('slider', { name: 'Smoothing' }).inputValue()).toBe('0.995');
    await box.fill('1.5');
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('slider', { name: 'Smoothing' }).inputValue()).toBe('0.995');
    await page.getByText('Formula').click();
    await expect.poll(() => page.locator('#smoothing-note').textContent()).toContain('1 − wⁿ');
    await world.screenshot('card-tools-smoothing-note');
    await page.getByText('Formula').click();

    const filter = page.getByRole('searchbox', { name: 'Filter metrics (regex)' });
    await filter.fill('^(loss|lr)$');
    await expect.poll(() => figures(page)).toEqual(['loss', 'lr']);
    await filter.fill('m[37]$');
    await expect.poll(() => figures(page)).toEqual(['extra/m3', 'extra/m7']);
    await filter.fill('nothing-like-this');
    await expect.poll(() => page.getByText('No metric matches the filter').count()).toBe(1);
    await filter.fill('');
    await expect.poll(async () => (await figures(page)).length).toBe(3 + EXTRA.length);
    expectNoProblems(world);
  });

  it('show a tooltip of the nearest 8 curves beside the card, sortable, the nearest highlighted', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);
    const loss = card(page, 'loss');
    const box = await plotBox(loss);
    // Near the top of the plot at x = 30 %: the highest curves are the nearest.
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.1);
    const tooltip = loss.locator('.tooltip');
    await expect.poll(() => tooltip.locator('tbody tr').count()).toBe(8);
    expect(await tooltip.textContent()).toContain(`${RUNS - 8} more not listed`);
    const nearest = await loss.getAttribute('data-nearest');
    expect(nearest).toBe('run-19 train');
    expect(await tooltip.locator('tr.nearest').textContent()).toContain('run-19');
    // Beside the plot, not over it, and whole on the screen.
    const tip = await tooltip.boundingBox();
    const plot = await plotBox(loss);
    if (!tip) throw new Error('no tooltip');
    const overlaps = tip.x < plot.x + plot.width && tip.x + tip.width > plot.x && tip.y < plot.y + plot.height && tip.y + tip.height > plot.y;
    expect(overlaps).toBe(false);
    const viewport = page.viewportSize() ?? { width: 0, height: 0 };
    expect(tip.x).toBeGreaterThanOrEqual(0);
    expect(tip.x + tip.width).toBeLessThanOrEqual(viewport.width);
    expect(tip.y + tip.height).toBeLessThanOrEqual(viewport.height);
    await world.screenshot('card-tools-tooltip');
    await loss.screenshot({ path: path.join(SCREENSHOTS, 'card-tools-tooltip-card.png') });

    // Sorted by name: run-12 … run-19 in order.
    await page.getByRole('combobox', { name: 'Tooltip order' }).selectOption('name');
    await page.mouse.move(box.x + box.width * 0.3 + 2, box.y + box.height * 0.1);
    await expect.poll(() => tooltip.locator('tbody tr td.run').allTextContents()).toEqual(Array.from({ length: 8 }, (_, i) => `run-${12 + i}`));
    expectNoProblems(world);
  });

  it('draw the raw min/max band around a noisy curve of 5,000 points', { timeout: 120_000 }, async () => {
    const world = await open(async (store) => {
      const writer = await store.createRun('noisy', { parent: null, config: {} });
      const start = Date.now() - 3_600_000;
      for (let step = 1; step <= 5000; step += 1)
        await writer.appendMetrics({
          kind: 'train',
          step,
          epoch: 0,
          batch: step,
          loss: 2 / (1 + step / 500) + 0.3 * Math.sin(step * 12.9898) ** 2,
          time: new Date(start + step * 100).toISOString(),
        });
      await writer.close();
    });
    const { page } = world;
    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = card(page, 'loss');
    await expect.poll(() => loss.getAttribute('data-y-max'), { timeout: 20_000 }).toBeTruthy();
    await page.getByRole('checkbox', { name: 'Raw min/max band' }).check();
    await expect.poll(() => loss.getAttribute('data-bands')).toBe('1');
    await tool(page, 'loss', 'Wide').click();
    await page.getByRole('spinbutton', { name: 'Smoothing weight' }).fill('0.99');
    await page.mouse.move(0, 0);
    await expect.poll(() => loss.getAttribute('data-y-max')).toBeTruthy();
    await loss.screenshot({ path: path.join(SCREENSHOTS, 'card-tools-band-noisy.png') });
    expectNoProblems(world);
  });

  it('say why no card is shown: an empty workspace, a filter matching no run, every run hidden', { timeout: 120_000 }, async () => {
    const empty = await open();
    await empty.page.getByRole('tab', { name: 'Charts' }).click();
    await expect.poll(() => empty.page.getByText('No run in this workspace yet', { exact: false }).count()).toBe(1);
    const world = await open(prepare);
    const { page } = world;
    await openCharts(page);
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill('^nothing$');
    await expect.poll(() => page.getByText('No run matches the filter “^nothing$”', { exact: false }).count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill('');
    await page.getByRole('button', { name: 'Hide all' }).click();
    await expect.poll(() => page.getByText('Every run is hidden: tick one in the list of runs.').count()).toBe(1);
    await world.screenshot('card-tools-all-hidden');
    expectNoProblems(empty);
    expectNoProblems(world);
  });

  it('leave cards out of view undrawn until they scroll in', { timeout: 120_000 }, async () => {
    const world = await open(prepare, { viewport: { width: 1400, height: 700 } });
    const { page } = world;
    await openCharts(page);
    const last = card(page, EXTRA[EXTRA.length - 1] as string);
    await expect.poll(() => last.count()).toBe(1);
    expect(await last.getAttribute('data-y-max')).toBeNull();
    await last.scrollIntoViewIfNeeded();
    await expect.poll(() => last.getAttribute('data-y-max')).toBeTruthy();
    expectNoProblems(world);
  });
});
