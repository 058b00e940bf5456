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
    await expect
      .poll(async () => (await selected.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).sort())
      .toEqual(['alpha/ckpt-000000020', 'alpha/ckpt-000000030']);
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByRole('dialog', { name: 'Delete 2 checkpoints?' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await list.getByRole('option').count()).toBe(3);
    expectNoProblems(world);
  });
});

describe('select by policy', () => {
  it(
    'previews a keep-last policy with the reason for each checkpoint, selects its delete set, and the bar says what it frees',
    { timeout: 60_000 },
    async () => {
      const world = await open(
        async (store) => {
          await writeRun(store, 'alpha', [1, 2, 3, 4, 5, 6]);
          await store.setPinned('alpha/ckpt-000000002', true);
        },
        { colorScheme: 'dark' },
      );
      const { page } = world;
      const list = page.getByRole('listbox', { name: 'Checkpoints' });
      await expect.poll(() => list.getByRole('option').count()).toBe(6);

      await page.getByRole('button', { name: 'Select by policy…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Select by policy' });
      await dialog.getByRole('button', { name: 'Preview' }).click();
      await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/at least one rule/);
      await dialog.getByLabel('Keep last N').fill('2');
      await dialog.getByRole('button', { name: 'Preview' }).click();
      const preview = dialog.getByRole('region', { name: 'Policy preview' });
      // The core's own dry run decides; the dialog shows its decisions and reasons.
      const [plan] = await world.studio.api.planRetention({ run: 'alpha', policy: { keepLast: 2 } });
      const deleted = plan?.delete.map((d) => d.id) ?? [];
      expect(deleted).toContain('alpha/ckpt-000000001');
      expect(deleted).not.toContain('alpha/ckpt-000000002');
      await expect.poll(() => preview.textContent()).toContain(`Would delete ${deleted.length} checkpoints`);
      const text = (await preview.textContent()) ?? '';
      for (const d of plan?.keep ?? []) expect(text).toContain(`${d.id} ${d.reasons.join('; ')}`);
      expect(text).toMatch(/alpha\/ckpt-000000002 .*pinned/);
      await world.screenshot('policy-preview');

      await dialog.getByRole('button', { name: `Select ${deleted.length} checkpoints to delete` }).click();
      await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
      const selected = list.locator('[aria-selected="true"]');
      await expect.poll(async () => (await selected.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).sort()).toEqual([...deleted].sort());
      await expect.poll(() => page.getByText(new RegExp(`^${deleted.length} selected · [\\d.]+ KB · deleting frees [\\d.]+ KB`)).count()).toBe(1);

      await page.getByRole('button', { name: 'Select all' }).click();
      await expect.poll(() => selected.count()).toBe(6);
      // The pinned checkpoint is selected but not deletable: the bar frees less than it selects.
      await expect.poll(() => page.getByText(/^6 selected · .*protected ones stay/).count()).toBe(1);
      expectNoProblems(world);
    },
  );
});
