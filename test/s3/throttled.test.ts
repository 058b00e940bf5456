// A throttled store, for real: a gateway of this file's own that serves at most two requests at
// once answers the rest with 503 SlowDown (its request throttler). A save and a verify of many
// parallel requests still succeed (the client backs off and retries); with retries used up, the
// error is one sentence naming the store.
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { verifyStoredCheckpoint } from '../../electron/core/checkpoint/stored-checkpoint.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import { parseS3Address } from '../../electron/core/storage/s3-address.js';
import { createS3Client } from '../../electron/core/storage/s3-client.js';
import { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { type Gateway, startCephGateway } from './ceph-gateway.js';
import { s3Available } from './s3-available.js';

describe.skipIf(!s3Available())('a store that throttles (503 SlowDown)', () => {
  let gateway: Gateway;
  const storageWith = (maxAttempts: number): S3Storage => {
    const { client, connection } = createS3Client({
      endpoint: gateway.endpoint,
      maxAttempts,
      credentials: { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
    });
    return new S3Storage(client, parseS3Address('s3://throttled/ws'), connection.endpoint);
  };
  beforeAll(async () => {
    gateway = await startCephGateway({ gatewaySettings: { 'rgw max concurrent requests': '2' } });
    const storage = storageWith(10);
    await storage.client.send(new CreateBucketCommand({ Bucket: 'throttled' }));
    storage.client.destroy();
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
  });

  it('really throttles: sixty GETs at once, without retries, are answered 503 SlowDown beyond the limit', async () => {
    const storage = storageWith(1);
    await storage.write('probe', new Uint8Array(4 << 20));
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () =>
        storage.client.send(new GetObjectCommand({ Bucket: 'throttled', Key: 'ws/probe' })).then((r) => r.Body?.transformToByteArray()),
      ),
    );
    const status = (reason: unknown): number | undefined => (reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // How many overlap depends on the machine's load; that any are refused with 503 proves the throttle is real.
    const slowDowns = results.filter((r) => r.status === 'rejected' && ((r.reason as Error).name === 'SlowDown' || status(r.reason) === 503)).length;
    expect(slowDowns).toBeGreaterThan(0);
    storage.client.destroy();
  });

  it('a save of parallel multipart uploads and a verify of every tensor go through, retried', async () => {
    const storage = storageWith(10);
    const lease = await acquireLease(storage, 'run/.lock/');
    const saved = await Promise.all([10, 20, 30].map((step) => commitCheckpoint(storage, lease, 'run/', 'run', trainingState(step))));
    await lease.release();
    const verified = await Promise.all(saved.map((s) => verifyStoredCheckpoint(storage, s.key)));
    expect(verified.map((v) => v.ok)).toEqual([true, true, true]);
    storage.client.destroy();
  }, 60_000);

  it('with its retries used up, says so in one sentence naming the store', async () => {
    const storage = storageWith(1);
    const reads = await Promise.allSettled(Array.from({ length: 40 }, () => storage.read('probe')));
    const failure = reads.find((r) => r.status === 'rejected');
    expect(failure?.status).toBe('rejected');
    expect(((failure as PromiseRejectedResult).reason as Error).message).toBe(
      `s3://throttled/ws/probe: the store at ${gateway.endpoint} is busy (503 SlowDown) after every retry`,
    );
    storage.client.destroy();
  });
});
