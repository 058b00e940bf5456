// "Make latest" in another program's folder read in place from S3 (issue 18), against the real
// gateway, with the bucket's versioning off and on: the Studio API and the built CLI's
// `set-latest` rewrite TensorFlow's state file (read back with its own parser), record the change
// as a trash entry that moves no object, and undo puts the state file back byte for byte, only
// while it still holds what the change wrote. The guards are those on disk: read-only, the quiet
// period, a whole checkpoint only, a state file changed since it was read.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointInfo, TrashEntry } from '../../electron/contract.js';
import type { InPlaceLayouts } from '../../electron/core/checkpoint/in-place.js';
import { StoredWorkspace } from '../../electron/core/checkpoint/stored-store.js';
import { parseCheckpointState } from '../../electron/core/formats/tf/checkpoint-state.js';
import { createInPlaceLayouts } from '../../electron/core/layouts/in-place-layouts.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { objectHashes } from './bucket-contents.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, storageAt, useGatewayEnv, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
const saver = path.resolve(root, '../shared/fixtures/tf1-saver/mnist-softmax-10steps');

const contents = (storage: S3Storage): Promise<Map<string, string>> => objectHashes(storage, ['.studio/']);

async function stateOf(storage: S3Storage, key: string) {
  return parseCheckpointState(new TextDecoder().decode(await storage.read(key)), key);
}

async function upload(storage: S3Storage, prefix: string, skip: (name: string) => boolean = () => false): Promise<void> {
  for (const name of fs.readdirSync(saver).sort()) if (!skip(name)) await storage.write(`${prefix}${name}`, fs.readFileSync(path.join(saver, name)));
}

