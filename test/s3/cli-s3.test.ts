// The checkpoint-studio command on a workspace in S3, as a user runs it against a real Ceph
// gateway: the built bin, credentials and endpoint from the environment as the AWS tools take
// them, --workspace s3://…, exit codes and one-sentence errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogSnapshot, CheckpointInfo, TrashEntry } from '../../electron/contract.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
const WORKSPACE = 's3://cli-s3/team/ws';

function cli(args: readonly string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...gatewayEnv(), ...env } });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(...args: string[]): T {
  const result = cli([...args, '--workspace', WORKSPACE, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function keys(storage: S3Storage): Promise<string[]> {
  const found: string[] = [];
  for await (const object of storage.list('')) found.push(`${object.key}@${object.tag ?? ''}`);
  return found;
}

describe.skipIf(!s3Available())('the command line on a workspace in S3', () => {
  const storageOf = useS3Storage(WORKSPACE, async (storage) => {
    await storage.write('mnist/run.json', JSON.stringify({ formatVersion: 1, name: 'mnist', createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {} }));
    const lease = await acquireLease(storage, 'mnist/.lock/');
    for (const [step, loss] of [
      [100, 0.9],
      [200, 0.3],
      [300, 0.5],
      [400, 0.4],
    ] as const)
      await commitCheckpoint(storage, lease, 'mnist/', 'mnist', trainingState(step, { loss }));
    await lease.release();
    // A save a crash cut short, and another program's object.
    await storage.write('mnist/ckpt-000000500/model.safetensors', 'partial');
    await storage.write('notes/readme.txt', 'not ours');
  });
  let storage: S3Storage;
  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
    storage = storageOf();
  });

  it('ls lists the committed checkpoints (not a cut save, not other programs’ objects), and reading writes nothing', async () => {
    const before = await keys(storage);
    const listed = json<CatalogSnapshot>('ls');
    expect(listed.workspace).toBe(`${WORKSPACE}/`);
    expect(listed.checkpoints.map((c) => c.id)).toEqual(['mnist/ckpt-000000100', 'mnist/ckpt-000000200', 'mnist/ckpt-000000300', 'mnist/ckpt-000000400']);
    expect(listed.runs[0]?.notes.join(' ')).toMatch(/1 checkpoint folder without a manifest/);
    const table = cli(['ls', '--workspace', WORKSPACE]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/4 checkpoints in 1 run/);
    expect(await keys(storage)).toEqual(before);
  });

  it('latest and best answer as on disk; inspect lists a checkpoint’s tensors from its manifest', () => {
    expect(json<CheckpointInfo>('latest').id).toBe('mnist/ckpt-000000400');
    expect(json<CheckpointInfo>('best', '--metric', 'loss').id).toBe('mnist/ckpt-000000200');
    const rows = json<{ file: string; name: string; shape: number[] }[]>('inspect', 'mnist/ckpt-300');
    expect(rows.map((r) => `${r.file}:${r.name}:${r.shape.join('x')}`).sort()).toEqual(
      trainingState(300)
        .model.map((t) => `model.safetensors:${t.name}:${t.shape.join('x')}`)
        .concat(trainingState(300).optimizer.map((t) => `optimizer.safetensors:${t.name}:${t.shape.join('x')}`))
        .sort(),
    );
  });

  it('verify reads every tensor and says which are whole', () => {
    const result = cli(['verify', '--workspace', WORKSPACE]);
    expect(result.stdout).toMatch(/4 verified, 0 damaged/);
    expect(result.code).toBe(0);
  });

  it('rm refuses a pinned checkpoint in one sentence; deletes others with undo; trash restore --last brings them back', () => {
    expect(cli(['pin', 'mnist/ckpt-200', '--workspace', WORKSPACE]).code).toBe(0);
    const refused = cli(['rm', 'mnist/ckpt-000000200', '--workspace', WORKSPACE]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toBe(`checkpoint-studio: ${WORKSPACE}/mnist/ckpt-000000200: refused: pinned; unpin it first`);
    const removed = cli(['rm', 'mnist/ckpt-000000100', 'mnist/ckpt-000000300', '--workspace', WORKSPACE]);
    expect(removed.code).toBe(0);
    expect(json<CatalogSnapshot>('ls').checkpoints.map((c) => c.step)).toEqual([200, 400]);
    expect(
      json<TrashEntry[]>('trash', 'ls')
        .map((e) => e.checkpointId)
        .sort(),
    ).toEqual(['mnist/ckpt-000000100', 'mnist/ckpt-000000300']);
    expect(cli(['trash', 'restore', '--last', '--workspace', WORKSPACE]).code).toBe(0);
    expect(json<CatalogSnapshot>('ls').checkpoints.map((c) => c.step)).toEqual([100, 200, 300, 400]);
    expect(cli(['unpin', 'mnist/ckpt-200', '--workspace', WORKSPACE]).code).toBe(0);
  });

  it('prune --dry-run deletes nothing; prune keeps the last N (and what pins protect)', () => {
    const dry = cli(['prune', '--run', 'mnist', '--keep-last', '1', '--dry-run', '--workspace', WORKSPACE]);
    expect(dry.code).toBe(0);
    expect(json<CatalogSnapshot>('ls').checkpoints).toHaveLength(4);
    expect(cli(['pin', 'mnist/ckpt-100', '--workspace', WORKSPACE]).code).toBe(0);
    const pruned = cli(['prune', '--run', 'mnist', '--keep-last', '1', '--workspace', WORKSPACE]);
    expect(pruned.code).toBe(0);
    expect(json<CatalogSnapshot>('ls').checkpoints.map((c) => c.step)).toEqual([100, 400]);
  });

  it('says a missing bucket, wrong credentials and a bad address in one sentence each, without a stack', () => {
    const missing = cli(['ls', '--workspace', 's3://no-such-bucket-cli/x']);
    expect(missing.stderr.trim()).toBe('checkpoint-studio: s3://no-such-bucket-cli/x/: the bucket does not exist (or these credentials cannot see it)');
    const wrong = cli(['ls', '--workspace', WORKSPACE], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(wrong.stderr.trim()).toMatch(
      /^checkpoint-studio: s3:\/\/cli-s3\/team\/ws\/: refused: the store does not accept these credentials \(SignatureDoesNotMatch\)/,
    );
    const bad = cli(['ls', '--workspace', 's3://Not_A_Bucket/x']);
    expect(bad.stderr.trim()).toMatch(/"Not_A_Bucket" is not a bucket name/);
    for (const result of [missing, wrong, bad]) {
      expect(result.code).not.toBe(0);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('train saves into S3 keeping the last 2, and train --resume latest continues from the bucket: the new run’s parent is protected', () => {
    const where = ['--workspace', `${WORKSPACE}-trained`];
    const small = ['--train-limit', '256', '--batch-size', '64', '--backend', 'cpu', '--log-every', '1'];
    const first = cli(['train', '--run', 'base', '--epochs', '1', '--save-every-steps', '1', '--keep-last', '2', ...small, ...where]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const resumed = cli(['train', '--resume', 'latest', '--run', 'more', '--epochs', '2', ...small, ...where]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resum|continu/i);
    const listed = JSON.parse(cli(['ls', '--json', ...where]).stdout) as CatalogSnapshot;
    // 4 steps an epoch; the trainer applied --keep-last 2 as it saved, and the continuation keeps its parent's policies.
    expect(listed.checkpoints.map((c) => c.id)).toEqual(['base/ckpt-000000003', 'base/ckpt-000000004', 'more/ckpt-000000007', 'more/ckpt-000000008']);
    expect(listed.runs.find((r) => r.name === 'more')?.parent).toEqual({ run: 'base', step: 4 });
    const refused = cli(['rm', 'base/ckpt-000000004', ...where]);
    expect(refused.stderr).toMatch(/parent of run "more"/);
  }, 120_000);

  it('import copies a bucket’s run into a folder workspace, a folder’s run into the bucket, and export writes a bucket’s checkpoint as a file', () => {
    const local = mkdtempSync(path.join(os.tmpdir(), 'cli-s3-'));
    try {
      const down = cli(['import', `${WORKSPACE}/mnist`, '--workspace', path.join(local, 'ws')]);
      expect(down.stdout).toMatch(new RegExp(`imported ${WORKSPACE}/mnist -> \\d+ checkpoints into run mnist`));
      expect(down.code).toBe(0);
      const copied = JSON.parse(cli(['ls', '--json', '--workspace', path.join(local, 'ws')]).stdout) as CatalogSnapshot;
      expect(copied.checkpoints.map((c) => c.status)).toEqual(copied.checkpoints.map(() => 'verified'));

      const up = cli(['import', path.join(local, 'ws', 'mnist'), '--run', 'back', '--workspace', WORKSPACE]);
      expect(up.code).toBe(0);
      const listed = json<CatalogSnapshot>('ls');
      expect(listed.checkpoints.filter((c) => c.run === 'back').map((c) => c.step)).toEqual(copied.checkpoints.map((c) => c.step));
      expect(cli(['verify', 'back/ckpt-400', '--workspace', WORKSPACE]).code).toBe(0);

      const out = path.join(local, 'best.safetensors');
      const exported = cli(['export', 'mnist/ckpt-400', out, '--format', 'safetensors', '--workspace', WORKSPACE]);
      expect(exported.code).toBe(0);
      expect(existsSync(out)).toBe(true);
      // Nothing of the staging copies is left behind.
      expect(readdirSync(os.tmpdir()).filter((n) => n.startsWith('checkpoint-studio-s3-') || n.startsWith('checkpoint-studio-import-'))).toEqual([]);
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  }, 120_000);
});
