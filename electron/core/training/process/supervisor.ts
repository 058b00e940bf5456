// The main side of training: starts one trainer process at a time, speaks the sequenced protocol
// of trainer-protocol.ts with it, and turns what happens to it into typed events. Whatever the
// trainer does (crash, hang, garbage on its channel, SIGKILL from outside) the supervisor never
// throws because of it: it reports `error`, `crashed` and `exit` events instead.
import { z } from 'zod';
// The states and endings are the contract's: the Studio hands them to its hosts as they are.
import type { SessionEvent, TrainerCrash, TrainerExit, TrainerState } from '../../../contract.js';
import { TrainRequestSchema } from './train-request.js';
import { type ChildLauncher, ForkLauncher, type LaunchSpec, type LaunchedChild, trainerModuleSpec } from './trainer-launcher.js';
import {
  MessageReceiver,
  type SerializedError,
  Sequencer,
  type TrainerCommand,
  type TrainerLog,
  type TrainerMessage,
  TrainerMessageSchema,
  type Unsequenced,
  serializeError,
} from './trainer-protocol.js';

/** Event name → listener arguments. */
export interface TrainerSupervisorEvents {
  /** What the training session reports. */
  event: [SessionEvent];
  /** The trainer's console, and its raw stdout (info) and stderr (warn) lines. */
  log: [TrainerLog];
  /** An error the trainer reported (fatal when it ends the session), an invalid message from it, or a launch failure. */
  error: [SerializedError & { readonly fatal?: boolean }];
  state: [TrainerState];
  /** The trainer ended in a way nobody asked for: a non-zero exit, or a signal not sent by kill(); its stderr's last STDERR_TAIL_LINES lines. Before `exit`. */
  crashed: [TrainerCrash];
  /** The trainer process is gone, however it ended. */
  exit: [TrainerExit];
}
export type TrainerEventName = keyof TrainerSupervisorEvents;

export interface SupervisorOptions {
  readonly launcher?: ChildLauncher;
  /** What to launch; by default session/trainer-main. */
  readonly module?: LaunchSpec;
}

export interface StopOptions {
  /** SIGKILL the trainer if it has not exited this long after the stop command. Default 60 s. */
  readonly timeoutMs?: number;
}

export const STDERR_TAIL_LINES = 20;
const MAX_LINE_CHARS = 2000;
const DEFAULT_STOP_TIMEOUT_MS = 60_000;

/** start() while a trainer runs. */
export class TrainerBusyError extends Error {
  override readonly name = 'TrainerBusyError';
  readonly code = 'busy';
}

const LIVE_STATES: ReadonlySet<TrainerState> = new Set(['starting', 'running', 'paused', 'stopping']);

type Listener<K extends TrainerEventName> = (...args: TrainerSupervisorEvents[K]) => void;
type ListenerSets = { [K in TrainerEventName]: Set<Listener<K>> };

/** One trainer process's life: everything that must not leak into the next start(). */
class Launch {
  readonly receiver = new MessageReceiver(TrainerMessageSchema, 'the trainer');
  readonly sequencer = new Sequencer();
  /** Commands wait here until the trainer says it is ready. */
  readonly queue: TrainerCommand[] = [];
  ready = false;
  killRequested = false;
  stopTimer: NodeJS.Timeout | undefined;
  readonly stderrLines: string[] = [];
  readonly partial = { stdout: '', stderr: '' };
  child: LaunchedChild | undefined;
  readonly exited: Promise<TrainerExit>;
  resolveExit!: (exit: TrainerExit) => void;

  constructor() {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }
}

export class TrainerSupervisor {
  private readonly launcher: ChildLauncher;
  private readonly module: LaunchSpec | undefined;
  private readonly listeners: ListenerSets = { event: new Set(), log: new Set(), error: new Set(), state: new Set(), crashed: new Set(), exit: new Set() };
  private stateNow: TrainerState = 'idle';
  private current: Launch | null = null;
  private lastExitNow: TrainerExit | null = null;

  constructor(options: SupervisorOptions = {}) {
    this.launcher = options.launcher ?? new ForkLauncher();
    this.module = options.module;
  }

  get state(): TrainerState {
    return this.stateNow;
  }

  /** The trainer's process id while one runs. */
  get pid(): number | undefined {
    return LIVE_STATES.has(this.stateNow) ? this.current?.child?.pid : undefined;
  }

