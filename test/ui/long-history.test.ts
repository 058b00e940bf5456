// A run of 200,000 points in the Charts screen, in browser mode: the page reads none of it while
// the Checkpoints tab shows, then an overview (the run's first and last step, a few thousand
// points, not all of them), and a drag-zoom reads the window's points at the card's width.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const POINTS = 200_000;
const START = Date.parse('2026-12-07T08:00:00.000Z');

async function prepare(store: CheckpointStore): Promise<void> {
  const writer = await store.createRun('long', { parent: null, config: {} });
  await writer.save(trainingState(POINTS));
  await writer.close();
  const lines: string[] = [];
  for (let step = 1; step <= POINTS; step += 1) {
    const loss = Math.fround(2 * Math.exp(-step / 50_000) + 0.2 + 0.1 * Math.sin(step / 300) + (step % 10_007 === 0 ? 2 : 0));
    lines.push(JSON.stringify({ kind: 'train', step, epoch: 0, batch: step, loss, time: new Date(START + step * 10).toISOString() }));
  }
  writeFileSync(path.join(writer.dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
}

const card = (page: Page): Locator => page.getByRole('figure', { name: /^loss: / });
const points = async (page: Page): Promise<number> => Number(await card(page).getAttribute('data-points'));

describe('a long history in the Charts screen', () => {
  it('draws an overview of the whole run and reads a zoomed window at its resolution', { timeout: 120_000 }, async () => {
    const reads: unknown[] = [];
    const world = await open(prepare);
    const { page, studio } = world;
    const read = studio.api.metricSeries.bind(studio.api);
    // Counted from here on: the Checkpoints tab is showing. The raw history's reads only: the
    // cards' asks for the Studio's smoothing of so long a run are exact-smoothing.test.ts's.
    studio.api.metricSeries = (params) => {
      if (!params.smoothing) reads.push(params);
      return read(params);
    };
    // The timeline drawn with the run's checkpoint: every view has asked for what it wants.
    await page.locator('[data-testid="timeline"][data-points="1"]').waitFor({ timeout: 30_000 });
    expect(reads).toEqual([]);

    await page.getByRole('tab', { name: 'Charts' }).click();
    const trace = card(page).locator('li[data-run="long"][data-kind="train"]');
    await expect.poll(() => trace.getAttribute('data-last-step'), { timeout: 30_000 }).toBe(String(POINTS));
    expect(await trace.getAttribute('data-first-step')).toBe('1');
    const overview = await points(page);
    expect(overview).toBeGreaterThan(1000);
    expect(overview).toBeLessThan(POINTS / 10);
    expect(reads).toHaveLength(1);
    await world.screenshot('long-history-overview');

    const plot = await card(page).locator('.u-over').boundingBox();
    if (!plot) throw new Error('the loss card has no plot');
    await page.mouse.move(plot.x + plot.width * 0.3, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.33, plot.y + plot.height / 2, { steps: 5 });
    await page.mouse.up();
    // The window's points at the card's width are merged in: more points than the overview had.
    await expect.poll(() => points(page), { timeout: 30_000 }).toBeGreaterThan(overview + 500);
    // Each read after the overview is of the zoomed window alone (the card may ask again as its width settles).
    const zooms = reads.slice(1) as { from: number; to: number }[];
    expect(zooms.length).toBeGreaterThan(0);
    for (const zoom of zooms) expect(zoom.to - zoom.from).toBeLessThan(POINTS / 10);
    await world.screenshot('long-history-zoomed');
    expectNoProblems(world);
  });
});
