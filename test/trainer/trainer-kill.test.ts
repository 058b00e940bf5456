// SIGKILL a real trainer at many different moments, many of them inside saves: the supervisor
// survives each, the workspace afterwards lists only checkpoints that verify, no temporary
// folder survives opening it, and a new trainer continues from `latest` and finishes.
import { readdirSync, watch } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { isTemporaryName, parseTemporaryName } from '../../electron/core/base/temporaries.js';
import { TrainerSupervisor } from '../../electron/core/training/process/supervisor.js';
import { Recorder, TINY_CONFIG, continueLatest, sleep, supervised, tempWorkspace, tinyRequest, exitOf } from './helpers.js';

/** Wide enough that a checkpoint is several MB and its save takes a while: kills land inside saves. */
const WIDE = { ...TINY_CONFIG, model: { ...TINY_CONFIG.model, width: 256 }, epochs: 500 };

interface Moment {
  /**
   * When to aim: `launch` right after start(), while the trainer starts up; `saving: n` the
   * instant the n-th checkpoint folder of this trainer starts being written (a .tmp-ckpt-*
   * folder appears); `checkpoints: n` once n checkpoint events have arrived.
   */
  readonly at: 'launch' | { readonly saving: number } | { readonly checkpoints: number };
  readonly delayMs: number;
  /** kill(): a requested kill. external: SIGKILL from outside, as the OOM killer would: a crash. */
  readonly how: 'kill' | 'external';
}

/** Two lanes, each its own workspace, run side by side: kills cost a trainer start-up each. */
const LANES: readonly (readonly Moment[])[] = [
  [
    { at: 'launch', delayMs: 0, how: 'kill' },
    { at: { saving: 1 }, delayMs: 0, how: 'external' },
    { at: { checkpoints: 1 }, delayMs: 0, how: 'kill' },
  ],
  [
    { at: { saving: 2 }, delayMs: 4, how: 'kill' },
    { at: { saving: 1 }, delayMs: 12, how: 'kill' },
    { at: { saving: 3 }, delayMs: 25, how: 'external' },
  ],
];

/** Resolves when the n-th .tmp-ckpt-* folder appears in the run folder (which exists once the session started). */
function whenSaving(runDir: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const seen = new Set<string>();
    const watcher = watch(runDir, (_event, name) => {
      if (!name || !isCheckpointInFlight(name)) return;
      seen.add(name);
      if (seen.size < n) return;
      watcher.close();
      resolve();
    });
  });
}

/** A checkpoint folder being written: our temporary name, labelled with the checkpoint's. */
function isCheckpointInFlight(name: string): boolean {
  return parseTemporaryName(name)?.label.startsWith('ckpt-') ?? false;
}

function temporaries(workspace: string): string[] {
  return readdirSync(workspace, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((run) =>
      readdirSync(path.join(workspace, run.name))
        .filter(isTemporaryName)
        .map((n) => `${run.name}/${n}`),
    );
}

interface LaneResult {
  readonly killedMidSave: number;
  readonly listed: number;
}

/** Kills a trainer at each moment in turn, each continuing the latest checkpoint when there is one, then lets one finish. */
async function lane(moments: readonly Moment[]): Promise<LaneResult> {
  const workspace = tempWorkspace();
  let killedMidSave = 0;
  for (const [round, moment] of moments.entries()) {
    const supervisor = supervised(new TrainerSupervisor());
    const recorder = new Recorder(supervisor);
    // The first round starts a run; later ones continue the latest checkpoint, which each time
    // is one a killed trainer left behind (unless none got that far).
    const resuming = (await CheckpointStore.open(workspace)).catalog.latest() !== null;
    const checkpoints = { everySteps: 1, onStop: true };
    await supervisor.start(
      resuming
        ? await continueLatest(workspace, `k${round}`, { checkpoints })
        : tinyRequest(workspace, { run: `k${round}`, config: { ...WIDE, dataDir: tinyRequest(workspace).config.dataDir ?? null }, checkpoints }),
    );
    const at = moment.at;
    if (at !== 'launch' && 'saving' in at) {
      await recorder.until(() => recorder.of('started').length > 0, 'the session to start');
      await whenSaving(path.join(workspace, `k${round}`), at.saving);
    } else if (at !== 'launch') {
      await recorder.until(() => recorder.of('checkpoint').length >= at.checkpoints, `${at.checkpoints} checkpoints`);
    }
    if (moment.delayMs > 0) await sleep(moment.delayMs);
    const exit = moment.how === 'kill' ? await supervisor.kill() : await killFromOutside(supervisor);

    // The supervisor saw it go, and says how.
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(recorder.exits).toEqual([{ code: null, signal: 'SIGKILL' }]);
    if (moment.how === 'kill') {
      expect(supervisor.state).toBe('exited');
      expect(recorder.crashes).toEqual([]);
    } else {
      expect(supervisor.state).toBe('crashed');
      expect(recorder.crashes).toEqual([{ code: null, signal: 'SIGKILL', stderrTail: expect.any(Array) }]);
    }
    expect(recorder.errors).toEqual([]);

    // Whatever the moment, opening the workspace clears what the dead trainer was writing,
    // and every checkpoint it lists verifies.
    const inFlight = temporaries(workspace);
    if (inFlight.some((n) => isCheckpointInFlight(path.basename(n)))) killedMidSave += 1;
    const store = await CheckpointStore.open(workspace);
    expect(temporaries(workspace)).toEqual([]);
    expect(store.opened.removed.length).toBe(inFlight.length);
    const { results } = await store.verify(store.catalog.list().map((c) => c.id));
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }

  // A new trainer continues from latest (configuration from the checkpoint) and finishes.
  const latest = (await CheckpointStore.open(workspace)).resolve('latest');
  const supervisor = supervised(new TrainerSupervisor());
  const recorder = new Recorder(supervisor);
  await supervisor.start(await continueLatest(workspace, 'final', { maxSteps: 3, checkpoints: { onStop: true } }));
  expect(await exitOf(supervisor)).toEqual({ code: 0, signal: null });
  expect(recorder.errors).toEqual([]);
  expect(recorder.of('started')[0]?.resumedFrom).toEqual({ run: latest.run, step: latest.step });
  expect(recorder.of('finished')[0]).toMatchObject({ run: 'final', reason: 'max-steps', step: latest.step + 3 });
  const store = await CheckpointStore.open(workspace);
  const listed = store.catalog.list();
  const { results } = await store.verify(listed.map((c) => c.id));
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(store.catalog.list('final').map((c) => c.step)).toEqual([latest.step + 3]);
  return { killedMidSave, listed: listed.length };
}

describe('a trainer killed at any moment', () => {
  it('never breaks the supervisor nor leaves a checkpoint that is listed and does not verify; latest continues', async () => {
    const results = await Promise.all(LANES.map((moments) => lane(moments)));
    // Only meaningful if checkpoints were written and some kills really landed inside saves.
    expect(results.reduce((sum, r) => sum + r.listed, 0)).toBeGreaterThan(5);
    expect(results.reduce((sum, r) => sum + r.killedMidSave, 0)).toBeGreaterThan(0);
  }, 90_000);
});

/** SIGKILL sent by someone else than the supervisor. */
async function killFromOutside(supervisor: TrainerSupervisor): Promise<unknown> {
  // The process may not have a pid yet only if it failed to start, which this test would report.
  process.kill(supervisor.pid ?? -1, 'SIGKILL');
  return exitOf(supervisor);
}
