// Deleting, with undo, and pinning another program's checkpoints read in place from S3 (issue 18),
// against the real gateway, with the bucket's versioning off (copies in `.trash/`) and on (delete
// markers): a TensorFlow group goes with its state file rewritten as TensorFlow would have left it
// (read back with the state file's own parser), a Trainer's `checkpoint-N/` whole, a loose file;
// undo puts objects and state file back byte for byte; objects beside them are never touched;
// pins live in `.studio/` of the prefix, and a read-only open writes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, it } from 'vitest';
import { StoredWorkspace } from '../../electron/core/checkpoint/stored-store.js';
import { parseCheckpointState } from '../../electron/core/formats/tf/checkpoint-state.js';
import { createInPlaceLayouts } from '../../electron/core/layouts/in-place-layouts.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { encodeFileVersionEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import { objectHashes } from './bucket-contents.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.resolve(root, '../shared/fixtures');
const saver = path.join(fixtures, 'tf1-saver', 'mnist-softmax-10steps');
const sample = path.join(fixtures, 'safetensors', 'hf-samples', 'overall.safetensors');
const haveFixtures = fs.existsSync(saver) && fs.existsSync(sample);

const contents = (storage: S3Storage): Promise<Map<string, string>> => objectHashes(storage, ['.trash/', '.studio/']);

async function keysAndTags(storage: S3Storage): Promise<string[]> {
  const found: string[] = [];
  for await (const object of storage.list('')) found.push(`${object.key}@${object.tag ?? ''}@${object.size}`);
  return found;
}

async function state(storage: S3Storage, key: string) {
  return parseCheckpointState(new TextDecoder().decode(await storage.read(key)), key);
}

