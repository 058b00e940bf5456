// The trainer's side of the protocol, driven with a fake session: commands reach the
// SessionControl, invalid and refused commands are answered and not acted on, and every ending
// is reported before the process is asked to exit.
import { describe, expect, it } from 'vitest';
import type { SessionEvent, VerifyResumeReport } from '../../electron/contract.js';
import type { TrainRequest } from '../../electron/core/training/process/train-request.js';
import type { VerifyResumeRequest } from '../../electron/core/training/process/verify-resume-request.js';
import type { SessionControl } from '../../electron/core/training/session/training-session.js';
import { type TrainerMessage, TrainerMessageSchema } from '../../electron/core/training/process/trainer-protocol.js';
import { type SessionRunner, TrainerRuntime } from '../../electron/core/training/process/trainer-runtime.js';
import { TINY_CONFIG } from './helpers.js';

interface Harness {
  readonly runtime: TrainerRuntime;
  readonly sent: TrainerMessage[];
  readonly exits: number[];
  readonly sessions: { request: TrainRequest; control: SessionControl; emit: (event: SessionEvent) => void }[];
  readonly replays: { request: VerifyResumeRequest; control: SessionControl }[];
  readonly wakes: () => number;
  /** Settles the running fake session. */
  finish(error?: unknown): Promise<void>;
  /** Settles the running fake replay with this report, or this error. */
  report(outcome: VerifyResumeReport | Error): Promise<void>;
}

