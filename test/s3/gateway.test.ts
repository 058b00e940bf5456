// The test gateway itself: a real Ceph RADOS Gateway answers what the S3 workspace needs of it
// (conditional create, ranged reads, listing, multipart), and survives its own restart with the
// objects it held. Skipped, with one line saying how to install it, where Ceph is not installed.
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, missingCephBinaries, startCephGateway } from './ceph-gateway.js';
import { s3Available } from './s3-available.js';

it('names every Ceph program a machine lacks (what the skip line and a CI failure say)', () => {
  expect(missingCephBinaries([])).toEqual(['monmaptool', 'ceph-mon', 'ceph-osd', 'ceph', 'radosgw', 'radosgw-admin']);
});

describe.skipIf(!s3Available())('the Ceph test gateway', () => {
  let gateway: Gateway;
  let client: S3Client;
  beforeAll(async () => {
    gateway = await startCephGateway();
    client = new S3Client({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
      maxAttempts: 1,
    });
    await client.send(new CreateBucketCommand({ Bucket: 'probe' }));
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await gateway?.stop();
  });

  it('creates an object once: a second conditional create of the key is refused with 412', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'probe', Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    await expect(client.send(new PutObjectCommand({ Bucket: 'probe', Key: 'once', Body: 'second', IfNoneMatch: '*' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    const got = await client.send(new GetObjectCommand({ Bucket: 'probe', Key: 'once', Range: 'bytes=1-3' }));
    expect(await got.Body?.transformToString()).toBe('irs');
  });

  it('lists what it holds, and holds it across a restart of the gateway', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'probe', Key: 'kept/a', Body: 'a' }));
    await gateway.stopGateway();
    await expect(client.send(new GetObjectCommand({ Bucket: 'probe', Key: 'kept/a' }))).rejects.toThrow();
    await gateway.startGateway();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'probe', Prefix: 'kept/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['kept/a']);
  }, 60_000);
});
