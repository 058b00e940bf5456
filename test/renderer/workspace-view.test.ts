// View state per workspace: each workspace's view is its own settings key, so a filter typed in
// one never applies in another; a workspace opened for the first time starts with every run shown
// (keeping how curves are drawn); the number of workspaces kept is bounded, the least recently
// used dropped first; and the page's tab and selection come back with their workspace.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_VIEW_STATE_BYTES } from '../../renderer/src/lib/contract';
import { MAX_WORKSPACE_VIEWS, WORKSPACE_VIEW_PREFIX, WorkspaceViewStore } from '../../renderer/src/lib/workspace-view-store';
import { ChartViewState } from '../../renderer/src/state/chart-view-state.svelte';
import { SelectionState } from '../../renderer/src/state/selection-state.svelte';
import { WorkspaceViewState } from '../../renderer/src/state/workspace-view-state.svelte';

type Api = ConstructorParameters<typeof WorkspaceViewStore>[0];

function settingsApi(initial: Record<string, unknown> = {}): { api: Api; view: () => Record<string, unknown>; writes: unknown[] } {
  let view: Record<string, unknown> = { ...initial };
  const writes: unknown[] = [];
  const api = {
    settings: async () => ({ recentWorkspaces: [], view, quietSeconds: 10 }),
    updateSettings: async (params?: { view?: Record<string, unknown> }) => {
      writes.push(params);
      const next = { ...view };
      for (const [key, value] of Object.entries(params?.view ?? {})) {
        if (value === null) delete next[key];
        else next[key] = value;
      }
      view = next;
      return { recentWorkspaces: [], view, quietSeconds: 10 };
    },
  } as unknown as Api;
  return { api, view: () => view, writes };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('view state per workspace', () => {
  it('says the view is restored only once its tab and Charts view are back (the charts read nothing before)', async () => {
    const key = `${WORKSPACE_VIEW_PREFIX}/ws/one`;
    const { api } = settingsApi({ [key]: { usedAt: 1, parts: { charts: { filter: '^run-0$' }, page: { tab: 'charts' } } } });
    const chartView = new ChartViewState();
    const views = new WorkspaceViewState(api, { chartView, selection: new SelectionState(), exists: () => true }, 10);
    const opening = views.open('/ws/one');
    expect(views.restored).toBe(false);
    await opening;
    expect(views.restored).toBe(true);
    expect(views.tab).toBe('charts');
    expect(chartView.view.filter).toBe('^run-0$');
    // Another workspace: not restored until its own view is back.
    const next = views.open('/ws/two');
    expect(views.restored).toBe(false);
    await next;
    expect(views.restored).toBe(true);
  });

  it("keeps each workspace's Charts view apart: a filter typed in one does not hide another's runs", async () => {
    const { api } = settingsApi();
    const chartView = new ChartViewState();
    const views = new WorkspaceViewState(api, { chartView, selection: new SelectionState(), exists: () => true }, 10);

    await views.open('/ws/one');
    chartView.setFilter('^big$');
    chartView.setSmoothing(0.9);
    chartView.setArchived('old', true);
    await vi.runAllTimersAsync();

    // Another workspace with no view yet: every run shown, the curves drawn as before.
    await views.open('/ws/two');
    expect(chartView.view).toMatchObject({ filter: '', hiddenRuns: [], archivedRuns: [], smoothing: 0.9 });
    chartView.setFilter('small');
    await vi.runAllTimersAsync();

    await views.open('/ws/one');
    expect(chartView.view).toMatchObject({ filter: '^big$', archivedRuns: ['old'] });
    await views.open('/ws/two');
    expect(chartView.view.filter).toBe('small');
  });

  it('brings back the tab, the selection still in the workspace, and the Runs table', async () => {
    const { api } = settingsApi();
    const chartView = new ChartViewState();
    const selection = new SelectionState();
    const present = new Set(['run/a', 'run/b']);
    const views = new WorkspaceViewState(api, { chartView, selection, exists: (id) => present.has(id) }, 10);

    await views.open('/ws/one');
    views.setTab('runs');
    views.setTable({ filter: 'lr=0.1', sort: { column: 'size', descending: true } });
    views.keepSelection(new Set(['run/a', 'run/b']), 'run/b');
    views.keepTimelineZoom([0.25, 0.5]);
    await vi.runAllTimersAsync();

    await views.open('/ws/two');
    expect(views.tab).toBe('checkpoints');
    expect(views.table.filter).toBe('');
    expect(selection.selected.size).toBe(0);
    expect(views.restoredZoom.zoom).toBeNull();

    present.delete('run/a');
    await views.open('/ws/one');
    expect(views.tab).toBe('runs');
    expect(views.table).toMatchObject({ filter: 'lr=0.1', sort: { column: 'size', descending: true } });
    expect([...selection.selected]).toEqual(['run/b']);
    expect(selection.active).toBe('run/b');
    expect(views.restoredZoom.zoom).toEqual([0.25, 0.5]);
  });

  it('seeds the first workspace from the view kept for all workspaces before, drawing settings only', async () => {
    const { api } = settingsApi({ charts: { smoothing: 0.3, logY: true, filter: '^big$', hiddenRuns: ['a'] } });
    const chartView = new ChartViewState();
    const views = new WorkspaceViewState(api, { chartView, selection: new SelectionState(), exists: () => true }, 10);
    await views.open('/ws/one');
    expect(chartView.view).toMatchObject({ smoothing: 0.3, logY: true, filter: '', hiddenRuns: [] });
  });

  it('keeps a bounded number of workspaces, dropping the least recently used', async () => {
    let now = 1;
    const { api, view } = settingsApi();
    const store = new WorkspaceViewStore(api, 10, () => now);
    const count = MAX_WORKSPACE_VIEWS + 4;
    for (let i = 0; i < count; i += 1) {
      now += 1;
      await store.open(`/ws/${i}`);
      store.part('charts').save({ filter: `f${i}` });
      await vi.runAllTimersAsync();
    }
    // The last write removes what is over the bound; opening once more drops the rest.
    await store.open('/ws/last');
    store.part('charts').save({ filter: 'last' });
    await vi.runAllTimersAsync();
    const kept = Object.keys(view()).filter((k) => k.startsWith(WORKSPACE_VIEW_PREFIX));
    expect(kept.length).toBeLessThanOrEqual(MAX_WORKSPACE_VIEWS);
    expect(kept).toContain(`${WORKSPACE_VIEW_PREFIX}/ws/last`);
    expect(kept).toContain(`${WORKSPACE_VIEW_PREFIX}/ws/${count - 1}`);
    expect(kept).not.toContain(`${WORKSPACE_VIEW_PREFIX}/ws/0`);
  });

  it('drops the largest parts of a view too large for one settings write, and keeps the rest', async () => {
    const { api, view } = settingsApi();
    const store = new WorkspaceViewStore(api, 10);
    await store.open('/ws/many');
    store.part('charts').save({ hiddenRuns: Array.from({ length: 10_000 }, (_, i) => `a-rather-long-run-name-${i}`) });
    store.part('page').save({ tab: 'runs' });
    await vi.runAllTimersAsync();
    const record = view()[`${WORKSPACE_VIEW_PREFIX}/ws/many`] as { parts: Record<string, unknown> };
    expect(JSON.stringify(record).length).toBeLessThanOrEqual(MAX_VIEW_STATE_BYTES);
    expect(record.parts).toEqual({ page: { tab: 'runs' } });
  });

  it('writes what was pending for a workspace before another one is opened', async () => {
    const { api, view } = settingsApi();
    const store = new WorkspaceViewStore(api, 10_000);
    await store.open('/ws/one');
    store.part('charts').save({ filter: 'typed' });
    await store.open('/ws/two');
    await vi.advanceTimersByTimeAsync(0);
    expect(view()[`${WORKSPACE_VIEW_PREFIX}/ws/one`]).toMatchObject({ parts: { charts: { filter: 'typed' } } });
  });
});
