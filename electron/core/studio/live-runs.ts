// Our runs as their logs grow, whoever writes them: the records a run's metrics.jsonl gained go
// out as `metrics:appended` (but for the run the app's own trainer reports as events: its points
// must not arrive twice), and each run's progress, read from those records and run.json's plan,
// as `run:progress`.
import type { MetricRecord, RunProgress, StudioEventName, StudioEventPayload } from '../../contract.js';
import { readRunMeta } from '../checkpoint/run-files.js';
import { planOf, readLogTail, RunProgressTracker } from './run-progress.js';

type Emit = <E extends StudioEventName>(event: E, payload: StudioEventPayload<E>) => void;

export class LiveRuns {
  private readonly tracker = new RunProgressTracker();
  /** Runs whose plan (run.json) was asked for: each is read once per workspace. */
  private readonly planned = new Map<string, Promise<void>>();
  /** The run the app's trainer reports on by events; its log's records are not sent again. */
  private reportedByTrainer: string | null = null;

  constructor(
    private readonly emit: Emit,
    private readonly runDir: (run: string) => string,
  ) {}

  /** The app's trainer is about to write `run` (null: none). */
  trainerWrites(run: string | null): void {
    this.reportedByTrainer = run;
  }

  /** What the watcher read from a run's log: its new records, in order. */
  readonly appended = (run: string, records: readonly MetricRecord[]): void => {
    if (run !== this.reportedByTrainer) this.emit('metrics:appended', { run, records: [...records] });
    const progress = this.tracker.add(run, records);
    if (this.planned.has(run)) {
      if (progress) this.emit('run:progress', progress);
      return;
    }
    // Sent once the plan is known (soon): a first report without ETA would only flicker.
    void this.plan(run).then(() => {
      const now = this.tracker.progress(run);
      if (now) this.emit('run:progress', now);
    });
  };

  /** A run's progress: what its log's appends said, or else its log's end read now. */
  async progress(run: string): Promise<RunProgress | null> {
    await this.plan(run);
    if (this.tracker.progress(run) === null) this.tracker.add(run, await readLogTail(this.runDir(run)));
    return this.tracker.progress(run);
  }

  private plan(run: string): Promise<void> {
    let planned = this.planned.get(run);
    if (!planned) {
      planned = Promise.resolve()
        .then(() => readRunMeta(this.runDir(run)))
        .catch(() => null)
        .then((meta) => this.tracker.setPlan(run, planOf(meta)));
      this.planned.set(run, planned);
    }
    return planned;
  }
}
