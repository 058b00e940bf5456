// The command line on another program's folder read in place from S3 (issue 18), run by the built
// bin with the gateway's endpoint and credentials in the environment: `pin`, `rm`, `trash ls`,
// `trash restore --last` and `prune --keep-last` with `--workspace s3://…`, the TensorFlow state
// file read back with its own parser after each change, and put back byte for byte by undo.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointInfo, TrashEntry } from '../../electron/contract.js';
import { parseCheckpointState } from '../../electron/core/formats/tf/checkpoint-state.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, storageAt, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
const saver = path.resolve(root, '../shared/fixtures/tf1-saver/mnist-softmax-10steps');
const WORKSPACE = 's3://s3placetrash-cli/tf-run';

function cli(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args, '--workspace', WORKSPACE, '--quiet-seconds', '0'], {
    encoding: 'utf8',
    env: { ...process.env, ...gatewayEnv() },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(...args: string[]): T {
  const result = cli([...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe.skipIf(!s3Available() || !fs.existsSync(saver))('the command line deletes, restores, prunes and pins in a folder read in place from S3', () => {
  const storageOf = useS3Storage(`${WORKSPACE}/`, async (storage) => {
    for (const name of fs.readdirSync(saver).sort()) await storage.write(name, fs.readFileSync(path.join(saver, name)));
  });
  let storage: S3Storage;
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
    storage = storageOf();
  });

  const state = async () => parseCheckpointState(new TextDecoder().decode(await storage.read('checkpoint')), 'checkpoint');

  it('rm, trash ls, trash restore --last, pin, prune --keep-last, and a pinned one refused', async () => {
    // Beside the workspace's prefix, in the same bucket: a folder of the same layout, never touched.
    const bucket = storageAt('s3://s3placetrash-cli/');
    await bucket.write('tf-run-2/checkpoint', fs.readFileSync(path.join(saver, 'checkpoint')));
    await bucket.write('tf-run-2/model-1000.index', fs.readFileSync(path.join(saver, 'model-1000.index')));
    const beside = async () => Promise.all(['tf-run-2/checkpoint', 'tf-run-2/model-1000.index'].map(async (k) => (await bucket.stat(k))?.tag));
    const besideBefore = await beside();
    const original = Buffer.from(await storage.read('checkpoint'));
    const trashed = json<TrashEntry[]>('rm', 'model-10000');
    expect(trashed.map((e) => e.checkpointId)).toEqual(['model-10000']);
    expect((await state()).modelCheckpointPath).toBe('model-9000');
    expect(await storage.stat('model-10000.index')).toBeNull();
    expect(json<TrashEntry[]>('trash', 'ls').map((e) => e.checkpointId)).toEqual(['model-10000']);
    expect(json<TrashEntry[]>('trash', 'restore', '--last').map((e) => e.checkpointId)).toEqual(['model-10000']);
    expect(Buffer.from(await storage.read('checkpoint')).equals(original)).toBe(true);

    expect(json<CheckpointInfo[]>('pin', 'model-2000').map((c) => [c.id, c.pinned])).toEqual([['model-2000', true]]);
    expect(await storage.stat('.studio/in-place.json')).not.toBeNull();
    const refused = cli(['rm', 'model-2000']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toMatch(/^checkpoint-studio: s3:\/\/s3placetrash-cli\/tf-run\/model-2000: refused: .*pinned/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    const pruned = json<{ trashed: TrashEntry[] }>('prune', '--keep-last', '3', '--run', '.');
    expect(pruned.trashed.map((e) => e.checkpointId)).toEqual(['model-1000', 'model-3000', 'model-4000', 'model-5000', 'model-6000', 'model-7000']);
    expect((await state()).allModelCheckpointPaths).toEqual(['model-2000', 'model-8000', 'model-9000', 'model-10000']);
    json<TrashEntry[]>('trash', 'restore', '--last');
    expect(Buffer.from(await storage.read('checkpoint')).equals(original)).toBe(true);
    expect(json<TrashEntry[]>('trash', 'ls')).toEqual([]);
    expect(await beside()).toEqual(besideBefore);
    for await (const object of bucket.list('')) expect(object.key).toMatch(/^tf-run(-2)?\//);
    bucket.client.destroy();
  });
});
