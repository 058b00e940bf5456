// A server-side copy of an object larger than one CopyObject may copy, against a real Ceph
// gateway: done in ranged part copies (the limit lowered here from S3's 5 GiB), the same bytes
// and our writer's mark on the copy, and no upload left behind.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

const MiB = 1024 * 1024;

async function* chunks(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

describe.skipIf(!s3Available())('copying a large object in S3', () => {
  const storageOf = useS3Storage('s3://big-copy/ws');
  let storage: S3Storage;
  beforeAll(() => {
    storage = new S3Storage(storageOf().client, storageOf().where, null);
    storage.copyLimitBytes = 5 * MiB;
    storage.copyPartBytes = 5 * MiB;
  });

  it('copies in parts beyond the single-copy limit, keeping the bytes and the metadata', async () => {
    const bytes = randomBytes(12 * MiB + 123);
    await storage.upload('run/ckpt-000000001/model.safetensors', chunks(bytes), { metadata: { 'checkpoint-studio-writer': 'host:1:token' } });
    await storage.copy('run/ckpt-000000001/model.safetensors', '.trash/000000000001/run/ckpt-000000001/model.safetensors');
    expect(storage.requests.get('UploadPartCopyCommand')).toBe(3);
    expect(storage.requests.get('CopyObjectCommand')).toBeUndefined();
    expect(Buffer.from(await storage.read('.trash/000000000001/run/ckpt-000000001/model.safetensors')).equals(bytes)).toBe(true);
    expect((await storage.head('.trash/000000000001/run/ckpt-000000001/model.safetensors'))?.metadata).toEqual({ 'checkpoint-studio-writer': 'host:1:token' });
    const pending: string[] = [];
    for await (const upload of storage.listUploads('')) pending.push(upload.key);
    expect(pending).toEqual([]);
  });

  it('copies a small object in one request', async () => {
    await storage.write('run/small.json', '{"a":1}');
    const before = storage.requests.get('UploadPartCopyCommand') ?? 0;
    await storage.copy('run/small.json', 'run/small-copy.json');
    expect(storage.requests.get('UploadPartCopyCommand') ?? 0).toBe(before);
    expect(new TextDecoder().decode(await storage.read('run/small-copy.json'))).toBe('{"a":1}');
  });
});
