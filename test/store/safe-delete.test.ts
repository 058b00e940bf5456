import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, RefusedError } from '../../electron/core/base/errors.js';
import { moveToTrash, resolveCheckpointTarget } from '../../electron/core/checkpoint/safe-delete.js';
import { purgeTrash } from '../../electron/core/checkpoint/trash.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { names, rejectionOf, snapshotTree, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();
const DAY = 86_400_000;

interface Fixture {
  store: CheckpointStore;
  base: string;
  runDir: string;
}

async function workspace(steps = [100, 200, 300]): Promise<Fixture> {
  const { root, base } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('r1', { parent: null, config: {} });
  for (const step of steps) await writer.save(trainingState(step));
  await writer.close();
  await store.catalog.refresh();
  return { store, base, runDir: path.join(store.root, 'r1') };
}

const dirOf = (runDir: string, step: number): string => path.join(runDir, `ckpt-${String(step).padStart(9, '0')}`);

function folderSize(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

describe('what may be deleted', () => {
  it('refuses a symlink in a run that leads to a checkpoint-like folder outside the workspace, and leaves that folder alone', async () => {
    const { store, base, runDir } = await workspace();
    const outside = path.join(base, 'precious', 'ckpt-000000900');
    fs.mkdirSync(path.dirname(outside));
    fs.cpSync(dirOf(runDir, 100), outside, { recursive: true });
    const link = dirOf(runDir, 900);
    fs.symlinkSync(outside, link);
    await store.catalog.refresh();
    expect(store.catalog.get('r1/ckpt-000000900')?.linked).toBe(true);
    const before = snapshotTree(path.dirname(outside));
    const error = await rejectionOf(store.delete(['r1/ckpt-000000900']), RefusedError);
    expect(error.message).toBe(`${link}: refused: a symbolic link leading out of the workspace, to ${outside}`);
    expect(snapshotTree(path.dirname(outside))).toEqual(before);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(await store.listTrash()).toEqual([]);
  });

  it('refuses a path whose ".." leads out of the workspace', async () => {
    const { store, base, runDir } = await workspace();
    const outside = path.join(base, 'other', 'ckpt-000000100');
    fs.mkdirSync(outside, { recursive: true });
    const sneaky = `${runDir}/../../other/ckpt-000000100`;
    const error = await rejectionOf(resolveCheckpointTarget(store.root, sneaky), RefusedError);
    expect(error.message).toBe(`${sneaky}: refused: outside the workspace ${store.root}`);
    await rejectionOf(store.delete([sneaky]), RefusedError);
    await rejectionOf(resolveCheckpointTarget(store.root, 'r1/../../other/ckpt-000000100'), RefusedError);
    expect(fs.existsSync(outside)).toBe(true);
  });

  it('refuses a path outside the workspace, and the workspace itself', async () => {
    const { store, base } = await workspace();
    const elsewhere = path.join(base, 'ckpt-000000100');
    fs.mkdirSync(elsewhere);
    expect((await rejectionOf(store.delete([elsewhere]), RefusedError)).message).toBe(`${elsewhere}: refused: outside the workspace ${store.root}`);
    expect((await rejectionOf(resolveCheckpointTarget(store.root, store.root), RefusedError)).problem).toBe(`outside the workspace ${store.root}`);
    expect(fs.existsSync(elsewhere)).toBe(true);
  });

  it('refuses what is not a ckpt-* folder: run.json, a run folder, another folder, a file named like a checkpoint, a hidden run', async () => {
    const { store, runDir } = await workspace();
    fs.mkdirSync(path.join(runDir, 'random'));
    fs.writeFileSync(path.join(runDir, 'ckpt-000000777'), 'not a folder');
    fs.mkdirSync(path.join(store.root, '.hidden', 'ckpt-000000001'), { recursive: true });
    fs.mkdirSync(path.join(store.root, 'deep', 'nested', 'ckpt-000000001'), { recursive: true });
    const before = snapshotTree(store.root);
    const cases: [string, RegExp][] = [
      [path.join(runDir, 'run.json'), /refused: not a checkpoint/],
      [runDir, /refused: not a checkpoint/],
      [path.join(runDir, 'random'), /refused: not a checkpoint/],
      [path.join(runDir, 'ckpt-000000777'), /refused: not a checkpoint: not a folder$/],
      [path.join(store.root, '.hidden', 'ckpt-000000001'), /refused: not a checkpoint of a run: a run name cannot start with "."/],
      [
        path.join(store.root, 'deep', 'nested', 'ckpt-000000001'),
        /refused: not a checkpoint: its folder resolves to .*nested, which is not a run directly inside the workspace/,
      ],
    ];
    for (const [target, message] of cases) {
      const error = await rejectionOf(store.delete([target]), RefusedError);
      expect(error.message.startsWith(`${target}: refused: `), error.message).toBe(true);
      expect(error.message).toMatch(message);
    }
    const missing = path.join(runDir, 'ckpt-000000555');
    expect((await rejectionOf(store.delete([missing]), NotFoundError)).message).toBe(`${missing}: does not exist`);
    expect(snapshotTree(store.root)).toEqual(before);
  });

  it('refuses a pinned checkpoint until it is unpinned', async () => {
    const { store, runDir } = await workspace();
    await store.setPinned('r1/ckpt-000000200', true);
    expect(store.catalog.get('r1/ckpt-000000200')?.pinned).toBe(true);
    const error = await rejectionOf(store.delete(['r1/ckpt-000000200']), RefusedError);
    expect(error.message).toBe(`${dirOf(runDir, 200)}: refused: pinned; unpin it first`);
    expect(fs.existsSync(dirOf(runDir, 200))).toBe(true);
    await store.setPinned('r1/ckpt-000000200', false);
    expect((await store.delete(['r1/ckpt-000000200'])).map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000200']);
  });

  it('a bulk delete with one bad target among good ones moves nothing', async () => {
    const { store, base, runDir } = await workspace();
    const before = snapshotTree(base);
    const error = await rejectionOf(store.delete(['r1/ckpt-000000100', path.join(runDir, 'run.json'), 'r1/ckpt-000000300']), RefusedError);
    expect(error.message).toMatch(/run\.json: refused: not a checkpoint/);
    expect(snapshotTree(base)).toEqual(before);
    expect(names(path.join(store.root, '.trash'))).toEqual([]);
  });

  it('the same checkpoint named twice (by id and by path) is moved once', async () => {
    const { store, runDir } = await workspace();
    const moved = await store.delete(['r1/ckpt-000000100', dirOf(runDir, 100)]);
    expect(moved.map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000100']);
    expect(fs.existsSync(dirOf(runDir, 100))).toBe(false);
    expect((await store.listTrash()).map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000100']);
  });
});

describe('the trash', () => {
  it('moves by rename (same inode), records size and batch, and restores byte-identical', async () => {
    const { store, runDir } = await workspace();
    const dir = dirOf(runDir, 200);
    const inode = fs.statSync(path.join(dir, 'model.safetensors')).ino;
    const content = snapshotTree(dir);
    const size = folderSize(dir);
    const [entry, ...rest] = await store.delete(['r1/ckpt-000000200'], { reason: 'cleaning up' });
    expect(rest).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    expect(store.catalog.get('r1/ckpt-000000200')).toBeUndefined();
    const payload = path.join(store.root, '.trash', entry?.id ?? '?', 'payload');
    expect(fs.statSync(path.join(payload, 'model.safetensors')).ino).toBe(inode);
    expect(snapshotTree(payload)).toEqual(content);

    const listed = await store.listTrash();
    expect(listed).toEqual([entry]);
    expect(entry).toMatchObject({ originalPath: path.join('r1', 'ckpt-000000200'), checkpointId: 'r1/ckpt-000000200', bytes: size, reason: 'cleaning up' });
    expect(entry?.id).toBe(`${entry?.batch}-0000`);

    const restored = await store.restoreFromTrash([entry?.id ?? '']);
    expect(restored.map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000200']);
    expect(snapshotTree(dir)).toEqual(content);
    expect(fs.statSync(path.join(dir, 'model.safetensors')).ino).toBe(inode);
    expect(await store.listTrash()).toEqual([]);
    expect(names(path.join(store.root, '.trash'))).toEqual([]);
    expect(store.catalog.get('r1/ckpt-000000200')?.status).toBe('unverified');
  });

  it('undo restores the last batch only', async () => {
    const { store, runDir } = await workspace([1, 2, 3, 4]);
    const first = await store.delete(['r1/ckpt-000000001']);
    const second = await store.delete(['r1/ckpt-000000002', 'r1/ckpt-000000003']);
    expect(new Set(second.map((e) => e.batch)).size).toBe(1);
    expect(second[0]?.batch).not.toBe(first[0]?.batch);
    const undone = await store.undo();
    expect(undone.map((e) => e.checkpointId).sort()).toEqual(['r1/ckpt-000000002', 'r1/ckpt-000000003']);
    expect(names(runDir).filter((n) => n.startsWith('ckpt-'))).toEqual(['ckpt-000000002', 'ckpt-000000003', 'ckpt-000000004']);
    expect((await store.listTrash()).map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000001']);
    expect(store.catalog.list('r1').map((c) => c.step)).toEqual([2, 3, 4]);
    const again = await store.undo();
    expect(again.map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000001']);
    expect(await store.undo()).toEqual([]);
  });

  it('restore refuses to overwrite a folder that exists again', async () => {
    const { store, runDir } = await workspace();
    const [entry] = await store.delete(['r1/ckpt-000000100']);
    const writer = await store.openRunWriter('r1');
    await writer.save(trainingState(100, { metrics: { loss: 42 } }));
    await writer.close();
    const fresh = snapshotTree(dirOf(runDir, 100));
    const error = await rejectionOf(store.restoreFromTrash([entry?.id ?? '']), RefusedError);
    expect(error.message).toBe(
      `${path.join(store.root, '.trash')}: refused: nothing restored, because one entry cannot go back: ${entry?.id}: ${dirOf(runDir, 100)} already exists; move it away first`,
    );
    expect(snapshotTree(dirOf(runDir, 100))).toEqual(fresh);
    expect((await store.listTrash()).map((e) => e.id)).toEqual([entry?.id]);
    await rejectionOf(store.restoreFromTrash(['no-such-entry']), NotFoundError);
  });

  it('purge with olderThanMs removes only old entries; without it, everything', async () => {
    const { store } = await workspace([1, 2, 3]);
    const [old] = await store.delete(['r1/ckpt-000000001']);
    const [recent] = await store.delete(['r1/ckpt-000000002']);
    const deletedAt = Date.parse(old?.deletedAt ?? '');
    // Pretend a week has passed since the first deletion; the second happened "today".
    const oldEntryFile = path.join(store.root, '.trash', old?.id ?? '', 'entry.json');
    const record = JSON.parse(fs.readFileSync(oldEntryFile, 'utf8')) as { deletedAt: string };
    record.deletedAt = new Date(deletedAt - 7 * DAY).toISOString();
    fs.writeFileSync(oldEntryFile, JSON.stringify(record));

    const now = deletedAt + 60_000;
    const partial = await purgeTrash(store.root, { olderThanMs: 3 * DAY, now });
    expect(partial.purged.map((e) => e.id)).toEqual([old?.id]);
    expect(partial.bytes).toBe(old?.bytes);
    expect((await store.listTrash()).map((e) => e.id)).toEqual([recent?.id]);
    expect(names(path.join(store.root, '.trash'))).toEqual([recent?.id]);

    const nothing = await purgeTrash(store.root, { olderThanMs: 3 * DAY, now });
    expect(nothing.purged).toEqual([]);

    // An entry folder of ours whose record never got written (a crash) goes with a full purge;
    // a folder we did not make is reported and left alone.
    fs.mkdirSync(path.join(store.root, '.trash', '000000000099-0000'));
    fs.mkdirSync(path.join(store.root, '.trash', 'orphan'));
    const all = await store.purgeTrash();
    expect(all.purged.map((e) => e.id)).toEqual([recent?.id]);
    expect(all.problems).toEqual([{ name: 'orphan', problem: 'has no entry.json; left alone' }]);
    expect(names(path.join(store.root, '.trash'))).toEqual(['orphan']);
    expect(store.catalog.list('r1').map((c) => c.step)).toEqual([3]);
  });

  it('purge of named batches removes exactly those, and refuses (purging nothing) a batch that is not there', async () => {
    const { store } = await workspace([1, 2, 3]);
    const first = await store.delete(['r1/ckpt-000000001', 'r1/ckpt-000000002']);
    const [second] = await store.delete(['r1/ckpt-000000003']);
    const batch = first[0]?.batch as string;
    await rejectionOf(store.purgeTrash({ batches: [batch, '000000000777'] }), NotFoundError);
    expect((await store.listTrash()).length).toBe(3);
    const purged = await store.purgeTrash({ batches: [batch] });
    expect(purged.purged.map((e) => e.checkpointId).sort()).toEqual(['r1/ckpt-000000001', 'r1/ckpt-000000002']);
    expect((await store.listTrash()).map((e) => e.id)).toEqual([second?.id]);
  });

  it('moveToTrash checks every target before moving any', async () => {
    const { store, base, runDir } = await workspace();
    const before = snapshotTree(base);
    await rejectionOf(
      moveToTrash(store.root, [dirOf(runDir, 100), dirOf(runDir, 200), path.join(base, 'nowhere', 'ckpt-000000001')], { reason: 'x' }),
      RefusedError,
    );
    expect(snapshotTree(base)).toEqual(before);
  });
});
