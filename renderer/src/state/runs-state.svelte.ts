// The workspace's runs as the runs list, the Runs table and the charts see them: one entry per run
// (lineage order, state, size, the chosen metric's final and best), each run's colour, and the
// Runs table's rows (filtered, sorted) and groups (by a configuration key), which the charts read
// as data to draw each group's mean.
import { css, runColors } from '../lib/run-colors';
import { type RunEntry, runEntries } from '../lib/run-entries';
import { CONFIG_COLUMN, type RunGroup, type TableRow, groupRows, rowFilter, sortRows } from '../lib/run-table';
import type { CatalogState } from './catalog-state.svelte';
import type { ChartViewState } from './chart-view-state.svelte';
import type { LiveState } from './live-state.svelte';
import { colorScheme } from './color-scheme.svelte';
import type { RunConfigState } from './run-config-state.svelte';
import type { TrainingState } from './training-state.svelte';
import type { WorkspaceViewState } from './workspace-view-state.svelte';

export interface RunsStateDeps {
  readonly catalog: CatalogState;
  readonly training: TrainingState;
  readonly configs: RunConfigState;
  readonly views: WorkspaceViewState;
  readonly chartView: ChartViewState;
  readonly live?: LiveState;
}

export class RunsState {
  // Declared before the derived fields that read it (they are evaluated lazily, after the constructor).
  private readonly deps!: RunsStateDeps;

  readonly entries: RunEntry[] = $derived(
    runEntries({
      lanes: this.deps.catalog.lanes,
      marks: this.deps.catalog.marks,
      metric: this.deps.catalog.bestMetric,
      training: this.deps.training.status,
      ...(this.deps.live ? { writing: this.deps.live.writing } : {}),
      byId: this.deps.catalog.byId,
    }),
  );
  readonly byName = $derived(new Map(this.entries.map((e) => [e.name, e])));
  /** In the order runs were made, as the charts colour them (the same run keeps its colour whatever the list's order). */
  readonly colors: ReadonlyMap<string, string> = $derived.by(() => {
    const colors = runColors(
      this.deps.catalog.lanes.map((l) => ({ name: l.run, parent: l.info?.parent ?? null })),
      colorScheme.dark,
    );
    return new Map([...colors].map(([run, color]) => [run, css(color)]));
  });

  /** Whether the table needs every run's configuration (to sort, filter or group by it), not only the rows on screen. */
  readonly needsAllConfigs = $derived.by(() => {
    const table = this.deps.views.table;
    return table.groupBy !== null || (table.sort?.column.startsWith(CONFIG_COLUMN) ?? false) || /[=:]/.test(table.filter);
  });

  readonly filter = $derived(rowFilter(this.deps.views.table.filter));

  /** The table's rows: archived runs left out unless shown, then filtered and sorted. */
  readonly tableRows: TableRow[] = $derived.by(() => {
    const { archived, view } = this.deps.chartView;
    const configs = this.deps.configs.configs;
    const rows: TableRow[] = [];
    for (const entry of this.entries) {
      if (archived.has(entry.name) && !view.showArchived) continue;
      const row = { entry, config: configs.get(entry.name)?.config ?? null };
      if (this.filter.test(row)) rows.push(row);
    }
    return sortRows(rows, this.deps.views.table.sort);
  });

  /** The table's runs grouped by the chosen configuration key; null when not grouped. */
  readonly groups: RunGroup[] | null = $derived(this.deps.views.table.groupBy === null ? null : groupRows(this.tableRows, this.deps.views.table.groupBy));

  constructor(deps: RunsStateDeps) {
    this.deps = deps;
  }
}
