// SIGKILL a real writer process at many different moments: the workspace must afterwards hold
// only complete checkpoints that verify, and a new writer must take over the run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';

const child = fileURLToPath(new URL('./fixtures/writer-loop.ts', import.meta.url));
let workspace = '';

afterEach(() => rmSync(workspace, { recursive: true, force: true }));

/** Starts a writer and kills it `delayMs` after it announces its second save. */
function runUntilKilled(delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, workspace, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let announced = 0;
    let stderr = '';
    let aimed = false;
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      announced += d
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('saving')).length;
      if (announced >= 2 && !aimed) {
        aimed = true;
        setTimeout(() => proc.kill('SIGKILL'), delayMs);
      }
    });
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited ${code}: ${stderr}`));
    });
  });
}

describe('a writer killed mid-save', () => {
  it('leaves only complete, verifiable checkpoints, and the run can be continued', async () => {
    workspace = mkdtempSync(path.join(os.tmpdir(), 'kill-writer-'));
    // Delays spread the kill over the phases of a 32 MB save (tens of ms here).
    const delays = [0, 2, 5, 10, 15, 25, 40, 60];
    const runDir = path.join(workspace, 'run');
    let killedMidSave = 0;
    for (const delay of delays) {
      await runUntilKilled(delay);
      const inFlight = readdirSync(runDir).filter((n) => n.startsWith('.tmp-studio.') && n.endsWith('.ckpt-' + n.split('.ckpt-')[1]));
      if (inFlight.length > 0) killedMidSave += 1;
      // Whatever the moment, every listed checkpoint is whole (checked before the next writer
      // starts, since opening a workspace clears a dead writer's .tmp-* folders).
      const store = await CheckpointStore.open(workspace);
      expect(store.opened.removed.filter((p) => p.includes('.ckpt-')).length).toBe(inFlight.length);
      const listed = store.catalog.list('run');
      expect(listed.filter((c) => c.status !== 'unverified' && c.status !== 'verified')).toEqual([]);
      const { results } = await store.verify(listed.map((c) => c.id));
      expect(results.filter((r) => !r.ok)).toEqual([]);
    }
    // The test is only meaningful if kills really landed inside saves.
    expect(killedMidSave).toBeGreaterThan(0);

    const store = await CheckpointStore.open(workspace);
    expect(readdirSync(runDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);

    // The stale lock of the last killed writer is taken over, and latest resumes.
    const latest = store.resolve('latest', { run: 'run' });
    const writer = await store.openRunWriter('run');
    const loaded = await store.load(latest.id);
    expect(loaded.manifest.step).toBe(latest.step);
    await writer.close();
  }, 120_000);
});
