// Runs as they are being written, by the app's trainer or any other process: when each last got
// new points here (for "updated N s ago"), its progress from its log (`run:progress`, or read
// once with runProgress for a run nobody is writing now), and the charts' pause. A pause keeps
// the histories the charts drew at that moment; the live ones keep growing underneath, so
// resuming shows everything that arrived meanwhile.
import type { RunProgress, SessionEvent, StudioApi } from '../lib/contract';
import { quietAfter, recordInterval, stallThreshold } from '../lib/stall';
import type { RunHistory } from './metrics-state.svelte';

/** What a run being written by another process is doing, as far as its log tells. */
export type WrittenState = 'running' | 'stalled' | 'finished' | 'stopped';

interface Arrivals {
  /** When its last points arrived here (epoch ms). */
  readonly at: number;
  readonly intervals: readonly number[];
}

export class LiveState {
  /** The last progress each run's log gave, by run. */
  progress = $state.raw<ReadonlyMap<string, RunProgress>>(new Map());
  private arrivals = $state.raw<ReadonlyMap<string, Arrivals>>(new Map());
  /** The histories as they were when paused; null while live. */
  frozen = $state.raw<ReadonlyMap<string, RunHistory> | null>(null);
  /** Records each run got since the pause, to say what resuming will add. */
  private held = $state.raw<ReadonlyMap<string, number>>(new Map());
  now = $state(Date.now());
  /**
   * Runs being written, whoever writes them: their log grew here within quietAfter() of its
   * intervals. Our lock names the writers that take it (RunInfo.writer); this names the rest,
   * which read "running" while in it and "finished" once they leave it. A run whose writer is
   * already at work when the page opens joins at its next growth.
   */
  writing = $state.raw<ReadonlySet<string>>(new Set());
  private readonly quietTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** The run the app's trainer writes (its points come as training events). */
  private trainerRun: string | null = null;
  private readonly asked = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly api: StudioApi,
    private readonly clock: () => number = Date.now,
  ) {}

  get paused(): boolean {
    return this.frozen !== null;
  }

  start(): void {
    this.unsubscribe.push(
      this.api.on('metrics:appended', ({ run, records }) => this.arrived(run, records.length)),
      this.api.on('run:progress', (progress) => this.setProgress(progress)),
      this.api.on('training:state', (status) => {
        if (status.run) this.trainerRun = status.run;
      }),
      this.api.on('training:event', (event) => this.onTrainerEvent(event)),
    );
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.endWriting();
  }

  tick(): void {
    this.now = this.clock();
  }

  /** Stops the charts taking new points: they keep `histories`, as they are now. */
  pause(histories: ReadonlyMap<string, RunHistory>): void {
    this.frozen = histories;
    this.held = new Map();
  }

  resume(): void {
    this.frozen = null;
    this.held = new Map();
  }

  /** Records `runs` got since the pause. */
  heldBack(runs: readonly string[]): number {
    let count = 0;
    for (const run of runs) count += this.held.get(run) ?? 0;
    return count;
  }

  /** What the charts draw for a run: the history kept at the pause, or the live one. */
  shown(run: string, live: RunHistory): RunHistory {
    return this.frozen?.get(run) ?? live;
  }

  /** When the newest points of any of `runs` arrived here; null when none arrived since the page opened. */
  updatedAt(runs: readonly string[]): number | null {
    let newest: number | null = null;
    for (const run of runs) {
      const at = this.arrivals.get(run)?.at;
      if (at !== undefined && (newest === null || at > newest)) newest = at;
    }
    return newest;
  }

  /** The run another process wrote most recently while this page watched, if any. */
  latestWritten(): string | null {
    let best: [string, number] | null = null;
    for (const [run, { at }] of this.arrivals) if (run !== this.trainerRun && (best === null || at > best[1])) best = [run, at];
    return best?.[0] ?? null;
  }

  /**
   * A run's state from its log: finished at its planned step; running while its points keep
   * coming at their usual pace; stalled once they stop for several times that (as the trainer's
   * badge); stopped when nothing arrived since the page opened.
   */
  writtenState(run: string): WrittenState | null {
    const progress = this.progress.get(run);
    if (!progress) return null;
    if (progress.plannedSteps !== null && progress.step >= progress.plannedSteps) return 'finished';
    const arrivals = this.arrivals.get(run);
    if (!arrivals) return 'stopped';
    return this.now - arrivals.at > stallThreshold(arrivals.intervals) ? 'stalled' : 'running';
  }

  /** Reads a run's progress from its log once, unless its events already told it. */
  async ensureProgress(run: string): Promise<void> {
    if (this.asked.has(run) || this.progress.has(run)) return;
    this.asked.add(run);
    try {
      const progress = await this.api.runProgress({ run });
      // An event may have come meanwhile: it is newer than what the read found.
      if (progress && !this.progress.has(run)) this.setProgress(progress);
    } catch {
      // A run that is gone or not ours has no strip; nothing else depends on it.
      this.asked.delete(run);
    }
  }

  /** Another workspace: what was known of this one's runs goes, and a pause with it. */
  forget(): void {
    this.progress = new Map();
    this.arrivals = new Map();
    this.asked.clear();
    this.frozen = null;
    this.held = new Map();
    this.endWriting();
  }

  private endWriting(): void {
    for (const timer of this.quietTimers.values()) clearTimeout(timer);
    this.quietTimers.clear();
    this.writing = new Set();
  }

  /** The run's log just grew: it is being written until it stays quiet for quietAfter() of its intervals. */
  private stillWriting(run: string, intervals: readonly number[]): void {
    clearTimeout(this.quietTimers.get(run));
    this.quietTimers.set(
      run,
      setTimeout(() => {
        this.quietTimers.delete(run);
        const next = new Set(this.writing);
        next.delete(run);
        this.writing = next;
      }, quietAfter(intervals)),
    );
    if (!this.writing.has(run)) this.writing = new Set(this.writing).add(run);
  }

  private onTrainerEvent(event: SessionEvent): void {
    if (event.type === 'started') this.trainerRun = event.run;
    else if (event.type === 'metric' && this.trainerRun !== null) this.arrived(this.trainerRun, 1);
  }

  private arrived(run: string, records: number): void {
    if (this.frozen !== null) this.held = new Map(this.held).set(run, (this.held.get(run) ?? 0) + records);
    const now = this.clock();
    this.now = now;
    const before = this.arrivals.get(run);
    const next = new Map(this.arrivals);
    const intervals = before ? recordInterval([...before.intervals], now - before.at) : [];
    next.set(run, { at: now, intervals });
    this.arrivals = next;
    // The app's trainer's run has its state from the trainer, finished the moment it ends.
    if (run !== this.trainerRun) this.stillWriting(run, intervals);
  }

  private setProgress(progress: RunProgress): void {
    const next = new Map(this.progress);
    next.set(progress.run, progress);
    this.progress = next;
  }
}
