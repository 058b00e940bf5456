// Everything the views share, made once per page from the host, and handed down by context.
import { createContext } from 'svelte';
import type { S3Connection } from '../lib/contract';
import type { Host } from '../lib/host';
import { settingsViewStore } from '../lib/view-store';
import { CatalogState } from './catalog-state.svelte';
import { LiveState } from './live-state.svelte';
import { ChartViewState } from './chart-view-state.svelte';
import { ConnectionState } from './connection-state.svelte';
import { FileChecks } from './file-checks';
import { MetricsState } from './metrics-state.svelte';
import { RunConfigState } from './run-config-state.svelte';
import { RunsState } from './runs-state.svelte';
import { SelectionState } from './selection-state.svelte';
import { TrainingState } from './training-state.svelte';
import { WorkspaceViewState } from './workspace-view-state.svelte';

export class AppState {
  readonly catalog: CatalogState;
  readonly training: TrainingState;
  readonly metrics: MetricsState;
  readonly live: LiveState;
  readonly fileChecks: FileChecks;
  readonly selection = new SelectionState();
  readonly chartView: ChartViewState;
  /** The tab, selection, zoom, Runs table and Charts view, kept per workspace. */
  readonly views: WorkspaceViewState;
  readonly runConfigs: RunConfigState;
  readonly runs: RunsState;
  readonly connection: ConnectionState;
  readonly hostKind: Host['kind'];
  /** The native folder dialog where the host has one (the desktop app). */
  readonly chooseFolder: Host['chooseFolder'];
  private readonly offReconnect: () => void;

  constructor(host: Host) {
    this.hostKind = host.kind;
    this.chooseFolder = host.chooseFolder;
    this.catalog = new CatalogState(host.api, {
      bestStore: settingsViewStore(host.api, 'best'),
      onWorkspaceChanged: () => this.leftWorkspace(),
      onWorkspace: (workspace) => void this.views.open(workspace),
    });
    this.training = new TrainingState(host.api);
    this.metrics = new MetricsState(host.api);
    this.live = new LiveState(host.api);
    this.fileChecks = new FileChecks(host.api);
    this.runConfigs = new RunConfigState(host.api);
    this.connection = new ConnectionState(host.connection);
    this.chartView = new ChartViewState();
    this.views = new WorkspaceViewState(host.api, { chartView: this.chartView, selection: this.selection, exists: (id) => this.catalog.byId.has(id) });
    this.runs = new RunsState({
      catalog: this.catalog,
      training: this.training,
      configs: this.runConfigs,
      views: this.views,
      chartView: this.chartView,
      live: this.live,
    });
    // Events sent while the connection was down are lost: read everything again.
    this.offReconnect = host.connection.onReconnect(() => {
      this.metrics.forget();
      this.live.forget();
      this.fileChecks.forget();
      void this.catalog.reload();
      void this.training.reload();
    });
  }

  /**
   * Opens another folder as the workspace (ours, or another program's read in place). The old one's
   * selection stays kept in its view; the new one's comes back with its view (views.open).
   */
  async openWorkspace(path: string, s3?: S3Connection): Promise<void> {
    await this.catalog.openWorkspace(path, s3);
  }

  /** What was shown of the previous workspace goes: its histories, its runs' progress, its ended training. */
  private leftWorkspace(): void {
    this.metrics.forget();
    this.runConfigs.forget();
    this.live.forget();
    this.fileChecks.forget();
    this.training.leaveWorkspace();
    if (!this.training.active) this.metrics.liveRun = null;
  }

  async start(): Promise<void> {
    this.metrics.start();
    this.live.start();
    await Promise.all([this.catalog.start(), this.training.start()]);
  }

  dispose(): void {
    this.offReconnect();
    this.catalog.dispose();
    this.training.dispose();
    this.metrics.dispose();
    this.live.dispose();
    this.fileChecks.dispose();
    this.connection.dispose();
  }
}

export const [getApp, setApp] = createContext<AppState>();
