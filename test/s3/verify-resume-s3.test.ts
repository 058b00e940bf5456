// verifyResume on a workspace in S3 (a real Ceph gateway): the replay runs in a trainer process
// that reads the checkpoint back from the bucket and the run's metrics from its batch objects,
// and answers what the same run copied down to a folder answers; it writes nothing in the bucket.
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { downloadSource } from '../../electron/core/checkpoint/stored-copy.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { makeTempWorkspace, onCleanup, useTempWorkspaces } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';
import { type Endpoint, trainInto, useEndpointCredentials } from './train-helpers.js';

const ADDRESS = 's3://verify-resume/ws';

useTempWorkspaces();

async function keys(storage: S3Storage): Promise<string[]> {
  const found: string[] = [];
  for await (const object of storage.list('')) found.push(`${object.key}@${object.tag ?? ''}`);
  return found;
}

describe.skipIf(!s3Available())('verifyResume on a workspace in S3', () => {
  const storageOf = useS3Storage(ADDRESS);
  let storage: S3Storage;
  let gateway: Endpoint;
  beforeAll(() => {
    storage = storageOf();
    const shared = inject('cephGateway');
    if (!shared) throw new Error('no shared Ceph gateway: run this file as test/s3/verify-resume-s3.test.ts');
    gateway = shared;
  });

  it('replays after a checkpoint in the bucket and gives the answer of the same run on disk', { timeout: 120_000 }, async () => {
    await trainInto(ADDRESS, gateway, { run: 'r', maxSteps: 10, checkpoints: { everySteps: 5, onStop: true } });
    useEndpointCredentials(gateway);
    const before = await keys(storage);
    const remote = new Studio();
    onCleanup(() => remote.close());
    await remote.api.openWorkspace({ path: ADDRESS, readOnly: true, s3: { endpoint: gateway.endpoint } });
    const report = await remote.api.verifyResume({ checkpoint: 'r/ckpt-000000005', steps: 5 });
    expect(report).toMatchObject({ checkpoint: 'r/ckpt-000000005', backend: 'cpu', replayedSteps: 5, sources: ['r'], ok: true });
    expect(report.losses).toEqual({ compared: 5, identical: 5 });
    expect(report.weightHashes).toEqual({ compared: 1, identical: 1 });
    expect(await keys(storage)).toEqual(before);

    const { root } = makeTempWorkspace();
    await downloadSource(storage, 'r/', path.join(root, 'r'));
    const local = new Studio();
    onCleanup(() => local.close());
    await local.api.openWorkspace({ path: root, readOnly: true });
    expect(await local.api.verifyResume({ checkpoint: 'r/ckpt-000000005', steps: 5 })).toEqual(report);
  });
});