for (const versioning of [false, true]) {
  const mode = versioning ? 'versions' : 'copy';
  // The two buckets (versioning off and on) are tested at the same time, most of a test being the
  // gateway's answers; within a bucket the tests run in order, each undoing what it did.
  describe.skipIf(!s3Available() || !haveFixtures)(
    `other programs’ checkpoints in S3 deleted with undo (versioning ${versioning ? 'on' : 'off'})`,
    { concurrent: true },
    () => {
      const storageOf = useS3Storage(`s3://s3placetrash-${mode}/`, async (storage) => {
        if (versioning)
          await storage.client.send(new PutBucketVersioningCommand({ Bucket: storage.where.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
        for (const name of fs.readdirSync(saver)) await storage.write(`tf/${name}`, fs.readFileSync(path.join(saver, name)));
        // Not part of any group, though its name begins like one.
        await storage.write('tf/model-9000.notes', 'a note of the user');
        for (const step of [500, 1000, 1500]) {
          // eval_loss is lowest at step 500.
          const history = [{ eval_loss: step === 500 ? 0.1 : 1, step }];
          await storage.write(`out/checkpoint-${step}/model.safetensors`, fs.readFileSync(sample));
          await storage.write(`out/checkpoint-${step}/trainer_state.json`, JSON.stringify({ global_step: step, log_history: history }));
          await storage.write(`out/checkpoint-${step}/optimizer.pt`, 'kept, not read');
        }
        for (const step of [100, 200]) await storage.write(`loose/model-${step}.safetensors`, fs.readFileSync(sample));
        // A TensorBoard run whose writer is live: its event file, written last, is the folder's newest object.
        for (const suffix of ['.index', '.data-00000-of-00001'])
          await storage.write(`live/model-40${suffix}`, fs.readFileSync(path.join(saver, `model-1000${suffix}`)));
        await storage.write('live/events.out.tfevents.1700000000.host.1.0.v2', frameRecord(encodeFileVersionEvent(1_700_000_000)));
      });
      let storage: S3Storage;
      beforeAll(() => {
        storage = storageOf();
      });

      async function open(access: 'read' | 'write' = 'write'): Promise<StoredWorkspace> {
        const workspace = await StoredWorkspace.on(storage, access, {}, createInPlaceLayouts());
        // The objects were written moments ago: the quiet period is its own test.
        workspace.quietMs = 0;
        return workspace;
      }

      it.sequential(
        'a TensorFlow group: its objects go, the state file is rewritten as TensorFlow would; undo puts both back byte for byte',
        async ({ expect }) => {
          const before = await contents(storage);
          const stateBefore = await storage.read('tf/checkpoint');
          const workspace = await open();
          const entries = await workspace.delete(['tf/model-10000', 'tf/model-3000']);
          expect(entries.map((e) => e.checkpointId)).toEqual(['tf/model-10000', 'tf/model-3000']);
          const after = await contents(storage);
          expect([...before.keys()].filter((k) => !after.has(k)).sort()).toEqual(
            ['model-10000', 'model-3000'].flatMap((p) => ['data-00000-of-00001', 'index', 'meta'].map((s) => `tf/${p}.${s}`)).sort(),
          );
          expect(after.get('tf/model-9000.notes')).toBe(before.get('tf/model-9000.notes'));
          const rewritten = await state(storage, 'tf/checkpoint');
          expect(rewritten.modelCheckpointPath).toBe('model-9000');
          expect(rewritten.allModelCheckpointPaths).toEqual([
            'model-1000',
            'model-2000',
            'model-4000',
            'model-5000',
            'model-6000',
            'model-7000',
            'model-8000',
            'model-9000',
          ]);
          expect(workspace.catalog.latest('tf')?.id).toBe('tf/model-9000');
          expect((await workspace.inspectTrash()).entries.map((e) => e.checkpointId).sort()).toEqual(['tf/model-10000', 'tf/model-3000']);

          const restored = await workspace.undo();
          expect(restored.map((e) => e.checkpointId).sort()).toEqual(['tf/model-10000', 'tf/model-3000']);
          expect(Buffer.from(await storage.read('tf/checkpoint')).equals(Buffer.from(stateBefore))).toBe(true);
          expect((await state(storage, 'tf/checkpoint')).modelCheckpointPath).toBe('model-10000');
          expect(await contents(storage)).toEqual(before);
          expect(workspace.catalog.latest('tf')?.id).toBe('tf/model-10000');
          expect((await workspace.inspectTrash()).entries).toEqual([]);
          workspace.close();
        },
      );

      it.sequential(
        'a Trainer’s checkpoint-N/ folder goes whole, a loose file alone; restore brings them back; their neighbours are untouched',
        async ({ expect }) => {
          const before = await contents(storage);
          const workspace = await open();
          await workspace.delete(['out/checkpoint-500', 'loose/model-100.safetensors']);
          const after = await contents(storage);
          expect([...before.keys()].filter((k) => !after.has(k)).sort()).toEqual([
            'loose/model-100.safetensors',
            'out/checkpoint-500/model.safetensors',
            'out/checkpoint-500/optimizer.pt',
            'out/checkpoint-500/trainer_state.json',
          ]);
          expect(workspace.catalog.list().map((c) => c.id)).not.toContain('out/checkpoint-500');
          const listed = (await workspace.inspectTrash()).entries;
          await workspace.restoreFromTrash(listed.map((e) => e.id));
          expect(await contents(storage)).toEqual(before);
          expect(workspace.catalog.list().map((c) => c.id)).toEqual(expect.arrayContaining(['out/checkpoint-500', 'loose/model-100.safetensors']));
          workspace.close();
        },
      );

      it.sequential('pins kept in .studio/ of the prefix protect a checkpoint; a read-only open writes nothing', async ({ expect }) => {
        const workspace = await open();
        await workspace.setPinned('tf/model-2000', true);
        expect(workspace.catalog.get('tf/model-2000')?.pinned).toBe(true);
        expect(await storage.stat('.studio/in-place.json')).not.toBeNull();
        await expect(workspace.delete(['tf/model-2000'])).rejects.toThrow(/s3:\/\/s3placetrash-\w+\/tf\/model-2000: .*pinned/);
        workspace.close();

        const unchanged = await keysAndTags(storage);
        const reader = await open('read');
        expect(reader.catalog.get('tf/model-2000')?.pinned).toBe(true);
        await expect(reader.setPinned('tf/model-1000', true)).rejects.toThrow(/read-only/);
        await expect(reader.setPolicy('tf', { keepLast: 1 })).rejects.toThrow(/read-only/);
        await expect(reader.delete(['tf/model-1000'])).rejects.toThrow(/read-only/);
        reader.close();
        expect(await keysAndTags(storage)).toEqual(unchanged);

        const writer = await open();
        await writer.setPinned('tf/model-2000', false);
        expect(writer.catalog.get('tf/model-2000')?.pinned).toBe(false);
        writer.close();
      });

      it.sequential(
        'prune --keep-last: the policy kept in .studio/, pins and the newest kept, the state file rewritten; undo reverts it',
        async ({ expect }) => {
          const before = await contents(storage);
          const workspace = await open();
          await workspace.setPinned('tf/model-1000', true);
          await workspace.setPolicy('tf', { keepLast: 3 });
          expect(workspace.getPolicy('tf')).toEqual({ keepLast: 3 });
          const plan = await workspace.planRetention('tf');
          expect(plan.delete.map((d) => d.id)).toEqual(['tf/model-2000', 'tf/model-3000', 'tf/model-4000', 'tf/model-5000', 'tf/model-6000', 'tf/model-7000']);
          await workspace.applyRetention(plan);
          const pruned = await state(storage, 'tf/checkpoint');
          expect(pruned.allModelCheckpointPaths).toEqual(['model-1000', 'model-8000', 'model-9000', 'model-10000']);
          expect(pruned.modelCheckpointPath).toBe('model-10000');
          await workspace.undo();
          expect(await contents(storage)).toEqual(before);
          await workspace.setPinned('tf/model-1000', false);
          workspace.close();
        },
      );

      it.sequential(
        'keep-best on a Trainer’s folders: the best by eval_loss and the newest kept, the rest trashed; undo brings it back',
        async ({ expect }) => {
          const before = await contents(storage);
          const workspace = await open();
          await workspace.setPolicy('out', { keepBest: { k: 1, metric: 'eval_loss', mode: 'min' } });
          const plan = await workspace.planRetention('out');
          expect(plan.delete.map((d) => d.id)).toEqual(['out/checkpoint-1000']);
          expect((await workspace.applyRetention(plan)).map((e) => e.checkpointId)).toEqual(['out/checkpoint-1000']);
          expect(await storage.stat('out/checkpoint-1000/model.safetensors')).toBeNull();
          expect(workspace.catalog.retention('out').policy).toEqual({ keepBest: { k: 1, metric: 'eval_loss', mode: 'min' } });
          await workspace.undo();
          expect(await contents(storage)).toEqual(before);
          workspace.close();
        },
      );

      it.sequential('guards: a folder written lately is busy; one sentence names the s3:// address', async ({ expect }) => {
        const workspace = await open();
        workspace.quietMs = 60_000;
        const unchanged = await keysAndTags(storage);
        await expect(workspace.delete(['loose/model-200.safetensors'])).rejects.toThrow(
          /^s3:\/\/s3placetrash-\w+\/loose: refused: busy: model-\d+\.safetensors changed \d+ s ago, so another program may be writing here; nothing was changed/,
        );
        // The live writer: its event file grew lately, so the group beside it stays.
        await expect(workspace.delete(['live/model-40'])).rejects.toThrow(
          /^s3:\/\/s3placetrash-\w+\/live: refused: busy: events\.out\.tfevents\.1700000000\.host\.1\.0\.v2 changed \d+ s ago/,
        );
        expect(await keysAndTags(storage)).toEqual(unchanged);
        workspace.close();
      });

      it.sequential('a group saved again under the same name is never overwritten by a restore; the refusal names its s3:// key', async ({ expect }) => {
        const workspace = await open();
        await workspace.delete(['tf/model-6000']);
        const index = fs.readFileSync(path.join(saver, 'model-1000.index'));
        await storage.write('tf/model-6000.index', index);
        await expect(workspace.undo()).rejects.toThrow(/s3:\/\/s3placetrash-\w+\/tf\/model-6000\.index exists again/);
        expect(Buffer.from(await storage.read('tf/model-6000.index')).equals(index)).toBe(true);
        await storage.remove(['tf/model-6000.index']);
        await workspace.undo();
        expect((await state(storage, 'tf/checkpoint')).allModelCheckpointPaths).toContain('model-6000');
        workspace.close();
      });

      it.sequential('a journal naming a key outside its folder, or in the store’s own folders, is left alone and said', async ({ expect }) => {
        const workspace = await open();
        const origin = {
          dir: 'tf',
          prefix: 'tf/model-1000.',
          marker: 'tf/model-1000.index',
          checkpointId: 'tf/model-1000',
          originalPath: 'tf/model-1000',
          rewrites: [],
        };
        const entry = { id: '000000000099-0', run: 'tf', dirName: 'tf/model-1000', step: 1000, bytes: 1, inPlace: origin };
        const journal = (objects: { key: string }[], over = {}) => ({
          version: 1,
          batch: '000000000099',
          mode: 'copy',
          state: 'done',
          deletedAt: new Date().toISOString(),
          reason: 'made up',
          entries: [{ ...entry, ...over, objects: objects.map((o) => ({ ...o, size: 1, tag: null })) }],
        });
        await storage.write('.trash/000000000099.json', JSON.stringify(journal([{ key: 'other/secret' }])));
        const listed = await workspace.inspectTrash();
        expect(listed.problems).toEqual([
          { name: '.trash/000000000099.json', problem: expect.stringMatching(/names "other\/secret", which is not under "tf\/model-1000\."; left alone$/) },
        ]);
        await storage.write(
          '.trash/000000000099.json',
          JSON.stringify(journal([{ key: '.studio/in-place.json' }], { inPlace: { ...origin, dir: '', prefix: '.studio/', marker: '.studio/in-place.json' } })),
        );
        expect((await workspace.inspectTrash()).problems[0]?.problem).toMatch(/which is the store's own; left alone$/);
        await storage.remove(['.trash/000000000099.json']);
        workspace.close();
      });
    },
  );
}
