// The charts' list of runs at a thousand runs: its rows are made a frame's share at a time (all of
// them in one task held the page ~150 ms when the filter was cleared), all there a few frames later,
// and made again from the first share when the filter changes.
import { render, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../../renderer/src/lib/run-status';
import RunsList from '../../renderer/src/components/runs-list.svelte';

const rows = (count: number): RunRow[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `run-${i}`,
    kind: null,
    detail: null,
    color: '#336699',
    status: 'finished',
    visible: true,
    parent: null,
    depth: 0,
  }));

const props = (shown: RunRow[], filter = '') => ({
  rows: shown,
  weightsOnly: [],
  solo: null,
  workspace: null,
  filter,
  filterInvalid: false,
  onFilter: () => undefined,
  onVisible: () => undefined,
  onAll: () => undefined,
  onEndSolo: () => undefined,
  onSolo: () => undefined,
  archivedHidden: 0,
  onShowArchived: () => undefined,
});

describe('the runs list at a thousand runs', () => {
  it('makes its rows a share per frame, all of them soon, and starts over when the filter changes', async () => {
    const { container, rerender } = render(RunsList, props(rows(1000)));
    const made = (): number => container.querySelectorAll('li[data-run]').length;
    expect(made()).toBe(150);
    expect(container.textContent).toContain('1000 runs');
    await waitFor(() => expect(made()).toBe(1000), { timeout: 10_000 });
    await rerender(props(rows(1), 'run-1$'));
    expect(made()).toBe(1);
    await rerender(props(rows(1000), ''));
    expect(made()).toBe(150);
    await waitFor(() => expect(made()).toBe(1000), { timeout: 10_000 });
  });

  it('makes a short list whole at once', () => {
    const { container } = render(RunsList, props(rows(40)));
    expect(container.querySelectorAll('li[data-run]').length).toBe(40);
  });
});
