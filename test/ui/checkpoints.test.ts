// The checkpoints screen in browser mode: what a workspace holds is listed by run with its
// marks, a checkpoint written or removed by another writer shows up or goes away live, and a
// selected checkpoint shows its tensors.
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

describe('the checkpoints screen', () => {
  it('lists every run and checkpoint with status, size, metrics and marks', { timeout: 60_000 }, async () => {
    const world = await open(async (store) => {
      await writeRun(store, 'alpha', [100, 200, 300, 400]);
      await writeRun(store, 'beta', [300, 350, 500], { run: 'alpha', step: 300 });
    });
    const { page } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count')).toBe('7');
    const options = list.getByRole('option');
    await expect.poll(() => options.count()).toBe(7);
    const alpha300 = page.getByRole('option', { name: /^alpha step 300,/ });
    await expect.poll(() => alpha300.getAttribute('aria-label')).toMatch(/unverified, .*KB, loss 0\.25, .*protected: parent of run "beta"/);
    await expect.poll(() => page.getByRole('option', { name: /^beta step 500,.* latest/ }).count()).toBe(1);
    await expect.poll(() => page.getByText('continued from alpha step 300').count()).toBe(1);
    await expect.poll(async () => (await page.getByTestId('workspace-path').textContent())?.trim()).toBe(world.studio.workspace);
    await world.screenshot('checkpoints');

    await alpha300.click();
    const details = page.getByRole('complementary', { name: 'Checkpoint details' });
    await expect.poll(() => details.getByRole('heading', { name: 'alpha step 300' }).count()).toBe(1);
    await expect.poll(() => details.getByRole('cell', { name: 'dense/kernel', exact: true }).count()).toBe(1);
    await expect.poll(() => details.getByRole('cell', { name: 'adam/m/dense/kernel' }).count()).toBe(1);
    await details.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => details.getByText('Every byte verified').count()).toBe(1);
    // The harness's Studio has no file manager to hand the folder to: the page says so, in place.
    await details.getByRole('button', { name: 'Reveal in folder' }).click();
    await expect.poll(() => details.getByText(/no file manager on the machine running Checkpoint Studio/).count()).toBe(1);
    await details.getByRole('button', { name: 'Pin' }).click();
    await expect.poll(() => details.getByRole('button', { name: 'Unpin' }).count()).toBe(1);
    await expect.poll(() => alpha300.getAttribute('aria-label')).toMatch(/pinned/);
    await world.screenshot('checkpoint-details');
    expectNoProblems(world);
  });

  it('shows a checkpoint another writer adds, and drops one it removes, without a reload', { timeout: 60_000 }, async () => {
    const world = await open((store) => writeRun(store, 'alpha', [1, 2, 3]));
    const { page } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count')).toBe('3');

    // Another writer: its own store on the same folder, as a second program would open it.
    const other = await CheckpointStore.open(world.workspace.root);
    const writer = await other.createRun('elsewhere', { parent: null, config: {} });
    await writer.save(trainingState(7));
    await writer.close();
    await expect.poll(() => page.getByRole('option', { name: /^elsewhere step 7,/ }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => list.getAttribute('data-count')).toBe('4');

    await other.delete(['alpha/ckpt-000000002']);
    await expect.poll(() => page.getByRole('option', { name: /^alpha step 2,/ }).count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => list.getAttribute('data-count')).toBe('3');
    expectNoProblems(world);
  });
});
