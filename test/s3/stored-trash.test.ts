// The trash of a workspace in S3, against a real Ceph gateway, with the bucket's versioning on
// (delete markers) and off (copies under .trash/): the same entries, undo, restore and purge as
// on disk; a restore never overwrites a checkpoint committed again; a deletion a crash cut short
// is finished on the next open; other programs' objects are never deleted.
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, it } from 'vitest';
import { MANIFEST_FILE, MODEL_FILE } from '../../electron/core/checkpoint/layout.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { listStoredWorkspace } from '../../electron/core/checkpoint/stored-listing.js';
import { StoredTrash, type StoredTrashTarget } from '../../electron/core/checkpoint/stored-trash.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import { parseS3Address } from '../../electron/core/storage/s3-address.js';
import { S3Storage } from '../../electron/core/storage/s3-storage.js';
import type { Storage } from '../../electron/core/storage/storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { storageAt, useS3Storage } from './shared-gateway.js';

let workspaces = 0;
/** A workspace of the test's own in the bucket (the trash is per workspace). */
function workspace(base: S3Storage): S3Storage {
  workspaces += 1;
  return new S3Storage(base.client, parseS3Address(`${base.address}ws-${workspaces}`), null);
}

async function commit(storage: Storage, run: string, step: number, loss?: number): Promise<void> {
  const lease = await acquireLease(storage, `${run}/.lock/`);
  try {
    await commitCheckpoint(storage, lease, `${run}/`, run, trainingState(step, loss === undefined ? {} : { loss }));
  } finally {
    await lease.release();
  }
}

async function listed(storage: Storage): Promise<string[]> {
  const listing = await listStoredWorkspace(storage, { writeIndex: false });
  return listing.runs.flatMap((r) => r.checkpoints.filter((c) => c.status === 'complete').map((c) => `${r.name}@${c.step}`));
}

async function target(storage: Storage, run: string, step: number): Promise<StoredTrashTarget> {
  const listing = await listStoredWorkspace(storage, { writeIndex: false });
  const found = listing.runs.find((r) => r.name === run)?.checkpoints.find((c) => c.step === step);
  if (!found) throw new Error(`${run}@${step} is not listed`);
  return { checkpointId: `${run}/${found.folder.split('/')[1]}`, run, step, folder: found.folder, bytes: found.bytes };
}

async function keys(storage: Storage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out;
}

/**
 * The storage, stopping at the `nth` call (1-based) of `method`: killed there (the call never
 * returns, nothing after it runs; `reached` says it got there), or failing there (it throws).
 */