function harness(runner?: SessionRunner): Harness {
  const sent: TrainerMessage[] = [];
  const exits: number[] = [];
  const sessions: Harness['sessions'] = [];
  let settle: ((error?: unknown) => void) | undefined;
  const fake: SessionRunner = (request, control, emit) => {
    sessions.push({ request, control, emit });
    return new Promise((resolve, reject) => (settle = (error) => (error === undefined ? resolve(undefined) : reject(error))));
  };
  const replays: Harness['replays'] = [];
  let answer: ((outcome: VerifyResumeReport | Error) => void) | undefined;
  const runtime = new TrainerRuntime({
    // Everything sent must be a valid message: the supervisor would refuse anything else.
    send: (message) => sent.push(TrainerMessageSchema.parse(message)),
    runSession: runner ?? fake,
    verifyResume: (request, control) => {
      replays.push({ request, control });
      return new Promise((resolve, reject) => (answer = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome))));
    },
    exit: (code) => exits.push(code),
  });
  let wakes = 0;
  runtime.control.wake = () => (wakes += 1);
  return {
    runtime,
    sent,
    exits,
    sessions,
    replays,
    wakes: () => wakes,
    async finish(error) {
      settle?.(error);
      await new Promise((resolve) => setImmediate(resolve));
    },
    async report(outcome) {
      answer?.(outcome);
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const startCommand = (seq: number): unknown => ({ type: 'start', seq, request: { workspace: '/tmp/ws', run: 'r', config: TINY_CONFIG, checkpoints: {} } });

describe('TrainerRuntime', () => {
  it('says it is ready, runs the session with the validated request, forwards its events, and exits 0 after', async () => {
    const h = harness();
    h.runtime.ready(4321);
    h.runtime.receive(startCommand(1));
    expect(h.sessions).toHaveLength(1);
    // The request arrives parsed: defaults filled in.
    expect(h.sessions[0]?.request).toMatchObject({ workspace: '/tmp/ws', logEvery: 10, backend: 'auto' });
    h.sessions[0]?.emit({ type: 'paused', step: 3 });
    h.sessions[0]?.emit({ type: 'resumed', step: 3 });
    expect(h.exits).toEqual([]);
    await h.finish();
    expect(h.sent).toEqual([
      { type: 'ready', seq: 1, pid: 4321 },
      { type: 'event', seq: 2, event: { type: 'paused', step: 3 } },
      { type: 'event', seq: 3, event: { type: 'resumed', step: 3 } },
      { type: 'exiting', seq: 4, code: 0 },
    ]);
    expect(h.exits).toEqual([0]);
    expect(h.runtime.phase).toBe('exiting');
  });

  it('drives the SessionControl: pause, resume, save, stop, waking the loop', () => {
    const h = harness();
    h.runtime.receive(startCommand(1));
    const control = h.sessions[0]?.control;
    h.runtime.receive({ type: 'pause', seq: 2 });
    expect(control).toMatchObject({ paused: true, stopRequested: false, saveRequested: false });
    h.runtime.receive({ type: 'resume', seq: 3 });
    expect(control?.paused).toBe(false);
    h.runtime.receive({ type: 'save', seq: 4 });
    expect(control?.saveRequested).toBe(true);
    h.runtime.receive({ type: 'stop', seq: 5 });
    expect(control?.stopRequested).toBe(true);
    // pause, resume, save and stop each wake a loop that may be waiting in its pause.
    expect(h.wakes()).toBe(4);
    // The session decides when it has stopped; nothing exits before it returns.
    expect(h.exits).toEqual([]);
    expect(h.sent).toEqual([]);
  });

  it('answers an invalid command with an error naming the problem, and does not act on it', () => {
    const h = harness();
    h.runtime.receive({ type: 'start', seq: 1, request: { workspace: '/tmp/ws', checkpoints: { everySteps: -1 } } });
    h.runtime.receive({ type: 'pause' });
    expect(h.sessions).toEqual([]);
    expect(h.runtime.control.paused).toBe(false);
    expect(h.sent).toHaveLength(2);
    expect(h.sent[0]).toMatchObject({
      type: 'error',
      seq: 1,
      fatal: false,
      inReplyTo: 1,
      error: { name: 'TrainerProtocolError', message: expect.stringMatching(/request\.checkpoints\.everySteps/) },
    });
    expect(h.sent[1]).toMatchObject({ type: 'error', seq: 2, fatal: false, error: { message: expect.stringMatching(/"pause" message.*seq/) } });
    expect(h.sent[1]).not.toHaveProperty('inReplyTo');
    // Still waiting for a valid start.
    h.runtime.receive(startCommand(2));
    expect(h.sessions).toHaveLength(1);
  });

  it('refuses a second start and a replayed command', () => {
    const h = harness();
    h.runtime.receive(startCommand(1));
    h.runtime.receive(startCommand(2));
    h.runtime.receive({ type: 'stop', seq: 2 });
    expect(h.sessions).toHaveLength(1);
    expect(h.runtime.control.stopRequested).toBe(false);
    expect(h.sent).toMatchObject([
      {
        type: 'error',
        inReplyTo: 2,
        fatal: false,
        error: { name: 'TrainerCommandRefused', message: expect.stringMatching(/"start" refused: training has already started/) },
      },
      { type: 'error', inReplyTo: 2, fatal: false, error: { name: 'TrainerProtocolError', message: expect.stringMatching(/out-of-sequence/) } },
    ]);
  });

  it('exits 0 at once on a stop (or a signal) before any start; a pause before start carries into the session', () => {
    const stopped = harness();
    stopped.runtime.receive({ type: 'stop', seq: 1 });
    expect(stopped.sent).toEqual([{ type: 'exiting', seq: 1, code: 0 }]);
    expect(stopped.exits).toEqual([0]);
    stopped.runtime.receive(startCommand(2));
    expect(stopped.sessions).toEqual([]);

    const signalled = harness();
    signalled.runtime.requestStop('received SIGTERM');
    expect(signalled.sent.map((m) => m.type)).toEqual(['log', 'exiting']);
    expect(signalled.exits).toEqual([0]);

    const paused = harness();
    paused.runtime.receive({ type: 'pause', seq: 1 });
    paused.runtime.receive(startCommand(2));
    expect(paused.sessions[0]?.control.paused).toBe(true);
  });

  it('turns a signal during training into a graceful stop of the session', () => {
    const h = harness();
    h.runtime.receive(startCommand(1));
    h.runtime.requestStop('received SIGINT');
    expect(h.sessions[0]?.control.stopRequested).toBe(true);
    expect(h.wakes()).toBe(1);
    expect(h.exits).toEqual([]);
    expect(h.sent).toEqual([{ type: 'log', seq: 1, level: 'info', text: 'graceful stop: received SIGINT' }]);
  });

  it('reports a failed session as a fatal error with name, message and stack, then exits 1 once', async () => {
    const h = harness();
    h.runtime.receive(startCommand(1));
    class DiskFullError extends Error {
      override readonly name = 'DiskFullError';
    }
    await h.finish(new DiskFullError('no space left on /data'));
    expect(h.sent).toMatchObject([
      {
        type: 'error',
        seq: 1,
        fatal: true,
        error: { name: 'DiskFullError', message: 'no space left on /data', stack: expect.stringContaining('DiskFullError') },
      },
      { type: 'exiting', seq: 2, code: 1 },
    ]);
    expect(h.exits).toEqual([1]);
    // Whatever comes after the exit is decided is not acted on or reported.
    h.runtime.fail(new Error('later'));
    h.runtime.receive({ type: 'stop', seq: 2 });
    h.runtime.log('info', 'late');
    expect(h.sent).toHaveLength(2);
    expect(h.exits).toEqual([1]);
  });

  it('catches a session runner that throws synchronously', async () => {
    const h = harness(() => {
      throw new TypeError('broken runner');
    });
    h.runtime.receive(startCommand(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.sent).toMatchObject([
      { type: 'error', fatal: true, error: { name: 'TypeError', message: 'broken runner' } },
      { type: 'exiting', code: 1 },
    ]);
    expect(h.exits).toEqual([1]);
  });

  const verifyCommand = (seq: number): unknown => ({ type: 'verify-resume', seq, request: { workspace: '/tmp/ws', checkpoint: 'r/ckpt-000000010', steps: 5 } });
  const REPORT: VerifyResumeReport = {
    checkpoint: 'r/ckpt-000000010',
    backend: 'cpu',
    originalBackend: 'cpu',
    replayedSteps: 5,
    sources: ['r'],
    losses: { compared: 1, identical: 1 },
    weightHashes: { compared: 0, identical: 0 },
    comparisons: [{ kind: 'loss', step: 11, expected: 0.5, actual: 0.5, equal: true }],
    ok: true,
  };

  it('replays instead of training when asked to verify a resume: answers with the report, then exits 0', async () => {
    const h = harness();
    h.runtime.receive(verifyCommand(1));
    expect(h.runtime.phase).toBe('verifying');
    expect(h.replays.map((r) => r.request)).toEqual([{ workspace: '/tmp/ws', checkpoint: 'r/ckpt-000000010', steps: 5 }]);
    // One process does one thing: no training, and no second replay, in it.
    h.runtime.receive(startCommand(2));
    h.runtime.receive(verifyCommand(3));
    expect(h.sessions).toEqual([]);
    expect(h.replays).toHaveLength(1);
    expect(h.sent).toMatchObject([
      { type: 'error', inReplyTo: 2, error: { message: expect.stringMatching(/"start" refused: this trainer process is verifying a resume/) } },
      { type: 'error', inReplyTo: 3, error: { message: expect.stringMatching(/"verify-resume" refused: this trainer process is already verifying/) } },
    ]);
    // A stop (the Studio closing, a signal) reaches the replay through the same control.
    h.runtime.receive({ type: 'stop', seq: 4 });
    expect(h.replays[0]?.control.stopRequested).toBe(true);
    await h.report(REPORT);
    expect(h.sent.slice(2)).toEqual([
      { type: 'verified', seq: 3, report: REPORT },
      { type: 'exiting', seq: 4, code: 0 },
    ]);
    expect(h.exits).toEqual([0]);
  });

  it('reports a failed replay as a fatal error, then exits 1', async () => {
    const h = harness();
    h.runtime.receive(verifyCommand(1));
    await h.report(new Error('r/ckpt-000000010: the original run logged nothing after step 10'));
    expect(h.sent).toMatchObject([
      { type: 'error', fatal: true, error: { message: 'r/ckpt-000000010: the original run logged nothing after step 10' } },
      { type: 'exiting', code: 1 },
    ]);
    expect(h.exits).toEqual([1]);
  });
});
