// The Charts screen's frame time while zooming, with 5 runs of 100,000 logged steps each (a
// benchmark, run on demand: CHARTS_BENCH=1 npx vitest run test/ui/charts-zoom.test.ts). Frames
// are timed by requestAnimationFrame in the page while a drag zooms in and a double-click resets,
// over and over; the page's own frame intervals are what a user would feel.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const RUNS = 5;
const STEPS = 100_000;

/** Lines exactly as the training session appends them, written in bulk (fsync per line would take minutes). */
async function bigRun(store: CheckpointStore, run: string, seed: number): Promise<void> {
  const writer = await store.createRun(run, { parent: null, config: {} });
  for (const step of [20_000, 40_000, 60_000, 80_000, 100_000]) await writer.save(trainingState(step));
  await writer.close();
  const start = Date.parse('2026-11-27T00:00:00Z') + seed * 1000;
  const lines: string[] = [];
  for (let step = 1; step <= STEPS; step += 1) {
    const loss = 2 / (1 + step / (2000 + seed * 500)) + 0.2 * Math.sin(step * 0.37 + seed) * Math.sin(step * 0.011);
    const accuracy = 1 - loss / 2.5;
    lines.push(JSON.stringify({ kind: 'train', step, epoch: Math.floor(step / 1000), batch: step % 1000, loss, accuracy, time: new Date(start + step * 20).toISOString() }));
    if (step % 1000 === 0) lines.push(JSON.stringify({ kind: 'validation', step, epoch: step / 1000 - 1, loss: loss * 1.1, accuracy, time: new Date(start + step * 20).toISOString() }));
  }
  appendFileSync(path.join(store.root, run, 'metrics.jsonl'), `${lines.join('\n')}\n`);
}

const open = useUi();

describe.runIf(process.env['CHARTS_BENCH'])('charts zoom benchmark', () => {
  it(`keeps frames under 50 ms (p95) while zooming ${RUNS} runs × ${STEPS} points`, { timeout: 600_000 }, async () => {
    const world = await open(async (store) => {
      for (let i = 0; i < RUNS; i += 1) await bigRun(store, `run-${i}`, i);
    });
    const { page } = world;
    const loadStarted = Date.now();
    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = page.getByRole('figure', { name: /^loss: / });
    await expect.poll(async () => Number(await loss.getAttribute('data-points')), { timeout: 300_000, interval: 500 }).toBeGreaterThanOrEqual(RUNS * STEPS);
    const loadMs = Date.now() - loadStarted;
    const box = await loss.locator('.u-over').boundingBox();
    if (!box) throw new Error('no plot');
    await page.evaluate(() => {
      const w = window as unknown as { frames_: number[]; last_: number };
      w.frames_ = [];
      w.last_ = performance.now();
      const tick = (now: number): void => {
        w.frames_.push(now - w.last_);
        w.last_ = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    for (let round = 0; round < 6; round += 1) {
      const from = box.x + box.width * (0.1 + 0.1 * (round % 3));
      await page.mouse.move(from, box.y + box.height / 2);
      await page.mouse.down();
      for (let k = 1; k <= 10; k += 1) await page.mouse.move(from + (box.width * 0.3 * k) / 10, box.y + box.height / 2);
      await page.mouse.up();
      await page.waitForTimeout(300);
      await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForTimeout(300);
    }
    const frames = await page.evaluate(() => (window as unknown as { frames_: number[] }).frames_.slice(1));
    frames.sort((a, b) => a - b);
    const p95 = frames[Math.floor(frames.length * 0.95)] ?? 0;
    console.log(`charts zoom: ${RUNS} runs × ${STEPS} points loaded in ${loadMs} ms; ${frames.length} frames, median ${frames[frames.length >> 1]?.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${frames.at(-1)?.toFixed(1)} ms`);
    await world.screenshot('charts-zoom');
    expect(p95).toBeLessThanOrEqual(50);
    expectNoProblems(world);
  });
});
