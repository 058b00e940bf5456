// The trainer as the dashboard shows it, from the training:* events: its state, the session's
// start (backend and why), the latest progress, the last checkpoint, and a crash if there was one.
// Time-dependent values (ages, the stalled badge) read `now`, which the view ticks once a second.
import type { ContinueTraining, SessionEvent, StartTraining, StudioApi, TrainerCrash, TrainingStarted, TrainingStatus } from '../lib/contract';
import { errorMessage } from '../lib/errors';
import { recordInterval, stallThreshold } from '../lib/stall';

type Started = Extract<SessionEvent, { type: 'started' }>;
type Progress = Extract<SessionEvent, { type: 'progress' }>;
type Finished = Extract<SessionEvent, { type: 'finished' }>;

export interface SavedCheckpoint {
  readonly id: string;
  readonly step: number;
  readonly reason: string;
  readonly bytes: number;
  /** When it arrived here (epoch ms). */
  readonly at: number;
}

export type TrainingAction = 'start' | 'continue' | 'pause' | 'resume' | 'save' | 'stop' | 'kill';

const ACTIVE = new Set<TrainingStatus['state']>(['starting', 'running', 'paused', 'stopping']);
const LOG_LINES = 50;

export class TrainingState {
  status = $state.raw<TrainingStatus>({ state: 'idle', run: null, lastExit: null });
  started = $state.raw<Started | null>(null);
  progress = $state.raw<Progress | null>(null);
  lastCheckpoint = $state.raw<SavedCheckpoint | null>(null);
  finished = $state.raw<Finished | null>(null);
  crash = $state.raw<TrainerCrash | null>(null);
  /** The trainer's errors and warnings, and its console lines, newest last. */
  messages = $state.raw<{ level: 'error' | 'warn' | 'info'; text: string }[]>([]);
  /** What the last start or continue answered: a continued run's notes. */
  launched = $state.raw<TrainingStarted | null>(null);
  pendingAction = $state<TrainingAction | null>(null);
  actionError = $state<string | null>(null);
  now = $state(Date.now());
  lastProgressAt = $state<number | null>(null);
  /** Another workspace was opened since this session began: its run is not among the ones shown. */
  elsewhere = $state(false);
  private intervals = $state.raw<number[]>([]);

  readonly active = $derived(ACTIVE.has(this.status.state));
  readonly stalled = $derived(
    this.status.state === 'running' && this.lastProgressAt !== null && this.now - this.lastProgressAt > stallThreshold(this.intervals),
  );
  readonly stalledForMs = $derived(this.stalled && this.lastProgressAt !== null ? this.now - this.lastProgressAt : null);
  readonly checkpointAgeMs = $derived(this.lastCheckpoint ? Math.max(0, this.now - this.lastCheckpoint.at) : null);

  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly api: StudioApi,
    private readonly clock: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.api.on('training:state', (status) => this.setStatus(status)),
      this.api.on('training:event', (event) => this.onEvent(event)),
      this.api.on('training:crashed', (crash) => {
        this.crash = crash;
      }),
      this.api.on('training:error', (error) => this.log(error.fatal ? 'error' : 'warn', error.message)),
      this.api.on('training:log', (line) => {
        if (line.level !== 'debug') this.log(line.level === 'error' ? 'error' : line.level === 'warn' ? 'warn' : 'info', line.text);
      }),
    );
    await this.reload();
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  async reload(): Promise<void> {
    try {
      this.setStatus(await this.api.trainingStatus());
    } catch (error) {
      this.actionError = errorMessage(error);
    }
  }

  tick(): void {
    this.now = this.clock();
  }

  /**
   * Another workspace is open: a session that ended no longer belongs on the screen (its run is
   * not in this workspace). One still running stays: it can still be paused or stopped here.
   */
  leaveWorkspace(): void {
    if (this.active) return;
    this.resetSession();
    this.launched = null;
    this.elsewhere = true;
  }

  startTraining(request: StartTraining): Promise<boolean> {
    return this.act('start', async () => {
      this.launched = await this.api.startTraining(request);
    });
  }

  continueTraining(request: ContinueTraining): Promise<boolean> {
    return this.act('continue', async () => {
      this.launched = await this.api.continueTraining(request);
    });
  }

  pause = (): Promise<boolean> => this.act('pause', async () => this.setStatus(await this.api.pauseTraining()));
  resume = (): Promise<boolean> => this.act('resume', async () => this.setStatus(await this.api.resumeTraining()));
  saveNow = (): Promise<boolean> => this.act('save', async () => this.setStatus(await this.api.saveNow()));
  stop = (): Promise<boolean> => this.act('stop', async () => this.setStatus(await this.api.stopTraining()));
  kill = (): Promise<boolean> => this.act('kill', async () => this.setStatus(await this.api.killTraining()));

  /** One action at a time; its failure is shown beside the buttons, and the answer says whether it worked. */
  private async act(action: TrainingAction, run: () => Promise<void>): Promise<boolean> {
    this.pendingAction = action;
    this.actionError = null;
    try {
      await run();
      return true;
    } catch (error) {
      this.actionError = errorMessage(error);
      return false;
    } finally {
      this.pendingAction = null;
    }
  }

  private setStatus(status: TrainingStatus): void {
    // A new session begins on entering `starting`; the run's name may follow in a second state
    // event of the same start, which must not wipe what the first reports brought.
    if (status.state === 'starting' && this.status.state !== 'starting') {
      this.resetSession();
      this.elsewhere = false;
    }
    this.status = status;
  }

  private resetSession(): void {
    this.started = null;
    this.progress = null;
    this.lastCheckpoint = null;
    this.finished = null;
    this.crash = null;
    this.messages = [];
    this.lastProgressAt = null;
    this.intervals = [];
  }

  private onEvent(event: SessionEvent): void {
    const now = this.clock();
    this.now = now;
    switch (event.type) {
      case 'started':
        this.started = event;
        this.lastProgressAt = now;
        break;
      case 'progress':
        if (this.lastProgressAt !== null) this.intervals = recordInterval(this.intervals, now - this.lastProgressAt);
        this.lastProgressAt = now;
        this.progress = event;
        break;
      case 'checkpoint':
        this.lastCheckpoint = { id: event.id, step: event.step, reason: event.reason, bytes: event.bytes, at: now };
        break;
      case 'paused':
      case 'resumed':
        // A pause is not a stall: the clock starts again from the resume.
        this.lastProgressAt = now;
        break;
      case 'warning':
        this.log('warn', event.message);
        break;
      case 'finished':
        this.finished = event;
        break;
      case 'metric':
      case 'validation':
        this.lastProgressAt = now;
        break;
    }
  }

  private log(level: 'error' | 'warn' | 'info', text: string): void {
    this.messages = [...this.messages, { level, text }].slice(-LOG_LINES);
  }
}
