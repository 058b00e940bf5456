// What the page keeps per workspace, and brings back when that workspace is opened again (after a
// restart, or after switching away and back): the tab, the selected checkpoints, the timeline's
// zoom, the Runs table's columns, sort, filter and grouping, and the Charts view (through
// ChartViewState, which it points at the workspace's part). Another workspace's filter never
// applies here: each is stored under its own key (WorkspaceViewStore).
import { z } from 'zod';
import type { StudioApi } from '../lib/contract';
import { DEFAULT_TABLE_VIEW, type RunTableView, parseTableView } from '../lib/run-table';
import { settingsViewStore } from '../lib/view-store';
import { WorkspaceViewStore } from '../lib/workspace-view-store';
import type { ChartViewState } from './chart-view-state.svelte';
import type { SelectionState } from './selection-state.svelte';

export const TABS = ['checkpoints', 'charts', 'runs', 'training', 'distributions'] as const;
export type Tab = (typeof TABS)[number];

const MAX_KEPT_SELECTION = 500;

const PageSchema = z.object({
  tab: z.enum(TABS).catch('checkpoints'),
  selected: z.array(z.string()).max(MAX_KEPT_SELECTION).catch([]),
  active: z.string().nullable().catch(null),
  timelineZoom: z
    .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
    .nullable()
    .catch(null),
});
type Page = z.infer<typeof PageSchema>;

const DEFAULT_PAGE: Page = { tab: 'checkpoints', selected: [], active: null, timelineZoom: null };

export interface WorkspaceViewDeps {
  readonly chartView: ChartViewState;
  readonly selection: SelectionState;
  /** Whether a checkpoint id is in the workspace now (a stored selection keeps only those). */
  readonly exists: (id: string) => boolean;
}

export class WorkspaceViewState {
  tab = $state<Tab>('checkpoints');
  table = $state.raw<RunTableView>(DEFAULT_TABLE_VIEW);
  /** The timeline's zoom as last restored (a new object on each opening): the timeline takes it when it changes. */
  restoredZoom = $state.raw<{ readonly zoom: readonly [number, number] | null }>({ zoom: null });
  workspace = $state<string | null>(null);
  /**
   * True once the open workspace's view (tab, Charts view) is back: the charts read no history
   * before, or they would read the runs of the default view (every run) before the kept filter
   * chose one.
   */
  restored = $state(false);

  private readonly store: WorkspaceViewStore;
  private page: Page = DEFAULT_PAGE;
  private opened = 0;
  /** False while a workspace's view is being read: what changes meanwhile is not written over it. */
  private ready = false;

  constructor(
    private readonly api: Pick<StudioApi, 'settings' | 'updateSettings'>,
    private readonly deps: WorkspaceViewDeps,
    delayMs = 300,
  ) {
    this.store = new WorkspaceViewStore(api, delayMs);
  }

  /** Brings back a workspace's view (or starts its own from the defaults). */
  async open(workspace: string): Promise<void> {
    if (workspace === this.workspace) return;
    this.ready = false;
    this.restored = false;
    this.workspace = workspace;
    // The old workspace's checkpoints are not in this one (its selection is kept in its own view).
    this.deps.selection.clear();
    const opened = this.store.open(workspace);
    // The view kept for all workspaces before (settings.view.charts) seeds the first one opened.
    const earlier = this.opened === 0 ? settingsViewStore(this.api, 'charts') : undefined;
    this.opened += 1;
    const charts = this.deps.chartView.switchTo(this.store.part('charts'), earlier);
    await opened;
    if (this.workspace !== workspace) return;
    const page = PageSchema.safeParse((await this.store.part('page').load()) ?? DEFAULT_PAGE);
    this.page = page.success ? page.data : DEFAULT_PAGE;
    this.table = parseTableView(await this.store.part('table').load());
    this.tab = this.page.tab;
    this.restoredZoom = { zoom: this.page.timelineZoom };
    const kept = this.page.selected.filter(this.deps.exists);
    const active = this.page.active !== null && this.deps.exists(this.page.active) ? this.page.active : (kept[0] ?? null);
    this.deps.selection.current = { selected: new Set(kept), anchor: active, active };
    await charts;
    if (this.workspace !== workspace) return;
    this.ready = true;
    this.restored = true;
  }

  setTab(tab: Tab): void {
    this.tab = tab;
    this.savePage({ tab });
  }

  setTable(change: Partial<RunTableView>): void {
    this.table = { ...this.table, ...change };
    if (this.ready) this.store.part('table').save(this.table);
  }

  /**
   * The selection as it is now (the page calls this on every change). A selection larger than
   * MAX_KEPT_SELECTION is kept as its active checkpoint alone: the workspace's whole view is one
   * settings write, limited to MAX_VIEW_STATE_BYTES.
   */
  keepSelection(selected: ReadonlySet<string>, active: string | null): void {
    const kept = selected.size <= MAX_KEPT_SELECTION ? [...selected] : active === null ? [] : [active];
    this.savePage({ selected: kept, active });
  }

  keepTimelineZoom(zoom: readonly [number, number]): void {
    const whole = zoom[0] <= 0 && zoom[1] >= 1;
    this.savePage({ timelineZoom: whole ? null : [zoom[0], zoom[1]] });
  }

  private savePage(change: Partial<Page>): void {
    this.page = { ...this.page, ...change };
    if (this.ready) this.store.part('page').save(this.page);
  }
}
