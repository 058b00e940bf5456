// The tutorial's case from a bucket (issue 18), as a user types it: a tf.train.Saver folder with a
// TensorBoard event file beside it, uploaded to the gateway, and `checkpoint-studio ls / latest /
// best --metric / inspect / verify / export --workspace s3://bucket/tf-run` run by the built bin,
// with the endpoint and credentials from the environment. Reading leaves every key and ETag as it was.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogSnapshot, CheckpointInfo, ExportResult, VerifyReport } from '../../electron/contract.js';
import { encodeFileVersionEvent, encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
const saver = path.resolve(root, '../shared/fixtures/tf1-saver/mnist-softmax-10steps');
const WORKSPACE = 's3://in-place-cli-s3/tf-run';

function cli(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...gatewayEnv() } });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(...args: string[]): T {
  const result = cli([...args, '--workspace', WORKSPACE, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** An event file whose `accuracy` peaks at step 7000. */
function eventFile(): Uint8Array {
  const records = [encodeFileVersionEvent(1_700_000_000)];
  for (let step = 1000; step <= 10_000; step += 1000)
    records.push(encodeScalarEvent(step, 1_700_000_000 + step, [['accuracy', 1 - Math.abs(step - 7000) / 10_000]]));
  return Buffer.concat(records.map((r) => frameRecord(r)));
}

async function keysAndTags(storage: S3Storage): Promise<string[]> {
  const found: string[] = [];
  for await (const object of storage.list('')) found.push(`${object.key}@${object.tag ?? ''}@${object.size}`);
  return found;
}

describe.skipIf(!s3Available() || !fs.existsSync(saver))('the tutorial’s Saver folder read in place from S3 by the command line', () => {
  const storageOf = useS3Storage(`${WORKSPACE}/`, async (storage) => {
    for (const name of fs.readdirSync(saver).sort()) await storage.write(name, fs.readFileSync(path.join(saver, name)));
    await storage.write('events.out.tfevents.1700000000.host.1.0.v2', eventFile());
  });
  let storage: S3Storage;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 's3foreign-cli-'));
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
    storage = storageOf();
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('ls, latest, best --metric, inspect, verify and export, and the bucket is as it was', async () => {
    const before = await keysAndTags(storage);
    const listed = json<CatalogSnapshot>('ls');
    expect(listed.runs.map((r) => [r.name, r.layout, r.latest])).toEqual([['.', 'tf-folder', 'model-10000']]);
    expect(listed.checkpoints.map((c) => c.id)).toHaveLength(10);
    const table = cli(['ls', '--workspace', WORKSPACE]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/10 checkpoints in 1 run/);
    expect(json<CheckpointInfo>('latest').id).toBe('model-10000');
    expect(json<CheckpointInfo>('best', '--metric', 'accuracy', '--mode', 'max').id).toBe('model-7000');
    expect(json<{ name: string }[]>('inspect', 'model-3000').map((r) => r.name)).toEqual(expect.arrayContaining(['Variable', 'Variable_1']));
    const verified = json<VerifyReport['results']>('verify', 'model-3000', 'latest');
    expect(verified.map((r) => r.ok)).toEqual([true, true]);
    const out = path.join(scratch, 'latest.safetensors');
    expect(json<ExportResult>('export', 'latest', out, '--format', 'safetensors').step).toBe(10_000);
    expect(fs.statSync(out).size).toBeGreaterThan(31_000);
    expect(await keysAndTags(storage)).toEqual(before);
  });
});
