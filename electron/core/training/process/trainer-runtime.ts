// The trainer's side of the protocol, apart from how messages travel and how the process ends
// (session/trainer-main.ts wires those): it validates commands, drives one training session through
// its SessionControl (or one replay that verifies a resume), and reports events, logs, errors and
// its exit. Unit tests drive it with a fake channel and a fake session.
import type { SessionEvent, VerifyResumeReport } from '../../../contract.js';
import type { TrainRequest } from './train-request.js';
import type { VerifyResumeRequest } from './verify-resume-request.js';
// Types only: a value import of the session would load TensorFlow.js with this module (and its unit tests).
import type { SessionControl } from '../session/session-control.js';
import {
  type LogLevel,
  MessageReceiver,
  Sequencer,
  type TrainerCommand,
  TrainerCommandSchema,
  type TrainerMessage,
  type Unsequenced,
  serializeError,
} from './trainer-protocol.js';

/** Runs one training session to its end (runTrainingSession, in the real trainer). */
export type SessionRunner = (request: TrainRequest, control: SessionControl, onEvent: (event: SessionEvent) => void) => Promise<unknown>;

/** Replays after a checkpoint and reports (verifyResume, in the real trainer); gives up once `control.stopRequested`. */
export type ReplayRunner = (request: VerifyResumeRequest, control: SessionControl) => Promise<VerifyResumeReport>;

export interface TrainerRuntimeOptions {
  /** Hands one message to the transport. Must not throw. */
  readonly send: (message: TrainerMessage) => void;
  readonly runSession: SessionRunner;
  readonly verifyResume: ReplayRunner;
  /** Ends the process with `code` once what was sent is delivered. Called once. */
  readonly exit: (code: number) => void;
}

export type TrainerPhase = 'waiting' | 'training' | 'verifying' | 'exiting';

export class TrainerRuntime {
  readonly control: SessionControl = { stopRequested: false, paused: false, saveRequested: false };
  private readonly receiver = new MessageReceiver(TrainerCommandSchema, 'the supervisor');
  private readonly sequencer = new Sequencer();
  private phaseNow: TrainerPhase = 'waiting';

  constructor(private readonly options: TrainerRuntimeOptions) {}

  get phase(): TrainerPhase {
    return this.phaseNow;
  }

  /** Tells the supervisor commands can come. Call once the transport listens. */
  ready(pid: number): void {
    this.send({ type: 'ready', pid });
  }

  /** One raw message from the supervisor. Never throws: whatever is wrong is reported. */
  receive(raw: unknown): void {
    const received = this.receiver.receive(raw);
    if (!received.ok) {
      this.send({ type: 'error', error: serializeError(received.error), fatal: false, ...(received.seq !== undefined ? { inReplyTo: received.seq } : {}) });
      return;
    }
    this.handle(received.message);
  }

  log(level: LogLevel, text: string): void {
    if (this.phaseNow === 'exiting') return;
    this.send({ type: 'log', level, text });
  }

  /** A graceful stop not asked for by a command: a signal, or the supervisor going away. */
  requestStop(why: string): void {
    if (this.phaseNow === 'exiting') return;
    this.log('info', `graceful stop: ${why}`);
    if (this.phaseNow === 'waiting') {
      this.finish(0);
      return;
    }
    this.control.stopRequested = true;
    this.control.wake?.();
  }

  /** Something went wrong that nobody handled: report it and exit non-zero. */
  fail(error: unknown): void {
    if (this.phaseNow === 'exiting') return;
    this.send({ type: 'error', error: serializeError(error), fatal: true });
    this.finish(1);
  }

  private handle(command: TrainerCommand): void {
    if (this.phaseNow === 'exiting') return;
    switch (command.type) {
      case 'start':
        if (this.phaseNow !== 'waiting') {
          const busy = this.phaseNow === 'training' ? 'training has already started in this trainer process' : 'this trainer process is verifying a resume';
          this.refuse(command, `${busy}; start another process for another session`);
          return;
        }
        this.phaseNow = 'training';
        // Nothing is left unhandled: the wasm backend's runtime turns an unhandled rejection
        // into an abrupt exit that would skip the error report.
        this.train(command.request).catch(() => this.options.exit(1));
        return;
      case 'verify-resume':
        if (this.phaseNow !== 'waiting') {
          const busy = this.phaseNow === 'training' ? 'this trainer process is training' : 'this trainer process is already verifying a resume';
          this.refuse(command, `${busy}; start another process to verify a resume`);
          return;
        }
        this.phaseNow = 'verifying';
        this.verify(command.request).catch(() => this.options.exit(1));
        return;
      // Commands before start just set the control: the session starts paused, saves after its
      // first step, or (stop) never starts.
      case 'pause':
        this.control.paused = true;
        this.control.wake?.();
        return;
      case 'resume':
        this.control.paused = false;
        this.control.wake?.();
        return;
      case 'save':
        this.control.saveRequested = true;
        // A paused session waits on wake(); it saves and goes on waiting.
        this.control.wake?.();
        return;
      case 'stop':
        if (this.phaseNow === 'waiting') {
          this.finish(0);
          return;
        }
        this.control.stopRequested = true;
        this.control.wake?.();
        return;
    }
  }

  private async train(request: TrainRequest): Promise<void> {
    try {
      await this.options.runSession(request, this.control, (event) => this.send({ type: 'event', event }));
    } catch (error) {
      this.fail(error);
      return;
    }
    this.finish(0);
  }

  private async verify(request: VerifyResumeRequest): Promise<void> {
    try {
      const report = await this.options.verifyResume(request, this.control);
      this.send({ type: 'verified', report });
    } catch (error) {
      this.fail(error);
      return;
    }
    this.finish(0);
  }

  private refuse(command: TrainerCommand, why: string): void {
    this.send({ type: 'error', error: { name: 'TrainerCommandRefused', message: `"${command.type}" refused: ${why}` }, fatal: false, inReplyTo: command.seq });
  }

  private finish(code: number): void {
    this.send({ type: 'exiting', code });
    this.phaseNow = 'exiting';
    this.options.exit(code);
  }

  private send(message: Unsequenced<TrainerMessage>): void {
    this.options.send(this.sequencer.next(message));
  }
}
