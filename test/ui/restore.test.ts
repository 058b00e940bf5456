// Restore and continue from the toolbar, with a tiny real training (an 8-unit MLP on 320
// examples, CPU backend): "Latest" and "Best" pick the checkpoint the core picks, the form shows
// what the new run will use before it starts, and each continued run appears on the timeline as
// a branch from its parent checkpoint.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Studio } from '../../electron/core/studio/studio.js';
import { miniMnistDir } from '../trainer/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();

async function finished(studio: Studio): Promise<void> {
  await expect.poll(async () => (await studio.api.trainingStatus()).state, { timeout: 60_000, interval: 200 }).toBe('exited');
}

async function continueAs(page: Page, run: string): Promise<void> {
  const form = page.getByRole('form', { name: 'Restore and continue' });
  await expect.poll(() => form.count()).toBe(1);
  await form.getByLabel('New run name').fill(run);
  await form.getByRole('button', { name: 'Continue training' }).click();
  await expect
    .poll(
      async () =>
        await page
          .getByRole('status')
          .filter({ hasText: `Run ${run} started from this checkpoint` })
          .count(),
      { timeout: 30_000 },
    )
    .toBe(1);
}

describe('restore and continue from the toolbar', () => {
  it('continues from the latest and from the best, and each new run branches on the timeline', { timeout: 180_000 }, async () => {
    const world = await open();
    const { page, studio } = world;
    await studio.api.startTraining({
      run: 'tiny',
      config: {
        model: { kind: 'mlp', width: 8 },
        optimizer: { name: 'adam', learningRate: 0.01 },
        batchSize: 32,
        epochs: 2,
        seed: 1,
        validationCount: 64,
        trainLimit: 320,
        dataDir: miniMnistDir(),
      },
      backend: 'cpu',
      checkpoints: { everySteps: 5, onStop: true },
      maxSteps: 15,
    });
    await finished(studio);
    const timeline = page.getByTestId('timeline');
    await expect.poll(() => timeline.getAttribute('data-points'), { timeout: 15_000 }).toBe('3');
    const latest = await studio.api.latest();

    await page.getByRole('group', { name: 'Restore and continue' }).getByRole('button', { name: 'Latest' }).click();
    const details = page.getByRole('complementary', { name: 'Checkpoint details' });
    await expect.poll(() => details.getByRole('heading', { name: `tiny step ${latest.step}` }).count()).toBe(1);
    const form = details.getByRole('form', { name: 'Restore and continue' });
    await expect.poll(() => form.textContent()).toContain('(the latest)');
    // What the new run will use, read from the parent's run.json, before anything starts.
    await expect
      .poll(() => form.getByLabel('The new run will use').textContent())
      .toMatch(/epochs 2 \(the parent's\).*learning rate 0\.01 \(the parent's\).*checkpoints every 5 steps/);
    await form.getByLabel('Learning rate').fill('0.005');
    await expect.poll(() => form.getByLabel('The new run will use').textContent()).toContain('learning rate 0.005 (changed; the parent had 0.01)');
    await world.screenshot('restore-form');
    await continueAs(page, 'from-latest');
    await finished(studio);
    await expect.poll(() => timeline.getAttribute('data-links'), { timeout: 15_000 }).toBe(`from-latest<-tiny@${latest.step}`);

    // Best by loss, lowest: whichever checkpoint the core calls best is the new branch's parent.
    await page.getByRole('combobox').first().selectOption('loss');
    await page.getByLabel('Direction').selectOption('min');
    const best = await studio.api.best({ metric: 'loss', mode: 'min' });
    await page.getByRole('group', { name: 'Restore and continue' }).getByRole('button', { name: 'Best' }).click();
    await expect.poll(() => details.getByRole('heading', { name: `${best.run} step ${best.step}` }).count()).toBe(1);
    await expect.poll(() => details.getByRole('form', { name: 'Restore and continue' }).textContent()).toContain('(the best by loss (min))');
    await continueAs(page, 'from-best');
    await finished(studio);
    await expect
      .poll(async () => ((await timeline.getAttribute('data-links')) ?? '').split(' ').sort(), { timeout: 15_000 })
      .toEqual([`from-latest<-tiny@${latest.step}`, `from-best<-${best.run}@${best.step}`].sort());
    await expect.poll(() => timeline.getAttribute('data-lanes')).toBe('3');
    await world.screenshot('restore-branches');
    expectNoProblems(world);
  });
});
