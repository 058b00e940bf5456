// Our runs beside folders read in place (issue 16, "Our runs in TensorBoard"): a run we train writes
// a TensorBoard event file beside metrics.jsonl, which the catalog does not take for another
// program's run; the run's history stays what metrics.jsonl holds. A workspace of ours inside the
// folder opened is said, not read as other programs' files (its checkpoints' safetensors files and
// event file would otherwise be listed as runs of their own, open to deletion piece by piece).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isEventFileName } from '../../electron/core/checkpoint/layout.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { copyFixture, openStudio, scratchFolder } from './in-place-helpers.js';

useTempWorkspaces();

const BIN = path.join(REPOSITORY_ROOT, 'bin/checkpoint-studio.js');

beforeAll(() => {
  if (!fs.existsSync(path.join(REPOSITORY_ROOT, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
});

/** Trains a few steps on the CPU into `workspace` (run `ours`), as a user's `checkpoint-studio train` does. */
function trainOurs(workspace: string): void {
  const args = ['train', '--workspace', workspace, '--run', 'ours', '--train-limit', '320', '--validation', '64', '--batch-size', '32', '--width', '16'];
  const result = spawnSync(process.execPath, [BIN, ...args, '--backend', 'cpu', '--max-steps', '6', '--save-every-steps', '3', '--log-every', '1'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
}

describe('our runs among folders read in place', () => {
  it('a trained run has an event file, is listed once as ours, and its history is its metrics.jsonl', { timeout: 60_000 }, async () => {
    const { base, root } = scratchFolder();
    trainOurs(root);
    if (copyFixture(path.join(root, 'tf1'), ['tf1-saver', 'mnist-softmax-10steps']) === null) return;
    expect(fs.readdirSync(path.join(root, 'ours')).filter(isEventFileName)).toHaveLength(1);
    const { api } = await openStudio(root);
    expect((await api.listRuns()).map((r) => [r.name, r.layout])).toEqual([
      ['ours', 'studio'],
      ['tf1', 'tf-folder'],
    ]);
    expect((await api.listCheckpoints({ run: 'ours' })).map((c) => c.id)).toEqual(['ours/ckpt-000000003', 'ours/ckpt-000000006']);
    const lines = fs
      .readFileSync(path.join(root, 'ours', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect((await api.metricHistory({ run: 'ours' })).records).toEqual(lines);

    // The folder around that workspace: its runs are said, never listed as other programs' files; the TF folder beside them still is.
    const { api: outer } = await openStudio(base);
    const snapshot = await outer.snapshot();
    expect(snapshot.runs.map((r) => [r.name, r.layout])).toEqual([['ws/tf1', 'tf-folder']]);
    expect(snapshot.checkpoints.every((c) => c.run === 'ws/tf1')).toBe(true);
    expect(snapshot.skipped).toEqual([
      { name: 'ws/ours', reason: "one of this program's runs, in a workspace inside the one opened; open that workspace to see it" },
    ]);
  });
});
