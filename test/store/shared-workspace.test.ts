// One workspace, several processes at once, as the app, a `train` on the same machine and a CLI
// `ls` will have it: neither crashes, nothing listed is ever partial, nothing protected is
// deleted, and the verify cache loses no process's entries.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../electron/core/base/errors.js';
import { liveLockHolder } from '../../electron/core/checkpoint/run-lock.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { onCleanup, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');

function cli(workspace: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--workspace', workspace], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a workspace shared by several processes', () => {
  it('a trainer saving every step while another process lists, verifies, prunes and deletes', { timeout: 120_000 }, async () => {
    const { root: workspace } = makeWorkspace();
    // A finished run beside the one being trained: the other process may delete from it.
    const store = await CheckpointStore.open(workspace);
    const writer = await store.createRun('old', { parent: null, config: {} });
    for (const step of [1, 2, 3, 4, 5, 6]) await writer.save(trainingState(step));
    await writer.close();

    const training = cli(
      workspace,
      'train',
      '--run',
      'live',
      '--train-limit',
      '640',
      '--validation',
      '64',
      '--batch-size',
      '16',
      '--width',
      '8',
      '--backend',
      'cpu',
      '--save-every-steps',
      '1',
      '--keep-last',
      '3',
      '--max-steps',
      '80',
      '--log-every',
      '1',
    );
    let done = false;
    void training.then(() => (done = true));
    let rounds = 0;
    let sawLive = 0;
    let refusedLive = 0;
    while (!done) {
      rounds += 1;
      const reader = await CheckpointStore.open(workspace, { access: 'read' });
      const listed = reader.catalog.list();
      // Never a half-written checkpoint: every listed folder is whole.
      expect(listed.filter((c) => c.status !== 'unverified' && c.status !== 'verified').map((c) => `${c.id}: ${c.statusReason}`)).toEqual([]);
      const live = listed.filter((c) => c.run === 'live');
      sawLive = Math.max(sawLive, live.length);
      // A checkpoint may go to the trash (keep-last) between listing and verifying: only one
      // that is still there must verify.
      const verifier = await CheckpointStore.open(workspace, { access: 'read' });
      const { results } = await verifier.verify(
        verifier.catalog
          .list()
          .slice(-4)
          .map((c) => c.id),
      );
      for (const result of results) if (fs.existsSync(result.dir)) expect(result.problems).toEqual([]);
      // The run being written is protected from anyone but its writer.
      const deleter = await CheckpointStore.open(workspace, { access: 'write' });
      const target = deleter.catalog.list('live')[0];
      if (target && deleter.catalog.getRun('live')?.writer) {
        const refused = await deleter.delete([target.id]).then(
          () => null,
          (error: unknown) => error,
        );
        if (refused instanceof RefusedError) refusedLive += 1;
        // Deleted: only possible because the trainer had just finished and let go of its run.
        else if (refused === null) expect(await liveLockHolder(deleter.runDir('live')), `${target.id} was deleted while its run was being written`).toBeNull();
        // Otherwise the trainer's own retention moved it to the trash first: not found.
        else expect((refused as { code?: string }).code).toBe('not-found');
      }
      const plan = await deleter.planRetention('old', { policy: { keepLast: 2 } });
      await deleter.applyRetention(plan);
    }
    const result = await training;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(rounds).toBeGreaterThan(3);
    expect(sawLive).toBeGreaterThan(0);
    expect(refusedLive).toBeGreaterThan(0);
    const after = await CheckpointStore.open(workspace, { access: 'read' });
    // keep-last 3 by the trainer; the oldest may have gone to the trash after it finished.
    expect([
      [78, 79, 80],
      [79, 80],
    ]).toContainEqual(after.catalog.list('live').map((c) => c.step));
    expect(after.catalog.list('old').map((c) => c.step)).toEqual([5, 6]);
    const { results } = await after.verify(after.catalog.list().map((c) => c.id));
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it("processes verifying at the same time lose none of each other's cache entries, and never tear the file", { timeout: 120_000 }, async () => {
    const { root: workspace } = makeWorkspace();
    const store = await CheckpointStore.open(workspace);
    const ids: string[] = [];
    for (const run of ['a', 'b', 'c', 'd']) {
      const writer = await store.createRun(run, { parent: null, config: {} });
      for (const step of [1, 2, 3]) ids.push((await writer.save(trainingState(step))) && `${run}/ckpt-00000000${step}`);
      await writer.close();
    }
    // Each process verifies one run's checkpoints, one at a time, so the cache is rewritten often.
    const processes = ['a', 'b', 'c', 'd'].map((run) =>
      spawn(
        process.execPath,
        [
          '-e',
          `
        const { CheckpointStore } = await import(${JSON.stringify(path.join(root, 'dist/electron/core/checkpoint/store.js'))});
        for (let i = 0; i < 5; i += 1) {
          const s = await CheckpointStore.open(${JSON.stringify(workspace)}, { access: 'read' });
          for (const c of s.catalog.list(${JSON.stringify(run)})) {
            const { warnings } = await s.verify([c.id]);
            if (warnings.length > 0) { console.error(warnings.join('\\n')); process.exit(3); }
          }
        }
      `,
          '--input-type=module',
        ],
        { stdio: ['ignore', 'inherit', 'pipe'] },
      ),
    );
    onCleanup(() => processes.forEach((p) => p.kill()));
    const codes = await Promise.all(processes.map((p) => new Promise<number | null>((resolve) => p.on('exit', resolve))));
    expect(codes).toEqual([0, 0, 0, 0]);
    const cache = JSON.parse(fs.readFileSync(path.join(store.root, '.studio', 'verified.json'), 'utf8')) as { entries: Record<string, { ok: boolean }> };
    expect(Object.keys(cache.entries).sort()).toEqual([...ids].sort());
    expect(Object.values(cache.entries).every((e) => e.ok)).toBe(true);
    // Listed as verified by a fresh reader.
    const fresh = await CheckpointStore.open(workspace, { access: 'read' });
    expect(fresh.catalog.list().every((c) => c.status === 'verified')).toBe(true);
  });
});
