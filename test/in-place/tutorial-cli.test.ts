// The tutorial's case as a new user meets it (issue 16, "Why"): a TF1 Saver folder given to the
// built command as --workspace, spawned as a user runs it. ls lists the ten groups, latest prints
// what tf.train.latest_checkpoint returns, rm takes the group by its path or its id, the state file
// is then what TensorFlow writes, prune keeps the newest, and `trash restore --last` undoes each.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointInfo, TrashEntry } from '../../electron/contract.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { TUTORIAL_STEPS, copyFixture, folderRecord, groupFiles, saverStateText, scratchFolder, tutorialFolder } from './in-place-helpers.js';

useTempWorkspaces();

const BIN = path.join(REPOSITORY_ROOT, 'bin/checkpoint-studio.js');

/** Runs the command from the folder holding the workspace, as the user does (`--workspace that-folder`). */
function cli(root: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args, '--workspace', path.basename(root)], { cwd: path.dirname(root), encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(root: string, ...args: string[]): T {
  const result = cli(root, ...args, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const state = (root: string): string => fs.readFileSync(path.join(root, 'checkpoint'), 'utf8');
const models = (steps: readonly number[]): string[] => steps.map((s) => `model-${s}`);
const without = (...gone: number[]): number[] => TUTORIAL_STEPS.filter((s) => !gone.includes(s));

beforeAll(() => {
  if (!fs.existsSync(path.join(REPOSITORY_ROOT, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
});

describe("checkpoint-studio on the tutorial's folder", () => {
  it('ls lists the ten groups with their .meta; latest prints the prefix tf.train.latest_checkpoint returns; neither writes anything', () => {
    const root = tutorialFolder();
    if (root === null) return;
    const before = folderRecord(root);
    const table = cli(root, 'ls');
    expect(table.code).toBe(0);
    for (const step of TUTORIAL_STEPS) expect(table.stdout).toMatch(new RegExp(`^\\.\\s+model-${step}\\s+${step}\\s`, 'm'));
    expect(table.stdout).toMatch(/^\.\s+model-10000\s.*latest/m);
    const listed = json<{ checkpoints: CheckpointInfo[] }>(root, 'ls');
    expect(listed.checkpoints.map((c) => [c.id, c.files?.map((f) => f.name).sort()])).toEqual(models(TUTORIAL_STEPS).map((m) => [m, groupFiles(m)]));

    const latest = cli(root, 'latest');
    expect(latest.code).toBe(0);
    // The prefix path alone, as tf.train.latest_checkpoint(dir) returns it.
    expect(latest.stdout.trim()).toBe(path.join(fs.realpathSync(root), 'model-10000'));
    // Reading wrote nothing: no .studio, no .trash, every file and time as it was.
    expect(folderRecord(root)).toEqual(before);
  });

  it('rm by path and by id move whole groups, the state file as TensorFlow writes it; trash restore --last undoes each', () => {
    const root = tutorialFolder();
    if (root === null) return;
    const originalState = state(root);
    const original = folderRecord(root);

    // `rm that-folder/model-5000`, the issue's own words.
    const byPath = json<TrashEntry[]>(root, 'rm', `${path.basename(root)}/model-5000`);
    expect(byPath.map((e) => e.checkpointId)).toEqual(['model-5000']);
    for (const name of groupFiles('model-5000')) {
      expect(fs.existsSync(path.join(root, name))).toBe(false);
      expect(fs.existsSync(path.join(root, '.trash', byPath[0]?.id ?? '', 'payload', name))).toBe(true);
    }
    expect(state(root)).toBe(saverStateText('model-10000', models(without(5000))));

    // By id, the latest: model_checkpoint_path names the newest that remains.
    expect(json<TrashEntry[]>(root, 'rm', 'model-10000').map((e) => e.checkpointId)).toEqual(['model-10000']);
    expect(state(root)).toBe(saverStateText('model-9000', models(without(5000, 10000))));
    expect(json<CheckpointInfo>(root, 'latest').id).toBe('model-9000');

    expect(cli(root, 'trash', 'restore', '--last').code).toBe(0);
    expect(state(root)).toBe(saverStateText('model-10000', models(without(5000))));
    expect(cli(root, 'trash', 'restore', '--last').code).toBe(0);
    expect(state(root)).toBe(originalState);
    const after = folderRecord(root, { skip: ['.studio', '.trash'] });
    for (const record of [after, original]) {
      record.delete('');
      record.delete('checkpoint');
    }
    expect([...after]).toEqual([...original]);
    expect(json<TrashEntry[]>(root, 'trash', 'ls')).toEqual([]);
  });

  it('rm is refused while the folder is busy, naming it; --quiet-seconds 0 lets it go', () => {
    const root = tutorialFolder(0);
    if (root === null) return;
    const busy = cli(root, 'rm', 'model-1000');
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toContain(`${fs.realpathSync(root)}: refused: busy:`);
    expect(fs.existsSync(path.join(root, 'model-1000.index'))).toBe(true);
    expect(json<TrashEntry[]>(root, 'rm', 'model-1000', '--quiet-seconds', '0').map((e) => e.checkpointId)).toEqual(['model-1000']);
  });

  it('prune --keep-last 2 moves the eight oldest in one batch with the state file rewritten once; undo restores all', () => {
    const root = tutorialFolder();
    if (root === null) return;
    const originalState = state(root);
    const pruned = json<{ trashed: TrashEntry[] }>(root, 'prune', '--keep-last', '2');
    expect(pruned.trashed.map((e) => e.checkpointId).sort()).toEqual(models(without(9000, 10000)).sort());
    expect(new Set(pruned.trashed.map((e) => e.batch)).size).toBe(1);
    expect(state(root)).toBe(saverStateText('model-10000', models([9000, 10000])));
    const restored = cli(root, 'trash', 'restore', '--last');
    expect(restored.code).toBe(0);
    expect(state(root)).toBe(originalState);
    expect(json<{ checkpoints: CheckpointInfo[] }>(root, 'ls').checkpoints).toHaveLength(10);
  });

  it('set-latest rolls the pointer back for the unchanged script', () => {
    const root = tutorialFolder();
    if (root === null) return;
    const set = cli(root, 'set-latest', 'model-3000');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('model-3000 is now the latest of the folder');
    expect(state(root)).toBe(saverStateText('model-3000', [...models(without(3000)), 'model-3000']));
    expect(json<CheckpointInfo>(root, 'latest').id).toBe('model-3000');
  });

  it('ls of a TensorBoard log folder names its runs with metrics only, and does not tell the user to train there', () => {
    const root = copyFixture(scratchFolder().root, ['tensorboard']);
    if (root === null) return;
    const table = cli(root, 'ls');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('2 runs with metrics only');
    expect(table.stdout).toMatch(/^ {2}tf2-summary-scalar {2}TensorBoard run$/m);
    expect(table.stdout).not.toContain('Train a first model');
  });
});
