// A run of 120,000 points (too long to send whole: the page holds its overview) at smoothing 0.9:
// the card draws the Studio's smoothing over every point, not an EMA of the overview's points.
// Each smoothed value of the card's CSV download at a step the Studio answered equals TensorBoard's
// EMA of the whole run there, computed here; before the Studio answers, the card says it shows
// the overview's smoothing.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { METRICS_FILE } from '../../electron/core/checkpoint/layout.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const POINTS = 120_000;
const WEIGHT = 0.9;
const START = Date.parse('2026-12-07T08:00:00.000Z');
// Float32 values, as a trainer logs them: the Studio's columns hold them exactly.
const lossAt = (step: number): number => Math.fround(2 / (1 + step / 20_000) + 0.3 * Math.sin(step * 12.9898) ** 2);

/** TensorBoard's debiased EMA of the whole run, by step. */
function exactSmoothed(weight: number): Float64Array {
  const out = new Float64Array(POINTS + 1);
  let last = 0;
  for (let step = 1; step <= POINTS; step += 1) {
    last = last * weight + (1 - weight) * lossAt(step);
    out[step] = last / (1 - weight ** step);
  }
  return out;
}

const card = (page: Page): Locator => page.getByRole('figure', { name: /^loss: / });

describe('smoothing a run too long to send whole', () => {
  it("draws the Studio's smoothing over every point", { timeout: 120_000 }, async () => {
    const world = await open(async (store) => {
      const writer = await store.createRun('long', { parent: null, config: {} });
      await writer.close();
      const lines = Array.from({ length: POINTS }, (_, i) =>
        JSON.stringify({ kind: 'train', step: i + 1, epoch: 0, batch: i + 1, loss: lossAt(i + 1), time: new Date(START + i * 10).toISOString() }),
      );
      await writeFile(path.join(store.root, 'long', METRICS_FILE), `${lines.join('\n')}\n`);
    });
    const { page, studio } = world;
    const smoothedReads: unknown[] = [];
    const read = studio.api.metricSeries.bind(studio.api);
    studio.api.metricSeries = (params) => {
      if (params.smoothing) smoothedReads.push(params.smoothing);
      return read(params);
    };

    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = card(page);
    await expect.poll(() => loss.locator('li[data-run="long"]').getAttribute('data-last-step'), { timeout: 30_000 }).toBe(String(POINTS));
    // An overview, not every point.
    expect(Number(await loss.getAttribute('data-points'))).toBeLessThan(POINTS / 10);

    await page.getByRole('spinbutton', { name: 'Smoothing weight' }).fill(String(WEIGHT));
    await expect.poll(() => smoothedReads.some((s) => (s as { weight: number }).weight === WEIGHT), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => loss.getAttribute('data-smoothing-approximate'), { timeout: 30_000 }).toBe('0');
    expect(await loss.getByText('smoothed over an overview').count()).toBe(0);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      loss.getByRole('toolbar').getByRole('button', { name: 'Download CSV', exact: true }).click(),
    ]);
    const rows = (await readFile(await download.path(), 'utf8'))
      .trim()
      .split('\r\n')
      .slice(1)
      .map((line) => line.split(','));
    const exact = exactSmoothed(WEIGHT);
    // The Studio's own points of the smoothed curve (the raw overview has no value there), and the run's last point.
    const studioRows = rows.filter((r) => r[4] === '');
    expect(studioRows.length).toBeGreaterThan(500);
    for (const r of [...studioRows, rows.at(-1) ?? []]) {
      const step = Number(r[2]);
      expect(Number(r[5]), `smoothed at step ${step}`).toBeCloseTo(exact[step] as number, 9);
    }
    // Smoothing the overview's own points would have drawn something else there.
    const overview = rows.filter((r) => r[4] !== '');
    let last = 0;
    const differences = overview.map((r, i) => {
      last = last * WEIGHT + (1 - WEIGHT) * Number(r[4]);
      return Math.abs(last / (1 - WEIGHT ** (i + 1)) - (exact[Number(r[2])] as number));
    });
    expect(Math.max(...differences)).toBeGreaterThan(0.01);
    await world.screenshot('exact-smoothing');
    expectNoProblems(world);
  });
});
