// The supervisor against a fake launcher: the protocol from the main side, state, crash
// detection and the stderr tail, and that nothing a child does can make the supervisor throw.
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { SessionEvent } from '../../electron/contract.js';
import { TrainerBusyError, TrainerSupervisor } from '../../electron/core/training/process/supervisor.js';
import { type LaunchSpec, trainerModuleSpec } from '../../electron/core/training/process/trainer-launcher.js';
import { FakeLauncher } from './fake-launcher.js';
import { Recorder, TINY_CONFIG, exitOf } from './helpers.js';

const MODULE: LaunchSpec = { modulePath: '/fake/trainer.js', args: [], execArgv: [] };
const REQUEST = { workspace: '/tmp/ws', run: 'r', config: TINY_CONFIG, checkpoints: {} };
const STARTED: SessionEvent = {
  type: 'started',
  run: 'r',
  backend: 'cpu',
  backendReason: null,
  parameters: 10,
  batchesPerEpoch: 20,
  totalSteps: 40,
  step: 0,
  resumedFrom: null,
};

function setup(): { supervisor: TrainerSupervisor; launcher: FakeLauncher; recorder: Recorder } {
  const launcher = new FakeLauncher();
  const supervisor = new TrainerSupervisor({ launcher, module: MODULE });
  return { supervisor, launcher, recorder: new Recorder(supervisor) };
}

