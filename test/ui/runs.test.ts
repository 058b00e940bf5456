// The runs in browser mode: the runs list in lineage order (each continued run under the run its
// run.json names as parent, not under whichever run was made just before it), weights-only
// imported runs listed apart, the Charts empty state saying why nothing is drawn, each run's own
// best in the Runs table agreeing with `best --run`, the Runs table (sort, filter, solo, archive,
// columns kept) and the configuration a continued run changed from its parent's.
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { CheckpointStore as Store } from '../../electron/core/checkpoint/store.js';
import { testData } from '../fixtures.js';
import { makeTempWorkspace, trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

type Parent = { run: string; step: number } | null;

/** A run whose checkpoints record these losses, made after the runs written before it. */
async function writeLossRun(
  store: CheckpointStore,
  run: string,
  losses: Record<number, number>,
  parent: Parent = null,
  config: Record<string, unknown> = {},
): Promise<void> {
  const writer = await store.createRun(run, { parent, config: config as never });
  for (const [at, loss] of Object.entries(losses)) {
    const step = Number(at);
    await writer.appendMetrics({ kind: 'train', step, epoch: 0, batch: step, loss, accuracy: 1 - loss, time: new Date().toISOString() });
    await writer.save(trainingState(step, { parent, loss }));
  }
  await writer.close();
}

/** Made in this order: alpha-live (alpha's branch) after gamma, baseline-from-120 after banknote-estimator. */
async function lineage(store: CheckpointStore): Promise<void> {
  await writeLossRun(store, 'alpha', { 100: 0.9, 200: 0.5, 300: 0.7 }, null, { lr: 0.01, optimizer: { name: 'adam' }, batch: 32 });
  await writeLossRun(store, 'beta', { 100: 0.8, 200: 0.6 }, null, { lr: 0.02, batch: 32 });
  await writeLossRun(store, 'gamma', { 100: 0.95 }, null, { lr: 0.02, batch: 64 });
  await writeLossRun(store, 'alpha-live', { 300: 0.4, 400: 0.45 }, { run: 'alpha', step: 200 }, { lr: 0.005, optimizer: { name: 'sgd' }, warmup: 10 });
  await writeLossRun(store, 'baseline', { 60: 0.6, 120: 0.3, 174: 0.25, 240: 0.35 }, null, { lr: 0.01, batch: 16 });
  await writeLossRun(store, 'banknote-estimator', { 10: 0.99 }, null, {});
  await writeLossRun(store, 'baseline-from-120', { 180: 0.28, 200: 0.29 }, { run: 'baseline', step: 120 }, { lr: 0.001, batch: 16 });
}

const runsList = (page: Page): Locator => page.getByRole('region', { name: 'Runs' });
const table = (page: Page): Locator => page.getByTestId('runs-table');
const tableRow = (page: Page, run: string): Locator => table(page).locator(`[role="row"][data-run="${run}"]`);

/** The runs list's names, in order, with their depth. */
async function listed(page: Page): Promise<string[]> {
  return runsList(page)
    .locator('li[data-run]')
    .evaluateAll((items) => items.map((li) => `${li.getAttribute('data-run')}:${li.getAttribute('data-depth')}`));
}

async function tableOrder(page: Page): Promise<string[]> {
  return table(page)
    .locator('[role="row"][data-run]')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run') ?? ''));
}

describe('the runs', () => {
  it('lists each continued run under its own parent, weights-only runs apart, and says why the charts are empty', { timeout: 120_000 }, async () => {
    const world = await open(lineage);
    const { page } = world;
    await world.studio.api.importFolders({ sources: [testData('tf-serving', 'half-plus-two-exporter')], into: 'exported-weights' });
    await page.getByRole('tab', { name: 'Charts' }).click();
    await expect
      .poll(() => listed(page), { timeout: 15_000 })
      .toEqual(['alpha:0', 'alpha-live:1', 'beta:0', 'gamma:0', 'baseline:0', 'baseline-from-120:1', 'banknote-estimator:0']);
    // The imported weights are not a "finished" run with nothing drawn: they are named apart.
    expect(await runsList(page).getByRole('checkbox', { name: 'exported-weights' }).count()).toBe(0);
    const apart = runsList(page).getByText('1 imported run with weights only');
    expect(await apart.count()).toBe(1);
    await apart.click();
    await world.screenshot('runs-list-lineage');

    // A filter that matches nothing says so, not "tick one".
    const filter = page.getByRole('searchbox', { name: 'Filter runs' });
    await filter.fill('^nothing-here$');
    await expect.poll(() => page.getByTestId('charts-empty').textContent()).toContain('No run matches the filter “^nothing-here$”');
    expect(await runsList(page).getByText('No run matches the filter.').count()).toBe(1);
    await filter.fill('');
    await runsList(page).getByRole('button', { name: 'Hide all' }).click();
    await expect.poll(() => page.getByTestId('charts-empty').textContent()).toContain('tick one in the list of runs');
    await world.screenshot('charts-none-ticked');
    expectNoProblems(world);
  });

  it('says an empty workspace is empty', { timeout: 60_000 }, async () => {
    const world = await open();
    await world.page.getByRole('tab', { name: 'Charts' }).click();
    await expect.poll(() => world.page.getByTestId('charts-empty').textContent()).toContain('No run in this workspace yet');
    // The runs list too: no runs, not "no run matches" with no filter typed.
    expect(await runsList(world.page).getByText('No runs yet.').count()).toBe(1);
    expectNoProblems(world);
  });

  it("shows each run's best, the one `best --run` answers, and the workspace's", { timeout: 90_000 }, async () => {
    const world = await open(lineage);
    const { page } = world;
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect.poll(() => tableRow(page, 'baseline').count(), { timeout: 15_000 }).toBe(1);
    await page.getByRole('combobox', { name: 'Metric of final and best' }).selectOption('loss');
    for (const run of ['baseline', 'alpha', 'beta', 'alpha-live']) {
      const best = await world.studio.api.best({ metric: 'loss', mode: 'min', run });
      await expect.poll(() => tableRow(page, run).locator('[data-column="best"]').textContent()).toMatch(new RegExp(` @ ${best.step}$`));
    }
    const workspaceBest = await world.studio.api.best({ metric: 'loss', mode: 'min' });
    expect(workspaceBest.run).toBe('baseline');
    expect(await tableRow(page, 'baseline').getByText('best of all').count()).toBe(1);
    expect(await table(page).getByText('best of all').count()).toBe(1);
    await world.screenshot('runs-table');
    expectNoProblems(world);
  });

  it('sorts, filters, solos, archives, keeps its columns, and shows what a continued run changed', { timeout: 120_000 }, async () => {
    const world = await open(lineage);
    const { page } = world;
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect
      .poll(() => tableOrder(page), { timeout: 15_000 })
      .toEqual(['alpha', 'alpha-live', 'beta', 'gamma', 'baseline', 'baseline-from-120', 'banknote-estimator']);
    expect(await tableRow(page, 'alpha-live').getAttribute('data-depth')).toBe('1');

    // Sort by checkpoints (ascending, descending, back to lineage).
    const header = (name: RegExp): Locator => table(page).getByRole('columnheader', { name });
    await header(/^Checkpoints/)
      .getByRole('button')
      .click();
    await expect.poll(() => tableOrder(page)).toEqual(['gamma', 'banknote-estimator', 'alpha-live', 'beta', 'baseline-from-120', 'alpha', 'baseline']);
    await header(/^Checkpoints/)
      .getByRole('button')
      .click();
    await expect.poll(() => tableOrder(page)).toEqual(['baseline', 'alpha', 'alpha-live', 'beta', 'baseline-from-120', 'gamma', 'banknote-estimator']);

    // A configuration column, sorted; then filtered by a configuration value.
    await page.getByText('Columns', { exact: true }).click();
    await page.getByRole('group', { name: 'Columns' }).getByRole('checkbox', { name: 'lr' }).check();
    await header(/^lr/).getByRole('button').click();
    await expect.poll(() => tableOrder(page)).toEqual(['baseline-from-120', 'alpha-live', 'alpha', 'baseline', 'beta', 'gamma', 'banknote-estimator']);
    const filter = page.getByRole('searchbox', { name: 'Filter the runs table' });
    await filter.fill('batch=32');
    await expect.poll(() => tableOrder(page)).toEqual(['alpha', 'beta']);
    await filter.fill('^base');
    await expect.poll(() => tableOrder(page)).toEqual(['baseline-from-120', 'baseline']);
    await filter.fill('');

    // Grouped by a configuration key: the charts draw each group's mean, runs without the key one group.
    await page.getByRole('combobox', { name: 'Group by' }).selectOption('batch');
    await page.getByRole('tab', { name: 'Charts' }).click();
    const lossCard = page.getByRole('figure', { name: /^loss: / });
    const trainCurves = (): Promise<(string | null)[]> =>
      lossCard.locator('li[data-run][data-kind="train"]').evaluateAll((l) => l.map((e) => e.getAttribute('data-run')));
    await expect
      .poll(trainCurves, { timeout: 15_000 })
      .toEqual(['batch = 16 (mean of 2)', 'batch = — (mean of 2)', 'batch = 32 (mean of 2)', 'batch = 64 (mean of 1)']);
    expect(await page.getByRole('list', { name: 'Groups' }).getByRole('listitem').allTextContents()).toEqual([
      'batch = 16 (mean of 2)',
      'batch = — (mean of 2)',
      'batch = 32 (mean of 2)',
      'batch = 64 (mean of 1)',
    ]);
    // Each group curve (train and validation) is banded by its members' min/max, raw band ticked or not.
    const curveCount = Number((await lossCard.getAttribute('aria-label'))?.match(/: (\d+) curves/)?.[1]);
    expect(curveCount).toBeGreaterThanOrEqual(4);
    expect(await lossCard.getAttribute('data-bands')).toBe(String(curveCount));
    await world.screenshot('charts-grouped');
    await page.getByTestId('charts-grouped').getByRole('button', { name: 'Ungroup' }).click();
    await expect.poll(() => lossCard.locator('li[data-run][data-kind="train"]').count()).toBe(7);
    await page.getByRole('tab', { name: 'Runs' }).click();

    // Solo: the charts draw that run alone; ending the solo brings back the ticked ones.
    await tableRow(page, 'beta').getByRole('button', { name: 'Solo beta' }).click();
    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = page.getByRole('figure', { name: /^loss: / });
    await expect
      .poll(() => loss.locator('li[data-run][data-kind="train"]').evaluateAll((l) => l.map((e) => e.getAttribute('data-run'))), { timeout: 15_000 })
      .toEqual(['beta']);
    await runsList(page).getByRole('button', { name: 'End solo' }).click();
    await expect.poll(() => loss.locator('li[data-run][data-kind="train"]').count()).toBe(7);
    // Solo from the runs list too, and again to end it.
    await runsList(page).locator('li[data-run="alpha-live"]').hover();
    await runsList(page).getByRole('button', { name: 'Solo alpha-live' }).click();
    await expect
      .poll(() => loss.locator('li[data-run][data-kind="train"]').evaluateAll((l) => l.map((e) => e.getAttribute('data-run'))))
      .toEqual(['alpha-live']);
    await world.screenshot('charts-solo');
    await runsList(page).getByRole('button', { name: 'Solo alpha-live' }).click();
    await expect.poll(() => loss.locator('li[data-run][data-kind="train"]').count()).toBe(7);

    // Hide from the table: the same choice as the runs list's tick.
    await page.getByRole('tab', { name: 'Runs' }).click();
    await tableRow(page, 'beta').getByRole('checkbox', { name: 'Show beta on the charts' }).uncheck();
    await page.getByRole('tab', { name: 'Charts' }).click();
    await expect.poll(() => loss.locator('li[data-run][data-kind="train"]').count()).toBe(6);
    expect(await runsList(page).getByRole('checkbox', { name: 'beta' }).isChecked()).toBe(false);
    await runsList(page).getByRole('checkbox', { name: 'beta' }).check();
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect.poll(() => tableRow(page, 'beta').getByRole('checkbox').isChecked()).toBe(true);

    // Archive: gone from the table and the charts until shown.
    await tableRow(page, 'gamma').getByRole('button', { name: 'Archive gamma' }).click();
    await expect.poll(() => tableRow(page, 'gamma').count()).toBe(0);
    await page.getByRole('tab', { name: 'Charts' }).click();
    await expect.poll(() => runsList(page).getByRole('checkbox', { name: 'gamma' }).count()).toBe(0);
    expect(await runsList(page).getByText('1 archived run left out.').count()).toBe(1);
    await page.getByRole('tab', { name: 'Runs' }).click();
    await page.getByRole('checkbox', { name: /^Show archived/ }).check();
    await expect.poll(() => tableRow(page, 'gamma').count()).toBe(1);

    // The continued run's details: what it changed from its parent's configuration.
    await tableRow(page, 'alpha-live').getByTitle('Details of alpha-live').click();
    const details = page.getByRole('complementary', { name: 'Run alpha-live' });
    const changes = details.getByRole('region', { name: 'Changed from the parent' });
    await expect
      .poll(() =>
        changes
          .locator('tr[data-change]')
          .evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-change')} ${r.querySelector('td')?.firstChild?.textContent}`)),
      )
      .toEqual(['removed batch', 'changed lr', 'changed optimizer.name', 'added warmup']);
    await world.screenshot('runs-details-diff');

    // The columns and the sort are kept across a reload.
    await page.reload();
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect.poll(() => table(page).getByRole('columnheader', { name: /^lr/ }).count(), { timeout: 15_000 }).toBe(1);
    expect(await table(page).getAttribute('data-order')).toBe('config:lr asc');
    expectNoProblems(world);
  });

  it(
    'keeps the view per workspace: a filter typed in one never hides the runs of another; tab, selection and zoom come back',
    { timeout: 120_000 },
    async () => {
      const world = await open(lineage);
      const { page } = world;
      const first = world.studio.workspace as string;
      const other = makeTempWorkspace();
      const otherStore = await Store.open(other.root, { access: 'create' });
      await writeRun(otherStore, 'big', [1, 2]);
      await writeRun(otherStore, 'small', [3]);

      // In the first workspace: a checkpoint selected, the timeline zoomed, a filter typed on Charts.
      const checkpoint = page.getByRole('option', { name: /^alpha step 200,/ });
      await expect.poll(() => checkpoint.count(), { timeout: 15_000 }).toBe(1);
      await checkpoint.click();
      const timeline = page.getByTestId('timeline');
      await page.getByRole('button', { name: 'Zoom in' }).click();
      await expect.poll(() => timeline.getAttribute('data-zoom')).not.toBe('0.000 1.000');
      const zoom = await timeline.getAttribute('data-zoom');
      await page.getByRole('tab', { name: 'Charts' }).click();
      await page.getByRole('searchbox', { name: 'Filter runs' }).fill('^big$');
      await expect.poll(() => listed(page)).toEqual([]);

      const openWorkspace = async (folder: string): Promise<void> => {
        await page.getByRole('button', { name: 'Open workspace…' }).click();
        const form = page.getByRole('form', { name: 'Open workspace' });
        await form.getByLabel('Workspace folder').fill(folder);
        await form.getByRole('button', { name: 'Open', exact: true }).click();
        await expect.poll(async () => (await page.getByTestId('workspace-path').textContent())?.trim()).toBe(folder);
      };

      // The other workspace has a view of its own: no filter, nothing selected, not zoomed.
      await openWorkspace(otherStore.root);
      await expect.poll(() => page.getByRole('tab', { name: 'Checkpoints' }).getAttribute('aria-selected')).toBe('true');
      expect(await timeline.getAttribute('data-zoom')).toBe('0.000 1.000');
      expect(await page.getByRole('complementary', { name: 'Checkpoint details' }).getByRole('heading', { name: /step/ }).count()).toBe(0);
      await page.getByRole('tab', { name: 'Charts' }).click();
      expect(await page.getByRole('searchbox', { name: 'Filter runs' }).inputValue()).toBe('');
      await expect.poll(() => listed(page)).toEqual(['big:0', 'small:0']);
      await page.getByRole('searchbox', { name: 'Filter runs' }).fill('small');
      await expect.poll(() => listed(page)).toEqual(['small:0']);
      await world.screenshot('runs-other-workspace');

      // Back to the first: its filter, tab, selection and zoom.
      await page.getByRole('tab', { name: 'Runs' }).click();
      await openWorkspace(first);
      await expect.poll(() => page.getByRole('searchbox', { name: 'Filter runs' }).inputValue()).toBe('^big$');
      expect(await page.getByRole('tab', { name: 'Charts' }).getAttribute('aria-selected')).toBe('true');
      await page.getByRole('tab', { name: 'Checkpoints' }).click();
      await expect.poll(() => page.getByRole('complementary', { name: 'Checkpoint details' }).getByRole('heading', { name: 'alpha step 200' }).count()).toBe(1);
      expect(await timeline.getAttribute('data-zoom')).toBe(zoom);

      // And the other again: its own filter, its Runs tab.
      await openWorkspace(otherStore.root);
      await expect.poll(() => page.getByRole('tab', { name: 'Runs' }).getAttribute('aria-selected')).toBe('true');
      await page.getByRole('tab', { name: 'Charts' }).click();
      expect(await page.getByRole('searchbox', { name: 'Filter runs' }).inputValue()).toBe('small');
      expectNoProblems(world);
    },
  );

  it('reads well in the dark theme', { timeout: 60_000 }, async () => {
    const world = await open(lineage, { colorScheme: 'dark' });
    const { page } = world;
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect.poll(() => tableRow(page, 'baseline-from-120').count(), { timeout: 15_000 }).toBe(1);
    await tableRow(page, 'baseline-from-120').getByTitle('Details of baseline-from-120').click();
    await expect.poll(() => page.getByRole('region', { name: 'Changed from the parent' }).locator('tr[data-change]').count()).toBe(1);
    await world.screenshot('runs-table-dark');
    expectNoProblems(world);
  });
});
