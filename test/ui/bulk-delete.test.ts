// Bulk delete in browser mode: a Shift+click range, a confirmation that names the count, the
// size, the marked checkpoints among them and the protected ones left out, then Undo; and the
// keyboard's Ctrl+A and Escape.
import { describe, expect, it } from 'vitest';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

describe('bulk delete', () => {
  it('deletes a Shift+click range after a confirmation, leaves the pinned one, and undoes it', { timeout: 60_000 }, async () => {
    const world = await open(async (store) => {
      await writeRun(store, 'alpha', [1, 2, 3, 4, 5, 6]);
      await store.setPinned('alpha/ckpt-000000004', true);
    });
    const { page } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    const row = (step: number) => list.getByRole('option', { name: new RegExp(`^alpha step ${step},`) });
    await expect.poll(() => list.getByRole('option').count()).toBe(6);

    await row(3).click();
    await row(6).click({ modifiers: ['Shift'] });
    await expect.poll(() => list.locator('[aria-selected="true"]').count()).toBe(4);
    await page.getByRole('button', { name: 'Delete selected' }).click();

    const dialog = page.getByRole('dialog', { name: 'Delete 3 checkpoints?' });
    await expect.poll(() => dialog.count()).toBe(1);
    const text = (await dialog.textContent()) ?? '';
    expect(text).toMatch(/3 checkpoints, [\d.]+ KB, will move to the workspace trash/);
    expect(text).toContain('alpha/ckpt-000000006 — latest');
    expect(text).toContain('1 protected checkpoint left out');
    expect(text).toContain('alpha/ckpt-000000004 — pinned');
    await world.screenshot('delete-confirmation');

    await dialog.getByRole('button', { name: 'Delete 3 checkpoints' }).click();
    await expect.poll(() => list.getByRole('option').count()).toBe(3);
    for (const gone of [3, 5, 6]) expect(await row(gone).count()).toBe(0);
    const undoBar = page.getByRole('status').filter({ hasText: 'to the trash' });
    await expect.poll(async () => (await undoBar.textContent()) ?? '').toMatch(/Moved 3 checkpoints \([\d.]+ KB\) to the trash/);
    await world.screenshot('delete-undo');

    await undoBar.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => list.getByRole('option').count()).toBe(6);
    await expect.poll(() => page.getByText('Restored 3 checkpoints.').count()).toBe(1);
    expectNoProblems(world);
  });

  it('selects everything with Ctrl+A, clears with Escape, and toggles with Ctrl+click', { timeout: 60_000 }, async () => {
    const world = await open((store) => writeRun(store, 'alpha', [10, 20, 30]));
    const { page } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    const selected = list.locator('[aria-selected="true"]');
    await expect.poll(() => list.getByRole('option').count()).toBe(3);

    await list.getByRole('option', { name: /^alpha step 10,/ }).click();
    await page.keyboard.press('ControlOrMeta+a');
    await expect.poll(() => selected.count()).toBe(3);
    await page.keyboard.press('Escape');
    await expect.poll(() => selected.count()).toBe(0);

    await list.getByRole('option', { name: /^alpha step 10,/ }).click();
    await list.getByRole('option', { name: /^alpha step 30,/ }).click({ modifiers: ['ControlOrMeta'] });
    await expect.poll(() => selected.count()).toBe(2);
    await page.keyboard.press('Shift+ArrowUp');
    // Shift+arrow extends from the anchor (step 30) to step 20.
    await expect.poll(async () => (await selected.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).sort()).toEqual(['alpha/ckpt-000000020', 'alpha/ckpt-000000030']);
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByRole('dialog', { name: 'Delete 2 checkpoints?' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await list.getByRole('option').count()).toBe(3);
    expectNoProblems(world);
  });
});
