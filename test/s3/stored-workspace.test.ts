// A workspace in S3 opened as a store, against a real Ceph gateway: the catalog lists what is
// committed (and not what a save is still writing), latest and best are what they are on disk,
// pins and policies are kept in the run's retention record and protect, verify reads every byte
// and remembers the outcome for that manifest only, and a watch sees a new commit on its next
// poll while an unchanged run costs no request beyond the LIST.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEvent } from '../../electron/contract.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { StoredWorkspace } from '../../electron/core/checkpoint/stored-store.js';
import { acquireLease, type LeaseLock } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { storageAt, useS3Storage } from './shared-gateway.js';

const runMeta = (name: string): string =>
  JSON.stringify({ formatVersion: 1, name, createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {}, model: 'mlp', backend: 'cpu' });

describe.skipIf(!s3Available())('a workspace in S3 as a store', () => {
  const storageOf = useS3Storage('s3://stored-ws/team/ws', async (storage) => {
    for (const [run, steps] of [
      ['alpha', [10, 20, 30]],
      ['beta', [5]],
    ] as const) {
      await storage.write(`${run}/run.json`, runMeta(run));
      const lease = await acquireLease(storage, `${run}/.lock/`);
      for (const step of steps) await commitCheckpoint(storage, lease, `${run}/`, run, trainingState(step));
      await lease.release();
    }
    await storage.write('notes.txt', 'not ours');
  });
  let storage: S3Storage;
  let workspace: StoredWorkspace;
  beforeAll(async () => {
    storage = storageOf();
    workspace = await StoredWorkspace.on(storage);
  });

  it('lists the committed checkpoints of each run, with the run’s own record, and the objects that are not ours apart', () => {
    expect(workspace.catalog.list().map((c) => c.id)).toEqual(['alpha/ckpt-000000010', 'alpha/ckpt-000000020', 'alpha/ckpt-000000030', 'beta/ckpt-000000005']);
    expect(workspace.catalog.getRun('alpha')).toMatchObject({
      checkpointCount: 3,
      createdAt: '2026-12-07T10:00:00.000Z',
      path: 's3://stored-ws/team/ws/alpha',
      writer: null,
    });
    expect(workspace.catalog.get('alpha/ckpt-000000020')).toMatchObject({
      status: 'unverified',
      path: 's3://stored-ws/team/ws/alpha/ckpt-000000020',
      origin: 'trained',
    });
    expect(workspace.catalog.foreign()).toEqual(['notes.txt']);
  });

  it('resolves latest, best, an id, a short step and an address as on disk, and names the workspace when nothing matches', () => {
    expect(workspace.resolve('latest', { run: 'alpha' }).id).toBe('alpha/ckpt-000000030');
    const loss = (step: number): number => trainingState(step).metrics['loss'] as number;
    const best = [10, 20, 30].reduce((a, b) => (loss(b) <= loss(a) ? b : a));
    expect(workspace.resolve('best', { metric: 'loss', mode: 'min', run: 'alpha' }).step).toBe(best);
    expect(workspace.resolve('alpha/ckpt-20').id).toBe('alpha/ckpt-000000020');
    expect(workspace.resolve('s3://stored-ws/team/ws/beta/ckpt-000000005/').id).toBe('beta/ckpt-000000005');
    expect(() => workspace.resolve('gamma/ckpt-1')).toThrow(/not a checkpoint of the workspace s3:\/\/stored-ws\/team\/ws\//);
  });

  it('keeps a pin in the run’s retention record: the checkpoint is protected, and a policy plan keeps it', async () => {
    await workspace.setPinned('alpha/ckpt-000000010', true);
    expect(workspace.catalog.get('alpha/ckpt-000000010')).toMatchObject({ pinned: true, protectedBy: [{ kind: 'pinned' }] });
    const again = await StoredWorkspace.on(storage, 'read');
    expect(again.catalog.get('alpha/ckpt-000000010')?.pinned).toBe(true);
    const plan = await workspace.planRetention('alpha', { policy: { keepLast: 1 } });
    expect(plan.delete.map((d) => d.id)).toEqual(['alpha/ckpt-000000020']);
    expect(plan.keep.map((k) => k.id).sort()).toEqual(['alpha/ckpt-000000010', 'alpha/ckpt-000000030']);
    await workspace.setPinned('alpha/ckpt-000000010', false);
    expect(workspace.catalog.get('alpha/ckpt-000000010')?.pinned).toBe(false);
  });

  it('keeps every pin when several workspaces pin checkpoints of one run at the same moment (each write is over the version it read)', async () => {
    const others = await Promise.all([0, 1, 2].map(() => StoredWorkspace.on(storage)));
    const ids = ['alpha/ckpt-000000010', 'alpha/ckpt-000000020', 'alpha/ckpt-000000030'];
    await Promise.all(ids.map((id, at) => (others[at] as StoredWorkspace).setPinned(id, true)));
    const fresh = await StoredWorkspace.on(storage, 'read');
    expect(ids.map((id) => fresh.catalog.get(id)?.pinned)).toEqual([true, true, true]);
    await Promise.all(ids.map((id, at) => (others[at] as StoredWorkspace).setPinned(id, false)));
    const after = await StoredWorkspace.on(storage, 'read');
    expect(ids.map((id) => after.catalog.get(id)?.pinned)).toEqual([false, false, false]);
  });

  it('refuses a pin over a retention record that is not JSON, naming its address, and leaves it as it is', async () => {
    await storage.write('beta/retention.json', '{not json');
    try {
      await expect(workspace.setPinned('beta/ckpt-000000005', true)).rejects.toThrow(/^s3:\/\/stored-ws\/team\/ws\/beta\/retention\.json: /);
      expect(new TextDecoder().decode(await storage.read('beta/retention.json'))).toBe('{not json');
    } finally {
      await storage.remove(['beta/retention.json']);
    }
  });

  it('refuses to replace a record another writer changed since it was read, and replaces the version it was read from', async () => {
    await storage.write('beta/record.json', 'one');
    const read = await storage.stat('beta/record.json');
    await storage.write('beta/record.json', 'two');
    expect(await storage.write('beta/record.json', 'three', { ifMatch: read?.tag ?? '' })).toBe(false);
    expect(new TextDecoder().decode(await storage.read('beta/record.json'))).toBe('two');
    const now = await storage.stat('beta/record.json');
    expect(await storage.write('beta/record.json', 'four', { ifMatch: now?.tag ?? '' })).toBe(true);
    expect(new TextDecoder().decode(await storage.read('beta/record.json'))).toBe('four');
    await storage.remove(['beta/record.json']);
  });

  it('verifies every byte, remembers it for that manifest only, and calls a changed tensor damaged, naming it', async () => {
    const outcome = await workspace.verify(['beta/ckpt-000000005']);
    expect(outcome.results[0]?.ok).toBe(true);
    expect(workspace.catalog.get('beta/ckpt-000000005')?.status).toBe('verified');
    const model = (await storage.read('alpha/ckpt-000000020/model.safetensors')).slice();
    model[model.length - 1] = (model[model.length - 1] ?? 0) ^ 0xff;
    await storage.write('alpha/ckpt-000000020/model.safetensors', model);
    const bad = await workspace.verify(['alpha/ckpt-000000020']);
    expect(bad.results[0]?.ok).toBe(false);
    expect(workspace.catalog.get('alpha/ckpt-000000020')).toMatchObject({ status: 'damaged', statusReason: expect.stringMatching(/model\.safetensors/) });
  });

  it('a watch sees a new commit on its next poll (as an added event), and an unchanged run costs no request beyond the LIST', async () => {
    await workspace.catalog.refresh();
    storage.requests.clear();
    await workspace.catalog.refresh();
    expect(Object.fromEntries(storage.requests)).toEqual({ ListObjectsV2Command: 1 });

    const added: CatalogEvent[] = [];
    const off = workspace.catalog.subscribe((event) => added.push(event));
    const watch = workspace.watch({ intervalMs: 200 });
    let lease: LeaseLock | null = null;
    try {
      lease = await acquireLease(storage, 'beta/.lock/');
      await commitCheckpoint(storage, lease, 'beta/', 'beta', trainingState(6));
      const started = Date.now();
      while (!added.some((e) => e.type === 'added') && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(added.find((e) => e.type === 'added')).toMatchObject({ checkpoint: { id: 'beta/ckpt-000000006' } });
      // The lock's live holder is the run's writer: its checkpoints are protected while it writes.
      expect(workspace.catalog.getRun('beta')?.writer).toMatchObject({ pid: process.pid });
      expect(workspace.catalog.get('beta/ckpt-000000005')?.protectedBy.map((p) => p.kind)).toContain('writer');
    } finally {
      await lease?.release();
      await watch.close();
      off();
    }
    await workspace.catalog.refresh();
    expect(workspace.catalog.getRun('beta')?.writer).toBeNull();
  });

  it('reads a run’s metrics parts in key order and tells listeners what a new part adds', async () => {
    await storage.write('beta/metrics/00000001.jsonl', '{"step":1,"loss":2}\n{"step":2,"loss":1.5}\n');
    await workspace.catalog.refresh();
    expect(workspace.catalog.history('beta').map((r) => r['step'])).toEqual([1, 2]);
    const heard: unknown[] = [];
    const off = workspace.catalog.onMetrics((run, records) => heard.push([run, records.map((r) => r['step'])]));
    await storage.write('beta/metrics/00000002.jsonl', '{"step":3,"loss":1.2}\ntorn li');
    await workspace.catalog.refresh();
    off();
    expect(heard).toEqual([['beta', [3]]]);
    expect(workspace.catalog.history('beta').map((r) => r['step'])).toEqual([1, 2, 3]);
  });

  it('refuses changes when opened read-only, and a missing bucket in one sentence naming it', async () => {
    const readOnly = await StoredWorkspace.on(storage, 'read');
    await expect(readOnly.setPinned('alpha/ckpt-000000030', true)).rejects.toThrow(/opened read-only/);
    await expect(StoredWorkspace.on(storageAt('s3://no-such-bucket-here/x'))).rejects.toThrow(/^s3:\/\/no-such-bucket-here\/x\/: .*bucket/i);
  });
});
