// What a user hit on the command line: every error is one line naming the flag or the file,
// with exit 2 for a usage error and 1 for anything else, and nothing slow before it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
let base = '';
let workspace = '';

function run(cwd: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const cli = (...args: string[]): ReturnType<typeof run> => run(base, ...args, '--workspace', workspace);

beforeEach(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-usage-'));
  workspace = path.join(base, 'ws');
  const store = await CheckpointStore.open(workspace);
  for (const name of ['a', 'b']) {
    const writer = await store.createRun(name, { parent: null, config: {} });
    for (const step of [1, 2, 3]) await writer.save(trainingState(step));
    await writer.close();
  }
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

function expectOneLine(result: ReturnType<typeof run>, code: number, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('(run with --help'));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('errors name the flag or the file', () => {
  it('bad flag values are usage errors (exit 2) naming the flag, never raw JSON', () => {
    expectOneLine(
      cli('prune', '--keep-every-hours', 'abc', '--dry-run'),
      2,
      /option '--keep-every-hours <h>' argument 'abc' is invalid\. expected a number above zero/,
    );
    expectOneLine(cli('prune', '--max-size', '0', '--dry-run'), 2, /option '--max-size <size>' argument '0' is invalid\. expected a size above zero/);
    expectOneLine(cli('prune', '--max-size', 'lots', '--dry-run'), 2, /option '--max-size <size>' argument 'lots' is invalid\. "lots" is not a size/);
    expectOneLine(cli('trash', 'purge', '--older-than', '5x'), 2, /option '--older-than <age>' argument '5x' is invalid\. "5x" is not a duration/);
    expectOneLine(cli('train', '--batch-size', '-3'), 2, /option '--batch-size <n>' argument '-3' is invalid/);
  });

  it('a missing workspace is not found (exit 1), named, distinct from a refusal', () => {
    const typo = path.join(base, 'typo');
    expectOneLine(run(base, 'latest', '--workspace', typo), 1, new RegExp(`${typo}: no such workspace folder`));
    expectOneLine(run(base, 'ls', '--workspace', typo), 1, /no such workspace folder/);
    expect(fs.existsSync(typo)).toBe(false);
  });

  it('a first start (ls on the default workspace, which does not exist yet) explains what to do, and creates nothing', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-first-'));
    try {
      const first = run(empty, 'ls');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('No workspace at ./checkpoints yet.');
      expect(first.stdout).toContain('Train a first model with: checkpoint-studio train');
      expect(fs.readdirSync(empty)).toEqual([]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('prune --save-policy needs --run or --all-runs, and --dry-run says it saved nothing', async () => {
    expectOneLine(cli('prune', '--keep-last', '1', '--save-policy'), 2, /--save-policy needs --run NAME, or --all-runs/);
    const dry = cli('prune', '--keep-last', '1', '--save-policy', '--run', 'a', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stderr.trim()).toBe('--dry-run: the policy was not saved');
    expect(fs.existsSync(path.join(workspace, 'a', 'retention.json'))).toBe(false);
    expect(cli('prune', '--keep-last', '2', '--save-policy', '--all-runs', '--dry-run').code).toBe(0);
    expect(cli('prune', '--keep-last', '2', '--save-policy', '--all-runs').code).toBe(0);
    for (const name of ['a', 'b']) expect(JSON.parse(fs.readFileSync(path.join(workspace, name, 'retention.json'), 'utf8')).policy).toEqual({ keepLast: 2 });
  });

  it('train checks its arguments before loading TensorFlow.js or the data', () => {
    const missing = cli('train', '--data', path.join(base, 'nowhere'));
    expectOneLine(missing, 1, /nowhere: missing train-images-idx3-ubyte/);
    const noValidation = cli('train', '--validation', '0', '--save-best', 'val_loss');
    expectOneLine(noValidation, 2, /needs a validation split/);
    const taken = cli('train', '--run', 'a');
    expectOneLine(taken, 1, /a run with this name already exists/);
    const tooBig = cli('train', '--validation', '70000');
    expectOneLine(tooBig, 2, /the validation split \(70000\) must be smaller than the 60000 training examples/);
    // Each answered in its one line, without a trainer's start-up output, and no run was created
    // (.studio/, the catalog's index, may appear: a listing writes it once the files have settled,
    // which on a loaded machine happens before the command runs).
    expect(
      fs
        .readdirSync(workspace)
        .filter((name) => name !== '.studio')
        .sort(),
    ).toEqual(['a', 'b']);
  });
});

describe('a checkpoint in the trash', () => {
  it('train --resume from it says it is in the trash and gives the command that restores it', () => {
    const removed = cli('rm', 'a/ckpt-000000002', '--json');
    expect(removed.code, removed.stderr).toBe(0);
    const [entry] = JSON.parse(removed.stdout) as { id: string; batch: string }[];
    const resumed = cli('train', '--resume', 'a/ckpt-000000002');
    expectOneLine(
      resumed,
      1,
      new RegExp(
        `a/ckpt-000000002: in the trash \\(deleted by hand, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC; batch ${entry?.batch}\\): restore it first with \`checkpoint-studio trash restore ${entry?.id}\` or the Trash view's Restore$`,
      ),
    );
    // The command it gives works.
    expect(cli('trash', 'restore', entry?.id ?? '').code).toBe(0);
    expect(fs.existsSync(path.join(workspace, 'a', 'ckpt-000000002'))).toBe(true);
  });
});

describe('verify and inspect take any checkpoint folder', () => {
  it('outside the default workspace, from another folder', () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-elsewhere-'));
    try {
      const folder = path.join(workspace, 'a', 'ckpt-000000002');
      const verified = run(elsewhere, 'verify', folder);
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
      expect(verified.stdout).toContain(`ok       ${folder}`);
      const inspected = run(elsewhere, 'inspect', folder, '--json');
      expect(inspected.code).toBe(0);
      expect((JSON.parse(inspected.stdout) as { name: string }[]).map((r) => r.name)).toContain('dense/kernel');
      // Copied out of its workspace, it is read on its own.
      fs.cpSync(folder, path.join(elsewhere, 'copy'), { recursive: true });
      expect(run(elsewhere, 'verify', 'copy').code).toBe(0);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
