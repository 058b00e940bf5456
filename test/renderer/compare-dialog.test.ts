// The Compare dialog as a person uses it: progress while the core compares, Cancel and Escape
// that cancel the comparison in the Studio, then the table sorted by relative change with the
// stopped tensor called out and NaN/Inf counts highlighted, a header click that sorts by it, the
// tensors only on one side, a large model's first rows then all, and a failure shown as its message.
import { render, screen, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { CompareResult, TensorComparison } from '../../renderer/src/lib/contract';
import CompareDialog from '../../renderer/src/components/compare-dialog.svelte';
import { CompareState } from '../../renderer/src/state/compare-state.svelte';
import { user } from './component-fixtures';
import { FakeStudio } from './fakes';

function row(name: string, figures: Partial<TensorComparison>): TensorComparison {
  return {
    name,
    nameB: name,
    dtype: 'F32',
    dtypeB: 'F32',
    shape: [2, 2],
    elements: 4,
    finite: 4,
    l2A: 1,
    l2B: 1,
    l2Diff: 0,
    relChange: 0,
    maxAbsDiff: 0,
    cosine: 1,
    nanA: 0,
    nanB: 0,
    infA: 0,
    infB: 0,
    nanCount: 0,
    infCount: 0,
    stoppedMoving: false,
    ...figures,
  };
}

const RESULT: CompareResult = {
  a: { target: 'run/ckpt-000000001', label: 'run/ckpt-000000001', path: '/ws/run/ckpt-000000001', format: 'checkpoint-studio', step: 1 },
  b: { target: 'run/ckpt-000000002', label: 'run/ckpt-000000002', path: '/ws/run/ckpt-000000002', format: 'checkpoint-studio', step: 2 },
  stoppedMovingBelow: 1e-6,
  tensors: [
    row('frozen', { l2A: 3, l2B: 3, stoppedMoving: true }),
    row('moved', { l2A: 2, l2B: 4, l2Diff: 2, relChange: 1, maxAbsDiff: 1.5 }),
    row('odd', { l2A: 1, relChange: 0.25, l2Diff: 0.25, nanB: 2, nanCount: 2, infA: 1, infCount: 1 }),
  ],
  notCompared: [{ name: 'emb', nameB: 'emb', dtype: 'F32', dtypeB: 'F32', shape: [10, 4], shapeB: [12, 4], reason: 'shape [10, 4] in A, [12, 4] in B' }],
  onlyInA: [{ name: 'old/head', dtype: 'F32', shape: [3] }],
  onlyInB: [],
  stoppedMoving: ['frozen'],
  notes: [],
};

function setup() {
  const fake = new FakeStudio();
  let answer: (result: CompareResult) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  fake.handle('compareCheckpoints', () => new Promise<CompareResult>((resolve, reject) => ((answer = resolve), (fail = reject))));
  fake.handle('cancelCompare', () => ({ cancelled: true }));
  const compare = new CompareState(fake.api);
  const done = compare.open({ a: 'run/ckpt-000000001', b: 'run/ckpt-000000002' });
  let closed = 0;
  render(CompareDialog, {
    compare,
    onClose: () => {
      closed++;
      compare.close();
    },
  });
  const dialog = screen.getByRole('dialog', { name: 'Compare checkpoints' });
  return { fake, compare, done, dialog, answer: (r: CompareResult) => answer(r), fail: (e: Error) => fail(e), closed: () => closed };
}

const rowNames = (dialog: HTMLElement): string[] =>
  within(dialog)
    .getAllByRole('row')
    .slice(1)
    .map((r) => r.getAttribute('data-tensor') ?? '');

describe('the Compare dialog', () => {
  it('shows progress, and Escape cancels the comparison in the Studio', async () => {
    const { fake, dialog, closed } = setup();
    const status = within(dialog).getByRole('status', { name: 'Comparison' });
    expect(status).toHaveTextContent('Reading the checkpoints…');
    const compareId = (fake.callsOf('compareCheckpoints')[0] as { compareId: string }).compareId;
    fake.emit('compare:progress', { compareId, done: 2, total: 5, tensor: 'dense/kernel' });
    flushSync();
    expect(status).toHaveTextContent('Compared 2 of 5 tensors dense/kernel');
    await user().keyboard('{Escape}');
    expect(closed()).toBe(1);
    expect(fake.callsOf('cancelCompare')).toEqual([{ compareId }]);
  });

  it('Cancel beside the progress cancels it too', async () => {
    const { fake, dialog } = setup();
    await user().click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(fake.callsOf('cancelCompare')).toHaveLength(1);
  });

  it('shows the table by relative change, calls out what stopped and what holds NaN or Inf, and sorts by a clicked column', async () => {
    const { dialog, answer, done } = setup();
    answer(RESULT);
    await done;
    flushSync();
    expect(within(dialog).queryByRole('status')).toBeNull();
    expect(dialog).toHaveTextContent('run/ckpt-000000001 · step 1');
    expect(dialog).toHaveTextContent('3 tensors compared · 1 stopped moving (relative change below 1e-6) · 1 tensor with NaN or Inf');
    expect(rowNames(dialog)).toEqual(['moved', 'odd', 'frozen']);
    const table = within(dialog).getByRole('table', { name: 'Tensors compared' });
    const frozen = within(table).getAllByRole('row')[3] as HTMLElement;
    expect(frozen).toHaveTextContent('stopped');
    const odd = within(table).getAllByRole('row')[2] as HTMLElement;
    expect([...odd.querySelectorAll('td.bad-cell')].map((td) => td.textContent)).toEqual(['2', '1']);
    expect(within(table).getByRole('columnheader', { name: /Rel\. change/ })).toHaveAttribute('aria-sort', 'descending');

    await user().click(within(table).getByRole('button', { name: /L2 A/ }));
    expect(rowNames(dialog)).toEqual(['frozen', 'moved', 'odd']);
    expect(within(table).getByRole('columnheader', { name: /L2 A/ })).toHaveAttribute('aria-sort', 'descending');
    await user().click(within(table).getByRole('button', { name: /L2 A/ }));
    expect(rowNames(dialog)).toEqual(['odd', 'moved', 'frozen']);

    expect(dialog).toHaveTextContent('emb: shape [10, 4] in A, [12, 4] in B');
    expect(dialog).toHaveTextContent('Only in A');
    expect(dialog).not.toHaveTextContent('Only in B');
  });

  it('draws the first 200 rows of a large model, in the chosen order over all of them, and all on request', async () => {
    const { dialog, answer, done } = setup();
    const many = Array.from({ length: 250 }, (_, i) => row(`t${String(i).padStart(3, '0')}`, { relChange: i / 1000, l2A: 250 - i }));
    answer({ ...RESULT, tensors: many, notCompared: [], onlyInA: [], stoppedMoving: [] });
    await done;
    flushSync();
    expect(rowNames(dialog)).toHaveLength(200);
    expect(rowNames(dialog)[0]).toBe('t249');
    expect(dialog).toHaveTextContent('The first 200 of 250 tensors by this order.');
    await user().click(within(dialog).getByRole('button', { name: /L2 A/ }));
    expect(rowNames(dialog)[0]).toBe('t000');
    await user().click(within(dialog).getByRole('button', { name: 'Show all 250' }));
    expect(rowNames(dialog)).toHaveLength(250);
    expect(within(dialog).queryByRole('button', { name: /Show all/ })).toBeNull();
  });

  it('shows a failure as its message', async () => {
    const { dialog, fail, done } = setup();
    fail(new Error('/ws/b.safetensors: tensor "w": holds 12 bytes, but F32 [4] takes 16'));
    await done;
    flushSync();
    expect(within(dialog).getByRole('alert')).toHaveTextContent('/ws/b.safetensors: tensor "w": holds 12 bytes');
  });
});
