// What comparing in S3 costs in requests (issue 18): a tensor too large for a batch is streamed a
// chunk at a time from its object, and opening it for that is one GET that starts at the tensor's
// first byte, not a GET of the whole object dropped at the first read for a second one from there.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatCrc, crc32c } from '../../electron/core/base/crc32c.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { storageOf } from '../../electron/core/checkpoint/stored-open.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { openStoredSide } from '../../electron/core/compare/stored-side.js';
import { STREAM_CHUNK_BYTES } from '../../electron/core/compare/stream-pair.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import { f32, trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const WORKSPACE = 's3://stored-side-requests/ws/';
const FOLDER = 'run/ckpt-000000010/';

describe.skipIf(!s3Available())('requests of a comparison in S3', () => {
  useS3Storage(WORKSPACE, async (storage) => {
    await storage.write('run/run.json', JSON.stringify({ formatVersion: 1, name: 'run', createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {} }));
    const base = trainingState(10);
    const count = 1_500_000;
    const large: Tensor = { name: 'embedding', dtype: 'F32', shape: [count], data: f32(Array.from({ length: count }, (_, i) => Math.cos(i * 0.001))) };
    const lease = await acquireLease(storage, 'run/.lock/');
    await commitCheckpoint(storage, lease, 'run/', 'run', { ...base, model: [...base.model, large] });
    await lease.release();
  });
  beforeAll(() => {
    // The side opens its own storage from the address, as the comparison's worker does, reaching the gateway through the environment.
    for (const [name, value] of Object.entries(gatewayEnv())) vi.stubEnv(name, value);
  });
  afterAll(() => vi.unstubAllEnvs());

  it('streams a large tensor with one GET, begun at its first byte', { timeout: 60_000 }, async () => {
    const at = { address: WORKSPACE, folder: FOLDER, connection: {} };
    const side = await openStoredSide(at);
    const range = side.ranges?.get('embedding');
    if (range?.open === undefined) throw new Error('the side has no range to stream embedding from');
    expect(range.offset).toBeGreaterThan(0);
    const storage = storageOf(at);
    const gets = (): number => storage.requests.get('GetObjectCommand') ?? 0;
    const before = gets();
    const { handle } = await range.open();
    let crc = 0;
    try {
      const buffer = new Uint8Array(STREAM_CHUNK_BYTES);
      for (let done = 0; done < range.bytes;) {
        const length = Math.min(buffer.length, range.bytes - done);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await handle.read(buffer, got, length - got, range.offset + done + got);
          if (bytesRead === 0) throw new Error('the object ended inside the tensor');
          got += bytesRead;
        }
        crc = crc32c(buffer.subarray(0, length), crc);
        done += length;
      }
    } finally {
      await handle.close();
    }
    expect(formatCrc(crc)).toBe(range.checksum?.expected);
    expect(gets() - before).toBe(1);
  });
});
