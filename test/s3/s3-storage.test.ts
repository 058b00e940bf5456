// The storage seam on S3, against a real Ceph gateway: listing pages, ranged and streamed reads,
// create-once, multipart uploads with our marker, copies and deletes of odd keys, and what a user
// is told when the bucket, the credentials or the gateway are wrong; and the gateway itself (its
// conditional create, its restart). One gateway of the file's own, as these tests stop it.
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseS3Address } from '../../electron/core/storage/s3-address.js';
import { createS3Client } from '../../electron/core/storage/s3-client.js';
import { PART_BYTES, S3Storage } from '../../electron/core/storage/s3-storage.js';
import { type Gateway, missingCephBinaries, startCephGateway } from './ceph-gateway.js';
import { s3Available } from './s3-available.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function* chunks(total: number, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < total; at += size) {
    const chunk = new Uint8Array(Math.min(size, total - at));
    for (let i = 0; i < chunk.length; i += 1) chunk[i] = (at + i) % 251;
    yield chunk;
  }
}

it('names every Ceph program a machine lacks (what the skip line and a CI failure say)', () => {
  expect(missingCephBinaries([])).toEqual(['monmaptool', 'ceph-mon', 'ceph-osd', 'ceph', 'radosgw', 'radosgw-admin']);
});