describe('TrainerSupervisor', () => {
  it('holds commands until the trainer is ready, then sends them in order, numbered', async () => {
    const { supervisor, launcher } = setup();
    await supervisor.start(REQUEST);
    expect(supervisor.state).toBe('starting');
    expect(launcher.last.spec).toEqual(MODULE);
    expect(supervisor.pause()).toBe(true);
    expect(launcher.last.sent).toEqual([]);
    launcher.last.say({ type: 'ready', pid: 4242 });
    expect(launcher.last.sent.map((c) => [c.type, c.seq])).toEqual([
      ['start', 1],
      ['pause', 2],
    ]);
    // The request crosses parsed, defaults filled in.
    expect(launcher.last.sent[0]).toMatchObject({ request: { workspace: '/tmp/ws', logEvery: 10, backend: 'auto', checkpoints: { onStop: true } } });
    expect(supervisor.saveNow()).toBe(true);
    expect(launcher.last.sent.map((c) => [c.type, c.seq]).at(-1)).toEqual(['save', 3]);
  });

  it('follows the session in its state and forwards events, logs and errors', async () => {
    const { supervisor, launcher, recorder } = setup();
    await supervisor.start(REQUEST);
    const child = launcher.last;
    child.say({ type: 'ready', pid: 1 });
    child.event(STARTED);
    expect(supervisor.state).toBe('running');
    child.event({ type: 'paused', step: 5 });
    expect(supervisor.state).toBe('paused');
    child.event({ type: 'resumed', step: 5 });
    child.say({ type: 'log', level: 'info', text: 'hello' });
    child.say({ type: 'error', error: { name: 'TrainerCommandRefused', message: 'no' }, fatal: false, inReplyTo: 1 });
    expect(supervisor.state).toBe('running');
    expect(recorder.events.map((e) => e.type)).toEqual(['started', 'paused', 'resumed']);
    expect(recorder.logs).toEqual([{ level: 'info', text: 'hello' }]);
    expect(recorder.errors).toEqual([{ name: 'TrainerCommandRefused', message: 'no', fatal: false }]);
    expect(recorder.states).toEqual(['starting', 'running', 'paused', 'running']);
  });

  it('reports an invalid message from the trainer as an error naming the problem, and ignores it', async () => {
    const { supervisor, launcher, recorder } = setup();
    await supervisor.start(REQUEST);
    const child = launcher.last;
    child.say({ type: 'ready', pid: 1 });
    child.event(STARTED);
    // Malformed: a paused event at step "five"; a type nobody knows; not even an object.
    child.handlers.message({ type: 'event', seq: 3, event: { type: 'paused', step: 'five' } });
    child.handlers.message({ type: 'hijack', seq: 4 });
    child.handlers.message('garbage');
    // Out of sequence: a replayed (valid) message.
    child.handlers.message({ type: 'event', seq: 2, event: { type: 'paused', step: 9 } });
    expect(recorder.errors.map((e) => e.name)).toEqual(['TrainerProtocolError', 'TrainerProtocolError', 'TrainerProtocolError', 'TrainerProtocolError']);
    expect(recorder.errors[0]?.message).toMatch(/invalid "event" message from the trainer, ignored: .*event\.step/);
    expect(recorder.errors[1]?.message).toMatch(/invalid "hijack" message .*type/);
    expect(recorder.errors[2]?.message).toMatch(/invalid string from the trainer/);
    expect(recorder.errors[3]?.message).toMatch(/out-of-sequence "event" message from the trainer, ignored: seq 2 after 2/);
    // None was acted upon: no event forwarded, the state did not follow the bogus pauses.
    expect(recorder.events.map((e) => e.type)).toEqual(['started']);
    expect(supervisor.state).toBe('running');
    // And the channel still works.
    child.handlers.message({ type: 'event', seq: 3, event: { type: 'paused', step: 9 } });
    expect(supervisor.state).toBe('paused');
  });

  it('treats an exit it did not ask for as a crash, with the last 20 lines of stderr', async () => {
    const { supervisor, launcher, recorder } = setup();
    await supervisor.start(REQUEST);
    const child = launcher.last;
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    // Chunks split lines anywhere; the last line has no newline.
    const text = lines.join('\n');
    child.handlers.output('stderr', text.slice(0, 7));
    child.handlers.output('stderr', text.slice(7, 100));
    child.handlers.output('stderr', text.slice(100));
    child.handlers.output('stdout', 'progress bar\r\n');
    child.exit(3);
    expect(supervisor.state).toBe('crashed');
    expect(recorder.crashes).toEqual([{ code: 3, signal: null, stderrTail: lines.slice(10) }]);
    expect(recorder.exits).toEqual([{ code: 3, signal: null }]);
    expect(recorder.logs).toContainEqual({ level: 'warn', text: 'line 30' });
    expect(recorder.logs).toContainEqual({ level: 'info', text: 'progress bar' });
    expect(await exitOf(supervisor)).toEqual({ code: 3, signal: null });
    expect(supervisor.lastExit).toEqual({ code: 3, signal: null });
  });

  it('treats a signal it did not send as a crash, and its own kill() as none', async () => {
    const { supervisor, launcher, recorder } = setup();
    await supervisor.start(REQUEST);
    launcher.last.exit(null, 'SIGSEGV');
    expect(supervisor.state).toBe('crashed');
    expect(recorder.crashes).toEqual([{ code: null, signal: 'SIGSEGV', stderrTail: [] }]);

    await supervisor.start(REQUEST);
    const killed = supervisor.kill();
    expect(supervisor.state).toBe('stopping');
    expect(launcher.last.kills).toEqual(['SIGKILL']);
    launcher.last.exit(null, 'SIGKILL');
    expect(await killed).toEqual({ code: null, signal: 'SIGKILL' });
    expect(supervisor.state).toBe('exited');
    expect(recorder.crashes).toHaveLength(1);
    expect(recorder.exits).toEqual([
      { code: null, signal: 'SIGSEGV' },
      { code: null, signal: 'SIGKILL' },
    ]);
  });

  it('refuses a second start while a trainer runs, and allows one after it exited', async () => {
    const { supervisor, launcher } = setup();
    await supervisor.start(REQUEST);
    await expect(supervisor.start(REQUEST)).rejects.toThrow(TrainerBusyError);
    await expect(supervisor.start(REQUEST)).rejects.toThrow(
      'a trainer is already starting (process 4242): stop it, or wait for it to exit, before starting another',
    );
    launcher.last.say({ type: 'ready', pid: 1 });
    launcher.last.event(STARTED);
    await expect(supervisor.start(REQUEST)).rejects.toThrow(/already running/);
    const stopping = supervisor.stop();
    await expect(supervisor.start(REQUEST)).rejects.toThrow(/already stopping/);
    expect(launcher.children).toHaveLength(1);
    launcher.last.exit(0);
    expect(await stopping).toEqual({ code: 0, signal: null });

    await supervisor.start(REQUEST);
    expect(launcher.children).toHaveLength(2);
    // A new process, a new conversation: both sides count from 1 again.
    launcher.last.say({ type: 'ready', pid: 2 });
    expect(launcher.last.sent.map((c) => c.seq)).toEqual([1]);
    expect(supervisor.state).toBe('starting');
  });

  it('refuses an invalid request without launching anything', async () => {
    const { supervisor, launcher } = setup();
    await expect(supervisor.start({ workspace: '', checkpoints: { everySteps: 0 } } as unknown as Parameters<TrainerSupervisor['start']>[0])).rejects.toThrow(
      /invalid training request: .*workspace.*checkpoints\.everySteps/,
    );
    expect(launcher.children).toEqual([]);
    expect(supervisor.state).toBe('idle');
  });

  it('stops gracefully, and kills a trainer that does not stop in time', async () => {
    // The stop timeout is the supervisor's own clock: the test moves it rather than waiting for it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    const { supervisor, launcher, recorder } = setup();
    await supervisor.start(REQUEST);
    launcher.last.say({ type: 'ready', pid: 1 });
    launcher.last.event(STARTED);
    const stopped = supervisor.stop({ timeoutMs: 30 });
    expect(supervisor.state).toBe('stopping');
    expect(supervisor.stop()).toBe(stopped);
    expect(launcher.last.sent.map((c) => c.type)).toEqual(['start', 'stop']);
    // Commands make no sense any more.
    expect(supervisor.pause()).toBe(false);
    // An event in flight does not take the state back to running.
    launcher.last.event({ type: 'resumed', step: 3 });
    expect(supervisor.state).toBe('stopping');
    vi.advanceTimersByTime(29);
    expect(launcher.last.kills).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(launcher.last.kills).toEqual(['SIGKILL']);
    expect(recorder.logs.at(-1)).toEqual({ level: 'warn', text: 'the trainer did not stop within 30 ms: killing it' });
    launcher.last.exit(null, 'SIGKILL');
    expect(await stopped).toEqual({ code: null, signal: 'SIGKILL' });
    expect(recorder.crashes).toEqual([]);
  });

  it('stopped before the trainer is ready, sends it only the stop: no session starts', async () => {
    const { supervisor, launcher } = setup();
    await supervisor.start(REQUEST);
    supervisor.pause();
    const stopped = supervisor.stop();
    launcher.last.say({ type: 'ready', pid: 1 });
    expect(launcher.last.sent).toEqual([{ type: 'stop', seq: 3 }]);
    launcher.last.say({ type: 'exiting', code: 0 });
    launcher.last.exit(0);
    expect(await stopped).toEqual({ code: 0, signal: null });
    expect(supervisor.state).toBe('exited');
  });

  it('answers commands with false, and stop/kill with the last exit, when no trainer runs', async () => {
    const { supervisor, launcher } = setup();
    expect([supervisor.pause(), supervisor.resume(), supervisor.saveNow()]).toEqual([false, false, false]);
    expect(await supervisor.stop()).toBeNull();
    expect(await supervisor.kill()).toBeNull();
    expect(await exitOf(supervisor)).toBeNull();
    await supervisor.start(REQUEST);
    launcher.last.exit(0);
    expect([supervisor.pause(), supervisor.resume(), supervisor.saveNow()]).toEqual([false, false, false]);
    expect(await supervisor.kill()).toEqual({ code: 0, signal: null });
    expect(launcher.last.kills).toEqual([]);
  });

  it('survives listeners that throw, and launch failures', async () => {
    const { supervisor, launcher, recorder } = setup();
    supervisor.on('event', () => {
      throw new Error('listener bug');
    });
    const unsubscribe = supervisor.on('exit', () => {
      throw new Error('exit listener bug');
    });
    await supervisor.start(REQUEST);
    launcher.last.say({ type: 'ready', pid: 1 });
    expect(() => launcher.last.event(STARTED)).not.toThrow();
    expect(supervisor.state).toBe('running');
    expect(recorder.errors.at(-1)?.message).toBe("a TrainerSupervisor 'event' listener threw: listener bug");
    // The process could not be started: reported, and the exit still comes.
    launcher.last.handlers.error(Object.assign(new Error('spawn node ENOENT'), { code: 'ENOENT' }));
    expect(() => launcher.last.exit(null)).not.toThrow();
    expect(recorder.errors.map((e) => e.message)).toContain('spawn node ENOENT');
    expect(recorder.errors.at(-1)?.message).toBe("a TrainerSupervisor 'exit' listener threw: exit listener bug");
    expect(supervisor.state).toBe('crashed');
    unsubscribe();

    // A command racing the exit is not an error worth showing.
    await supervisor.start(REQUEST);
    const errorsBefore = recorder.errors.length;
    launcher.last.handlers.error(Object.assign(new Error('channel closed'), { code: 'ERR_IPC_CHANNEL_CLOSED' }));
    expect(recorder.errors).toHaveLength(errorsBefore);

    // A launcher that throws instead of reporting: start fails, nothing is left running.
    const throwing = new TrainerSupervisor({
      launcher: {
        launch: () => {
          throw new Error('no process for you');
        },
      },
      module: MODULE,
    });
    await expect(throwing.start(REQUEST)).rejects.toThrow('no process for you');
    expect(throwing.state).toBe('idle');
  });

  it('ignores whatever a previous trainer process still delivers', async () => {
    const { supervisor, launcher, recorder } = setup();
    await supervisor.start(REQUEST);
    const old = launcher.last;
    old.exit(0);
    await supervisor.start(REQUEST);
    old.say({ type: 'ready', pid: 1 });
    old.event(STARTED);
    old.handlers.exit(1, null);
    expect(recorder.events).toEqual([]);
    expect(supervisor.state).toBe('starting');
    expect(launcher.last.sent).toEqual([]);
    expect(recorder.crashes).toEqual([]);
  });
});

describe('trainerModuleSpec', () => {
  it('runs the TypeScript source through tsx, and the built file as it is', () => {
    const fromSource = trainerModuleSpec('file:///app/electron/core/training/process/supervisor.ts');
    expect(fromSource.modulePath).toBe('/app/electron/core/training/session/trainer-main.ts');
    expect(fromSource.execArgv[0]).toBe('--import');
    expect(fromSource.execArgv[1]).toMatch(/^file:\/\/.*\/node_modules\/tsx\/.*\.mjs$/);
    expect(trainerModuleSpec('file:///app/dist/electron/core/training/process/trainer-launcher.js')).toEqual({
      modulePath: '/app/dist/electron/core/training/session/trainer-main.js',
      args: [],
      execArgv: [],
    });
  });
});