for (const versioning of [false, true]) {
  const mode = versioning ? 'versions' : 'copy';
  const bucket = `s3://s3placelatest-${mode}`;
  describe.skipIf(!s3Available() || !fs.existsSync(saver))(`make latest in another program's folder in S3 (versioning ${versioning ? 'on' : 'off'})`, () => {
    const storageOf = useS3Storage(`${bucket}/`, async (storage) => {
      if (versioning)
        await storage.client.send(new PutBucketVersioningCommand({ Bucket: storage.where.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      await upload(storage, 'tf/');
      // model-2000's data shard never arrived: not a whole checkpoint.
      await upload(storage, 'cut/', (name) => name === 'model-2000.data-00000-of-00001');
    });
    useGatewayEnv();
    let storage: S3Storage;
    const studios: Studio[] = [];
    beforeAll(() => {
      storage = storageOf();
    });
    afterAll(async () => {
      for (const studio of studios) await studio.close();
    });

    async function open(folder: string, options: { readOnly?: boolean; quietSeconds?: number } = {}) {
      const studio = new Studio({ watch: false });
      studios.push(studio);
      await studio.api.openWorkspace({ path: `${bucket}/${folder}`, readOnly: options.readOnly ?? false, quietSeconds: options.quietSeconds ?? 0 });
      return studio.api;
    }

    it('the state file is rewritten as TensorFlow writes it, one trash entry that moved nothing; undo puts it back byte for byte', async () => {
      const before = await contents(storage);
      const original = Buffer.from(await storage.read('tf/checkpoint'));
      const api = await open('tf');
      const { checkpoint, undo } = await api.makeLatest({ target: 'model-3000' });
      expect(checkpoint.id).toBe('model-3000');
      expect(undo).toMatchObject({ checkpointId: 'model-3000', bytes: 0 });
      expect(undo?.reason).toMatch(/^made latest/);
      const changed = await stateOf(storage, 'tf/checkpoint');
      expect(changed.modelCheckpointPath).toBe('model-3000');
      expect(changed.allModelCheckpointPaths).toEqual((await stateOf(storage, 'tf/checkpoint')).allModelCheckpointPaths);
      expect((await api.latest({ run: '.' })).id).toBe('model-3000');
      // What the app reads to offer Make latest (a TensorFlow folder) and to say which one is the folder's latest.
      expect((await api.listRuns()).map((r) => [r.name, r.layout, r.latest])).toEqual([['.', 'tf-folder', 'model-3000']]);
      // Nothing else in the folder changed, and nothing of it was moved.
      const after = await contents(storage);
      for (const [key, hash] of before) if (key !== 'tf/checkpoint') expect(after.get(key), key).toBe(hash);
      expect((await api.listTrash()).entries.map((e) => [e.checkpointId, e.bytes])).toEqual([['model-3000', 0]]);

      expect((await api.undoDelete({})).map((e) => e.checkpointId)).toEqual(['model-3000']);
      expect(Buffer.from(await storage.read('tf/checkpoint')).equals(original)).toBe(true);
      expect((await stateOf(storage, 'tf/checkpoint')).modelCheckpointPath).toBe('model-10000');
      expect((await api.listTrash()).entries).toEqual([]);
      expect(await contents(storage)).toEqual(before);
      expect((await api.listRuns()).map((r) => r.latest)).toEqual(['model-10000']);
    });

    it('the latest made latest again changes nothing; undo is refused once another program has written the state file since', async () => {
      const api = await open('tf');
      const before = await contents(storage);
      expect((await api.makeLatest({ target: 'model-10000' })).undo).toBeNull();
      expect(await contents(storage)).toEqual(before);

      const original = Buffer.from(await storage.read('tf/checkpoint'));
      const { undo } = await api.makeLatest({ target: 'model-2000' });
      expect((await stateOf(storage, 'tf/checkpoint')).modelCheckpointPath).toBe('model-2000');
      // TensorFlow saves again: its state file is its own now.
      const written = original.toString('utf8').replace(/^model_checkpoint_path: .*$/m, 'model_checkpoint_path: "model-9000"');
      await storage.write('tf/checkpoint', written);
      await expect(api.undoDelete({})).rejects.toThrow(/tf\/checkpoint was changed since \(another program wrote it\); it is left as it is/);
      expect(new TextDecoder().decode(await storage.read('tf/checkpoint'))).toBe(written);
      expect((await api.listTrash()).entries.map((e) => e.id)).toEqual([undo?.id]);
      await api.purgeTrash({});
      expect((await api.listTrash()).entries).toEqual([]);
      await storage.write('tf/checkpoint', original);
    });

    it('refused when the state file changes between reading it and writing it (another program saved meanwhile): what it wrote is kept', async () => {
      const layouts = createInPlaceLayouts();
      const written = 'model_checkpoint_path: "model-9000"\nall_model_checkpoint_paths: "model-9000"\n';
      const original = Buffer.from(await storage.read('tf/checkpoint'));
      const racing: InPlaceLayouts = {
        ...layouts,
        rewritesForLatest: async (dir, run, name) => {
          const rewrites = await layouts.rewritesForLatest(dir, run, name);
          await storage.write('tf/checkpoint', written);
          return rewrites;
        },
      };
      const workspace = await StoredWorkspace.on(storageAt(`${bucket}/`), 'write', {}, racing);
      workspace.quietMs = 0;
      try {
        await expect(workspace.makeLatest('tf/model-3000')).rejects.toThrow(
          `${bucket}/tf/checkpoint: refused: changed while the deletion was being prepared (another program wrote it); nothing was changed`,
        );
        expect(new TextDecoder().decode(await storage.read('tf/checkpoint'))).toBe(written);
        expect((await workspace.inspectTrash()).entries).toEqual([]);
      } finally {
        workspace.close();
        await storage.write('tf/checkpoint', original);
      }
    });

    it('the quiet period changed in the settings applies to the workspace open in S3 (as the app offers beside a busy refusal)', async () => {
      const studio = new Studio({ watch: false });
      studios.push(studio);
      await studio.api.openWorkspace({ path: `${bucket}/tf` });
      await studio.api.updateSettings({ quietSeconds: 3600 });
      await expect(studio.api.makeLatest({ target: 'model-4000' })).rejects.toThrow(/refused: busy: /);
      await studio.api.updateSettings({ quietSeconds: 0 });
      expect((await studio.api.makeLatest({ target: 'model-4000' })).undo?.checkpointId).toBe('model-4000');
      expect((await stateOf(storage, 'tf/checkpoint')).modelCheckpointPath).toBe('model-4000');
      await studio.api.undoDelete({});
      expect((await stateOf(storage, 'tf/checkpoint')).modelCheckpointPath).toBe('model-10000');
    });

    it('refused, with nothing written: opened read-only, within the quiet period, a checkpoint not whole', async () => {
      const before = await contents(storage);
      const reader = await open('tf', { readOnly: true });
      await expect(reader.makeLatest({ target: 'model-3000' })).rejects.toThrow(/read-only/);
      const busy = await open('tf', { quietSeconds: 3600 });
      await expect(busy.makeLatest({ target: 'model-3000' })).rejects.toThrow(
        new RegExp(`^${bucket}/tf: refused: busy: \\S+ changed \\d+ s ago, so another program may be writing here; nothing was changed`),
      );
      const cut = await open('cut');
      await expect(cut.makeLatest({ target: 'model-2000' })).rejects.toThrow(/model-2000: refused: is \w+; only a whole checkpoint can be made latest/);
      expect(await contents(storage)).toEqual(before);
    });
  });
}

describe.skipIf(!s3Available() || !fs.existsSync(saver))('the command line’s set-latest in a folder read in place from S3', () => {
  const WORKSPACE = 's3://s3placelatest-cli/tf-run';
  const storageOf = useS3Storage(`${WORKSPACE}/`, (storage) => upload(storage, ''));
  let storage: S3Storage;
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
    storage = storageOf();
  });

  function json<T>(...args: string[]): T {
    const result = spawnSync(process.execPath, [bin, ...args, '--json', '--workspace', WORKSPACE, '--quiet-seconds', '0'], {
      encoding: 'utf8',
      env: { ...process.env, ...gatewayEnv() },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return JSON.parse(result.stdout) as T;
  }

  it('set-latest rewrites the state file; trash restore --last puts it back byte for byte', async () => {
    const original = Buffer.from(await storage.read('checkpoint'));
    const { checkpoint, undo } = json<{ checkpoint: CheckpointInfo; undo: TrashEntry | null }>('set-latest', 'model-5000');
    expect(checkpoint.id).toBe('model-5000');
    expect(undo?.checkpointId).toBe('model-5000');
    const changed = await stateOf(storage, 'checkpoint');
    expect(changed.modelCheckpointPath).toBe('model-5000');
    expect(json<TrashEntry[]>('trash', 'ls').map((e) => e.checkpointId)).toEqual(['model-5000']);
    expect(json<TrashEntry[]>('trash', 'restore', '--last').map((e) => e.checkpointId)).toEqual(['model-5000']);
    expect(Buffer.from(await storage.read('checkpoint')).equals(original)).toBe(true);
    expect((await stateOf(storage, 'checkpoint')).modelCheckpointPath).toBe('model-10000');
    expect(json<TrashEntry[]>('trash', 'ls')).toEqual([]);
  });
});
