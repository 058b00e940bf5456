// The utility-process launcher over a stand-in for Electron's utilityProcess (a real Node child
// that behaves as Electron documents: kill() is SIGTERM, 'exit' has a code only, output is not
// ordered with it). A kill is a kill, even of a child that ignores SIGTERM; the supervisor's stop
// timeout ends one; the stderr tail is whole when the exit is reported; a grandchild holding the
// pipes cannot hold the exit back; and a real trainer killed this way saves nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { UtilityProcessLauncher } from '../../electron/app/utility-launcher.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { TrainerSupervisor } from '../../electron/core/training/process/supervisor.js';
import type { ChildHandlers, LaunchSpec, LaunchedChild } from '../../electron/core/training/process/trainer-launcher.js';
import { Recorder, TINY_CONFIG, supervised, tempWorkspace, tinyRequest } from '../trainer/helpers.js';
import { CRASHING_CHILD, CRASH_CODE, CRASH_LINES, IGNORED_SIGTERM, PIPE_HOLDING_CHILD, STUBBORN_TRAINER } from './children/specs.js';
import { type StandInOptions, standInUtilityProcess } from './utility-process-stand-in.js';

type Call =
  | { kind: 'message'; message: unknown }
  | { kind: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'error'; error: Error }
  | { kind: 'exit'; code: number | null; signal: string | null };

interface Launched {
  readonly child: LaunchedChild;
  readonly calls: Call[];
  /** Everything written to a stream so far. */
  text(stream: 'stdout' | 'stderr'): string;
  /** Resolves when a call satisfies `check` (at once if one already did). */
  until(check: (call: Call) => boolean): Promise<Call>;
}

/** Whatever a test leaves running (one that failed) is killed when the file ends. */
const alive: LaunchedChild[] = [];
const grandchildren: number[] = [];
afterAll(() => {
  alive.forEach((child) => child.kill('SIGKILL'));
  for (const pid of grandchildren) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

function launch(spec: LaunchSpec, standIn: StandInOptions = {}, outputGraceMs?: number): Launched {
  const calls: Call[] = [];
  const waiters = new Set<() => void>();
  const record = (call: Call): void => {
    calls.push(call);
    for (const waiter of [...waiters]) waiter();
  };
  const handlers: ChildHandlers = {
    message: (message) => record({ kind: 'message', message }),
    output: (stream, text) => record({ kind: 'output', stream, text }),
    error: (error) => record({ kind: 'error', error }),
    exit: (code, signal) => record({ kind: 'exit', code, signal }),
  };
  const launcher = new UtilityProcessLauncher(standInUtilityProcess(standIn), outputGraceMs === undefined ? {} : { outputGraceMs });
  const child = launcher.launch(spec, handlers);
  alive.push(child);
  return {
    child,
    calls,
    text: (stream) =>
      calls
        .filter((c): c is Extract<Call, { kind: 'output' }> => c.kind === 'output' && c.stream === stream)
        .map((c) => c.text)
        .join(''),
    until: (check) =>
      new Promise((resolve) => {
        const look = (): void => {
          const found = calls.find(check);
          if (!found) return;
          waiters.delete(look);
          resolve(found);
        };
        waiters.add(look);
        look();
      }),
  };
}

const isExit = (call: Call): boolean => call.kind === 'exit';

describe('the utility-process launcher', () => {
  it('kills with SIGKILL a child that ignores SIGTERM, and sends SIGTERM when asked for it', { timeout: 15_000 }, async () => {
    const launched = launch(STUBBORN_TRAINER);
    await launched.until((c) => c.kind === 'message' && (c.message as { type?: unknown }).type === 'ready');
    const pid = launched.child.pid;
    expect(pid).toBeGreaterThan(0);

    launched.child.kill('SIGTERM');
    await launched.until(() => launched.text('stderr').includes(IGNORED_SIGTERM));
    expect(() => process.kill(pid as number, 0)).not.toThrow();

    launched.child.kill('SIGKILL');
    expect(await launched.until(isExit)).toEqual({ kind: 'exit', code: null, signal: 'SIGKILL' });
    expect(() => process.kill(pid as number, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(launched.child.pid).toBeUndefined();
    expect(launched.calls.filter((c) => c.kind === 'error')).toEqual([]);
  });

  it('reports the exit only after the last stderr lines written before a crash', async () => {
    const launched = launch(CRASHING_CHILD, { outputAfterExit: true });
    const exit = await launched.until(isExit);
    expect(exit).toEqual({ kind: 'exit', code: CRASH_CODE, signal: null });
    expect(launched.calls.at(-1)).toBe(exit);
    const lines = launched.text('stderr').trimEnd().split('\n');
    expect(lines).toHaveLength(CRASH_LINES);
    expect(lines.at(-1)).toBe(`last words, line ${CRASH_LINES}`);
  });

  it('reports the exit after a bounded wait when a grandchild holds the output open', async () => {
    const launched = launch(PIPE_HOLDING_CHILD, {}, 300);
    await launched.until(() => /grandchild \d+\n/.test(launched.text('stderr')));
    const grandchild = Number(/grandchild (\d+)/.exec(launched.text('stderr'))?.[1]);
    grandchildren.push(grandchild);
    const exit = await launched.until(isExit);
    expect(exit).toEqual({ kind: 'exit', code: 0, signal: null });
    expect(launched.calls.at(-1)).toBe(exit);
    // It still holds the pipes: only the bound let the exit through.
    expect(() => process.kill(grandchild, 0)).not.toThrow();
  });
});

describe('the supervisor over the utility-process launcher', () => {
  it("ends a trainer that ignores both the stop command and SIGTERM when the stop's time is up", { timeout: 20_000 }, async () => {
    const supervisor = supervised(new TrainerSupervisor({ launcher: new UtilityProcessLauncher(standInUtilityProcess()), module: STUBBORN_TRAINER }));
    const recorder = new Recorder(supervisor);
    await supervisor.start(tinyRequest(tempWorkspace()));
    await recorder.until(() => recorder.of('started').length > 0, 'the session to start');

    const exit = await supervisor.stop({ timeoutMs: 300 });

    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(supervisor.state).toBe('exited');
    expect(recorder.crashes).toEqual([]);
    expect(recorder.logs.some((log) => log.text.includes('did not stop within 300 ms'))).toBe(true);
  });

  it('kills a real trainer without the save its graceful stop would make', { timeout: 60_000 }, async () => {
    const workspace = tempWorkspace();
    const supervisor = supervised(new TrainerSupervisor({ launcher: new UtilityProcessLauncher(standInUtilityProcess()) }));
    const recorder = new Recorder(supervisor);
    await supervisor.start(tinyRequest(workspace, { config: { ...TINY_CONFIG, epochs: 500 }, checkpoints: { onStop: true }, logEvery: 1 }));
    await recorder.until(() => recorder.of('progress').length > 0, 'a step of training', 45_000);

    const exit = await supervisor.kill();

    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(recorder.of('checkpoint')).toEqual([]);
    expect(recorder.of('finished')).toEqual([]);
    const store = await CheckpointStore.open(workspace, { access: 'read' });
    expect(store.catalog.snapshot().checkpoints).toEqual([]);
  });
});