  /** How the last trainer ended; null before any has. */
  get lastExit(): TrainerExit | null {
    return this.lastExitNow;
  }

  /** Subscribes; returns the unsubscribe function. A listener that throws is reported, never rethrown. */
  on<K extends TrainerEventName>(name: K, listener: Listener<K>): () => void {
    const set = this.listeners[name] as Set<Listener<K>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Launches a trainer and sends it the request. Resolves once launched; what follows arrives as
   * events. Rejects, launching nothing, while another trainer runs (TrainerBusyError) or when
   * the request is invalid.
   */
  async start(request: z.input<typeof TrainRequestSchema>): Promise<void> {
    if (LIVE_STATES.has(this.stateNow)) {
      const pid = this.pid === undefined ? '' : ` (process ${this.pid})`;
      throw new TrainerBusyError(`a trainer is already ${this.stateNow}${pid}: stop it, or wait for it to exit, before starting another`);
    }
    const parsed = TrainRequestSchema.safeParse(request);
    if (!parsed.success) throw new Error(`invalid training request: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);

    const launch = new Launch();
    const before = { current: this.current, state: this.stateNow };
    this.current = launch;
    this.setState('starting');
    this.command(launch, { type: 'start', request: parsed.data });
    try {
      launch.child = this.launcher.launch(this.module ?? trainerModuleSpec(), {
        message: (raw) => this.guard(() => this.onMessage(launch, raw)),
        output: (stream, text) => this.guard(() => this.onOutput(launch, stream, text)),
        error: (error) => this.guard(() => this.onLauncherError(launch, error)),
        exit: (code, signal) => this.guard(() => this.onExit(launch, code, signal)),
      });
    } catch (error) {
      // A launcher should report failures through its handlers; one that throws launched nothing.
      this.current = before.current;
      this.setState(before.state);
      throw error;
    }
    this.flush(launch);
  }

  /** Pauses training after the current step. False when no trainer is running to receive it. */
  pause(): boolean {
    return this.commandIfLive({ type: 'pause' });
  }

  resume(): boolean {
    return this.commandIfLive({ type: 'resume' });
  }

  /** Saves a checkpoint after the current step (reason 'requested'; a paused trainer saves once resumed). */
  saveNow(): boolean {
    return this.commandIfLive({ type: 'save' });
  }

  /**
   * Graceful stop: the trainer saves at its current step and exits. Resolves when the process has
   * exited (SIGKILL after `timeoutMs`); at once with the last exit, or null, if none runs.
   */
  stop(options: StopOptions = {}): Promise<TrainerExit | null> {
    const launch = this.current;
    if (!launch || !LIVE_STATES.has(this.stateNow)) return Promise.resolve(this.lastExitNow);
    if (this.stateNow !== 'stopping') {
      // Nothing reached a trainer that is not ready yet: it exits without starting a session.
      if (!launch.ready) launch.queue.length = 0;
      this.command(launch, { type: 'stop' });
      this.setState('stopping');
      launch.stopTimer = setTimeout(() => {
        this.emit('log', { level: 'warn', text: `the trainer did not stop within ${options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS} ms: killing it` });
        launch.killRequested = true;
        launch.child?.kill('SIGKILL');
      }, options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    }
    return launch.exited;
  }

  /** SIGKILL, for a trainer that must go now. Resolves when it has exited. */
  kill(): Promise<TrainerExit | null> {
    const launch = this.current;
    if (!launch || !LIVE_STATES.has(this.stateNow)) return Promise.resolve(this.lastExitNow);
    launch.killRequested = true;
    this.setState('stopping');
    launch.child?.kill('SIGKILL');
    return launch.exited;
  }

  private commandIfLive(command: Unsequenced<TrainerCommand>): boolean {
    const launch = this.current;
    if (!launch || !LIVE_STATES.has(this.stateNow) || this.stateNow === 'stopping') return false;
    return this.command(launch, command);
  }

  private command(launch: Launch, command: Unsequenced<TrainerCommand>): boolean {
    const sequenced = launch.sequencer.next(command);
    if (!launch.ready || !launch.child) {
      launch.queue.push(sequenced);
      return true;
    }
    return launch.child.send(sequenced);
  }

  private flush(launch: Launch): void {
    const child = launch.child;
    if (!launch.ready || !child) return;
    for (const command of launch.queue.splice(0)) child.send(command);
  }

  private onMessage(launch: Launch, raw: unknown): void {
    if (launch !== this.current) return;
    const received = launch.receiver.receive(raw);
    if (!received.ok) {
      this.emit('error', serializeError(received.error));
      return;
    }
    this.handle(launch, received.message);
  }

  private handle(launch: Launch, message: TrainerMessage): void {
    switch (message.type) {
      case 'ready':
        if (launch.ready) return;
        launch.ready = true;
        this.flush(launch);
        return;
      case 'event':
        this.followSession(message.event);
        this.emit('event', message.event);
        return;
      case 'log':
        this.emit('log', { level: message.level, text: message.text });
        return;
      case 'error':
        this.emit('error', { ...message.error, fatal: message.fatal });
        return;
      case 'verified':
        // Only a replay's process answers so (ResumeVerifier reads it); a training trainer never does.
        return;
      case 'exiting':
        // The exit itself decides: a trainer can announce 0 and still die on the way out.
        return;
    }
  }

  /** The state follows what the session reports, except that a stop or kill in progress wins. */
  private followSession(event: SessionEvent): void {
    if (this.stateNow === 'stopping') return;
    if (event.type === 'started' || event.type === 'resumed') this.setState('running');
    else if (event.type === 'paused') this.setState('paused');
  }

  private onOutput(launch: Launch, stream: 'stdout' | 'stderr', text: string): void {
    const lines = (launch.partial[stream] + text).split(/\r?\n/);
    launch.partial[stream] = (lines.pop() ?? '').slice(-MAX_LINE_CHARS);
    for (const line of lines) this.outputLine(launch, stream, line);
  }

  private outputLine(launch: Launch, stream: 'stdout' | 'stderr', line: string): void {
    if (line.length === 0) return;
    const clipped = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
    if (stream === 'stderr') {
      launch.stderrLines.push(clipped);
      if (launch.stderrLines.length > STDERR_TAIL_LINES) launch.stderrLines.shift();
    }
    if (launch === this.current) this.emit('log', { level: stream === 'stderr' ? 'warn' : 'info', text: clipped });
  }

  private onLauncherError(launch: Launch, error: Error): void {
    if (launch !== this.current) return;
    // A command racing the trainer's exit finds the channel closed: the exit tells the story.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_IPC_CHANNEL_CLOSED' || code === 'EPIPE') {
      this.emit('log', { level: 'debug', text: `a command was not delivered: ${error.message}` });
      return;
    }
    this.emit('error', serializeError(error));
  }

  private onExit(launch: Launch, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(launch.stopTimer);
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = launch.partial[stream];
      launch.partial[stream] = '';
      this.outputLine(launch, stream, rest);
    }
    const exit: TrainerExit = { code, signal };
    const crashed = !launch.killRequested && (code !== 0 || signal !== null);
    if (launch === this.current) {
      this.lastExitNow = exit;
      this.setState(crashed ? 'crashed' : 'exited');
      if (crashed) this.emit('crashed', { code, signal, stderrTail: [...launch.stderrLines] });
      this.emit('exit', exit);
    }
    launch.resolveExit(exit);
  }

  private setState(state: TrainerState): void {
    if (state === this.stateNow) return;
    this.stateNow = state;
    this.emit('state', state);
  }

  private emit<K extends TrainerEventName>(name: K, ...args: TrainerSupervisorEvents[K]): void {
    for (const listener of [...(this.listeners[name] as Set<Listener<K>>)]) {
      try {
        listener(...args);
      } catch (error) {
        // A broken listener must not break supervision (nor loop, if it is an error listener).
        if (name === 'error') process.emitWarning(`a TrainerSupervisor 'error' listener threw: ${serializeError(error).message}`);
        else this.emit('error', { ...serializeError(error), message: `a TrainerSupervisor '${name}' listener threw: ${serializeError(error).message}` });
      }
    }
  }

  /** Runs a handler for something the child did; nothing it does may throw into the event loop. */
  private guard(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      try {
        this.emit('error', serializeError(error));
      } catch {
        // emit already contains its listeners' errors; nothing is left to report to.
      }
    }
  }
}
