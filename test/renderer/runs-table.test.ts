// The Runs table's rows rendered: a thousand runs render only the rows in view (and the rows
// asked for their configuration are those alone), scrolling renders the next ones, a header sorts,
// and a row's checkbox, Solo and Archive say which run.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import RunsTable from '../../renderer/src/components/runs-table.svelte';
import type { TrainingStatus } from '../../renderer/src/lib/contract';
import { buildLanes } from '../../renderer/src/lib/lanes';
import { runEntries } from '../../renderer/src/lib/run-entries';
import { DEFAULT_TABLE_VIEW, type TableRow } from '../../renderer/src/lib/run-table';
import { user } from './component-fixtures';
import { checkpoint, run } from './fakes';

const COUNT = 1000;

function rows(): TableRow[] {
  const names = Array.from({ length: COUNT }, (_, i) => `run-${String(i).padStart(4, '0')}`);
  const lanes = buildLanes(
    names.map((name, i) => run(name, { createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString() })),
    names.map((name) => checkpoint(name, 1)),
  );
  return runEntries({ lanes, marks: {}, metric: 'loss', training: { state: 'idle' } as unknown as TrainingStatus }).map((entry) => ({ entry, config: null }));
}

function setup() {
  const props = {
    rows: rows(),
    columns: DEFAULT_TABLE_VIEW.columns,
    sort: null,
    metric: 'loss',
    workspace: '/ws',
    colors: new Map<string, string>(),
    drawn: (name: string) => name !== 'run-0001',
    archived: new Set<string>(),
    solo: null,
    selected: null,
    onSort: vi.fn(),
    onDrawn: vi.fn(),
    onSolo: vi.fn(),
    onArchive: vi.fn(),
    onSelect: vi.fn(),
    onWindow: vi.fn(),
  };
  render(RunsTable, props);
  return props;
}

const rendered = (): string[] => [...document.querySelectorAll('[role="row"][data-run]')].map((r) => r.getAttribute('data-run') ?? '');

describe('the Runs table', () => {
  it('renders only the rows in view of a thousand runs, and asks only their configurations', async () => {
    const props = setup();
    const table = screen.getByTestId('runs-table');
    expect(table.getAttribute('data-rows')).toBe(String(COUNT));
    expect(rendered().length).toBeGreaterThan(0);
    expect(rendered().length).toBeLessThan(60);
    expect(rendered()[0]).toBe('run-0000');
    const asked = props.onWindow.mock.lastCall?.[0] as string[];
    expect(asked).toEqual(rendered());

    const body = table.querySelector('.body') as HTMLElement;
    body.scrollTop = 34 * 500;
    await fireEvent.scroll(body);
    expect(rendered()).toContain('run-0500');
    expect(rendered()).not.toContain('run-0000');
    expect(rendered().length).toBeLessThan(60);
    expect(props.onWindow.mock.lastCall?.[0]).toContain('run-0500');
  });

  it('sorts from a header, and says which run a checkbox, Solo and Archive act on', async () => {
    const props = setup();
    const person = user();
    await person.click(within(screen.getByRole('columnheader', { name: /Checkpoints/ })).getByRole('button'));
    expect(props.onSort).toHaveBeenCalledWith('checkpoints');
    const hidden = screen.getByRole('checkbox', { name: 'Show run-0001 on the charts' });
    expect((hidden as HTMLInputElement).checked).toBe(false);
    await person.click(hidden);
    expect(props.onDrawn).toHaveBeenCalledWith('run-0001', true);
    await person.click(screen.getByRole('button', { name: 'Solo run-0002' }));
    expect(props.onSolo).toHaveBeenCalledWith('run-0002');
    await person.click(screen.getByRole('button', { name: 'Archive run-0003' }));
    expect(props.onArchive).toHaveBeenCalledWith('run-0003', true);
  });
});
