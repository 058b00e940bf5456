// The Distributions tab on the whole page, its StudioApi a fake: the run's tensors listed with the
// ones that cannot have a distribution disabled, the filter, the computation's progress as a share,
// Cancel while it computes, then the figures' readout with the checkpoints that failed (file and
// tensor named) and the notes.
import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import App from '../../renderer/src/app.svelte';
import type { CatalogSnapshot, TensorDistributions } from '../../renderer/src/lib/contract';
import { fakeHost, user } from './component-fixtures';
import { FakeStudio, checkpoint, run } from './fakes';
import { servePage } from './in-place-fixtures';

const snapshot = (): CatalogSnapshot => ({
  workspace: '/ws',
  runs: [run('alpha', { checkpointCount: 2 })],
  checkpoints: [checkpoint('alpha', 100), checkpoint('alpha', 200)],
  skipped: [],
});

const FIGURES: TensorDistributions = {
  run: 'alpha',
  tensor: 'dense/kernel',
  quantileLevels: [0, 0.5, 1],
  range: { lo: 0, hi: 1, bins: 2 },
  points: [
    {
      id: 'alpha/ckpt-000000100',
      step: 100,
      count: 4,
      finite: 4,
      nan: 0,
      inf: 0,
      min: 0,
      max: 1,
      mean: 0.5,
      std: 0.5,
      quantiles: [0, 0.5, 1],
      quantileMethod: 'exact',
      quantileError: 0,
      histogram: [2, 2],
      cached: false,
    },
  ],
  missing: [],
  problems: [{ id: 'alpha/ckpt-000000200', message: '/ws/alpha/ckpt-000000200/model.safetensors: tensor "dense/kernel": CRC32C mismatch' }],
  bytesRead: 16,
  cache: 'none',
  notes: ['the figures are not cached (the workspace was opened read-only); they are read from the files each time'],
};

describe('the Distributions tab', () => {
  it('lists the tensors, filters them, shows progress, then the figures with what failed', async () => {
    const fake = new FakeStudio();
    servePage(fake, snapshot);
    let answer: (value: TensorDistributions) => void = () => undefined;
    fake
      .handle('tensorNames', () => ({
        run: 'alpha',
        tensors: [
          { name: 'dense/kernel', dtype: 'F32', shape: [2, 2], role: 'model', checkpoints: 2, numeric: true },
          { name: 'optimizer/dense/kernel/m', dtype: 'F32', shape: [2, 2], role: 'optimizer', checkpoints: 2, numeric: true },
          { name: 'vocab', dtype: 'STRING', shape: [3], role: 'other', checkpoints: 2, numeric: false },
        ],
        problems: [],
      }))
      .handle('tensorDistributions', () => new Promise((resolve) => (answer = resolve)))
      .handle('cancelDistributions', () => ({ cancelled: true }));
    render(App, { host: fakeHost(fake) });
    const person = user();
    // Nothing is read from the files until the tab is opened.
    expect(fake.callsOf('tensorNames')).toEqual([]);
    await person.click(screen.getByRole('tab', { name: 'Distributions' }));

    const tensors = await screen.findByRole('listbox', { name: 'Tensors' });
    await within(tensors).findByRole('option', { name: /^dense\/kernel/ });
    expect(within(tensors).getByRole('option', { name: /^vocab/ })).toHaveAttribute('aria-disabled', 'true');
    await person.type(screen.getByRole('searchbox', { name: 'Filter tensors' }), 'optim');
    expect(
      within(tensors)
        .getAllByRole('option')
        .map((o) => o.textContent?.trim().split(/\s/)[0]),
    ).toEqual(['optimizer/dense/kernel/m']);
    // Down from the filter goes into the list.
    await person.keyboard('{ArrowDown}');
    expect(within(tensors).getByRole('option', { name: /^optimizer\/dense\/kernel\/m/ })).toHaveFocus();
    await person.clear(screen.getByRole('searchbox', { name: 'Filter tensors' }));

    await person.click(within(tensors).getByRole('option', { name: /^vocab/ }));
    expect(fake.callsOf('tensorDistributions')).toEqual([]);
    await person.click(within(tensors).getByRole('option', { name: /^dense\/kernel/ }));
    expect(fake.callsOf('tensorDistributions')).toEqual([{ run: 'alpha', tensor: 'dense/kernel', bins: 30, distributionsId: expect.any(String) }]);
    fake.emit('distributions:progress', { run: 'alpha', tensor: 'dense/kernel', done: 1, total: 4 });
    const charts = within(screen.getByRole('region', { name: 'Distributions' }));
    expect((await charts.findByRole('status')).textContent).toContain('Reading the checkpoints… 25%');

    // Cancel while it computes: the core is told, by the request's id; reading again asks anew.
    await person.click(charts.getByRole('button', { name: 'Cancel' }));
    const [asked] = fake.callsOf('tensorDistributions') as { distributionsId: string }[];
    expect(fake.callsOf('cancelDistributions')).toEqual([{ distributionsId: asked?.distributionsId }]);
    expect((await screen.findByTestId('distributions-cancelled')).textContent).toContain('Cancelled.');
    await person.click(charts.getByRole('button', { name: 'Read again' }));
    expect(fake.callsOf('tensorDistributions')).toHaveLength(2);
    expect((await charts.findByRole('status')).textContent).toContain('Reading the checkpoints…');

    answer(FIGURES);
    const readout = await screen.findByTestId('distribution-readout');
    expect(readout.textContent).toContain('1 checkpoint');
    expect(charts.queryByRole('status')).toBeNull();
    expect(screen.getByText(/CRC32C mismatch/).textContent).toContain('model.safetensors: tensor "dense/kernel"');
    expect(screen.getByText(/opened read-only/)).toBeInTheDocument();
    expect(screen.getByRole('slider', { name: 'Quantile bands of dense/kernel over steps' })).toBeInTheDocument();
  });
});
