// The trash view in browser mode: deleted checkpoints by batch (when, how many, how much, why),
// a batch restored whole (it is back in the list), one entry restored, and a purge after its
// confirmation that empties the trash on disk.
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

describe('the trash view', () => {
  it('lists batches, restores a batch and an entry, and purges after a confirmation', { timeout: 60_000 }, async () => {
    const world = await open((store) => writeRun(store, 'alpha', [1, 2, 3, 4, 5]));
    const { page, studio } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getByRole('option').count()).toBe(5);
    await studio.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000001', 'alpha/ckpt-000000002'] });
    await studio.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000003'] });
    await expect.poll(() => list.getByRole('option').count(), { timeout: 10_000 }).toBe(2);

    await page.getByRole('button', { name: 'Trash' }).click();
    const trash = page.getByRole('region', { name: 'Trash' });
    const batches = trash.getByRole('article');
    await expect.poll(() => batches.count()).toBe(2);
    await expect.poll(() => trash.textContent()).toMatch(/3 checkpoints in 2 batches/);
    // Newest first: the single checkpoint, then the pair.
    expect(await batches.nth(0).textContent()).toMatch(/1 checkpoint · [\d.]+ KB/);
    expect(await batches.nth(1).textContent()).toMatch(/2 checkpoints · [\d.]+ KB/);
    await batches.nth(1).getByRole('button', { name: '▸' }).click();
    await expect.poll(() => batches.nth(1).getByText('alpha/ckpt-000000002').count()).toBe(1);
    await world.screenshot('trash');

    await batches.nth(1).getByRole('button', { name: 'Restore batch' }).click();
    await expect.poll(() => trash.getByRole('status').textContent()).toBe('Restored 2 from the trash.');
    await expect.poll(() => batches.count()).toBe(1);
    await batches.nth(0).getByRole('button', { name: '▸' }).click();
    await batches.nth(0).getByRole('button', { name: 'Restore alpha/ckpt-000000003' }).click();
    await expect.poll(() => batches.count()).toBe(0);
    await expect.poll(() => trash.getByText('The trash is empty').count()).toBe(1);

    await page.getByRole('button', { name: 'Back to checkpoints' }).click();
    await expect.poll(() => list.getByRole('option').count(), { timeout: 10_000 }).toBe(5);

    // Purge one batch: only its checkpoints leave the disk.
    await studio.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000004'] });
    await studio.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000005'] });
    await page.getByRole('button', { name: 'Trash' }).click();
    await expect.poll(() => batches.count()).toBe(2);
    await batches.nth(1).getByRole('button', { name: 'Purge batch…' }).click();
    const batchDialog = page.getByRole('dialog', { name: 'Purge this batch?' });
    await expect.poll(() => batchDialog.textContent()).toMatch(/1 checkpoint, [\d.]+ KB, will be removed from the disk for good/);
    await batchDialog.getByRole('button', { name: 'Purge for good' }).click();
    await expect.poll(() => batches.count()).toBe(1);
    expect((await studio.api.listTrash()).entries.map((e) => e.checkpointId)).toEqual(['alpha/ckpt-000000005']);

    // Purge: everything in the trash leaves the disk, after a confirmation that says so.
    await trash.getByRole('button', { name: 'Purge…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Purge the trash?' });
    await expect.poll(() => dialog.textContent()).toMatch(/1 checkpoint, [\d.]+ KB, will be removed from the disk for good/);
    await world.screenshot('trash-purge');
    await dialog.getByRole('button', { name: 'Purge for good' }).click();
    await expect.poll(() => trash.getByText('The trash is empty').count()).toBe(1);
    expect((await studio.api.listTrash()).entries).toEqual([]);
    expectNoProblems(world);
  });

  it('shows an error beside the batch that cannot be restored', { timeout: 60_000 }, async () => {
    const world = await open((store) => writeRun(store, 'alpha', [1, 2]), { colorScheme: 'dark' });
    const { page, studio } = world;
    await studio.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000001'] });
    // Another checkpoint now holds the trashed one's place: the restore must refuse, not overwrite.
    const other = await CheckpointStore.open(world.workspace.root);
    const writer = await other.openRunWriter('alpha');
    await writer.save(trainingState(1));
    await writer.close();
    await page.getByRole('button', { name: 'Trash' }).click();
    const batch = page.getByRole('region', { name: 'Trash' }).getByRole('article');
    await expect.poll(() => batch.count()).toBe(1);
    await batch.getByRole('button', { name: 'Restore batch' }).click();
    await expect.poll(async () => (await batch.getByRole('alert').textContent()) ?? '').toMatch(/ckpt-000000001/);
    expect(await batch.count()).toBe(1);
    await world.screenshot('trash-error');
    expectNoProblems(world);
  });
});
