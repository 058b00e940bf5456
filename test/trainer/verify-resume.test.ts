// verifyResume through the StudioApi, for real: the replay runs in a trainer process (never in
// the Studio's, which answers the UI), compares a positive number of losses and weight hashes,
// and catches a log that disagrees with it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import {
  type ChildHandlers,
  type ChildLauncher,
  ForkLauncher,
  type LaunchSpec,
  type LaunchedChild,
} from '../../electron/core/training/process/trainer-launcher.js';
import type { TrainerCommand } from '../../electron/core/training/process/trainer-protocol.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { newControl, runTrainingSession } from '../../electron/core/training/session/training-session.js';
import { onCleanup } from '../store/helpers.js';
import { tempWorkspace, tinyRequest } from './helpers.js';

/** Forks real trainers, noting each command sent to one. */
class RecordingLauncher implements ChildLauncher {
  readonly commands: TrainerCommand['type'][] = [];
  private readonly fork = new ForkLauncher();

  launch(spec: LaunchSpec, handlers: ChildHandlers): LaunchedChild {
    const child = this.fork.launch(spec, handlers);
    return {
      pid: child.pid,
      send: (command) => {
        this.commands.push(command.type);
        return child.send(command);
      },
      kill: (signal) => child.kill(signal),
    };
  }
}

/** A run of 10 steps, every loss logged, checkpoints at steps 5 and 10. */
async function trainedWorkspace(): Promise<string> {
  const workspace = tempWorkspace();
  const store = await CheckpointStore.open(workspace);
  const request = TrainRequestSchema.parse(tinyRequest(workspace, { maxSteps: 10, checkpoints: { everySteps: 5, onStop: true }, logEvery: 1 }));
  await runTrainingSession({ store, request, control: newControl(), onEvent: () => undefined });
  return workspace;
}

async function openStudio(workspace: string): Promise<{ api: StudioApi; launcher: RecordingLauncher }> {
  const launcher = new RecordingLauncher();
  const studio = new Studio({ launcher });
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: workspace, readOnly: true });
  return { api: studio.api, launcher };
}

describe('verifyResume', () => {
  it('replays in a trainer process and proves the resume exact, losses and weight hashes alike', { timeout: 60_000 }, async () => {
    const workspace = await trainedWorkspace();
    const { api, launcher } = await openStudio(workspace);
    const report = await api.verifyResume({ checkpoint: 'r/ckpt-000000005', steps: 5 });
    expect(launcher.commands).toEqual(['verify-resume']);
    expect(report).toMatchObject({ checkpoint: 'r/ckpt-000000005', backend: 'cpu', originalBackend: 'cpu', replayedSteps: 5, sources: ['r'], ok: true });
    expect(report.losses).toEqual({ compared: 5, identical: 5 });
    // The checkpoint at step 10 was hashed when saved: the replay's weights there are the same.
    expect(report.weightHashes).toEqual({ compared: 1, identical: 1 });

    // A hash that disagrees with the replay (as a non-deterministic resume would give) is caught.
    const metricsFile = path.join(workspace, 'r', 'metrics.jsonl');
    const records = readFileSync(metricsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const tampered = records.map((r) => (r.kind === 'checkpoint' && r.step === 10 ? { ...r, weightsHash: '0'.repeat(64) } : r));
    writeFileSync(metricsFile, `${tampered.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const caught = await api.verifyResume({ checkpoint: 'r/ckpt-000000005', steps: 5 });
    expect(caught.ok).toBe(false);
    expect(caught.weightHashes).toEqual({ compared: 1, identical: 0 });
    expect(caught.comparisons.find((c) => !c.equal)).toMatchObject({ kind: 'weights', step: 10, expected: '0'.repeat(64) });
  });

  it(
    'refuses, naming the checkpoint, what it cannot replay: in the Studio when it is not there, in the trainer when nothing was logged after it',
    { timeout: 60_000 },
    async () => {
      const workspace = await trainedWorkspace();
      const { api, launcher } = await openStudio(workspace);
      await expect(api.verifyResume({ checkpoint: 'r/ckpt-000000007' })).rejects.toMatchObject({
        code: 'not-found',
        message: expect.stringContaining('r/ckpt-000000007'),
      });
      await expect(api.verifyResume({ checkpoint: 'best' })).rejects.toMatchObject({ code: 'refused', message: expect.stringContaining('name the metric') });
      expect(launcher.commands).toEqual([]);
      await expect(api.verifyResume({ checkpoint: 'latest' })).rejects.toMatchObject({
        code: 'refused',
        message: 'r/ckpt-000000010: the original run logged nothing after step 10, so there is nothing to compare the replay with',
      });
      expect(launcher.commands).toEqual(['verify-resume']);
    },
  );
});
