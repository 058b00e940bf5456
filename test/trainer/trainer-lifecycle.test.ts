// Real trainer processes under a TrainerSupervisor: a whole run, the controls, a refused second
// start, graceful stops by command and by signal, and the trainer's own validation of commands.
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { TrainerBusyError, TrainerSupervisor } from '../../electron/core/training/process/supervisor.js';
import { ForkLauncher, trainerModuleSpec } from '../../electron/core/training/process/trainer-launcher.js';
import { type TrainerCommand, type TrainerMessage, TrainerMessageSchema } from '../../electron/core/training/process/trainer-protocol.js';
import { Recorder, TINY_CONFIG, sleep, supervised, tempWorkspace, tinyRequest, exitOf } from './helpers.js';

/** Long enough never to finish while a test drives it: 20 steps an epoch. */
const LONG_RUN = { ...TINY_CONFIG, epochs: 500 };

async function verifyAll(workspace: string): Promise<{ ids: string[]; failures: unknown[] }> {
  const store = await CheckpointStore.open(workspace);
  const ids = store.catalog.list().map((c) => c.id);
  const { results } = await store.verify(ids);
  return { ids, failures: results.filter((r) => !r.ok) };
}

// Concurrent: each test owns its workspace and trainer, and most of the time goes to start-ups.
describe.concurrent('a supervised trainer', () => {
  it('trains a whole run: started, progress, validation, checkpoints, finished, then exit 0', async () => {
    const workspace = tempWorkspace();
    const supervisor = supervised(new TrainerSupervisor());
    const recorder = new Recorder(supervisor);
    await supervisor.start(tinyRequest(workspace, { checkpoints: { everySteps: 10, onStop: true } }));
    expect(supervisor.state).toBe('starting');

    expect(await exitOf(supervisor)).toEqual({ code: 0, signal: null });
    expect(supervisor.state).toBe('exited');
    expect(recorder.states).toEqual(['starting', 'running', 'exited']);
    expect(recorder.errors).toEqual([]);
    expect(recorder.crashes).toEqual([]);
    expect(recorder.exits).toEqual([{ code: 0, signal: null }]);

    const types = recorder.events.map((e) => e.type);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('finished');
    expect(types).toContain('progress');
    expect(recorder.of('validation').map((v) => v.epoch)).toEqual([0, 1]);
    expect(recorder.of('finished')[0]).toMatchObject({ run: 'r', step: 40, reason: 'completed', lastCheckpoint: 'r/ckpt-000000040' });
    expect(recorder.of('checkpoint').map((c) => c.step)).toEqual([10, 20, 30, 40]);

    const { ids, failures } = await verifyAll(workspace);
    expect(ids.sort()).toEqual(['r/ckpt-000000010', 'r/ckpt-000000020', 'r/ckpt-000000030', 'r/ckpt-000000040']);
    expect(failures).toEqual([]);
  });

  it('refuses a second start, pauses, resumes, saves on request and stops gracefully', async () => {
    const workspace = tempWorkspace();
    const supervisor = supervised(new TrainerSupervisor());
    const recorder = new Recorder(supervisor);
    await supervisor.start(tinyRequest(workspace, { config: LONG_RUN }));
    const pid = supervisor.pid;
    await expect(supervisor.start(tinyRequest(workspace, { run: 'other' }))).rejects.toThrow(TrainerBusyError);
    await expect(supervisor.start(tinyRequest(workspace, { run: 'other' }))).rejects.toThrow(/already starting/);
    expect(supervisor.pid).toBe(pid);

    await recorder.until(() => recorder.of('progress').some((p) => p.step >= 3), 'training to be under way');
    expect(supervisor.state).toBe('running');
    await expect(supervisor.start(tinyRequest(workspace, { run: 'other' }))).rejects.toThrow(/already running/);

    expect(supervisor.pause()).toBe(true);
    await recorder.until(() => recorder.of('paused').length === 1, 'the pause');
    expect(supervisor.state).toBe('paused');
    const pausedStep = recorder.of('paused')[0]?.step ?? -1;
    const eventsWhenPaused = recorder.events.length;
    // Progress is reported at least every 200 ms while training: 800 ms of silence means no steps.
    await sleep(800);
    expect(recorder.events.slice(eventsWhenPaused)).toEqual([]);
    // "Save now" while paused saves the state exactly where it stopped, and stays paused.
    expect(supervisor.saveNow()).toBe(true);
    await recorder.until(() => recorder.of('checkpoint').some((c) => c.reason === 'requested'), 'a checkpoint requested while paused');
    expect(
      recorder
        .of('checkpoint')
        .filter((c) => c.reason === 'requested')
        .map((c) => c.step),
    ).toEqual([pausedStep]);
    expect(recorder.of('progress').filter((p) => p.step > pausedStep)).toEqual([]);

    expect(supervisor.resume()).toBe(true);
    await recorder.until(() => recorder.of('progress').some((p) => p.step > pausedStep), 'progress after resuming');
    expect(recorder.of('resumed')).toEqual([{ type: 'resumed', step: pausedStep }]);
    expect(supervisor.state).toBe('running');

    expect(supervisor.saveNow()).toBe(true);
    await recorder.until(() => recorder.of('checkpoint').filter((c) => c.reason === 'requested').length === 2, 'the requested checkpoint');
    const requested = recorder
      .of('checkpoint')
      .filter((c) => c.reason === 'requested')
      .at(-1);
    expect(requested?.step).toBeGreaterThan(pausedStep);

    const exit = await supervisor.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(supervisor.state).toBe('exited');
    expect(recorder.crashes).toEqual([]);
    expect(recorder.errors).toEqual([]);
    const finished = recorder.of('finished')[0];
    expect(finished?.reason).toBe('stopped');
    const last = recorder.of('checkpoint').at(-1);
    expect(last).toMatchObject({ reason: 'graceful stop', step: finished?.step, id: finished?.lastCheckpoint });
    expect(last?.step).toBeGreaterThan(requested?.step ?? Infinity);
    // Commands to a trainer that is gone are not sent.
    expect(supervisor.pause()).toBe(false);
    expect(await supervisor.stop()).toEqual(exit);

    const { ids, failures } = await verifyAll(workspace);
    expect(ids).toContain(requested?.id);
    expect(ids).toContain(last?.id);
    expect(failures).toEqual([]);
  });

  it('stops gracefully on SIGTERM from outside, and that is no crash', async () => {
    const workspace = tempWorkspace();
    const supervisor = supervised(new TrainerSupervisor());
    const recorder = new Recorder(supervisor);
    await supervisor.start(tinyRequest(workspace, { config: LONG_RUN }));
    await recorder.until(() => recorder.of('progress').some((p) => p.step >= 2), 'training to be under way');
    process.kill(supervisor.pid ?? -1, 'SIGTERM');

    expect(await exitOf(supervisor)).toEqual({ code: 0, signal: null });
    expect(supervisor.state).toBe('exited');
    expect(recorder.crashes).toEqual([]);
    const finished = recorder.of('finished')[0];
    expect(finished?.reason).toBe('stopped');
    expect(recorder.of('checkpoint').at(-1)).toMatchObject({ reason: 'graceful stop', step: finished?.step });
    expect(recorder.logs.some((l) => l.text.includes('SIGTERM'))).toBe(true);
    expect((await verifyAll(workspace)).failures).toEqual([]);
  });
});

