// One writer per run on S3, against a real Ceph gateway: generations created once, a live lease
// kept, an expired one succeeded, and the stalled holder told it lost the lock.
import { beforeAll, describe, expect, it } from 'vitest';
import { LeaseSupersededError, acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

describe.skipIf(!s3Available())('lease locks on S3', () => {
  const storageOf = useS3Storage('s3://locks/ws');
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
  });

  it('lets one writer in, names it to the next, and hands on a released lock to a new generation', async () => {
    const first = await acquireLease(storage, 'a/.lock/');
    await expect(acquireLease(storage, 'a/.lock/')).rejects.toThrow(`s3://locks/ws/a/.lock/: locked by process ${process.pid}`);
    await first.release();
    const second = await acquireLease(storage, 'a/.lock/');
    expect(second.generation).toBe(first.generation + 1);
    await second.release();
  });

  it('gives a free lock to exactly one of many takers at once', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireLease(storage, 'race/.lock/')));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(5).fill('busy'));
  });

  it('keeps a renewed lease, and lets an expired one be taken over: the stalled holder is told it lost it', async () => {
    const kept = await acquireLease(storage, 'kept/.lock/', { leaseMs: 1500 });
    kept.keepAlive();
    await new Promise((r) => setTimeout(r, 3500));
    await expect(acquireLease(storage, 'kept/.lock/', { leaseMs: 1500 })).rejects.toMatchObject({ code: 'busy' });
    await kept.release();

    const stalled = await acquireLease(storage, 'stalled/.lock/', { leaseMs: 1500 });
    await new Promise((r) => setTimeout(r, 3500));
    const taker = await acquireLease(storage, 'stalled/.lock/', { leaseMs: 1500 });
    expect(taker.generation).toBe(stalled.generation + 1);
    await expect(stalled.check()).rejects.toBeInstanceOf(LeaseSupersededError);
    await expect(stalled.renew()).rejects.toThrow("this writer's lock ran out and was taken over");
    await stalled.release();
    await expect(acquireLease(storage, 'stalled/.lock/', { leaseMs: 1500 })).rejects.toMatchObject({ code: 'busy' });
    await taker.release();
  }, 30_000);
});
