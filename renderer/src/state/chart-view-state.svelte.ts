// The Charts screen's view as shared state: read from the view store (the open workspace's),
// written back on every change, and read by every card (the dashboard's curves too).
import { CARD_WIDTHS, type ChartView, DEFAULT_VIEW, MAX_SMOOTHING, parseView } from '../lib/chart-view';
import type { XAxisMode } from '../lib/chart-data';
import type { TooltipSort } from '../lib/card-tooltip';
import type { SmoothingMode } from '../lib/smoothing';
import { NO_VIEW_STORE, type ViewStore } from '../lib/view-store';

/** What stays when another workspace, with no view of its own yet, is opened: how curves are drawn, not which runs. */
const RUN_CHOICES = { filter: '', hiddenRuns: [], solo: null, archivedRuns: [], showArchived: false } as const satisfies Partial<ChartView>;

export class ChartViewState {
  view = $state.raw<ChartView>(DEFAULT_VIEW);

  readonly hidden = $derived(new Set(this.view.hiddenRuns));
  readonly archived = $derived(new Set(this.view.archivedRuns));

  /** Set once the user changed something: a stored view arriving late does not undo it. */
  private changed = false;

  constructor(private store: ViewStore = NO_VIEW_STORE) {}

  /** Takes the stored view, unless the user has already changed this one. */
  async restore(): Promise<void> {
    const store = this.store;
    const stored = await store.load();
    if (!this.changed && store === this.store) this.view = stored === null ? this.view : parseView(stored);
  }

  /**
   * Another workspace's view: its own when it has one, else this one's drawing settings with every
   * run shown. `earlier` is where a view was kept before views were per workspace (one for all):
   * its drawing settings, never its choice of runs, seed a workspace that has none yet.
   */
  async switchTo(store: ViewStore, earlier: ViewStore = NO_VIEW_STORE): Promise<void> {
    this.store = store;
    this.changed = false;
    this.view = { ...this.view, ...RUN_CHOICES };
    const stored = await store.load();
    if (this.changed || store !== this.store) return;
    if (stored !== null) {
      this.view = parseView(stored);
      return;
    }
    const seed = await earlier.load();
    if (seed !== null && !this.changed && store === this.store) this.view = { ...parseView(seed), ...RUN_CHOICES };
  }

  private set(change: Partial<ChartView>): void {
    this.changed = true;
    this.view = { ...this.view, ...change };
    this.store.save(this.view);
  }

  setSmoothing(value: number): void {
    this.set({ smoothing: Math.min(MAX_SMOOTHING, Math.max(0, Number.isFinite(value) ? value : 0)) });
  }

  setSmoothingMode(mode: SmoothingMode): void {
    this.set({ smoothingMode: mode });
  }

  setXAxis(mode: XAxisMode): void {
    this.set({ xAxis: mode });
  }

  setLogY(on: boolean): void {
    this.set({ logY: on });
  }

  setIgnoreOutliers(on: boolean): void {
    this.set({ ignoreOutliers: on });
  }

  setFilter(filter: string): void {
    this.set({ filter });
  }

  setVisible(run: string, visible: boolean): void {
    const hidden = new Set(this.view.hiddenRuns);
    if (visible) hidden.delete(run);
    else hidden.add(run);
    this.set({ hiddenRuns: [...hidden], solo: this.view.solo === run && !visible ? null : this.view.solo });
  }

  /** Shows or hides every run of the list at once (and ends a solo). */
  setAllVisible(runs: readonly string[], visible: boolean): void {
    const hidden = new Set(this.view.hiddenRuns);
    for (const run of runs) {
      if (visible) hidden.delete(run);
      else hidden.add(run);
    }
    this.set({ hiddenRuns: [...hidden], solo: null });
  }

  /** Only this run on the charts (null: back to the ticked ones). */
  setSolo(run: string | null): void {
    this.set({ solo: run });
  }

  setArchived(run: string, archived: boolean): void {
    const runs = new Set(this.view.archivedRuns);
    if (archived) runs.add(run);
    else runs.delete(run);
    this.set({ archivedRuns: [...runs], solo: archived && this.view.solo === run ? null : this.view.solo });
  }

  setShowArchived(on: boolean): void {
    this.set({ showArchived: on });
  }

  /** Whether a run is drawn: not archived (unless archived ones are shown), and soloed or ticked. */
  drawn(run: string): boolean {
    if (this.archived.has(run) && !this.view.showArchived) return false;
    return this.view.solo !== null ? this.view.solo === run : !this.hidden.has(run);
  }

  // Card tools (issue 17).

  /** Pins a card (it goes last among the pinned) or unpins it. */
  setPinned(metric: string, pinned: boolean): void {
    const rest = this.view.pinned.filter((m) => m !== metric);
    this.set({ pinned: pinned ? [...rest, metric] : rest });
  }

  setExpanded(metric: string, expanded: boolean): void {
    const rest = this.view.expanded.filter((m) => m !== metric);
    this.set({ expanded: expanded ? [...rest, metric] : rest });
  }

  /** A card's own log scale; the same as the view's drops the card's setting. */
  setCardLogY(metric: string, on: boolean): void {
    const { [metric]: _old, ...rest } = this.view.cardLogY;
    this.set({ cardLogY: on === this.view.logY ? rest : { ...rest, [metric]: on } });
  }

  /** The log scale a card is drawn with. */
  logYOf(metric: string): boolean {
    return this.view.cardLogY[metric] ?? this.view.logY;
  }

  setCardWidth(rem: number): void {
    this.set({ cardWidth: Math.min(CARD_WIDTHS.max, Math.max(CARD_WIDTHS.min, Number.isFinite(rem) ? rem : CARD_WIDTHS.default)) });
  }

  setTagFilter(filter: string): void {
    this.set({ tagFilter: filter });
  }

  setTooltipSort(sort: TooltipSort): void {
    this.set({ tooltipSort: sort });
  }

  setRawBand(on: boolean): void {
    this.set({ rawBand: on });
  }
}
