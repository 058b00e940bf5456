// Compare in browser mode: two checkpoints selected in the list, the Compare button, the table
// of every tensor (largest relative change first), sorting by a column and back, the tensor that
// stopped moving called out, NaN and Inf highlighted, and Close.
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { f32, trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();

/** Three model tensors: one that triples, one frozen, one whose finite values stay but B's holds NaN and Inf; the step counter doubles. */
async function writePair(store: CheckpointStore): Promise<void> {
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  const model = (step: number) => [
    { name: 'dense/kernel', dtype: 'F32' as const, shape: [2, 3], data: f32([1, 2, 3, 4, 5, 6].map((v) => (step === 1 ? v : 3 * v))) },
    { name: 'frozen/kernel', dtype: 'F32' as const, shape: [4], data: f32([0.5, -0.5, 1, 2]) },
    {
      name: 'head/bias',
      dtype: 'F32' as const,
      shape: [3],
      data: f32(step === 1 ? [10, 10, 10] : [10, Number.NaN, Number.POSITIVE_INFINITY]),
    },
  ];
  const optimizer = (step: number) => [{ name: 'adam/iterations', dtype: 'F32' as const, shape: [], data: f32([step]) }];
  for (const step of [1, 2]) await writer.save(trainingState(step, { model: model(step), optimizer: optimizer(step) }));
  await writer.close();
}

describe('compare two checkpoints', () => {
  it('opens from two selected checkpoints, sorts by each column, and calls out stopped and non-finite tensors', { timeout: 60_000 }, async () => {
    const world = await open(writePair);
    const { page } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getByRole('option').count()).toBe(2);
    const compareButton = page.getByRole('button', { name: 'Compare', exact: true });

    await list.getByRole('option', { name: /^alpha step 1,/ }).click();
    expect(await compareButton.count()).toBe(0);
    await list.getByRole('option', { name: /^alpha step 2,/ }).click({ modifiers: ['ControlOrMeta'] });
    await compareButton.click();

    const dialog = page.getByRole('dialog', { name: 'Compare checkpoints' });
    const table = dialog.getByRole('table', { name: 'Tensors compared' });
    // Under test the worker thread compiles its TypeScript first: give it time on a busy machine.
    await expect.poll(() => table.count(), { timeout: 20_000 }).toBe(1);
    const names = () => table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-tensor')));
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('alpha/ckpt-000000001 · step 1');
    expect(text).toContain('alpha/ckpt-000000002 · step 2');
    // dense/kernel tripled (relative change 2), the counter doubled (1); head/bias compared on its one finite pair (0); frozen: 0.
    const order = await names();
    expect(order.slice(0, 2)).toEqual(['dense/kernel', 'adam/iterations']);
    expect(order.slice(-2)).toEqual(['frozen/kernel', 'head/bias']);
    expect(text).toMatch(/2 stopped moving/);
    expect(text).toMatch(/1 tensor with NaN or Inf/);

    const row = (name: string) => table.locator(`tr[data-tensor="${name}"]`);
    expect(await row('frozen/kernel').getByText('stopped').count()).toBe(1);
    expect(await row('dense/kernel').getByText('stopped').count()).toBe(0);
    const nanCell = row('head/bias').locator('td.bad-cell');
    expect(await nanCell.allTextContents()).toEqual(['1', '1']);
    await world.screenshot('compare-by-relchange');

    const header = (label: string) => table.getByRole('columnheader', { name: label });
    await header('L2 A').getByRole('button').click();
    expect(await header('L2 A').getAttribute('aria-sort')).toBe('descending');
    expect(await header('Rel. change').getAttribute('aria-sort')).toBe('none');
    // L2 A (over finite pairs): head 10, dense 9.539, frozen 2.345, the counter 1.
    expect(await names()).toEqual(['head/bias', 'dense/kernel', 'frozen/kernel', 'adam/iterations']);
    await header('L2 A').getByRole('button').click();
    expect(await header('L2 A').getAttribute('aria-sort')).toBe('ascending');
    expect(await names()).toEqual(['adam/iterations', 'frozen/kernel', 'dense/kernel', 'head/bias']);
    await header('Tensor').getByRole('button').click();
    expect(await names()).toEqual(['adam/iterations', 'dense/kernel', 'frozen/kernel', 'head/bias']);
    await world.screenshot('compare-by-name');

    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expectNoProblems(world);
  });
});
