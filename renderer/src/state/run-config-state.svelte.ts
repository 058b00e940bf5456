// Runs' configurations (runConfig: run.json's config, or a TensorBoard run's hparams), read when a
// row needs one (it is on screen, or the table sorts, filters or groups by configuration) and kept
// for the workspace. A few requests at a time, so a thousand rows do not flood the connection.
import type { StudioApi } from '../lib/contract';
import { type FlatConfig, flattenConfig } from '../lib/run-config';

const CONCURRENT = 6;

export interface RunConfigEntry {
  readonly config: FlatConfig | null;
  /** The run's parent as run.json names it (a TensorBoard run has none). */
  readonly parent: { readonly run: string; readonly step: number } | null;
}

export class RunConfigState {
  /** By run; replaced whole on each answer (a batch of answers is one replacement). */
  configs = $state.raw<ReadonlyMap<string, RunConfigEntry>>(new Map());

  private readonly requested = new Set<string>();
  private readonly queue: string[] = [];
  private running = 0;
  private pending = new Map<string, RunConfigEntry>();
  private flushScheduled = false;
  private generation = 0;

  constructor(private readonly api: Pick<StudioApi, 'runConfig'>) {}

  get(run: string): RunConfigEntry | undefined {
    return this.configs.get(run);
  }

  /** Asks for these runs' configurations, once each. */
  ensure(runs: Iterable<string>): void {
    for (const run of runs) {
      if (this.requested.has(run)) continue;
      this.requested.add(run);
      this.queue.push(run);
    }
    this.pump();
  }

  /** Another workspace (or the same one read again): everything is asked anew. */
  forget(): void {
    this.generation += 1;
    this.requested.clear();
    this.queue.length = 0;
    this.pending = new Map();
    this.configs = new Map();
  }

  private pump(): void {
    while (this.running < CONCURRENT && this.queue.length > 0) {
      const run = this.queue.shift() as string;
      this.running += 1;
      const generation = this.generation;
      void this.read(run).then((entry) => {
        this.running -= 1;
        if (generation === this.generation) this.keep(run, entry);
        this.pump();
      });
    }
  }

  private async read(run: string): Promise<RunConfigEntry> {
    try {
      const meta = await this.api.runConfig({ run });
      return { config: flattenConfig(meta.config), parent: meta.parent };
    } catch {
      // No run.json (a run another program wrote, or one just removed): no configuration to show.
      return { config: null, parent: null };
    }
  }

  private keep(run: string, entry: RunConfigEntry): void {
    this.pending.set(run, entry);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      const next = new Map(this.configs);
      for (const [name, value] of this.pending) next.set(name, value);
      this.pending = new Map();
      this.configs = next;
    });
  }
}
