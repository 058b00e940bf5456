// The trainer saving into an S3 workspace against a real Ceph gateway: the run lists with whole
// checkpoints that verify and its metrics as batch objects; continuing from an S3 checkpoint gives
// exactly the run that never stopped; one writer per run (the lease).
import os from 'node:os';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { StoredRunWriter, readStoredMetricBatches, readStoredMetrics } from '../../electron/core/checkpoint/stored-run-writer.js';
import { StorageError } from '../../electron/core/base/errors.js';
import type { UploadOptions } from '../../electron/core/storage/storage.js';
import { listStoredWorkspace } from '../../electron/core/checkpoint/stored-listing.js';
import { loadStoredCheckpoint, verifyStoredCheckpoint } from '../../electron/core/checkpoint/stored-checkpoint.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import { TrainerSupervisor } from '../../electron/core/training/process/supervisor.js';
import { newControl } from '../../electron/core/training/session/training-session.js';
import { Recorder, exitOf, supervised, tinyRequest } from '../trainer/helpers.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';
import { type Endpoint, trainInto, useEndpointCredentials } from './train-helpers.js';

const ADDRESS = 's3://train/ws';

describe.skipIf(!s3Available())('training into S3', () => {
  const storageOf = useS3Storage(ADDRESS);
  let storage: S3Storage;
  let gateway: Endpoint;
  beforeAll(() => {
    storage = storageOf();
    const shared = inject('cephGateway');
    // global-setup.ts starts the shared gateway for every run that names test/s3.
    if (!shared) throw new Error('no shared Ceph gateway: run this file as test/s3/train-into-s3.test.ts');
    gateway = shared;
  });

  it('lists the run with whole checkpoints that verify, its metrics as objects, and lets its lease go', async () => {
    const { result, events } = await trainInto(ADDRESS, gateway, { run: 'saved', maxSteps: 12, checkpoints: { everySteps: 5, onStop: true } });
    expect(result.saved.map((s) => s.step)).toEqual([5, 10, 12]);
    // (A model this small may be warned of checkpoint overhead; no save may have failed.)
    expect(events.filter((e) => e.type === 'warning' && /fail|not saved|not written/.test(e.message))).toEqual([]);
    const listing = await listStoredWorkspace(storage);
    const run = listing.runs.find((r) => r.name === 'saved');
    expect(run?.hasRunFile).toBe(true);
    expect(run?.checkpoints.map((c) => [c.step, c.status])).toEqual([
      [5, 'complete'],
      [10, 'complete'],
      [12, 'complete'],
    ]);
    expect(run?.uncommitted).toEqual([]);
    expect(listing.foreign).toEqual([]);
    for (const checkpoint of run?.checkpoints ?? []) expect((await verifyStoredCheckpoint(storage, checkpoint.folder)).problems).toEqual([]);
    const metrics = await readStoredMetrics(storage, 'saved');
    expect(metrics.filter((m) => m['kind'] === 'train').map((m) => m['step'])).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(metrics.filter((m) => m['kind'] === 'checkpoint').map((m) => m['step'])).toEqual([5, 10, 12]);
    // A batch at each save at least: a reader polling the listing sees progress while training runs.
    const batches: string[] = [];
    for await (const o of storage.list('saved/metrics/')) batches.push(o.key);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(batches[0]).toBe('saved/metrics/00000001.jsonl');
    // A poller reads only what is new since its last batch.
    const later = await readStoredMetricBatches(storage, 'saved', 1);
    expect(later.map((b) => b.key)).toEqual(batches.slice(1));
    expect(later.flatMap((b) => b.records)).toEqual(metrics.slice((await readStoredMetricBatches(storage, 'saved'))[0]?.records.length));
    // The lease was let go: another writer may take the run at once.
    const lease = await acquireLease(storage, 'saved/.lock/');
    await lease.release();
  }, 120_000);

  it('continues from an S3 checkpoint exactly as the run that never stopped', async () => {
    await trainInto(ADDRESS, gateway, { run: 'straight' });
    await trainInto(ADDRESS, gateway, { run: 'first', maxSteps: 13 });
    const { result } = await trainInto(ADDRESS, gateway, { run: 'continued', resume: { run: 'first', step: 13 } });
    expect(result.step).toBe(20);
    const expected = await loadStoredCheckpoint(storage, 'straight/ckpt-000000020/');
    const actual = await loadStoredCheckpoint(storage, 'continued/ckpt-000000020/');
    expect(actual.manifest.parent).toEqual({ run: 'first', step: 13 });
    expect(actual.manifest.epoch).toBe(expected.manifest.epoch);
    for (const part of ['model', 'optimizer'] as const) {
      expect(actual[part].map((t) => t.name)).toEqual(expected[part].map((t) => t.name));
      actual[part].forEach((tensor, i) => expect(Buffer.compare(Buffer.from(tensor.data), Buffer.from(expected[part][i]?.data ?? [])), tensor.name).toBe(0));
    }
    expect(actual.manifest.extra.weightsHash).toBe(expected.manifest.extra.weightsHash);
    const losses = async (run: string): Promise<[unknown, unknown][]> =>
      (await readStoredMetrics(storage, run)).filter((m) => m['kind'] === 'train').map((m) => [m['step'], m['loss']]);
    expect([...(await losses('first')), ...(await losses('continued'))]).toEqual(await losses('straight'));
  }, 180_000);

  it('refuses a second trainer on a run while the first trains, and a run that already holds a checkpoint', async () => {
    const control = newControl();
    let second: Promise<unknown> = Promise.resolve(null);
    const first = trainInto(ADDRESS, gateway, {
      run: 'busy',
      config: { epochs: 1000 },
      checkpoints: { onStop: true },
      control,
      onEvent: (event) => {
        if (event.type !== 'started') return;
        second = trainInto(ADDRESS, gateway, { run: 'busy', maxSteps: 2 }).then(
          () => null,
          (error: unknown) => error,
        );
        void second.finally(() => (control.stopRequested = true));
      },
    });
    const { result } = await first;
    expect(result.reason).toBe('stopped');
    expect(String(await second)).toContain(`s3://train/ws/busy/.lock/: locked by process ${process.pid}`);
    await expect(trainInto(ADDRESS, gateway, { run: 'busy', maxSteps: 2 })).rejects.toThrow(
      's3://train/ws/busy: refused: a run with this name already exists; continue from it with --resume, or choose another --run',
    );
  }, 120_000);

  it('takes over a run whose start died before its first save, keeping the metrics of that attempt aside', async () => {
    await storage.write('died/run.json', JSON.stringify({ formatVersion: 1, name: 'died', createdAt: new Date().toISOString(), parent: null, config: {} }));
    await storage.write('died/metrics/00000001.jsonl', `${JSON.stringify({ kind: 'train', step: 1, loss: 9 })}\n`);
    const { result } = await trainInto(ADDRESS, gateway, { run: 'died', maxSteps: 3 });
    expect(result.saved.map((s) => s.step)).toEqual([3]);
    const metrics = await readStoredMetrics(storage, 'died');
    expect(metrics.filter((m) => m['kind'] === 'train').map((m) => m['loss'] === 9)).toEqual([false, false, false]);
    const aside: string[] = [];
    for await (const o of storage.list('died/')) if (o.key.startsWith('died/metrics-unsaved-')) aside.push(o.key);
    expect(aside).toHaveLength(1);
    expect(new TextDecoder().decode(await storage.read(aside[0] ?? ''))).toContain('"loss":9');
  }, 120_000);

  it('puts the metrics into the bucket while training runs, between saves, for a reader polling the listing', async () => {
    const control = newControl();
    let startedAt = 0;
    let seenAfterMs: number | null = null;
    let checkpointsBeforeSeen = -1;
    const training = trainInto(ADDRESS, gateway, {
      run: 'live',
      config: { epochs: 1000 },
      checkpoints: { onStop: true },
      control,
      onEvent: (event) => {
        if (event.type === 'started') startedAt = performance.now();
      },
    });
    // A reader polls every 200 ms until the first train record is in the bucket (no save has happened).
    const poll = async (): Promise<void> => {
      while (seenAfterMs === null && (startedAt === 0 || performance.now() - startedAt < 10_000)) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const records = await readStoredMetrics(storage, 'live').catch(() => []);
        if (startedAt > 0 && records.some((r) => r['kind'] === 'train')) {
          seenAfterMs = performance.now() - startedAt;
          checkpointsBeforeSeen = records.filter((r) => r['kind'] === 'checkpoint').length;
        }
      }
      control.stopRequested = true;
    };
    const [{ result }] = await Promise.all([training, poll()]);
    expect(checkpointsBeforeSeen).toBe(0);
    // The issue's bar from commit to screen is 5 s; batches go up every 2 s.
    expect(seenAfterMs).toBeLessThanOrEqual(5000);
    expect(result.reason).toBe('stopped');
    const trainSteps = (await readStoredMetrics(storage, 'live')).filter((m) => m['kind'] === 'train').map((m) => m['step']);
    expect(trainSteps).toEqual(Array.from({ length: result.step }, (_, i) => i + 1));
  }, 120_000);

  it('stops saving with a fatal error when another writer took the run over', async () => {
    const control = newControl();
    const taken = trainInto(ADDRESS, gateway, {
      run: 'taken',
      config: { epochs: 1000 },
      checkpoints: { everySteps: 2 },
      control,
      onEvent: (event) => {
        if (event.type !== 'checkpoint' || event.step !== 2) return;
        // Paused while the lease's next generation is created, as a writer that found this one expired would.
        control.paused = true;
        const holder = { host: 'elsewhere', pid: 4242, since: new Date().toISOString(), token: 'other', leaseMs: 60_000, released: false };
        void storage.write('taken/.lock/0000000002', JSON.stringify(holder), { exclusive: true }).then(() => {
          control.paused = false;
          control.wake?.();
        });
      },
    });
    await expect(taken).rejects.toThrow(
      /failed: s3:\/\/train\/ws\/taken\/\.lock\/: this writer's lock ran out and was taken over by process 4242 on elsewhere; it stopped writing/,
    );
    const run = (await listStoredWorkspace(storage)).runs.find((r) => r.name === 'taken');
    // What it committed before stays whole; nothing after the takeover was committed by it.
    expect(run?.checkpoints.map((c) => [c.step, c.status])).toEqual([[2, 'complete']]);
  }, 120_000);

  it('trains into S3 from a trainer process, which takes its credentials from its own environment', async () => {
    useEndpointCredentials(gateway);
    const supervisor = supervised(new TrainerSupervisor());
    const recorder = new Recorder(supervisor);
    await supervisor.start(tinyRequest(ADDRESS, { run: 'process', s3: { endpoint: gateway.endpoint }, checkpoints: { everySteps: 10, onStop: true } }));
    expect(await exitOf(supervisor)).toEqual({ code: 0, signal: null });
    expect(recorder.errors).toEqual([]);
    expect(recorder.of('finished')[0]).toMatchObject({ run: 'process', step: 40, lastCheckpoint: 'process/ckpt-000000040' });
    expect(recorder.of('checkpoint').map((c) => c.path)).toEqual([10, 20, 30, 40].map((s) => `${ADDRESS}/process/ckpt-${String(s).padStart(9, '0')}`));
    const run = (await listStoredWorkspace(storage)).runs.find((r) => r.name === 'process');
    expect(run?.checkpoints.map((c) => [c.step, c.status])).toEqual([10, 20, 30, 40].map((s) => [s, 'complete']));
  }, 120_000);

  it('writes a metrics batch whose answer was lost once, not twice', async () => {
    let loseNext = true;
    // The store keeps the PUT, and its answer is lost on the way back (the gateway went away).
    const lossy = new Proxy(storage, {
      get(target, property) {
        if (property === 'write')
          return async (key: string, body: Uint8Array | string, options?: UploadOptions): Promise<boolean> => {
            const written = await target.write(key, body, options);
            if (loseNext && key.includes('/metrics/')) {
              loseNext = false;
              throw new StorageError(target.locate(key), 'the answer was lost');
            }
            return written;
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const warnings: string[] = [];
    const writer = await StoredRunWriter.create(lossy, {}, 'lossy', { parent: null, config: {} }, { onWarning: (w) => warnings.push(w) });
    await writer.appendMetrics({ kind: 'train', step: 1, loss: 1 });
    await writer.flush();
    expect(writer.unsentRecords).toBe(1);
    await writer.appendMetrics({ kind: 'train', step: 2, loss: 2 });
    await writer.close();
    expect(writer.unsentRecords).toBe(0);
    expect((await readStoredMetrics(storage, 'lossy')).map((m) => m['step'])).toEqual([1, 2]);
    expect(warnings).toEqual([
      `the run's metrics could not be written to s3://train/ws/lossy (s3://train/ws/lossy/metrics/00000001.jsonl: the answer was lost); they are kept and retried`,
    ]);
  }, 60_000);
  it("sends no metrics batch once another writer has taken over the run's lease", async () => {
    // The holder's renewals stop reaching the store (a stalled process looks the same from outside)
    // until its lease runs out and a new writer takes the run over.
    const stalled = new Proxy(storage, {
      get(target, property) {
        if (property === 'write')
          return async (key: string, body: Uint8Array | string, options?: UploadOptions): Promise<boolean> => {
            if (key.includes('/.lock/') && !options?.exclusive) throw new StorageError(target.locate(key), 'unreachable');
            return target.write(key, body, options);
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const warnings: string[] = [];
    const writer = await StoredRunWriter.create(stalled, {}, 'overtaken', { parent: null, config: {} }, { leaseMs: 1500, onWarning: (w) => warnings.push(w) });
    await writer.appendMetrics({ kind: 'train', step: 1, loss: 1 });
    await writer.flush();
    await new Promise((r) => setTimeout(r, 3500));
    const taker = await acquireLease(storage, 'overtaken/.lock/', { leaseMs: 1500 });
    await writer.appendMetrics({ kind: 'train', step: 2, loss: 2 });
    await writer.close();
    expect((await readStoredMetrics(storage, 'overtaken')).map((m) => m['step'])).toEqual([1]);
    expect(warnings).toEqual([
      `s3://train/ws/overtaken/.lock/: this writer's lock ran out and was taken over by process ${process.pid} on ${os.hostname()}; it stopped writing; 1 metrics records were not sent to s3://train/ws/overtaken`,
    ]);
    await taker.release();
  }, 60_000);
});
