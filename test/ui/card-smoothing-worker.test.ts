// Long curves are smoothed in a Web Worker, not on the page's thread: a run of 60,000 points is
// drawn with its smoothed values (TensorBoard's debiased EMA, computed here as the reference)
// once the worker answers, and a worker is running in the page.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS_FILE } from '../../electron/core/checkpoint/layout.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const POINTS = 60_000;
const lossAt = (step: number): number => 2 / (1 + step / 5000) + 0.2 * Math.sin(step * 12.9898) ** 2;

/** TensorBoard's smoothing of the whole curve, its last point. */
function lastSmoothed(weight: number): number {
  let last = 0;
  let smoothed = 0;
  for (let step = 1; step <= POINTS; step += 1) {
    last = last * weight + (1 - weight) * lossAt(step);
    smoothed = last / (1 - weight ** step);
  }
  return smoothed;
}

describe('smoothing long curves', () => {
  it('happens in a Web Worker, and draws the same values', { timeout: 120_000 }, async () => {
    const world = await open(async (store) => {
      const writer = await store.createRun('long', { parent: null, config: {} });
      await writer.close();
      const start = Date.now() - 3_600_000;
      const lines = Array.from({ length: POINTS }, (_, i) =>
        JSON.stringify({ kind: 'train', step: i + 1, epoch: 0, batch: i + 1, loss: lossAt(i + 1), time: new Date(start + i * 10).toISOString() }),
      );
      await writeFile(path.join(store.root, 'long', METRICS_FILE), `${lines.join('\n')}\n`);
    });
    const { page } = world;
    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = page.getByRole('figure', { name: /^loss: / });
    const curve = loss.locator('li[data-run="long"]');
    await expect.poll(() => curve.count(), { timeout: 30_000 }).toBe(1);
    // Its overview is drawn first; the whole run (read after it, in the background) is smoothed in the worker.
    await expect.poll(() => loss.getAttribute('data-points'), { timeout: 30_000 }).toBe(String(POINTS));
    await expect.poll(() => loss.getAttribute('data-smoothing-pending'), { timeout: 30_000 }).toBe('0');
    expect(Number(await curve.getAttribute('data-last-smoothed'))).toBeCloseTo(lastSmoothed(0.6), 9);
    expect(page.workers().length).toBeGreaterThanOrEqual(1);

    // A new weight goes through the worker again.
    await page.getByRole('spinbutton', { name: 'Smoothing weight' }).fill('0.99');
    await expect.poll(async () => Number(await curve.getAttribute('data-last-smoothed')), { timeout: 30_000 }).toBeCloseTo(lastSmoothed(0.99), 9);
    expect(await loss.getAttribute('data-smoothing-pending')).toBe('0');
    await world.screenshot('card-smoothing-worker');
    expectNoProblems(world);
  });
});
