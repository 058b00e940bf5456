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
  /**
   * Per run, its reports in order: the first time a run is seen, its plan (run.json) and its
   * log's end are read (what happened before the app looked: the last save, the speed), and
   * what is appended meanwhile is added after.
   */
  private readonly queues = new Map<string, Promise<void>>();
  /** The run the app's trainer reports on by events; its log's records are not sent again. */
  private reportedByTrainer: string | null = null;
  /** Its workspace was closed: a report still being read belongs to no open workspace. */
  private closed = false;

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
    const queue = this.queues.get(run);
    // A run seen for the first time: its log's end, read now, already holds these records.
    const next = queue ? queue.then(() => this.tracker.add(run, records)) : this.learn(run).then(() => this.tracker.progress(run));
    this.queues.set(
      run,
      next.then((progress) => {
        if (progress && !this.closed) this.emit('run:progress', progress);
      }),
    );
  };

  close(): void {
    this.closed = true;
  }

  /** A run's progress: what its log's end and later appends said. */
  async progress(run: string): Promise<RunProgress | null> {
    let queue = this.queues.get(run);
    if (!queue) {
      queue = this.learn(run);
      this.queues.set(run, queue);
    }
    await queue;
    return this.tracker.progress(run);
  }

  /** Reads a run's plan and its log's end; neither missing nor unreadable stops its later reports. */
  private async learn(run: string): Promise<void> {
    const meta = await readRunMeta(this.runDir(run)).catch(() => null);
    this.tracker.setPlan(run, planOf(meta));
    this.tracker.add(run, await readLogTail(this.runDir(run)).catch(() => []));
  }
}