function stoppingAt(storage: S3Storage, method: 'copy' | 'remove', nth: number, how: 'killed' | 'failed'): { storage: S3Storage; reached: Promise<void> } {
  let calls = 0;
  let reach = (): void => undefined;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  const proxy = new Proxy(storage, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== method || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        calls += 1;
        if (calls === nth) {
          reach();
          if (how === 'failed') throw new Error('the store failed');
          return new Promise<never>(() => undefined);
        }
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
  return { storage: proxy, reached };
}

for (const versioning of [false, true]) {
  const mode = versioning ? 'versions' : 'copy';
  // Each test has a workspace of its own in the bucket, and most of its time is the gateway's
  // answers: they run at once (vitest's default of five at a time).
  describe.skipIf(!s3Available())(`the S3 trash with versioning ${versioning ? 'on' : 'off'}`, { concurrent: true }, () => {
    const storageOf = useS3Storage(`s3://trash-${mode}/`, async (storage) => {
      if (versioning)
        await storage.client.send(new PutBucketVersioningCommand({ Bucket: storage.where.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    });
    let base: S3Storage;
    beforeAll(() => {
      base = storageOf();
    });

    it('trashes a batch, lists it with its reason, and undo brings the newest batch back byte for byte', async ({ expect }) => {
      const storage = workspace(base);
      for (const step of [10, 20, 30]) await commit(storage, 'mnist', step);
      const model20 = await storage.read(`mnist/ckpt-000000020/${MODEL_FILE}`);
      const trash = await StoredTrash.open(storage);
      expect(trash.kind).toBe(mode);
      const first = await trash.trash([await target(storage, 'mnist', 10)], 'retention');
      const second = await trash.trash([await target(storage, 'mnist', 20), await target(storage, 'mnist', 30)], 'deleted by the user');
      expect(first.map((e) => [e.id, e.batch, e.checkpointId, e.originalPath, e.reason])).toEqual([
        ['000000000001-0000', '000000000001', 'mnist/ckpt-000000010', 'mnist/ckpt-000000010', 'retention'],
      ]);
      expect(second.map((e) => e.id)).toEqual(['000000000002-0000', '000000000002-0001']);
      expect(second[0]?.bytes).toBeGreaterThan(0);
      expect(await listed(storage)).toEqual([]);
      const { entries, problems } = await trash.list();
      expect(entries.map((e) => e.id)).toEqual(['000000000002-0000', '000000000002-0001', '000000000001-0000']);
      expect(problems).toEqual([]);

      expect((await trash.undo()).map((e) => e.checkpointId)).toEqual(['mnist/ckpt-000000020', 'mnist/ckpt-000000030']);
      expect(await listed(storage)).toEqual(['mnist@20', 'mnist@30']);
      expect(Buffer.from(await storage.read(`mnist/ckpt-000000020/${MODEL_FILE}`)).equals(Buffer.from(model20))).toBe(true);
      expect((await trash.list()).entries.map((e) => e.id)).toEqual(['000000000001-0000']);
      await expect(trash.undo('000000000002')).rejects.toThrow('000000000002: no such batch in the trash');
    });

    it('restores one entry of a batch by id, and purges by batch and by age, leaving nothing of ours behind', async ({ expect }) => {
      const storage = workspace(base);
      for (const step of [1, 2, 3]) await commit(storage, 'run', step);
      let clock = Date.parse('2026-01-01T00:00:00Z');
      const trash = await StoredTrash.open(storage, { now: () => clock });
      await trash.trash([await target(storage, 'run', 1), await target(storage, 'run', 2)], 'bulk');
      clock += 3_600_000;
      await trash.trash([await target(storage, 'run', 3)], 'later');
      expect((await trash.restore(['000000000001-0001'])).map((e) => e.checkpointId)).toEqual(['run/ckpt-000000002']);
      expect(await listed(storage)).toEqual(['run@2']);
      await expect(trash.restore(['000000000001-0001'])).rejects.toThrow('000000000001-0001: no such entry in the trash');

      await expect(trash.purge({ batches: ['000000000009'] })).rejects.toThrow('nothing was purged');
      clock += 1_800_000;
      const byAge = await trash.purge({ olderThanMs: 2 * 3_600_000 });
      expect(byAge.purged).toEqual([]);
      const older = await trash.purge({ olderThanMs: 3_600_000 });
      expect(older.purged.map((e) => e.id)).toEqual(['000000000001-0000']);
      expect(older.bytes).toBe(older.purged[0]?.bytes);
      expect((await trash.purge({ batches: ['000000000002'] })).purged.map((e) => e.id)).toEqual(['000000000002-0000']);
      expect(await trash.list()).toEqual({ entries: [], problems: [] });
      expect(await keys(storage, '.trash/')).toEqual([]);
      expect((await keys(storage, 'run/')).filter((k) => !k.startsWith('run/.lock/'))).toEqual(
        [
          'run/ckpt-000000002/manifest.json',
          'run/ckpt-000000002/model.safetensors',
          'run/ckpt-000000002/optimizer.safetensors',
          'run/.studio-index.json',
        ].sort(),
      );
      if (versioning) {
        // Purged for good: no version or marker of the purged checkpoints is left.
        const left: string[] = [];
        for await (const v of storage.listVersions('run/ckpt-00000000')) left.push(v.key);
        expect(left.every((k) => k.startsWith('run/ckpt-000000002/'))).toBe(true);
      }
    });

    it('refuses to restore over a checkpoint committed again at the same place, and keeps both', async ({ expect }) => {
      const storage = workspace(base);
      await commit(storage, 'run', 5, 0.9);
      const trash = await StoredTrash.open(storage);
      await trash.trash([await target(storage, 'run', 5)], 'oops');
      await commit(storage, 'run', 5, 0.1);
      const committedAgain = await storage.read(`run/ckpt-000000005/${MANIFEST_FILE}`);
      await expect(trash.undo()).rejects.toThrow(/nothing restored, because one entry cannot go back: 000000000001-0000: .*ckpt-000000005\/ exists again/);
      expect(Buffer.from(await storage.read(`run/ckpt-000000005/${MANIFEST_FILE}`)).equals(Buffer.from(committedAgain))).toBe(true);
      expect((await trash.list()).entries.map((e) => e.id)).toEqual(['000000000001-0000']);
      // Gone again: now it can go back.
      await trash.trash([await target(storage, 'run', 5)], 'make room');
      expect((await trash.undo('000000000001')).map((e) => e.id)).toEqual(['000000000001-0000']);
      const manifest = JSON.parse(new TextDecoder().decode(await storage.read(`run/ckpt-000000005/${MANIFEST_FILE}`))) as { metrics: { loss: number } };
      expect(manifest.metrics.loss).toBe(0.9);
      // The second one stays in the trash as it was: it cannot go back over the first, and purging it leaves the first whole.
      expect((await trash.list()).entries.map((e) => e.id)).toEqual(['000000000002-0000']);
      await expect(trash.undo()).rejects.toThrow('exists again');
      expect((await trash.purge({})).purged.map((e) => e.id)).toEqual(['000000000002-0000']);
      expect(await listed(storage)).toEqual(['run@5']);
      const after = JSON.parse(new TextDecoder().decode(await storage.read(`run/ckpt-000000005/${MANIFEST_FILE}`))) as { metrics: { loss: number } };
      expect(after.metrics.loss).toBe(0.9);
      expect(await trash.list()).toEqual({ entries: [], problems: [] });
    });

    it('never deletes objects that are not ours, in a checkpoint folder, in a run or beside the runs', async ({ expect }) => {
      const storage = workspace(base);
      await commit(storage, 'run', 7);
      const foreign = ['notes.txt', 'run/notes.txt', 'run/ckpt-000000007/README.md', 'run/ckpt-000000007/sub/extra.bin', 'other/thing.bin'];
      for (const key of foreign) await storage.write(key, `not ours: ${key}`);
      await storage.write('.trash/someone-elses.bin', 'not ours either');
      const trash = await StoredTrash.open(storage);
      await trash.trash([await target(storage, 'run', 7)], 'delete');
      expect(await listed(storage)).toEqual([]);
      const { problems } = await trash.list();
      expect(problems).toEqual([{ name: '.trash/someone-elses.bin', problem: 'is not a trash entry of ours; left alone' }]);
      await trash.purge({});
      for (const key of [...foreign, '.trash/someone-elses.bin']) expect(new TextDecoder().decode(await storage.read(key))).toContain('not ours');
    });

    it('keeps odd characters of run names through trash and restore', async ({ expect }) => {
      const storage = workspace(base);
      const run = 'mein lauf ä+1';
      await commit(storage, run, 3);
      const model = await storage.read(`${run}/ckpt-000000003/${MODEL_FILE}`);
      const trash = await StoredTrash.open(storage);
      const [entry] = await trash.trash([await target(storage, run, 3)], 'delete');
      expect(entry?.checkpointId).toBe(`${run}/ckpt-000000003`);
      expect(await listed(storage)).toEqual([]);
      expect((await trash.list()).entries.map((e) => e.originalPath)).toEqual([`${run}/ckpt-000000003`]);
      await trash.undo();
      expect(await listed(storage)).toEqual([`${run}@3`]);
      expect(Buffer.from(await storage.read(`${run}/ckpt-000000003/${MODEL_FILE}`)).equals(Buffer.from(model))).toBe(true);
    });

    it('puts back tensors a cleanup removed while the restore had not yet put the manifest back', async ({ expect }) => {
      const storage = workspace(base);
      await commit(storage, 'run', 6);
      const before = await keys(storage, 'run/ckpt-000000006/');
      const trash = await StoredTrash.open(storage);
      await trash.trash([await target(storage, 'run', 6)], 'delete');
      // Just before the manifest goes back the folder holds only marked tensors: a cleanup whose
      // writer lease ran out removes them there.
      const racing = new Proxy(storage, {
        get(t, property, receiver) {
          const value: unknown = Reflect.get(t, property, receiver);
          if ((property !== 'write' && property !== 'removeVersions') || typeof value !== 'function')
            return typeof value === 'function' ? value.bind(t) : value;
          // The manifest goes back by a write (copies) or by removing its delete marker (versions).
          return async (first: string | readonly { key: string }[], ...rest: unknown[]) => {
            const touched = typeof first === 'string' ? [first] : first.map((v) => v.key);
            if (touched.includes(`run/ckpt-000000006/${MANIFEST_FILE}`)) await t.remove(before.filter((k) => !k.endsWith(MANIFEST_FILE)));
            return (value as (...a: unknown[]) => Promise<unknown>).apply(t, [first, ...rest]);
          };
        },
      });
      await (await StoredTrash.open(racing)).undo();
      expect(await keys(storage, 'run/ckpt-000000006/')).toEqual(before);
      expect(await trash.list()).toEqual({ entries: [], problems: [] });
    });

    it('trashes and restores a checkpoint folder another program named without leading zeros', async ({ expect }) => {
      const storage = workspace(base);
      await commit(storage, 'run', 7);
      for (const key of await keys(storage, 'run/ckpt-000000007/')) {
        await storage.copy(key, key.replace('ckpt-000000007', 'ckpt-7'));
        await storage.remove([key]);
      }
      const trash = await StoredTrash.open(storage);
      const [entry] = await trash.trash([await target(storage, 'run', 7)], 'delete');
      expect(entry?.originalPath).toBe('run/ckpt-7');
      expect(await keys(storage, 'run/ckpt-')).toEqual([]);
      await trash.undo();
      expect(await keys(storage, 'run/ckpt-')).toEqual(['run/ckpt-7/manifest.json', 'run/ckpt-7/model.safetensors', 'run/ckpt-7/optimizer.safetensors']);
      await expect(trash.trash([{ ...(await target(storage, 'run', 7)), step: 8 }], 'delete')).rejects.toThrow('not the checkpoint folder of step 8');
    });

    it('lists a trash of many entries for a few requests: journals read once, a run’s versions listed whole', async ({ expect, onTestFinished }) => {
      // A client of its own: a client counts every request it sends, and the other tests send theirs at the same time.
      workspaces += 1;
      const storage = storageAt(`${base.address}ws-${workspaces}`);
      onTestFinished(() => storage.client.destroy());
      const lease = await acquireLease(storage, 'many/.lock/');
      for (let step = 1; step <= 25; step += 1) await commitCheckpoint(storage, lease, 'many/', 'many', trainingState(step));
      await lease.release();
      const trash = await StoredTrash.open(storage);
      const listing = await listStoredWorkspace(storage, { writeIndex: false });
      const targets = (listing.runs[0]?.checkpoints ?? []).map((c) => ({
        checkpointId: c.folder.slice(0, -1),
        run: 'many',
        step: c.step,
        folder: c.folder,
        bytes: c.bytes,
      }));
      await trash.trash(targets.slice(0, 5), 'first');
      await trash.trash(targets.slice(5), 'second');
      const count = (): Record<string, number> => Object.fromEntries(storage.requests);
      await trash.list();
      const before = count();
      const { entries } = await trash.list();
      expect(entries).toHaveLength(25);
      const spent = Object.fromEntries(
        Object.entries(count())
          .map(([k, v]) => [k, v - (before[k] ?? 0)])
          .filter(([, v]) => v !== 0),
      );
      expect(spent).toEqual(versioning ? { ListObjectsV2Command: 1, ListObjectVersionsCommand: 1 } : { ListObjectsV2Command: 1 });
    });

    const stops: [string, 'copy' | 'remove', number][] = versioning
      ? [
          ['before the first delete', 'remove', 1],
          ['after the manifest was deleted, before the tensors', 'remove', 2],
        ]
      : [
          ['between the copies', 'copy', 2],
          ['between copy and delete', 'remove', 1],
          ['after the manifest was deleted, before the tensors', 'remove', 2],
        ];
    for (const [when, method, nth] of stops) {
      it(`finishes on the next open a deletion killed ${when}`, async ({ expect }) => {
        const storage = workspace(base);
        await commit(storage, 'run', 4);
        await commit(storage, 'run', 8);
        const before = await keys(storage, 'run/ckpt-000000004/');
        const model = await storage.read(`run/ckpt-000000004/${MODEL_FILE}`);
        const dying = stoppingAt(storage, method, nth, 'killed');
        const victim = await target(storage, 'run', 4);
        // Never settles: the process died there.
        void (await StoredTrash.open(dying.storage)).trash([victim], 'delete');
        await dying.reached;
        // Nothing half-listed meanwhile: the checkpoint is whole or gone (its manifest went first).
        const cut = await keys(storage, 'run/ckpt-000000004/');
        expect(cut.includes(`run/ckpt-000000004/${MANIFEST_FILE}`) && cut.length < before.length).toBe(false);

        await StoredTrash.open(storage);
        expect(await listed(storage)).toEqual(['run@8']);
        expect(await keys(storage, 'run/ckpt-000000004/')).toEqual([]);
        const trash = await StoredTrash.open(storage);
        expect((await trash.list()).entries.map((e) => [e.id, e.reason])).toEqual([['000000000001-0000', 'delete']]);
        await trash.undo();
        expect(await listed(storage)).toEqual(['run@4', 'run@8']);
        expect(await keys(storage, 'run/ckpt-000000004/')).toEqual(before);
        expect(Buffer.from(await storage.read(`run/ckpt-000000004/${MODEL_FILE}`)).equals(Buffer.from(model))).toBe(true);
        expect(await keys(storage, '.trash/')).toEqual([]);
      });
    }

    it('rolls a deletion back at once when the store fails before anything was deleted, and finishes it on the next open when it fails after', async ({
      expect,
    }) => {
      const storage = workspace(base);
      await commit(storage, 'run', 1);
      await commit(storage, 'run', 2);
      const before = await keys(storage, 'run/');
      if (!versioning) {
        // A copy fails: nothing was deleted, so nothing is, and the trash keeps nothing of it.
        const failing = stoppingAt(storage, 'copy', 2, 'failed');
        await expect((await StoredTrash.open(failing.storage)).trash([await target(storage, 'run', 1)], 'delete')).rejects.toThrow('the store failed');
        expect(await keys(storage, 'run/')).toEqual(before);
        expect(await keys(storage, '.trash/')).toEqual([]);
      }
      // The first delete fails: the deletion is under way, and the next open finishes it.
      const failing = stoppingAt(storage, 'remove', 1, 'failed');
      await expect((await StoredTrash.open(failing.storage)).trash([await target(storage, 'run', 2)], 'delete')).rejects.toThrow('the store failed');
      expect(await listed(storage)).toEqual(['run@1', 'run@2']);
      const trash = await StoredTrash.open(storage);
      expect(await listed(storage)).toEqual(['run@1']);
      expect((await trash.list()).entries.map((e) => e.checkpointId)).toEqual(['run/ckpt-000000002']);
    });
  });
}
