// The main side of verifyResume against a fake launcher: one short-lived trainer process per
// replay, the command only once it listens, its report only once it has exited, and every way it
// can fail turned into a StudioError that says why.
import { describe, expect, it } from 'vitest';
import { StudioError, type VerifyResumeReport } from '../../electron/contract.js';
import { ResumeVerifier } from '../../electron/core/training/process/resume-verifier.js';
import type { LaunchSpec } from '../../electron/core/training/process/trainer-launcher.js';
import { FakeLauncher } from './fake-launcher.js';

const MODULE: LaunchSpec = { modulePath: '/fake/trainer.js', args: [], execArgv: [] };
const REQUEST = { workspace: '/tmp/ws', checkpoint: 'r/ckpt-000000010', steps: 5 };
const REPORT: VerifyResumeReport = {
  checkpoint: 'r/ckpt-000000010',
  backend: 'cpu',
  originalBackend: 'cpu',
  replayedSteps: 5,
  sources: ['r'],
  losses: { compared: 5, identical: 5 },
  weightHashes: { compared: 1, identical: 1 },
  comparisons: [{ kind: 'weights', step: 15, expected: 'ab', actual: 'ab', equal: true }],
  ok: true,
};

function verifier(): { launcher: FakeLauncher; verifier: ResumeVerifier } {
  const launcher = new FakeLauncher();
  return { launcher, verifier: new ResumeVerifier({ launcher, module: MODULE }) };
}

/** Settles with what the promise did, without awaiting it: a still-pending call stays 'pending'. */
function track<T>(promise: Promise<T>): { readonly state: () => 'pending' | 'resolved' | 'rejected'; readonly done: Promise<T> } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  return { state: () => state, done: promise };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ResumeVerifier', () => {
  it('launches a trainer, sends the request once it is ready, and resolves with the report after the process exits', async () => {
    const { launcher, verifier: v } = verifier();
    const call = track(v.verify(REQUEST));
    const child = launcher.last;
    expect(child.spec).toBe(MODULE);
    expect(child.sent).toEqual([]);
    child.say({ type: 'ready', pid: 4242 });
    expect(child.sent).toEqual([{ type: 'verify-resume', seq: 1, request: REQUEST }]);
    child.say({ type: 'log', level: 'info', text: 'backend: cpu' });
    child.say({ type: 'verified', report: REPORT });
    child.say({ type: 'exiting', code: 0 });
    await turn();
    // The process is still there: the call waits for it to go, so nothing outlives it.
    expect(call.state()).toBe('pending');
    child.exit(0);
    await expect(call.done).resolves.toEqual(REPORT);
  });

  it('rejects with the error the trainer reported, its code kept', async () => {
    const { launcher, verifier: v } = verifier();
    const call = v.verify(REQUEST);
    const child = launcher.last;
    child.say({ type: 'ready', pid: 4242 });
    child.say({
      type: 'error',
      fatal: true,
      error: { name: 'StudioError', code: 'refused', message: 'r/ckpt-000000010: the original run logged nothing after step 10' },
    });
    child.exit(1);
    await expect(call).rejects.toMatchObject({
      name: 'StudioError',
      code: 'refused',
      message: 'r/ckpt-000000010: the original run logged nothing after step 10',
    });
  });

  it('says how a process that died without reporting ended, with its last stderr lines', async () => {
    const { launcher, verifier: v } = verifier();
    const call = v.verify(REQUEST);
    const child = launcher.last;
    child.handlers.output('stderr', 'Segmentation fault in kernel\n');
    child.exit(null, 'SIGSEGV');
    const error: unknown = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect(error).toMatchObject({ code: 'internal' });
    expect((error as Error).message).toMatch(/the replay process ended \(signal SIGSEGV\) before it reported; its last lines:\nSegmentation fault in kernel/);
  });

  it('does not take a message that breaks the protocol for a report', async () => {
    const { launcher, verifier: v } = verifier();
    const call = v.verify(REQUEST);
    const child = launcher.last;
    child.say({ type: 'ready', pid: 4242 });
    child.say({ type: 'verified', report: { ...REPORT, ok: 'yes' } });
    child.exit(0);
    await expect(call).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/invalid "verified" message from the trainer/) });
  });

  it('runs one replay at a time, and refuses a request it cannot send', async () => {
    const { launcher, verifier: v } = verifier();
    const first = v.verify(REQUEST);
    await expect(v.verify(REQUEST)).rejects.toMatchObject({ code: 'busy' });
    expect(launcher.children).toHaveLength(1);
    launcher.last.exit(1);
    await expect(first).rejects.toMatchObject({ code: 'internal' });
    await expect(v.verify({ ...REQUEST, steps: 0 })).rejects.toThrow(/steps/);
    expect(launcher.children).toHaveLength(1);
  });

  it('close() kills a replay at once (it writes nothing) and waits for it to go', async () => {
    const { launcher, verifier: v } = verifier();
    const call = track(v.verify(REQUEST));
    const child = launcher.last;
    child.say({ type: 'ready', pid: 4242 });
    const closed = track(v.close());
    expect(child.kills).toEqual(['SIGKILL']);
    await turn();
    expect(closed.state()).toBe('pending');
    child.exit(null, 'SIGKILL');
    await closed.done;
    await expect(call.done).rejects.toMatchObject({ code: 'refused', message: expect.stringMatching(/stopped before it finished/) });
    // Nothing runs: closing again is immediate.
    await v.close();
  });
});
