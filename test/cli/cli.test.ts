// The checkpoint-studio command as a user runs it: the built bin, a real workspace, exit codes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { readSafetensorsHeader } from '../../electron/core/checkpoint/safetensors.js';
import { testData } from '../fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
let workspace = '';

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(...args: string[]): T {
  const result = cli(...args, '--json');
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as T;
}

async function makeWorkspace(): Promise<void> {
  const store = await CheckpointStore.open(workspace);
  const losses = [0.9, 0.3, 0.5, 0.4, 0.6];
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  for (const [i, loss] of losses.entries()) {
    const values = new Float32Array(64).fill(i);
    await writer.save({
      step: (i + 1) * 100,
      epoch: i,
      batchInEpoch: 0,
      trainingTimeMs: i,
      metrics: { loss, accuracy: 1 - loss },
      rng: { i },
      backend: 'cpu',
      parent: null,
      model: [{ name: 'dense/kernel', dtype: 'F32', shape: [8, 8], data: new Uint8Array(values.buffer) }],
      optimizer: [{ name: 'iterations', dtype: 'I64', shape: [], data: new Uint8Array(8) }],
    });
  }
  await writer.close();
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
});
beforeEach(async () => {
  workspace = mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  await makeWorkspace();
});
afterEach(() => rmSync(workspace, { recursive: true, force: true }));

interface Listed {
  checkpoints: { id: string; status: string; step: number }[];
}

describe('checkpoint-studio', () => {
  it('ls prints a table, and --json the catalog', () => {
    const table = cli('ls');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^RUN\s+CHECKPOINT\s+STEP\s+EPOCH\s+STATUS/m);
    expect(table.stdout).toMatch(/alpha\s+ckpt-000000500\s+500\s+4\s+unverified.*latest/);
    const listed = json<Listed>('ls');
    expect(listed.checkpoints.map((c) => c.step)).toEqual([100, 200, 300, 400, 500]);
  });

  it('latest and best pick the right checkpoints', () => {
    expect(json<{ id: string }>('latest').id).toBe('alpha/ckpt-000000500');
    expect(json<{ id: string }>('best', '--metric', 'loss').id).toBe('alpha/ckpt-000000200');
    expect(json<{ id: string }>('best', '--metric', 'accuracy', '--mode', 'max').id).toBe('alpha/ckpt-000000200');
  });

  it('verify exits 1 and names the damaged tensor', () => {
    const file = path.join(workspace, 'alpha/ckpt-000000300/model.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const result = cli('verify');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`DAMAGED  ${path.join(workspace, 'alpha/ckpt-000000300')}`);
    expect(result.stdout).toContain('tensor "dense/kernel": CRC32C mismatch');
    expect(result.stdout).toContain('4 verified, 1 damaged');
    // The damaged one is no longer anyone's best or latest.
    expect(json<Listed>('ls').checkpoints.find((c) => c.step === 300)?.status).toBe('damaged');
  });

  it('prune --dry-run deletes nothing; prune moves to the trash; trash restore --last undoes it', () => {
    const dry = cli('prune', '--keep-last', '2', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('alpha: keep 2, would delete 3');
    expect(json<Listed>('ls').checkpoints).toHaveLength(5);

    const real = cli('prune', '--keep-last', '1', '--keep-best', '1', '--metric', 'loss');
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/\+ alpha\/ckpt-000000200 .*best loss/);
    expect(json<Listed>('ls').checkpoints.map((c) => c.step)).toEqual([200, 500]);
    expect(json<unknown[]>('trash', 'ls')).toHaveLength(3);

    expect(cli('trash', 'restore', '--last').code).toBe(0);
    expect(json<Listed>('ls').checkpoints.map((c) => c.step)).toEqual([100, 200, 300, 400, 500]);
  });

  it('rm refuses what is not a checkpoint of the workspace, with exit 1 and the reason', () => {
    const outside = cli('rm', '/etc/hostname');
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('/etc/hostname: refused: outside the workspace');
    const run = cli('rm', path.join(workspace, 'alpha'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('not a checkpoint');
    const escape = cli('rm', path.join(workspace, 'alpha', '..', '..', 'ckpt-000000100'));
    expect(escape.code).toBe(1);
    expect(escape.stderr).toContain('outside the workspace');
    expect(json<Listed>('ls').checkpoints).toHaveLength(5);
  });

  it('pin protects from rm; purge empties the trash', () => {
    expect(cli('pin', 'alpha/ckpt-000000100').code).toBe(0);
    const refused = cli('rm', 'alpha/ckpt-000000100');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pinned');
    expect(cli('rm', 'alpha/ckpt-000000200').code).toBe(0);
    expect(cli('rm', 'alpha/ckpt-000000300').code).toBe(0);
    const entries = json<{ id: string; batch: string; checkpointId: string }[]>('trash', 'ls');
    expect(entries).toHaveLength(2);
    expect(cli('trash', 'purge', '--older-than', '1d').stdout).toContain('Purged 0 entries');
    const unknown = cli('trash', 'purge', '--batch', '000000000999');
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('no such batch in the trash')]);
    const first = entries.find((e) => e.checkpointId === 'alpha/ckpt-000000200');
    expect(cli('trash', 'purge', '--batch', first?.batch ?? '').stdout).toContain('Purged 1 entries');
    expect(json<{ checkpointId: string }[]>('trash', 'ls').map((e) => e.checkpointId)).toEqual(['alpha/ckpt-000000300']);
    expect(cli('trash', 'purge').stdout).toContain('Purged 1 entries');
    expect(json<unknown[]>('trash', 'ls')).toHaveLength(0);
  });

  it('inspect lists tensors of a checkpoint and of a bare safetensors file', async () => {
    const rows = json<{ name: string; dtype: string; shape: number[]; bytes: number }[]>('inspect', 'alpha/ckpt-000000100');
    expect(rows).toContainEqual({ file: 'model.safetensors', name: 'dense/kernel', dtype: 'F32', shape: [8, 8], bytes: 256 });
    expect(rows).toContainEqual({ file: 'optimizer.safetensors', name: 'iterations', dtype: 'I64', shape: [], bytes: 8 });
    const fixture = testData('hf-safetensors-samples', 'overall.safetensors');
    const header = await readSafetensorsHeader(fixture);
    const bare = json<unknown[]>('inspect', fixture);
    expect(bare).toHaveLength(header.tensors.length);
  });

  it('usage errors exit 2 with a message', () => {
    const missing = cli('best');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--metric <name>'");
    const keepBest = cli('prune', '--keep-best', '2');
    expect(keepBest.code).toBe(2);
    expect(keepBest.stderr).toContain('--keep-best needs --metric');
  });

  it('a damaged run.json or manifest is reported with its file name, not a stack trace', () => {
    writeFileSync(path.join(workspace, 'alpha/ckpt-000000100/manifest.json'), '{"format": "checkpoint-studio", ');
    const listed = json<{ checkpoints: { step: number; status: string; statusReason: string }[] }>('ls');
    const broken = listed.checkpoints.find((c) => c.step === 100);
    expect(broken?.status).toBe('damaged');
    expect(broken?.statusReason).toContain('ckpt-000000100/manifest.json: not valid JSON');
  });
});
