// The Charts tab reopened by a reload, with a runs filter kept in the workspace's view: the page
// reads the history of the one run the filter shows, not every run's. Before the view was
// restored the Charts tab saw the default view (every run), and read them all.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const RUNS = 12;
const runName = (i: number): string => `run-${String(i).padStart(2, '0')}`;

async function prepare(store: CheckpointStore): Promise<void> {
  for (let i = 0; i < RUNS; i += 1) {
    const writer = await store.createRun(runName(i), { parent: null, config: {} });
    for (let step = 1; step <= 50; step += 1) await writer.appendMetrics({ kind: 'train', step, epoch: 0, batch: step, loss: (i + 1) / step });
    await writer.save(trainingState(50));
    await writer.close();
  }
}

/** Counts the metricSeries calls the page sends over its WebSocket, from now on (a reload's new socket too). */
function countHistoryReads(page: Page): { runs: string[] } {
  const reads = { runs: [] as string[] };
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      const call = JSON.parse(String(payload)) as { method?: string; params?: { run?: string } };
      if (call.method === 'metricSeries') reads.runs.push(call.params?.run ?? '');
    });
  });
  return reads;
}

describe('the Charts view kept per workspace', () => {
  it('reads only the runs its kept filter shows when a reload opens on the Charts tab', { timeout: 120_000 }, async () => {
    const world = await open(prepare);
    const { page, studio } = world;
    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = page.getByRole('figure', { name: /^loss: / });
    await expect.poll(() => loss.locator('li[data-kind="train"]').count(), { timeout: 30_000 }).toBe(RUNS);
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill(`^${runName(0)}$`);
    // The view is written to the settings (after a short delay): the reload finds it there.
    await expect.poll(async () => JSON.stringify((await studio.api.settings()).view), { timeout: 15_000 }).toContain(`"filter":"^${runName(0)}$"`);
    await expect.poll(async () => JSON.stringify((await studio.api.settings()).view)).toContain('"tab":"charts"');

    const reads = countHistoryReads(page);
    await page.reload();
    await expect.poll(() => loss.locator(`li[data-run="${runName(0)}"][data-kind="train"]`).count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByRole('tab', { name: 'Charts' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByRole('searchbox', { name: 'Filter runs' }).inputValue()).toBe(`^${runName(0)}$`);
    expect(await loss.locator('li[data-kind="train"]').count()).toBe(1);
    expect(reads.runs).toEqual([runName(0)]);
    await world.screenshot('charts-restored-filter');

    // Cleared: every other run is read now, once each.
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill('');
    await expect.poll(() => loss.locator('li[data-kind="train"]').count(), { timeout: 30_000 }).toBe(RUNS);
    expect([...reads.runs].sort()).toEqual(Array.from({ length: RUNS }, (_, i) => runName(i)));
    // Each run's curve drawn (added to the card's chart as it arrived).
    await expect.poll(() => loss.getAttribute('data-drawn-runs'), { timeout: 30_000 }).toBe(String(RUNS));
    await world.screenshot('charts-restore-all-runs');
    expectNoProblems(world);
  });
});
