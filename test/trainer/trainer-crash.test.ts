// Trainers that fail by themselves: the error crosses as {name, message, stack}, the exit is a
// crash with the tail of stderr, and nothing throws in the supervising process.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrainerSupervisor } from '../../electron/core/training/process/supervisor.js';
import { Recorder, TINY_CONFIG, supervised, tempWorkspace, tinyRequest, exitOf } from './helpers.js';

async function runToFailure(request: ReturnType<typeof tinyRequest>): Promise<Recorder & { supervisor: TrainerSupervisor }> {
  const supervisor = supervised(new TrainerSupervisor());
  const recorder = new Recorder(supervisor);
  await supervisor.start(request);
  const exit = await exitOf(supervisor);
  expect(exit).toEqual({ code: 1, signal: null });
  expect(supervisor.state).toBe('crashed');
  expect(recorder.states).toEqual(['starting', 'crashed']);
  expect(recorder.exits).toEqual([{ code: 1, signal: null }]);
  expect(recorder.crashes).toHaveLength(1);
  expect(recorder.crashes[0]).toMatchObject({ code: 1, signal: null });
  expect(recorder.events).toEqual([]);
  return Object.assign(recorder, { supervisor });
}

describe.concurrent('a trainer that fails by itself', () => {
  it('reports a missing data folder by name, then crashes with the stderr tail', async () => {
    const workspace = tempWorkspace();
    const missing = path.join(workspace, 'no-such-dataset');
    const recorder = await runToFailure(tinyRequest(workspace, { config: { ...TINY_CONFIG, dataDir: missing } }));

    expect(recorder.errors).toHaveLength(1);
    const [error] = recorder.errors;
    expect(error?.name).toBe('DatasetFilesMissingError');
    expect(error?.message).toContain(missing);
    expect(error?.stack).toMatch(/locateFiles|loadMnistLike/);
    const tail = recorder.crashes[0]?.stderrTail ?? [];
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.length).toBeLessThanOrEqual(20);
    expect(tail.join('\n')).toContain('DatasetFilesMissingError');
    expect(tail.join('\n')).toContain(missing);
    // What reached stderr is also forwarded as log lines.
    expect(recorder.logs.some((l) => l.level === 'warn' && l.text.includes('DatasetFilesMissingError'))).toBe(true);
  });

  it('reports a resume that points to nothing, then crashes', async () => {
    const workspace = tempWorkspace();
    const recorder = await runToFailure(tinyRequest(workspace, { resume: { id: 'gone/ckpt-000000001', run: 'gone', step: 1 } }));

    expect(recorder.errors.map((e) => e.name)).toEqual(['NotFoundError']);
    expect(recorder.errors[0]?.message).toMatch(/gone\/ckpt-000000001: not a checkpoint of the workspace/);
    expect(recorder.crashes[0]?.stderrTail.join('\n')).toContain('NotFoundError');
    // Stopping a trainer that is already gone just says how it ended.
    const exit = await recorder.supervisor.stop();
    expect(exit).toEqual({ code: 1, signal: null });
  });
});
