// The training dashboard in browser mode: a small training started from the form shows its
// progress and its checkpoints on the curves, and stops when asked; a checkpoint it saved is
// restored and continued with a new learning rate; a trainer killed from outside is reported
// as a crash while the app stays up.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { miniMnistDir } from '../trainer/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();

async function fill(page: Page, fields: Record<string, string>): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'New training' });
  for (const [label, value] of Object.entries(fields)) {
    const field = dialog.getByLabel(label, { exact: true });
    if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
}

async function startSmallTraining(page: Page, run: string): Promise<void> {
  await page.getByRole('tab', { name: 'Training' }).click();
  await page.getByRole('button', { name: 'New training' }).click();
  await fill(page, {
    'Run name': run,
    Model: 'mlp',
    Width: '8',
    Epochs: '100',
    'Batch size': '32',
    'Validation examples': '64',
    'Train limit': '320',
    'Data folder': miniMnistDir(),
    Backend: 'cpu',
    'Save every N steps': '5',
    'Save every N epochs': '',
    'Save on a new best': '',
    'Keep last N': '6',
  });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
}

const stepNow = async (page: Page): Promise<number> =>
  Number(/step ([\d,]+)/.exec((await page.getByTestId('progress-steps').textContent()) ?? '')?.[1]?.replace(/,/g, '') ?? 0);

describe('the training dashboard', () => {
  it('starts a training, shows its progress and checkpoint markers, stops it, and continues from a checkpoint', { timeout: 120_000 }, async () => {
    const world = await open();
    const { page } = world;
    await startSmallTraining(page, 'ui-run');
    const state = page.getByTestId('training-state');
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toBe('Running');
    await expect.poll(() => stepNow(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(20);
    const loss = page.getByRole('figure', { name: /^loss: / });
    await expect.poll(async () => Number(await loss.getAttribute('data-markers')), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(async () => Number(await loss.getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(async () => (await page.getByTestId('last-checkpoint').textContent()) ?? '').toMatch(/step \d+/);
    await expect.poll(async () => (await page.getByRole('region', { name: 'Progress' }).textContent()) ?? '').toContain('cpu');
    await world.screenshot('training');

    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toBe('Finished');
    await expect.poll(async () => await page.getByRole('status').filter({ hasText: 'Finished (stopped)' }).count()).toBe(1);
    await world.screenshot('training-stopped');

    // Restore and continue from the last checkpoint the run kept.
    await page.getByRole('tab', { name: 'Checkpoints' }).click();
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    const last = list.getByRole('option', { name: /^ui-run step \d+,.*latest/ });
    await expect.poll(() => last.count(), { timeout: 10_000 }).toBe(1);
    await last.click();
    // What the save cost the training, from the trainer's own measurement in the manifest.
    await expect
      .poll(() =>
        page
          .getByRole('complementary', { name: 'Checkpoint details' })
          .getByText(/^[\d.]+ ms blocked$/)
          .count(),
      )
      .toBe(1);
    await page.getByRole('button', { name: 'Restore and continue…' }).click();
    const form = page.getByRole('form', { name: 'Restore and continue' });
    await form.getByLabel('New run name').fill('ui-run-more');
    await form.getByLabel('Learning rate').fill('0.005');
    await form.getByRole('button', { name: 'Continue training' }).click();
    const started = page.getByRole('status').filter({ hasText: 'Run ui-run-more started from this checkpoint' });
    await expect.poll(async () => (await started.textContent()) ?? '', { timeout: 30_000 }).toContain('learning rate 0.005');
    await world.screenshot('continue');
    await started.getByRole('button', { name: 'Show training' }).click();
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toBe('Running');
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toBe('Finished');
    expectNoProblems(world);
  });

  it('reports a trainer killed from outside as a crash, and the app stays up', { timeout: 120_000 }, async () => {
    const world = await open();
    const { page } = world;
    await startSmallTraining(page, 'doomed');
    await expect.poll(async () => (await page.getByTestId('last-checkpoint').textContent()) ?? '', { timeout: 30_000 }).toMatch(/step \d+/);
    const writer = (await world.studio.api.listRuns()).find((r) => r.name === 'doomed')?.writer;
    expect(writer).toBeTruthy();
    process.kill(writer?.pid ?? 0, 'SIGKILL');
    const crash = page.getByRole('alert').filter({ hasText: 'The trainer crashed' });
    await expect.poll(async () => (await crash.textContent()) ?? '', { timeout: 30_000 }).toContain('was killed by SIGKILL');
    await expect.poll(() => page.getByTestId('training-state').textContent()).toBe('Crashed');
    await world.screenshot('training-crashed');
    // Still answering: the checkpoints it completed are listed.
    await page.getByRole('tab', { name: 'Checkpoints' }).click();
    await expect
      .poll(() =>
        page
          .getByRole('listbox', { name: 'Checkpoints' })
          .getByRole('option', { name: /^doomed step/ })
          .count(),
      )
      .toBeGreaterThanOrEqual(1);
    expectNoProblems(world);
  });
});