describe.concurrent('the trainer process', () => {
  it('answers an invalid command with an error naming the problem and does not act on it', async () => {
    const messages: TrainerMessage[] = [];
    const exits: [number | null, NodeJS.Signals | null][] = [];
    const launchErrors: Error[] = [];
    let wake = (): void => undefined;
    const next = (predicate: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        wake = () => predicate() && resolve();
        wake();
      });
    const child = new ForkLauncher().launch(trainerModuleSpec(), {
      message: (raw) => {
        messages.push(TrainerMessageSchema.parse(raw));
        wake();
      },
      output: () => undefined,
      error: (error) => launchErrors.push(error),
      exit: (code, signal) => {
        exits.push([code, signal]);
        wake();
      },
    });
    await next(() => messages.some((m) => m.type === 'ready'));

    // Raw, as a broken or hostile parent could send them.
    const send = (raw: unknown): boolean => child.send(raw as TrainerCommand);
    send({ type: 'start', seq: 1, request: { workspace: '', checkpoints: {} } });
    send({ type: 'explode', seq: 2 });
    send({ type: 'pause', seq: 'three' });
    await next(() => messages.filter((m) => m.type === 'error').length === 3);
    const errors = messages.flatMap((m) => (m.type === 'error' ? [m] : []));
    expect(errors.every((e) => e.error.name === 'TrainerProtocolError' && !e.fatal)).toBe(true);
    expect(errors[0]?.error.message).toMatch(/invalid "start" message.*request\.workspace/);
    expect(errors[0]?.inReplyTo).toBe(1);
    expect(errors[1]?.error.message).toMatch(/invalid "explode" message.*type/);
    expect(errors[2]?.error.message).toMatch(/invalid "pause" message.*seq/);

    // Still listening, and nothing was started: a stop ends it at once, without any session event.
    send({ type: 'stop', seq: 1 });
    await next(() => exits.length === 1);
    expect(exits).toEqual([[0, null]]);
    expect(messages.map((m) => m.type)).toEqual(['ready', 'error', 'error', 'error', 'exiting']);
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(launchErrors).toEqual([]);
  });
});