describe.skipIf(!s3Available())('S3 storage against a Ceph gateway', () => {
  let gateway: Gateway;
  let plain: S3Client;
  const storageAt = (address: string, credentials?: { accessKeyId: string; secretAccessKey: string }): S3Storage => {
    const { client, connection } = createS3Client({
      endpoint: gateway.endpoint,
      maxAttempts: 2,
      credentials: credentials ?? { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
    });
    return new S3Storage(client, parseS3Address(address), connection.endpoint);
  };

  beforeAll(async () => {
    gateway = await startCephGateway();
    plain = new S3Client({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
    });
    await plain.send(new CreateBucketCommand({ Bucket: 'work' }));
  }, 120_000);
  afterAll(async () => {
    plain?.destroy();
    await gateway?.stop();
  });

  it('lists 1,500 keys in two pages, and one level at a time', async () => {
    const storage = storageAt('s3://work/many');
    const keys = Array.from({ length: 1500 }, (_, i) => `run-${String(i % 3)}/obj-${String(i).padStart(4, '0')}`);
    for (let at = 0; at < keys.length; at += 50) await Promise.all(keys.slice(at, at + 50).map((k) => storage.write(k, 'x')));
    storage.requests.clear();
    const listed = await collect(storage.list(''));
    expect(listed.map((o) => o.key)).toEqual([...keys].sort());
    expect(storage.requests.get('ListObjectsV2Command')).toBe(2);
    const top = await storage.children('');
    expect(top.folders).toEqual(['run-0/', 'run-1/', 'run-2/']);
    expect((await storage.children('run-1/')).objects).toHaveLength(500);
  }, 60_000);

  it('creates an object once: an exclusive write over it is refused and changes nothing', async () => {
    const storage = storageAt('s3://work/once/');
    expect(await storage.write('manifest.json', '{"v":1}', { exclusive: true })).toBe(true);
    expect(await storage.write('manifest.json', '{"v":2}', { exclusive: true })).toBe(false);
    expect(new TextDecoder().decode(await storage.read('manifest.json'))).toBe('{"v":1}');
    expect(await storage.stat('manifest.json')).toMatchObject({ key: 'manifest.json', size: 7 });
    expect(await storage.stat('absent.json')).toBeNull();
  });

  it('uploads in parallel parts with our marker, and reads back any range, whole or streamed', async () => {
    const storage = storageAt('s3://work/up');
    const total = 2 * PART_BYTES + 12_345;
    await storage.upload('model.safetensors', chunks(total, 1_000_000), { metadata: { 'checkpoint-studio-writer': 'host:42' } });
    const head = await plain.send(new HeadObjectCommand({ Bucket: 'work', Key: 'up/model.safetensors' }));
    expect(head.ContentLength).toBe(total);
    expect(head.Metadata).toEqual({ 'checkpoint-studio-writer': 'host:42' });
    const middle = await storage.read('model.safetensors', { start: PART_BYTES - 3, end: PART_BYTES + 3 });
    expect([...middle]).toEqual([...Array(6).keys()].map((i) => (PART_BYTES - 3 + i) % 251));
    let streamed = 0;
    let ordered = true;
    for await (const chunk of storage.stream('model.safetensors')) {
      for (let i = 0; i < chunk.length; i += 997) ordered &&= chunk[i] === (streamed + i) % 251;
      streamed += chunk.length;
    }
    expect(streamed).toBe(total);
    expect(ordered).toBe(true);
  }, 60_000);

  it('copies and deletes keys with odd characters', async () => {
    const storage = storageAt('s3://work/odd chars/');
    const odd = 'ä b+c%20#?&=.txt';
    await storage.write(odd, 'odd');
    await storage.copy(odd, `trash/${odd}`);
    expect(new TextDecoder().decode(await storage.read(`trash/${odd}`))).toBe('odd');
    await storage.remove([odd, `trash/${odd}`, 'never-there']);
    expect(await collect(storage.list(''))).toEqual([]);
  });

  it('says in one sentence, naming the address, that a bucket is missing or the credentials are wrong', async () => {
    await expect(collect(storageAt('s3://no-such-bucket/x').list(''))).rejects.toThrow('s3://no-such-bucket/x/: the bucket does not exist');
    const wrong = storageAt('s3://work/', { accessKeyId: 'NOTAKEY', secretAccessKey: 'not-the-secret-123' });
    const error = (await wrong.read('a').then(
      () => null,
      (e: unknown) => e as Error,
    )) as Error;
    expect(error).toMatchObject({ code: 'refused' });
    expect(error.message).toBe(
      's3://work/a: refused: the store does not accept these credentials (InvalidAccessKeyId): check the access key and secret, or the profile',
    );
    expect(error.message).not.toContain('not-the-secret-123');
  });

  it('says the gateway cannot be reached while it is stopped, and works again once it is back', async () => {
    const storage = storageAt('s3://work/fault/');
    await storage.write('a', 'kept');
    await gateway.stopGateway();
    try {
      await expect(storage.read('a')).rejects.toThrow(`s3://work/fault/a: cannot reach the S3 endpoint ${gateway.endpoint} (ECONNREFUSED)`);
    } finally {
      await gateway.startGateway();
    }
    expect(new TextDecoder().decode(await storage.read('a'))).toBe('kept');
  }, 60_000);

  // The test gateway itself: what the S3 workspace needs of it, and its own restart with the objects it held.
  it('creates an object once: a second conditional create of the key is refused with 412', async () => {
    await plain.send(new CreateBucketCommand({ Bucket: 'probe' }));
    await plain.send(new PutObjectCommand({ Bucket: 'probe', Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    await expect(plain.send(new PutObjectCommand({ Bucket: 'probe', Key: 'once', Body: 'second', IfNoneMatch: '*' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    const got = await plain.send(new GetObjectCommand({ Bucket: 'probe', Key: 'once', Range: 'bytes=1-3' }));
    expect(await got.Body?.transformToString()).toBe('irs');
  });

  it('lists what it holds, and holds it across a restart of the gateway', async () => {
    await plain.send(new PutObjectCommand({ Bucket: 'work', Key: 'kept/a', Body: 'a' }));
    await gateway.stopGateway();
    try {
      await expect(plain.send(new GetObjectCommand({ Bucket: 'work', Key: 'kept/a' }))).rejects.toThrow();
    } finally {
      await gateway.startGateway();
    }
    const listed = await plain.send(new ListObjectsV2Command({ Bucket: 'work', Prefix: 'kept/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['kept/a']);
  }, 60_000);
});
