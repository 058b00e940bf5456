// The data-safety promises as a user meets them on the command line: odd files never hang a
// command, a closed pipe is not a crash, reading changes nothing, and a cache that cannot be
// written never hides a verification's result.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { temporaryName } from '../../electron/core/base/temporaries.js';
import { liveProcess, rewriteManifest, trainingState } from '../store/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
/** Generous for a loaded CI machine; a FIFO hang would wait forever. */
const COMMAND_TIMEOUT_MS = 20_000;
let base = '';
let workspace = '';

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Result {
  const result = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A command that returned by itself, failed or not, and said nothing a user should not see. */
function expectClean(result: Result, what: string): void {
  expect(result.code, `${what} hung or was killed; stderr: ${result.stderr}`).not.toBeNull();
  expect(result.stderr, what).not.toMatch(/^\s+at /m);
  expect(result.stderr, what).not.toMatch(/internal error|TypeError|RangeError/);
}

async function makeWorkspace(steps = [100, 200, 300]): Promise<void> {
  const store = await CheckpointStore.open(workspace);
  const writer = await store.createRun('r1', { parent: null, config: {} });
  for (const step of steps) await writer.save(trainingState(step));
  await writer.close();
}

function mkfifo(file: string): void {
  fs.rmSync(file, { recursive: true, force: true });
  execFileSync('mkfifo', [file]);
}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
});
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-safety-'));
  workspace = path.join(base, 'ws');
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const READ_COMMANDS: readonly string[][] = [
  ['ls'],
  ['ls', '--json'],
  ['verify'],
  ['latest'],
  ['best', '--metric', 'loss'],
  ['inspect', 'r1/ckpt-000000200'],
  ['diff', 'r1/ckpt-000000100', 'r1/ckpt-000000200'],
  ['prune', '--dry-run', '--keep-last', '1'],
  ['trash', 'ls'],
];

describe('reads never block', () => {
  const places: [string, string][] = [
    ['manifest.json', 'r1/ckpt-000000200/manifest.json'],
    ['a tensor file', 'r1/ckpt-000000200/model.safetensors'],
    ['run.json', 'r1/run.json'],
    ['retention.json', 'r1/retention.json'],
    ['the lock', 'r1/.lock'],
    ['the verify cache', '.studio/verified.json'],
  ];
  it.each(places)('a named pipe in place of %s hangs no command, and is named as what it is', async (_what, relative) => {
    await makeWorkspace();
    fs.mkdirSync(path.join(workspace, '.studio'), { recursive: true });
    mkfifo(path.join(workspace, relative));
    for (const command of READ_COMMANDS) expectClean(cli(...command), command.join(' '));
    if (relative.startsWith('r1/ckpt-000000200/')) {
      const listed = JSON.parse(cli('ls', '--json').stdout) as { checkpoints: { step: number; status: string; statusReason: string }[] };
      const odd = listed.checkpoints.find((c) => c.step === 200);
      expect(odd?.status).toBe('damaged');
      expect(odd?.statusReason).toContain(`${relative.split('/').pop()}: is a named pipe (FIFO), not a regular file`);
      const resume = cli('train', '--resume', 'r1/ckpt-000000200', '--max-steps', '1');
      expectClean(resume, 'train --resume');
      expect(resume.code).toBe(1);
      expect(resume.stderr).toContain('cannot be resumed from: it is damaged');
      expect(cli('inspect', path.join(workspace, relative)).stderr).toContain('is a named pipe (FIFO), not a regular file');
    }
  });
});

describe('a closed output pipe is not a crash', () => {
  it('ls --json into a reader that goes away after the first bytes exits 0 quietly', async () => {
    await makeWorkspace([1]);
    // Enough checkpoints that the listing is larger than a pipe's buffer.
    const one = path.join(workspace, 'r1', 'ckpt-000000001');
    for (let step = 2; step <= 200; step += 1) {
      const dir = path.join(workspace, 'r1', `ckpt-${String(step).padStart(9, '0')}`);
      fs.cpSync(one, dir, { recursive: true });
      rewriteManifest(dir, (m) => {
        m.step = step;
      });
    }
    const result = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${bin}" ls --json --workspace "${workspace}" | head -c 100 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`],
      {
        encoding: 'utf8',
        timeout: COMMAND_TIMEOUT_MS,
      },
    );
    expect(result.stderr.trim()).toBe('status 0');
  });

  it('train whose output pipe closes goes on to its normal end and saves', { timeout: 120_000 }, async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'train',
        '--run',
        'piped',
        '--train-limit',
        '320',
        '--validation',
        '64',
        '--batch-size',
        '32',
        '--width',
        '8',
        '--backend',
        'cpu',
        '--max-steps',
        '15',
        '--log-every',
        '1',
        '--json',
        '--workspace',
        workspace,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Read the first line, then go away, as `| head -n1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const store = await CheckpointStore.open(workspace, { access: 'read' });
    expect(store.catalog.list('piped').map((c) => c.step)).toEqual([15]);
  });
});

describe('reading changes nothing', () => {
  it('a missing workspace is not found, named, and not created, by any command but train', () => {
    for (const command of [...READ_COMMANDS, ['rm', 'r1/ckpt-000000100'], ['pin', 'r1/ckpt-000000100'], ['prune', '--keep-last', '1'], ['trash', 'purge']]) {
      const result = cli(...command);
      expectClean(result, command.join(' '));
      expect(result.code, command.join(' ')).toBe(1);
      expect(result.stderr).toContain(`${workspace}: no such workspace folder`);
      expect(fs.existsSync(workspace)).toBe(false);
    }
  });

  it("no command removes a user's .tmp-* files, nor a live process's temporaries", async () => {
    await makeWorkspace();
    const holder = liveProcess();
    const files = [
      path.join(workspace, '.tmp-notes'),
      path.join(workspace, 'r1', '.tmp-notes'),
      path.join(workspace, 'r1', '.lock.stale-x'),
      // Another process's verify cache, mid-write.
      path.join(workspace, '.studio', temporaryName('verified.json', holder.pid)),
    ];
    fs.mkdirSync(path.join(workspace, '.studio'), { recursive: true });
    for (const file of files) fs.writeFileSync(file, 'mine');
    for (const command of [...READ_COMMANDS, ['rm', 'r1/ckpt-000000100'], ['pin', 'r1/ckpt-000000200'], ['trash', 'restore', '--last'], ['trash', 'purge']]) {
      expectClean(cli(...command), command.join(' '));
      for (const file of files) expect(fs.readFileSync(file, 'utf8'), `${file} after ${command.join(' ')}`).toBe('mine');
    }
    holder.kill();
  });
});

describe('verify without its cache', () => {
  it.each([
    ['verified.json is a folder', (studio: string) => fs.mkdirSync(path.join(studio, 'verified.json'), { recursive: true })],
    ['.studio is a file', (studio: string) => fs.writeFileSync(studio, 'not a folder')],
  ])('still reports its results when %s, with one warning line', async (_what, spoil) => {
    await makeWorkspace();
    spoil(path.join(workspace, '.studio'));
    const result = cli('verify');
    expectClean(result, 'verify');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('3 verified, 0 damaged');
    const warnings = result.stderr.trim().split('\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: the results were not remembered for next time: .*verified\.json: /);
  });
});
